"""A reviewer's corrections, kept as sealed versions until approval.

Each edit seals the whole corrected transcript after it, with the redaction spans' positions as they were before it
(what an undo puts back), under a fresh data key, bound to its recording and number. The raw transcript stays as the
recogniser wrote it; the newest version is the working text the review, the player and approval read. Approval
squashes the history into one `base` version (nothing undoes past an approval); the versions are crypto-shredded with
the raw transcript. Never logged, never in the clear: only the action and who did it are.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.clock import utcnow
from service.core.sealed import SealedStore, record_context
from service.transcripts.models import RawTranscript, TranscriptVersion
from service.transcripts.service import TranscriptNotReady, load_raw

# Undo depth: older versions are squashed into a base, so a long review does not keep hundreds of copies.
MAX_VERSIONS = 50


class NothingToUndo(Exception):
    pass


def _context(recording_id: str, number: int) -> bytes:
    return record_context("transcript-version", f"{recording_id}/{number}")


def _top(db_session: Session, recording_id: str) -> TranscriptVersion | None:
    return db_session.execute(
        select(TranscriptVersion)
        .where(TranscriptVersion.recording_id == recording_id)
        .order_by(TranscriptVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def _open(db_session: Session, sealed: SealedStore, row: TranscriptVersion) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        sealed.open_record(db_session=db_session, key_id=row.key_id, ciphertext=row.ciphertext,
                           context=_context(row.recording_id, row.number))
    )
    return data


def load_working(
    *, db_session: Session, sealed: SealedStore, recording_id: str, actor_id: int | None, audited: bool = True,
    lock: bool = False,
) -> dict[str, Any]:
    """The transcript as corrected so far (the raw one when nobody edited it). Raises `TranscriptNotReady` when
    there is no raw transcript: the versions never outlive it. `lock`: for an edit, so two reviewers' edits of one
    transcript apply one after the other, each to the other's result (PostgreSQL; SQLite serialises writers)."""
    if lock:
        db_session.execute(
            select(RawTranscript.id).where(RawTranscript.recording_id == recording_id).with_for_update()
        ).all()
    raw = load_raw(db_session=db_session, sealed=sealed, recording_id=recording_id, actor_id=actor_id,
                   audited=audited)
    row = _top(db_session, recording_id)
    if row is None:
        return raw
    transcript: dict[str, Any] = _open(db_session, sealed, row)["transcript"]
    return transcript


def history(*, db_session: Session, recording_id: str) -> dict[str, Any]:
    """Counts only: how many edits, and whether the last one can be undone."""
    rows = db_session.execute(
        select(TranscriptVersion.number, TranscriptVersion.action, TranscriptVersion.base)
        .where(TranscriptVersion.recording_id == recording_id)
        .order_by(TranscriptVersion.number)
    ).all()
    edits = [r for r in rows if not r.base]
    return {"edits": len(edits), "undo": edits[-1].action if edits else None}


def save(
    *,
    db_session: Session,
    sealed: SealedStore,
    recording_id: str,
    transcript: dict[str, Any],
    spans_before: list[dict[str, Any]],
    action: str,
    actor_id: int | None,
) -> int:
    """Seal a new version; returns its number."""
    number = (
        db_session.execute(
            select(func.max(TranscriptVersion.number)).where(TranscriptVersion.recording_id == recording_id)
        ).scalar_one()
        or 0
    ) + 1
    key_id, ciphertext = sealed.seal_record(
        db_session=db_session, purpose="transcript_version", context=_context(recording_id, number),
        value=json.dumps({"transcript": transcript, "spans_before": spans_before}).encode(),
    )
    db_session.add(TranscriptVersion(
        recording_id=recording_id, number=number, action=action, base=False, key_id=key_id, ciphertext=ciphertext,
        actor_id=actor_id, created_at=utcnow(),
    ))
    db_session.flush()
    _prune(db_session, sealed, recording_id, keep=MAX_VERSIONS)
    return number


def _prune(db_session: Session, sealed: SealedStore, recording_id: str, *, keep: int) -> None:
    """Keep the newest `keep` versions; the oldest kept one becomes the base nothing undoes."""
    rows = list(db_session.execute(
        select(TranscriptVersion)
        .where(TranscriptVersion.recording_id == recording_id)
        .order_by(TranscriptVersion.number.desc())
    ).scalars())
    if len(rows) <= keep:
        return
    for row in rows[keep:]:
        sealed.destroy_record(db_session=db_session, key_id=row.key_id)
        db_session.delete(row)
    rows[keep - 1].base = True
    db_session.flush()


def squash(*, db_session: Session, sealed: SealedStore, recording_id: str) -> None:
    """At approval: only the approved text stays (as the base a reopened review starts from)."""
    _prune(db_session, sealed, recording_id, keep=1)
    top = _top(db_session, recording_id)
    if top is not None:
        top.base = True
        db_session.flush()


def undo(*, db_session: Session, sealed: SealedStore, recording_id: str) -> tuple[str, list[dict[str, Any]]]:
    """Drop the newest version; returns its action and the spans as they were before it."""
    row = _top(db_session, recording_id)
    if row is None or row.base:
        raise NothingToUndo(recording_id)
    data = _open(db_session, sealed, row)
    sealed.destroy_record(db_session=db_session, key_id=row.key_id)
    db_session.delete(row)
    db_session.flush()
    return row.action, list(data["spans_before"])


__all__ = ["MAX_VERSIONS", "NothingToUndo", "TranscriptNotReady", "history", "load_working", "save", "squash", "undo"]
