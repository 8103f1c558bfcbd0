from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, UTCDateTime


class RawTranscript(Base):
    """The unredacted transcript: identifying, so only its ciphertext is stored (own data key)."""

    __tablename__ = "raw_transcripts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Unique: a retried job overwrites, never duplicates.
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), unique=True, index=True
    )
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    segment_count: Mapped[int] = mapped_column(Integer)
    word_count: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TranscriptVersion(Base):
    """One reviewer edit of a transcript: the whole corrected transcript after it and the span positions before it
    (what an undo restores), sealed under its own data key like the raw transcript. Only the counts are in the
    clear. Kept until approval squashes them into one `base` version (which nothing undoes); they go with the raw
    transcript."""

    __tablename__ = "transcript_versions"
    __table_args__ = (UniqueConstraint("recording_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    base: Mapped[bool] = mapped_column(Boolean, default=False)
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
