"""Import torch-side libraries safely on a CPU-only torch.

PyPI's torchaudio is a CUDA build whose native extension cannot load beside the CPU torch wheel, and
`import pyannote.audio` imports torchaudio. We only need torchaudio's pure-Python parts (Kaldi fbank,
resampling), so the native-extension loader is replaced by a stub that reports "not available" -
the same state torchaudio itself handles when its library files are absent.
"""

from __future__ import annotations

import os
import sys
import types

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
os.environ.setdefault("TORCHAUDIO_USE_BACKEND_DISPATCHER", "1")


def _no_native_torchaudio() -> None:
    if "torchaudio" in sys.modules or os.environ.get("ANONSCRIBE_TORCHAUDIO_NATIVE") == "1":
        return
    stub = types.ModuleType("torchaudio._extension")
    stub._IS_TORCHAUDIO_EXT_AVAILABLE = False  # type: ignore[attr-defined]
    stub._IS_ALIGN_AVAILABLE = False  # type: ignore[attr-defined]
    stub._load_lib = lambda lib: False  # type: ignore[attr-defined]
    stub._check_cuda_version = lambda: None  # type: ignore[attr-defined]
    stub.fail_if_no_align = lambda fn: fn  # type: ignore[attr-defined]
    sys.modules["torchaudio._extension"] = stub


def prepare() -> None:
    _no_native_torchaudio()
    import warnings

    # pyannote warns at import that torchcodec can't decode files; we always pass in-memory waveforms.
    warnings.filterwarnings("ignore", message=r"\s*torchcodec is not installed correctly")
