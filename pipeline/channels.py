"""Two-channel recordings: one sound heard twice (mix it down) or one person per channel (hear each on its own).

Call and phone recorders put each party on its own channel. Mixed to mono, two people talking at once become one
overlapped signal and Whisper writes only one of them, so such a recording is transcribed channel by channel and the
channel names the speaker. Anything else stereo (a duplicated mono track, a panned voice, a stereo recorder on a
table) carries the same voices in both channels and is mixed down, as before.

Two tests, both needed. Apart: often one channel is loud while the other is near silent (a voice on its own channel
leaves the other tens of dB quieter; one sound in two microphones differs by a few dB). Own speech: each channel is
active for a while without being a much quieter copy of the other (a hard-panned mono voice is "apart" everywhere,
but its quiet side never speaks on its own).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline.types import SAMPLE_RATE, Segment

FRAME_S = 0.05
# A frame is speech on a channel above this level (dBFS of the frame's RMS) ...
ACTIVE_DB = -50.0
# ... and belongs to that channel alone when the other channel is this much quieter.
APART_DB = 25.0
# Separate only when each channel has this much speech of its own, and apart frames are this share of all speech.
MIN_OWN_S = 0.5
MIN_APART_SHARE = 0.25


def frame_levels(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """dBFS per 50 ms frame, shape (channels, frames)."""
    size = int(FRAME_S * sample_rate)
    frames = audio.shape[-1] // size
    if frames == 0:
        return np.full((audio.shape[0], 0), -120.0)
    blocks = audio[:, : frames * size].reshape(audio.shape[0], frames, size).astype(np.float64)
    rms = np.sqrt(np.mean(blocks * blocks, axis=2))
    return 20 * np.log10(np.maximum(rms, 1e-6))


def channels_are_speakers(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> bool:
    """True for a (2, n) recording with a different voice on each channel."""
    if audio.ndim != 2 or audio.shape[0] != 2:
        return False
    levels = frame_levels(audio, sample_rate=sample_rate)
    active = levels > ACTIVE_DB
    any_active = active.any(axis=0)
    if not any_active.any():
        return False
    louder = levels[0] - levels[1]
    apart = (active[0] & (louder >= APART_DB)) | (active[1] & (-louder >= APART_DB))
    own_s = min((active[0] & (louder > -APART_DB)).sum(), (active[1] & (louder < APART_DB)).sum()) * FRAME_S
    return bool(own_s >= MIN_OWN_S and apart.sum() / any_active.sum() >= MIN_APART_SHARE)


def downmix(audio: np.ndarray) -> np.ndarray:
    """Mono, as a new array (so the two-channel buffer can be freed)."""
    return audio if audio.ndim == 1 else audio.mean(axis=0, dtype=np.float32)


def merge_channels(per_channel: list[list[Segment]], *, overlap_share: float = 0.3) -> list[Segment]:
    """Segments of each channel, labelled CH1, CH2, ... by channel, in time order with fresh ids; a word is flagged
    `overlap` when a word of another channel covers `overlap_share` of it (as the diariser's overlap is)."""
    labelled: list[Segment] = []
    for index, segments in enumerate(per_channel):
        label = f"CH{index + 1}"
        for seg in segments:
            words = [replace(w, speaker=label) for w in seg.words]
            labelled.append(replace(seg, speaker=label, words=words))
    labelled.sort(key=lambda s: (s.start, s.speaker or ""))
    # Per channel, word times in order (Whisper's word times within a channel are monotonic), for bisection.
    times = {}
    for seg in labelled:
        times.setdefault(seg.speaker, []).extend((w.start, w.end) for w in seg.words)
    index = {who: (np.array(sorted(t[0] for t in spans)), np.array(sorted(t[1] for t in spans)), sorted(spans))
             for who, spans in times.items()}

    def covered(start: float, end: float, who: str | None) -> float:
        total = 0.0
        for other, (starts, ends, spans) in index.items():
            if other == who:
                continue
            lo, hi = int(np.searchsorted(ends, start, side="right")), int(np.searchsorted(starts, end, side="left"))
            total += sum(max(0.0, min(end, e) - max(start, s)) for s, e in spans[max(0, lo - 1) : hi])
        return total

    merged = []
    for new_id, seg in enumerate(labelled):
        words = [replace(w, overlap=covered(w.start, w.end, w.speaker) >= overlap_share * max(w.end - w.start, 1e-3))
                 for w in seg.words]
        merged.append(replace(seg, id=new_id, words=words))
    return merged
