"""The audit log: one entry per audited action, content-free, hash-chained so that editing, removing or reordering
an entry is detected (`verify`, `anonscribe audit verify`), paged for admins and exported as JSON lines."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.db import session_scope
from tests.support.lifecycle import App, audit_rows, frozen, quiet_app, save_as_worker, sweep

NAMES = ["Quentin Zabriskie"]
CODES = ["AUDX91Q", "AUDW77Z"]


@pytest.fixture
def audio(media) -> bytes:  # type: ignore[no-untyped-def]
    return media["m4a"].read_bytes()


def _last_id(app: App) -> int:
    with app.runtime.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM audit_events")).scalar_one())


def _new_actions(app: App, since: int) -> list[str]:
    with app.runtime.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT action FROM audit_events WHERE id > :i ORDER BY id"), {"i": since})
                    .scalars())


@pytest.mark.slow
def test_every_audited_action_writes_exactly_one_entry(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    from service.retention import withdrawal
    from workers import tasks

    with frozen() as clock, quiet_app(
        tmp_path, db_url, raw_transcript_retention_after_approval="40d", pseudonym_map_retention="60d"
    ) as app:
        c, h = app.client, app.h
        made: dict = {}

        def step(expected: list[str], action: Callable[[], object]) -> object:
            since = _last_id(app)
            result = action()
            assert _new_actions(app, since) == expected, (expected, result)
            return result

        def ok(resp, status: int = 200):  # type: ignore[no-untyped-def]
            assert resp.status_code == status, resp.text
            return resp

        new_user = step(["user.create"], lambda: ok(c.post("/api/v1/users", headers=h("admin"),
                                                           json={"name": "rev-two", "role": "researcher"}), 201))
        step(["user.update"], lambda: ok(c.patch(f"/api/v1/users/{new_user.json()['id']}", headers=h("admin"),
                                                 json={"role": "reviewer"})))
        step(["auth.failed"], lambda: c.get("/api/v1/me", headers={"Authorization": "Bearer nope"}))
        rid = step(["recording.upload"], lambda: app.upload(audio, code=CODES[0], known_names=NAMES[0]))
        job = c.get(f"/api/v1/recordings/{rid}", headers=h("admin")).json()["job"]["id"]
        step(["transcript.create"], lambda: tasks.process_recording(job, runtime=app.runtime))
        raw = step(["transcript.view_raw"], lambda: ok(c.get(f"/api/v1/recordings/{rid}/transcript",
                                                             headers=h("reviewer")))).json()
        step(["transcript.view_raw"], lambda: ok(c.get(f"/api/v1/recordings/{rid}/review", headers=h("reviewer"))))
        added = step(["redaction.add"], lambda: ok(c.post(f"/api/v1/recordings/{rid}/review/spans",
                                                          headers=h("reviewer"),
                                                          json={"segment": 0, "start": 1, "end": 5,
                                                                "label": "PERSON"}), 201)).json()
        step(["redaction.decide"], lambda: ok(c.patch(f"/api/v1/recordings/{rid}/review/spans/{added[0]['id']}",
                                                      headers=h("reviewer"), json={"action": "accept"})))
        step(["speakers.update"], lambda: ok(c.patch(f"/api/v1/recordings/{rid}/speakers", headers=h("reviewer"),
                                                     json={"roles": {"S1": "Participant"}})))
        step(["review.audio_snippet"], lambda: ok(c.get(
            f"/api/v1/recordings/{rid}/review/spans/{added[0]['id']}/audio", headers=h("reviewer"))))
        step(["transcript.approve"], lambda: ok(c.post(f"/api/v1/recordings/{rid}/review/approve",
                                                       headers=h("reviewer"))))
        step(["transcript.view_anonymised"], lambda: ok(c.get(f"/api/v1/recordings/{rid}/anonymised",
                                                              headers=h("reviewer"))))
        # Reading metadata, the retention status or the log itself writes nothing.
        step([], lambda: ok(c.get(f"/api/v1/recordings/{rid}", headers=h("admin"))))
        step([], lambda: ok(c.get("/api/v1/retention", headers=h("admin"))))
        step([], lambda: ok(c.get("/api/v1/audit", headers=h("admin"))))
        # Scheduled deletions: one entry per item.
        step(["audio.delete"], lambda: sweep(app))
        other = step(["recording.upload"], lambda: app.upload(audio, code=CODES[1]))
        clock.advance(days=27)
        step(["audio.deletion_warning"], lambda: sweep(app))
        clock.advance(days=3)
        step(["audio.delete"], lambda: sweep(app))
        clock.advance(days=10)
        step(["transcript.delete_raw"], lambda: sweep(app))
        clock.advance(days=20)
        step(["pseudonyms.retire"], lambda: sweep(app))
        step([], lambda: sweep(app))
        step(["recording.delete"], lambda: ok(c.delete(f"/api/v1/recordings/{other}", headers=h("admin")), 204))
        third = app.upload(audio, code=CODES[1], interview_date=clock.now.date().isoformat())
        made["receipt"] = step(["participant.withdraw"], lambda: ok(
            c.post(f"/api/v1/participants/{CODES[1]}/withdrawal", headers=h("admin")))).json()
        step([], lambda: ok(c.get(f"/api/v1/withdrawals/{made['receipt']['receipt_id']}?format=txt",
                                  headers=h("admin"))))
        assert c.get(f"/api/v1/recordings/{third}", headers=h("admin")).status_code == 404
        # A refused call is not an audited action.
        step([], lambda: ok(c.post(f"/api/v1/participants/{CODES[1]}/withdrawal", headers=h("reviewer")), 403))
        with session_scope(app.runtime.sessions) as s:
            # Past its deadline by now: an override, whose reason is sealed; still one entry.
            step(["participant.withdraw"], lambda: withdrawal.withdraw(
                runtime=app.runtime, participant_code=CODES[0], actor_id=None, via="cli",
                override_reason=f"asked by {NAMES[0]} at the follow-up"))
            assert audit.verify(db_session=s).ok

        # Content-free: no transcript word, known name or participant code anywhere in the log.
        words = sorted({w.strip(".,?!'\"").lower() for seg in raw["segments"] for w in seg["text"].split()})
        long_words = [w for w in words if len(w) >= 6]
        assert len(long_words) >= 5
        log = json.dumps(audit_rows(app.runtime.engine), default=str)
        for needle in long_words + NAMES + NAMES[0].split() + CODES:
            assert not re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", log, re.IGNORECASE), needle


# ---- tampering -------------------------------------------------------------------------------------------------


def _chain(app: App, n: int = 10) -> list[dict]:
    with app.session() as s:
        for i in range(n):
            audit.record(db_session=s, action="test.event", actor_id=i % 3, object_type="recording",
                         object_id=f"{i:032x}", details={"n": i})
    return audit_rows(app.runtime.engine)


@contextmanager
def _tampered(app: App, *statements: tuple[str, dict]) -> Iterator[Session]:
    """Apply edits inside a transaction, hand a session that sees them to the verifier, then undo them."""
    with app.runtime.engine.connect() as conn:
        trans = conn.begin()
        try:
            for sql, params in statements:
                conn.execute(sa.text(sql), params)
            with Session(bind=conn) as session:
                yield session
        finally:
            trans.rollback()


def _swap(a: int, b: int) -> list[tuple[str, dict]]:
    return [
        ("UPDATE audit_events SET id = -1 WHERE id = :a", {"a": a}),
        ("UPDATE audit_events SET id = :a WHERE id = :b", {"a": a, "b": b}),
        ("UPDATE audit_events SET id = :b WHERE id = -1", {"b": b}),
    ]


def test_tampering_is_detected(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    with frozen(), quiet_app(tmp_path, db_url) as app:
        rows = _chain(app)
        n = rows[-1]["id"]
        k = n - 5  # an event in the middle
        with app.session() as s:
            good = audit.verify(db_session=s)
        assert good.ok and good.count == n and good.head_hash == rows[-1]["hash"]
        edits = {
            "edit details": ([("UPDATE audit_events SET details = :d WHERE id = :k", {"d": '{"n": 99}', "k": k})],
                             k, "altered"),
            "edit action": ([("UPDATE audit_events SET action = 'x' WHERE id = :k", {"k": k})], k, "altered"),
            "edit actor": ([("UPDATE audit_events SET actor_id = 42 WHERE id = :k", {"k": k})], k, "altered"),
            "edit time": ([("UPDATE audit_events SET at = :t WHERE id = :k",
                            {"t": "2020-01-01 00:00:00+00:00", "k": k})], k, "altered"),
            "swap object ids": ([("UPDATE audit_events SET object_id = :o WHERE id = :k",
                                  {"o": f"{99:032x}", "k": k})], k, "object id"),
            "downgrade chain version": ([("UPDATE audit_events SET chain_version = 1 WHERE id = :k", {"k": k})],
                                        k, "altered"),
            "delete a row": ([("DELETE FROM audit_events WHERE id = :k", {"k": k})], k, "missing or reordered"),
            "reorder two rows": (_swap(k, k + 1), k, "altered"),
            "rehash an edited row": ([("UPDATE audit_events SET details = :d, hash = :h WHERE id = :k",
                                       {"d": '{"n": 99}', "h": "f" * 64, "k": k})], k, "altered"),
            "delete the last row": ([("DELETE FROM audit_events WHERE id = :n", {"n": n})], n, "removed from the end"),
        }
        for name, (statements, first_bad, reason) in edits.items():
            with _tampered(app, *statements) as s:
                verdict = audit.verify(db_session=s)
            assert not verdict.ok, name
            assert verdict.first_bad_id == first_bad and reason in verdict.reason, (name, verdict)
        # Truncating the log and rewriting its head as well escapes the chain alone, but not an anchor kept outside.
        cut = [("DELETE FROM audit_events WHERE id = :n", {"n": n}),
               ("UPDATE audit_head SET last_hash = :h, count = :c", {"h": rows[-2]["hash"], "c": n - 1})]
        with _tampered(app, *cut) as s:
            assert audit.verify(db_session=s).ok
            truncated = audit.verify(db_session=s, anchor=(n, rows[-1]["hash"]))
        assert not truncated.ok and "anchor" in truncated.reason
        # The one edit the chain allows: a withdrawal blanking the ids of a participant's recordings.
        with _tampered(app, ("UPDATE audit_events SET object_id = NULL WHERE id = :k", {"k": k})) as s:
            assert audit.verify(db_session=s).ok
        with app.session() as s:
            assert audit.verify(db_session=s, anchor=(k, rows[k - 1]["hash"])).ok


def test_cli_verify_and_export(tmp_path, sqlite_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from service.cli import app as cli
    from service.core.settings import get_settings

    with frozen(), quiet_app(tmp_path, sqlite_url) as app:
        rows = _chain(app, 6)
    monkeypatch.setenv("ANONSCRIBE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ANONSCRIBE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    runner = CliRunner()
    engine = sa.create_engine(sqlite_url)
    try:
        ok = runner.invoke(cli, ["audit", "verify"])
        n = rows[-1]["id"]
        assert ok.exit_code == 0 and f"head {n}:{rows[-1]['hash']}" in ok.output, ok.output
        assert runner.invoke(cli, ["audit", "verify", "--anchor", f"{n}:{rows[-1]['hash']}"]).exit_code == 0
        assert runner.invoke(cli, ["audit", "verify", "--anchor", "nonsense"]).exit_code == 2

        out = tmp_path / "audit.jsonl"
        exported = runner.invoke(cli, ["audit", "export", "-o", str(out)])
        assert exported.exit_code == 0, exported.output
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["id"] for r in lines] == [r["id"] for r in rows]
        assert [r["hash"] for r in lines] == [r["hash"] for r in rows]
        # The copy verifies on its own: each line's hash chains to the previous line's.
        assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(lines))
        # Exporting is itself recorded, once.
        assert [r["action"] for r in audit_rows(engine)][len(rows):] == ["audit.export"]
        since = runner.invoke(cli, ["audit", "export", "--after-id", str(n)])
        assert [json.loads(x)["action"] for x in since.output.splitlines()] == ["audit.export"]

        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_events SET details = '{}' WHERE id = 3"))
        broken = runner.invoke(cli, ["audit", "verify"])
        assert broken.exit_code == 1 and "BROKEN at entry 3" in broken.output
    finally:
        engine.dispose()
        get_settings.cache_clear()


def test_audit_api_pages_and_filters(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url) as app:
        start = _last_id(app)
        with app.session() as s:
            for i in range(7):
                audit.record(db_session=s, action="test.even" if i % 2 == 0 else "test.odd",
                             object_type="recording", object_id=f"{i:032x}")
                clock.advance(minutes=1)
        h = app.h("admin")
        page1 = app.client.get("/api/v1/audit?per_page=3", headers=h).json()
        page2 = app.client.get("/api/v1/audit?per_page=3&page=2", headers=h).json()
        assert page1["total"] == start + 7
        ids = [e["id"] for e in page1["items"] + page2["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6  # newest first, no overlap
        evens = app.client.get("/api/v1/audit?action=test.even", headers=h).json()
        assert evens["total"] == 4 and {e["action"] for e in evens["items"]} == {"test.even"}
        one = app.client.get(f"/api/v1/audit?object_id={3:032x}", headers=h).json()
        assert [e["object_id"] for e in one["items"]] == [f"{3:032x}"]
        item = one["items"][0]
        assert set(item) == {"id", "at", "actor_id", "action", "object_type", "object_id", "object_ref",
                             "object_salt", "details", "chain_version", "prev_hash", "hash"}
        since = app.client.get("/api/v1/audit", params={"since": (clock.now.replace(second=0)).isoformat()},
                               headers=h).json()
        assert since["total"] == 0
        assert app.client.get("/api/v1/audit?since=2026-11-02T10:00:00", headers=h).status_code == 422  # no zone
        assert app.client.get("/api/v1/audit?per_page=501", headers=h).status_code == 422
        for role in ("uploader", "reviewer", "researcher"):
            assert app.client.get("/api/v1/audit", headers=app.h(role)).status_code == 403


def test_role_changes_are_audited_and_keep_an_admin(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    with frozen(), quiet_app(tmp_path, db_url) as app:
        h = app.h("admin")
        me = app.client.get("/api/v1/me", headers=h).json()
        users = {u["role"]: u["id"] for u in app.client.get("/api/v1/users", headers=h).json()}
        resp = app.client.patch(f"/api/v1/users/{users['uploader']}", headers=h, json={"role": "reviewer"})
        assert resp.status_code == 200 and resp.json()["role"] == "reviewer"
        last = audit_rows(app.runtime.engine)[-1]
        assert (last["action"], last["actor_id"], last["object_id"], last["details"]) == (
            "user.update", me["id"], str(users["uploader"]), {"role": {"from": "uploader", "to": "reviewer"}})
        # The promoted uploader's token now acts as a reviewer.
        assert app.client.get("/api/v1/recordings/x/review", headers=app.h("uploader")).status_code == 404
        # Deactivation takes effect at once.
        assert app.client.patch(f"/api/v1/users/{users['researcher']}", headers=h,
                                json={"active": False}).status_code == 200
        assert app.client.get("/api/v1/me", headers=app.h("researcher")).status_code == 401
        # The only admin can't demote or deactivate themselves.
        before = len(audit_rows(app.runtime.engine))
        assert app.client.patch(f"/api/v1/users/{me['id']}", headers=h, json={"role": "reviewer"}).status_code == 409
        assert app.client.patch(f"/api/v1/users/{me['id']}", headers=h, json={"active": False}).status_code == 409
        assert len(audit_rows(app.runtime.engine)) == before
        assert app.client.patch("/api/v1/users/99999", headers=h, json={"role": "reviewer"}).status_code == 404
        assert app.client.patch(f"/api/v1/users/{me['id']}", headers=h, json={}).status_code == 422
        # A no-op change writes nothing.
        assert app.client.patch(f"/api/v1/users/{me['id']}", headers=h, json={"role": "admin"}).status_code == 200
        assert len(audit_rows(app.runtime.engine)) == before


def test_save_as_worker_helper_is_the_workers_path(tmp_path, sqlite_url, media) -> None:  # type: ignore[no-untyped-def]
    """The lifecycle tests stand in for the pipeline with `save_as_worker`; it must leave what the worker leaves."""
    with frozen(), quiet_app(tmp_path, sqlite_url) as app:
        rid = app.upload(media["m4a"].read_bytes())
        save_as_worker(app, rid, ["Hello there.", "I met Mark Bellamy."], {"Mark Bellamy": "PERSON"})
        body = app.client.get(f"/api/v1/recordings/{rid}", headers=app.h("admin")).json()
        assert body["status"] == "needs_review" and body["job"]["progress"] == 1.0
        review = app.client.get(f"/api/v1/recordings/{rid}/review", headers=app.h("reviewer")).json()
        assert [s["text"] for s in review["spans"]] == ["Mark Bellamy"]
