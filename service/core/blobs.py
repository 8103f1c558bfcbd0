"""What every blob back-end shares: the store's interface, its errors and the rule for blob ids.

Both `storage` (local) and `storage_s3` import this; neither imports the other's internals.
"""

from __future__ import annotations

import re
from typing import Protocol

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobNotFound(Exception):
    pass


class StorageError(Exception):
    """The blob store is misconfigured or unreachable (a message fit for an operator)."""


class BlobWriter(Protocol):
    def write(self, data: bytes) -> object: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class BlobSource(Protocol):
    def size(self) -> int: ...
    def read_at(self, offset: int, length: int) -> bytes: ...
    def close(self) -> None: ...


class BlobStore(Protocol):
    def create(self, blob_id: str) -> BlobWriter: ...
    def open(self, blob_id: str) -> BlobSource: ...
    def delete(self, blob_id: str) -> None: ...
    def exists(self, blob_id: str) -> bool: ...
    def list_ids(self) -> list[str]: ...
    def sweep_incomplete(self, *, older_than_s: float) -> int: ...
    def ping(self) -> bool: ...
    def prepare(self) -> None: ...
    def describe(self) -> str: ...


def is_blob_id(name: str) -> bool:
    return _BLOB_ID.match(name) is not None


def check_blob_id(blob_id: str) -> str:
    # Ids are ours (uuid4 hex), never a user's file name: no path can be smuggled in.
    if not is_blob_id(blob_id):
        raise ValueError("invalid blob id")
    return blob_id
