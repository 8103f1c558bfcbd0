from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
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
    # The slot's voiceprint (CAM++ over its clean speech), sealed under the recording's audio key: it goes when the
    # audio is crypto-shredded. Kept only so a reviewer can enrol a confirmed Interviewer from it.
    voice: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Cosine score against the study's voice profile that labelled this slot Interviewer (None: the heuristic did).
    voice_match: Mapped[float | None] = mapped_column(Float, nullable=True)


class VoiceProfile(Base):
    """A research staff member's enrolled voice for one study: a voiceprint sealed under its own data key, never a
    name, never a participant. Deleting it destroys the key and the row."""

    __tablename__ = "voice_profiles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    study: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Where it was enrolled from (the recording may be gone later; the profile does not depend on it).
    source_recording_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_slot: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
