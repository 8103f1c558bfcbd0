"""Local accounts in the browser: the second step of a password sign-in (a TOTP or recovery code, or enrolling a
factor when the role needs one), the one-time set-up link an admin hands out, and each person's own account page.

Pages before a session exist are protected like the sign-in form: the pending sign-in's id is in an HttpOnly,
SameSite=Strict cookie and its forms carry a token derived from it; the set-up page uses a double-submit nonce.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse

from service.auth import accounts, factors, passwords, tokens, totp
from service.auth.throttle import Throttled, client_address
from service.core.ints import RowId
from service.deps import RuntimeDep, get_login_throttle
from service.web import token_forms
from service.web.session import (
    CHALLENGE_COOKIE,
    CSRF_FIELD,
    Posted,
    WebSession,
    csrf_token,
    posted,
    require,
    secure_cookie,
)
from service.web.signin import AnyRole, finish_signin, home_for, safe_next, throttled_page
from service.web.templating import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SETUP_COOKIE = "anonscribe_setup"
LinkToken = Annotated[str, Path(max_length=128)]
AnyPage = Annotated[WebSession, Depends(require(*AnyRole))]
AnyForm = Annotated[Posted, Depends(posted(*AnyRole))]


def _restart(request: Request, runtime: RuntimeDep) -> Response:
    response = RedirectResponse("/signin?expired=true", status_code=303)
    response.delete_cookie(CHALLENGE_COOKIE, path="/signin", httponly=True, samesite="strict",
                           secure=secure_cookie(request, runtime.settings))
    return response


async def _challenge_form(request: Request) -> tuple[str, dict[str, str]]:
    """The pending sign-in's id and the posted fields, or ("", {}) if the form is not this sign-in's."""
    challenge = request.cookies.get(CHALLENGE_COOKIE, "")
    form = await request.form(max_files=0, max_fields=10)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not challenge or not hmac.compare_digest(csrf_token(challenge), fields.get(CSRF_FIELD, "")):
        return "", {}
    return challenge, fields


# ---- the second step of a password sign-in ----------------------------------------------------------------


def _code_page(request: Request, challenge: str, next_path: str, *, error: str | None = None,
               status_code: int = 200) -> Response:
    return page(request, "signin_code.html", web=None, status_code=status_code, form_token=csrf_token(challenge),
                next=next_path, error=error)


@router.get("/signin/code")
def code_form(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    challenge = request.cookies.get(CHALLENGE_COOKIE, "")
    with runtime.sessions() as db_session:
        user = accounts.challenge_user(db_session=db_session, token=challenge, purpose="code") if challenge else None
    if user is None:
        return _restart(request, runtime)
    return _code_page(request, challenge, safe_next(next))


@router.post("/signin/code")
async def code_submit(request: Request, runtime: RuntimeDep) -> Response:
    challenge, fields = await _challenge_form(request)
    if not challenge:
        return _restart(request, runtime)
    next_path = safe_next(fields.get("next"))
    client = client_address(request.client.host if request.client else None)
    with runtime.sessions() as db_session:
        try:
            user = accounts.code_step(db_session=db_session, sealed=runtime.sealed, token=challenge,
                                      code=fields.get("code", "")[:64],
                                      lockout=accounts.Lockout.from_settings(runtime.settings), client=client,
                                      throttle=get_login_throttle(request))
        except Throttled as exc:
            return throttled_page(request, runtime, exc, next_path)
        except accounts.ChallengeExpired:
            return _restart(request, runtime)
        except accounts.SignInFailed:
            db_session.commit()
            still = accounts.challenge_user(db_session=db_session, token=challenge, purpose="code")
            if still is None:
                return _restart(request, runtime)
            return _code_page(request, challenge, next_path, status_code=401,
                              error="That code was not accepted. Codes change every 30 seconds and each works once.")
        response = finish_signin(request, runtime, db_session, user=user, method="password", next_path=next_path)
    response.delete_cookie(CHALLENGE_COOKIE, path="/signin", httponly=True, samesite="strict",
                           secure=secure_cookie(request, runtime.settings))
    return response


def _enrol_context(runtime: RuntimeDep, secret: str, name: str) -> dict[str, str]:
    uri = totp.provisioning_uri(secret, account=name, issuer=runtime.settings.totp_issuer)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"secret": grouped, "uri": uri, "qr": totp.qr_svg(uri)}


@router.get("/signin/enrol")
def enrol_form(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    challenge = request.cookies.get(CHALLENGE_COOKIE, "")
    with runtime.sessions() as db_session:
        user = accounts.challenge_user(db_session=db_session, token=challenge, purpose="enrol") if challenge else None
        if user is None:
            return _restart(request, runtime)
        secret = factors.enrolment_secret(db_session=db_session, sealed=runtime.sealed, user_id=user.id)
        name = user.name
        db_session.commit()
    return page(request, "signin_enrol.html", web=None, form_token=csrf_token(challenge), next=safe_next(next),
                action="/signin/enrol", error=None, **_enrol_context(runtime, secret, name))


@router.post("/signin/enrol")
async def enrol_submit(request: Request, runtime: RuntimeDep) -> Response:
    challenge, fields = await _challenge_form(request)
    if not challenge:
        return _restart(request, runtime)
    next_path = safe_next(fields.get("next"))
    with runtime.sessions() as db_session:
        try:
            done = accounts.enrol_step(db_session=db_session, sealed=runtime.sealed, token=challenge,
                                       code=fields.get("code", "")[:64])
        except accounts.ChallengeExpired:
            return _restart(request, runtime)
        if done is None:
            user = accounts.challenge_user(db_session=db_session, token=challenge, purpose="enrol")
            if user is None:
                db_session.commit()
                return _restart(request, runtime)
            secret = factors.enrolment_secret(db_session=db_session, sealed=runtime.sealed, user_id=user.id)
            name = user.name
            db_session.commit()
            return page(request, "signin_enrol.html", web=None, status_code=422, form_token=csrf_token(challenge),
                        next=next_path, action="/signin/enrol",
                        error="That code did not match. Check the app's clock and enter the current code.",
                        **_enrol_context(runtime, secret, name))
        user, codes = done
        db_session.expunge(user)
        # The codes are in this response only (no-store), then never again.
        response = finish_signin(request, runtime, db_session, user=user, method="password",
                                 response=Response(), next_path=next_path)
    web = WebSession(user=user, session_id=_cookie_value(response))
    shown = page(request, "recovery_codes.html", web=web, codes=codes,
                 continue_to=next_path if next_path != "/" else home_for(web))
    for header in response.headers.getlist("set-cookie"):
        shown.headers.append("set-cookie", header)
    shown.delete_cookie(CHALLENGE_COOKIE, path="/signin", httponly=True, samesite="strict",
                        secure=secure_cookie(request, runtime.settings))
    return shown


def _cookie_value(response: Response) -> str:
    from service.web.session import COOKIE

    for header in response.headers.getlist("set-cookie"):
        if header.startswith(f"{COOKIE}="):
            return header.split("=", 1)[1].split(";", 1)[0]
    raise RuntimeError("no session cookie was set")


# ---- the one-time set-up (or reset) link ------------------------------------------------------------------


def _setup_page(request: Request, runtime: RuntimeDep, link: str, name: str, *, error: str | None = None,
                status_code: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(request, "account_setup.html", web=None, status_code=status_code, form_nonce=nonce, link=link,
                    account_name=name, error=error, min_length=passwords.MIN_LENGTH)
    response.set_cookie(SETUP_COOKIE, nonce, max_age=1800, path="/account/setup", httponly=True, samesite="strict",
                        secure=secure_cookie(request, runtime.settings))
    return response


@router.get("/account/setup/{link}")
def setup_form(request: Request, runtime: RuntimeDep, link: LinkToken) -> Response:
    with runtime.sessions() as db_session:
        name = accounts.link_user(db_session=db_session, token=link).name
    return _setup_page(request, runtime, link, name)


@router.post("/account/setup/{link}")
async def setup_submit(request: Request, runtime: RuntimeDep, link: LinkToken) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    nonce = request.cookies.get(SETUP_COOKIE, "")
    with runtime.sessions() as db_session:
        name = accounts.link_user(db_session=db_session, token=link).name
        if not nonce or not hmac.compare_digest(nonce, fields.get(CSRF_FIELD, "")):
            return _setup_page(request, runtime, link, name, status_code=403,
                               error="The form had expired. Please enter the password again.")
        password = fields.get("password", "")
        if password != fields.get("confirm", ""):
            return _setup_page(request, runtime, link, name, status_code=422,
                               error="The two passwords differ. Please type the same password twice.")
        try:
            accounts.use_link(db_session=db_session, token=link, password=password)
        except accounts.WeakPassword as exc:
            return _setup_page(request, runtime, link, name, status_code=422, error=exc.sentence)
        db_session.commit()
    response = RedirectResponse("/signin?password_set=true", status_code=303)
    response.delete_cookie(SETUP_COOKIE, path="/account/setup", httponly=True, samesite="strict")
    return response


# ---- one's own account ------------------------------------------------------------------------------------


def _account_page(request: Request, runtime: RuntimeDep, web: WebSession, *, error: str | None = None,
                  notice: str | None = None, status_code: int = 200, made: token_forms.Made | None = None) -> Response:
    with runtime.sessions() as db_session:
        status = accounts.status(db_session=db_session, user_id=web.user.id)
        own = tokens.list_tokens(db_session=db_session, user_id=web.user.id)
        listed = [(t, tokens.state(t)) for t in own]
    return page(request, "account.html", web=web, status=status, error=error, notice=notice,
                status_code=status_code, required=web.user.role in runtime.settings.totp_roles,
                min_length=passwords.MIN_LENGTH, tokens=listed, made=made, forms_at="/account/tokens",
                expiry_choices=tokens.expiry_choices(runtime.settings.api_token_max_days))


@router.get("/account")
def account(request: Request, runtime: RuntimeDep, web: AnyPage, saved: bool = False,
            revoked: bool = False) -> Response:
    notice = "Your password is changed." if saved else "The token is revoked." if revoked else None
    return _account_page(request, runtime, web, notice=notice)


@router.post("/account/tokens")
def create_token(request: Request, runtime: RuntimeDep, form: AnyForm) -> Response:
    """A new API token for one's own scripts. It is in this response only (no redirect, no-store)."""
    with runtime.sessions() as db_session:
        try:
            made = token_forms.make(db_session=db_session, settings=runtime.settings, form=form.form,
                                    user_id=form.web.user.id, actor_id=form.web.user.id)
        except token_forms.REFUSED as exc:
            return _account_page(request, runtime, form.web, status_code=exc.status, error=exc.sentence)
        db_session.commit()
    return _account_page(request, runtime, form.web, made=made)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: RowId, runtime: RuntimeDep, form: AnyForm) -> Response:
    """One's own token only: any other id (someone else's, a web session's) is the 404 page."""
    with runtime.sessions() as db_session:
        tokens.revoke(db_session=db_session, user_id=form.web.user.id, token_id=token_id, actor_id=form.web.user.id)
        db_session.commit()
    return RedirectResponse("/account?revoked=true", status_code=303)


@router.post("/account/password")
def change_password(request: Request, runtime: RuntimeDep, form: AnyForm) -> Response:
    """Needs the current password: a session left open on a shared computer cannot take over the account."""
    fields = {k: v for k, v in form.form.items() if isinstance(v, str)}
    new = fields.get("password", "")
    if new != fields.get("confirm", ""):
        return _account_page(request, runtime, form.web, status_code=422, error="The two new passwords differ.")
    with runtime.sessions() as db_session:
        if not accounts.password_matches(db_session=db_session, user_id=form.web.user.id,
                                         password=fields.get("current", "")):
            return _account_page(request, runtime, form.web, status_code=403,
                                 error="The current password is not right. (No password yet? Ask an admin for a "
                                       "set-up link.)")
        try:
            accounts.set_password(db_session=db_session, user_id=form.web.user.id, password=new,
                                  actor_id=form.web.user.id, via="account")
        except accounts.WeakPassword as exc:
            return _account_page(request, runtime, form.web, status_code=422, error=exc.sentence)
        db_session.commit()
    return RedirectResponse("/account?saved=true", status_code=303)


@router.get("/account/totp")
def totp_form(request: Request, runtime: RuntimeDep, web: AnyPage) -> Response:
    with runtime.sessions() as db_session:
        secret = factors.enrolment_secret(db_session=db_session, sealed=runtime.sealed, user_id=web.user.id)
        db_session.commit()
    return page(request, "signin_enrol.html", web=web, form_token=web.csrf, next="/account", action="/account/totp",
                error=None, **_enrol_context(runtime, secret, web.user.name))


@router.post("/account/totp")
def totp_submit(request: Request, runtime: RuntimeDep, form: AnyForm) -> Response:
    code = form.form.get("code")
    with runtime.sessions() as db_session:
        codes = factors.confirm_enrolment(db_session=db_session, sealed=runtime.sealed, user_id=form.web.user.id,
                                           code=code[:64] if isinstance(code, str) else "")
        if codes is None:
            secret = factors.enrolment_secret(db_session=db_session, sealed=runtime.sealed, user_id=form.web.user.id)
            db_session.commit()
            return page(request, "signin_enrol.html", web=form.web, status_code=422, form_token=form.web.csrf,
                        next="/account", action="/account/totp",
                        error="That code did not match. Check the app's clock and enter the current code.",
                        **_enrol_context(runtime, secret, form.web.user.name))
        db_session.commit()
    return page(request, "recovery_codes.html", web=form.web, codes=codes, continue_to="/account")
