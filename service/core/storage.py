"""Blob back-ends. They only ever see ciphertext; the encrypting writer sits in front of them.

`LocalBlobStore` (a directory: the embedded default, one host) lives here; `S3BlobStore` (API and workers on
different machines) in `storage_s3`, imported only when configured. What both share (the interface, errors and
the blob-id rule) is in `blobs`, so neither imports the other.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from service.core.blobs import BlobNotFound, BlobSource, BlobStore, BlobWriter, StorageError, check_blob_id
from service.core.private import private_dir

if TYPE_CHECKING:
    from service.core.settings import Settings

# Shard directories are removed when their last blob goes; a writer racing that removal makes it again.
_CREATE_TRIES = 5


def _prune_shard(shard: Path, root: Path) -> None:
    """Remove a shard directory if it is empty. Never the root or anything outside it; a directory a concurrent
    writer has just put a file in is not empty, and rmdir (atomic) then leaves it alone."""
    if shard.parent != root:
        return
    try:
        shard.rmdir()
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
            raise


class _LocalWriter:
    def __init__(self, final: Path, root: Path) -> None:
        self._final = final
        self._root = root
        self._partial = final.with_suffix(".partial")
        for attempt in range(_CREATE_TRIES):
            try:
                private_dir(final.parent)
                fd = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileNotFoundError:
                # The shard was pruned between its mkdir (or chmod) and the open (its last blob was just deleted):
                # make it again.
                if attempt == _CREATE_TRIES - 1:
                    raise
        self._fh = os.fdopen(fd, "wb", buffering=1024 * 1024)

    def write(self, data: bytes) -> int:
        return self._fh.write(data)

    def commit(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._partial, self._final)

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._partial.unlink(missing_ok=True)
        _prune_shard(self._partial.parent, self._root)


class _LocalSource:
    def __init__(self, path: Path) -> None:
        try:
            self._fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        except FileNotFoundError as exc:
            raise BlobNotFound(path.name) from exc
        self._size = os.fstat(self._fh.fileno()).st_size

    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        return os.pread(self._fh.fileno(), length, offset)

    def close(self) -> None:
        self._fh.close()


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = private_dir(root)

    def _path(self, blob_id: str) -> Path:
        check_blob_id(blob_id)
        return self.root / blob_id[:2] / f"{blob_id}.blob"

    def create(self, blob_id: str) -> _LocalWriter:
        return _LocalWriter(self._path(blob_id), self.root)

    def open(self, blob_id: str) -> _LocalSource:
        return _LocalSource(self._path(blob_id))

    def delete(self, blob_id: str) -> None:
        path = self._path(blob_id)
        path.unlink(missing_ok=True)
        path.with_suffix(".partial").unlink(missing_ok=True)
        _prune_shard(path.parent, self.root)

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).exists()

    def list_ids(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*/*.blob"))

    def sweep_incomplete(self, *, older_than_s: float) -> int:
        """Remove `.partial` files a crashed process left behind."""
        cutoff = time.time() - older_than_s
        n = 0
        for path in self.root.glob("*/*.partial"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    n += 1
            except FileNotFoundError:
                continue
            _prune_shard(path.parent, self.root)
        return n

    def ping(self) -> bool:
        return self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)

    def prepare(self) -> None:
        private_dir(self.root)

    def describe(self) -> str:
        return "local directory"


def make_blob_store(settings: Settings) -> BlobStore:
    if settings.storage == "s3":
        from service.core.storage_s3 import S3BlobStore  # boto3 only where it is used

        try:
            return S3BlobStore.from_settings(settings)
        except ValueError as exc:
            raise StorageError(str(exc)) from exc
    return LocalBlobStore(settings.resolved_blob_dir)


__all__ = ["BlobNotFound", "BlobSource", "BlobStore", "BlobWriter", "LocalBlobStore", "StorageError", "make_blob_store"]
