"""The local blob store removes a shard directory with its last blob, and never races a writer into failing."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

from service.core.storage import LocalBlobStore


def _id(shard: str = "ab") -> str:
    return shard + uuid.uuid4().hex[2:]


def _entries(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_aborted_upload_leaves_no_shard_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    writer = store.create(_id())
    writer.write(b"x" * 10)
    writer.abort()
    assert _entries(store.root) == []
    assert store.root.is_dir(), "the root itself stays"


def test_delete_removes_only_an_emptied_shard(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    a, b = _id(), _id()
    for blob_id in (a, b):
        w = store.create(blob_id)
        w.write(b"sealed")
        w.commit()
    store.delete(a)
    assert store.list_ids() == [b], "a shard with another blob in it stays"
    store.delete(b)
    store.delete(b)  # deleting twice (the shard already gone) is not an error
    assert _entries(store.root) == [] and store.root.is_dir()
    # The next blob in that shard recreates the directory.
    w = store.create(_id())
    w.write(b"again")
    w.commit()
    assert len(store.list_ids()) == 1


def test_sweep_prunes_the_shards_it_empties(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.create(_id("cd"))  # a crashed process's partial blob, never aborted
    old = time.time() - 3600
    for p in store.root.glob("*/*.partial"):
        os.utime(p, (old, old))
    assert store.sweep_incomplete(older_than_s=60) == 1
    assert _entries(store.root) == []


def test_writers_and_deleters_racing_on_one_shard(tmp_path: Path) -> None:
    """Threads create, abort and delete blobs in the same shard at once: every committed blob survives whole,
    nothing raises, and the shard is gone when the last blob is."""
    store = LocalBlobStore(tmp_path / "blobs")
    errors: list[BaseException] = []
    kept: list[str] = []
    lock = threading.Lock()

    def churn(n: int) -> None:
        try:
            for i in range(60):
                blob_id = _id()
                w = store.create(blob_id)
                w.write(b"z" * 64)
                if i % 3 == 0:
                    w.abort()
                    continue
                w.commit()
                if i % 3 == 1:
                    store.delete(blob_id)
                else:
                    with lock:
                        kept.append(blob_id)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert store.list_ids() == sorted(kept)
    for blob_id in kept:
        src = store.open(blob_id)
        assert src.read_at(0, 100) == b"z" * 64
        src.close()
        store.delete(blob_id)
    assert _entries(store.root) == []
