"""Bad uploads are refused with a precise status and message, and leave nothing behind.

"Nothing behind" means: the same number of rows in every table that an upload writes (recordings,
jobs, data_keys, raw_transcripts, audit_events), no `recording.upload` audit event, and the same set of
files and directories under the blob directory (no stray `*.blob`, no `*.partial`, no emptied shard
directory). Most cases share one app per DB back-end and compare a snapshot taken just before and just
after the request.

The client's file name is never stored: uploads named like path traversals are accepted, and the name
appears nowhere in the database or the data directory afterwards.

Longer than the ~400-line house rule: one table of bad-upload cases against one snapshot helper; the cases
read best side by side.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.recordings.media import sniff
from tests.support.apps import create_users, make_settings
from tests.support.databases import pg_create, pg_drop
from tests.support.dates import interview_date
from tests.support.multipart import BOUNDARY, MULTIPART, form, multipart

URL = "/api/v1/recordings"
TABLES = ("recordings", "jobs", "data_keys", "raw_transcripts", "audit_events")


# ---- helpers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    upload_events: int
    auth_failures: int
    files: frozenset[str]


def snapshot(runtime: Any, settings: Any) -> Snapshot:
    with runtime.engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}
        events = dict(conn.execute(sa.text("SELECT action, COUNT(*) FROM audit_events GROUP BY action")).all())
    blobs: Path = settings.resolved_blob_dir
    # Directories too: a removed partial blob must not leave its (now empty) shard directory behind.
    # os.walk, not rglob: a shard directory may be pruned mid-walk.
    files = frozenset(
        [os.path.relpath(os.path.join(d, f), blobs) for d, _, names in os.walk(blobs) for f in names]
        + [os.path.relpath(os.path.join(d, sub), blobs) + "/" for d, subs, _ in os.walk(blobs) for sub in subs])
    return Snapshot(counts, events.get("recording.upload", 0), events.get("auth.failed", 0), files)


def assert_nothing_left(before: Snapshot, after: Snapshot, *, auth_failures: int = 0) -> None:
    expected = dict(before.counts, audit_events=before.counts["audit_events"] + auth_failures)
    assert after.counts == expected
    assert after.upload_events == before.upload_events
    assert after.auth_failures == before.auth_failures + auth_failures
    assert after.files == before.files, f"left behind: {sorted(after.files - before.files)}"


def db_dump(runtime: Any) -> str:
    """Every row of every table, as text (bytes columns as latin-1 so substrings still match)."""
    out = []
    with runtime.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                out.append(" | ".join(_text(v) for v in row))
    return "\n".join(out)


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    settings: Any
    runtime: Any

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app per back-end for every rejected-upload case: each case diffs its own before/after."""
    from service.app import create_app

    tmp = tmp_path_factory.mktemp(f"bad-{request.param}")
    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"
    settings = make_settings(tmp, url)
    # No workers: nothing in this module needs a transcript, and no background thread touches the DB.
    app = create_app(settings, start_workers=False)
    try:
        with TestClient(app) as client:
            runtime = app.state.runtime
            yield World(client=client, tokens=create_users(runtime), settings=settings, runtime=runtime)
    finally:
        if pg:
            pg_drop(pg)


# ---- rejected uploads: the case table -----------------------------------------------------------------

Media = dict[str, Path]


def _half(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


def _random_bytes(_: Media) -> bytes:
    data = random.Random(1234).randbytes(100_000)
    assert sniff(data[:16]) is None  # the case is about content no sniffer claims
    return form(data, filename="recording.wav")


def _png(_: Media) -> bytes:
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    return form(head + bytes(4096), filename="interview.m4a")


def _zip(_: Media) -> bytes:
    return form(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(4096), filename="interview.mp3")


def _wav_magic_garbage(_: Media) -> bytes:
    garbage = random.Random(99).randbytes(50_000)
    return form(b"RIFF" + (50_004).to_bytes(4, "little") + b"WAVE" + garbage)


def _mp4_magic_garbage(_: Media) -> bytes:
    garbage = random.Random(42).randbytes(50_000)
    return form(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + garbage, filename="x.mp4")


@dataclass(frozen=True)
class Case:
    id: str
    body: Callable[[Media], bytes]
    status: int
    detail: str  # a substring of `detail` (str), or of one error's `msg` when detail is a list
    loc: str | None = None  # for field errors: the field the error must point at
    content_type: str = MULTIPART


CASES = [
    # -- the file itself ---------------------------------------------------------------------------------
    Case(
        "text-renamed-wav",
        lambda m: form(b"Interview notes, participant P07, do not share.\n" * 40, filename="notes.wav"),
        415,
        "not a recognised audio or video container",
    ),
    Case("zero-length", lambda m: form(b""), 422, "the file is empty"),
    Case("ten-bytes", lambda m: form(b"RIFF\x00\x00\x00\x00WA"), 422, "too small to hold audio"),
    Case("mp4-without-audio", lambda m: form(m["mp4_no_audio"].read_bytes()), 422, "no audio stream"),
    # moov is at the end of this M4A: the first half has no index at all.
    Case("m4a-truncated", lambda m: form(_half(m["m4a"])), 422, "corrupt or truncated"),
    # faststart: the index (moov) up front promises 8 s, the data stops after ~4 s.
    Case("mp4-faststart-truncated", lambda m: form(_half(m["mp4_faststart"])), 422, "the file is truncated"),
    # The RIFF header's data chunk promises 8 s; only ~4 s arrive.
    Case("wav-truncated", lambda m: form(_half(m["wav_mono"])), 422, "the file is truncated"),
    Case("shorter-than-1s", lambda m: form(m["wav_short"].read_bytes()), 422, "shorter than 1 s"),
    Case("random-bytes", _random_bytes, 415, "not a recognised audio or video container"),
    Case("png-header", _png, 415, "not a recognised audio or video container"),
    Case("zip-header", _zip, 415, "not a recognised audio or video container"),
    Case("wav-magic-then-garbage", _wav_magic_garbage, 422, "could not be decoded"),
    Case("mp4-magic-then-garbage", _mp4_magic_garbage, 422, "could not be decoded"),
    # -- the multipart structure --------------------------------------------------------------------------
    Case("no-file-part", lambda m: form(None), 422, "no 'file' part in the upload"),
    Case("two-file-parts", lambda m: form(m["wav_mono"].read_bytes(), files=2), 422, "more than one file"),
    Case(
        "part-without-name",
        lambda m: multipart([(None, b"P07", None)]),
        400,
        "malformed multipart part: no form-data name",
    ),
    Case(
        "field-given-twice",
        lambda m: multipart([("cohort", b"police", None), ("cohort", b"victim", None)]),
        422,
        "form field 'cohort' given twice",
    ),
    Case("field-too-long", lambda m: form(b"x" * 100, participant_code="P" * 2000), 422, "is too long"),
    Case(
        "too-many-fields",
        lambda m: multipart([(f"f{i}", b"1", None) for i in range(20)]),
        422,
        "too many form fields",
    ),
    Case(
        "field-not-utf8",
        lambda m: multipart([("participant_code", b"P\xff\xfe07", None)]),
        422,
        "form field 'participant_code' is not UTF-8",
    ),
    Case("not-multipart-at-all", lambda m: b"garbage, no boundary anywhere", 400, "malformed multipart body"),
    Case(
        "broken-part-header",
        lambda m: f"--{BOUNDARY}\r\nContent-Disposition form-data\r\n\r\nP07\r\n--{BOUNDARY}--\r\n".encode(),
        400,
        "malformed multipart body",
    ),
    Case(
        "huge-part-header",
        lambda m: (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{"A" * 20_000}"\r\n\r\n'.encode()
            + m["wav_mono"].read_bytes()
        ),
        400,
        "malformed multipart body",
    ),
    Case(
        "body-cut-before-closing-boundary",
        lambda m: form(m["wav_mono"].read_bytes())[:-200],
        400,
        "the multipart body is incomplete",
    ),
    # -- the metadata -------------------------------------------------------------------------------------
    Case(
        "missing-participant-code",
        lambda m: form(m["wav_mono"].read_bytes(), participant_code=None),
        422,
        "Field required",
        loc="participant_code",
    ),
    Case(
        "bad-cohort",
        lambda m: form(m["wav_mono"].read_bytes(), cohort="police-ish"),
        422,
        "Input should be 'police', 'victim' or 'other'",
        loc="cohort",
    ),
    Case(
        "bad-date",
        lambda m: form(m["wav_mono"].read_bytes(), interview_date="2026-13-45"),
        422,
        "valid date",
        loc="interview_date",
    ),
    Case(
        "deadline-before-interview",
        lambda m: form(m["wav_mono"].read_bytes(), withdrawal_deadline=interview_date(4)),
        422,
        "withdrawal_deadline is before interview_date",
    ),
    Case(
        "sql-injection-code",
        lambda m: form(m["wav_mono"].read_bytes(), participant_code="P07'; DROP TABLE recordings;--"),
        422,
        "String should match pattern",
        loc="participant_code",
    ),
    Case(
        "html-injection-code",
        lambda m: form(m["wav_mono"].read_bytes(), participant_code="<script>alert(1)</script>"),
        422,
        "String should match pattern",
        loc="participant_code",
    ),
    Case(
        "real-name-as-code",
        lambda m: form(m["wav_mono"].read_bytes(), participant_code="Jane Doe"),
        422,
        "String should match pattern",
        loc="participant_code",
    ),
    Case(
        "unknown-field",
        lambda m: form(m["wav_mono"].read_bytes(), participant_name="Jane Doe"),
        422,
        "Extra inputs are not permitted",
        loc="participant_name",
    ),
    # -- the request's Content-Type -----------------------------------------------------------------------
    Case(
        "octet-stream",
        lambda m: m["wav_mono"].read_bytes(),
        415,
        "Content-Type must be multipart/form-data",
        content_type="application/octet-stream",
    ),
    Case(
        "urlencoded",
        lambda m: f"participant_code=P07&cohort=police&interview_date={interview_date()}".encode(),
        415,
        "Content-Type must be multipart/form-data",
        content_type="application/x-www-form-urlencoded",
    ),
    Case(
        "json",
        lambda m: b'{"participant_code": "P07"}',
        415,
        "Content-Type must be multipart/form-data",
        content_type="application/json",
    ),
    Case(
        "multipart-without-boundary",
        lambda m: form(m["wav_mono"].read_bytes()),
        400,
        "multipart boundary missing or invalid",
        content_type="multipart/form-data",
    ),
    Case("no-content-type", lambda m: form(m["wav_mono"].read_bytes()), 415, "multipart/form-data", content_type=""),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rejected_upload_leaves_nothing(world: World, media: Media, case: Case) -> None:
    body = case.body(media)
    headers = world.h("uploader")
    if case.content_type:
        headers["Content-Type"] = case.content_type
    before = snapshot(world.runtime, world.settings)
    resp = world.client.post(URL, headers=headers, content=body)
    assert resp.status_code == case.status, resp.text
    detail = resp.json()["detail"]
    if isinstance(detail, str):
        assert case.loc is None
        assert case.detail in detail, detail
    else:
        # Metadata errors: a list of {loc, msg, type}, never echoing the value that was sent.
        assert any(case.detail in e["msg"] for e in detail), detail
        if case.loc is not None:
            assert [case.loc] in [e["loc"] for e in detail], detail
        assert all(set(e) == {"loc", "msg", "type"} for e in detail), detail
        for secret in ("DROP TABLE", "<script>", "Jane Doe"):
            assert secret not in resp.text
    assert_nothing_left(before, snapshot(world.runtime, world.settings))


@pytest.mark.parametrize("name", ["wav_mono", "m4a", "mp4_faststart", "mp4_moov_end"])
def test_undamaged_originals_are_accepted(world: World, media: Media, name: str) -> None:
    """Controls for the cases above: the rejections are about the damage, not the container.

    The MP4s carry a video track ~3 s longer than their 8 s of audio (x264 lookahead): complete files
    must not be mistaken for truncated ones.
    """
    resp = world.client.post(
        URL, headers={**world.h("uploader"), "Content-Type": MULTIPART}, content=form(media[name].read_bytes())
    )
    assert resp.status_code == 202, resp.text
    body = world.client.get(f"{URL}/{resp.json()['id']}", headers=world.h("uploader")).json()
    assert body["duration_s"] == pytest.approx(8.0, abs=0.1)


@pytest.mark.parametrize(
    ("role", "status"), [("reviewer", 403), ("researcher", 403), (None, 401)], ids=["reviewer", "researcher", "anon"]
)
def test_upload_by_wrong_role_leaves_nothing(world: World, media: Media, role: str | None, status: int) -> None:
    headers = world.h(role) if role else {}
    before = snapshot(world.runtime, world.settings)
    resp = world.client.post(
        URL, headers={**headers, "Content-Type": MULTIPART}, content=form(media["wav_mono"].read_bytes())
    )
    assert resp.status_code == status, resp.text
    # Only a failed login is audited, and nothing else is written.
    assert_nothing_left(before, snapshot(world.runtime, world.settings), auth_failures=1 if role is None else 0)


# ---- size limit ------------------------------------------------------------------------------------------


def test_over_size_limit_leaves_nothing(tmp_path: Path, db_url: str, media: Media) -> None:
    from service.app import create_app

    limit = 200_000
    settings = make_settings(tmp_path, db_url, max_upload_bytes=limit)
    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        runtime = app.state.runtime
        headers = {"Authorization": f"Bearer {create_users(runtime, roles=('uploader',))['uploader']}"}
        mono = form(media["wav_mono"].read_bytes())  # 256 kB: under the early check's slack, caught mid-stream
        stereo = form(media["wav_stereo"].read_bytes())  # 512 kB: refused from Content-Length alone
        assert limit < len(mono) < limit + 64 * 1024 < len(stereo)

        def chunked() -> Iterator[bytes]:  # no Content-Length at all: only the streaming check can stop it
            for i in range(0, len(stereo), 32 * 1024):
                yield stereo[i : i + 32 * 1024]

        for content, message in [
            (mono, f"the file is larger than the limit of {limit} bytes"),
            (stereo, f"the upload is larger than the limit of {limit} bytes"),
            (chunked(), f"the file is larger than the limit of {limit} bytes"),
        ]:
            before = snapshot(runtime, settings)
            resp = client.post(URL, headers={**headers, "Content-Type": MULTIPART}, content=content)
            assert resp.status_code == 413, resp.text
            assert resp.json()["detail"] == message
            assert_nothing_left(before, snapshot(runtime, settings))
        # Under the limit still works: the limit is on the file, not on everything.
        small = media["m4a"].read_bytes()
        resp = client.post(URL, headers={**headers, "Content-Type": MULTIPART}, content=form(small))
        assert resp.status_code == 202, resp.text


# ---- file names are never stored -------------------------------------------------------------------------

TRAVERSAL_NAMES = ["../../etc/passwd", "..\\..\\x.wav", "/tmp/../../Jane Doe P07 interview.m4a"]


def test_traversal_file_names_accepted_and_never_stored(tmp_path: Path, db_url: str, media: Media) -> None:
    from service.app import create_app

    settings = make_settings(tmp_path, db_url)
    # The worker only ever sees the sealed blob, never the request: the name could only be stored by the
    # upload itself, so no transcription is needed (or started) here.
    app = create_app(settings, start_workers=False)
    audio = media["m4a"].read_bytes()
    with TestClient(app) as client:
        runtime = app.state.runtime
        headers = {"Authorization": f"Bearer {create_users(runtime, roles=('uploader',))['uploader']}"}
        ids = []
        for name in TRAVERSAL_NAMES:
            resp = client.post(URL, headers={**headers, "Content-Type": MULTIPART}, content=form(audio, filename=name))
            assert resp.status_code == 202, resp.text
            ids.append(resp.json()["id"])
        for rid in ids:
            body = client.get(f"{URL}/{rid}", headers=headers).json()
            assert body["status"] == "queued" and body["container"] == "mov", body
        dump = db_dump(runtime)
        assert dump.count("recording.upload") == len(ids)
        files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
        # Nothing escaped the data dir and nothing was written next to it under the client's name.
        assert not (tmp_path / "etc").exists() and not (tmp_path / "x.wav").exists()
        for name in TRAVERSAL_NAMES:
            for fragment in {name, name.replace("\\", "\\\\"), "passwd", "x.wav", "Jane Doe"}:
                assert fragment not in dump, fragment
                assert not any(fragment in str(p) for p in files), fragment
                # Raw bytes too: the SQLite file and its WAL, the key file, the (encrypted) blobs.
                assert not any(fragment.encode() in p.read_bytes() for p in files), fragment


# ---- real HTTP framing: Content-Length lies and disconnects ----------------------------------------------


def _files(blobs: Path) -> list[Path]:
    # os.walk, not rglob: the store prunes a shard directory as its last blob goes, possibly mid-walk.
    return [Path(d, f) for d, _, names in os.walk(blobs) for f in names]


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _read_status(sock: socket.socket) -> int | None:
    """The status the server answered with, or None if it closed the connection without answering."""
    data = b""
    try:
        while b"\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return int(data.split(b" ", 2)[1]) if data else None


def _raw_upload(live: Any, content_length: int) -> tuple[str, int, bytes]:
    """Host, port and the request head of an upload sent by hand over a socket."""
    host, port = live.url.removeprefix("http://").split(":")
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {live.tokens['uploader']}\r\n"
        f"Content-Type: {MULTIPART}\r\nContent-Length: {content_length}\r\n\r\n"
    ).encode()
    return host, int(port), head


def _assert_still_serving(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=10) as probe_sock:
        probe_sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        assert _read_status(probe_sock) == 200


SCENARIOS = ["length-larger-half-close", "length-larger-close", "length-smaller", "disconnect-mid-upload"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_content_length_lies_and_disconnects_leave_nothing(live_server: Any, media: Media, scenario: str) -> None:
    runtime, settings = live_server.runtime, live_server.settings
    blobs: Path = settings.resolved_blob_dir
    body = form(media["wav_mono"].read_bytes())  # a valid upload: only the framing is wrong
    declared = {
        "length-larger-half-close": len(body) + 10_000,
        "length-larger-close": len(body) + 10_000,
        "length-smaller": len(body) - 50_000,
    }.get(scenario, len(body))
    host, port, head = _raw_upload(live_server, declared)
    before = snapshot(runtime, settings)
    first = len(body) // 3
    sock = socket.create_connection((host, port), timeout=10)
    try:
        sock.sendall(head + body[:first])
        # The server is now streaming into a sealed blob: the cleanup below has something to clean.
        _wait(lambda: any(p.suffix == ".partial" for p in _files(blobs)), 10, "the upload to start")
        status: int | None = None
        if scenario == "disconnect-mid-upload":
            sock.close()
        elif scenario == "length-larger-close":
            sock.sendall(body[first:])
            sock.close()
        elif scenario == "length-larger-half-close":
            sock.sendall(body[first:])
            sock.shutdown(socket.SHUT_WR)
            status = _read_status(sock)
        else:
            sock.sendall(body[first:])
            status = _read_status(sock)
        assert status is None or 400 <= status < 500, status
    finally:
        sock.close()
    # The file goes first, then its emptied shard directory: wait for both.
    _wait(lambda: snapshot(runtime, settings).files == before.files, 10, "the partial blob to be removed")
    assert_nothing_left(before, snapshot(runtime, settings))
    _assert_still_serving(host, port)


def test_stalled_upload_is_abandoned_with_408_and_leaves_nothing(tmp_path: Path, media: Media) -> None:
    """A client that stops sending mid-body (slow-loris, a laptop lid closed) gets 408 once
    UPLOAD_IDLE_TIMEOUT_S passes without a byte, and its partial blob goes; the server keeps serving."""
    from tests.support.apps import serve

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", upload_idle_timeout_s=1.0)
    with serve(settings) as live:
        blobs: Path = settings.resolved_blob_dir
        body = form(media["wav_mono"].read_bytes())
        host, port, head = _raw_upload(live, len(body))
        before = snapshot(live.runtime, settings)
        with socket.create_connection((host, port), timeout=15) as sock:
            sock.sendall(head + body[: len(body) // 3])
            _wait(lambda: any(p.suffix == ".partial" for p in _files(blobs)), 10, "the upload to start")
            started = time.monotonic()
            # Nothing more is sent; the connection stays open.
            data = b""
            while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
                data += chunk
            waited = time.monotonic() - started
        assert data.split(b" ", 2)[1] == b"408", data[:200]
        assert 0.8 <= waited < 10, waited
        _wait(lambda: snapshot(live.runtime, settings).files == before.files, 10, "the partial blob to be removed")
        assert_nothing_left(before, snapshot(live.runtime, settings))
        _assert_still_serving(host, port)


def test_idle_timeout_is_per_chunk_not_per_upload() -> None:
    """A slow but steady upload is not cut off: the clock restarts with every chunk."""
    import asyncio

    from service.recordings.upload import UploadError, stream_into

    class Sink:
        def write(self, data: bytes) -> None:
            pass

    body = form(b"RIFF" + b"\0" * 4 + b"WAVE" + b"\0" * 5000)

    async def trickle(pause: float, stall_after: int | None = None):  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 1000):
            await asyncio.sleep(pause if stall_after is None or i < stall_after else 5)
            yield body[i:i + 1000]

    async def run(chunks) -> object:  # type: ignore[no-untyped-def]
        return await stream_into(chunks, content_type=MULTIPART, content_length=len(body), sealed=Sink(),  # type: ignore[arg-type]
                                 max_bytes=10**6, idle_timeout_s=0.3)

    started = time.monotonic()
    parsed = asyncio.run(run(trickle(0.1)))  # 6 chunks, ~0.6 s in all: longer than the timeout, never idle for it
    assert parsed.file_seen and time.monotonic() - started > 0.3  # type: ignore[attr-defined]
    with pytest.raises(UploadError) as err:
        asyncio.run(run(trickle(0.01, stall_after=2000)))
    assert err.value.status == 408 and "0.3 s" in err.value.message
