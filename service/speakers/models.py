from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, UTCDateTime


class SpeakerRole(enum.StrEnum):
    interviewer = "Interviewer"
    participant = "Participant"
    other = "Other"


class SpeakerSlot(Base):
    """A diarised voice (S1, S2, ...) and the role it is shown as. Never a name."""

    __tablename__ = "speaker_slots"
    __table_args__ = (UniqueConstraint("recording_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16))
    # Set when a reviewer decided two slots are one person: this slot renders as that one.
    merged_into: Mapped[str | None] = mapped_column(String(8), nullable=True)
    guessed: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
