from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

Label = Literal["PERSON", "OFFICER", "FORCE", "LOCATION", "ORGANISATION", "DATE", "TIME", "PHONE", "EMAIL", "URL",
                "HANDLE", "POSTCODE", "ID", "VEHICLE", "AGE", "OPERATION", "ADDRESS", "GROUP"]
LABELS: tuple[str, ...] = get_args(Label)


class SpanDecision(BaseModel):
    model_config = {"extra": "forbid"}

    action: Literal["accept", "reject"]
    label: Label | None = None


class SpanAdd(BaseModel):
    model_config = {"extra": "forbid"}

    segment: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    label: Label


class SpanRead(BaseModel):
    id: int
    segment: int
    start: int
    end: int
    label: str
    status: str
    origin: str
    uncertain: bool
    confidence: float
