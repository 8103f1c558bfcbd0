"""Who is signed in, what they may open, and the CSRF check on every state-changing form.

Pages authorise exactly like the API: the same roles per action, and the domain services check again. Not signed
in is a 303 to the sign-in page; the wrong role is a 403 page; a form without the right CSRF token is a 403 page.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from service.auth import sessions
from service.auth.models import Role, User
from service.core.settings import Settings
from service.deps import RuntimeDep

COOKIE = "anonscribe_session"
# Before there is a session, the sign-in form is protected by a random value in a cookie and the form (double
# submit): another site cannot sign a victim's browser in to the attacker's account.
SIGNIN_COOKIE = "anonscribe_signin"
# Between a right password and its second factor: the pending sign-in's random id (path /signin, minutes long).
CHALLENGE_COOKIE = "anonscribe_challenge"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class NotSignedIn(Exception):
    pass


class PageForbidden(Exception):
    pass


class CsrfFailed(Exception):
    pass


@dataclass(frozen=True)
class WebSession:
    user: User
    session_id: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_id)


def csrf_token(session_id: str) -> str:
    # A synchronizer token derived from the secret session id: only a page served to this session can know it,
    # it changes with every sign-in, and nothing extra has to be stored.
    return hmac.new(session_id.encode(), b"anonscribe/csrf/v1", hashlib.sha256).hexdigest()


def csrf_ok(session: WebSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(str(presented), session.csrf)


def max_age(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.web_session_max_age_s)


def idle(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.web_session_idle_s)


def secure_cookie(request: Request, settings: Settings) -> bool:
    if settings.web_cookie_secure is not None:
        return settings.web_cookie_secure
    return request.url.scheme == "https"


def current(request: Request, runtime: RuntimeDep) -> WebSession | None:
    """The request's session, if its cookie names a live one. Cached on the request for the error pages' nav."""
    if hasattr(request.state, "web"):
        return request.state.web  # type: ignore[no-any-return]
    found: WebSession | None = None
    session_id = request.cookies.get(COOKIE)
    if session_id:
        with runtime.sessions() as db_session:
            user = sessions.resolve(
                db_session=db_session, session_id=session_id, max_age=max_age(runtime.settings),
                idle=idle(runtime.settings),
            )
            if user is not None:
                db_session.commit()
                db_session.expunge(user)
                found = WebSession(user=user, session_id=session_id)
    request.state.web = found
    return found


def signed_in(web: Annotated[WebSession | None, Depends(current)]) -> WebSession:
    if web is None:
        raise NotSignedIn()
    return web


def require(*roles: Role) -> Callable[[WebSession], WebSession]:
    allowed = {r.value for r in roles}

    def check(web: Annotated[WebSession, Depends(signed_in)]) -> WebSession:
        if web.user.role not in allowed:
            raise PageForbidden()
        return web

    return check


@dataclass(frozen=True)
class Posted:
    web: WebSession
    form: FormData


def posted(*roles: Role) -> Callable[..., Awaitable[Posted]]:
    """A form POST: signed in (else 303), the right role (else 403), then the CSRF token (else 403)."""

    role_check = require(*roles)

    async def check(request: Request, web: WebSession = Depends(role_check)) -> Posted:
        form = await request.form(max_files=0, max_fields=200)
        token = form.get(CSRF_FIELD)
        if not csrf_ok(web, token if isinstance(token, str) else None):
            raise CsrfFailed()
        return Posted(web=web, form=form)

    return check


def check_csrf_param(request: Request, web: WebSession) -> None:
    """For the streamed upload, whose body must not be read before it is authorised: the token comes in a header
    (XHR) or in the form's action URL (no JS), and is checked before a single byte of the body is accepted."""
    presented = request.headers.get(CSRF_HEADER) or request.query_params.get(CSRF_FIELD)
    if not csrf_ok(web, presented):
        raise CsrfFailed()


Admin = (Role.admin,)
Uploader = (Role.admin, Role.uploader)
Reviewer = (Role.admin, Role.reviewer)
Reader = (Role.admin, Role.researcher)
