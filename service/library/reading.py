"""An anonymised transcript as the library reads it: numbered speaker turns (the TXT/DOCX turns: consecutive
segments of one speaker joined), each split into plain text and redaction tags. The reading page and the search
index both number turns here, so a hit's `#turn-N` is the turn the page shows as N."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


def role_of(label: str | None) -> str:
    """"Officer 2" -> "Officer" (role filters and colours are per role, not per numbered voice)."""
    return re.sub(r"\s+\d+$", "", label or "")


def speaker_of(segment: dict[str, Any]) -> str | None:
    # As transcripts.render groups turns for TXT and DOCX.
    return segment.get("speaker_label") or segment.get("speaker")


@dataclass(frozen=True)
class Piece:
    text: str
    tag: bool = False  # a redaction tag such as "[Person A]"


@dataclass
class Turn:
    n: int  # 1-based, the anchor `turn-N`
    speaker: str | None
    start: float
    end: float
    pieces: list[Piece] = field(default_factory=list)

    @property
    def role(self) -> str:
        return role_of(self.speaker)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces).strip()


def _pieces(segment: dict[str, Any]) -> list[Piece]:
    text: str = segment["text"]
    out, pos = [], 0
    for r in sorted(segment.get("redactions") or [], key=lambda r: r["start"]):
        start, end = int(r["start"]), int(r["end"])
        if start < pos or end > len(text):
            continue  # offsets that don't fit the text are shown as text rather than guessed
        if start > pos:
            out.append(Piece(text[pos:start]))
        out.append(Piece(text[start:end], tag=True))
        pos = end
    if pos < len(text):
        out.append(Piece(text[pos:]))
    return out


def turns(document: dict[str, Any]) -> list[Turn]:
    # Grouped as the exports group them (transcripts.render.reading_turns): the same turns, the same times.
    out: list[Turn] = []
    for seg in document["segments"]:
        who = speaker_of(seg)
        if not out or out[-1].speaker != who:
            out.append(Turn(n=len(out) + 1, speaker=who, start=float(seg["start"]), end=float(seg["end"])))
        turn = out[-1]
        turn.end = float(seg["end"])
        text: str = seg["text"]
        lead = len(text) - len(text.lstrip())
        pieces = _trim(_pieces(seg), lead, len(text.rstrip()))
        if turn.pieces and pieces:
            turn.pieces.append(Piece(" "))
        turn.pieces += pieces
    return out


def _trim(pieces: list[Piece], start: int, end: int) -> list[Piece]:
    """The pieces cut to [start, end) of their joined text (the segment without its surrounding spaces)."""
    out, pos = [], 0
    for p in pieces:
        a, b = max(pos, start), min(pos + len(p.text), end)
        if a < b:
            out.append(Piece(p.text[a - pos : b - pos], p.tag))
        pos += len(p.text)
    return out
