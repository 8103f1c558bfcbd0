from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from service.speakers.models import SpeakerRole

SLOT_PATTERN = r"^S[1-9][0-9]?$"


class SpeakerRead(BaseModel):
    slot: str
    role: SpeakerRole
    label: str
    merged_into: str | None
    guessed: bool


class MergeRequest(BaseModel):
    source: str = Field(pattern=SLOT_PATTERN)
    target: str = Field(pattern=SLOT_PATTERN)


class SpeakersPatch(BaseModel):
    model_config = {"extra": "forbid"}

    roles: dict[str, SpeakerRole] = Field(default_factory=dict, description="slot -> role, e.g. {'S1': 'Interviewer'}")
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
