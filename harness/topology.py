"""The docker-compose topology as local processes: the commands compose runs, read from docker-compose.yml.

migrate (one-shot), api (uvicorn, on a free loopback port), N workers, scheduler, against PostgreSQL, a Redis
and SeaweedFS S3 on this machine. Used by tests/deploy/test_topology.py and bench/throughput.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import yaml

from harness.procs import free_port, wait_until
from service.core import clock

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
FINAL = ("needs_review", "completed", "failed", "cancelled")


def stack_env(root: Path, *, key_file: Path, database_url: str, broker_url: str, model_cache: Path,
              **settings: object) -> dict[str, str]:
    """The environment every process of the stack gets: offline, this checkout's code, Celery on the broker, the
    database and master key given, data under `root`; `settings` add ANONSCRIBE_<NAME> entries."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": str(root),
        "HF_HUB_OFFLINE": "1",
        "PYANNOTE_METRICS_ENABLED": "0",
        "ANONSCRIBE_QUEUE": "celery",
        "ANONSCRIBE_BROKER_URL": broker_url,
        "ANONSCRIBE_DATABASE_URL": database_url,
        "ANONSCRIBE_DATA_DIR": str(root / "data"),
        "ANONSCRIBE_MASTER_KEY_FILE": str(key_file),
        "ANONSCRIBE_MODEL_CACHE_DIR": str(model_cache),
        **{f"ANONSCRIBE_{name.upper()}": str(value) for name, value in settings.items()},
    }


def compose_commands() -> dict[str, list[str]]:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return {name: list(services[name]["command"]) for name in ("migrate", "api", "worker", "scheduler")}


def _local(command: list[str], *, port: int | None = None) -> list[str]:
    """A compose command for this machine: the venv's executables, loopback, our port."""
    exe = Path(sys.executable).parent / command[0]
    out = [str(exe) if exe.exists() else command[0], *command[1:]]
    if "--host" in out:
        out[out.index("--host") + 1] = "127.0.0.1"
    if port is not None and "--port" in out:
        out[out.index("--port") + 1] = str(port)
    return out


@dataclass
class Topology:
    root: Path
    env: dict[str, str]
    api_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=compose_commands)
    api_url: str = ""

    def __post_init__(self) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self.env, **(extra or {})}

    def migrate(self) -> str:
        result = subprocess.run(
            _local(self.commands["migrate"]), env=self._env(), capture_output=True, text=True, timeout=180
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create_user(self, name: str, role: str) -> str:
        cli = _local(["anonscribe"])[0]
        result = subprocess.run(
            [cli, "users", "create", name, "--role", role], env=self._env(), capture_output=True, text=True,
            timeout=120, check=True,
        )
        return result.stdout.split()[-1]

    def start(self, name: str, service: str, *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        port = None
        if service == "api":
            port = free_port()
            self.api_url = f"http://127.0.0.1:{port}"
        log = open(self.root / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            _local(self.commands[service], port=port), env=self._env(env), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.root,
        )
        self.procs[name] = proc
        return proc

    def wait_api(self, timeout: float = 90) -> None:
        def up() -> bool:
            self.check_alive("api")
            try:
                return httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, timeout, "the API to answer /healthz", interval=0.25)

    def wait_workers_ready(self, names: list[str], timeout: float = 120) -> None:
        """Celery prints `... ready.` once it consumes from the queue."""

        def ready() -> bool:
            for name in names:
                self.check_alive(name)
            return all(re.search(r"celery@\S+ ready\.", self.log(name)) for name in names)

        wait_until(ready, timeout, f"workers {names} to be ready", interval=0.25)

    def check_alive(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-4000:]}")

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            with suppress(ProcessLookupError):
                self.stop(name)

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        paths = sorted((self.root / "logs").glob("*.log"))
        return "\n".join(f"--- {p.stem}\n{p.read_text(errors='replace')}" for p in paths)


# --- HTTP client side --------------------------------------------------------------------------------------


def upload(client: httpx.Client, token: str, path: Path, **meta: str) -> str:
    # Three days ago on the service clock (these processes run on the real one): inside the withdrawal window.
    interview_date = (clock.utcnow().date() - timedelta(days=3)).isoformat()
    fields = {"participant_code": "P07", "cohort": "police", "interview_date": interview_date, **meta}
    with open(path, "rb") as fh:
        resp = client.post(
            "/api/v1/recordings", headers={"Authorization": f"Bearer {token}"}, data=fields,
            files={"file": (path.name, fh)},
        )
    if resp.status_code != 202:
        raise AssertionError(f"upload of {path.name} failed: {resp.status_code} {resp.text}")
    return resp.json()["id"]


def status(client: httpx.Client, token: str, recording_id: str) -> dict:
    resp = client.get(f"/api/v1/recordings/{recording_id}", headers={"Authorization": f"Bearer {token}"})
    resp.raise_for_status()
    return resp.json()


def wait_all(client: httpx.Client, token: str, ids: list[str], timeout: float) -> dict[str, dict]:
    done: dict[str, dict] = {}

    def finished() -> bool:
        for rid in ids:
            if rid not in done:
                body = status(client, token, rid)
                if body["status"] in FINAL:
                    done[rid] = body
        return len(done) == len(ids)

    wait_until(finished, timeout, f"{len(ids)} jobs to finish", interval=0.5)
    return done


# --- recordings --------------------------------------------------------------------------------------------


def concatenated_wav(out: Path, sources: list[Path], *, seconds: float) -> Path:
    """Real speech from several recordings, joined and trimmed to `seconds`, as 16 kHz mono WAV."""
    from pipeline.decode import decode_audio

    parts = [decode_audio(str(p)) for p in sources]
    audio = np.concatenate(parts)
    reps = int(np.ceil(seconds * 16_000 / audio.size))
    pcm = (np.clip(np.tile(audio, reps)[: int(seconds * 16_000)], -1, 1) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(pcm.tobytes())
    return out


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    t: dict[str, float] = {"start": time.monotonic()}
    yield t
    t["elapsed"] = time.monotonic() - t["start"]
