from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from service.audit import service
from service.audit.schemas import AuditEventRead, AuditPage
from service.core.ints import PageNo
from service.deps import AdminUser, SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=AuditPage)
def list_audit(
    db_session: SessionDep,
    admin: AdminUser,
    page: Annotated[PageNo, Query()] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
    action: Annotated[str | None, Query(max_length=48)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> AuditPage:
    """The audit log, newest first. Entries are content-free: ids, counts and actions, never text or names."""
    rows, total = service.list_events(
        db_session=db_session, page=page, per_page=per_page, action=action, object_id=object_id, since=since,
        until=until,
    )
    return AuditPage(items=[AuditEventRead.model_validate(r) for r in rows], total=total, page=page, per_page=per_page)
