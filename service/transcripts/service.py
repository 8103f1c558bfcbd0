"""Raw (identifying) transcripts: sealed under their own data key, readable by reviewers and admins."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.sealed import SealedStore, record_context
from service.transcripts.models import RawTranscript, TranscriptVersion


class TranscriptNotReady(Exception):
    pass


def _context(recording_id: str) -> bytes:
    return record_context("raw-transcript", recording_id)


def save_raw(
    *, db_session: Session, sealed: SealedStore, recording_id: str, transcript: dict[str, Any]
) -> None:
    """Idempotent per recording: a retried job replaces the transcript and shreds the old key."""
    existing = db_session.execute(
        select(RawTranscript).where(RawTranscript.recording_id == recording_id)
    ).scalar_one_or_none()
    key_id, ciphertext = sealed.seal_record(
        db_session=db_session, purpose="raw_transcript", context=_context(recording_id),
        value=json.dumps(transcript).encode(),
    )
    stats = {
        "model": transcript.get("model", ""),
        "language": transcript.get("language", ""),
        "segment_count": len(transcript["segments"]),
        "word_count": sum(len(s.get("words", [])) for s in transcript["segments"]),
        "duration_s": float(transcript.get("duration", 0.0)),
    }
    if existing is None:
        db_session.add(
            RawTranscript(
                id=uuid.uuid4().hex,
                recording_id=recording_id,
                key_id=key_id,
                ciphertext=ciphertext,
                created_at=utcnow(),
                **stats,
            )
        )
    else:
        old_key = existing.key_id
        existing.key_id = key_id
        existing.ciphertext = ciphertext
        existing.created_at = utcnow()
        for name, value in stats.items():
            setattr(existing, name, value)
        sealed.destroy_record(db_session=db_session, key_id=old_key)
    db_session.flush()


def load_raw(
    *, db_session: Session, sealed: SealedStore, recording_id: str, actor_id: int | None, audited: bool = True
) -> dict[str, Any]:
    """`audited=False` only for callers that record their own event for the read (review, approval, snippets):
    one action, one audit entry."""
    row = db_session.execute(
        select(RawTranscript).where(RawTranscript.recording_id == recording_id)
    ).scalar_one_or_none()
    if row is None:
        raise TranscriptNotReady(recording_id)
    data: dict[str, Any] = json.loads(
        sealed.open_record(
            db_session=db_session, key_id=row.key_id, ciphertext=row.ciphertext, context=_context(recording_id)
        )
    )
    if audited:
        audit.record(
            db_session=db_session,
            action="transcript.view_raw",
            actor_id=actor_id,
            object_type="recording",
            object_id=recording_id,
        )
    return data


def delete_for_recording(*, db_session: Session, sealed: SealedStore, recording_id: str) -> int:
    rows = (
        db_session.execute(select(RawTranscript).where(RawTranscript.recording_id == recording_id))
        .scalars()
        .all()
    )
    for row in rows:
        sealed.destroy_record(db_session=db_session, key_id=row.key_id)
        db_session.delete(row)
    return len(rows)


def delete_versions(*, db_session: Session, sealed: SealedStore, recording_ids: Sequence[str]) -> int:
    """A reviewer's corrections hold the unredacted text too: they go with the raw transcript (crypto-shredded)."""
    n = 0
    ids = list(recording_ids)
    for i in range(0, len(ids), 500):
        rows = db_session.execute(
            select(TranscriptVersion.id, TranscriptVersion.key_id).where(
                TranscriptVersion.recording_id.in_(ids[i : i + 500])
            )
        ).all()
        if not rows:
            continue
        db_session.execute(
            delete(TranscriptVersion)
            .where(TranscriptVersion.id.in_([r[0] for r in rows]))
            .execution_options(synchronize_session=False)
        )
        sealed.destroy_records(db_session=db_session, key_ids=[r[1] for r in rows])
        n += len(rows)
    return n


def lock_raw_due(
    *, db_session: Session, created_before: datetime, approved: Select[tuple[str]], limit: int, lock: bool = True
) -> list[tuple[str, str, str]]:
    """(recording id, key id, reason) of raw transcripts past their retention: approved long enough ago, or too
    old in any case."""
    by_approval = RawTranscript.recording_id.in_(approved)
    query = (
        select(RawTranscript.recording_id, RawTranscript.key_id, by_approval.label("by_approval"))
        .where(or_(by_approval, RawTranscript.created_at <= created_before))
        .order_by(RawTranscript.created_at, RawTranscript.id)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True, of=RawTranscript)
    return [
        (rid, key_id, "approved" if approved_flag else "max_age")
        for rid, key_id, approved_flag in db_session.execute(query).all()
    ]


def delete_raw(*, db_session: Session, sealed: SealedStore, due: Sequence[tuple[str, str, str]]) -> int:
    """Crypto-shred raw transcripts past retention; one audit event each."""
    if not due:
        return 0
    ids = [rid for rid, _, _ in due]
    delete_versions(db_session=db_session, sealed=sealed, recording_ids=ids)
    for i in range(0, len(ids), 500):
        db_session.execute(
            delete(RawTranscript)
            .where(RawTranscript.recording_id.in_(ids[i : i + 500]))
            .execution_options(synchronize_session=False)
        )
    sealed.destroy_records(db_session=db_session, key_ids=[key_id for _, key_id, _ in due])
    audit.append(
        db_session=db_session,
        entries=[
            audit.Entry(action="transcript.delete_raw", object_type="recording", object_id=rid,
                        details={"reason": reason})
            for rid, _, reason in due
        ],
    )
    return len(due)
