"""Sign in with a name and password (the second factor is service/web/account.py's) or, while
ANONSCRIBE_WEB_TOKEN_SIGNIN allows it, an API token; either becomes a session cookie. Sign out, and the home
redirect."""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from service.auth import accounts, sessions
from service.auth.models import Role, User
from service.auth.throttle import Throttled, client_address
from service.deps import RuntimeDep, get_login_throttle
from service.web.session import (
    CHALLENGE_COOKIE,
    COOKIE,
    CSRF_FIELD,
    SIGNIN_COOKIE,
    Posted,
    WebSession,
    current,
    max_age,
    posted,
    secure_cookie,
)
from service.web.templating import WebRoute, nav_for, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)
AnyRole = tuple(Role)


def safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must not turn sign-in into an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def home_for(web: WebSession) -> str:
    return nav_for(web)[0][0] if nav_for(web) else "/signin"


def _signin_page(request: Request, runtime: RuntimeDep, *, next_path: str, error: str | None = None,
                 status_code: int = 200, notice: str | None = None) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(request, "signin.html", web=None, status_code=status_code, form_nonce=nonce, next=next_path,
                    error=error, notice=notice, token_signin=runtime.settings.web_token_signin)
    response.set_cookie(SIGNIN_COOKIE, nonce, max_age=1800, path="/signin", httponly=True, samesite="strict",
                        secure=secure_cookie(request, runtime.settings))
    return response


@router.get("/")
def home(web: Annotated[WebSession | None, Depends(current)]) -> Response:
    return RedirectResponse(home_for(web) if web else "/signin", status_code=303)


@router.get("/signin")
def signin_form(
    request: Request, runtime: RuntimeDep, web: Annotated[WebSession | None, Depends(current)],
    next: str | None = None, signed_out: bool = False, password_set: bool = False, expired: bool = False,
) -> Response:
    if web is not None:
        return RedirectResponse(safe_next(next) if next else home_for(web), status_code=303)
    notice = ("You have signed out." if signed_out else
              "Your password is set. Sign in with it now." if password_set else None)
    return _signin_page(request, runtime, next_path=safe_next(next), notice=notice,
                        error="The sign-in took too long or had too many wrong codes. Please start again."
                        if expired else None)


def throttled_page(request: Request, runtime: RuntimeDep, exc: Throttled, next_path: str) -> Response:
    response = _signin_page(request, runtime, next_path=next_path, status_code=429,
                            error="Too many failed sign-ins from this address. "
                                  f"Try again in {math.ceil(exc.retry_after / 60)} minute(s).")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def finish_signin(request: Request, runtime: RuntimeDep, db_session: Session, *, user: User, method: str,
                  response: Response | None = None, next_path: str = "/") -> Response:
    """Start the session (ending any the browser had: a fresh id at every sign-in, no fixation), commit, and set
    the cookie on `response` (default: a redirect to `next_path` or the user's start page)."""
    session_id = sessions.begin(db_session=db_session, user=user, max_age=max_age(runtime.settings), method=method)
    old = request.cookies.get(COOKIE)
    if old:
        sessions.end(db_session=db_session, session_id=old)
    db_session.commit()
    if response is None:
        target = next_path if next_path != "/" else home_for(WebSession(user=user, session_id=session_id))
        response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session_id, max_age=runtime.settings.web_session_max_age_s, path="/",
                        httponly=True, samesite="strict", secure=secure_cookie(request, runtime.settings))
    response.delete_cookie(SIGNIN_COOKIE, path="/signin", httponly=True, samesite="strict")
    return response


@router.post("/signin")
async def signin(request: Request, runtime: RuntimeDep) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    nonce = request.cookies.get(SIGNIN_COOKIE, "")
    presented = form.get(CSRF_FIELD)
    next_path = safe_next(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    if not nonce or not isinstance(presented, str) or not hmac.compare_digest(nonce, presented):
        return _signin_page(request, runtime, next_path=next_path, status_code=403,
                            error="The sign-in form had expired. Please try again.")
    client = client_address(request.client.host if request.client else None)
    if "password" in form:
        return _password_signin(request, runtime, form.get("name"), form.get("password"), client, next_path)
    if not runtime.settings.web_token_signin:
        return _signin_page(request, runtime, next_path=next_path, status_code=403,
                            error="Sign-in with an API token is turned off here: use your name and password.")
    token = form.get("token")
    with runtime.sessions() as db_session:
        try:
            started = sessions.start(db_session=db_session, token=token if isinstance(token, str) else "",
                                     max_age=max_age(runtime.settings), client=client,
                                     throttle=get_login_throttle(request))
        except Throttled as exc:
            return throttled_page(request, runtime, exc, next_path)
        except sessions.TokenNotForWeb:
            db_session.commit()  # the audit event stays
            return _signin_page(request, runtime, next_path=next_path, status_code=403,
                                error="This account signs in with its name and password (or single sign-on). "
                                      "API tokens are for scripts and the command line.")
        old = request.cookies.get(COOKIE)
        if started is not None and old:
            sessions.end(db_session=db_session, session_id=old)  # a fresh id at every sign-in: no fixation
        db_session.commit()
    if started is None:
        return _signin_page(request, runtime, next_path=next_path, status_code=401,
                            error="That token was not accepted. Check it and try again.")
    user, session_id = started
    target = next_path if next_path != "/" else home_for(WebSession(user=user, session_id=session_id))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session_id, max_age=runtime.settings.web_session_max_age_s, path="/",
                        httponly=True, samesite="strict", secure=secure_cookie(request, runtime.settings))
    response.delete_cookie(SIGNIN_COOKIE, path="/signin", httponly=True, samesite="strict")
    return response


@router.post("/signout")
def signout(request: Request, runtime: RuntimeDep, form: Annotated[Posted, Depends(posted(*AnyRole))]) -> Response:
    with runtime.sessions() as db_session:
        sessions.end(db_session=db_session, session_id=form.web.session_id)
        db_session.commit()
    response = RedirectResponse("/signin?signed_out=true", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=secure_cookie(request, runtime.settings))
    return response


def _password_signin(request: Request, runtime: RuntimeDep, name: object, password: object, client: str,
                     next_path: str) -> Response:
    with runtime.sessions() as db_session:
        try:
            user, step = accounts.password_step(
                db_session=db_session, name=name if isinstance(name, str) else "",
                password=password if isinstance(password, str) else "",
                lockout=accounts.Lockout.from_settings(runtime.settings), totp_roles=runtime.settings.totp_roles,
                client=client, throttle=get_login_throttle(request))
        except Throttled as exc:
            return throttled_page(request, runtime, exc, next_path)
        except accounts.SignInFailed:
            db_session.commit()  # the failure count and its audit event stay
            return _signin_page(request, runtime, next_path=next_path, status_code=401,
                                error="Name or password not accepted. After repeated failures an account is "
                                      f"locked for {math.ceil(runtime.settings.account_lock_s / 60)} minute(s).")
        if step is accounts.Next.session:
            accounts.signed_in(db_session=db_session, user=user, factor="none")
            return finish_signin(request, runtime, db_session, user=user, method="password", next_path=next_path)
        challenge = accounts.start_challenge(db_session=db_session, user_id=user.id, purpose=step.value)
        db_session.commit()
    query = f"?{urlencode({'next': next_path})}" if next_path != "/" else ""
    response = RedirectResponse(f"/signin/{step.value}{query}", status_code=303)
    response.set_cookie(CHALLENGE_COOKIE, challenge, max_age=int(accounts.CHALLENGE_TTL.total_seconds()),
                        path="/signin", httponly=True, samesite="strict",
                        secure=secure_cookie(request, runtime.settings))
    return response
