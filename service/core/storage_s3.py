"""S3-compatible blob back-end (AWS S3, SeaweedFS, MinIO, Ceph RGW). Like the local one it only sees ciphertext.

Writes buffer ciphertext into parts of `part_bytes` (S3's minimum part is 5 MiB; the sealed writer emits 1 MiB
segments) and send them as one multipart upload from a helper thread, one part in flight, so memory stays at
about two parts; a blob smaller than one part is a single PUT. Any failure aborts the multipart upload: no
half-written object, and no orphaned parts, is left behind. Reads are ranged GETs through a small read-ahead
window, so the decrypting reader can seek (an MP4 whose `moov` is at the end costs one extra request).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from service.core.blobs import BlobNotFound, StorageError, check_blob_id, is_blob_id

if TYPE_CHECKING:
    from service.core.settings import Settings

log = logging.getLogger("anonscribe.storage")

MIN_PART_BYTES = 5 * 1024 * 1024
READ_AHEAD_BYTES = 4 * 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class _S3Writer:
    def __init__(self, store: S3BlobStore, key: str) -> None:
        self._store = store
        self._key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._pending: Future[dict[str, Any]] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("writer closed")
        self._buffer += data
        size = self._store.part_bytes
        while len(self._buffer) >= size:
            part = bytes(self._buffer[:size])
            del self._buffer[:size]
            self._send(part)
        return len(data)

    def _send(self, part: bytes) -> None:
        s = self._store
        if self._upload_id is None:
            self._upload_id = s.client.create_multipart_upload(Bucket=s.bucket, Key=self._key)["UploadId"]
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-upload")
        self._collect()  # one part in flight: the caller waits for the previous one before handing over another
        number = len(self._parts) + 1
        assert self._pool is not None

        def upload() -> dict[str, Any]:
            resp = s.client.upload_part(
                Bucket=s.bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
            )
            return {"PartNumber": number, "ETag": resp["ETag"]}

        self._pending = self._pool.submit(upload)

    def _collect(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._parts.append(pending.result())

    def commit(self) -> None:
        if self._closed:
            raise ValueError("writer closed")
        s = self._store
        try:
            if self._upload_id is None:
                s.client.put_object(Bucket=s.bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                if self._buffer:
                    self._send(bytes(self._buffer))  # the last part may be smaller than 5 MiB
                self._collect()
                s.client.complete_multipart_upload(
                    Bucket=s.bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
                )
        except BaseException:
            self.abort()
            raise
        self._buffer = bytearray()
        self._closed = True
        self._shutdown()

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._buffer = bytearray()
        if self._pending is not None:
            # Wait for the part in flight (its failure may be why we abort); the upload is aborted below either way.
            self._pending.exception()
            self._pending = None
        self._shutdown()
        if self._upload_id is not None:
            s = self._store
            try:
                s.client.abort_multipart_upload(Bucket=s.bucket, Key=self._key, UploadId=self._upload_id)
            except ClientError as exc:
                if _code(exc) != "NoSuchUpload":
                    log.warning("could not abort a multipart upload (%s); the stale-upload sweep will", _code(exc))
            except BotoCoreError as exc:
                log.warning("could not abort a multipart upload (%s); the stale-upload sweep will", type(exc).__name__)

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class _S3Source:
    """Random access by ranged GETs; keeps one read-ahead window (the decrypting reader asks segment by segment)."""

    def __init__(self, store: S3BlobStore, key: str, blob_id: str) -> None:
        self._store = store
        self._key = key
        self._blob_id = blob_id
        try:
            head = store.client.head_object(Bucket=store.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise BlobNotFound(blob_id) from exc
            raise
        self._size = int(head["ContentLength"])
        self._window_start = 0
        self._window = b""

    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self._size)
        if offset >= end:
            return b""
        start = self._window_start
        if not (start <= offset and end <= start + len(self._window)):
            fetch_end = min(self._size, max(end, offset + self._store.read_ahead))
            s = self._store
            try:
                resp = s.client.get_object(Bucket=s.bucket, Key=self._key, Range=f"bytes={offset}-{fetch_end - 1}")
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    raise BlobNotFound(self._blob_id) from exc
                raise
            with resp["Body"] as body:
                self._window = body.read()
            self._window_start = start = offset
        return self._window[offset - start : end - start]

    def close(self) -> None:
        self._window = b""


class S3BlobStore:
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "blobs/",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        part_bytes: int = 8 * 1024 * 1024,
        read_ahead: int = READ_AHEAD_BYTES,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.part_bytes = part_bytes
        self.read_ahead = read_ahead
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                signature_version="s3v4",
                # Self-hosted stores (SeaweedFS, MinIO) want path-style URLs; AWS works either way.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                retries={"mode": "standard", "max_attempts": 5},
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=16,
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        access, secret = settings.s3_credentials()
        return cls(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key=access,
            secret_key=secret,
            part_bytes=settings.s3_part_bytes,
        )

    def _key(self, blob_id: str) -> str:
        return self.prefix + check_blob_id(blob_id)

    def create(self, blob_id: str) -> _S3Writer:
        return _S3Writer(self, self._key(blob_id))

    def open(self, blob_id: str) -> _S3Source:
        return _S3Source(self, self._key(blob_id), blob_id)

    def delete(self, blob_id: str) -> None:
        # Idempotent in S3: deleting a missing key succeeds.
        self.client.delete_object(Bucket=self.bucket, Key=self._key(blob_id))

    def exists(self, blob_id: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(blob_id))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    def list_ids(self) -> list[str]:
        ids = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                blob_id = obj["Key"][len(self.prefix) :]
                if is_blob_id(blob_id):
                    ids.append(blob_id)
        return sorted(ids)

    def incomplete_uploads(self) -> list[tuple[str, datetime]]:
        """Multipart uploads begun and neither completed nor aborted: (key, initiated)."""
        out = []
        for page in self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        ):
            out += [(u["Key"], u["Initiated"]) for u in page.get("Uploads", [])]
        return out

    def sweep_incomplete(self, *, older_than_s: float) -> int:
        """Abort multipart uploads a crashed process left behind (their parts take space but are no object)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        n = 0
        for page in self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        ):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    n += 1
        return n

    def ping(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return True
        except (ClientError, BotoCoreError):
            return False

    def prepare(self, *, wait_s: float = 60.0) -> None:
        """Create the bucket if it does not exist, waiting for the endpoint to come up (it may start after us)."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    break
                if _code(exc) in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                    raise StorageError(
                        f"S3 refused access to bucket {self.bucket!r} ({_code(exc)}): check the credentials"
                    ) from exc
                raise StorageError(f"S3 bucket {self.bucket!r}: {_code(exc)}") from exc
            except (EndpointConnectionError, BotoCoreError) as exc:
                if time.monotonic() > deadline:
                    raise StorageError(f"S3 endpoint unreachable ({type(exc).__name__})") from exc
                time.sleep(1.0)
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"could not create S3 bucket {self.bucket!r} ({_code(exc)})") from exc
        log.info("created S3 bucket %s", self.bucket)

    def describe(self) -> str:
        return f"s3 bucket {self.bucket}"
