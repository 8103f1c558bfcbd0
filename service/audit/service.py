"""Hash-chained audit events. Details must be content-free: ids and counts, never text or names."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent, AuditHead
from service.core.clock import utcnow

GENESIS = "0" * 64


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
    }


def record(
    *,
    db_session: Session,
    action: str,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so it commits or rolls back with the change."""
    head = db_session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS, count=0)
        db_session.add(head)
        db_session.flush()
    event = AuditEvent(
        id=head.count + 1,
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = _digest(head.last_hash, _fields(event))
    db_session.add(event)
    head.last_hash = event.hash
    head.count += 1
    db_session.flush()
    return event


def verify(*, db_session: Session) -> tuple[bool, int | None, str]:
    """Walk the chain; return (ok, first broken event id, reason)."""
    prev = GENESIS
    expected_id = 1
    for event in db_session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        if event.id != expected_id:
            return False, expected_id, "event missing or reordered"
        if event.prev_hash != prev or _digest(prev, _fields(event)) != event.hash:
            return False, event.id, "event altered or chain broken"
        prev = event.hash
        expected_id += 1
    head = db_session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.count != expected_id - 1):
        return False, expected_id, "events removed from the end of the chain"
    return True, None, "ok"
