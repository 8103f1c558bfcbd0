"""Scheduled deletion, on a clock the tests move: audio after approval and at its maximum age (with a warning first),
the unredacted transcript and the pseudonym map under their own settings; sweeps are idempotent, concurrent
sweepers on PostgreSQL delete each item once, and both deployments run the sweeps by themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.core.db import session_scope
from tests.support.databases import REDIS_URL
from tests.support.dates import interview_date
from tests.support.lifecycle import (
    App,
    approve,
    audit_rows,
    count,
    dump_tables,
    frozen,
    quiet_app,
    save_as_worker,
    sweep,
)
from tests.support.paths import ROOT

LINES = ["Thank you for coming in today.", "I spoke to Mark Bellamy at Kent Police about it."]
MARKS = {"Mark Bellamy": "PERSON", "Kent Police": "FORCE"}


@pytest.fixture
def audio(media) -> bytes:  # type: ignore[no-untyped-def]
    return media["m4a"].read_bytes()


def _state(app: App, rid: str) -> dict:
    from service.recordings.models import Recording

    with app.session() as s:
        rec = s.get(Recording, rid)
        assert rec is not None
        attachments = count(app.runtime.engine, "SELECT COUNT(*) FROM recording_attachments WHERE recording_id = :r",
                            r=rid)
        return {
            "audio_deleted_at": rec.audio_deleted_at,
            "blob_id": rec.blob_id,
            "key_id": rec.key_id,
            "attachments": attachments,
        }


def _audio_gone(app: App, rid: str, blob_id: str, key_id: str) -> None:
    state = _state(app, rid)
    assert state["audio_deleted_at"] is not None and state["blob_id"] is None and state["key_id"] is None
    assert state["attachments"] == 0  # known names and Teams transcripts were sealed under the audio key
    assert not app.runtime.sealed.blobs.exists(blob_id)
    assert count(app.runtime.engine, "SELECT COUNT(*) FROM data_keys WHERE id = :k", k=key_id) == 0
    # Nothing left that could be decrypted: the blob store holds no file of it, under any name.
    assert not list(Path(app.runtime.sealed.blobs.root).rglob(f"{blob_id}*"))


def _deletions(app: App, rid: str) -> list[dict]:
    return [e for e in audit_rows(app.runtime.engine) if e["action"] == "audio.delete" and e["object_id"] == rid]


def test_audio_goes_at_the_first_sweep_after_approval_by_default(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url) as app:
        rid = app.upload(audio, known_names="Mark Bellamy")
        other = app.upload(audio, code="P08")
        before = _state(app, rid)
        assert before["attachments"] == 1 and app.runtime.sealed.blobs.exists(before["blob_id"])
        save_as_worker(app, rid, LINES, MARKS)
        save_as_worker(app, other, LINES, MARKS)
        clock.advance(hours=1)
        # Waiting for review: the audio is still needed (a reviewer may listen to a snippet).
        assert sweep(app).counts()["audio_deleted"] == 0
        assert _state(app, rid)["audio_deleted_at"] is None
        approve(app, rid)
        report = sweep(app)
        assert report.audio_deleted == [{"recording_id": rid, "reason": "approved"}]
        _audio_gone(app, rid, before["blob_id"], before["key_id"])
        assert [e["details"] for e in _deletions(app, rid)] == [{"reason": "approved"}]
        # The unapproved recording keeps its audio; the approved one keeps its anonymised transcript.
        assert _state(app, other)["audio_deleted_at"] is None
        anon = app.client.get(f"/api/v1/recordings/{rid}/anonymised?format=txt", headers=app.h("reviewer"))
        assert anon.status_code == 200 and "[Person 1]" in anon.text and "Bellamy" not in anon.text
        body = app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).json()
        assert body["audio_deleted_at"] is not None
        # No snippet can be cut from deleted audio.
        span = app.client.get(f"/api/v1/recordings/{rid}/review", headers=app.h("reviewer")).json()["spans"][0]
        snippet = app.client.get(f"/api/v1/recordings/{rid}/review/spans/{span['id']}/audio", headers=app.h("reviewer"))
        assert snippet.status_code == 410
        # A second sweep finds nothing and writes nothing.
        events = count(app.runtime.engine, "SELECT COUNT(*) FROM audit_events")
        assert sweep(app).counts() == dict.fromkeys(report.counts(), 0)
        assert count(app.runtime.engine, "SELECT COUNT(*) FROM audit_events") == events


def test_audio_kept_for_the_retention_period_after_approval(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url, audio_retention_after_approval="7d") as app:
        rid = app.upload(audio)
        save_as_worker(app, rid, LINES, MARKS)
        clock.advance(days=2)
        approve(app, rid)
        clock.advance(days=7, seconds=-1)
        assert sweep(app).counts()["audio_deleted"] == 0
        clock.advance(seconds=1)
        assert sweep(app).audio_deleted == [{"recording_id": rid, "reason": "approved"}]
        assert _state(app, rid)["audio_deleted_at"] == clock.now


def test_max_age_warns_first_then_deletes_once(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url, audio_max_age="30d", audio_deletion_warning="3d") as app:
        rid = app.upload(audio)  # never transcribed or approved: only the maximum age applies
        blob_id, key_id = _state(app, rid)["blob_id"], _state(app, rid)["key_id"]
        clock.advance(days=27, seconds=-1)
        assert sweep(app).counts() == {"audio_deleted": 0, "warnings": 0, "raw_transcripts_deleted": 0,
                                       "pseudonym_maps_retired": 0}
        clock.advance(seconds=1)
        report = sweep(app)
        due = (clock.now + timedelta(days=3)).isoformat()
        assert report.warnings == [{"recording_id": rid, "due": due}]
        warnings = [e for e in audit_rows(app.runtime.engine) if e["action"] == "audio.deletion_warning"]
        assert [(w["object_id"], w["details"]) for w in warnings] == [(rid, {"due": due})]
        # Warned once only.
        clock.advance(days=1)
        assert sweep(app).counts()["warnings"] == 0
        clock.advance(days=2, seconds=-1)
        assert sweep(app).counts()["audio_deleted"] == 0
        assert _state(app, rid)["audio_deleted_at"] is None
        clock.advance(seconds=1)
        assert sweep(app).audio_deleted == [{"recording_id": rid, "reason": "max_age"}]
        _audio_gone(app, rid, blob_id, key_id)
        # The job that never ran can't run on deleted audio.
        assert app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).json()["status"] == "cancelled"
        assert sweep(app).counts()["audio_deleted"] == 0
        assert len(_deletions(app, rid)) == 1


def test_max_age_applies_even_when_approval_keeps_audio_longer(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(
        tmp_path, db_url, audio_retention_after_approval="60d", audio_max_age="30d"
    ) as app:
        rid = app.upload(audio)
        save_as_worker(app, rid, LINES, MARKS)
        approve(app, rid)
        clock.advance(days=30)
        assert sweep(app).audio_deleted == [{"recording_id": rid, "reason": "max_age"}]


def test_unredacted_transcript_follows_its_own_retention(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(
        tmp_path, db_url, raw_transcript_retention_after_approval="10d", raw_transcript_max_age="90d"
    ) as app:
        approved, pending = app.upload(audio), app.upload(audio, code="P08")
        save_as_worker(app, approved, LINES, MARKS)
        save_as_worker(app, pending, LINES, MARKS)
        approve(app, approved)
        with app.session() as s:
            raw_key = s.execute(sa.text("SELECT key_id FROM raw_transcripts WHERE recording_id = :r"),
                                {"r": approved}).scalar_one()
        clock.advance(days=10, seconds=-1)
        assert sweep(app).counts()["raw_transcripts_deleted"] == 0
        clock.advance(seconds=1)
        assert sweep(app).raw_transcripts_deleted == [{"recording_id": approved, "reason": "approved"}]
        assert count(app.runtime.engine, "SELECT COUNT(*) FROM data_keys WHERE id = :k", k=raw_key) == 0
        assert count(app.runtime.engine, "SELECT COUNT(*) FROM redaction_spans WHERE recording_id = :r",
                     r=approved) == 0
        raw = app.client.get(f"/api/v1/recordings/{approved}/transcript", headers=app.h("reviewer"))
        assert raw.status_code == 410
        review = app.client.get(f"/api/v1/recordings/{approved}/review", headers=app.h("reviewer"))
        assert review.status_code == 410
        # What the study keeps is untouched.
        anon = app.client.get(f"/api/v1/recordings/{approved}/anonymised?format=txt", headers=app.h("reviewer"))
        assert anon.status_code == 200 and "[Force A]" in anon.text
        assert [e["details"] for e in audit_rows(app.runtime.engine)
                if e["action"] == "transcript.delete_raw"] == [{"reason": "approved"}]
        # Never approved: the maximum age still applies.
        assert app.client.get(f"/api/v1/recordings/{pending}/transcript", headers=app.h("reviewer")).status_code == 200
        clock.advance(days=80)
        assert sweep(app).raw_transcripts_deleted == [{"recording_id": pending, "reason": "max_age"}]
        assert sweep(app).counts()["raw_transcripts_deleted"] == 0


def test_pseudonym_map_forgets_entities_but_keeps_numbering(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    from service.redaction import service as redaction

    with frozen() as clock, quiet_app(tmp_path, db_url, pseudonym_map_retention="100d") as app:
        rid = app.upload(audio)
        save_as_worker(app, rid, LINES, MARKS)
        approve(app, rid)
        sealed = app.runtime.sealed
        with app.session() as s:
            before = redaction.load_study_map(db_session=s, sealed=sealed, study="default")
        assert before["person:mark bellamy"] == "[Person 1]" and before["force:kent police"] == "[Force A]"
        clock.advance(days=100, seconds=-1)
        assert sweep(app).counts()["pseudonym_maps_retired"] == 0
        clock.advance(seconds=1)
        report = sweep(app)
        assert report.pseudonym_maps_retired == [{"study": "default", "entries": len(before)}]
        with app.session() as s:
            after = redaction.load_study_map(db_session=s, sealed=sealed, study="default")
        # Participant pseudonyms ("VIC-01") are retired the same way: numbers are never reused.
        assert {k: v for k, v in after.items() if not k.startswith("retired:participant:")} == {
            "retired:Force": "[Force A]", "retired:Person": "[Person 1]"}
        assert all(k.startswith("retired:") for k in after)
        assert sweep(app).counts()["pseudonym_maps_retired"] == 0
        # A later transcript gets new tags, never the forgotten ones.
        later = app.upload(audio, code="P09")
        save_as_worker(app, later, ["Sarah Jones from Kent Police rang."], {"Sarah Jones": "PERSON",
                                                                             "Kent Police": "FORCE"})
        approve(app, later)
        text = app.client.get(f"/api/v1/recordings/{later}/anonymised?format=txt", headers=app.h("reviewer")).text
        assert "[Person 2]" in text and "[Force B]" in text


def test_dry_run_lists_what_would_go_and_changes_nothing(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url) as app:
        old, warned, fresh = app.upload(audio), None, None
        clock.advance(days=28)
        warned = app.upload(audio, code="P08")
        clock.advance(days=2)
        fresh = app.upload(audio, code="P09")
        clock.advance(days=25)  # old: 55 d (due), warned: 27 d (warning), fresh: 25 d (nothing)
        before = dump_tables(app.runtime.engine)
        plan = sweep(app, dry_run=True)
        assert plan.audio_deleted == [{"recording_id": old, "reason": "max_age"}]
        assert [w["recording_id"] for w in plan.warnings] == [warned]
        assert fresh not in str(plan.as_dict())
        assert dump_tables(app.runtime.engine) == before
        # The real sweep does what the dry run said.
        real = sweep(app)
        assert real.audio_deleted == plan.audio_deleted and real.warnings == plan.warnings


def test_retention_status_shows_policy_and_what_is_due(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url, audio_retention_after_approval="2d") as app:
        first = app.upload(audio)
        clock.advance(days=1)
        second = app.upload(audio, code="P08")
        save_as_worker(app, second, LINES, MARKS)
        approve(app, second)
        body = app.client.get("/api/v1/retention", headers=app.h("admin")).json()
        assert body["policy"]["audio_max_age_s"] == 30 * 86400
        assert body["policy"]["audio_retention_after_approval_s"] == 2 * 86400
        assert body["audio_kept"] == 2 and body["overdue"] == 0
        upcoming = [(u["recording_id"], u["reason"]) for u in body["upcoming"]]
        assert upcoming == [(second, "approved"), (first, "max_age")]
        for role in ("uploader", "reviewer", "researcher"):
            assert app.client.get("/api/v1/retention", headers=app.h(role)).status_code == 403


# ---- several sweepers at once (PostgreSQL row locks) ---------------------------------------------------------


def _due_recordings(app: App, audio: bytes, n: int) -> list[str]:
    return [app.upload(audio, code=f"C{i:03d}") for i in range(n)]


def test_a_sweeper_skips_rows_another_has_locked(tmp_path, pg_url, audio) -> None:  # type: ignore[no-untyped-def]
    from service.recordings import lifecycle as recordings
    from service.redaction import service as redaction

    with frozen() as clock, quiet_app(tmp_path, pg_url) as app:
        ids = _due_recordings(app, audio, 6)
        clock.advance(days=31)
        holder = app.runtime.sessions()
        try:
            # Sweeper A has locked a batch and not committed yet...
            mine = recordings.lock_audio_due(
                db_session=holder, created_before=clock.now - timedelta(days=30),
                approved=redaction.approved_before(clock.now), limit=2,
            )
            assert len(mine) == 2
            # ...sweeper B does not wait for it: it takes the rest and leaves A's rows alone.
            done = threading.Event()
            result: dict = {}

            def other() -> None:
                result["report"] = sweep(app)
                done.set()

            threading.Thread(target=other, daemon=True).start()
            assert done.wait(20), "the second sweeper blocked on rows the first had locked"
            taken = {d["recording_id"] for d in result["report"].audio_deleted}
            assert taken == set(ids) - {r.id for r, _ in mine}
            recordings.delete_audio(db_session=holder, sealed=app.runtime.sealed, due=mine)
            holder.commit()
        finally:
            holder.close()
        assert sweep(app).counts()["audio_deleted"] == 0
        events = [e["object_id"] for e in audit_rows(app.runtime.engine) if e["action"] == "audio.delete"]
        assert sorted(events) == sorted(ids)


def test_concurrent_sweeps_delete_each_item_once(tmp_path, pg_url, audio) -> None:  # type: ignore[no-untyped-def]
    from service.audit import service as audit

    with frozen() as clock, quiet_app(tmp_path, pg_url) as app:
        ids = _due_recordings(app, audio, 24)
        blobs = {r: _state(app, r)["blob_id"] for r in ids}
        clock.advance(days=31)
        start = threading.Barrier(3)
        reports: list = []
        errors: list = []

        def run() -> None:
            start.wait()
            try:
                reports.append(sweep(app, batch_size=3))
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        taken = [d["recording_id"] for r in reports for d in r.audio_deleted]
        assert sorted(taken) == sorted(ids)  # every item once: none twice, none missed
        events = [e["object_id"] for e in audit_rows(app.runtime.engine) if e["action"] == "audio.delete"]
        assert sorted(events) == sorted(ids)
        assert not any(app.runtime.sealed.blobs.exists(b) for b in blobs.values())
        assert count(app.runtime.engine, "SELECT COUNT(*) FROM data_keys WHERE purpose = 'audio'") == 0
        with session_scope(app.runtime.sessions) as s:
            assert audit.verify(db_session=s).ok


# ---- the sweeps run by themselves in both deployments --------------------------------------------------------


def test_embedded_deployment_sweeps_in_process(tmp_path, sqlite_url, audio) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from service.app import create_app
    from tests.support.apps import create_users, make_settings

    # No worker threads (the audio is never transcribed here); the retention thread runs every second.
    settings = make_settings(tmp_path, sqlite_url, inline_workers=0, retention_interval_s=1, audio_max_age="2s",
                             audio_deletion_warning="0")
    app = create_app(settings)
    with TestClient(app) as client:
        tokens = create_users(app.state.runtime, roles=("uploader", "admin"))
        resp = client.post("/api/v1/recordings", headers={"Authorization": f"Bearer {tokens['uploader']}"},
                           data={"participant_code": "P07", "cohort": "police", "interview_date": interview_date()},
                           files={"file": ("a.m4a", audio)})
        rid = resp.json()["id"]
        deadline = time.time() + 20
        body: dict = {}
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        while time.time() < deadline:
            body = client.get(f"/api/v1/recordings/{rid}", headers=admin).json()
            if body["audio_deleted_at"]:
                break
            time.sleep(0.3)
        assert body["audio_deleted_at"], "the in-process scheduler never deleted the audio"


@pytest.mark.slow
def test_celery_deployment_sweeps_from_beat(tmp_path, pg_url, audio) -> None:  # type: ignore[no-untyped-def]
    """`anonscribe scheduler` (beat) sends the sweep; an `anonscribe worker` runs it."""
    import redis

    from service.core.crypto import MasterKey
    from service.recordings import jobs

    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    key_file = tmp_path / "secrets" / "master-keyset.json"
    MasterKey.generate(key_file)
    with quiet_app(tmp_path, pg_url, master_key_file=key_file) as app:
        rid = app.upload(audio)
        with app.session() as s:
            jobs.cancel(db_session=s, recording_id=rid)  # nothing to transcribe: this test is about the sweep
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
        "ANONSCRIBE_DATA_DIR": str(tmp_path / "data"), "ANONSCRIBE_DATABASE_URL": pg_url,
        "ANONSCRIBE_QUEUE": "celery", "ANONSCRIBE_BROKER_URL": REDIS_URL, "ANONSCRIBE_MASTER_KEY_FILE": str(key_file),
        "ANONSCRIBE_RETENTION_INTERVAL_S": "2", "ANONSCRIBE_AUDIO_MAX_AGE": "1s",
        "ANONSCRIBE_AUDIO_DELETION_WARNING": "0", "PYTHONPATH": str(ROOT),
    }
    procs = []
    logs = []
    try:
        for name in ("worker", "scheduler"):
            log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(subprocess.Popen([sys.executable, "-m", "service.cli", name], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
        deadline = time.time() + 90
        deleted = None
        while time.time() < deadline and deleted is None:
            with engine.connect() as conn:
                deleted = conn.execute(sa.text("SELECT audio_deleted_at FROM recordings WHERE id = :r"),
                                       {"r": rid}).scalar_one()
            time.sleep(0.5)
        engine.dispose()
        out = "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("*.log")))
        assert deleted is not None, out[-3000:]
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 15)
                p.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, 9)
        for log in logs:
            log.close()
