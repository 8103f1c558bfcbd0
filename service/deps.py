"""Annotated dependencies shared by every router: the runtime, a DB session, the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.auth import service as auth_service
from service.auth.models import Role, User
from service.core.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    session = runtime.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False)


def get_current_user(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    unauthorised = HTTPException(
        status.HTTP_401_UNAUTHORIZED, "missing or invalid API token", headers={"WWW-Authenticate": "Bearer"}
    )
    # Its own session: a failed login is audited even though the request is then rejected.
    with runtime.sessions() as session:
        if credentials is None or credentials.scheme.lower() != "bearer":
            auth_service.record_failed_login(db_session=session, reason="missing_token")
            session.commit()
            raise unauthorised
        user = auth_service.authenticate(db_session=session, token=credentials.credentials)
        if user is None:
            auth_service.record_failed_login(db_session=session, reason="invalid_token")
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
