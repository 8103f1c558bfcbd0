"""What a finished transcription does to the house, each in one transaction.

The worker (`workers/tasks.py`) holds the job's lease and runs the pipeline; it hands the outcome to one of these,
which persist it through the domains' services and write the audit events. Nothing here knows about queues.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.types import Transcript
from service.audit import service as audit
from service.core.sealed import SealedStore
from service.recordings import jobs
from service.recordings.models import JobState, Recording
from service.redaction import service as redaction
from service.speakers import service as speakers
from service.speakers import voices
from service.transcripts import service as transcripts


def save_transcription(
    *,
    db_session: Session,
    sealed: SealedStore,
    job_id: str,
    owner: str,
    lease_seconds: int,
    recording_id: str,
    transcript: Transcript,
    model: str,
    auto_approve: bool,
    voice_threshold: float | None = None,
) -> JobState:
    """The raw transcript (sealed), its speaker slots and detected spans, the job waiting for review (or approved,
    when the admin opted in and nothing is uncertain), and the `transcript.create` event: all or nothing, and only
    while `owner` still holds the lease, so a retry can never leave two outputs. Raises `jobs.LeaseLost`.

    With `voice_threshold` set, a slot whose voice matches one of the study's voice profiles is labelled Interviewer
    (speakers.voices); None leaves roles to the heuristic."""
    data = transcript.to_dict()
    detected = transcript.detected or []
    jobs.heartbeat(
        db_session=db_session, job_id=job_id, owner=owner, lease_seconds=lease_seconds, audio_done_s=transcript.duration
    )
    transcripts.save_raw(db_session=db_session, sealed=sealed, recording_id=recording_id, transcript=data)
    speakers.init_from_transcript(db_session=db_session, recording_id=recording_id, speakers=data["speakers"])
    recording = db_session.get(Recording, recording_id)
    matched: dict[str, float] = {}
    if recording is not None and transcript.voices:
        voices.save_slot_voices(db_session=db_session, sealed=sealed, recording=recording, voices=transcript.voices)
        if voice_threshold is not None:
            matched = voices.label_by_voice(db_session=db_session, sealed=sealed, recording=recording,
                                            voices=transcript.voices, threshold=voice_threshold)
    redaction.replace_detected(db_session=db_session, recording_id=recording_id, detected=detected)
    jobs.finish(db_session=db_session, job_id=job_id, owner=owner, state=JobState.needs_review)
    audit.record(
        db_session=db_session,
        action="transcript.create",
        object_type="recording",
        object_id=recording_id,
        details={
            "segments": len(data["segments"]),
            "speakers": len(data["speakers"]),
            "voice_matches": len(matched),
            "model": model,
            # Provenance: which worker process (host:pid:attempt) produced it.
            "worker": owner,
        },
    )
    if not auto_approve or any(span.get("uncertain") for spans in detected for span in spans):
        return JobState.needs_review
    # Admin opt-in: with nothing uncertain, approval needs no human.
    if recording is not None:
        redaction.approve(db_session=db_session, sealed=sealed, recording=recording, actor_id=None)
    return JobState.completed


def fail_transcription(*, db_session: Session, job_id: str, owner: str, error: str) -> None:
    """The job failed for good (`error` is one of the fixed texts in `jobs`, never an exception's message).
    Raises `jobs.LeaseLost` when `owner` no longer holds it."""
    jobs.finish(db_session=db_session, job_id=job_id, owner=owner, state=JobState.failed, error=error)
    audit.record(
        db_session=db_session, action="job.failed", object_type="job", object_id=job_id, details={"error": error}
    )
