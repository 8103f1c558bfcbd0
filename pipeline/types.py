"""Plain data passed between pipeline stages.

Everything here holds plain Python scalars, whatever the stages computed them with: numpy scalars (a `numpy.bool`
from comparing two numpy floats, a `float32` from a model) are not JSON-serialisable and must not leave the pipeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000


def plain(value: Any) -> Any:
    """`value` with every numpy scalar or array inside it (dicts, lists, tuples) turned into plain Python."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None
    # True when another speaker talks over this word: reviewers should check who said it.
    overlap: bool = False

    def __post_init__(self) -> None:
        self.start, self.end = float(self.start), float(self.end)
        self.text, self.probability = str(self.text), float(self.probability)
        self.speaker, self.overlap = _opt_str(self.speaker), bool(self.overlap)


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

    def __post_init__(self) -> None:
        self.id, self.start, self.end, self.text = int(self.id), float(self.start), float(self.end), str(self.text)
        self.avg_logprob, self.no_speech_prob = float(self.avg_logprob), float(self.no_speech_prob)
        self.compression_ratio = float(self.compression_ratio)
        self.flags, self.speaker = [str(f) for f in self.flags], _opt_str(self.speaker)


@dataclass
class SpeakerInfo:
    slot: str
    role: str
    talk_time: float
    questions: int
    first_start: float
    # Index of the Teams transcript voice this speaker matched (order of first appearance), if any.
    teams_voice: int | None = None

    def __post_init__(self) -> None:
        self.slot, self.role = str(self.slot), str(self.role)
        self.talk_time, self.questions, self.first_start = float(self.talk_time), int(self.questions), float(
            self.first_start)
        self.teams_voice = None if self.teams_voice is None else int(self.teams_voice)


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
    # slot -> voiceprint (the diariser's centroid; pipeline.voiceprint): biometric, so kept out of the transcript
    # (`to_dict`); the service seals it apart. Empty without diarisation.
    voices: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.language, self.duration, self.model = str(self.language), float(self.duration), str(self.model)
        self.speaker_turns = plain(self.speaker_turns)
        self.detected = plain(self.detected)
        self.voices = {str(k): [float(x) for x in plain(v)] for k, v in (self.voices or {}).items()}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("detected", None)
        data.pop("voices", None)
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
