"""Recording rules: upload into sealed storage, visibility by role, deletion by crypto-shredding."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.audit import service as audit
from service.auth.models import Role, User
from service.core.clock import utcnow
from service.core.db import session_scope
from service.core.errors import DomainError
from service.core.keystore import DataKeyNotFound
from service.core.queue import PROCESS_RECORDING
from service.core.runtime import Runtime
from service.core.sealed import SealedStore, record_context
from service.recordings import jobs
from service.recordings.lifecycle import purge
from service.recordings.media import probe
from service.recordings.models import Job, JobState, Recording, RecordingAttachment
from service.recordings.schemas import RecordingMeta
from service.recordings.upload import UploadError, stream_into

log = logging.getLogger("anonscribe.recordings")


class RecordingNotFound(DomainError):
    """Missing, or another uploader's: the same answer, so ids cannot be probed."""

    status = 404
    message = "no such recording"
    page_message = "There is no such recording."

    def __init__(self, recording_id: str = "") -> None:
        super().__init__()
        self.recording_id = recording_id


class Forbidden(DomainError):
    """The user's role may not do this at all; the message says what ("your role may not ...")."""

    status = 403

    def __init__(self, message: str = "your role may not see recordings") -> None:
        super().__init__(message=message)


class Conflict(DomainError):
    """The recording is not in a state that allows this; the message is a fixed sentence for the user."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class InvalidMetadata(DomainError):
    """The upload's form fields failed validation: the API answers FastAPI's list of problems."""

    status = 422
    message = "invalid metadata"

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__()
        self.errors = errors

    @property
    def detail(self) -> object:
        return self.errors


@dataclass
class Created:
    recording: Recording
    job: Job


async def create_recording(
    *,
    runtime: Runtime,
    uploader: User,
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    content_length: int | None,
    blank_is_absent: bool = False,
) -> Created:
    """Stream, seal, probe, then commit row + wrapped key + job + audit in one transaction.

    Any failure before the commit removes the blob; the data key was never persisted, so nothing of
    a rejected upload remains.
    """
    settings = runtime.settings
    if content_length is not None and content_length > settings.max_upload_bytes + 64 * 1024:
        raise UploadError(413, f"the upload is larger than the limit of {settings.max_upload_bytes} bytes")
    recording_id = uuid.uuid4().hex
    upload = runtime.sealed.begin(object_id=recording_id)
    try:
        parsed = await stream_into(
            chunks,
            content_type=content_type,
            content_length=content_length,
            sealed=upload,
            max_bytes=settings.max_upload_bytes,
            blank_is_absent=blank_is_absent,
            idle_timeout_s=settings.upload_idle_timeout_s,
        )
        try:
            meta = RecordingMeta.model_validate(parsed.fields)
        except ValidationError as exc:
            raise InvalidMetadata(
                [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
            ) from exc
        sealed_side: list[tuple[str, bytes]] = []
        if parsed.teams is not None:
            sealed_side.append(
                (
                    TEAMS_VTT,
                    upload.seal_small(_check_teams(parsed.teams), context=side_context(TEAMS_VTT, recording_id)),
                )
            )
        if parsed.known_names is not None:
            names = _check_names(parsed.known_names)
            if names:
                sealed_side.append(
                    (KNOWN_NAMES, upload.seal_small(names, context=side_context(KNOWN_NAMES, recording_id)))
                )
        # Off the event loop: on S3 this sends the last part and completes the multipart upload.
        blob = await run_in_threadpool(upload.finish)
        reader = upload.open_reader(object_id=recording_id)
        try:
            found = await run_in_threadpool(
                probe, reader, min_duration_s=settings.min_duration_s, max_duration_s=settings.max_duration_s
            )
        finally:
            reader.close()
        with session_scope(runtime.sessions) as db_session:
            upload.persist_key(db_session, purpose="audio")
            recording = Recording(
                id=recording_id,
                uploader_id=uploader.id,
                participant_code=meta.participant_code,
                study=settings.study,
                cohort=meta.cohort.value,
                interview_date=meta.interview_date,
                withdrawal_deadline=meta.withdrawal_deadline,
                num_speakers=meta.num_speakers,
                min_speakers=meta.min_speakers,
                max_speakers=meta.max_speakers,
                container=found.container,
                duration_s=found.duration_s,
                size_bytes=blob.stats.plaintext_size,
                sha256=blob.stats.plaintext_sha256,
                blob_id=blob.blob_id,
                key_id=blob.key_id,
                created_at=utcnow(),
            )
            db_session.add(recording)
            db_session.flush()
            for kind, ciphertext in sealed_side:
                db_session.add(
                    RecordingAttachment(
                        id=uuid.uuid4().hex,
                        recording_id=recording_id,
                        kind=kind,
                        ciphertext=ciphertext,
                        created_at=utcnow(),
                    )
                )
            job = jobs.create_job(db_session=db_session, recording_id=recording_id, audio_total_s=found.duration_s)
            audit.record(
                db_session=db_session,
                action="recording.upload",
                actor_id=uploader.id,
                object_type="recording",
                object_id=recording_id,
                details={"bytes": blob.stats.plaintext_size, "container": found.container},
            )
    except BaseException:
        upload.abort()
        raise
    dispatch(runtime=runtime, job_id=job.id)
    return Created(recording=recording, job=job)


TEAMS_VTT = "teams_vtt"
KNOWN_NAMES = "known_names"


def side_context(kind: str, recording_id: str) -> bytes:
    return record_context(kind, recording_id)


def _check_names(data: bytes) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadError(422, "form field 'known_names' is not UTF-8") from exc
    names = [n.strip() for n in re.split(r"[\n,;]", text) if n.strip()]
    if any(len(n) > 100 for n in names) or len(names) > 100:
        raise UploadError(422, "known_names: at most 100 names of up to 100 characters, comma or newline separated")
    return "\n".join(names).encode()


def _check_teams(data: bytes) -> bytes:
    from pipeline.teams import TeamsTranscriptError, parse_teams_transcript  # pure parser

    try:
        parse_teams_transcript(data)
    except TeamsTranscriptError as exc:
        raise UploadError(422, f"the Teams transcript is not usable: {exc}") from exc
    return data


def load_teams_transcript(*, runtime: Runtime, db_session: Session, recording: Recording) -> bytes | None:
    """Decrypted Teams transcript (.vtt or .docx bytes) for the worker. Gone once the audio key is shredded."""
    return _load_side(runtime=runtime, db_session=db_session, recording=recording, kind=TEAMS_VTT)


def load_known_names(*, runtime: Runtime, db_session: Session, recording: Recording) -> list[str]:
    return known_names(sealed=runtime.sealed, db_session=db_session, recording=recording)


def known_names(*, sealed: SealedStore, db_session: Session, recording: Recording) -> list[str]:
    """The names given at upload (for re-detecting an edited segment too). Gone with the audio key."""
    data = _open_side(sealed=sealed, db_session=db_session, recording=recording, kind=KNOWN_NAMES)
    return [n for n in (data or b"").decode("utf-8").split("\n") if n]


def _load_side(*, runtime: Runtime, db_session: Session, recording: Recording, kind: str) -> bytes | None:
    return _open_side(sealed=runtime.sealed, db_session=db_session, recording=recording, kind=kind)


def _open_side(*, sealed: SealedStore, db_session: Session, recording: Recording, kind: str) -> bytes | None:
    row = db_session.execute(
        select(RecordingAttachment).where(
            RecordingAttachment.recording_id == recording.id, RecordingAttachment.kind == kind
        )
    ).scalar_one_or_none()
    if row is None or recording.key_id is None:
        return None
    try:
        return sealed.open_record(
            db_session=db_session,
            key_id=recording.key_id,
            ciphertext=row.ciphertext,
            context=side_context(kind, recording.id),
        )
    except DataKeyNotFound:
        return None  # shredded with the audio


def dispatch(*, runtime: Runtime, job_id: str) -> None:
    """Best effort: a job the broker never got is still `queued` and the reaper sends it again."""
    if runtime.queue is None:
        return
    try:
        runtime.queue.enqueue(PROCESS_RECORDING, job_id)
    except Exception:
        log.warning("could not enqueue job %s now; the reaper will retry", job_id)
        return
    with session_scope(runtime.sessions) as db_session:
        jobs.mark_dispatched(db_session=db_session, job_id=job_id)


def _visible(user: User, recording: Recording) -> bool:
    if user.role in (Role.admin, Role.reviewer):
        return True
    if user.role == Role.uploader:
        return recording.uploader_id == user.id
    return False


def get_recording(*, db_session: Session, user: User, recording_id: str) -> Recording:
    if user.role not in (Role.admin, Role.reviewer, Role.uploader):
        # Before the lookup: a researcher must not learn which ids exist.
        raise Forbidden()
    recording = db_session.get(Recording, recording_id)
    if recording is None:
        raise RecordingNotFound(recording_id)
    if not _visible(user, recording):
        # Uploaders can't probe for others' ids: same answer as a missing recording.
        if user.role == Role.uploader:
            raise RecordingNotFound(recording_id)
        raise Forbidden()
    return recording


def list_recordings(*, db_session: Session, user: User, page: int, per_page: int) -> tuple[list[Recording], int]:
    if user.role not in (Role.admin, Role.reviewer, Role.uploader):
        raise Forbidden("your role may not list recordings")
    query = select(Recording)
    if user.role == Role.uploader:
        query = query.where(Recording.uploader_id == user.id)
    total = db_session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = (
        db_session.execute(
            query.order_by(Recording.created_at.desc(), Recording.id).offset((page - 1) * per_page).limit(per_page)
        )
        .scalars()
        .all()
    )
    return list(rows), int(total)


NOT_FAILED_RETRY = "only a recording whose processing failed can be retried"
NOT_FAILED_DELETE = "only a recording whose processing failed can be deleted by its uploader; an admin can delete any"
NO_AUDIO = "the audio of this recording was deleted, so it cannot be processed again; upload it again instead"


def _manageable(*, db_session: Session, user: User, recording_id: str) -> Recording:
    """Retry and delete: an uploader their own recordings (another's answers as a missing one), an admin any."""
    if user.role not in (Role.admin, Role.uploader):
        raise Forbidden("your role may not do this")
    return get_recording(db_session=db_session, user=user, recording_id=recording_id)


def _failed(db_session: Session, recording_id: str) -> Job | None:
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording_id)
    return job if job is not None and job.state == JobState.failed.value else None


def retry_recording(*, runtime: Runtime, actor: User, recording_id: str) -> Job:
    """Put a failed recording's job back in the queue with fresh attempts. Committed before it is dispatched, so a
    worker that picks it up at once finds it queued."""
    with session_scope(runtime.sessions) as db_session:
        recording = _manageable(db_session=db_session, user=actor, recording_id=recording_id)
        job = _failed(db_session, recording_id)
        if job is None:
            raise Conflict(NOT_FAILED_RETRY)
        if recording.blob_id is None or recording.key_id is None:
            raise Conflict(NO_AUDIO)
        attempts = job.attempts
        if not jobs.reset_for_retry(db_session=db_session, job_id=job.id):
            raise Conflict(NOT_FAILED_RETRY)  # another retry won the race
        audit.record(
            db_session=db_session,
            action="recording.retry",
            actor_id=actor.id,
            object_type="recording",
            object_id=recording_id,
            details={"job": job.id, "failed_attempts": attempts},
        )
        db_session.refresh(job)
        db_session.expunge(job)
    dispatch(runtime=runtime, job_id=job.id)
    return job


def delete_recording(*, runtime: Runtime, db_session: Session, actor: User, recording_id: str) -> None:
    """Uploaders may delete their own recordings whose processing failed; admins any recording. Everything goes
    the way a withdrawal takes it (`purge`): rows, sealed blob and data keys."""
    recording = _manageable(db_session=db_session, user=actor, recording_id=recording_id)
    failed = _failed(db_session, recording_id) is not None
    if actor.role != Role.admin and not failed:
        raise Conflict(NOT_FAILED_DELETE)
    purge(db_session=db_session, sealed=runtime.sealed, recordings=[recording])
    audit.record(
        db_session=db_session,
        action="recording.delete",
        actor_id=actor.id,
        object_type="recording",
        object_id=recording_id,
        details={"reason": "failed" if failed else "manual"},
    )
