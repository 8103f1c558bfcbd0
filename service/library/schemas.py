from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

DocFormat = Literal["txt", "docx", "vtt", "srt", "json", "csv"]
CorpusFormat = Literal["zip", "qdpx"]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class LibraryItem(BaseModel):
    """What a researcher may know about an approved transcript: no participant code (unless an admin allows it),
    no interview date finer than the month, no names."""

    id: str
    document: str
    participant: str
    cohort: str
    interview_month: str
    study: str
    speakers: list[str]
    roles: list[str]
    duration_s: float
    participant_code: str | None = None
    revision: int = 1


class LibraryPage(BaseModel):
    items: list[LibraryItem]
    total: int
    page: int
    per_page: int


class SearchHit(BaseModel):
    """One matching speaker turn: which transcript, which turn (the reading page's `#turn-N`), the hit in context."""

    id: str
    document: str
    cohort: str
    interview_month: str
    turn: int
    speaker: str
    start: float
    end: float
    snippet: str
    highlights: list[tuple[int, int]]  # [start, end) of each matched term in `snippet`
    url: str  # the reading page at the turn


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int  # matching turns
    documents: int  # in how many transcripts
    page: int
    per_page: int
