"""The floors of the house (docs/architecture.md), checked on every import in the source, function-level included:
the pipeline imports nothing from the service or the queue glue, the service reaches the workers only through its
composition root, nothing shipped imports the tests, the benches or their harness, and the benches import no tests."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

# Floor -> the top-level packages it may not import, and the modules exempt from that rule.
DEV_ONLY = {"tests", "bench", "harness"}
CONTRACTS: list[tuple[str, set[str], set[str]]] = [
    ("pipeline", {"service", "workers", *DEV_ONLY}, set()),
    # app.py and the cli/ package wire the in-process worker and the CLI's pipeline runs: the composition root.
    ("service", {"workers"}, {"service/app.py", "service/cli/"}),
    ("service", DEV_ONLY, set()),
    ("workers", DEV_ONLY, set()),
    # Real servers, the compose topology as processes, synthesised speech: shared by tests and benches.
    ("harness", {"tests", "bench"}, set()),
    ("bench", {"tests"}, set()),
]


def imported(path: Path) -> set[str]:
    """Top-level package names a module imports, anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(root: Path) -> list[str]:
    found = []
    for floor, forbidden, exempt in CONTRACTS:
        for path in sorted((root / floor).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in exempt or any(e.endswith("/") and rel.startswith(e) for e in exempt):
                continue
            for name in sorted(imported(path) & forbidden):
                found.append(f"{rel} imports {name}")
    return found


def test_the_floors_hold() -> None:
    assert not violations(ROOT)


def test_every_floor_exists() -> None:
    for floor in {floor for floor, _, _ in CONTRACTS}:
        assert len(list((ROOT / floor).rglob("*.py"))) > 3, floor


def test_a_crossing_is_caught(tmp_path: Path) -> None:
    for floor in ("pipeline/redact", "service/recordings", "workers", "bench", "harness"):
        (tmp_path / floor).mkdir(parents=True, exist_ok=True)
    (tmp_path / "pipeline/redact/bad.py").write_text("def f():\n    from service.core import crypto\n")
    (tmp_path / "service/recordings/bad.py").write_text("import workers.tasks\n")
    (tmp_path / "service/app.py").write_text("from workers import inline\nfrom tests.support import apps\n")
    (tmp_path / "workers/bad.py").write_text("from harness.procs import free_port\n")
    (tmp_path / "bench/bad.py").write_text("from tests.support.paths import SHARED\nfrom harness import synth\n")
    (tmp_path / "harness/bad.py").write_text("import bench.common\n")
    # The composition root may import the workers, but not the tests.
    (tmp_path / "service/cli").mkdir()
    (tmp_path / "service/cli/server.py").write_text("from workers import celery_app\n")  # so may the CLI's modules
    assert violations(tmp_path) == [
        "pipeline/redact/bad.py imports service", "service/recordings/bad.py imports workers",
        "service/app.py imports tests", "workers/bad.py imports harness", "harness/bad.py imports bench",
        "bench/bad.py imports tests"]
