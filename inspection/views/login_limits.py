"""Login limits shared by the web login and the API's token endpoint.

Failures are counted per account and per address in Flask-Limiter's storage (memory, or
Redis when several instances run), whichever door they knock on. A success does not
count, and the owner's successful login clears the account's failures, so nobody locks
the real user out by logging in often.
"""

import math
import time

from flask import current_app, request
from limits import parse
from werkzeug.exceptions import TooManyRequests

from inspection.extensions import limiter
from inspection.services import accounts


def _windows(username: str | None) -> list[tuple]:
    config = current_app.config
    if username is None:
        username = request.form.get("username", "") or _json_username()
    account = accounts.normalise_username(username)
    return [
        (parse(config.get("LOGIN_RATE_ACCOUNT", "10/15minutes")), "login-failures", account[:64]),
        (parse(config.get("LOGIN_FAILURES_IP", "30/15minutes")), "login-failures-ip", _ip()),
    ]


def _json_username() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    value = body.get("username") if isinstance(body, dict) else ""
    return value if isinstance(value, str) else ""


def _ip() -> str:
    return request.remote_addr or "unknown"


def _active() -> bool:
    return limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True)


# ``username`` defaults to the one the request names (the login form or the JSON body);
# the second step of a login names it from the half-finished login instead.


def check(username: str | None = None) -> None:
    """Refuse (429) a login for an account or address with too many recent failures,
    saying when the window lets it in again (Retry-After)."""
    if not _active():
        return
    for limit, *key in _windows(username):
        if not limiter.limiter.test(limit, *key):
            reset_at, _remaining = limiter.limiter.get_window_stats(limit, *key)
            raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))


def failed(username: str | None = None) -> None:
    """Count a wrong password or a wrong second-step code."""
    if _active():
        for limit, *key in _windows(username):
            limiter.limiter.hit(limit, *key)


def succeeded(username: str | None = None) -> None:
    """Forget the account's failures once its owner got in (the address's stay)."""
    if _active():
        limit, *key = _windows(username)[0]
        limiter.limiter.clear(limit, *key)
