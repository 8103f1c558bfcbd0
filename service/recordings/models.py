from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, UTCDateTime


class Cohort(enum.StrEnum):
    police = "police"
    victim = "victim"
    other = "other"


class JobState(enum.StrEnum):
    uploaded = "uploaded"
    queued = "queued"
    transcribing = "transcribing"
    diarising = "diarising"
    redacting = "redacting"
    needs_review = "needs_review"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


RUNNING_STATES = (JobState.transcribing, JobState.diarising, JobState.redacting)
FINAL_STATES = (JobState.completed, JobState.failed, JobState.cancelled)


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    participant_code: Mapped[str] = mapped_column(String(32), index=True)
    # Pseudonyms are consistent within a study: "[Person 3]" is one person across its transcripts.
    study: Mapped[str] = mapped_column(String(64), default="default", server_default="default", index=True)
    cohort: Mapped[str] = mapped_column(String(16))
    interview_date: Mapped[date] = mapped_column(Date)
    withdrawal_deadline: Mapped[date] = mapped_column(Date)
    container: Mapped[str] = mapped_column(String(32))
    duration_s: Mapped[float] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    num_speakers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_speakers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_speakers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    blob_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    audio_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when the "audio will be deleted soon" event was written, so it is written once.
    deletion_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    raw_transcript_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    audio_done_s: Mapped[float] = mapped_column(Float, default=0.0)
    audio_total_s: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Content-free by construction: set only from fixed messages, never from exception text.
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RecordingAttachment(Base):
    """Side files uploaded with a recording (a Teams transcript). Sealed under the recording's own
    data key, so they are crypto-shredded together with the audio."""

    __tablename__ = "recording_attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
