"""A slot's voiceprint from its own clean speech, embedded with CAM++ after diarisation.

The diariser's centroid (the mean of its 10-s window embeddings) mixes in whoever else talks in those windows,
overlap included, and windows' edges. Here each slot's turns minus every
other slot's turns (no overlapped speech) are joined into pieces of at most `piece_s` seconds, each piece is embedded
by the whole CAM++ network (its own fbank mean normalisation and statistics pooling), and the unit embeddings are
averaged weighted by their seconds. bench/voice_profile.py compares this with the centroid on the shared AMI clips.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.types import SAMPLE_RATE

Interval = tuple[float, float]

# Pieces shorter than this carry little identity and mostly the edges' transients (bench/voice_profile.py).
MIN_PIECE_S = 0.5
# CAM++ was trained on 3-s crops; averaging 3-s pieces scored the same speaker a little higher and others a little
# lower than 10-s pieces or one embedding of everything (bench/voice_profile.py, part A).
PIECE_S = 3.0
# A slot with less clean speech than this keeps no voiceprint: it would be matched on noise.
MIN_SPEECH_S = 2.0
# An interview's slot can hold an hour; pieces spread evenly over the recording up to this much speech are enough
# (CAM++ at ~0.03 x real time on one core: about 4 s per slot).
MAX_SPEECH_S = 120.0


def clean_intervals(turns: Sequence[tuple[float, float, str]], speaker: str) -> list[Interval]:
    """`speaker`'s turns minus everybody else's (overlapped speech is nobody's clean voice), merged, in time order."""
    mine = sorted((s, e) for s, e, who in turns if who == speaker and e > s)
    others = sorted((s, e) for s, e, who in turns if who != speaker and e > s)
    merged: list[list[float]] = []
    for s, e in mine:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out: list[Interval] = []
    for s, e in merged:
        cursor = s
        for os_, oe in others:
            if oe <= cursor or os_ >= e:
                continue
            if os_ > cursor:
                out.append((cursor, os_))
            cursor = max(cursor, oe)
            if cursor >= e:
                break
        if cursor < e:
            out.append((cursor, e))
    return [(round(s, 3), round(e, 3)) for s, e in out if e - s >= MIN_PIECE_S]


def pieces(intervals: Sequence[Interval], *, piece_s: float = PIECE_S, max_speech_s: float | None = None
           ) -> list[list[Interval]]:
    """Intervals grouped in time order into pieces of at most `piece_s` seconds of speech (an interval longer than
    that is cut). With `max_speech_s`, an evenly spaced subset of the pieces holding about that much speech."""
    out: list[list[Interval]] = []
    current: list[Interval] = []
    held = 0.0
    for s, e in intervals:
        while e - s > 1e-6:
            take = min(e - s, piece_s - held)
            current.append((s, s + take))
            held += take
            s += take
            if held >= piece_s - 1e-6:
                out.append(current)
                current, held = [], 0.0
    if current and held >= MIN_PIECE_S:
        out.append(current)
    if max_speech_s is not None and out:
        total = sum(_seconds(p) for p in out)
        if total > max_speech_s:
            keep = max(1, round(len(out) * max_speech_s / total))
            out = [out[i] for i in np.unique(np.linspace(0, len(out) - 1, keep).round().astype(int))]
    return out


def _seconds(piece: Sequence[Interval]) -> float:
    return sum(e - s for s, e in piece)


def embed_piece(model: object, audio: np.ndarray, piece: Sequence[Interval]) -> np.ndarray:
    """One CAM++ embedding of a piece's audio, its intervals joined end to end (unit length)."""
    import torch

    wave = np.concatenate([audio[round(s * SAMPLE_RATE): round(e * SAMPLE_RATE)] for s, e in piece])
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)).view(1, 1, -1)
        vector = model(x)[0].double().cpu().numpy()  # type: ignore[operator]
    return vector / np.linalg.norm(vector)


def weighted_mean(vectors: Sequence[np.ndarray], seconds: Sequence[float]) -> list[float]:
    """Length-weighted mean of unit embeddings, unit length again."""
    mean = np.average(np.vstack(vectors), axis=0, weights=np.asarray(seconds, dtype=np.float64))
    return [float(v) for v in mean / np.linalg.norm(mean)]


def speech_voiceprint(model: object, audio: np.ndarray, intervals: Sequence[Interval], *,
                      min_speech_s: float = MIN_SPEECH_S, max_speech_s: float | None = MAX_SPEECH_S,
                      piece_s: float = PIECE_S) -> list[float] | None:
    """The voiceprint of this speech, or None when there is less than `min_speech_s` of it."""
    end = len(audio) / SAMPLE_RATE  # a turn may end a little past the audio
    intervals = [(s, min(e, end)) for s, e in intervals if min(e, end) - s >= MIN_PIECE_S]
    chosen = pieces(intervals, piece_s=piece_s, max_speech_s=max_speech_s)
    seconds = [_seconds(p) for p in chosen]
    if sum(seconds) < min_speech_s:
        return None
    return weighted_mean([embed_piece(model, audio, p) for p in chosen], seconds)


def slot_voiceprints(model: object, audio: np.ndarray, turns: Sequence[tuple[float, float, str]], **kwargs: float
                     ) -> dict[str, list[float]]:
    """speaker -> voiceprint from its clean speech, for every speaker with enough of it."""
    out = {}
    for speaker in sorted({t[2] for t in turns}):
        vector = speech_voiceprint(model, audio, clean_intervals(turns, speaker), **kwargs)  # type: ignore[arg-type]
        if vector is not None:
            out[speaker] = vector
    return out
