"""Logging in and out, the language switch, and the user's own account page."""

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from forms.auth import (
    CodeForm,
    ConfirmForm,
    LoginForm,
    MailForm,
    PasswordCheckForm,
    PasswordForm,
)
from inspection.boundary import attempt, json_error, wants_json
from inspection.extensions import limiter
from inspection.models import User
from inspection.services import accounts, audit, notifications, second_factor
from inspection.services.audit import Actor
from inspection.sessions import load_user
from inspection.views import login_limits
from inspection.views.access import ALL_ROLES, actor, home_url, require

bp = Blueprint("auth", __name__)


# What an account that must set up two-step verification may still reach before it does.
BEFORE_ENROLMENT = {"auth.enrol", "auth.logout", "auth.set_language", "static", "main.healthz"}


@bp.before_app_request
def require_enrolment():
    """Send an office or administrator session to set up two-step verification once the
    organisation requires it (a session or token from before the setting changed too)."""
    if request.endpoint in BEFORE_ENROLMENT or not current_user.is_authenticated:
        return None
    if current_user.has_second_factor or not second_factor.required_for(current_user):
        return None
    if wants_json():
        return json_error(
            403, "second_factor_enrolment_required", str(second_factor.ENROLMENT_REQUIRED)
        )
    return redirect(url_for("auth.enrol"))


def _safe_next(target: str | None) -> str | None:
    """Return ``target`` only when it is a path on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("LOGIN_RATE_IP", "20/minute"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    if request.method == "GET":
        session.pop(PENDING, None)  # "log in as someone else": the half-finished login ends
    form = LoginForm()
    if form.validate_on_submit():
        login_limits.check()
        user = accounts.authenticate(form.username.data, form.password.data, actor())
        next_url = _safe_next(request.args.get("next"))
        if user is None:
            login_limits.failed()
            flash(_("Wrong username or password."), "error")
        elif user.has_second_factor or second_factor.required_for(user):
            _fresh_session()
            session[PENDING] = {"user": user.get_id(), "at": int(time.time()), "next": next_url}
            return redirect(url_for("auth.second_step"))
        else:
            _complete_login(user)
            return redirect(next_url or home_url(user))
    return render_template("auth/login.html", form=form)


# A login whose password was right and whose second step is still to come.
PENDING = "pending_login"
PENDING_SECONDS = 300


def _fresh_session() -> None:
    """Start an empty session (no fixation), keeping only the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _complete_login(user: User, **detail) -> None:
    login_limits.succeeded(user.username)
    _fresh_session()
    session["sid"] = accounts.start_session(user)
    login_user(user)
    accounts.logged_in(actor(), user, **detail)


def _pending_user() -> User | None:
    """Return the user of a half-finished login, while it is recent and the account unchanged."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return load_user(str(pending.get("user", "")), check_session=False)


@bp.route("/login/second-step", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("LOGIN_RATE_IP", "20/minute"), methods=["POST"])
def second_step():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    user = _pending_user()
    if user is None or not (user.has_second_factor or second_factor.required_for(user)):
        session.pop(PENDING, None)
        flash(_("Log in again: the login was not finished in time."), "error")
        return redirect(url_for("auth.login"))
    if not user.has_second_factor:  # required of this account, not yet set up
        return _enrol(user, at_login=True)
    form = CodeForm()
    if form.validate_on_submit():
        login_limits.check(user.username)
        if second_factor.verify(Actor(user.id, request.remote_addr), user, form.code.data):
            next_url = session[PENDING].get("next")
            _complete_login(user, second_factor=True)
            return redirect(next_url or home_url(user))
        login_limits.failed(user.username)
        form.code.errors.append(_("The code is wrong."))
    return render_template("auth/second_step.html", form=form, user=user)


def _enrol(user: User, *, at_login: bool):
    """Show the QR code of a new authenticator app and confirm it with one code."""
    secret = second_factor.pending_secret(user)  # the same QR code until it is confirmed
    form = CodeForm()
    if form.validate_on_submit():
        login_limits.check(user.username)
        codes = second_factor.confirm(Actor(user.id, request.remote_addr), user, form.code.data)
        if codes is None:
            login_limits.failed(user.username)
            form.code.errors.append(
                _("The code is wrong. Check the phone's clock and try the next code.")
            )
        else:
            if at_login:
                _complete_login(user, second_factor=True)
            return _show_recovery_codes(codes, first=True)
    uri = second_factor.provisioning_uri(user, secret)
    return render_template(
        "auth/enrol.html",
        form=form,
        qr=second_factor.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        at_login=at_login,
        required=second_factor.required_for(user),
        confirm=ConfirmForm(),
    )


def _show_recovery_codes(codes: list[str], *, first: bool):
    response = make_response(render_template("auth/recovery_codes.html", codes=codes, first=first))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/logout")
@require(*ALL_ROLES)
def logout():
    if ConfirmForm().validate_on_submit():
        audit.record(actor(), "logout", current_user._get_current_object())
        accounts.end_session(session.get("sid"))  # a copy of the cookie is worthless now
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    back = request.referrer and urlsplit(request.referrer)
    if back and back.netloc == request.host:
        return redirect(_safe_next(back.path + ("?" + back.query if back.query else "")) or "/")
    return redirect(url_for("main.index"))


@bp.route("/account", methods=["GET", "POST"])
@require(*ALL_ROLES)
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        if not accounts.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            with attempt(form, rename={"password": "new_password"}) as outcome:
                accounts.set_password(actor(), current_user, form.new_password.data)
            if outcome.ok:
                user = current_user._get_current_object()
                session["sid"] = accounts.start_session(user)  # this browser stays in
                login_user(user)  # the new epoch: keep this session, end the others
                flash(_("Password changed. Your other sessions were logged out."), "success")
                return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        form=form,
        confirm=ConfirmForm(),
        tokens=current_user.tokens,
        check=PasswordCheckForm(),
        recovery_left=second_factor.remaining_recovery_codes(current_user),
        second_factor_required=second_factor.required_for(current_user),
        mail=MailForm(user=current_user, kinds=notifications.kinds_for(current_user)),
    )


@bp.post("/account/mail")
@require(*ALL_ROLES)
def mail_settings():
    user = current_user._get_current_object()
    form = MailForm(user=user, kinds=notifications.kinds_for(user))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            notifications.set_preferences(
                actor(), user, language=form.language.data, off=form.off()
            )
        if outcome.ok:
            flash(_("Email settings saved."), "success")
    else:
        flash(_("The email settings were not saved."), "error")
    return redirect(url_for("auth.account") + "#mail")


@bp.route("/account/second-factor", methods=["GET", "POST"])
@require(*ALL_ROLES)
def enrol():
    if current_user.has_second_factor:
        return redirect(url_for("auth.account"))
    return _enrol(current_user._get_current_object(), at_login=False)


def _password_checked() -> bool:
    form = PasswordCheckForm()
    if not form.validate_on_submit():
        return False
    if not accounts.check_password(current_user, form.password.data):
        flash(_("The current password is wrong."), "error")
        return False
    return True


@bp.post("/account/second-factor/recovery-codes")
@require(*ALL_ROLES)
def new_recovery_codes():
    if not current_user.has_second_factor or not _password_checked():
        return redirect(url_for("auth.account"))
    codes = second_factor.new_recovery_codes(actor(), current_user._get_current_object())
    return _show_recovery_codes(codes, first=False)


@bp.post("/account/second-factor/off")
@require(*ALL_ROLES)
def second_factor_off():
    if current_user.has_second_factor and _password_checked():
        with attempt() as outcome:
            second_factor.turn_off(actor(), current_user._get_current_object())
        if outcome.ok:
            flash(_("Two-step verification is off."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@require(*ALL_ROLES)
def revoke_token(token_id: int):
    if ConfirmForm().validate_on_submit():
        accounts.revoke_token(actor(), current_user, token_id)
        flash(_("The token was revoked."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/logout-everywhere")
@require(*ALL_ROLES)
def logout_everywhere():
    if ConfirmForm().validate_on_submit():
        accounts.end_sessions(current_user)
        audit.record(actor(), "logout_everywhere", current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("You were logged out on every device."), "success")
    return redirect(url_for("auth.login"))
