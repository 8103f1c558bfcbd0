"""The benches run from the checkout as modules (`python -m bench.<name>`): no `sys.path` edits, no re-running
themselves by file path, each says how to run it. (That they import no tests is an import contract.)"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from tests.support.paths import ROOT

BENCHES = sorted(p for p in (ROOT / "bench").glob("*.py") if p.stem not in ("__init__", "common"))


def problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
            found.append((node.lineno, "sys.path"))
        if isinstance(node, ast.Name) and node.id == "__file__":
            found.append((node.lineno, "__file__ (paths come from bench.common)"))
    out = [f"line {line}: {what}" for line, what in sorted(found)]
    if f"python -m bench.{path.stem}" not in (ast.get_docstring(tree) or ""):
        out.append(f"docstring does not say `python -m bench.{path.stem}`")
    return out


def test_there_are_benches() -> None:
    assert len(BENCHES) >= 10


@pytest.mark.parametrize("path", BENCHES, ids=lambda p: p.stem)
def test_bench_runs_as_a_module(path: Path) -> None:
    assert importlib.util.find_spec(f"bench.{path.stem}") is not None
    assert not problems(path)


def test_a_script_style_bench_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "old.py"
    bad.write_text('"""Run: python bench/old.py"""\nimport sys\nsys.path.insert(0, "..")\nX = __file__\n')
    assert problems(bad) == [
        "line 3: sys.path", "line 4: __file__ (paths come from bench.common)",
        "docstring does not say `python -m bench.old`"]
