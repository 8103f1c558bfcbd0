"""Job leases, retries, integrity failures and crypto-shredding, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.core import clock
from service.core.crypto import DataKey, DecryptingReader, IntegrityError
from service.core.db import session_scope
from service.core.keystore import DataKeyNotFound, load_data_key
from service.core.sealed import blob_context
from service.recordings import jobs
from service.recordings import service as recordings
from service.recordings.models import Job, Recording
from service.transcripts.models import RawTranscript
from tests.support.apps import Api, create_users, upload
from tests.support.dates import interview_date
from workers import tasks


@pytest.fixture
def quiet_api(settings) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    """The app without worker threads: tests drive `process_recording` themselves."""
    from service.app import create_app

    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        yield Api(client=client, tokens=create_users(app.state.runtime), settings=settings)


def _runtime(api: Api):  # type: ignore[no-untyped-def]
    return api.client.app.state.runtime  # type: ignore[attr-defined]


def _uploaded(api: Api, media: dict[str, Path]) -> tuple[str, str]:
    resp = upload(api.client, api.h("uploader"), media["wav_mono"])
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    with session_scope(_runtime(api).sessions) as s:
        job = jobs.get_for_recording(db_session=s, recording_id=rid)
        assert job is not None and job.state == "queued"
        return rid, job.id


def _job(api: Api, job_id: str) -> Job:
    with session_scope(_runtime(api).sessions) as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


@pytest.fixture
def frozen_clock() -> Iterator[list]:
    from datetime import UTC, datetime

    now = [datetime(2026, 11, 26, 12, 0, tzinfo=UTC)]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


def test_only_one_worker_wins_the_lease(quiet_api: Api, media, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    with session_scope(rt.sessions) as s:
        assert jobs.claim(db_session=s, job_id=job_id, owner="w1", lease_seconds=30, max_attempts=3)
    with session_scope(rt.sessions) as s:
        assert jobs.claim(db_session=s, job_id=job_id, owner="w2", lease_seconds=30, max_attempts=3) is None
    # w1 dies; once its lease lapses w2 may take over, and w1 can no longer write.
    frozen_clock[0] += timedelta(seconds=31)
    with session_scope(rt.sessions) as s:
        assert jobs.claim(db_session=s, job_id=job_id, owner="w2", lease_seconds=30, max_attempts=3)
    with session_scope(rt.sessions) as s, pytest.raises(jobs.LeaseLost):
        jobs.heartbeat(db_session=s, job_id=job_id, owner="w1", lease_seconds=30)
    assert _job(quiet_api, job_id).attempts == 2


def test_reaper_requeues_lapsed_and_forgotten_jobs(quiet_api: Api, media, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    with session_scope(rt.sessions) as s:
        # Never dispatched (no queue): the reaper sends it.
        assert jobs.stale_jobs(db_session=s, redispatch_after_s=600) == [job_id]
    with session_scope(rt.sessions) as s:
        assert jobs.stale_jobs(db_session=s, redispatch_after_s=600) == []  # just dispatched
        jobs.claim(db_session=s, job_id=job_id, owner="w1", lease_seconds=30, max_attempts=3)
    frozen_clock[0] += timedelta(seconds=10)
    with session_scope(rt.sessions) as s:
        assert jobs.stale_jobs(db_session=s, redispatch_after_s=600) == []  # lease still live
    frozen_clock[0] += timedelta(seconds=30)
    with session_scope(rt.sessions) as s:
        assert jobs.stale_jobs(db_session=s, redispatch_after_s=600) == [job_id]
    job = _job(quiet_api, job_id)
    assert job.state == "queued" and job.lease_owner is None


def test_attempts_are_bounded(quiet_api: Api, media, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    for i in range(3):
        with session_scope(rt.sessions) as s:
            assert jobs.claim(db_session=s, job_id=job_id, owner=f"w{i}", lease_seconds=5, max_attempts=3)
        frozen_clock[0] += timedelta(seconds=6)
    with session_scope(rt.sessions) as s:
        assert jobs.claim(db_session=s, job_id=job_id, owner="w9", lease_seconds=5, max_attempts=3) is None
    job = _job(quiet_api, job_id)
    assert job.state == "failed" and job.error == jobs.WORKER_LOST.format(attempts=3)
    assert "can be retried" in job.error


@pytest.mark.slow
def test_rerun_after_completion_does_not_duplicate(quiet_api: Api, media) -> None:  # type: ignore[no-untyped-def]
    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    assert tasks.process_recording(job_id, runtime=rt) == "needs_review"
    assert tasks.process_recording(job_id, runtime=rt) == "skipped"
    # A forced second run (as after a lost lease) replaces the transcript, it does not add one.
    with session_scope(rt.sessions) as s:
        s.get(Job, job_id).state = "queued"  # type: ignore[union-attr]
    assert tasks.process_recording(job_id, runtime=rt) == "needs_review"
    with session_scope(rt.sessions) as s:
        rows = s.query(RawTranscript).filter_by(recording_id=rid).all()
        assert len(rows) == 1
        from service.core.keystore import WrappedDataKey

        # One key for the audio, one for the live transcript: the replaced transcript's key is gone.
        assert s.query(WrappedDataKey).count() == 2
    body = quiet_api.client.get(f"/api/v1/recordings/{rid}", headers=quiet_api.h("admin")).json()
    assert body["status"] == "needs_review" and body["job"]["attempts"] == 2


def test_flipped_byte_fails_the_job_with_integrity_error(quiet_api: Api, media) -> None:  # type: ignore[no-untyped-def]
    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    blob = next(Path(rt.settings.resolved_blob_dir).rglob("*.blob"))
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    blob.write_bytes(bytes(raw))
    assert tasks.process_recording(job_id, runtime=rt) == "failed"
    body = quiet_api.client.get(f"/api/v1/recordings/{rid}", headers=quiet_api.h("admin")).json()
    assert body["status"] == "failed"
    assert body["job"]["error"] == (
        "the stored audio was damaged or altered (integrity check failed); delete it and upload it again"
    )


def test_undecodable_content_fails_with_content_free_reason(quiet_api: Api, media) -> None:  # type: ignore[no-untyped-def]
    """Passes upload, then the blob is replaced by validly sealed garbage (as if the codec broke later)."""
    from service.core.crypto import EncryptingWriter

    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    with session_scope(rt.sessions) as s:
        rec = s.get(Recording, rid)
        key = load_data_key(db_session=s, master=rt.sealed.master, key_id=rec.key_id)  # type: ignore[union-attr]
        blob_id = rec.blob_id  # type: ignore[union-attr]
    writer = rt.sealed.blobs.create(blob_id)
    enc = EncryptingWriter(key, writer, context=blob_context(rid), segment_size=rt.settings.segment_bytes)
    enc.write(b"RIFF\x00\x00\x00\x00WAVEjunk" + b"\x07" * 5000)
    enc.close()
    writer.commit()
    assert tasks.process_recording(job_id, runtime=rt) == "failed"
    job = _job(quiet_api, job_id)
    assert job.error is not None and job.error.startswith("the audio could not be decoded (")
    assert "RIFF" not in job.error and "junk" not in job.error


def test_deleted_key_makes_audio_unrecoverable(quiet_api: Api, media) -> None:  # type: ignore[no-untyped-def]
    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    with session_scope(rt.sessions) as s:
        rec = s.get(Recording, rid)
        key_id, blob_id = rec.key_id, rec.blob_id  # type: ignore[union-attr]
    blob_path = next(Path(rt.settings.resolved_blob_dir).rglob(f"{blob_id}.blob"))
    stolen = blob_path.read_bytes()  # an attacker's (or a backup's) copy of the ciphertext

    resp = quiet_api.client.delete(f"/api/v1/recordings/{rid}", headers=quiet_api.h("admin"))
    assert resp.status_code == 204
    assert not blob_path.exists()
    with session_scope(rt.sessions) as s:
        with pytest.raises(DataKeyNotFound):
            load_data_key(db_session=s, master=rt.sealed.master, key_id=key_id)  # type: ignore[arg-type]
        assert s.get(Job, job_id) is None and s.get(Recording, rid) is None

    class Src:
        def size(self) -> int:
            return len(stolen)

        def read_at(self, offset: int, length: int) -> bytes:
            return stolen[offset : offset + length]

    # The copy is noise under any other key.
    with pytest.raises(IntegrityError):
        DecryptingReader(DataKey.generate(), Src(), context=blob_context(rid)).read()
    assert quiet_api.client.get(f"/api/v1/recordings/{rid}", headers=quiet_api.h("admin")).status_code == 404
    assert tasks.process_recording(job_id, runtime=rt) == "skipped"


def test_known_names_reach_the_pipeline_for_respelling(quiet_api: Api, media, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Names given at upload reach the pipeline for respelling and redaction, not the decoder as hotwords on every
    segment (bench/name_hints.py measures both)."""
    seen = {}

    def fake_pipeline(reader, *, asr, **kwargs):  # type: ignore[no-untyped-def]
        seen["hotwords"] = asr.hotwords
        seen["known_names"] = kwargs.get("known_names")
        seen["respell_names"] = kwargs.get("respell_names")
        raise RuntimeError("stop here")

    monkeypatch.setattr(tasks, "run_pipeline", fake_pipeline)
    with open(media["wav_mono"], "rb") as fh:
        resp = quiet_api.client.post(
            "/api/v1/recordings", headers=quiet_api.h("uploader"),
            data={"participant_code": "P61", "cohort": "police", "interview_date": interview_date(),
                  "known_names": "Jaspreet Kaur, Gareth Pryce"},
            files={"file": ("a.wav", fh)},
        )
    assert resp.status_code == 202, resp.text
    rt = _runtime(quiet_api)
    with session_scope(rt.sessions) as s:
        job_id = jobs.get_for_recording(db_session=s, recording_id=resp.json()["id"]).id  # type: ignore[union-attr]
    assert tasks.process_recording(job_id, runtime=rt) == "retry"
    assert seen == {"hotwords": None, "known_names": ["Jaspreet Kaur", "Gareth Pryce"], "respell_names": True}
    # An admin who wants the decoding bias back still gets it.
    rt.settings.asr_name_hints = True
    try:
        assert tasks.process_recording(job_id, runtime=rt) == "retry"
    finally:
        rt.settings.asr_name_hints = False
    assert seen["hotwords"] == "Jaspreet Kaur, Gareth Pryce"


# ---- a failure an operator can diagnose, and the user can retry ------------------------------------------------

SECRET = "Gareth-Pryce-of-14-Mill-Lane"


class _Queue:
    """Stands in for the queue a retry goes through; the test runs the dispatched jobs itself."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def enqueue(self, task: str, job_id: str) -> None:
        self.sent.append((task, job_id))

    def ping(self) -> bool:
        return True


def _boom(reader, **kwargs):  # type: ignore[no-untyped-def]
    # As a library deep in the pipeline might: the message quotes the transcript.
    try:
        raise ValueError(f"cannot encode {SECRET!r}")
    except ValueError as exc:
        raise TypeError(f"speaker {SECRET} is not serialisable") from exc


@pytest.mark.slow
def test_failed_recording_is_diagnosable_then_retried_to_completion(  # type: ignore[no-untyped-def]
    quiet_api: Api, media, monkeypatch, caplog
) -> None:
    import logging
    import re

    from service.core.queue import PROCESS_RECORDING

    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    queue = rt.queue = _Queue()
    real_pipeline = tasks.run_pipeline
    monkeypatch.setattr(tasks, "run_pipeline", _boom)
    caplog.set_level(logging.INFO, logger="anonscribe")
    assert [tasks.process_recording(job_id, runtime=rt) for _ in range(3)] == ["retry", "retry", "failed"]
    assert queue.sent == [(PROCESS_RECORDING, job_id)] * 2  # the worker's own retries

    # The log: where it failed, frame by frame, and the types; nothing the exception said.
    failures = [r.getMessage() for r in caplog.records if "failed:" in r.getMessage()]
    assert len(failures) == 3
    for n, line in enumerate(failures, 1):
        assert re.fullmatch(
            rf"job {job_id}: attempt {n} of 3 failed: TypeError at workers\.tasks:\d+:process_recording > "
            rf"workers\.tasks:\d+:_transcribe > tests\.recordings\.test_jobs:\d+:_boom; "
            rf"from ValueError at tests\.recordings\.test_jobs:\d+:_boom",
            line,
        ), line
    logged = caplog.text
    assert SECRET not in logged and "serialisable" not in logged and "cannot encode" not in logged

    # The user: plain words, not a type name; the same in the API and on the recordings page.
    admin, uploader = quiet_api.h("admin"), quiet_api.h("uploader")
    body = quiet_api.client.get(f"/api/v1/recordings/{rid}", headers=uploader).json()
    assert body["status"] == "failed" and body["job"]["attempts"] == 3
    assert body["job"]["error"] == (
        "processing failed after 3 attempts; it can be retried, and the worker log tells an admin why"
    )
    assert "TypeError" not in str(body) and SECRET not in str(body)

    # Retried by its uploader: audited, attempts reset, sent through the queue; this time the pipeline works.
    monkeypatch.setattr(tasks, "run_pipeline", real_pipeline)
    resp = quiet_api.client.post(f"/api/v1/recordings/{rid}/retry", headers=uploader)
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    assert resp.json()["status"] == "queued" and job["attempts"] == 0 and job["error"] is None
    assert queue.sent[-1] == (PROCESS_RECORDING, job_id) and len(queue.sent) == 3
    events = quiet_api.client.get("/api/v1/audit?action=recording.retry", headers=admin).json()["items"]
    assert len(events) == 1 and events[0]["details"] == {"job": job_id, "failed_attempts": 3}
    again = quiet_api.client.post(f"/api/v1/recordings/{rid}/retry", headers=uploader)
    assert (again.status_code, again.json()["detail"]) == (409, recordings.NOT_FAILED_RETRY)
    assert tasks.process_recording(job_id, runtime=rt) == "needs_review"
    body = quiet_api.client.get(f"/api/v1/recordings/{rid}", headers=uploader).json()
    assert body["status"] == "needs_review" and body["job"]["attempts"] == 1 and body["job"]["error"] is None


def test_failed_recording_deleted_by_its_uploader_is_crypto_shredded(quiet_api: Api, media, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    monkeypatch.setattr(tasks, "run_pipeline", _boom)
    monkeypatch.setattr(rt.settings, "max_attempts", 1)
    uploader = quiet_api.h("uploader")
    # Not failed yet: the uploader may not delete it (an admin could).
    early = quiet_api.client.delete(f"/api/v1/recordings/{rid}", headers=uploader)
    assert early.status_code == 409 and "failed" in early.json()["detail"]
    assert tasks.process_recording(job_id, runtime=rt) == "failed"
    with session_scope(rt.sessions) as s:
        rec = s.get(Recording, rid)
        key_id, blob_id = rec.key_id, rec.blob_id  # type: ignore[union-attr]
    blob_path = next(Path(rt.settings.resolved_blob_dir).rglob(f"{blob_id}.blob"))
    assert quiet_api.client.delete(f"/api/v1/recordings/{rid}", headers=uploader).status_code == 204
    assert not blob_path.exists()
    with session_scope(rt.sessions) as s:
        with pytest.raises(DataKeyNotFound):
            load_data_key(db_session=s, master=rt.sealed.master, key_id=key_id)  # type: ignore[arg-type]
        assert s.get(Job, job_id) is None and s.get(Recording, rid) is None
    events = quiet_api.client.get("/api/v1/audit?action=recording.delete", headers=quiet_api.h("admin")).json()
    assert [e["details"] for e in events["items"]] == [{"reason": "failed"}]
    assert quiet_api.client.get(f"/api/v1/recordings/{rid}", headers=uploader).status_code == 404


def test_retry_is_refused_when_the_audio_is_gone(quiet_api: Api, media) -> None:  # type: ignore[no-untyped-def]
    rid, job_id = _uploaded(quiet_api, media)
    rt = _runtime(quiet_api)
    with session_scope(rt.sessions) as s:
        s.get(Job, job_id).state = "failed"  # type: ignore[union-attr]
        rec = s.get(Recording, rid)
        rec.blob_id = rec.key_id = None  # type: ignore[union-attr]
    resp = quiet_api.client.post(f"/api/v1/recordings/{rid}/retry", headers=quiet_api.h("admin"))
    assert resp.status_code == 409 and "upload it again" in resp.json()["detail"]
    assert _job(quiet_api, job_id).state == "failed"
