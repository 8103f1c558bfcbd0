"""Participant withdrawal: everything of the code goes (DB rows in every table, blobs, keys, pseudonym entries, audit
links), a receipt names nobody, the deadline is enforced, and a job still running is cancelled without a trace."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.core.db import session_scope
from tests.support.lifecycle import (
    App,
    approve,
    audit_rows,
    count,
    dump_tables,
    files_containing,
    frozen,
    quiet_app,
    save_as_worker,
)

CODE = "WDX7Q2K9"  # long and odd, so a scan can't find it by chance in ciphertext
OTHER = "KEEP04R2"
WITHDRAW = "/api/v1/participants/{}/withdrawal"


@pytest.fixture
def audio(media) -> bytes:  # type: ignore[no-untyped-def]
    return media["m4a"].read_bytes()


def _secrets_of(app: App, rids: list[str]) -> dict[str, list[str]]:
    """Every id, key and ciphertext the service holds for these recordings."""
    out: dict[str, list[str]] = {"recording": list(rids), "job": [], "blob": [], "key": [], "wrapped": []}
    with app.runtime.engine.connect() as conn:
        for rid in rids:
            row = conn.execute(sa.text("SELECT blob_id, key_id FROM recordings WHERE id = :r"), {"r": rid}).one()
            out["blob"] += [row.blob_id]
            keys = [row.key_id]
            for table in ("raw_transcripts", "anonymised_transcripts"):
                keys += conn.execute(sa.text(f"SELECT key_id FROM {table} WHERE recording_id = :r"),
                                     {"r": rid}).scalars().all()
            out["key"] += keys
            out["job"] += conn.execute(
                sa.text("SELECT id FROM jobs WHERE recording_id = :r"), {"r": rid}
            ).scalars().all()
            for key in keys:
                wrapped = conn.execute(sa.text("SELECT wrapped FROM data_keys WHERE id = :k"), {"k": key}).scalar_one()
                out["wrapped"].append(bytes(wrapped).hex())
    return out


def _find(haystack: str, needles: list[str]) -> list[str]:
    """Needles found as whole words (a transcript's "complete" is not the job state "completed")."""
    return [n for n in needles if n and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", haystack, re.IGNORECASE)]


@pytest.mark.slow
def test_withdrawal_leaves_no_trace(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    """A real transcript (Whisper tiny.en + redaction), approved; a second recording still queued; another
    participant's recording that must survive."""
    from workers import tasks

    with quiet_app(tmp_path, db_url) as app:
        transcribed = app.upload(audio, code=CODE, known_names="Quentin Zabriskie")
        queued = app.upload(audio, code=CODE)
        kept = app.upload(audio, code=OTHER)
        job = app.client.get(f"/api/v1/recordings/{transcribed}", headers=app.h("admin")).json()["job"]["id"]
        assert tasks.process_recording(job, runtime=app.runtime) == "needs_review"
        raw = app.client.get(f"/api/v1/recordings/{transcribed}/transcript", headers=app.h("reviewer")).json()
        words = sorted({w.strip(".,?!'\"").lower() for s in raw["segments"] for w in s["text"].split()})
        long_words = [w for w in words if len(w) >= 6]
        assert len(long_words) >= 5, words  # the clip really was transcribed
        approve(app, transcribed)
        secrets = _secrets_of(app, [transcribed, queued])
        assert len(secrets["key"]) == 4  # two audio keys, the raw and the anonymised transcript's

        # Before: the words are stored encrypted everywhere (the audit log included) except in the library's search
        # index, which holds the anonymised text in clear (a full-text index can't search ciphertext), and no name.
        tables = dump_tables(app.runtime.engine)
        index = "\n".join(v for t, v in tables.items() if t.startswith("library_search"))
        before = "\n".join(v for t, v in tables.items() if not t.startswith("library_search"))
        assert not _find(before, [*long_words, "Zabriskie"])
        assert _find(index, long_words) and not _find(index, ["Zabriskie", CODE])
        before = "\n".join(tables.values())
        assert CODE in before  # the code is on the recordings rows, so the scans below are meaningful
        assert all(rid in before for rid in secrets["recording"])
        turns = count(app.runtime.engine, "SELECT COUNT(*) FROM library_search WHERE recording_id = :r", r=transcribed)
        assert turns >= 1

        resp = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"))
        assert resp.status_code == 200, resp.text
        receipt = resp.json()
        assert receipt["deleted"] == {
            "recordings": 2, "audio_files": 2, "raw_transcripts": 1, "transcript_versions": 0,
            "anonymised_transcripts": 1, "search_index_rows": turns + 1,
            "redaction_spans": receipt["deleted"]["redaction_spans"], "speaker_slots": 1, "slot_voices": 0,
            "voice_profile_links": 0, "attachments": 1,
            "pseudonym_entries": receipt["deleted"]["pseudonym_entries"], "jobs": 2, "export_files": 0, "data_keys": 4,
        }
        assert receipt["nothing_left"] is False and receipt["past_deadline"] is False
        assert CODE not in json.dumps(receipt)

        # After: no table holds the code, an id, a key, a wrapped key or a word of them.
        tables = dump_tables(app.runtime.engine)
        after = "\n".join(tables.values())
        for kind in ("recording", "job", "blob", "key", "wrapped"):
            assert not _find(after, secrets[kind]), (kind, [t for t, v in tables.items() if _find(v, secrets[kind])])
        assert not _find(after, [*long_words, CODE, "Zabriskie"])
        # Not even in free pages or the write-ahead log of the SQLite file.
        if db_url.startswith("sqlite"):
            db_file = Path(db_url.removeprefix("sqlite:///"))
            needles = [CODE.encode()] + [s.encode() for k in ("recording", "job", "key") for s in secrets[k]]
            assert not files_containing(db_file.parent, needles)
        # The blob store and the key store hold nothing of them either.
        blob_root = Path(app.runtime.sealed.blobs.root)
        assert not files_containing(blob_root, [b.encode() for b in secrets["blob"]])
        assert len(list(blob_root.rglob("*.blob"))) == 1  # the other participant's
        assert count(app.runtime.engine, "SELECT COUNT(*) FROM data_keys WHERE purpose = 'audio'") == 1
        # The other participant is untouched.
        assert app.client.get(f"/api/v1/recordings/{kept}", headers=app.h("admin")).status_code == 200
        for rid in (transcribed, queued):
            assert app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).status_code == 404

        # The audit log still proves what happened, without saying to whom.
        from service.audit import service as audit

        events = audit_rows(app.runtime.engine)
        [withdrawal] = [e for e in events if e["action"] == "participant.withdraw"]
        assert withdrawal["object_type"] == "participant" and re.fullmatch(r"[0-9a-f]{64}", withdrawal["object_id"])
        assert withdrawal["details"]["receipt"] == receipt["receipt_id"]
        assert withdrawal["id"] == receipt["audit_event_id"] and withdrawal["hash"] == receipt["audit_hash"]
        unlinked = [e for e in events if e["object_type"] == "recording" and e["object_id"] is None]
        assert {e["action"] for e in unlinked} >= {"recording.upload", "transcript.create", "transcript.approve"}
        with session_scope(app.runtime.sessions) as s:
            assert audit.verify(db_session=s).ok

        # Twice: idempotent; the second receipt says nothing was left.
        again = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"))
        assert again.status_code == 200, again.text
        assert again.json()["nothing_left"] is True and set(again.json()["deleted"].values()) == {0}
        assert again.json()["receipt_id"] != receipt["receipt_id"]


def test_withdrawal_deadline_and_override(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    reason = "Participant emailed the study lead; ethics approval ref 24-117"
    with frozen(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) as clock, quiet_app(tmp_path, db_url) as app:
        app.upload(audio, code=CODE, interview_date="2026-11-02")  # deadline: 2026-11-30
        app.upload(audio, code=OTHER, interview_date="2026-11-02", withdrawal_deadline="2026-11-10")
        # Past the deadline: refused, and nothing changes.
        clock.advance(minutes=1)
        before = dump_tables(app.runtime.engine)
        resp = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"))
        assert resp.status_code == 409 and "2026-11-30" in resp.json()["detail"] and "override_reason" in resp.text
        after = dump_tables(app.runtime.engine)
        # (The deployment's MAC key may be made on first use; tokens record their last use.)
        ignore = ("data_keys", "api_tokens")
        assert {t: v for t, v in after.items() if t not in ignore} == {
            t: v for t, v in before.items() if t not in ignore}
        # The admin overrides with a reason: done, and the reason is sealed, not written in clear.
        resp = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"), json={"override_reason": reason})
        assert resp.status_code == 200, resp.text
        receipt = resp.json()
        assert receipt["past_deadline"] is True and receipt["override"] is True
        assert receipt["deleted"]["recordings"] == 1
        assert "override_reason" not in receipt or receipt["override_reason"] is None
        assert not _find("\n".join(dump_tables(app.runtime.engine).values()), ["emailed the study", "24-117"])
        [event] = [e for e in audit_rows(app.runtime.engine) if e["action"] == "participant.withdraw"]
        assert event["details"]["override"] is True and set(event["details"]["override_reason"]) == {"key_id", "sealed"}
        # An admin can read the reason back; that read is audited.
        shown = app.client.get(f"/api/v1/withdrawals/{receipt['receipt_id']}", headers=app.h("admin")).json()
        assert shown["override_reason"] == reason and shown["deleted"] == receipt["deleted"]
        assert [e["action"] for e in audit_rows(app.runtime.engine)][-1] == "withdrawal.view_reason"
        # Printable forms name nobody and give no reason.
        text = app.client.get(f"/api/v1/withdrawals/{receipt['receipt_id']}?format=txt", headers=app.h("admin")).text
        assert receipt["receipt_id"] in text and "after the agreed deadline" in text
        assert CODE not in text and "emailed" not in text
        # On the deadline day itself a withdrawal needs no override (another participant, deadline tomorrow).
        app.upload(audio, code="ONTIME01", interview_date="2026-11-03")
        clock.advance(hours=23)  # 2026-12-01 23:00, the deadline of an interview on 2026-11-03
        ok = app.client.post(WITHDRAW.format("ONTIME01"), headers=app.h("admin"))
        assert ok.status_code == 200 and ok.json()["past_deadline"] is False


def test_withdrawal_refusals(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    with frozen(), quiet_app(tmp_path, db_url) as app:
        rid = app.upload(audio, code=CODE)
        for role in ("uploader", "reviewer", "researcher"):
            assert app.client.post(WITHDRAW.format(CODE), headers=app.h(role)).status_code == 403
        assert app.client.post(WITHDRAW.format(CODE)).status_code == 401
        resp = app.client.post(WITHDRAW.format("NOSUCH01"), headers=app.h("admin"))
        assert resp.status_code == 404
        for bad in ("P%2007", "P07%24", "-P07", "x" * 33):
            assert app.client.post(WITHDRAW.format(bad), headers=app.h("admin")).status_code == 422, bad
        bad_body = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"), json={"reason": "x"})
        assert bad_body.status_code == 422
        # None of that touched the recording or wrote a withdrawal.
        assert app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).status_code == 200
        assert not [e for e in audit_rows(app.runtime.engine) if e["action"] == "participant.withdraw"]
        assert app.client.get("/api/v1/withdrawals/WR-0000-0000-0000-0000", headers=app.h("admin")).status_code == 404


def test_withdrawal_removes_only_the_participants_pseudonyms(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    from service.redaction import service as redaction

    mine = ["I told Sarah Mitchell and Mark Bellamy at Kent Police."]
    theirs = ["Mark Bellamy from Kent Police took my statement."]
    with frozen(), quiet_app(tmp_path, db_url) as app:
        a, b = app.upload(audio, code=OTHER), app.upload(audio, code=CODE)
        save_as_worker(app, a, theirs, {"Mark Bellamy": "PERSON", "Kent Police": "FORCE"})
        save_as_worker(app, b, mine, {"Sarah Mitchell": "PERSON", "Mark Bellamy": "PERSON", "Kent Police": "FORCE"})
        approve(app, a)
        approve(app, b)
        sealed = app.runtime.sealed
        with app.session() as s:
            before = redaction.load_study_map(db_session=s, sealed=sealed, study="default")
        assert before["person:sarah mitchell"] == "[Person 2]" and before["person:mark bellamy"] == "[Person 1]"
        receipt = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin")).json()
        with app.session() as s:
            after = redaction.load_study_map(db_session=s, sealed=sealed, study="default")
        # Sarah was only ever in the withdrawn transcript: gone, all her keys. Mark and Kent Police stay: the other
        # participant's transcript uses their tags.
        # The participant's own pseudonym entry (which holds their code) goes too; its number stays retired.
        own = {k for k in before if k.startswith("participant:") and k.endswith(":" + CODE)}
        gone = {k for k in before if "sarah" in k or "mitchell" in k} | own
        assert own and not gone & set(after)
        assert any(k.endswith(":" + OTHER) for k in after)
        assert any(k.startswith("retired:participant:") for k in after)  # its number is never given again
        assert receipt["deleted"]["pseudonym_entries"] == len(gone)
        assert after["person:mark bellamy"] == "[Person 1]" and after["force:kent police"] == "[Force A]"
        assert "mitchell" not in json.dumps(after).lower() and CODE.lower() not in json.dumps(after).lower()
        theirs_text = app.client.get(f"/api/v1/recordings/{a}/anonymised?format=txt", headers=app.h("reviewer")).text
        assert "[Person 1]" in theirs_text and "[Force A]" in theirs_text
        # "[Person 2]" stays retired: a new person never gets the withdrawn participant's tag.
        c = app.upload(audio, code="NEWP0001")
        save_as_worker(app, c, ["Then Dana Okafor called me."], {"Dana Okafor": "PERSON"})
        approve(app, c)
        text = app.client.get(f"/api/v1/recordings/{c}/anonymised?format=txt", headers=app.h("reviewer")).text
        assert "[Person 3]" in text


@pytest.mark.slow
def test_job_running_when_participant_withdraws_is_cancelled_and_leaves_nothing(
    tmp_path, db_url, audio, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from workers import tasks

    real_pipeline = tasks.run_pipeline
    inside, withdrawn = threading.Event(), threading.Event()

    def pipeline_paused_midway(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The worker holds the lease and has the audio open; the admin withdraws the participant now.
        inside.set()
        assert withdrawn.wait(60)
        return real_pipeline(*args, **kwargs)

    monkeypatch.setattr(tasks, "run_pipeline", pipeline_paused_midway)
    with quiet_app(tmp_path, db_url) as app:
        rid = app.upload(audio, code=CODE)
        job = app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).json()["job"]["id"]
        outcome: dict[str, str] = {}
        worker = threading.Thread(target=lambda: outcome.update(r=tasks.process_recording(job, runtime=app.runtime)))
        worker.start()
        assert inside.wait(60)
        state = app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).json()["status"]
        assert state == "transcribing"
        resp = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"))
        assert resp.status_code == 200, resp.text
        assert resp.json()["deleted"]["jobs"] == 1
        withdrawn.set()
        worker.join(120)
        assert outcome["r"] == "lease_lost"  # the worker noticed and threw its output away
        dump = "\n".join(dump_tables(app.runtime.engine).values())
        assert rid not in dump and job not in dump and CODE not in dump
        for table in ("recordings", "jobs", "raw_transcripts", "redaction_spans", "speaker_slots",
                      "anonymised_transcripts"):
            assert count(app.runtime.engine, f"SELECT COUNT(*) FROM {table}") == 0, table
        assert count(app.runtime.engine, "SELECT COUNT(*) FROM data_keys WHERE purpose <> 'mac:participant'") == 0
        assert not list(Path(app.runtime.sealed.blobs.root).rglob("*.blob"))


def test_receipt_formats(tmp_path, sqlite_url, audio) -> None:  # type: ignore[no-untyped-def]
    import pypdf

    with frozen(), quiet_app(tmp_path, sqlite_url) as app:
        app.upload(audio, code=CODE)
        pdf = app.client.post(WITHDRAW.format(CODE) + "?format=pdf", headers=app.h("admin"))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        reader = pypdf.PdfReader(io.BytesIO(pdf.content), strict=True)
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        receipt_id = re.search(r"WR-[0-9A-F]{4}(-[0-9A-F]{4}){3}", text).group()
        assert "Withdrawal receipt" in text and re.search(r"recordings\s+1", text)
        assert CODE not in text and CODE.encode() not in pdf.content
        assert reader.metadata.title == f"Withdrawal receipt {receipt_id}" and reader.metadata.author is None
        # Reprinted from the log: the same receipt.
        again = app.client.get(f"/api/v1/withdrawals/{receipt_id}?format=txt", headers=app.h("admin"))
        assert again.status_code == 200 and receipt_id in again.text and re.search(r"recordings\s+1", again.text)
        assert app.client.get(f"/api/v1/withdrawals/{receipt_id}", headers=app.h("reviewer")).status_code == 403


def test_cli_withdraw(tmp_path, sqlite_url, audio, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from service.cli import app as cli
    from service.core.settings import get_settings

    with frozen(), quiet_app(tmp_path, sqlite_url) as app:
        rid = app.upload(audio, code=CODE)
    monkeypatch.setenv("ANONSCRIBE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ANONSCRIBE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        with frozen():
            out = runner.invoke(cli, ["participants", "withdraw", CODE])
            assert out.exit_code == 0, out.output
            assert "Withdrawal receipt" in out.output and re.search(r"recordings\s+1", out.output)
            assert CODE not in out.output
            missing = runner.invoke(cli, ["participants", "withdraw", "NOSUCH01"])
            assert missing.exit_code == 3 and "no data" in missing.output
            bad = runner.invoke(cli, ["participants", "withdraw", "no way"])
            assert bad.exit_code == 2
            again = runner.invoke(cli, ["participants", "withdraw", CODE, "--format", "json"])
            assert again.exit_code == 0 and json.loads(again.output)["nothing_left"] is True
        engine = sa.create_engine(sqlite_url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM recordings WHERE id = :r"), {"r": rid}).scalar_one() == 0
            via = conn.execute(sa.text("SELECT details FROM audit_events WHERE action = 'participant.withdraw'")).all()
        engine.dispose()
        assert [json.loads(d)["via"] for (d,) in via] == ["cli", "cli"]
    finally:
        get_settings.cache_clear()


# ---- everything that hangs off a recording: counted on the receipt, and gone ---------------------------------------


def _recording_columns(engine: sa.Engine) -> dict[str, list[str]]:
    """Every table with a column that names a recording (recording_id, source_recording_id, ...), reflected from the
    database itself, so a table added later (or the FTS5 index, which the ORM does not map) is walked too."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in inspector.get_table_names():
            cols = [c["name"] for c in inspector.get_columns(table) if "recording_id" in c["name"]]
            if cols:
                out[table] = cols
    return out


def _referencing(engine: sa.Engine, rids: list[str]) -> dict[str, int]:
    """Rows per table whose recording-like columns hold one of `rids`."""
    found = {}
    marks = ", ".join(f":r{i}" for i in range(len(rids)))
    params = {f"r{i}": rid for i, rid in enumerate(rids)}
    with engine.connect() as conn:
        for table, cols in _recording_columns(engine).items():
            where = " OR ".join(f'"{c}" IN ({marks})' for c in cols)
            found[table] = int(conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}" WHERE {where}'), params)
                               .scalar_one())
    return found


def _stored_for(engine: sa.Engine, rids: list[str]) -> dict[str, int]:
    """What the database holds for these recordings, counted directly (not through the service), by receipt kind."""
    marks = ", ".join(f":r{i}" for i in range(len(rids)))
    params = {f"r{i}": rid for i, rid in enumerate(rids)}

    def n(sql: str) -> int:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql.replace("IDS", f"({marks})")), params).scalar_one())

    keys = """SELECT COUNT(*) FROM data_keys WHERE id IN (
                  SELECT key_id FROM recordings WHERE id IN IDS
                  UNION SELECT key_id FROM raw_transcripts WHERE recording_id IN IDS
                  UNION SELECT key_id FROM transcript_versions WHERE recording_id IN IDS
                  UNION SELECT key_id FROM anonymised_transcripts WHERE recording_id IN IDS)"""
    return {
        "recordings": n("SELECT COUNT(*) FROM recordings WHERE id IN IDS"),
        "raw_transcripts": n("SELECT COUNT(*) FROM raw_transcripts WHERE recording_id IN IDS"),
        "transcript_versions": n("SELECT COUNT(*) FROM transcript_versions WHERE recording_id IN IDS"),
        "anonymised_transcripts": n("SELECT COUNT(*) FROM anonymised_transcripts WHERE recording_id IN IDS"),
        "search_index_rows": n("SELECT COUNT(*) FROM library_search WHERE recording_id IN IDS")
        + n("SELECT COUNT(*) FROM library_search_documents WHERE recording_id IN IDS"),
        "redaction_spans": n("SELECT COUNT(*) FROM redaction_spans WHERE recording_id IN IDS"),
        "speaker_slots": n("SELECT COUNT(*) FROM speaker_slots WHERE recording_id IN IDS"),
        "slot_voices": n("SELECT COUNT(*) FROM speaker_slots WHERE recording_id IN IDS AND voice IS NOT NULL"),
        "voice_profile_links": n("SELECT COUNT(*) FROM voice_profiles WHERE source_recording_id IN IDS"),
        "attachments": n("SELECT COUNT(*) FROM recording_attachments WHERE recording_id IN IDS"),
        "jobs": n("SELECT COUNT(*) FROM jobs WHERE recording_id IN IDS"),
        "data_keys": n(keys),
    }


def _with_voices(app: App, rid: str) -> None:
    """Slot voiceprints the way the worker stores them after diarisation (sealed under the audio key)."""
    from service.recordings.models import Recording
    from service.speakers import voices

    with app.session() as s:
        recording = s.get(Recording, rid)
        assert voices.save_slot_voices(db_session=s, sealed=app.runtime.sealed, recording=recording,
                                       voices={"S1": [1.0, 0.2, 0.1, 0.0], "S2": [0.0, 0.3, 1.0, 0.4]}) == 2


def test_withdrawal_counts_and_removes_versions_voices_and_search_rows(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    """Two recordings of the participant: one corrected, approved (so indexed for search), its interviewer's voice
    enrolled; one corrected three times and still in review. After the withdrawal no row in any table names either
    recording, the receipt's counts are what was stored, and the other participant keeps all of theirs."""
    lines = ["I spoke to Sarah Mitchell about it.", "What happened next?", "Kent Police came round on the Monday.",
             "And then?"]
    marks = {"Sarah Mitchell": "PERSON", "Kent Police": "FORCE"}
    engine_of = lambda app: app.runtime.engine  # noqa: E731
    with frozen(), quiet_app(tmp_path, db_url) as app:
        names = {"known_names": "Sarah Mitchell"}  # stored as an attachment
        approved, reviewing, theirs = (app.upload(audio, code=CODE, **names), app.upload(audio, code=CODE),
                                       app.upload(audio, code=OTHER, **names))
        for rid in (approved, reviewing, theirs):
            save_as_worker(app, rid, lines, marks)
            _with_voices(app, rid)
        for rid, edits in ((approved, 2), (reviewing, 3), (theirs, 1)):
            for i in range(edits):
                resp = app.client.patch(f"/api/v1/recordings/{rid}/segments/{i}", headers=app.h("reviewer"),
                                        json={"text": f"Corrected line number {i} of the interview."})
                assert resp.status_code == 200, resp.text
        approve(app, approved)
        approve(app, theirs)
        enrolled = app.client.post(f"/api/v1/recordings/{approved}/speakers/S1/voice-profile",
                                   headers=app.h("reviewer"))
        assert enrolled.status_code == 201, enrolled.text
        mine = [approved, reviewing]
        engine = engine_of(app)
        before = _stored_for(engine, mine)
        kept_before = _stored_for(engine, [theirs])
        # Everything the receipt is about really exists, so equal counts below are not zeros agreeing.
        assert all(before.values()), before
        assert before["transcript_versions"] >= 4 and before["search_index_rows"] >= 2
        assert before["slot_voices"] == 4 and before["voice_profile_links"] == 1
        tables = _recording_columns(engine)
        assert {"transcript_versions", "speaker_slots", "voice_profiles", "library_search",
                "library_search_documents", "jobs"} <= set(tables), tables
        assert sum(_referencing(engine, mine).values()) > 0

        resp = app.client.post(WITHDRAW.format(CODE), headers=app.h("admin"))
        assert resp.status_code == 200, resp.text
        receipt = resp.json()
        assert {k: receipt["deleted"][k] for k in before} == before
        assert receipt["deleted"]["audio_files"] == 2 and receipt["deleted"]["pseudonym_entries"] >= 1

        # No row in any table names either recording (nor their ids anywhere, the audit log included).
        assert _referencing(engine, mine) == dict.fromkeys(tables, 0)
        assert set(_stored_for(engine, mine).values()) == {0}
        dump = "\n".join(dump_tables(engine).values())
        assert not _find(dump, mine)
        # The interviewer's profile stays (a staff member's voice), without its source.
        assert count(engine, "SELECT COUNT(*) FROM voice_profiles WHERE source_recording_id IS NULL") == 1
        # The other participant keeps everything, their index entry included.
        assert _stored_for(engine, [theirs]) == kept_before
        hits = app.client.get("/api/v1/library/search", params={"q": "corrected"}, headers=app.h("researcher"))
        assert hits.status_code == 200 and hits.json()["total"] >= 1, hits.text

        # The receipt says so on every surface: API JSON (above), its text and PDF forms, the web page.
        text = app.client.get(f"/api/v1/withdrawals/{receipt['receipt_id']}?format=txt", headers=app.h("admin")).text
        for label, kind in (("corrected transcript versions", "transcript_versions"),
                            ("search index entries", "search_index_rows"), ("speaker voiceprints", "slot_voices"),
                            ("voice profile sources unlinked", "voice_profile_links")):
            assert re.search(rf"{label}\s+{before[kind]}\n", text), (label, text)


def test_a_receipt_issued_before_a_kind_was_counted_does_not_claim_zero(tmp_path, sqlite_url, audio) -> None:  # type: ignore[no-untyped-def]
    """Receipts are reprinted from the audit event. One written before versions were counted lists what it counted,
    and does not say that 0 versions were deleted."""
    from service.audit import service as audit
    from service.retention import receipt as printable
    from service.retention import withdrawal

    with frozen(), quiet_app(tmp_path, sqlite_url) as app:
        old = {"recordings": 1, "audio_files": 1, "raw_transcripts": 1, "data_keys": 2}
        with app.session() as s:
            audit.record(db_session=s, action=withdrawal.ACTION, object_type="participant", object_id="0" * 64,
                         details={"receipt": "WR-0000-0000-0000-0001", "study": "default", "deleted": old})
        with app.session() as s:
            again = withdrawal.get_receipt(db_session=s, sealed=app.runtime.sealed,
                                           receipt_id="WR-0000-0000-0000-0001")
        assert again.deleted == old
        text = printable.to_text(again)
        assert re.search(r"unredacted transcripts\s+1\n", text) and "versions" not in text
        shown = app.client.get("/api/v1/withdrawals/WR-0000-0000-0000-0001", headers=app.h("admin")).json()
        assert shown["deleted"] == old
