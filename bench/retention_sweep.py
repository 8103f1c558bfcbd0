"""Retention sweep time for many recordings due for deletion, on PostgreSQL.

What is measured: the wall time of `service.retention.service.run` (the same function Celery beat and the in-process
scheduler call) deleting the audio of ``--n`` recordings that are all past their maximum age: per recording, the
wrapped data key destroyed, the sealed blob file removed, the row marked and one hash-chained audit event written,
``--batch`` recordings per transaction. With ``--sweepers 2`` that many sweeps start at once in threads (each with its
own connections), as several machines would run them; rows are shared out by ``FOR UPDATE SKIP LOCKED``. Also
reported: the cost of a sweep that finds nothing due (what every periodic run costs most of the time), and a check
that every recording was deleted exactly once and the audit chain verifies.

How: a fresh PostgreSQL database (``--pg``, default the test server), migrated; a temp master key and local blob
directory. The recordings are made through the real sealing path (a per-recording Tink data key wrapped by the master
key, a small sealed blob of ``--blob-kb`` KiB of noise) and inserted with their upload audit events; the clock is then
moved 31 days on (``service.core.clock``), so they are all due at once. Setup time is not part of the figure.

Run from the repository root: ``python -m bench.retention_sweep`` (default 10 000 recordings).
Writes bench/results/retention_sweep.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import PG_ADMIN_URL, RESULTS
from harness.databases import create_database, drop_database

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def populate(runtime, n: int, blob_kb: int) -> list[str]:  # type: ignore[no-untyped-def]
    """n sealed recordings uploaded at T0, as `create_recording` leaves them (minus the probe)."""
    from service.audit import service as audit
    from service.auth import service as auth
    from service.auth.models import Role
    from service.core.db import session_scope
    from service.recordings import jobs
    from service.recordings.models import Recording

    payload = os.urandom(blob_kb * 1024)
    with session_scope(runtime.sessions) as s:
        uploader, _ = auth.create_user(db_session=s, name="bench-uploader", role=Role.uploader)
        uploader_id = uploader.id
    ids: list[str] = []
    for start in range(0, n, 500):
        with session_scope(runtime.sessions) as s:
            for i in range(start, min(n, start + 500)):
                rid = uuid.uuid4().hex
                upload = runtime.sealed.begin(object_id=rid)
                upload.write(payload)
                blob = upload.finish()
                upload.persist_key(s, purpose="audio")
                s.add(Recording(
                    id=rid, uploader_id=uploader_id, participant_code=f"B{i:05d}", study="default", cohort="police",
                    interview_date=date(2026, 11, 2), withdrawal_deadline=date(2026, 11, 30), container="wav",
                    duration_s=60.0, size_bytes=blob.stats.plaintext_size, sha256=blob.stats.plaintext_sha256,
                    blob_id=blob.blob_id, key_id=blob.key_id, created_at=T0,
                ))
                s.flush()
                job = jobs.create_job(db_session=s, recording_id=rid, audio_total_s=60.0)
                job.state = "completed"
                audit.record(db_session=s, action="recording.upload", actor_id=uploader_id, object_type="recording",
                             object_id=rid, details={"bytes": blob.stats.plaintext_size, "container": "wav"})
                ids.append(rid)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="recordings per sweep transaction")
    parser.add_argument("--sweepers", type=int, default=1, help="sweeps started at once (threads)")
    parser.add_argument("--blob-kb", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir")
    args = parser.parse_args()

    from service.audit import service as audit
    from service.core import clock
    from service.core.crypto import MasterKey
    from service.core.db import run_migrations, session_scope
    from service.core.runtime import build_runtime
    from service.core.settings import Settings
    from service.retention import service as retention

    db = create_database(PG_ADMIN_URL, prefix="anonscribe_bench_", digits=10)
    url = db.url
    tmp = Path(tempfile.mkdtemp(prefix="anonscribe-retention-bench-"))
    key_file = tmp / "master-keyset.json"
    MasterKey.generate(key_file)
    settings = Settings(_env_file=None, data_dir=tmp, database_url=url, master_key_file=key_file,  # type: ignore[call-arg]
                        retention_batch_size=args.batch)
    now = [T0]
    clock.set_clock(lambda: now[0])
    runtime = build_runtime(settings)
    try:
        run_migrations(url)
        t = time.perf_counter()
        ids = populate(runtime, args.n, args.blob_kb)
        setup_s = time.perf_counter() - t
        blob_dir = settings.resolved_blob_dir
        assert len(list(blob_dir.rglob("*.blob"))) == args.n

        now[0] = T0 + timedelta(days=31)
        reports: list = []
        start = threading.Barrier(args.sweepers)

        def sweep() -> None:
            start.wait()
            reports.append(retention.run(runtime=runtime))

        threads = [threading.Thread(target=sweep) for _ in range(args.sweepers)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        sweep_s = time.perf_counter() - t

        t = time.perf_counter()
        idle = retention.run(runtime=runtime)
        idle_ms = (time.perf_counter() - t) * 1000

        deleted = [d["recording_id"] for r in reports for d in r.audio_deleted]
        with runtime.engine.connect() as conn:
            events = conn.execute(
                sa.text("SELECT COUNT(*) FROM audit_events WHERE action = 'audio.delete'")
            ).scalar_one()
            keys_left = conn.execute(sa.text("SELECT COUNT(*) FROM data_keys WHERE purpose = 'audio'")).scalar_one()
        with session_scope(runtime.sessions) as s:
            verdict = audit.verify(db_session=s)
        result = {
            "n": args.n,
            "batch": args.batch,
            "sweepers": args.sweepers,
            "blob_kb": args.blob_kb,
            "sweep_s": round(sweep_s, 2),
            "per_recording_ms": round(sweep_s * 1000 / args.n, 3),
            "recordings_per_s": round(args.n / sweep_s, 1),
            "per_sweeper": [r.counts()["audio_deleted"] for r in reports],
            "idle_sweep_ms": round(idle_ms, 1),
            "setup_s": round(setup_s, 1),
            "checks": {
                "each_deleted_once": sorted(deleted) == sorted(ids),
                "audit_events": events,
                "audio_keys_left": keys_left,
                "blobs_left": len(list(blob_dir.rglob("*.blob"))),
                "idle_sweep_found": idle.counts(),
                "audit_chain_ok": verdict.ok,
            },
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "postgres": PG_ADMIN_URL.rsplit("@", 1)[-1].rsplit("/", 1)[0],
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if args.sweepers == 1 else f"_{args.sweepers}sweepers"
        out = RESULTS / f"retention_sweep{suffix}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        print(f"written to {out}")
    finally:
        clock.set_clock(None)
        runtime.close()
        if not args.keep:
            drop_database(PG_ADMIN_URL, db)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
