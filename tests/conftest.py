"""Fixtures only: settings per DB back-end, a running app, users per role, generated media, a live server, S3.
Helpers live in tests/support/ (tests import them from there) and harness/ (shared with bench/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.apps import Api, LiveServer, create_users, make_settings, serve
from tests.support.databases import pg_create, pg_drop
from tests.support.media import build_media

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["PYANNOTE_METRICS_ENABLED"] = "0"


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
    db = pg_create()
    try:
        yield db.url
    finally:
        pg_drop(db)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    db = pg_create()
    try:
        yield db.url
    finally:
        pg_drop(db)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, db_url, diarise=request.node.get_closest_marker("full_pipeline") is not None)


@pytest.fixture
def api(settings) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    from service.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        tokens = create_users(app.state.runtime)
        # A second uploader, to check uploaders can't see each other's recordings.
        tokens["uploader2"] = create_users(app.state.runtime, roles=("uploader",))["uploader"]
        yield Api(client=client, tokens=tokens, settings=settings)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real speech (the Azure clip, first 8 s) in every container Teams and phones produce."""
    return build_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def live_server(settings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with serve(settings) as server:
        yield server


# ---- S3-compatible object storage (a real SeaweedFS, not a mock) -----------------------------------------


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One `weed mini` for the session, with signed, checked S3 credentials scoped to its bucket."""
    from harness.procs import SeaweedS3

    server = SeaweedS3(tmp_path_factory.mktemp("seaweed"), bucket="anonscribe-test")
    try:
        server.start()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()
