"""Admin pages: users and roles (a new token is shown once), the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from service.auth import service as auth
from service.auth.models import Role
from service.deps import SessionDep
from service.web.session import Admin, Posted, WebSession, posted, require
from service.web.templating import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)

AdminPage = Annotated[WebSession, Depends(require(*Admin))]
AdminForm = Annotated[Posted, Depends(posted(*Admin))]


def _users_page(request: Request, db_session: SessionDep, web: WebSession, *, status_code: int = 200,
                created: tuple[str, str] | None = None, error: str | None = None,
                notice: str | None = None) -> Response:
    return page(request, "admin_users.html", web=web, users=auth.list_users(db_session=db_session),
                roles=[r.value for r in Role], created=created, error=error, notice=notice, status_code=status_code)


@router.get("/admin/users")
def users(request: Request, db_session: SessionDep, web: AdminPage) -> Response:
    return _users_page(request, db_session, web)


@router.post("/admin/users")
def create_user(request: Request, db_session: SessionDep, form: AdminForm) -> Response:
    """The new token is in this response only (no redirect, no-store): it is never shown again."""
    name = form.form.get("name")
    role = form.form.get("role")
    name = name.strip() if isinstance(name, str) else ""
    if role not in {r.value for r in Role}:
        return _users_page(request, db_session, form.web, status_code=422, error="Choose a role from the list.")
    try:
        user, token = auth.create_user(db_session=db_session, name=name, role=Role(str(role)),
                                       actor_id=form.web.user.id)
    except auth.InvalidUserName as exc:
        return _users_page(request, db_session, form.web, status_code=422, error=str(exc))
    except auth.UserExists:
        return _users_page(request, db_session, form.web, status_code=409, error="A user with that name exists.")
    return _users_page(request, db_session, form.web, created=(user.name, token))
