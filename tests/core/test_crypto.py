"""Envelope encryption and the segmented blob format."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from service.core.crypto import (
    HEADER_SIZE,
    DataKey,
    DecryptingReader,
    EncryptingWriter,
    IntegrityError,
    MasterKey,
    MasterKeyError,
)
from service.core.storage import LocalBlobStore


class MemorySource:
    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    def size(self) -> int:
        return len(self.data)

    def read_at(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset : offset + length])


def seal(
    data: bytes, key: DataKey, *, segment: int = 4096, context: bytes = b"rec-1"
) -> tuple[bytes, object]:
    sink = io.BytesIO()
    writer = EncryptingWriter(key, sink, context=context, segment_size=segment)
    for i in range(0, len(data), 1000):
        writer.write(data[i : i + 1000])
    stats = writer.close()
    return sink.getvalue(), stats


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096, 50_000])
def test_round_trip_any_size(size: int) -> None:
    key = DataKey.generate()
    data = os.urandom(size)
    blob, stats = seal(data, key)
    assert stats.plaintext_size == size
    reader = DecryptingReader(key, MemorySource(blob), context=b"rec-1")
    assert reader.size == size
    assert reader.read() == data
    assert data[:16] not in blob[HEADER_SIZE:] or size < 16


def test_random_access_seek() -> None:
    key = DataKey.generate()
    data = os.urandom(40_000)
    blob, _ = seal(data, key)
    reader = io.BufferedReader(DecryptingReader(key, MemorySource(blob), context=b"rec-1"))
    for offset in (0, 4095, 4096, 12_345, 39_999, 20_000):
        reader.seek(offset)
        assert reader.read(777) == data[offset : offset + 777]
    reader.seek(-10, io.SEEK_END)
    assert reader.read() == data[-10:]


def test_flipped_byte_fails_integrity() -> None:
    key = DataKey.generate()
    blob, _ = seal(os.urandom(10_000), key)
    tampered = bytearray(blob)
    tampered[HEADER_SIZE + 5000] ^= 0x01
    reader = DecryptingReader(key, MemorySource(bytes(tampered)), context=b"rec-1")
    with pytest.raises(IntegrityError):
        reader.read()


def test_truncation_dropping_last_segment_is_detected() -> None:
    key = DataKey.generate()
    data = os.urandom(3 * 4096 + 100)
    blob, _ = seal(data, key)
    overhead = key.overhead()
    # Drop the final (short) segment exactly: the new last segment was sealed as "not last".
    truncated = blob[: len(blob) - (100 + overhead)]
    reader = DecryptingReader(key, MemorySource(truncated), context=b"rec-1")
    with pytest.raises(IntegrityError):
        reader.read()


def test_swapped_segments_are_detected() -> None:
    key = DataKey.generate()
    data = os.urandom(3 * 4096)
    blob, _ = seal(data, key)
    seg = 4096 + key.overhead()
    s0 = blob[HEADER_SIZE : HEADER_SIZE + seg]
    s1 = blob[HEADER_SIZE + seg : HEADER_SIZE + 2 * seg]
    swapped = blob[:HEADER_SIZE] + s1 + s0 + blob[HEADER_SIZE + 2 * seg :]
    with pytest.raises(IntegrityError):
        DecryptingReader(key, MemorySource(swapped), context=b"rec-1").read()


def test_blob_bound_to_its_object_id() -> None:
    key = DataKey.generate()
    blob, _ = seal(b"x" * 5000, key, context=b"rec-1")
    with pytest.raises(IntegrityError):
        DecryptingReader(key, MemorySource(blob), context=b"rec-2").read()


def test_master_key_wrap_unwrap_and_wrong_master(tmp_path: Path) -> None:
    master = MasterKey.generate(tmp_path / "k1.json")
    other = MasterKey.generate(tmp_path / "k2.json")
    key = DataKey.generate()
    wrapped = master.wrap(key, key_id="abc")
    restored = master.unwrap(wrapped, key_id="abc")
    assert restored.decrypt(key.encrypt(b"hello", context=b"c"), context=b"c") == b"hello"
    with pytest.raises(IntegrityError):
        other.unwrap(wrapped, key_id="abc")
    with pytest.raises(IntegrityError):
        master.unwrap(wrapped, key_id="abd")  # a wrapped key can't be moved to another id


def test_master_key_file_mode_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.json"
    MasterKey.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        MasterKey.generate(path)
    with pytest.raises(MasterKeyError, match="not found"):
        MasterKey.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(MasterKeyError, match="not a valid"):
        MasterKey.load(tmp_path / "bad.json")


def test_local_store_only_accepts_its_own_ids(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for bad in ("../../etc/passwd", "a" * 31, "A" * 32, "../" + "a" * 29):
        with pytest.raises(ValueError):
            store.create(bad)
    writer = store.create("a" * 32)
    writer.write(b"ciphertext")
    writer.abort()
    assert store.list_ids() == []
    assert not any((tmp_path / "blobs").rglob("*.partial"))
