"""Where things are: the checkout, the shared evaluation data beside it, the tests' own data and model cache."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
# Hand-made sets the tests and bench/redaction_eval.py share.
TEST_DATA = ROOT / "tests" / "data"
TEST_MODEL = "tiny.en"
MODEL_CACHE = ROOT / ".pytest_cache" / "models"


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        # Missing evaluation data must fail loudly: a suite that silently skips proves nothing.
        pytest.fail(f"shared data file missing: {path} (expected ../shared/data beside the checkout)")
    return path
