"""Hash-chained audit events. Details must be content-free: ids and counts, never text, names or participant codes.

Each event's hash is SHA-256 over the previous event's hash and the event's own fields, so editing, removing or
reordering a row breaks the chain from there on (`verify`). Dropping events from the end is caught by the head row;
dropping them *and* rewriting the head is caught only against an anchor kept elsewhere (`verify(anchor=...)`).

The hash covers an object's reference, not its id (chain version 3: HMAC of the id under a random salt kept
beside it), so a withdrawal can blank the id and the salt: the events stay in the chain but can no longer be tied
to the recording, or to each other, by anyone - holding the id or not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent, AuditHead
from service.core.clock import utcnow

GENESIS = "0" * 64
CHAIN_VERSION = 3
CHAIN_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class Entry:
    action: str
    actor_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    details: dict[str, Any] | None = None


def object_ref(object_id: str, salt: str) -> str:
    """What the chain commits to for an object: without the salt, nothing ties it to the id."""
    return hmac.new(bytes.fromhex(salt), object_id.encode(), hashlib.sha256).hexdigest()


def _ref_matches(event: AuditEvent) -> bool:
    """Whether the event's (clear) object id is the one its hash committed to."""
    if event.object_id is None or event.chain_version == 1:
        return True  # withdrawn (blank), or version 1 (the hash covers the id itself)
    if event.chain_version == 2:
        # Version 2's unsalted reference: kept verifiable; such events stay findable by id even when withdrawn.
        return hashlib.sha256(event.object_id.encode()).hexdigest() == event.object_ref
    if event.object_salt is None or event.object_ref is None:
        return False
    return hmac.compare_digest(object_ref(event.object_id, event.object_salt), event.object_ref)


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    fields = {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "details": event.details,
    }
    if event.chain_version == 1:
        fields["object_id"] = event.object_id
    else:
        fields["v"] = event.chain_version
        fields["object_ref"] = event.object_ref
    return fields


def _lock_head(db_session: Session) -> AuditHead:
    """The head row, locked until the caller's transaction ends: appends are serialised so the chain never forks.

    On SQLite the FOR UPDATE takes the database write lock (service/core/db.py). `populate_existing`: sessions
    keep objects across commits (expire_on_commit=False), and a head loaded in an earlier transaction is stale.
    """
    query = (
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    )
    head = db_session.execute(query).scalar_one_or_none()
    if head is None:
        # The very first event: concurrent first appends must not both create the head (a unique violation on
        # PostgreSQL, where there was no row to lock); the loser waits for the winner's row, then locks it.
        insert = postgresql.insert if db_session.get_bind().dialect.name == "postgresql" else sqlite.insert
        db_session.execute(
            insert(AuditHead).values(id=1, last_hash=GENESIS, count=0).on_conflict_do_nothing(index_elements=["id"])
        )
        head = db_session.execute(query).scalar_one()
    return head


def append(*, db_session: Session, entries: list[Entry]) -> list[AuditEvent]:
    """Append events in the caller's transaction, so they commit or roll back with the change they record."""
    if not entries:
        return []
    head = _lock_head(db_session)
    now = utcnow()
    events = []
    for entry in entries:
        salt = ref = None
        if entry.object_id is not None:
            salt = secrets.token_hex(16)
            ref = object_ref(entry.object_id, salt)
        event = AuditEvent(
            id=head.count + 1,
            at=now,
            actor_id=entry.actor_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            object_ref=ref,
            object_salt=salt,
            details=entry.details or {},
            chain_version=CHAIN_VERSION,
            prev_hash=head.last_hash,
            hash="",
        )
        event.hash = _digest(head.last_hash, _fields(event))
        db_session.add(event)
        head.last_hash = event.hash
        head.count += 1
        events.append(event)
    db_session.flush()
    return events


def record(
    *,
    db_session: Session,
    action: str,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    entry = Entry(action=action, actor_id=actor_id, object_type=object_type, object_id=object_id, details=details)
    return append(db_session=db_session, entries=[entry])[0]


def record_once_within(
    *,
    db_session: Session,
    within: timedelta,
    action: str,
    actor_id: int,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """One event per session rather than per request: nothing if this actor's `action` on the object was recorded
    less than `within` ago. Checked again under the head lock, so concurrent first requests write one event."""

    def recent() -> bool:
        query = select(AuditEvent.id).where(
            AuditEvent.action == action,
            AuditEvent.object_id == object_id,
            AuditEvent.actor_id == actor_id,
            AuditEvent.at > utcnow() - within,
        )
        return db_session.execute(query.limit(1)).first() is not None

    if recent():
        return None
    _lock_head(db_session)
    if recent():
        return None
    return record(db_session=db_session, action=action, actor_id=actor_id, object_type=object_type,
                  object_id=object_id, details=details)


def erase_object_ids(*, db_session: Session, object_type: str, object_ids: list[str]) -> int:
    """Unlink these objects' events: blank the clear id and the salt. Their `object_ref`, which the hash covers,
    stays - and without the salt it no longer leads to the id. (Version 1 events keep their id: their hash covers
    it. Version 2 events keep their unsalted reference, which the hash covers too.)"""
    erased = 0
    for i in range(0, len(object_ids), 500):
        result = db_session.execute(
            update(AuditEvent)
            .where(
                AuditEvent.chain_version >= 2,
                AuditEvent.object_type == object_type,
                AuditEvent.object_id.in_(object_ids[i : i + 500]),
            )
            .values(object_id=None, object_salt=None)
            .execution_options(synchronize_session=False)
        )
        erased += result.rowcount  # type: ignore[attr-defined]
    return erased


def find(*, db_session: Session, action: str, object_id: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(db_session.execute(query.order_by(AuditEvent.id)).scalars())


def list_events(
    *,
    db_session: Session,
    page: int,
    per_page: int,
    action: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEvent], int]:
    """Newest first."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    total = db_session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db_session.execute(
        query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).scalars()
    return list(rows), int(total)


def iter_events(*, db_session: Session, after_id: int = 0, batch: int = 1000) -> Iterator[AuditEvent]:
    """Oldest first, in bounded batches (the log only grows)."""
    last = after_id
    while True:
        rows = list(
            db_session.execute(
                select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
            ).scalars()
        )
        if not rows:
            return
        for row in rows:
            yield row
            db_session.expunge(row)  # a long log must not pile up in the session
        last = rows[-1].id


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_ref": event.object_ref,
        "object_salt": event.object_salt,
        "details": event.details,
        "chain_version": event.chain_version,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@dataclass(frozen=True)
class Verdict:
    ok: bool
    first_bad_id: int | None
    reason: str
    count: int
    head_hash: str


def verify(*, db_session: Session, anchor: tuple[int, str] | None = None) -> Verdict:
    """Walk the chain; report the first event that is missing, altered or out of place.

    `anchor` (event id, hash) - a pair written down elsewhere (an ethics board's minutes, a ticket) - also catches a
    log truncated and given a rewritten head.
    """
    prev = GENESIS
    expected_id = 1
    anchor_seen = anchor is None

    def bad(event_id: int, reason: str) -> Verdict:
        return Verdict(False, event_id, reason, expected_id - 1, prev)

    for event in iter_events(db_session=db_session):
        if event.id != expected_id:
            return bad(expected_id, "event missing or reordered")
        if event.chain_version not in CHAIN_VERSIONS:
            return bad(event.id, "event altered or chain broken")
        if event.prev_hash != prev or _digest(prev, _fields(event)) != event.hash:
            return bad(event.id, "event altered or chain broken")
        if not _ref_matches(event):
            return bad(event.id, "event altered: object id does not match its reference")
        if anchor is not None and event.id == anchor[0]:
            if event.hash != anchor[1]:
                return bad(event.id, "event differs from the anchor")
            anchor_seen = True
        prev = event.hash
        expected_id += 1
    head = db_session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.count != expected_id - 1):
        return bad(expected_id, "events removed from the end of the chain")
    if not anchor_seen:
        return bad(anchor[0] if anchor else expected_id, "the anchored event is missing (log truncated)")
    return Verdict(True, None, "ok", expected_id - 1, prev)
