"""What the benches share: where things are, the shared clips strung into long audio, and memory probes.

Benches run from the checkout root as modules (``python -m bench.<name>``), so they import the project, `harness`
and each other as packages: no ``sys.path`` edits, and nothing from `tests`.
"""

from __future__ import annotations

import os
import resource
import sys
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.types import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
# The model cache the test suite fills: benches reuse it rather than resolve weights again.
MODEL_CACHE = ROOT / ".pytest_cache" / "models"
PG_ADMIN_URL = os.environ.get("ANONSCRIBE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def module_command(module: str, *args: str) -> list[str]:
    """This interpreter running a bench module, for the benches that measure in a fresh child process (run it
    with cwd=ROOT so `bench` is importable)."""
    return [sys.executable, "-m", module, *args]


def concat_clips(
    names: Sequence[str], target_s: float, *, gap_s: float = 0.5, skip_missing: bool = False
) -> tuple[np.ndarray, list[str]]:
    """Shared clips (16 kHz mono float32) in `names` order, round and round with `gap_s` of silence between
    them, until `target_s` is reached; the clip names used, in order. A missing clip stops the bench unless
    `skip_missing`."""
    import numpy as np

    from pipeline.decode import decode_audio

    decoded: dict[str, np.ndarray] = {}
    for name in names:
        path = SHARED / name
        if path.exists() or not skip_missing:
            decoded[name] = decode_audio(str(path))
    if not decoded:
        raise SystemExit(f"no shared clips found in {SHARED}")
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    used: list[str] = []
    total = 0
    while total < target_s * SAMPLE_RATE:
        for name, clip in decoded.items():
            parts += [clip, gap]
            used.append(name)
            total += len(clip) + len(gap)
            if total >= target_s * SAMPLE_RATE:
                break
    return np.concatenate(parts[:-1]), used


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit mono PCM at the pipeline's sample rate."""
    import numpy as np

    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())


def peak_rss_mb() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and all its children now."""
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total
