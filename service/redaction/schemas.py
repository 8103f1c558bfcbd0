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


class SegmentEdit(BaseModel):
    """A segment's corrected text, its speaker slot (one of the recording's), or both."""

    model_config = {"extra": "forbid"}

    text: Annotated[str, Field(min_length=1, max_length=5000)] | None = None
    speaker: Annotated[str, Field(pattern=r"^S\d{1,3}$")] | None = None


class SegmentSplit(BaseModel):
    model_config = {"extra": "forbid"}

    # The first word of the second part (0-based word number in the segment).
    word: Annotated[Position, Field(ge=1)]


class SegmentMerge(BaseModel):
    model_config = {"extra": "forbid"}

    # Merged with the segment after it.
    segment: Position


class EditResult(BaseModel):
    """What an edit did, in counts (the text itself is read back with GET …/review)."""

    model_config = {"extra": "allow"}

    version: int
    segments: int
    spans_kept: int
    spans_dropped: int
    spans_added: int


class UndoResult(BaseModel):
    undone: str
    edits: int
    undo: str | None


class ReopenResult(BaseModel):
    id: str
    status: str
    revision: int | None
