from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, UTCDateTime


class SpanStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class SpanOrigin(enum.StrEnum):
    detected = "detected"
    added = "added"
    propagated = "propagated"


class RedactionSpan(Base):
    """Where an identifier is: segment and character range in the raw transcript. Never its text."""

    __tablename__ = "redaction_spans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    segment: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(16))
    layers: Mapped[list] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float)
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=SpanStatus.pending.value)
    origin: Mapped[str] = mapped_column(String(12), default=SpanOrigin.detected.value)
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PseudonymMap(Base):
    """Entity -> tag for a whole study, so [Person 3] is the same person in every transcript.

    The mapping itself identifies people: sealed under its own data key, readable by reviewers/admins only.
    """

    __tablename__ = "pseudonym_maps"

    study: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnonymisedTranscript(Base):
    """What the study keeps and researchers read: produced by a reviewer's approval."""

    __tablename__ = "anonymised_transcripts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), unique=True, index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    span_count: Mapped[int] = mapped_column(Integer)
    approved_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Content-free index for the researcher library, so listing never decrypts documents: the participant's
    # study pseudonym ("VIC-03", assigned at approval from the sealed study map) and the role labels shown.
    participant_ref: Mapped[str | None] = mapped_column(String(16), nullable=True)
    speaker_labels: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # 1 at the first approval; each re-approval after an admin reopened the review adds one (the library shows
    # "revised"). Content-free like the rest of the index.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
