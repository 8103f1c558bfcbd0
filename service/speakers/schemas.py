from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

SLOT_PATTERN = r"^S[1-9][0-9]?$"


# A word of the recording's cohort vocabulary (service.speakers.roles); checked against the cohort in the route.
RoleWord = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class SpeakerRead(BaseModel):
    slot: str
    role: str = Field(description="the role in the recording's cohort's words, e.g. Interviewer, Officer, Other")
    label: str
    merged_into: str | None
    guessed: bool
    voice_match: float | None = Field(
        default=None, description="cosine score of the study voice profile that labelled this slot (None: heuristic)"
    )


class VoiceProfileRead(BaseModel):
    """An enrolled research-staff voice: ids and provenance only (the voiceprint never leaves the service)."""

    id: str
    study: str
    role: str
    source_recording_id: str | None
    source_slot: str | None
    created_at: datetime


class MergeRequest(BaseModel):
    source: str = Field(pattern=SLOT_PATTERN)
    target: str = Field(pattern=SLOT_PATTERN)


class SpeakersPatch(BaseModel):
    model_config = {"extra": "forbid"}

    roles: dict[str, RoleWord] = Field(
        default_factory=dict,
        description="slot -> role in the cohort's words: Interviewer, Other, and Officer (police), Victim (victim) "
                    "or Participant (other; accepted for every cohort)",
    )
    merge: list[MergeRequest] = Field(default_factory=list, description="render `source` as `target`")

    @model_validator(mode="after")
    def _slots(self) -> SpeakersPatch:
        import re

        for slot in self.roles:
            if not re.match(SLOT_PATTERN, slot):
                raise ValueError(f"invalid speaker slot {slot!r}")
        if not self.roles and not self.merge:
            raise ValueError("nothing to change")
        return self
