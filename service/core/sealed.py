"""Encrypted objects: a blob sealed under its own data key, the key wrapped by the master key.

The upload streams through `SealedUpload`; the decoder reads through `open_reader`; `shred` destroys
the key and the blob (crypto-shredding: without the key, any copy of the blob is noise).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.core.clock import utcnow
from service.core.crypto import DataKey, DecryptingReader, EncryptingWriter, MasterKey, SealedStats
from service.core.db import Base
from service.core.keystore import WrappedDataKey, destroy_data_key, destroy_data_keys, load_data_key
from service.core.storage import BlobSource, BlobStore, BlobWriter


def blob_context(object_id: str) -> bytes:
    return b"anonscribe/blob/" + object_id.encode()


@dataclass(frozen=True)
class SealedBlob:
    blob_id: str
    key_id: str
    stats: SealedStats


class SealedUpload:
    """Streams plaintext into an encrypted blob; nothing is persisted in the DB until `persist_key`."""

    def __init__(self, store: BlobStore, master: MasterKey, *, object_id: str, segment_size: int) -> None:
        self._store = store
        self._master = master
        self.blob_id = uuid.uuid4().hex
        self.key_id = uuid.uuid4().hex
        self._key = DataKey.generate()
        self._writer: BlobWriter = store.create(self.blob_id)
        self._enc = EncryptingWriter(
            self._key, self._writer, context=blob_context(object_id), segment_size=segment_size
        )
        self._done = False
        self.bytes_written = 0

    def write(self, data: bytes) -> None:
        self._enc.write(data)
        self.bytes_written += len(data)

    def finish(self) -> SealedBlob:
        stats = self._enc.close()
        self._writer.commit()
        self._done = True
        return SealedBlob(blob_id=self.blob_id, key_id=self.key_id, stats=stats)

    def persist_key(self, db_session: Session, *, purpose: str) -> None:
        db_session.add(
            WrappedDataKey(
                id=self.key_id,
                purpose=purpose,
                wrapped=self._master.wrap(self._key, key_id=self.key_id),
                created_at=utcnow(),
            )
        )

    def seal_small(self, data: bytes, *, context: bytes) -> bytes:
        """Seal a small side object (kept in the DB) under this blob's data key."""
        return self._key.encrypt(data, context=context)

    def open_reader(self, *, object_id: str) -> DecryptingReader:
        return DecryptingReader(self._key, self._store.open(self.blob_id), context=blob_context(object_id))

    def abort(self) -> None:
        if not self._done:
            self._writer.abort()
        self._store.delete(self.blob_id)
        self._done = True


class SealedStore:
    def __init__(self, store: BlobStore, master: MasterKey, *, segment_size: int) -> None:
        self.blobs = store
        self.master = master
        self.segment_size = segment_size

    def begin(self, *, object_id: str) -> SealedUpload:
        return SealedUpload(self.blobs, self.master, object_id=object_id, segment_size=self.segment_size)

    def open_reader(
        self, *, db_session: Session, blob_id: str, key_id: str, object_id: str
    ) -> tuple[DecryptingReader, BlobSource]:
        key = load_data_key(db_session=db_session, master=self.master, key_id=key_id)
        source = self.blobs.open(blob_id)
        return DecryptingReader(key, source, context=blob_context(object_id)), source

    def open_small(self, *, db_session: Session, key_id: str, ciphertext: bytes, context: bytes) -> bytes:
        key = load_data_key(db_session=db_session, master=self.master, key_id=key_id)
        return key.decrypt(ciphertext, context=context)

    def shred(self, *, db_session: Session, blob_id: str | None, key_id: str | None) -> None:
        if key_id:
            destroy_data_key(db_session=db_session, key_id=key_id)
        if blob_id:
            self.blobs.delete(blob_id)

    def shred_many(self, *, db_session: Session, blob_ids: list[str], key_ids: list[str]) -> tuple[int, int]:
        """Keys first (in the caller's transaction), then blobs: if the commit then fails, the rows still point at
        keys whose blobs are gone, and the next attempt finishes the job. Returns (keys destroyed, blobs deleted)."""
        keys = destroy_data_keys(db_session=db_session, key_ids=key_ids)
        blobs = 0
        for blob_id in blob_ids:
            if self.blobs.exists(blob_id):
                blobs += 1
            self.blobs.delete(blob_id)
        return keys, blobs


__all__ = ["Base", "SealedBlob", "SealedStore", "SealedUpload"]
