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


# Faces (API views and web pages) change data only through domain services: no ORM writes of their own.
WRITES = {"add", "add_all", "delete", "merge", "execute", "bulk_save_objects"}
SQL_WRITES = {"insert", "update", "delete"}


def face_writes(root: Path) -> list[str]:
    found = []
    faces = sorted((root / "service").glob("*/views.py")) + sorted((root / "service" / "web").glob("*.py"))
    for path in faces:
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                found += [f"{rel} imports sqlalchemy.{a.name}" for a in node.names if a.name in SQL_WRITES]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES
                  and isinstance(node.func.value, ast.Name) and node.func.value.id in {"db_session", "session", "s"}):
                found.append(f"{rel} calls {node.func.value.id}.{node.func.attr}")
    return found


def test_faces_write_only_through_domain_services() -> None:
    assert face_writes(ROOT) == []


def test_a_face_writing_is_caught(tmp_path: Path) -> None:
    (tmp_path / "service/notes").mkdir(parents=True)
    (tmp_path / "service/web").mkdir(parents=True)
    (tmp_path / "service/notes/views.py").write_text(
        "from sqlalchemy import update\ndef f(db_session, row):\n    db_session.add(row)\n    db_session.commit()\n")
    (tmp_path / "service/web/page.py").write_text("def g(db_session):\n    db_session.execute('x')\n")
    assert face_writes(tmp_path) == [
        "service/notes/views.py imports sqlalchemy.update", "service/notes/views.py calls db_session.add",
        "service/web/page.py calls db_session.execute"]
