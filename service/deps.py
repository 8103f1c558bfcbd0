"""Annotated dependencies shared by every router: the runtime, a DB session, the sealed store, the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.auth import service as auth_service
from service.auth.models import Role, User
from service.auth.throttle import LoginThrottle, Throttled, client_address
from service.core.db import session_scope
from service.core.runtime import Runtime
from service.core.sealed import SealedStore


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_sealed(runtime: RuntimeDep) -> SealedStore:
    return runtime.sealed


# Routes hand this to the domain services that seal or open records; the master key never passes through a view.
SealedDep = Annotated[SealedStore, Depends(get_sealed)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    # The one unit of work (commit, or roll back on any error the endpoint raises back through the yield).
    with session_scope(runtime.sessions) as session:
        yield session


# scope="function": commit when the endpoint returns, before the response is sent. FastAPI's default (since 0.118)
# runs this teardown after sending: a client could hold a transcript whose audit event then failed to commit, and
# the next request could miss the write it was just told about.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False)


def get_login_throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle


def get_current_user(
    request: Request,
    runtime: RuntimeDep,
    throttle: Annotated[LoginThrottle, Depends(get_login_throttle)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    client = client_address(request.client.host if request.client else None)
    unauthorised = HTTPException(
        status.HTTP_401_UNAUTHORIZED, "missing or invalid API token", headers={"WWW-Authenticate": "Bearer"}
    )
    # Its own session: a failed login is audited even though the request is then rejected.
    with runtime.sessions() as session:
        user = None
        reason = "missing_token"
        if credentials is not None and credentials.scheme.lower() == "bearer":
            user, reason = auth_service.check_token(db_session=session, token=credentials.credentials)
        if user is None:
            try:
                auth_service.record_failed_login(db_session=session, reason=reason, client=client, throttle=throttle)
            except Throttled as exc:
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    "too many failed sign-ins from this address; try again later",
                    headers={"Retry-After": str(exc.retry_after)},
                ) from None
            session.commit()
            raise unauthorised
        session.commit()
        session.expunge(user)
        return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    allowed = {r.value for r in roles}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
