"""Rules of the core floor kept mechanically (docs/architecture.md): its modules import each other without cycles,
and key material stays in `service/core`: outside it, nothing imports a key type or a data-key function, or reaches
for the master key; domains seal and open their records through `SealedStore`."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

CORE = "service/core"


def _imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def core_graph(root: Path) -> dict[str, set[str]]:
    """Core module -> the core modules it imports (function-level imports included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((root / CORE).glob("*.py")):
        deps: set[str] = set()
        for node in _imports(path):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                if node.level or not node.module:
                    continue
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            deps.update(m.split(".")[2] for m in modules if m.startswith("service.core.") and m.count(".") == 2)
        graph[path.stem] = deps - {path.stem}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: set[tuple[str, ...]] = set()

    def walk(node: str, trail: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep in trail:
                cycle = trail[trail.index(dep):]
                if min(cycle) == cycle[0]:  # each cycle once, from its smallest member
                    found.add((*cycle, dep))
            elif dep in graph:
                walk(dep, [*trail, dep])

    for start in sorted(graph):
        walk(start, [start])
    return [list(c) for c in sorted(found)]


def test_core_modules_import_each_other_without_cycles() -> None:
    assert cycles(core_graph(ROOT)) == []


def test_a_core_cycle_is_caught(tmp_path: Path) -> None:
    (tmp_path / CORE).mkdir(parents=True)
    (tmp_path / CORE / "a.py").write_text("from service.core.b import x\n")
    (tmp_path / CORE / "b.py").write_text("def f():\n    from service.core import a\n")
    (tmp_path / CORE / "c.py").write_text("from service.core.a import y\n")
    assert cycles(core_graph(tmp_path)) == [["a", "b", "a"]]


# What code outside the core may take from the key modules: the errors, nothing that holds or makes a key.
KEY_MODULES = {"service.core.crypto", "service.core.keystore"}
HARMLESS = {"IntegrityError", "MasterKeyError", "DataKeyNotFound"}
# `anonscribe keys init` writes a new master key (composition root); service/models.py registers every table.
EXEMPT = {"service/cli/keys.py": {"MasterKey"}, "service/models.py": {"WrappedDataKey"}}


def key_material_reach(root: Path) -> list[str]:
    found = []
    for floor in ("service", "workers"):
        for path in sorted((root / floor).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(CORE + "/"):
                continue
            allowed = HARMLESS | EXEMPT.get(rel, set())
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module in KEY_MODULES:
                    found += [f"{rel} imports {a.name}" for a in node.names if a.name not in allowed]
                elif isinstance(node, ast.ImportFrom) and node.module == "service.core":
                    found += [f"{rel} imports {a.name}" for a in node.names if f"service.core.{a.name}" in KEY_MODULES]
                elif isinstance(node, ast.Import):
                    found += [f"{rel} imports {a.name}" for a in node.names if a.name in KEY_MODULES]
                elif isinstance(node, ast.Attribute) and node.attr == "master":
                    found.append(f"{rel} reads .master")
    return found


def test_only_the_core_touches_key_material() -> None:
    assert key_material_reach(ROOT) == []


def test_reaching_for_a_key_is_caught(tmp_path: Path) -> None:
    (tmp_path / "service/notes").mkdir(parents=True)
    (tmp_path / "workers").mkdir()
    (tmp_path / "service/notes/service.py").write_text(
        "from service.core.keystore import DataKeyNotFound, load_data_key\n"
        "from service.core import keystore\n"
        "def f(runtime):\n    return runtime.sealed.master\n"
    )
    (tmp_path / "workers/tasks.py").write_text("from service.core.crypto import IntegrityError, DataKey\n")
    (tmp_path / "service/cli").mkdir()
    (tmp_path / "service/cli/keys.py").write_text("from service.core.crypto import MasterKey, MasterKeyError\n")
    assert sorted(key_material_reach(tmp_path)) == [
        "service/notes/service.py imports keystore",
        "service/notes/service.py imports load_data_key",
        "service/notes/service.py reads .master",
        "workers/tasks.py imports DataKey",
    ]
