"""Throughput of the scaled-out service: jobs per hour with 1 vs 2 (or more) Celery worker processes.

What is measured, for each worker count k in ``--workers``: a fresh stack of the docker-compose topology as local
processes (the commands docker-compose.yml runs: ``anonscribe migrate``, the uvicorn API, k ``anonscribe worker``
processes, ``anonscribe scheduler``) on a fresh PostgreSQL database, a private redis-server and SeaweedFS S3
(``--storage s3``, the multi-machine configuration; ``local`` = a shared blob directory). Every worker is warmed
first (one job each, so model loading is not counted). Then ``--n`` short real recordings from ../shared/data
are uploaded back to back through the HTTP API and waited for. Reported per k:

- wall: first upload accepted -> last job finished (the jobs' own created_at/finished_at from the API);
- jobs per hour = n / wall, and audio hours transcribed per wall hour;
- per-job processing time (started_at -> finished_at) and queue wait (created_at -> started_at), medians;
- speed-up of each k over k=1.

Queue round-trip overhead (with idle workers, k=1 stack): ``--overhead-jobs`` one-at-a-time uploads of the
shortest clip; overhead = created_at -> started_at (commit, Redis publish, worker pick-up, lease claim), and the
worker's processing time against the bare pipeline (``run_pipeline`` on the same file in this process, same
model and threads), so the service's fixed per-job cost (S3 reads, DB writes, audit) shows.

CPU threads: each worker gets ``--threads`` (default: cores // k, so k workers never oversubscribe the machine).
Model and diarisation default to the service's defaults (base, diarisation on); ``--model tiny.en --no-diarise``
is the fast setting.

Run from the repository root: ``python -m bench.throughput`` (default n=12, workers 1,2).
Smoke: ``python -m bench.throughput --n 2 --workers 1 --model tiny.en --no-diarise --overhead-jobs 1``.
Writes bench/results/throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from bench.common import MODEL_CACHE, PG_ADMIN_URL, RESULTS, SHARED
from harness.databases import scratch_database
from harness.procs import RedisServer, SeaweedS3
from harness.topology import Topology, upload, wait_all
from harness.topology import stack_env as base_env
from service.core.crypto import MasterKey

CLIPS = [
    "fw_jfk.flac",
    "picovoice_falcon_test.wav",
    "pyaa_diarizationExample2.wav",
    "pyannote_sample.wav",
    "fw_stereo_diarization.wav",
    "pyannote_ami_dev00.wav",
]
SHORTEST = "fw_hotwords.mp3"


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _done_at(job: dict) -> float:
    # A job waiting for review is not final (no finished_at); its last update is when the worker finished it.
    return _ts(job["finished_at"] or job["updated_at"])


def stack_env(args: argparse.Namespace, root: Path, *, db_url: str, broker: str, s3: SeaweedS3 | None, threads: int):
    key = root / "master-keyset.json"
    MasterKey.generate(key)
    env = base_env(
        root, key_file=key, database_url=db_url, broker_url=broker, model_cache=args.model_cache,
        whisper_model=args.model, diarise="true" if args.diarise else "false", cpu_threads=threads,
        # The bench queues many jobs at once: no re-dispatch of jobs merely waiting their turn.
        redispatch_after_s=3600,
    )
    if s3 is not None:
        secrets = root / "s3"
        secrets.mkdir()
        (secrets / "access").write_text(s3.access_key)
        (secrets / "secret").write_text(s3.secret_key)
        env |= {
            "ANONSCRIBE_STORAGE": "s3",
            "ANONSCRIBE_S3_ENDPOINT_URL": s3.endpoint_url,
            "ANONSCRIBE_S3_BUCKET": s3.bucket,
            "ANONSCRIBE_S3_PREFIX": f"bench-{uuid.uuid4().hex[:8]}/",
            "ANONSCRIBE_S3_ACCESS_KEY_FILE": str(secrets / "access"),
            "ANONSCRIBE_S3_SECRET_KEY_FILE": str(secrets / "secret"),
        }
    return env


def run_stack(args: argparse.Namespace, k: int, s3: SeaweedS3 | None, *, overhead: bool) -> dict:
    threads = args.threads or max(1, (os.cpu_count() or 1) // k)
    with tempfile.TemporaryDirectory(prefix=f"anonscribe-throughput-{k}-") as tmp, scratch_database(
        args.pg_admin_url, prefix="anonscribe_bench_", digits=10
    ) as db:
        root = Path(tmp)
        broker = RedisServer(root).start()
        topo = Topology(root, stack_env(args, root, db_url=db.url, broker=broker.url, s3=s3, threads=threads))
        try:
            topo.migrate()
            token = topo.create_user("bench-uploader", "uploader")
            topo.start("api", "api")
            workers = [f"worker-{i}" for i in range(k)]
            for name in workers:
                topo.start(name, "worker")
            topo.start("scheduler", "scheduler")
            topo.wait_api()
            topo.wait_workers_ready(workers, timeout=300)
            with httpx.Client(base_url=topo.api_url, timeout=120) as client:
                warm = [upload(client, token, SHARED / SHORTEST) for _ in workers]
                wait_all(client, token, warm, timeout=args.timeout)
                files = [SHARED / CLIPS[i % len(CLIPS)] for i in range(args.n)]
                print(f"k={k}: {args.n} jobs, {threads} thread(s) per worker ...", flush=True)
                ids = [upload(client, token, f) for f in files]
                done = wait_all(client, token, ids, timeout=args.timeout)
                result = {"workers": k, "threads_per_worker": threads, **summarise(list(done.values()))}
                if overhead:
                    result["overhead"] = measure_overhead(args, client, token)
            return result
        except BaseException:
            print(topo.logs()[-6000:], file=sys.stderr)
            raise
        finally:
            topo.stop_all()
            broker.stop()


def summarise(bodies: list[dict]) -> dict:
    jobs = [body["job"] for body in bodies]
    failed = [body for body in bodies if body["status"] not in ("needs_review", "completed")]
    ok = [j for j in jobs if j["started_at"]]
    created, started = ([_ts(j[key]) for j in ok] for key in ("created_at", "started_at"))
    finished = [_done_at(j) for j in ok]
    wall = max(finished) - min(created)
    audio_s = sum(j["audio_total_s"] for j in ok)
    return {
        "jobs": len(jobs),
        "failed": len(failed),
        "wall_s": round(wall, 2),
        "jobs_per_hour": round((len(jobs) - len(failed)) / wall * 3600, 1),
        "audio_s": round(audio_s, 1),
        "audio_hours_per_hour": round(audio_s / wall, 2),
        "processing_s_median": round(statistics.median(f - s for s, f in zip(started, finished, strict=True)), 2),
        "queue_wait_s_median": round(statistics.median(s - c for c, s in zip(created, started, strict=True)), 2),
        "attempts_max": max(j["attempts"] for j in jobs),
    }


def measure_overhead(args: argparse.Namespace, client: httpx.Client, token: str) -> dict:
    latencies, processing = [], []
    for _ in range(args.overhead_jobs):
        rid = upload(client, token, SHARED / SHORTEST)
        [body] = wait_all(client, token, [rid], timeout=args.timeout).values()
        job = body["job"]
        latencies.append(_ts(job["started_at"]) - _ts(job["created_at"]))
        processing.append(_done_at(job) - _ts(job["started_at"]))
    return {
        "clip": SHORTEST,
        "jobs": args.overhead_jobs,
        "dispatch_latency_s_median": round(statistics.median(latencies), 3),
        "dispatch_latency_s_max": round(max(latencies), 3),
        "worker_processing_s_median": round(statistics.median(processing), 3),
    }


def bare_pipeline_s(args: argparse.Namespace, threads: int) -> float:
    """The same clip through run_pipeline in this process (no API, queue, DB or storage), warm."""
    from pipeline.run import SpeakerHints, run_pipeline
    from service.core.settings import Settings
    from workers.options import pipeline_options

    settings = Settings(
        _env_file=None, whisper_model=args.model, model_cache_dir=args.model_cache, cpu_threads=threads,  # type: ignore[call-arg]
        diarise=args.diarise,
    )
    options, diarisation, overlap = pipeline_options(settings)
    hints = SpeakerHints(min_speakers=settings.default_min_speakers, max_speakers=settings.default_max_speakers)
    times = []
    for _ in range(1 + max(1, args.overhead_jobs)):
        t0 = time.perf_counter()
        run_pipeline(str(SHARED / SHORTEST), asr=options, diarisation=diarisation, hints=hints, redact=True,
                     overlap=overlap)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])  # the first run loads the model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=12, help="jobs per worker count")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per worker (0 = cores // workers)")
    parser.add_argument("--model", default="base")
    parser.add_argument("--diarise", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--storage", choices=["s3", "local"], default="s3")
    parser.add_argument("--overhead-jobs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for a batch")
    parser.add_argument("--model-cache", type=Path, default=MODEL_CACHE)
    parser.add_argument(
        "--pg-admin-url", default=PG_ADMIN_URL
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.json")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.workers.split(",")]
    if not SHARED.is_dir():
        parser.error(f"shared data not found at {SHARED}")

    s3 = None
    with tempfile.TemporaryDirectory(prefix="anonscribe-throughput-s3-") as tmp:
        try:
            if args.storage == "s3":
                s3 = SeaweedS3(Path(tmp), bucket="anonscribe-bench").start()
            runs = [run_stack(args, k, s3, overhead=(i == 0 and args.overhead_jobs > 0)) for i, k in enumerate(counts)]
        finally:
            if s3 is not None:
                s3.stop()
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "model": args.model,
        "diarise": args.diarise,
        "storage": args.storage,
        "clips": CLIPS,
        "runs": runs,
    }
    base = runs[0]
    for run in runs:
        run["speedup_vs_first"] = round(run["jobs_per_hour"] / base["jobs_per_hour"], 2)
    if "overhead" in base:
        bare = bare_pipeline_s(args, base["threads_per_worker"])
        base["overhead"]["bare_pipeline_s"] = round(bare, 3)
        base["overhead"]["service_fixed_cost_s"] = round(base["overhead"]["worker_processing_s_median"] - bare, 3)

    print(f"\nmodel {args.model}, diarise {args.diarise}, storage {args.storage}, {os.cpu_count()} CPUs")
    header = ("workers", "threads", "jobs", "wall s", "jobs/h", "audio h/h", "proc s", "x")
    print(" ".join(f"{h:>9}" for h in header))
    for r in runs:
        keys = ("workers", "threads_per_worker", "jobs", "wall_s", "jobs_per_hour", "audio_hours_per_hour",
                "processing_s_median", "speedup_vs_first")
        print(" ".join(f"{r[key]:>9}" for key in keys))
    if "overhead" in base:
        o = base["overhead"]
        print(
            f"queue round trip (idle worker, {o['jobs']} x {o['clip']}): dispatch {o['dispatch_latency_s_median']} s "
            f"median ({o['dispatch_latency_s_max']} max); worker {o['worker_processing_s_median']} s vs bare pipeline "
            f"{o['bare_pipeline_s']} s -> fixed cost {o['service_fixed_cost_s']} s per job"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 1 if any(r["failed"] for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
