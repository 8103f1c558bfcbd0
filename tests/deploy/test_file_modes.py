"""The data dir and everything in it are owner-only (0700 directories, 0600 files) whatever the umask.

The app is built here without its entry points (which set an owner-only umask), under a permissive umask, so
what is checked is that every file the service makes gets its mode explicitly: the SQLite database with its
-wal and -shm files, the master key, sealed blobs and their directories, the model cache.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.apps import create_users, make_settings, upload, wait_for_job
from tests.support.media import ffmpeg
from tests.support.paths import ROOT, shared

UMASKS = [0o022, 0o000]


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "speech.wav"
    ffmpeg("-ss", "0", "-t", "6", "-i", str(shared("azure_en_general_test.wav")), "-ac", "1", str(path))
    return path


def loose_modes(root: Path) -> list[str]:
    """Everything under (and including) `root` that is not owner-only, as 'path mode' lines."""
    found = []
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
        if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) != want:
            found.append(f"{path.relative_to(root.parent)} {oct(stat.S_IMODE(st.st_mode))}")
    return found


def names(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*")}


@pytest.mark.parametrize("umask", UMASKS, indirect=True, ids=["umask022", "umask000"])
def test_upload_and_job_leave_only_owner_only_files(umask: int, tmp_path: Path, clip: Path) -> None:
    from service.app import create_app

    data = tmp_path / "data"
    # The embedded default: SQLite, the key file and blobs in the data dir, the model cache too.
    settings = make_settings(tmp_path, f"sqlite:///{data / 'anonscribe.db'}", model_cache_dir=None)
    app = create_app(settings)
    with TestClient(app) as client:
        tokens = create_users(app.state.runtime, roles=("uploader",))
        headers = {"Authorization": f"Bearer {tokens['uploader']}"}
        resp = upload(client, headers, clip)
        assert resp.status_code == 202, resp.text
        assert wait_for_job(client, headers, resp.json()["id"])["status"] in ("needs_review", "completed")
        present = names(data)
        # While the service runs: the WAL files exist, and the check would see a loose one.
        assert {"anonscribe.db", "anonscribe.db-wal", "anonscribe.db-shm", "master-keyset.json"} <= present
        assert any(n.endswith(".blob") for n in present), present
        assert any(n.startswith(".tiny.en-verified") for n in present), present
        assert loose_modes(data) == []
    assert loose_modes(data) == []


@pytest.mark.parametrize("umask", UMASKS, indirect=True, ids=["umask022", "umask000"])
def test_start_up_tightens_files_made_before(umask: int, tmp_path: Path) -> None:
    """A data dir from an older version (or touched by a process with a looser umask) is made owner-only."""
    from service.app import create_app

    data = tmp_path / "data"
    (data / "blobs" / "ab").mkdir(parents=True, mode=0o755)
    (data / "blobs" / "ab" / ("ab" + "0" * 30 + ".blob")).write_bytes(b"x")
    (data / "admin-token").write_text("t")
    os.chmod(data, 0o755)  # noqa: S103 - the loose mode under test
    os.chmod(data / "admin-token", 0o644)
    settings = make_settings(tmp_path, f"sqlite:///{data / 'anonscribe.db'}", model_cache_dir=None)
    with TestClient(create_app(settings, start_workers=False)):
        assert loose_modes(data) == []


@pytest.mark.parametrize("umask", [0o000], indirect=True, ids=["umask000"])
def test_cli_users_create_makes_an_owner_only_data_dir(umask: int, tmp_path: Path) -> None:
    """What scripts/bootstrap runs first on a fresh machine, inheriting a permissive umask."""
    data = tmp_path / "fresh" / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ANONSCRIBE_DATA_DIR": str(data)}
    env.pop("ANONSCRIBE_DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "service.cli", "users", "create", "admin", "--role", "admin"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "anonscribe.db" in names(data)
    assert loose_modes(data) == []
    # The parent it had to create is the user's choice of place, but made by us: owner-only as well.
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
