"""The end of a recording's life, as the retention domain asks for it: purge a recording and everything derived
from it (withdrawal, an admin's delete), find and crypto-shred the audio that is due, warn before the maximum age,
and the participant's recordings and jobs a withdrawal takes. The recordings domain owns these tables, so the
queries stay here; `retention/` decides when.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.sealed import SealedStore
from service.recordings import jobs
from service.recordings.models import FINAL_STATES, Job, JobState, Recording, RecordingAttachment
from service.redaction import service as redaction
from service.speakers import service as speakers
from service.transcripts import service as transcripts

log = logging.getLogger("anonscribe.recordings")


def purge(*, db_session: Session, sealed: SealedStore, recordings: Sequence[Recording]) -> Counter[str]:
    """Delete recordings and everything derived from them; return what went, by kind.

    Each domain deletes its own rows and destroys its own data keys; the audio key and blob go last (keys in this
    transaction, the blob file before it commits: a failed commit leaves a keyed row without a blob, which the
    next attempt finishes).
    """
    counts: Counter[str] = Counter()
    for recording in recordings:
        rid = recording.id
        jobs.cancel(db_session=db_session, recording_id=rid)
        raw = transcripts.delete_for_recording(db_session=db_session, sealed=sealed, recording_id=rid)
        versions = transcripts.delete_versions(db_session=db_session, sealed=sealed, recording_ids=[rid])
        derived = redaction.delete_for_recording(db_session=db_session, sealed=sealed, recording_id=rid)
        slots = speakers.delete_for_recording(db_session=db_session, recording_id=rid)
        attachments = db_session.execute(delete(RecordingAttachment).where(RecordingAttachment.recording_id == rid))
        job_rows = db_session.execute(delete(Job).where(Job.recording_id == rid))
        has_blob = bool(recording.blob_id) and sealed.blobs.exists(recording.blob_id or "")
        keys, _ = sealed.shred_many(
            db_session=db_session,
            blob_ids=[recording.blob_id] if recording.blob_id else [],
            key_ids=[recording.key_id] if recording.key_id else [],
        )
        db_session.delete(recording)
        counts["recordings"] += 1
        counts["audio_files"] += int(has_blob)
        counts["raw_transcripts"] += raw
        counts["anonymised_transcripts"] += derived["anonymised_transcripts"]
        counts["redaction_spans"] += derived["redaction_spans"]
        counts.update(slots)
        counts["transcript_versions"] += versions
        counts["search_index_rows"] += derived["search_index_rows"]
        counts["attachments"] += attachments.rowcount  # type: ignore[attr-defined]
        counts["jobs"] += job_rows.rowcount  # type: ignore[attr-defined]
        # Slot voices and attachments are sealed under the audio key: counted in `keys`.
        counts["data_keys"] += keys + raw + versions + derived["anonymised_transcripts"]
    db_session.flush()
    return counts


def _skip_locked(query: Select[tuple[Recording]]) -> Select[tuple[Recording]]:
    # PostgreSQL: concurrent sweepers take disjoint rows instead of queueing on each other's. SQLite has no row
    # locks (the clause is dropped); its writers are serialised by the database lock.
    return query.with_for_update(skip_locked=True, of=Recording)


def lock_audio_due(
    *, db_session: Session, created_before: datetime, approved: Select[tuple[str]], limit: int, lock: bool = True
) -> list[tuple[Recording, str]]:
    """Recordings whose audio is due: approved long enough ago ("approved"), or too old in any case ("max_age")."""
    base = select(Recording).where(Recording.audio_deleted_at.is_(None)).order_by(Recording.created_at, Recording.id)
    q1 = base.where(Recording.id.in_(approved)).limit(limit)
    due = [(r, "approved") for r in db_session.execute(_skip_locked(q1) if lock else q1).scalars()]
    if len(due) < limit:
        q2 = base.where(Recording.created_at <= created_before)
        if due:
            q2 = q2.where(Recording.id.not_in([r.id for r, _ in due]))
        q2 = q2.limit(limit - len(due))
        due += [(r, "max_age") for r in db_session.execute(_skip_locked(q2) if lock else q2).scalars()]
    return due


def delete_audio(
    *, db_session: Session, sealed: SealedStore, due: Sequence[tuple[Recording, str]], actor_id: int | None = None
) -> int:
    """Crypto-shred the audio of these recordings (and what is sealed under its key), keep everything else."""
    if not due:
        return 0
    now = utcnow()
    ids = [r.id for r, _ in due]
    for chunk in _chunks(ids):
        # A job that still needs the audio can't run without it; a review (first, or reopened by an admin) is a
        # text step on the sealed transcript and goes on.
        db_session.execute(
            update(Job)
            .where(Job.recording_id.in_(chunk),
                   Job.state.not_in([s.value for s in (*FINAL_STATES, JobState.needs_review)]))
            .values(state=JobState.cancelled.value, lease_owner=None, finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # Teams transcripts and known names are sealed under the audio key: they go with it.
        db_session.execute(
            delete(RecordingAttachment)
            .where(RecordingAttachment.recording_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
        db_session.execute(
            update(Recording)
            .where(Recording.id.in_(chunk))
            .values(audio_deleted_at=now, blob_id=None, key_id=None)
            .execution_options(synchronize_session=False)
        )
    audit.append(
        db_session=db_session,
        entries=[
            audit.Entry(
                action="audio.delete", actor_id=actor_id, object_type="recording", object_id=r.id,
                details={"reason": reason},
            )
            for r, reason in due
        ],
    )
    sealed.shred_many(
        db_session=db_session,
        blob_ids=[r.blob_id for r, _ in due if r.blob_id],
        key_ids=[r.key_id for r, _ in due if r.key_id],
    )
    return len(due)


def lock_warning_due(
    *, db_session: Session, created_before: datetime, limit: int, lock: bool = True
) -> list[Recording]:
    query = (
        select(Recording)
        .where(
            Recording.audio_deleted_at.is_(None),
            Recording.deletion_warned_at.is_(None),
            Recording.created_at <= created_before,
        )
        .order_by(Recording.created_at, Recording.id)
        .limit(limit)
    )
    return list(db_session.execute(_skip_locked(query) if lock else query).scalars())


def warn_audio_deletion(*, db_session: Session, recordings: Sequence[Recording], max_age: timedelta) -> int:
    now = utcnow()
    for chunk in _chunks([r.id for r in recordings]):
        db_session.execute(
            update(Recording)
            .where(Recording.id.in_(chunk))
            .values(deletion_warned_at=now)
            .execution_options(synchronize_session=False)
        )
    audit.append(
        db_session=db_session,
        entries=[
            audit.Entry(
                action="audio.deletion_warning", object_type="recording", object_id=r.id,
                details={"due": (r.created_at + max_age).isoformat()},
            )
            for r in recordings
        ],
    )
    for r in recordings:
        log.warning("the audio of recording %s will be deleted at %s (maximum age)", r.id, r.created_at + max_age)
    return len(recordings)


def mark_raw_transcript_deleted(*, db_session: Session, recording_ids: Sequence[str]) -> None:
    for chunk in _chunks(list(recording_ids)):
        db_session.execute(
            update(Recording)
            .where(Recording.id.in_(chunk))
            .values(raw_transcript_deleted_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def audio_pending(*, db_session: Session) -> list[Recording]:
    """Recordings whose audio still exists (retention status)."""
    return list(
        db_session.execute(
            select(Recording).where(Recording.audio_deleted_at.is_(None)).order_by(Recording.created_at)
        ).scalars()
    )


def participant_recordings(
    *, db_session: Session, participant_code: str, study: str, lock: bool = False
) -> list[Recording]:
    query = (
        select(Recording)
        .where(Recording.participant_code == participant_code, Recording.study == study)
        .order_by(Recording.created_at, Recording.id)
    )
    if lock:
        query = query.with_for_update(of=Recording)
    return list(db_session.execute(query).scalars())


def job_ids(*, db_session: Session, recording_ids: Sequence[str]) -> list[str]:
    out: list[str] = []
    for chunk in _chunks(list(recording_ids)):
        out += db_session.execute(select(Job.id).where(Job.recording_id.in_(chunk))).scalars().all()
    return out


def cancel_jobs(*, db_session: Session, recording_ids: Sequence[str]) -> int:
    """Cancel unfinished jobs first: a worker holding a lease loses it at its next heartbeat, and its output
    (written only if it still holds the lease) is discarded."""
    return sum(jobs.cancel(db_session=db_session, recording_id=rid) for rid in recording_ids)


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
