"""The floors of the house (docs/architecture.md), checked on every import in the source, function-level included:
the pipeline imports nothing from the service or the queue glue, and the service reaches the workers only through
its composition root."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# Floor -> the top-level packages it may not import, and the modules exempt from that rule.
CONTRACTS: dict[str, tuple[set[str], set[str]]] = {
    "pipeline": ({"service", "workers"}, set()),
    # app.py and the cli/ package wire the in-process worker and the CLI's pipeline runs: the composition root.
    "service": ({"workers"}, {"service/app.py", "service/cli/"}),
}


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
    for floor, (forbidden, exempt) in CONTRACTS.items():
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
    for floor in CONTRACTS:
        assert len(list((ROOT / floor).rglob("*.py"))) > 3, floor


def test_a_crossing_is_caught(tmp_path: Path) -> None:
    for floor in ("pipeline/redact", "service/recordings", "workers"):
        (tmp_path / floor).mkdir(parents=True, exist_ok=True)
    (tmp_path / "pipeline/redact/bad.py").write_text("def f():\n    from service.core import crypto\n")
    (tmp_path / "service/recordings/bad.py").write_text("import workers.tasks\n")
    (tmp_path / "service/app.py").write_text("from workers import inline\n")  # the composition root may
    (tmp_path / "service/cli").mkdir()
    (tmp_path / "service/cli/server.py").write_text("from workers import celery_app\n")  # so may the CLI's modules
    assert violations(tmp_path) == [
        "pipeline/redact/bad.py imports service", "service/recordings/bad.py imports workers"]
