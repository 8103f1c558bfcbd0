"""The docker-compose topology, run as local processes: scale-out and faults.

The commands are docker-compose.yml's own (migrate, uvicorn api, `anonscribe worker` x2, `anonscribe scheduler`),
against a fresh PostgreSQL database, a private redis-server (so it can be restarted) and SeaweedFS S3 storage.
Real recordings from the shared data go in through the HTTP API. The tests share one running stack and run in
file order: spread over two workers, a worker SIGKILLed mid-transcription, Redis restarted with jobs queued,
PostgreSQL cut off from the API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy as sa

from harness.procs import RedisServer, SeaweedS3, TcpProxy, wait_until
from harness.topology import Topology, concatenated_wav, stack_env, status, upload, wait_all
from service.core.crypto import MasterKey
from service.core.settings import Settings
from service.core.storage import make_blob_store
from tests.support.apps import s3_settings
from tests.support.databases import pg_create, pg_drop
from tests.support.paths import MODEL_CACHE, shared

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SHORT = [
    "fw_jfk.flac",
    "fw_hotwords.mp3",
    "fw_stereo_diarization.wav",
    "picovoice_falcon_test.wav",
    "pyaa_diarizationExample2.wav",
    "pyannote_sample.wav",
]
JFK = "ask not what your country can do for you"
LEASE_S = 6


@dataclass
class Stack:
    topo: Topology
    redis: RedisServer
    proxy: TcpProxy
    db_url: str
    tokens: dict[str, str]
    settings: Settings
    client: httpx.Client
    long_wav: Path

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def db(self) -> sa.Engine:
        return sa.create_engine(self.db_url)

    def workers(self) -> list[str]:
        return sorted(name for name in self.topo.procs if name.startswith("worker"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedS3) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("topology")
    db = pg_create()
    broker = RedisServer(root).start()
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    key = root / "secrets" / "master-keyset.json"
    MasterKey.generate(key)
    s3 = s3_settings(seaweed, root)
    env = stack_env(
        root, key_file=key, database_url=db.url, broker_url=broker.url, model_cache=MODEL_CACHE,
        whisper_model="tiny.en", diarise="false", cpu_threads=1, lease_seconds=LEASE_S, heartbeat_seconds=2,
        reaper_interval_s=2, redispatch_after_s=6,
        # Long: what recovers a dead worker's or a forgotten job here is the database, not Redis redelivery.
        broker_visibility_timeout_s=3600, **s3,
    )
    topo = Topology(root, env)
    settings = Settings(_env_file=None, **s3)  # type: ignore[arg-type]
    try:
        out = topo.migrate()
        assert "blob storage is ready (s3 bucket" in out, out
        tokens = {role: topo.create_user(f"{role}-topo", role) for role in ("uploader", "reviewer", "admin")}
        # The API alone reaches PostgreSQL through a proxy the test can cut.
        topo.start("api", "api", env={"ANONSCRIBE_DATABASE_URL": db.url.replace(":5432/", f":{proxy.port}/")})
        for name in ("worker-a", "worker-b"):
            topo.start(name, "worker")
        topo.start("scheduler", "scheduler")
        topo.wait_api()
        topo.wait_workers_ready(["worker-a", "worker-b"])
        long_wav = concatenated_wav(
            root / "long.wav", [shared("azure_en_general_test.wav"), shared("pyannote_sample.wav")], seconds=150
        )
        with httpx.Client(base_url=topo.api_url, timeout=60) as client:
            yield Stack(topo, broker, proxy, db.url, tokens, settings, client, long_wav)
    except BaseException:
        print(topo.logs()[-20000:])
        raise
    finally:
        topo.stop_all()
        broker.stop()
        proxy.stop()
        pg_drop(db)


def _transcript_creates(stack: Stack, recording_ids: list[str]) -> dict[str, list[str]]:
    """recording id -> the worker (host:pid:attempt) of each transcript.create audit event."""
    out: dict[str, list[str]] = {rid: [] for rid in recording_ids}
    with stack.db().connect() as conn:
        rows = conn.execute(
            sa.text("SELECT object_id, details FROM audit_events WHERE action = 'transcript.create'")
        ).all()
    for object_id, details in rows:
        if object_id in out:
            out[object_id].append(details["worker"])
    return out


def _raw_transcripts(stack: Stack, recording_ids: list[str]) -> dict[str, int]:
    with stack.db().connect() as conn:
        rows = conn.execute(
            sa.text("SELECT recording_id, count(*) FROM raw_transcripts GROUP BY recording_id")
        ).all()
    counts = dict(rows)
    return {rid: counts.get(rid, 0) for rid in recording_ids}


def _pid(worker: str) -> int:
    return int(worker.split(":")[1])


def _assert_blobs_match_recordings(stack: Stack) -> None:
    """No orphan blob and none missing: the bucket holds exactly the live recordings' audio."""
    with stack.db().connect() as conn:
        blob_ids = set(conn.execute(sa.text("SELECT blob_id FROM recordings WHERE blob_id IS NOT NULL")).scalars())
    store = make_blob_store(stack.settings)
    assert set(store.list_ids()) == blob_ids
    assert store.incomplete_uploads() == []  # type: ignore[attr-defined]


def test_two_workers_six_jobs_each_done_once_and_spread(stack: Stack) -> None:
    t0 = time.monotonic()
    ids = [upload(stack.client, stack.tokens["uploader"], shared(name)) for name in SHORT]
    done = wait_all(stack.client, stack.tokens["uploader"], ids, timeout=150)
    print(f"6 jobs on 2 workers: {time.monotonic() - t0:.1f}s")
    assert {body["status"] for body in done.values()} == {"needs_review"}, done
    assert all(body["job"]["attempts"] == 1 for body in done.values()), done
    creates = _transcript_creates(stack, ids)
    assert all(len(w) == 1 for w in creates.values()), creates
    assert _raw_transcripts(stack, ids) == dict.fromkeys(ids, 1)
    pids = {_pid(w[0]) for w in creates.values()}
    assert pids == {stack.topo.pid("worker-a"), stack.topo.pid("worker-b")}, "both workers did work"
    text = stack.client.get(f"/api/v1/recordings/{ids[0]}/transcript?format=txt", headers=stack.h("reviewer")).text
    assert JFK in text.lower()
    _assert_blobs_match_recordings(stack)


def test_worker_killed_mid_transcription_job_completes_on_the_other(stack: Stack) -> None:
    rid = upload(stack.client, stack.tokens["uploader"], stack.long_wav)

    def transcribing() -> dict | None:
        job = status(stack.client, stack.tokens["uploader"], rid)["job"]
        return job if job["state"] == "transcribing" and job["stage"] == "transcribing" else None

    job = wait_until(transcribing, 60, "the long job to be transcribing", interval=0.1)
    with stack.db().connect() as conn:
        owner = conn.execute(sa.text("SELECT lease_owner FROM jobs WHERE recording_id = :r"), {"r": rid}).scalar_one()
    victim = next(name for name in stack.workers() if stack.topo.pid(name) == _pid(owner))
    survivor = next(name for name in stack.workers() if name != victim)
    survivor_pid = stack.topo.pid(survivor)
    assert job["progress"] < 0.55
    stack.topo.kill(victim)  # SIGKILL: no goodbye, the lease just stops being renewed
    t0 = time.monotonic()
    [body] = wait_all(stack.client, stack.tokens["uploader"], [rid], timeout=150).values()
    print(f"killed {victim}; recovered on {survivor} in {time.monotonic() - t0:.1f}s")
    assert body["status"] == "needs_review" and body["job"]["attempts"] == 2, body
    creates = _transcript_creates(stack, [rid])[rid]
    assert len(creates) == 1 and _pid(creates[0]) == survivor_pid, creates
    assert _raw_transcripts(stack, [rid]) == {rid: 1}
    _assert_blobs_match_recordings(stack)


def test_redis_restart_loses_no_queued_job(stack: Stack) -> None:
    # One worker, busy with a long job: the next uploads wait in Redis.
    busy, *others = stack.workers()
    for name in others:
        stack.topo.stop(name)
    long_id = upload(stack.client, stack.tokens["uploader"], stack.long_wav)
    wait_until(
        lambda: status(stack.client, stack.tokens["uploader"], long_id)["job"]["state"] == "transcribing", 60,
        "the long job to start",
    )
    queued = [upload(stack.client, stack.tokens["uploader"], shared(name)) for name in SHORT[:3]]
    broker = redis.Redis.from_url(stack.redis.url)
    assert broker.llen("anonscribe") >= len(queued), "the short jobs are waiting in Redis"
    before = broker.info("server")["run_id"]
    stack.redis.kill()
    stack.redis.start()  # same port, empty: --save '' and no append-only file
    # A new server that kept nothing: the queued messages are gone. (Not `llen == 0`: the scheduler's reaper may
    # already have re-dispatched a waiting job into the new server, which is the recovery under test.)
    fresh = redis.Redis.from_url(stack.redis.url)
    assert fresh.info("server")["run_id"] != before
    assert fresh.config_get("save")["save"] == "" and fresh.config_get("appendonly")["appendonly"] == "no"
    assert fresh.info("persistence")["rdb_last_load_keys_loaded"] == 0
    t0 = time.monotonic()
    stack.topo.start("worker-r", "worker")  # as compose would restart the stopped ones
    done = wait_all(stack.client, stack.tokens["uploader"], [long_id, *queued], timeout=180)
    print(f"after the Redis restart, 4 jobs done in {time.monotonic() - t0:.1f}s")
    assert {body["status"] for body in done.values()} == {"needs_review"}, done
    assert all(len(w) == 1 for w in _transcript_creates(stack, [long_id, *queued]).values())
    assert _raw_transcripts(stack, [long_id, *queued]) == dict.fromkeys([long_id, *queued], 1)
    assert busy in stack.topo.procs, "the worker that was busy kept running through the restart"
    stack.topo.check_alive(busy)
    _assert_blobs_match_recordings(stack)


def test_database_outage_makes_readyz_503_and_the_api_recovers(stack: Stack) -> None:
    def ready() -> httpx.Response:
        # A new connection per probe, as orchestrators and load balancers make them.
        return httpx.get(f"{stack.topo.api_url}/readyz", timeout=10)

    wait_until(lambda: ready().status_code == 200, 30, "readyz 200 before the outage")
    api_pid = stack.topo.pid("api")
    stack.proxy.cut()
    try:
        resp = wait_until(lambda: (r := ready()).status_code == 503 and r, 20, "readyz to report the outage")
        assert resp.json()["checks"]["database"] is False
        assert resp.json()["checks"]["storage"] is True and resp.json()["checks"]["queue"] is True
        # Requests fail fast with a retryable 503, and the API keeps serving.
        listing = stack.client.get("/api/v1/recordings", headers=stack.h("uploader"))
        assert listing.status_code == 503 and listing.headers["retry-after"], listing.text
    finally:
        stack.proxy.restore()
    t0 = time.monotonic()
    wait_until(lambda: ready().status_code == 200, 30, "readyz to recover")
    print(f"readyz recovered {time.monotonic() - t0:.1f}s after the database came back")
    assert stack.client.get("/api/v1/recordings", headers=stack.h("uploader")).status_code == 200
    assert stack.topo.pid("api") == api_pid, "recovered without a restart"
    stack.topo.check_alive("api")


def test_logs_hold_no_transcript_text(stack: Stack) -> None:
    logs = stack.topo.logs().lower()
    assert "waiting for review" in logs
    assert JFK not in logs and "fellow americans" not in logs
