"""Server memory while a large recording is streamed into sealed storage through the real API.

What is measured: the resident memory (RSS, the server process plus any children, sampled by psutil
every ``--interval-ms``) of a real ``anonscribe serve`` process while one multipart upload of
``--size-mb`` MiB is POSTed to /api/v1/recordings. The file part is a valid 16 kHz mono 16-bit WAV
header followed by low-level noise PCM (1 GiB is ~9.3 hours of audio), so the upload passes sniffing
and the full probe (which demuxes every packet back through the decrypting reader) before the
server answers 202. Reported: baseline RSS (after start-up and one small warm-up upload, so lazy
imports and first-request allocations are not counted as growth), peak RSS, growth = peak - baseline
(goal <= 64 MB), peak during the body transfer and during the probe, wall time, MB/s and the status.

How: a temp data dir (SQLite, embedded master key, local blob store) and
``ANONSCRIBE_QUEUE=inline``; by default ``ANONSCRIBE_INLINE_WORKERS=0`` so the queued transcription job
never starts (a 9-hour decode would allocate gigabytes and is not what is measured); with
``--inline-workers 1`` the warm-up job is waited for (so the loaded model counts as baseline) and the
server is killed right after the response, before the big job has decoded much. The uploader token
comes from ``anonscribe users create``. The client streams the body from a generator over one
reused noise chunk with a fixed boundary and an explicit Content-Length, so it holds only a few
hundred KiB itself. Afterwards the recording is deleted through the API as admin, the server is
stopped and the temp dir removed.

Run from the repository root: ``python -m bench.upload_memory`` (default 1024 MiB).
Writes bench/results/upload_memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

from bench.common import MODEL_CACHE, RESULTS, tree_rss
from harness.procs import free_port

MIB = 1024 * 1024
GOAL_GROWTH_MB = 64.0
BOUNDARY = "anonscribe-bench-7f3c2a9e51d84b06"
FIELDS = {"participant_code": "P07", "cohort": "police", "interview_date": "2026-11-02"}
SAMPLE_RATE = 16_000
WAV_HEADER_BYTES = 44


def wav_header(data_bytes: int) -> bytes:
    """Canonical 44-byte RIFF/WAVE header for mono 16-bit PCM at 16 kHz."""
    return b"".join(
        [
            b"RIFF",
            struct.pack("<I", 36 + data_bytes),
            b"WAVE",
            b"fmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16),
            b"data",
            struct.pack("<I", data_bytes),
        ]
    )


def noise_chunk(size: int, *, amplitude: int = 64, seed: int = 0) -> bytes:
    """Low-level white noise (about -54 dBFS peak) as little-endian int16 PCM."""
    rng = np.random.default_rng(seed)
    return rng.integers(-amplitude, amplitude + 1, size=size // 2, dtype=np.int16).astype("<i2").tobytes()


@dataclass
class Envelope:
    head: bytes
    tail: bytes
    pcm_bytes: int

    @property
    def content_length(self) -> int:
        return len(self.head) + self.pcm_bytes + len(self.tail)


def envelope(file_bytes: int) -> Envelope:
    """A multipart/form-data body around a WAV file of exactly `file_bytes` bytes (header included)."""
    pcm_bytes = (file_bytes - WAV_HEADER_BYTES) // 2 * 2
    if not 0 < pcm_bytes <= 0xFFFFFFFF - 36:
        raise SystemExit("the WAV must be between 46 bytes and 4 GiB (RIFF 32-bit sizes)")
    head = b""
    for name, value in FIELDS.items():
        head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="noise.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    head += wav_header(pcm_bytes)
    return Envelope(head=head, tail=f"\r\n--{BOUNDARY}--\r\n".encode(), pcm_bytes=pcm_bytes)


@dataclass
class BodyStream:
    env: Envelope
    chunk: bytes
    sent: int = 0
    done_at: float | None = None

    def __iter__(self) -> Iterator[bytes]:
        yield self.env.head
        self.sent += len(self.env.head)
        left = self.env.pcm_bytes
        view = memoryview(self.chunk)
        while left > 0:
            n = min(left, len(self.chunk))
            yield bytes(view[:n]) if n < len(self.chunk) else self.chunk
            left -= n
            self.sent += n
        yield self.env.tail
        self.sent += len(self.env.tail)
        self.done_at = time.perf_counter()


@dataclass
class RssSampler:
    pid: int
    interval_s: float
    samples: list[tuple[float, int]] = field(default_factory=list)
    client_peak: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._proc = psutil.Process(self.pid)
        self._me = psutil.Process()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.perf_counter(), tree_rss(self._proc)))
            except psutil.NoSuchProcess:
                return
            self.client_peak = max(self.client_peak, self._me.memory_info().rss)
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def peak(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside) if inside else 0


def server_env(data_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    # Nothing inherited from the caller's ANONSCRIBE_* settings: a clean, embedded instance.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANONSCRIBE_")}
    env.update(
        {
            "ANONSCRIBE_DATA_DIR": str(data_dir),
            "ANONSCRIBE_WHISPER_MODEL": "tiny.en",
            "ANONSCRIBE_MODEL_CACHE_DIR": str(args.cache_dir),
            "ANONSCRIBE_QUEUE": "inline",
            "ANONSCRIBE_INLINE_WORKERS": str(args.inline_workers),
            "ANONSCRIBE_CPU_THREADS": "2",
            "ANONSCRIBE_MAX_UPLOAD_BYTES": str(args.size_mb * MIB + 16 * MIB),
            # The synthetic upload is hours long; the duration cap is not what is measured here.
            "ANONSCRIBE_MAX_DURATION_S": str(100 * 3600),
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


def anonscribe_cli() -> str:
    local = Path(sys.executable).parent / "anonscribe"
    found = str(local) if local.exists() else shutil.which("anonscribe")
    if not found:
        raise SystemExit("the `anonscribe` command is not installed (pip install -e .)")
    return found


def create_user(cli: str, env: dict[str, str], cwd: Path, name: str, role: str) -> str:
    out = subprocess.run(
        [cli, "users", "create", name, "--role", role],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.split()[-1]


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode} during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def stop_server(server: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


def wait_for_job(client: httpx.Client, url: str, token: str, recording_id: str, timeout: float = 180) -> str:
    deadline = time.time() + timeout
    status = "unknown"
    while time.time() < deadline:
        resp = client.get(f"{url}/api/v1/recordings/{recording_id}", headers={"Authorization": f"Bearer {token}"})
        status = resp.json().get("status", "unknown")
        if status in ("completed", "failed", "cancelled", "needs_review"):
            return status
        time.sleep(0.25)
    raise RuntimeError(f"warm-up job did not finish in {timeout:g} s (status {status})")


def post(client: httpx.Client, url: str, token: str, body: BodyStream) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(body.env.content_length),
    }
    return client.post(f"{url}/api/v1/recordings", content=iter(body), headers=headers)


def mb(n: float) -> float:
    return n / MIB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the uploaded WAV in MiB")
    parser.add_argument("--chunk-kb", type=int, default=256, help="client write size in KiB")
    parser.add_argument("--interval-ms", type=float, default=50.0, help="RSS sampling interval")
    parser.add_argument(
        "--inline-workers",
        type=int,
        default=0,
        help="inline worker threads in the server (0: the queued job never runs)",
    )
    parser.add_argument("--no-warmup", action="store_true", help="skip the small warm-up upload")
    parser.add_argument("--cache-dir", type=Path, default=MODEL_CACHE)
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir (prints its path)")
    parser.add_argument("--output", type=Path, default=RESULTS / "upload_memory.json")
    args = parser.parse_args(argv)

    cli = anonscribe_cli()
    tmp = Path(tempfile.mkdtemp(prefix="anonscribe-upload-bench-"))
    data_dir = tmp / "data"
    env = server_env(data_dir, args)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    server: subprocess.Popen[bytes] | None = None
    try:
        uploader = create_user(cli, env, tmp, "bench-uploader", "uploader")
        admin = create_user(cli, env, tmp, "bench-admin", "admin")
        with open(log_path, "wb") as log_fh:
            server = subprocess.Popen(
                [cli, "serve", "--port", str(port)], env=env, cwd=tmp, stdout=log_fh, stderr=subprocess.STDOUT
            )
        wait_ready(url, server)
        proc = psutil.Process(server.pid)
        rss_start = tree_rss(proc)
        chunk = noise_chunk(args.chunk_kb * 1024)
        timeout = httpx.Timeout(connect=10, read=None, write=None, pool=10)
        with httpx.Client(timeout=timeout) as client:
            warm_ids: list[str] = []
            if not args.no_warmup:
                warm = post(client, url, uploader, BodyStream(envelope(4 * SAMPLE_RATE * 2), chunk))
                if warm.status_code != 202:
                    raise RuntimeError(f"warm-up upload failed: {warm.status_code} {warm.text}")
                warm_ids.append(warm.json()["id"])
                if args.inline_workers:
                    # Let the warm-up job load the model and finish: that memory is baseline, not growth.
                    wait_for_job(client, url, uploader, warm_ids[0])
            time.sleep(1.0)
            sampler = RssSampler(server.pid, args.interval_ms / 1000)
            sampler.start()
            time.sleep(0.5)
            baseline = tree_rss(proc)
            body = BodyStream(envelope(args.size_mb * MIB), chunk)
            t0 = time.perf_counter()
            resp = post(client, url, uploader, body)
            t1 = time.perf_counter()
            time.sleep(max(args.interval_ms / 1000, 0.05))
            sampler.stop()
            if args.inline_workers:
                # The 9-hour job started as soon as the upload committed: stop it before it allocates.
                stop_server(server, kill=True)
            else:
                rid = resp.json().get("id") if resp.status_code == 202 else None
                for recording_id in [*warm_ids, *([rid] if rid else [])]:
                    client.delete(
                        f"{url}/api/v1/recordings/{recording_id}", headers={"Authorization": f"Bearer {admin}"}
                    )
        sent_at = body.done_at or t1
        peak = sampler.peak(t0, t1)
        peak_body = sampler.peak(t0, sent_at)
        peak_probe = sampler.peak(sent_at, t1)
        wall = t1 - t0
        total_bytes = body.env.content_length
        try:
            response_body: object = resp.json()
        except ValueError:
            response_body = resp.text[:500]
        result = {
            "benchmark": "upload_memory",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()},
            "size_mb": args.size_mb,
            "body_bytes": total_bytes,
            "audio_hours": round(body.env.pcm_bytes / (SAMPLE_RATE * 2) / 3600, 2),
            "chunk_kb": args.chunk_kb,
            "interval_ms": args.interval_ms,
            "inline_workers": args.inline_workers,
            "warmup": not args.no_warmup,
            "status": resp.status_code,
            "response": response_body,
            "rss_start_mb": round(mb(rss_start), 1),
            "rss_baseline_mb": round(mb(baseline), 1),
            "rss_peak_mb": round(mb(peak), 1),
            "rss_growth_mb": round(mb(peak - baseline), 1),
            "rss_peak_body_mb": round(mb(peak_body), 1),
            "rss_peak_probe_mb": round(mb(peak_probe), 1),
            "rss_after_mb": round(mb(sampler.samples[-1][1]), 1) if sampler.samples else None,
            "client_peak_rss_mb": round(mb(sampler.client_peak), 1),
            "samples": len([1 for t, _ in sampler.samples if t0 <= t <= t1]),
            "wall_s": round(wall, 2),
            "body_s": round(sent_at - t0, 2),
            "probe_s": round(t1 - sent_at, 2),
            "mb_per_s": round(mb(total_bytes) / wall, 1),
            "body_mb_per_s": round(mb(total_bytes) / max(sent_at - t0, 1e-9), 1),
            "goal_growth_mb": GOAL_GROWTH_MB,
            "rss_trace": [(round(t - t0, 3), round(mb(r), 1)) for t, r in sampler.samples],
        }
    except BaseException:
        if log_path.exists():
            sys.stderr.write("--- server log (tail) ---\n" + log_path.read_text()[-4000:])
        raise
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    ok = result["status"] == 202 and result["rss_growth_mb"] <= GOAL_GROWTH_MB
    rows = [
        ("upload size", f"{args.size_mb} MiB WAV ({result['audio_hours']} h of 16 kHz mono s16)"),
        ("response status", str(result["status"])),
        ("baseline RSS", f"{result['rss_baseline_mb']:.1f} MB (at start-up {result['rss_start_mb']:.1f} MB)"),
        ("peak RSS", f"{result['rss_peak_mb']:.1f} MB"),
        ("  during body", f"{result['rss_peak_body_mb']:.1f} MB"),
        ("  during probe", f"{result['rss_peak_probe_mb']:.1f} MB"),
        ("growth", f"{result['rss_growth_mb']:.1f} MB (goal <= {GOAL_GROWTH_MB:.0f} MB) {'ok' if ok else 'OVER'}"),
        ("wall time", f"{result['wall_s']:.2f} s (body {result['body_s']:.2f} s + probe {result['probe_s']:.2f} s)"),
        ("throughput", f"{result['mb_per_s']:.1f} MB/s overall, {result['body_mb_per_s']:.1f} MB/s body"),
        ("client peak RSS", f"{result['client_peak_rss_mb']:.1f} MB"),
        ("RSS samples", f"{result['samples']} every {args.interval_ms:g} ms"),
    ]
    print("\nUpload memory (MB = MiB)")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
