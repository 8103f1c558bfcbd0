"""Voiceprints: a speaker's CAM++ centroid from diarisation, compared across recordings by cosine similarity.

Pure arithmetic on plain lists, shared by the service (which stores enrolled voices sealed and decides roles) and
`bench/voice_profile.py` (which chose the threshold on the shared AMI clips that share speakers across files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# bench/voice_profile.py, diarisation centroids across the shared AMI files: different speakers scored -0.18..0.52
# (65 pairs, median 0.16), the same speaker 0.41..0.73 (6 pairs, median 0.46). 0.55 is the lowest threshold with no
# false accept there (a participant labelled Interviewer is the costly error; a miss leaves the heuristic's guess).
# Those centroids come from 0.3-30 s of speech in 30-s clips; an interview's are steadier.
DEFAULT_THRESHOLD = 0.55


def normalise(vector: Sequence[float]) -> list[float]:
    """Unit length (a zero or non-finite vector is refused: it would match nothing, or everything)."""
    values = [float(v) for v in vector]
    norm = math.sqrt(sum(v * v for v in values))
    if not values or not math.isfinite(norm) or norm == 0.0:
        raise ValueError("a voiceprint needs a non-zero, finite vector")
    return [v / norm for v in values]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"voiceprints of different sizes ({len(a)} vs {len(b)})")
    na, nb = normalise(a), normalise(b)
    return round(sum(x * y for x, y in zip(na, nb, strict=True)), 4)


@dataclass(frozen=True)
class VoiceMatch:
    slot: str
    profile: str
    score: float


def match_slots(
    voices: Mapping[str, Sequence[float]], profiles: Mapping[str, Sequence[float]], *, threshold: float
) -> dict[str, VoiceMatch]:
    """slot -> the enrolled profile its voice matches, at or above `threshold`.

    One person speaks as one slot: each profile claims at most one slot and each slot at most one profile, the
    highest scores first (two slots both close to the interviewer are more likely one split voice than two
    interviewers; the reviewer can merge them)."""
    pairs = sorted(
        ((cosine(v, p), slot, pid) for slot, v in voices.items() for pid, p in profiles.items() if len(v) == len(p)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    out: dict[str, VoiceMatch] = {}
    taken: set[str] = set()
    for score, slot, pid in pairs:
        if score < threshold:
            break
        if slot in out or pid in taken:
            continue
        out[slot] = VoiceMatch(slot=slot, profile=pid, score=score)
        taken.add(pid)
    return out


@dataclass(frozen=True)
class ErrorRates:
    threshold: float
    false_accept: float  # share of different-speaker pairs scored at or above the threshold
    false_reject: float  # share of same-speaker pairs scored below it
    same: int
    different: int


def error_rates(same: Sequence[float], different: Sequence[float], *, threshold: float) -> ErrorRates:
    if not same or not different:
        raise ValueError("error rates need both same-speaker and different-speaker scores")
    fa = sum(1 for s in different if s >= threshold) / len(different)
    fr = sum(1 for s in same if s < threshold) / len(same)
    return ErrorRates(threshold, round(fa, 4), round(fr, 4), len(same), len(different))
