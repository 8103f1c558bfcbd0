from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field, model_validator

from service.recordings.models import Cohort

WITHDRAWAL_WINDOW = timedelta(days=28)


class RecordingMeta(BaseModel):
    model_config = {"extra": "forbid"}

    # A study code such as P07, never a name: the pattern admits no spaces.
    participant_code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    cohort: Cohort
    interview_date: date
    withdrawal_deadline: date | None = None
    # Interviews usually have 2 voices, sometimes 3; hints make diarisation more reliable.
    num_speakers: int | None = Field(default=None, ge=1, le=10)
    min_speakers: int | None = Field(default=None, ge=1, le=10)
    max_speakers: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _deadline(self) -> RecordingMeta:
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError("min_speakers is greater than max_speakers")
        if self.num_speakers and (self.min_speakers or self.max_speakers):
            raise ValueError("give num_speakers or min_speakers/max_speakers, not both")
        if self.withdrawal_deadline is None:
            self.withdrawal_deadline = self.interview_date + WITHDRAWAL_WINDOW
        elif self.withdrawal_deadline < self.interview_date:
            raise ValueError("withdrawal_deadline is before interview_date")
        return self


class JobRead(BaseModel):
    id: str
    state: str
    stage: str | None
    progress: float
    audio_done_s: float
    audio_total_s: float
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    model_config = {"from_attributes": True}


class RecordingRead(BaseModel):
    id: str
    participant_code: str
    cohort: Cohort
    interview_date: date
    withdrawal_deadline: date
    container: str
    duration_s: float
    size_bytes: int
    sha256: str
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    created_at: datetime
    audio_deleted_at: datetime | None
    raw_transcript_deleted_at: datetime | None = None
    status: str
    job: JobRead | None

    model_config = {"from_attributes": True}


class RecordingAccepted(BaseModel):
    id: str
    status: str
    status_url: str


class RecordingPage(BaseModel):
    items: list[RecordingRead]
    total: int
    page: int
    per_page: int
