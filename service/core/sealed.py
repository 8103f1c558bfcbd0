"""Encrypted objects: a blob sealed under its own data key, the key wrapped by the master key.

The upload streams through `SealedUpload`; the decoder reads through `open_reader`; `shred` destroys
the key and the blob (crypto-shredding: without the key, any copy of the blob is noise).

Small records kept in the database (a transcript, a study's pseudonym map, a withdrawal's override reason) go
through `SealedStore.seal_record` / `open_record` / `destroy_record`: the domains keep the key id and ciphertext
in their own rows and never see a data key or the master key. Each record is bound to what it is and whose it is
by its associated data, `record_context(kind, object_id)`; stored ciphertexts depend on those exact bytes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy.orm import Session

from service.core.clock import utcnow
from service.core.crypto import DataKey, DecryptingReader, EncryptingWriter, MasterKey, SealedStats
from service.core.db import Base
from service.core.keystore import (
    DataKeyNotFound,
    WrappedDataKey,
    create_data_key,
    destroy_data_key,
    destroy_data_keys,
    keyed_hash,
    load_data_key,
)
from service.core.storage import BlobSource, BlobStore, BlobWriter

log = logging.getLogger("anonscribe.storage")


def record_context(kind: str, object_id: str) -> bytes:
    """The associated data of a sealed object: "anonscribe/<kind>/<object id>". Never change it: every stored
    ciphertext was sealed with it and opens only with the same bytes."""
    return f"anonscribe/{kind}/{object_id}".encode()


def blob_context(object_id: str) -> bytes:
    return record_context("blob", object_id)


class SealedRecord(NamedTuple):
    """What a domain keeps of a sealed record: the id of its data key and the ciphertext."""

    key_id: str
    ciphertext: bytes


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
        """Seal a small side object (kept in the DB) under this blob's data key: it goes when the audio's key
        goes. Opened with `SealedStore.open_record` and the blob's key id."""
        return self._key.encrypt(data, context=context)

    def open_reader(self, *, object_id: str) -> DecryptingReader:
        return DecryptingReader(self._key, self._store.open(self.blob_id), context=blob_context(object_id))

    def abort(self) -> None:
        if not self._done:
            self._writer.abort()
        self._done = True
        try:
            self._store.delete(self.blob_id)
        except Exception as exc:
            # Never mask why the upload failed. A blob left behind is noise: its key was never persisted.
            log.warning("could not remove the blob of an abandoned upload (%s)", type(exc).__name__)


class SealedStore:
    """Sealed blobs and records. The master key stays in here (and in `core`): tests/test_core_boundaries.py
    fails if code outside `service/core` reaches for it."""

    def __init__(self, store: BlobStore, master: MasterKey, *, segment_size: int) -> None:
        self.blobs = store
        self.master = master
        self.segment_size = segment_size

    # ---- blobs --------------------------------------------------------------------------------------------------

    def begin(self, *, object_id: str) -> SealedUpload:
        return SealedUpload(self.blobs, self.master, object_id=object_id, segment_size=self.segment_size)

    def open_reader(
        self, *, db_session: Session, blob_id: str, key_id: str, object_id: str
    ) -> tuple[DecryptingReader, BlobSource]:
        key = load_data_key(db_session=db_session, master=self.master, key_id=key_id)
        source = self.blobs.open(blob_id)
        return DecryptingReader(key, source, context=blob_context(object_id)), source

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

    # ---- small records kept in the database ------------------------------------------------------------------

    def seal_record(self, *, db_session: Session, purpose: str, context: bytes, value: bytes) -> SealedRecord:
        """Seal `value` under a fresh data key, wrapped and added to the caller's transaction."""
        key_id, key = create_data_key(db_session=db_session, master=self.master, purpose=purpose)
        return SealedRecord(key_id, key.encrypt(value, context=context))

    def seal_under(self, *, db_session: Session, key_id: str, context: bytes, value: bytes) -> bytes:
        """Seal `value` under an existing data key (a recording's audio key), so it is crypto-shredded with
        whatever else that key protects. Raises `DataKeyNotFound` once the key was destroyed."""
        key = load_data_key(db_session=db_session, master=self.master, key_id=key_id)
        return key.encrypt(value, context=context)

    def open_record(self, *, db_session: Session, key_id: str, ciphertext: bytes, context: bytes) -> bytes:
        """Raises `DataKeyNotFound` once the key was destroyed, `crypto.IntegrityError` if the ciphertext or its
        context does not match."""
        key = load_data_key(db_session=db_session, master=self.master, key_id=key_id)
        return key.decrypt(ciphertext, context=context)

    def destroy_record(self, *, db_session: Session, key_id: str) -> bool:
        """Crypto-shred one record: its key goes in the caller's transaction. False if it was already gone."""
        return destroy_data_key(db_session=db_session, key_id=key_id)

    def destroy_records(self, *, db_session: Session, key_ids: list[str]) -> int:
        return destroy_data_keys(db_session=db_session, key_ids=key_ids)

    def keyed_hash(self, *, db_session: Session, purpose: str, data: bytes) -> str:
        """HMAC of `data` under the deployment's long-lived key for `purpose` (see `keystore.keyed_hash`: call it
        before the session writes anything)."""
        return keyed_hash(db_session=db_session, master=self.master, purpose=purpose, data=data)


__all__ = ["Base", "DataKeyNotFound", "SealedBlob", "SealedRecord", "SealedStore", "SealedUpload", "record_context"]
