"""The first pass's windows (pipeline.asr.pause_windows): stretches of the recording cut at pauses, never longer
than Whisper's 30 s, cut at the longest pause rather than the last, and never across a long silence."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import asr
from pipeline.types import SAMPLE_RATE


def windows_for(monkeypatch: pytest.MonkeyPatch, regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    import faster_whisper.vad

    def vad(audio, options, sampling_rate=SAMPLE_RATE):  # type: ignore[no-untyped-def]
        assert options.max_speech_duration_s == asr.WINDOW_S  # no region VAD gives is longer than a window
        return [{"start": round(a * SAMPLE_RATE), "end": round(b * SAMPLE_RATE)} for a, b in regions]

    monkeypatch.setattr(faster_whisper.vad, "get_speech_timestamps", vad)
    return asr.pause_windows(np.zeros(SAMPLE_RATE, dtype=np.float32))


def test_windows_keep_pauses_and_cut_at_the_longest_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sentences of ~4 s with 0.3 s pauses, and one 1.2 s pause at 20.6 s: the window ends there, not at ~29 s.
    regions, t = [], 0.0
    for i in range(12):
        regions.append((round(t, 3), round(t + 4.0, 3)))
        t += 4.0 + (1.2 if i == 4 else 0.3)
    windows = windows_for(monkeypatch, regions)
    assert windows[0] == (0.0, regions[4][1])
    assert windows[1][0] == regions[5][0]
    # Every region in exactly one window, each window at most 30 s and from a region's start to a region's end.
    assert all(b - a <= asr.WINDOW_S for a, b in windows)
    assert [r for r in regions if any(a <= r[0] and r[1] <= b for a, b in windows)] == regions
    starts, ends = {r[0] for r in regions}, {r[1] for r in regions}
    assert all(a in starts and b in ends for a, b in windows)


def test_a_long_pause_ends_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    regions = [(0.0, 3.0), (3.5, 6.0), (6.0 + asr.LONG_PAUSE_S, 12.0), (12.4, 15.0)]
    assert windows_for(monkeypatch, regions) == [(0.0, 6.0), (6.0 + asr.LONG_PAUSE_S, 15.0)]


def test_no_speech_no_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    assert windows_for(monkeypatch, []) == []
