"""A segment of the review page as the template draws it: cut at its redaction spans, and within them at its words,
each word carrying its time (click to play from it) and whether Whisper doubted it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.asr import LOW_WORD_PROB
from service.redaction.anonymise import word_ranges

# The pipeline's flags (pipeline/asr.py, and "overlap" from the review's words), as the page words them.
FLAG_WORDS = {
    "low_confidence": "low confidence",
    "repetition": "repetition",
    "possible_hallucination": "possible hallucination",
    "recovered": "recovered",
    "second_pass": "decoded twice",
    "overlap": "overlapping speech",
}


@dataclass
class Run:
    """A stretch of text: a word (timed) or what lies between words."""

    text: str
    start: float | None = None
    low: bool = False
    # Typed by a reviewer: its time is interpolated, not heard.
    edited: bool = False


@dataclass
class Piece:
    runs: list[Run]
    span: dict[str, Any] | None = None


@dataclass
class Segment:
    id: int
    start: float
    end: float
    speaker: str
    flags: list[str] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)

    @property
    def low_words(self) -> int:
        return sum(r.low for p in self.pieces for r in p.runs)

    @property
    def uncertain(self) -> bool:
        return bool(self.flags) or self.low_words > 0

    @property
    def flag_words(self) -> list[str]:
        return [FLAG_WORDS.get(f, f.replace("_", " ")) for f in self.flags]


def _span_cuts(text: str, spans: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any] | None]]:
    """The segment's text cut at its spans; of overlapping spans the first (then longest) is highlighted."""
    out: list[tuple[int, int, dict[str, Any] | None]] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if span["start"] < pos:
            continue
        if span["start"] > pos:
            out.append((pos, span["start"], None))
        out.append((span["start"], span["end"], span))
        pos = span["end"]
    if pos < len(text):
        out.append((pos, len(text), None))
    return out


def _runs(text: str, lo: int, hi: int, timed: list[tuple[int, int, dict[str, Any]]]) -> list[Run]:
    runs: list[Run] = []
    pos = lo
    for start, end, word in timed:
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            continue
        if start > pos:
            runs.append(Run(text[pos:start]))
        probability = word.get("probability")
        low = probability is not None and float(probability) < LOW_WORD_PROB
        runs.append(Run(text[start:end], start=float(word["start"]), low=low, edited=bool(word.get("edited"))))
        pos = end
    if pos < hi:
        runs.append(Run(text[pos:hi]))
    return runs


def segment(seg: dict[str, Any], spans: list[dict[str, Any]], speaker: str) -> Segment:
    """`seg` as the review service gives it (text, times, flags, words); `spans` the review's spans in it."""
    text, words = seg["text"], seg.get("words", [])
    timed = [(r[0], r[1], w) for w, r in zip(words, word_ranges(text, words), strict=True) if r is not None]
    pieces = [Piece(_runs(text, lo, hi, timed), span) for lo, hi, span in _span_cuts(text, spans)]
    return Segment(id=seg["id"], start=float(seg["start"]), end=float(seg.get("end", seg["start"])),
                   speaker=speaker, flags=list(seg.get("flags", [])), pieces=pieces)
