"""The Celery deployment for real: Redis broker, PostgreSQL, worker and beat as separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from fastapi.testclient import TestClient

from pipeline.decode import decode_audio
from service.core.crypto import MasterKey
from service.core.db import session_scope
from tests.support.apps import create_users, make_settings, wait_for_job
from tests.support.databases import REDIS_URL
from tests.support.dates import interview_date
from tests.support.paths import MODEL_CACHE, shared

pytestmark = pytest.mark.slow


class Procs:
    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logdir.glob("*.log")))


@pytest.fixture
def celery_env(tmp_path: Path, pg_url: str) -> Iterator[tuple[object, Procs]]:
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    key_file = tmp_path / "secrets" / "master-keyset.json"
    MasterKey.generate(key_file)
    settings = make_settings(
        tmp_path, pg_url, queue="celery", broker_url=REDIS_URL, master_key_file=key_file,
        lease_seconds=6, heartbeat_seconds=2, reaper_interval_s=2, broker_visibility_timeout_s=10,
        redispatch_after_s=30,
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "ANONSCRIBE_DATA_DIR": str(settings.data_dir),
        "ANONSCRIBE_DATABASE_URL": pg_url,
        "ANONSCRIBE_QUEUE": "celery",
        "ANONSCRIBE_BROKER_URL": REDIS_URL,
        "ANONSCRIBE_MASTER_KEY_FILE": str(key_file),
        "ANONSCRIBE_WHISPER_MODEL": "tiny.en",
        "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "ANONSCRIBE_CPU_THREADS": "1",
        "ANONSCRIBE_LEASE_SECONDS": "6",
        "ANONSCRIBE_HEARTBEAT_SECONDS": "2",
        "ANONSCRIBE_REAPER_INTERVAL_S": "2",
        "ANONSCRIBE_BROKER_VISIBILITY_TIMEOUT_S": "10",
        "ANONSCRIBE_REDISPATCH_AFTER_S": "30",
    }
    logdir = tmp_path / "logs"
    logdir.mkdir()
    procs = Procs(env, logdir)
    try:
        yield settings, procs
    finally:
        procs.stop_all()
        r.flushdb()


def _long_wav(path: Path, seconds: int) -> Path:
    speech = decode_audio(str(shared("azure_en_general_test.wav")))
    reps = int(np.ceil(seconds * 16_000 / speech.size))
    pcm = (np.tile(speech, reps)[: seconds * 16_000] * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(pcm)
    return path


def _post(client: TestClient, token: str, path: Path) -> str:
    with open(path, "rb") as fh:
        resp = client.post(
            "/api/v1/recordings", headers={"Authorization": f"Bearer {token}"},
            data={"participant_code": "P21", "cohort": "victim", "interview_date": interview_date()},
            files={"file": (path.name, fh)},
        )
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def test_celery_worker_end_to_end_and_kill_mid_job(celery_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app
    from service.audit.models import AuditEvent
    from service.core.keystore import WrappedDataKey
    from service.recordings.models import Job
    from service.transcripts.models import RawTranscript

    settings, procs = celery_env
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"]["queue"] is True
        rt = app.state.runtime
        tokens = create_users(rt)
        up, rev = {"Authorization": f"Bearer {tokens['uploader']}"}, {"Authorization": f"Bearer {tokens['reviewer']}"}

        # 1. A short real recording through the Celery worker.
        procs.start("worker1", "worker")
        t0 = time.time()
        short = _post(client, tokens["uploader"], shared("fw_jfk.flac"))
        body = wait_for_job(client, up, short, timeout=180)
        print(f"short job done in {time.time() - t0:.1f}s")
        assert body["status"] == "needs_review", (body, procs.logs()[-3000:])
        text = client.get(f"/api/v1/recordings/{short}/transcript?format=txt", headers=rev).text
        assert "ask not what your country can do for you" in text.lower()

        # 2. Kill the worker in the middle of a longer job; a new worker (with beat reaping) finishes it.
        long_id = _post(client, tokens["uploader"], _long_wav(tmp_path / "long.wav", 240))
        deadline = time.time() + 120
        while time.time() < deadline:
            job = client.get(f"/api/v1/recordings/{long_id}", headers=up).json()["job"]
            if job["state"] == "transcribing" and job["stage"] == "transcribing":
                break
            time.sleep(0.1)
        assert job["state"] == "transcribing" and job["progress"] < 1.0, job
        time.sleep(0.5)
        procs.kill("worker1")
        procs.start("scheduler", "scheduler")
        procs.start("worker2", "worker")
        t0 = time.time()
        body = wait_for_job(client, up, long_id, timeout=300)
        print(f"long job recovered in {time.time() - t0:.1f}s")
        assert body["status"] == "needs_review", (body, procs.logs()[-3000:])
        assert body["job"]["attempts"] == 2
        time.sleep(12)  # past the broker's visibility timeout: the redelivered message must be a no-op

        with session_scope(rt.sessions) as s:
            assert s.query(RawTranscript).filter_by(recording_id=long_id).count() == 1
            creates = s.query(AuditEvent).filter_by(action="transcript.create", object_id=long_id).count()
            assert creates == 1
            assert s.query(Job).filter_by(recording_id=long_id).one().state == "needs_review"
            assert s.query(WrappedDataKey).count() == 4  # 2 recordings x (audio + transcript)
        assert len(list(Path(settings.resolved_blob_dir).rglob("*.blob"))) == 2

    # Workers log ids and states, never what was said.
    logs = procs.logs().lower()
    assert "waiting for review" in logs
    assert "ask not what your country" not in logs and "fellow americans" not in logs
