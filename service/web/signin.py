"""Sign in with an API token (exchanged for a session cookie), sign out, and the home redirect."""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from service.auth import sessions
from service.auth.models import Role
from service.auth.throttle import Throttled, client_address
from service.deps import RuntimeDep, get_login_throttle
from service.web.session import (
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
                    error=error, notice=notice)
    response.set_cookie(SIGNIN_COOKIE, nonce, max_age=1800, path="/signin", httponly=True, samesite="strict",
                        secure=secure_cookie(request, runtime.settings))
    return response


@router.get("/")
def home(web: Annotated[WebSession | None, Depends(current)]) -> Response:
    return RedirectResponse(home_for(web) if web else "/signin", status_code=303)


@router.get("/signin")
def signin_form(
    request: Request, runtime: RuntimeDep, web: Annotated[WebSession | None, Depends(current)],
    next: str | None = None, signed_out: bool = False,
) -> Response:
    if web is not None:
        return RedirectResponse(safe_next(next) if next else home_for(web), status_code=303)
    return _signin_page(request, runtime, next_path=safe_next(next),
                        notice="You have signed out." if signed_out else None)


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
    token = form.get("token")
    with runtime.sessions() as db_session:
        try:
            started = sessions.start(db_session=db_session, token=token if isinstance(token, str) else "",
                                     max_age=max_age(runtime.settings), client=client,
                                     throttle=get_login_throttle(request))
        except Throttled as exc:
            response = _signin_page(request, runtime, next_path=next_path, status_code=429,
                                    error="Too many failed sign-ins from this address. "
                                          f"Try again in {math.ceil(exc.retry_after / 60)} minute(s).")
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
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
