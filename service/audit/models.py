from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, UTCDateTime


class AuditEvent(Base):
    """Append-only and hash-chained: each row commits to the one before it.

    From chain version 2 the hash covers `object_ref` rather than the object id itself, so the one edit the chain
    tolerates is blanking `object_id` - what a participant's withdrawal does to the ids of their recordings.
    Version 3: `object_ref` is HMAC-SHA256 of the id under a random per-event `object_salt`; a withdrawal blanks the
    id and the salt, and what stays can't be tied to the id, nor two events to each other. (Version 2's ref was
    the plain SHA-256 of the id: anyone holding the id could still find a withdrawn recording's events by it.)
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    object_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Random, not secret (the id it salts is in the same row): it lets anyone check the id against the ref.
    object_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    chain_version: Mapped[int] = mapped_column(Integer, default=3, server_default="1")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row; locking it serialises appends so the chain never forks under concurrency."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
