"""Logging in and out, the language switch, and the user's own account page."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from forms.auth import ConfirmForm, LoginForm, PasswordForm
from inspection.extensions import db, limiter
from inspection.services import accounts, audit
from inspection.services.errors import ServiceError
from inspection.views import login_limits
from inspection.views.access import ALL_ROLES, actor, require
from inspection.views.main import home_url

bp = Blueprint("auth", __name__)


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
    form = LoginForm()
    if form.validate_on_submit():
        login_limits.check()
        user = accounts.authenticate(form.username.data, form.password.data, actor())
        if user is None:
            login_limits.failed()
            db.session.commit()  # keep the failed-login audit event
            flash(_("Wrong username or password."), "error")
        else:
            login_limits.succeeded()
            lang = session.get("lang")
            session.clear()  # a fresh session on login: no fixation
            if lang:
                session["lang"] = lang
            session["sid"] = accounts.start_session(user)
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or home_url(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@require(*ALL_ROLES)
def logout():
    if ConfirmForm().validate_on_submit():
        audit.record(actor(), "logout", current_user._get_current_object())
        accounts.end_session(session.get("sid"))  # a copy of the cookie is worthless now
        db.session.commit()
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
            try:
                accounts.set_password(actor(), current_user, form.new_password.data)
            except ServiceError as exc:
                db.session.rollback()
                form.new_password.errors.extend(exc.fields.values())
            else:
                user = current_user._get_current_object()
                session["sid"] = accounts.start_session(user)  # this browser stays in
                db.session.commit()
                login_user(user)  # the new epoch: keep this session, end the others
                flash(_("Password changed. Your other sessions were logged out."), "success")
                return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", form=form, confirm=ConfirmForm(), tokens=current_user.tokens
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@require(*ALL_ROLES)
def revoke_token(token_id: int):
    if ConfirmForm().validate_on_submit():
        accounts.revoke_token(actor(), current_user, token_id)
        db.session.commit()
        flash(_("The token was revoked."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/logout-everywhere")
@require(*ALL_ROLES)
def logout_everywhere():
    if ConfirmForm().validate_on_submit():
        accounts.end_sessions(current_user)
        audit.record(actor(), "logout_everywhere", current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You were logged out on every device."), "success")
    return redirect(url_for("auth.login"))
