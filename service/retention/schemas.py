from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class WithdrawalRequest(BaseModel):
    model_config = {"extra": "forbid"}

    # Needed only past the participant's deadline; sealed, never written to the audit log in clear.
    override_reason: str | None = Field(default=None, min_length=3, max_length=2000)


class ReceiptRead(BaseModel):
    receipt_id: str
    issued_at: datetime
    study: str
    participant_ref: str
    deleted: dict[str, int]
    nothing_left: bool
    past_deadline: bool
    override: bool
    audit_event_id: int
    audit_hash: str
    override_reason: str | None = None


class UpcomingDeletion(BaseModel):
    recording_id: str
    due: datetime
    reason: str
    warned: datetime | None


class RetentionStatus(BaseModel):
    now: datetime
    policy: dict[str, int]
    audio_kept: int
    overdue: int
    upcoming: list[UpcomingDeletion]
