"""Plain data passed between pipeline stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SAMPLE_RATE = 16_000


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None
    # True when another speaker talks over this word: reviewers should check who said it.
    overlap: bool = False


@dataclass
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    # Why a reviewer should look twice: low_confidence, repetition, possible_hallucination.
    flags: list[str] = field(default_factory=list)
    speaker: str | None = None


@dataclass
class SpeakerInfo:
    slot: str
    role: str
    talk_time: float
    questions: int
    first_start: float
    # Index of the Teams transcript voice this speaker matched (order of first appearance), if any.
    teams_voice: int | None = None


@dataclass
class Transcript:
    segments: list[Segment]
    language: str
    duration: float
    model: str
    speakers: list[SpeakerInfo] = field(default_factory=list)
    # Diariser turns (start, end, speaker slot), overlaps included: what the RTTM export shows.
    speaker_turns: list[dict[str, Any]] = field(default_factory=list)
    # Identifier spans per segment from the redaction stage; stored by the service, not in the transcript.
    detected: list[list[dict[str, Any]]] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("detected", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = [
            Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]}) for s in data["segments"]
        ]
        return cls(
            segments=segments,
            language=data["language"],
            duration=data["duration"],
            model=data["model"],
            speakers=[SpeakerInfo(**sp) for sp in data.get("speakers", [])],
            speaker_turns=list(data.get("speaker_turns", [])),
        )
