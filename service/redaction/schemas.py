from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from service.core.ints import Position

Label = Literal["PERSON", "OFFICER", "FORCE", "LOCATION", "ORGANISATION", "DATE", "TIME", "PHONE", "EMAIL", "URL",
                "HANDLE", "POSTCODE", "ID", "VEHICLE", "AGE", "OPERATION", "ADDRESS", "GROUP"]
LABELS: tuple[str, ...] = get_args(Label)


class SpanDecision(BaseModel):
    model_config = {"extra": "forbid"}

    action: Literal["accept", "reject"]
    label: Label | None = None


class SpanAdd(BaseModel):
    model_config = {"extra": "forbid"}

    segment: Position
    start: Position
    end: Annotated[Position, Field(gt=0)]
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
