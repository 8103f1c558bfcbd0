"""The job table is the source of truth; queues only carry job ids. Leases make retries safe."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service.core.clock import utcnow
from service.recordings.models import FINAL_STATES, RUNNING_STATES, Job, JobState

_RUNNING = [s.value for s in RUNNING_STATES]


class LeaseLost(Exception):
    """Another worker owns the job now, or the job was cancelled or deleted."""


# What a failed job says to the people who see it (the API's `job.error`, the recordings page): plain words and what
# can be done, fixed text only. Never an exception's message, which could quote content; the worker log has the
# cause (a content-free traceback) for an admin. Each fits the 200 characters of `Job.error`.
AUDIO_GONE = "the audio was deleted before it was transcribed; upload it again to transcribe it"
UNDECODABLE = "the audio could not be decoded ({reason}); delete it and upload a file that plays"
DAMAGED = "the stored audio was damaged or altered (integrity check failed); delete it and upload it again"
NO_MODEL = "the speech recognition model could not be loaded; an admin can install it and then retry"
GAVE_UP = "processing failed after {attempts} attempts; it can be retried, and the worker log tells an admin why"
WORKER_LOST = (
    "processing stopped unexpectedly {attempts} times (the worker may have run out of memory); it can be retried"
)
RETRYING = "attempt {attempt} failed; trying again"


def create_job(*, db_session: Session, recording_id: str, audio_total_s: float) -> Job:
    now = utcnow()
    job = Job(
        id=uuid.uuid4().hex,
        recording_id=recording_id,
        state=JobState.queued.value,
        progress=0.0,
        audio_done_s=0.0,
        audio_total_s=audio_total_s,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    db_session.add(job)
    return job


def get_for_recording(*, db_session: Session, recording_id: str) -> Job | None:
    return (
        db_session.execute(
            select(Job).where(Job.recording_id == recording_id).order_by(Job.created_at.desc())
        )
        .scalars()
        .first()
    )


def mark_dispatched(*, db_session: Session, job_id: str) -> None:
    db_session.execute(update(Job).where(Job.id == job_id).values(dispatched_at=utcnow()))


def claim(
    *, db_session: Session, job_id: str, owner: str, lease_seconds: int, max_attempts: int
) -> Job | None:
    """Take the lease if the job is waiting or its holder died. One UPDATE: two workers can't both win."""
    now = utcnow()
    claimable = or_(
        Job.state.in_([JobState.queued.value, JobState.uploaded.value]),
        (Job.state.in_(_RUNNING)) & (Job.lease_expires_at < now),
    )
    result = db_session.execute(
        update(Job)
        .where(Job.id == job_id, claimable, Job.attempts < max_attempts)
        .values(
            state=JobState.transcribing.value,
            stage="decoding",
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            updated_at=now,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        exhausted = db_session.execute(
            update(Job)
            .where(Job.id == job_id, claimable, Job.attempts >= max_attempts)
            .values(
                state=JobState.failed.value,
                error=WORKER_LOST.format(attempts=max_attempts),
                finished_at=now,
                updated_at=now,
                lease_owner=None,
            )
            .execution_options(synchronize_session=False)
        )
        del exhausted
        return None
    job = db_session.get(Job, job_id, populate_existing=True)
    if job is not None and job.started_at is None:
        job.started_at = now
    return job


def _owned(job_id: str, owner: str):  # type: ignore[no-untyped-def]
    return (Job.id == job_id) & (Job.lease_owner == owner) & (Job.state.in_(_RUNNING))


def heartbeat(
    *,
    db_session: Session,
    job_id: str,
    owner: str,
    lease_seconds: int,
    state: JobState | None = None,
    stage: str | None = None,
    audio_done_s: float | None = None,
    progress: float | None = None,
) -> None:
    now = utcnow()
    values: dict[str, object] = {
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "updated_at": now,
    }
    if state is not None:
        values["state"] = state.value
    if stage is not None:
        values["stage"] = stage
    if audio_done_s is not None:
        values["audio_done_s"] = audio_done_s
    if progress is not None:
        values["progress"] = round(min(1.0, max(0.0, progress)), 4)
    result = db_session.execute(
        update(Job).where(_owned(job_id, owner)).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(job_id)


def finish(
    *, db_session: Session, job_id: str, owner: str, state: JobState, error: str | None = None
) -> None:
    now = utcnow()
    values: dict[str, object] = {
        "state": state.value,
        "stage": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
        "error": error,
    }
    if state in FINAL_STATES:
        values["finished_at"] = now
    if state in (JobState.completed, JobState.needs_review):
        values["progress"] = 1.0
    result = db_session.execute(
        update(Job).where(_owned(job_id, owner)).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(job_id)


def release_for_retry(*, db_session: Session, job_id: str, owner: str, error: str) -> None:
    finish(db_session=db_session, job_id=job_id, owner=owner, state=JobState.queued, error=error)


def mark_approved(*, db_session: Session, job_id: str) -> bool:
    """A job waiting for review is done once its transcript is approved. Guarded, so a job cancelled meanwhile
    stays cancelled."""
    now = utcnow()
    result = db_session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.needs_review.value)
        .values(state=JobState.completed.value, finished_at=now, updated_at=now, progress=1.0)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def reopen_review(*, db_session: Session, job_id: str) -> bool:
    """An admin reopened an approved review: the job waits for review again (guarded like `mark_approved`)."""
    now = utcnow()
    result = db_session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.completed.value)
        .values(state=JobState.needs_review.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def reset_for_retry(*, db_session: Session, job_id: str) -> bool:
    """A failed job back in the queue with its attempts reset, as if new. One guarded UPDATE: of two retries at
    once, one wins and the other is told the job is no longer failed."""
    now = utcnow()
    result = db_session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.failed.value)
        .values(
            state=JobState.queued.value,
            stage=None,
            progress=0.0,
            audio_done_s=0.0,
            attempts=0,
            error=None,
            lease_owner=None,
            lease_expires_at=None,
            started_at=None,
            finished_at=None,
            dispatched_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def cancel(*, db_session: Session, recording_id: str) -> int:
    now = utcnow()
    result = db_session.execute(
        update(Job)
        .where(Job.recording_id == recording_id, Job.state.not_in([s.value for s in FINAL_STATES]))
        .values(state=JobState.cancelled.value, lease_owner=None, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def stale_jobs(*, db_session: Session, redispatch_after_s: int) -> list[str]:
    """Jobs to dispatch again: leases that lapsed (worker died) and queued jobs no worker picked up."""
    now = utcnow()
    lapsed = (
        db_session.execute(select(Job.id).where(Job.state.in_(_RUNNING), Job.lease_expires_at < now))
        .scalars()
        .all()
    )
    if lapsed:
        db_session.execute(
            update(Job)
            .where(Job.id.in_(lapsed), Job.state.in_(_RUNNING), Job.lease_expires_at < now)
            .values(state=JobState.queued.value, lease_owner=None, stage=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    forgotten = (
        db_session.execute(
            select(Job.id).where(
                Job.state == JobState.queued.value,
                or_(
                    Job.dispatched_at.is_(None),
                    Job.dispatched_at < now - timedelta(seconds=redispatch_after_s),
                ),
            )
        )
        .scalars()
        .all()
    )
    ids = sorted(set(lapsed) | set(forgotten))
    if ids:
        db_session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def unfinished_jobs(*, db_session: Session) -> list[str]:
    return list(db_session.execute(select(Job.id).where(Job.state == JobState.queued.value)).scalars().all())
