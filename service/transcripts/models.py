from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String
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
