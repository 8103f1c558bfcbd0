"""Envelope encryption: the only module that touches key material.

A master key-encryption key (a Tink AEAD keyset in a file) wraps one data key per protected object.
Audio is sealed in fixed-size segments, each with the data key's AEAD and associated data binding
the object id, segment index and a last-segment flag, so a reader can seek (PyAV needs that for MP4s
whose `moov` atom is at the end) while reordering, dropping or truncating segments still fails.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tink
from tink import aead, mac, secret_key_access

from service.core.private import private_parents

aead.register()
mac.register()

BLOB_MAGIC = b"ASB1"
_HEADER = struct.Struct(">4sI")  # magic, plaintext segment size
HEADER_SIZE = _HEADER.size


class MasterKeyError(Exception):
    """The master key is missing, unreadable or wrong."""


class IntegrityError(Exception):
    """Ciphertext failed authentication: the stored object was modified, truncated or its key is wrong."""


class MasterKey:
    def __init__(self, handle: tink.KeysetHandle) -> None:
        self._aead = handle.primitive(aead.Aead)

    @classmethod
    def generate(cls, path: Path) -> MasterKey:
        handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
        serialized = tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN)
        private_parents(path.parent)
        # Created 0600 from the first byte: never briefly world-readable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(serialized)
        return cls(handle)

    @classmethod
    def load(cls, path: Path) -> MasterKey:
        try:
            text = path.read_text()
        except FileNotFoundError as exc:
            raise MasterKeyError(f"master key file not found: {path}") from exc
        except OSError as exc:
            raise MasterKeyError(f"master key file unreadable: {path} ({exc.strerror})") from exc
        try:
            handle = tink.json_proto_keyset_format.parse(text, secret_key_access.TOKEN)
            return cls(handle)
        except tink.TinkError as exc:
            raise MasterKeyError(f"master key file is not a valid Tink AEAD keyset: {path}") from exc

    def wrap(self, data_key: DataKey | MacKey, *, key_id: str) -> bytes:
        return tink.proto_keyset_format.serialize_encrypted(data_key.handle, self._aead, key_id.encode())

    def _unwrap_handle(self, wrapped: bytes, key_id: str) -> tink.KeysetHandle:
        try:
            return tink.proto_keyset_format.parse_encrypted(wrapped, self._aead, key_id.encode())
        except tink.TinkError as exc:
            raise IntegrityError("data key could not be unwrapped with the master key") from exc

    def unwrap(self, wrapped: bytes, *, key_id: str) -> DataKey:
        return DataKey(self._unwrap_handle(wrapped, key_id))

    def unwrap_mac(self, wrapped: bytes, *, key_id: str) -> MacKey:
        return MacKey(self._unwrap_handle(wrapped, key_id))


class MacKey:
    """A keyed hash (HMAC-SHA256) for values that must be matched later but never stored in clear, such as a
    withdrawn participant's code: without the key, a short guessable code can't be recovered from its hash."""

    def __init__(self, handle: tink.KeysetHandle) -> None:
        self.handle = handle
        self._mac = handle.primitive(mac.Mac)

    @classmethod
    def generate(cls) -> MacKey:
        return cls(tink.new_keyset_handle(mac.mac_key_templates.HMAC_SHA256_256BITTAG))

    def digest(self, data: bytes) -> str:
        # Tink prefixes a 5-byte key id; the last 32 bytes are the HMAC itself (64 hex, fits an audit object id).
        return self._mac.compute_mac(data)[-32:].hex()


class DataKey:
    def __init__(self, handle: tink.KeysetHandle) -> None:
        self.handle = handle
        self._aead = handle.primitive(aead.Aead)

    @classmethod
    def generate(cls) -> DataKey:
        return cls(tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM))

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        return self._aead.encrypt(plaintext, context)

    def decrypt(self, ciphertext: bytes, *, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(ciphertext, context)
        except tink.TinkError as exc:
            raise IntegrityError("ciphertext failed authentication") from exc

    def overhead(self) -> int:
        return len(self._aead.encrypt(b"", b""))


def _segment_ad(context: bytes, index: int, last: bool) -> bytes:
    return context + struct.pack(">QB", index, 1 if last else 0)


class CiphertextSink(Protocol):
    def write(self, data: bytes) -> object: ...


class CiphertextSource(Protocol):
    def size(self) -> int: ...
    def read_at(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class SealedStats:
    plaintext_size: int
    plaintext_sha256: str


class EncryptingWriter:
    """Buffers at most one segment of plaintext in memory and writes sealed segments to `sink`."""

    def __init__(self, key: DataKey, sink: CiphertextSink, *, context: bytes, segment_size: int) -> None:
        self._key = key
        self._sink = sink
        self._context = context
        self._segment_size = segment_size
        self._buffer = bytearray()
        self._index = 0
        self._size = 0
        self._sha = hashlib.sha256()
        self._closed = False
        sink.write(_HEADER.pack(BLOB_MAGIC, segment_size))

    def write(self, data: bytes | memoryview) -> int:
        if self._closed:
            raise ValueError("writer closed")
        self._sha.update(data)
        self._size += len(data)
        self._buffer += data
        # Keep one full segment back: only close() knows which segment is last.
        while len(self._buffer) > self._segment_size:
            chunk = bytes(self._buffer[: self._segment_size])
            del self._buffer[: self._segment_size]
            self._emit(chunk, last=False)
        return len(data)

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        self._sink.write(self._key.encrypt(chunk, context=_segment_ad(self._context, self._index, last)))
        self._index += 1

    def close(self) -> SealedStats:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer = bytearray()
            self._closed = True
        return SealedStats(plaintext_size=self._size, plaintext_sha256=self._sha.hexdigest())


class DecryptingReader(io.RawIOBase):
    """A seekable plaintext view of a sealed blob; holds one decrypted segment in memory."""

    def __init__(self, key: DataKey, source: CiphertextSource, *, context: bytes) -> None:
        super().__init__()
        self._key = key
        self._source = source
        self._context = context
        header = source.read_at(0, HEADER_SIZE)
        if len(header) != HEADER_SIZE:
            raise IntegrityError("stored object is truncated (no header)")
        magic, self._segment_size = _HEADER.unpack(header)
        if magic != BLOB_MAGIC or self._segment_size <= 0:
            raise IntegrityError("stored object has an unknown format")
        self._overhead = key.overhead()
        self._ct_segment = self._segment_size + self._overhead
        body = source.size() - HEADER_SIZE
        if body < self._overhead:
            raise IntegrityError("stored object is truncated")
        self._segments = -(-body // self._ct_segment)
        last_ct = body - (self._segments - 1) * self._ct_segment
        if last_ct < self._overhead:
            raise IntegrityError("stored object is truncated")
        self._size = (self._segments - 1) * self._segment_size + (last_ct - self._overhead)
        self._pos = 0
        self._cached_index = -1
        self._cached = b""

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def _segment(self, index: int) -> bytes:
        if index != self._cached_index:
            last = index == self._segments - 1
            offset = HEADER_SIZE + index * self._ct_segment
            length = self._ct_segment if not last else self._source.size() - offset
            ct = self._source.read_at(offset, length)
            if len(ct) != length:
                raise IntegrityError("stored object is truncated")
            self._cached = self._key.decrypt(ct, context=_segment_ad(self._context, index, last))
            self._cached_index = index
        return self._cached

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._pos >= self._size:
            return 0
        index, within = divmod(self._pos, self._segment_size)
        segment = self._segment(index)
        n = min(len(buffer), len(segment) - within)
        buffer[:n] = segment[within : within + n]
        self._pos += n
        return n

    def close(self) -> None:
        # The reader owns its source (a file handle or a remote object stream).
        if not self.closed:
            closer = getattr(self._source, "close", None)
            if closer is not None:
                closer()
        super().close()

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(self._segment_size):
            parts.append(chunk)
        return b"".join(parts)
