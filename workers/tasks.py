"""Queue glue: lease a job, stream the sealed audio through the pipeline, persist, heartbeat, retry.

The same functions run in the embedded worker thread and in Celery workers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from pipeline.decode import DecodeError
from pipeline.run import SpeakerHints, run_pipeline
from pipeline.teams import parse_teams_transcript
from pipeline.weights import ModelUnavailable
from service.audit import service as audit
from service.core.crypto import IntegrityError
from service.core.db import session_scope
from service.core.keystore import DataKeyNotFound
from service.core.queue import PROCESS_RECORDING
from service.core.runtime import Runtime, build_runtime
from service.core.settings import get_settings
from service.core.storage import BlobNotFound
from service.core.tracebacks import content_free
from service.recordings import jobs
from service.recordings import service as recordings
from service.recordings.models import JobState, Recording
from service.redaction import service as redaction
from service.speakers import service as speakers
from service.transcripts import service as transcripts
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


def _fail(runtime: Runtime, job_id: str, owner: str, message: str) -> str:
    try:
        with session_scope(runtime.sessions) as s:
            jobs.finish(db_session=s, job_id=job_id, owner=owner, state=JobState.failed, error=message)
            audit.record(
                db_session=s,
                action="job.failed",
                object_type="job",
                object_id=job_id,
                details={"error": message},
            )
    except jobs.LeaseLost:
        return "lease_lost"
    return "failed"


def process_recording(job_id: str, *, runtime: Runtime | None = None) -> str:
    rt = runtime or get_runtime()
    settings = rt.settings
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with session_scope(rt.sessions) as s:
        job = jobs.claim(
            db_session=s,
            job_id=job_id,
            owner=owner,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
        if job is None:
            return "skipped"
        recording = s.get(Recording, job.recording_id)
        if recording is None or recording.blob_id is None or recording.key_id is None:
            blob_id = key_id = None
        else:
            blob_id, key_id = recording.blob_id, recording.key_id
        recording_id = job.recording_id
        attempt = job.attempts
        hints = speaker_hints(settings, recording) if recording is not None else SpeakerHints()
        expected_s = recording.duration_s if recording is not None else None
        teams_text = (
            recordings.load_teams_transcript(runtime=rt, db_session=s, recording=recording) if recording else None
        )
        known_names = recordings.load_known_names(runtime=rt, db_session=s, recording=recording) if recording else []
    if blob_id is None or key_id is None:
        return _fail(rt, job_id, owner, jobs.AUDIO_GONE)
    log.info("job %s: attempt %d started by %s", job_id, attempt, owner)
    beat = _Heartbeat(rt, job_id, owner)
    beat.start()
    try:
        options, diarisation, overlap = pipeline_options(settings)
        options = with_name_hints(settings, options, known_names=known_names, teams_text=teams_text)
        with session_scope(rt.sessions) as s:
            reader, source = rt.sealed.open_reader(db_session=s, blob_id=blob_id, key_id=key_id, object_id=recording_id)
        try:
            transcript = run_pipeline(
                reader,
                asr=options,
                diarisation=diarisation,
                hints=hints,
                on_stage=beat.stage,
                on_progress=beat.progress,
                expected_s=expected_s,
                reference_cues=parse_teams_transcript(teams_text) if teams_text else None,
                known_names=known_names,
                redact=True,
                overlap=overlap,
            )
        finally:
            reader.close()
            source.close()
        beat.stop()
        if beat.lost:
            raise jobs.LeaseLost(job_id)
        data = transcript.to_dict()
        with session_scope(rt.sessions) as s:
            # Still ours? Then save and finish in one transaction: a retry can never leave two outputs.
            jobs.heartbeat(
                db_session=s,
                job_id=job_id,
                owner=owner,
                lease_seconds=settings.lease_seconds,
                audio_done_s=transcript.duration,
            )
            transcripts.save_raw(db_session=s, master=rt.sealed.master, recording_id=recording_id, transcript=data)
            speakers.init_from_transcript(db_session=s, recording_id=recording_id, speakers=data["speakers"])
            redaction.replace_detected(db_session=s, recording_id=recording_id, detected=transcript.detected or [])
            jobs.finish(db_session=s, job_id=job_id, owner=owner, state=JobState.needs_review)
            audit.record(
                db_session=s,
                action="transcript.create",
                object_type="recording",
                object_id=recording_id,
                details={
                    "segments": len(data["segments"]),
                    "speakers": len(data["speakers"]),
                    "model": settings.whisper_model,
                    # Provenance: which worker process (host:pid:attempt) produced it.
                    "worker": owner,
                },
            )
        if settings.auto_approve and not any(sp.get("uncertain") for seg in transcript.detected or [] for sp in seg):
            # Admin opt-in: with nothing uncertain, approval needs no human.
            with session_scope(rt.sessions) as s:
                rec = s.get(Recording, recording_id)
                if rec is not None:
                    redaction.approve(db_session=s, master=rt.sealed.master, recording=rec, actor_id=None)
            log.info("job %s: transcribed and auto-approved", job_id)
            return "completed"
        log.info("job %s: transcribed, waiting for review", job_id)
        return "needs_review"
    except jobs.LeaseLost:
        log.warning("job %s: lease lost (cancelled, deleted or taken over); output discarded", job_id)
        return "lease_lost"
    except DecodeError as exc:
        # DecodeError messages are fixed strings, never content.
        return _fail(rt, job_id, owner, jobs.UNDECODABLE.format(reason=exc))
    except IntegrityError:
        return _fail(rt, job_id, owner, jobs.DAMAGED)
    except (DataKeyNotFound, BlobNotFound):
        return _fail(rt, job_id, owner, jobs.AUDIO_GONE)
    except ModelUnavailable as exc:
        # Its messages are ours and name a package or a file, never content: the admin needs them to fix it.
        log.error("job %s: the model could not be loaded (%s): %s", job_id, exc, content_free(exc))
        return _fail(rt, job_id, owner, jobs.NO_MODEL)
    except Exception as exc:
        # Where it failed, never what it said: exception text from deep in a library could quote content.
        log.error("job %s: attempt %d of %d failed: %s", job_id, attempt, settings.max_attempts, content_free(exc))
        if attempt >= settings.max_attempts:
            return _fail(rt, job_id, owner, jobs.GAVE_UP.format(attempts=attempt))
        try:
            with session_scope(rt.sessions) as s:
                jobs.release_for_retry(
                    db_session=s, job_id=job_id, owner=owner, error=jobs.RETRYING.format(attempt=attempt)
                )
        except jobs.LeaseLost:
            return "lease_lost"
        if rt.queue is not None:
            rt.queue.enqueue(PROCESS_RECORDING, job_id)
        return "retry"
    finally:
        beat.stop()
