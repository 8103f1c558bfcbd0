"""Queue glue: lease a job, stream the sealed audio through the pipeline, heartbeat, hand the result to
`service/recordings/flows.py` (which persists it and writes the audit events), retry.

The same functions run in the embedded worker thread and in Celery workers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass

from pipeline.decode import DecodeError
from pipeline.run import SpeakerHints, run_pipeline
from pipeline.teams import parse_teams_transcript
from pipeline.types import Transcript
from pipeline.weights import ModelUnavailable
from service.core.crypto import IntegrityError
from service.core.db import session_scope
from service.core.keystore import DataKeyNotFound
from service.core.queue import PROCESS_RECORDING
from service.core.runtime import Runtime, build_runtime
from service.core.settings import get_settings
from service.core.storage import BlobNotFound
from service.core.tracebacks import content_free
from service.recordings import flows, jobs
from service.recordings import service as recordings
from service.recordings.models import JobState, Recording
from workers.options import pipeline_options, speaker_hints, with_name_hints

log = logging.getLogger("anonscribe.worker")

_runtime: Runtime | None = None
_runtime_lock = threading.Lock()
PROGRESS_INTERVAL_S = 2.0


def get_runtime() -> Runtime:
    """The worker process's runtime, built on first use (Celery imports this module before forking)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            settings = get_settings()
            _runtime = build_runtime(settings)
            if settings.resolved_queue == "celery":
                from service.core.queue import CeleryQueue

                _runtime.queue = CeleryQueue(
                    settings.broker_url or "", visibility_timeout_s=settings.broker_visibility_timeout_s
                )
        return _runtime


# Share of the job's progress bar each stage fills.
STAGE_SPAN = {
    "decoding": (0.0, 0.02),
    "transcribing": (0.02, 0.55),
    "diarising": (0.55, 0.96),
    "aligning": (0.96, 0.97),
    "redacting": (0.97, 1.0),
}
STAGE_STATE = {
    "transcribing": JobState.transcribing,
    "diarising": JobState.diarising,
    "redacting": JobState.redacting,
}


class _Heartbeat:
    """Extends the lease and writes progress from a side thread, so a long model call never lets it lapse."""

    def __init__(self, runtime: Runtime, job_id: str, owner: str) -> None:
        self._rt = runtime
        self._job_id = job_id
        self._owner = owner
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending: dict[str, object] = {}
        self.lost = False
        self._stage = "decoding"
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _beat(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        try:
            with session_scope(self._rt.sessions) as s:
                jobs.heartbeat(
                    db_session=s,
                    job_id=self._job_id,
                    owner=self._owner,
                    lease_seconds=self._rt.settings.lease_seconds,
                    **pending,  # type: ignore[arg-type]
                )
        except jobs.LeaseLost:
            self.lost = True
        except Exception:
            log.warning("heartbeat for job %s failed; will retry", self._job_id)

    def _loop(self) -> None:
        interval = min(PROGRESS_INTERVAL_S, float(self._rt.settings.heartbeat_seconds))
        while not self._stop.wait(interval):
            self._beat()
            if self.lost:
                return

    def stage(self, name: str) -> None:
        with self._lock:
            self._stage = name
            self._pending["stage"] = name
            if name in STAGE_STATE:
                self._pending["state"] = STAGE_STATE[name]
            self._pending["progress"] = STAGE_SPAN.get(name, (0.0, 0.0))[0]
        self._check()

    def progress(self, done_s: float, total_s: float) -> None:
        lo, hi = STAGE_SPAN.get(self._stage, (0.0, 1.0))
        with self._lock:
            self._pending["audio_done_s"] = round(done_s, 2)
            self._pending["progress"] = round(lo + (hi - lo) * (done_s / total_s if total_s else 1.0), 4)
        self._check()

    def _check(self) -> None:
        if self.lost:
            raise jobs.LeaseLost(self._job_id)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


@dataclass(frozen=True)
class _Work:
    """What the worker needs from the database to run one attempt, read while taking the lease."""

    recording_id: str
    attempt: int
    blob_id: str | None  # None: the audio is gone
    key_id: str | None
    hints: SpeakerHints
    expected_s: float | None
    teams_text: bytes | None
    known_names: list[str]


def _claim(rt: Runtime, job_id: str, owner: str) -> _Work | None:
    """Take the lease (None: another worker has it, or the job is finished or gone)."""
    with session_scope(rt.sessions) as s:
        job = jobs.claim(
            db_session=s,
            job_id=job_id,
            owner=owner,
            lease_seconds=rt.settings.lease_seconds,
            max_attempts=rt.settings.max_attempts,
        )
        if job is None:
            return None
        recording = s.get(Recording, job.recording_id)
        if recording is None:
            return _Work(job.recording_id, job.attempts, None, None, SpeakerHints(), None, None, [])
        return _Work(
            recording_id=job.recording_id,
            attempt=job.attempts,
            blob_id=recording.blob_id,
            key_id=recording.key_id,
            hints=speaker_hints(rt.settings, recording),
            expected_s=recording.duration_s,
            teams_text=recordings.load_teams_transcript(runtime=rt, db_session=s, recording=recording),
            known_names=recordings.load_known_names(runtime=rt, db_session=s, recording=recording),
        )


def _transcribe(rt: Runtime, work: _Work, beat: _Heartbeat) -> Transcript:
    """The pipeline over the audio, streamed from the decrypting reader (plaintext audio never touches disk)."""
    assert work.blob_id is not None and work.key_id is not None  # process_recording fails the job otherwise
    asr, diarisation, overlap = pipeline_options(rt.settings)
    asr = with_name_hints(rt.settings, asr, known_names=work.known_names, teams_text=work.teams_text)
    with session_scope(rt.sessions) as s:
        reader, source = rt.sealed.open_reader(
            db_session=s, blob_id=work.blob_id, key_id=work.key_id, object_id=work.recording_id
        )
    try:
        return run_pipeline(
            reader,
            asr=asr,
            diarisation=diarisation,
            hints=work.hints,
            on_stage=beat.stage,
            on_progress=beat.progress,
            expected_s=work.expected_s,
            reference_cues=parse_teams_transcript(work.teams_text) if work.teams_text else None,
            known_names=work.known_names,
            redact=True,
            overlap=overlap,
            respell_names=rt.settings.name_respelling,
        )
    finally:
        reader.close()
        source.close()


def _save(rt: Runtime, job_id: str, owner: str, work: _Work, transcript: Transcript) -> str:
    with session_scope(rt.sessions) as s:
        state = flows.save_transcription(
            db_session=s,
            sealed=rt.sealed,
            job_id=job_id,
            owner=owner,
            lease_seconds=rt.settings.lease_seconds,
            recording_id=work.recording_id,
            transcript=transcript,
            model=rt.settings.whisper_model,
            auto_approve=rt.settings.auto_approve,
            voice_threshold=rt.settings.voice_match_threshold if rt.settings.voice_profiles else None,
        )
    if state == JobState.completed:
        log.info("job %s: transcribed and auto-approved", job_id)
        return "completed"
    log.info("job %s: transcribed, waiting for review", job_id)
    return "needs_review"


def _fail(rt: Runtime, job_id: str, owner: str, message: str) -> str:
    try:
        with session_scope(rt.sessions) as s:
            flows.fail_transcription(db_session=s, job_id=job_id, owner=owner, error=message)
    except jobs.LeaseLost:
        return "lease_lost"
    return "failed"


def _retry(rt: Runtime, job_id: str, owner: str, attempt: int) -> str:
    try:
        with session_scope(rt.sessions) as s:
            error = jobs.RETRYING.format(attempt=attempt)
            jobs.release_for_retry(db_session=s, job_id=job_id, owner=owner, error=error)
    except jobs.LeaseLost:
        return "lease_lost"
    if rt.queue is not None:
        rt.queue.enqueue(PROCESS_RECORDING, job_id)
    return "retry"


def _final_error(job_id: str, exc: Exception) -> str | None:
    """The job's error for a failure no retry can mend; None for one that another attempt might not meet."""
    if isinstance(exc, DecodeError):
        return jobs.UNDECODABLE.format(reason=exc)  # DecodeError messages are fixed strings, never content.
    if isinstance(exc, IntegrityError):
        return jobs.DAMAGED
    if isinstance(exc, (DataKeyNotFound, BlobNotFound)):
        return jobs.AUDIO_GONE
    if isinstance(exc, ModelUnavailable):
        # Its messages are ours and name a package or a file, never content: the admin needs them to fix it.
        log.error("job %s: the model could not be loaded (%s): %s", job_id, exc, content_free(exc))
        return jobs.NO_MODEL
    return None


def _failed(rt: Runtime, job_id: str, owner: str, attempt: int, exc: Exception) -> str:
    if isinstance(exc, jobs.LeaseLost):
        log.warning("job %s: lease lost (cancelled, deleted or taken over); output discarded", job_id)
        return "lease_lost"
    final = _final_error(job_id, exc)
    if final is not None:
        return _fail(rt, job_id, owner, final)
    # Where it failed, never what it said: exception text from deep in a library could quote content.
    max_attempts = rt.settings.max_attempts
    log.error("job %s: attempt %d of %d failed: %s", job_id, attempt, max_attempts, content_free(exc))
    if attempt >= max_attempts:
        return _fail(rt, job_id, owner, jobs.GAVE_UP.format(attempts=attempt))
    return _retry(rt, job_id, owner, attempt)


def process_recording(job_id: str, *, runtime: Runtime | None = None) -> str:
    """One attempt at a job: "skipped", "needs_review", "completed", "retry", "failed" or "lease_lost"."""
    rt = runtime or get_runtime()
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    work = _claim(rt, job_id, owner)
    if work is None:
        return "skipped"
    if work.blob_id is None or work.key_id is None:
        return _fail(rt, job_id, owner, jobs.AUDIO_GONE)
    log.info("job %s: attempt %d started by %s", job_id, work.attempt, owner)
    beat = _Heartbeat(rt, job_id, owner)
    beat.start()
    try:
        transcript = _transcribe(rt, work, beat)
        beat.stop()
        if beat.lost:
            raise jobs.LeaseLost(job_id)
        return _save(rt, job_id, owner, work, transcript)
    except Exception as exc:
        return _failed(rt, job_id, owner, work.attempt, exc)
    finally:
        beat.stop()
