"""Voiceprints: a speaker's CAM++ embedding of their clean speech (pipeline.diarise.speech_prints), compared across
recordings by cosine similarity.

Pure arithmetic on plain lists, shared by the service (which stores enrolled voices sealed and decides roles) and
`bench/voice_profile.py` (which chose the threshold on the shared AMI clips that share speakers across files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# bench/voice_profile.py on the shared AMI clips, clean-speech voiceprints (pipeline.diarise.speech_prints): no
# different-speaker trial scored above 0.447 (1,930 cross-file trials on the reference speech, 61 pairs of diarised
# slots), so 0.45 is the lowest threshold without a false accept; 0.50 keeps a margin, as a participant labelled
# Interviewer is the costly error (a miss leaves the heuristic's guess). Its misses there: 2 of 10 same-speaker
# enrol-all/test-all trials (one speaker with 2.6 s of clean speech), 11 of 42 tests of 2 s, 2 of 25 of 4 s, 0 of 10
# of 8 s. Those voiceprints come from 2-29 s of speech; an interview's minutes score the same speaker higher.
DEFAULT_THRESHOLD = 0.50


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


def equal_error_rate(same: Sequence[float], different: Sequence[float]) -> tuple[float, float]:
    """(EER, its threshold): over every score as a threshold, the point where false accepts and false rejects are
    closest, their mean."""
    if not same or not different:
        raise ValueError("an equal error rate needs both same-speaker and different-speaker scores")
    best = (2.0, 0.0, 0.0)
    for thr in sorted({*same, *different}):
        r = error_rates(same, different, threshold=thr)
        gap = abs(r.false_accept - r.false_reject)
        if gap < best[0]:
            best = (gap, (r.false_accept + r.false_reject) / 2, thr)
    return round(best[1], 4), best[2]


def lowest_clean_threshold(different: Sequence[float], *, step: float = 0.01) -> float:
    """The lowest threshold on a `step` grid above every different-speaker score (no false accept there)."""
    # round() first: 0.29 / 0.01 is 28.999..., whose floor would give 0.29 itself.
    return round((math.floor(round(max(different) / step, 9)) + 1) * step, 4)
