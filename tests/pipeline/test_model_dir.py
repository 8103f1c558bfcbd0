"""A user's own CTranslate2 Whisper directory (large-v3, turbo, ...) is a model like the packaged ones.

Tested with a copy of the packaged tiny.en in a temp dir: the code path is the same whatever the size, and a
missing tokenizer or a mel-band mismatch (a large-v3 without preprocessor_config.json) is refused up front
with a message that says what to copy, instead of a hub lookup that fails offline mid-job.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jiwer
import pytest

from harness.textnorm import normalise
from pipeline.weights import ModelUnavailable, resolve_model
from tests.support.paths import MODEL_CACHE, shared


def _own_copy(tmp_path: Path) -> Path:
    src = resolve_model("tiny.en", cache_dir=MODEL_CACHE)
    dst = tmp_path / "my-whisper"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".verified-*"))
    return dst


def test_own_dir_without_tokenizer_is_refused(tmp_path: Path) -> None:
    model_dir = tmp_path / "large-v3"
    model_dir.mkdir()
    (model_dir / "model.bin").write_bytes(b"\0" * 16)
    (model_dir / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match=r"tokenizer\.json"):
        resolve_model(str(model_dir), cache_dir=tmp_path / "cache")
    (model_dir / "tokenizer.json").write_text("{}")
    assert resolve_model(str(model_dir), cache_dir=tmp_path / "cache") == model_dir
    (model_dir / "config.json").unlink()
    with pytest.raises(ModelUnavailable, match="unknown Whisper model"):
        resolve_model(str(model_dir), cache_dir=tmp_path / "cache")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["env", "flag"])
def test_own_ctranslate2_dir_transcribes(tmp_path: Path, how: str) -> None:
    """ANONSCRIBE_WHISPER_MODEL=/path (the worker's setting) and `--model /path` both use the directory."""
    model_dir = _own_copy(tmp_path)
    out = tmp_path / "jfk.json"
    env = {"ANONSCRIBE_MODEL_CACHE_DIR": str(tmp_path / "cache"), "ANONSCRIBE_DATA_DIR": str(tmp_path / "d"),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    args = [sys.executable, "-m", "service.cli", "transcribe", str(shared("fw_jfk.flac")), "--no-diarise",
            "--format", "json", "-o", str(out)]
    if how == "env":
        env["ANONSCRIBE_WHISPER_MODEL"] = str(model_dir)
    else:
        args += ["--model", str(model_dir)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["model"] == str(model_dir)
    hypothesis = " ".join(s["text"] for s in data["segments"])
    reference = shared("fw_jfk.txt").read_text()
    assert jiwer.wer(normalise(reference), normalise(hypothesis)) <= 0.05
    # Nothing was assembled or cached for it: the directory is used where it is.
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.slow
def test_own_dir_with_wrong_mel_bands_is_refused(tmp_path: Path) -> None:
    from pipeline.asr import AsrOptions, load_model

    model_dir = _own_copy(tmp_path)
    # What a large-v3 directory without its preprocessor_config.json looks like, turned around: the model wants
    # 80 bands, the config promises 128.
    (model_dir / "preprocessor_config.json").write_text(json.dumps({"feature_size": 128}))
    with pytest.raises(ModelUnavailable, match="mel bands"):
        load_model(AsrOptions(model_path=model_dir, model_name="mine", cpu_threads=1))
