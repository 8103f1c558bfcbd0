"""The app under test: settings on a temporary data dir, users per role, uploads through the API, a live server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from harness.procs import free_port
from tests.support.dates import interview_date
from tests.support.paths import MODEL_CACHE, TEST_MODEL


def make_settings(tmp_path: Path, db_url: str, **overrides: object):  # type: ignore[no-untyped-def]
    from service.core.settings import Settings

    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": db_url,
        "whisper_model": TEST_MODEL,
        "model_cache_dir": MODEL_CACHE,
        "cpu_threads": 2,
        "queue": "inline",
        "reaper_interval_s": 1,
        # Diarisation costs seconds per job; tests about leases, auth or uploads don't need it.
        # Tests marked `full_pipeline` (and the Celery/compose tests) run the service's real default.
        "diarise": False,
        # Tests send hundreds of bad tokens from one address; tests/auth/test_login_throttle.py turns this on.
        "login_failure_limit": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    settings: object

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def create_users(app_runtime, roles=("admin", "uploader", "reviewer", "researcher")) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from service.auth import service as auth_service
    from service.auth.models import Role
    from service.core.db import session_scope

    tokens = {}
    with session_scope(app_runtime.sessions) as s:
        for role in roles:
            _, token = auth_service.create_user(
                db_session=s, name=f"{role}-{uuid.uuid4().hex[:6]}", role=Role(role)
            )
            tokens[role] = token
    return tokens


def wait_for_job(
    client: TestClient, headers: dict[str, str], recording_id: str, timeout: float = 120
) -> dict:
    deadline = time.time() + timeout
    body: dict = {}
    while time.time() < deadline:
        body = client.get(f"/api/v1/recordings/{recording_id}", headers=headers).json()
        if body["status"] in ("completed", "failed", "cancelled", "needs_review"):
            return body
        time.sleep(0.25)
    raise AssertionError(f"job did not finish in {timeout}s: {body.get('job')}")


def upload(client: TestClient, headers: dict[str, str], path: Path, **meta: str):  # type: ignore[no-untyped-def]
    fields = {"participant_code": "P07", "cohort": "police", "interview_date": interview_date(), **meta}
    with open(path, "rb") as fh:
        return client.post(
            "/api/v1/recordings", headers=headers, data=fields, files={"file": (path.name, fh)}
        )


@dataclass
class LiveServer:
    url: str
    tokens: dict[str, str]
    runtime: object
    settings: object


@contextmanager
def serve(settings, *, start_workers: bool = True) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The real app under uvicorn in a thread: real HTTP framing, real streaming."""
    import uvicorn

    from service.app import create_app
    from service.forwarded import UVICORN_OPTIONS

    app = create_app(settings, start_workers=start_workers)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            tokens=create_users(app.state.runtime),
            runtime=app.state.runtime,
            settings=settings,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def s3_settings(server, tmp_path: Path, *, prefix: str | None = None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Settings entries for the SeaweedFS server; the credentials come from secret files, as under compose."""
    secrets_dir = tmp_path / "s3-secrets"
    secrets_dir.mkdir(exist_ok=True)
    (secrets_dir / "access-key").write_text(server.access_key + "\n")
    (secrets_dir / "secret-key").write_text(server.secret_key + "\n")
    return {
        "storage": "s3",
        "s3_endpoint_url": server.endpoint_url,
        "s3_bucket": server.bucket,
        # A prefix per test: tests share the bucket but never see each other's objects.
        "s3_prefix": prefix or f"t-{uuid.uuid4().hex[:10]}/",
        "s3_access_key_file": secrets_dir / "access-key",
        "s3_secret_key_file": secrets_dir / "secret-key",
    }
