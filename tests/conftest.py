"""Shared fixtures: settings per DB back-end, a running app, users per role, generated media."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.dates import interview_date

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["PYANNOTE_METRICS_ENABLED"] = "0"

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get("ANONSCRIBE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ANONSCRIBE_TEST_REDIS", "redis://127.0.0.1:6379/15")
TEST_MODEL = "tiny.en"
MODEL_CACHE = ROOT / ".pytest_cache" / "models"


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        # Missing evaluation data must fail loudly: a suite that silently skips proves nothing.
        pytest.fail(f"shared data file missing: {path} (expected ../shared/data beside the checkout)")
    return path


@dataclass
class PgDatabase:
    url: str
    name: str


def _pg_create() -> PgDatabase:
    name = f"anonscribe_t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PgDatabase(url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name=name)


def _pg_drop(db: PgDatabase) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)'))
    engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Full-pipeline API tests run on PostgreSQL only: each costs tens of seconds of model time, and the
    DB layer they touch is covered on both back-ends by the faster tests."""
    keep, drop = [], []
    for item in items:
        if item.get_closest_marker("full_pipeline") and "[sqlite" in item.nodeid:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}"
        return
    db = _pg_create()
    try:
        yield db.url
    finally:
        _pg_drop(db)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    db = _pg_create()
    try:
        yield db.url
    finally:
        _pg_drop(db)


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
        # Tests send hundreds of bad tokens from one address; tests/test_login_throttle.py turns this on.
        "login_failure_limit": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, db_url, diarise=request.node.get_closest_marker("full_pipeline") is not None)


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


@pytest.fixture
def api(settings) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    from service.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        tokens = create_users(app.state.runtime)
        # A second uploader, to check uploaders can't see each other's recordings.
        tokens["uploader2"] = create_users(app.state.runtime, roles=("uploader",))["uploader"]
        yield Api(client=client, tokens=tokens, settings=settings)


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


# ---- generated media ------------------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real speech (the Azure clip, first 8 s) in every container Teams and phones produce."""
    out = tmp_path_factory.mktemp("media")
    src = shared("azure_en_general_test.wav")
    speech = ["-ss", "0", "-t", "8", "-i", str(src)]
    files = {
        "wav_mono": ("-ac", "1", "-c:a", "pcm_s16le"),
        "wav_stereo": ("-ac", "2", "-c:a", "pcm_s16le"),
        "m4a": ("-c:a", "aac", "-b:a", "64k"),
        "mp3": ("-c:a", "libmp3lame", "-b:a", "64k"),
        "ogg_opus": ("-c:a", "libopus", "-b:a", "32k"),
        "webm": ("-c:a", "libopus", "-b:a", "32k"),
        "flac": (
            "-c:a",
            "flac",
        ),
    }
    ext = {
        "wav_mono": "wav",
        "wav_stereo": "wav",
        "m4a": "m4a",
        "mp3": "mp3",
        "ogg_opus": "ogg",
        "webm": "webm",
        "flac": "flac",
    }
    paths: dict[str, Path] = {}
    for name, codec in files.items():
        path = out / f"{name}.{ext[name]}"
        ffmpeg(*speech, *codec, str(path))
        paths[name] = path
    video = [
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=320x240:r=15",
        "-shortest",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
    ]
    # ffmpeg's default puts `moov` at the end, as Teams exports often do.
    paths["mp4_moov_end"] = out / "teams.mp4"
    ffmpeg(*speech, *video, str(paths["mp4_moov_end"]))
    paths["mp4_faststart"] = out / "faststart.mp4"
    ffmpeg(*speech, *video, "-movflags", "+faststart", str(paths["mp4_faststart"]))
    paths["mp4_no_audio"] = out / "silent-video.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=160x120:r=10",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(paths["mp4_no_audio"]),
    )
    paths["wav_short"] = out / "short.wav"
    ffmpeg("-ss", "0", "-t", "0.5", "-i", str(src), "-c:a", "pcm_s16le", str(paths["wav_short"]))
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@pytest.fixture
def live_server(settings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with serve(settings) as server:
        yield server


# ---- S3-compatible object storage (a real SeaweedFS, not a mock) -----------------------------------------


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One `weed mini` for the session, with signed, checked S3 credentials scoped to its bucket."""
    from tests.procs import SeaweedS3

    server = SeaweedS3(tmp_path_factory.mktemp("seaweed"), bucket="anonscribe-test")
    try:
        server.start()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


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
