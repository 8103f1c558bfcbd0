"""What the audit chain keeps of an object: a reference that only the salt beside it ties to the id.

Before a withdrawal, an admin finds a recording's events by its id; after it, no event can be tied to the recording
(or to each other) by anyone, holding the id or not - the README's promise - and the chain still verifies.
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa

from service.audit import service as audit
from service.audit.models import AuditEvent
from service.core.db import session_scope
from tests.support.lifecycle import approve, audit_rows, dump_tables, quiet_app, save_as_worker

CODE = "REFX17Q"
LINES = ["Thank you for coming in.", "I was at home that evening."]


def _ties(row: dict, object_id: str) -> bool:
    """Whether this stored row can be tied to `object_id` by any means the row itself offers."""
    if row["object_id"] == object_id or row["object_ref"] == hashlib.sha256(object_id.encode()).hexdigest():
        return True
    salt = row.get("object_salt")
    return bool(salt) and hmac.new(bytes.fromhex(salt), object_id.encode(), hashlib.sha256).hexdigest() == (
        row["object_ref"])


def test_refs_are_salted_found_by_id_and_gone_after_withdrawal(tmp_path, db_url, media) -> None:  # type: ignore[no-untyped-def]
    audio = media["m4a"].read_bytes()
    with quiet_app(tmp_path, db_url) as app:
        rid = app.upload(audio, code=CODE)
        other = app.upload(audio, code="REFOTHER")
        save_as_worker(app, rid, LINES)
        approve(app, rid)
        assert app.client.get(f"/api/v1/recordings/{rid}/transcript", headers=app.h("reviewer")).status_code == 200

        rows = [r for r in audit_rows(app.runtime.engine) if r["object_id"] == rid]
        assert {r["action"] for r in rows} >= {"recording.upload", "transcript.approve", "transcript.view_raw"}
        for r in rows:
            assert r["chain_version"] == 3
            assert r["object_ref"] != hashlib.sha256(rid.encode()).hexdigest()  # not the id's plain hash
            assert _ties(r, rid)  # the salt beside it is what ties it
        assert len({r["object_ref"] for r in rows}) == len(rows)  # no two events share a reference

        # Admins find the events by id (API filter), as before.
        found = app.client.get(f"/api/v1/audit?object_id={rid}&per_page=500", headers=app.h("admin")).json()
        assert sorted(e["id"] for e in found["items"]) == sorted(r["id"] for r in rows)
        assert all(e["object_salt"] for e in found["items"])  # exported too: the ref can be checked independently

        assert app.client.post(f"/api/v1/participants/{CODE}/withdrawal", headers=app.h("admin")).status_code == 200

        after = audit_rows(app.runtime.engine)
        assert not [r["id"] for r in after if _ties(r, rid)]
        unlinked = [r for r in after if r["id"] in {x["id"] for x in rows}]
        assert all(r["object_id"] is None and r["object_salt"] is None and r["object_ref"] for r in unlinked)
        assert rid not in "\n".join(dump_tables(app.runtime.engine).values())
        assert hashlib.sha256(rid.encode()).hexdigest() not in dump_tables(app.runtime.engine)["audit_events"]
        found = app.client.get(f"/api/v1/audit?object_id={rid}", headers=app.h("admin")).json()
        assert found["total"] == 0
        # The other participant's recording is still found, and the chain verifies.
        assert app.client.get(f"/api/v1/audit?object_id={other}", headers=app.h("admin")).json()["total"] >= 1
        with session_scope(app.runtime.sessions) as s:
            verdict = audit.verify(db_session=s)
        assert verdict.ok, verdict


def _legacy(s, version: int, object_id: str, action: str) -> None:  # type: ignore[no-untyped-def]
    """An event as chain versions 1 and 2 wrote it (v1: the hash covers the id; v2: its plain SHA-256)."""
    from service.audit.models import AuditHead
    from service.core.clock import utcnow

    head = s.get(AuditHead, 1) or AuditHead(id=1, last_hash=audit.GENESIS, count=0)
    s.add(head)
    event = AuditEvent(id=head.count + 1, at=utcnow(), actor_id=None, action=action, object_type="recording",
                       object_id=object_id, object_ref=hashlib.sha256(object_id.encode()).hexdigest(),
                       details={}, chain_version=version, prev_hash=head.last_hash, hash="")
    event.hash = audit._digest(head.last_hash, audit._fields(event))
    s.add(event)
    head.last_hash, head.count = event.hash, head.count + 1
    s.flush()


def test_older_chain_versions_still_verify_and_unlink(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    from service.core.db import make_engine, make_session_factory, run_migrations

    run_migrations(db_url)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    old, new = "a" * 32, "b" * 32
    try:
        with session_scope(sessions) as s:
            _legacy(s, 1, old, "recording.upload")
            _legacy(s, 2, old, "transcript.create")
            audit.record(db_session=s, action="transcript.approve", object_type="recording", object_id=old)
            audit.record(db_session=s, action="recording.upload", object_type="recording", object_id=new)
        with session_scope(sessions) as s:
            assert audit.verify(db_session=s).ok
            assert [e.chain_version for e in audit.find(db_session=s, action="transcript.create", object_id=old)] == [2]
            assert len(audit.find(db_session=s, action="transcript.approve", object_id=old)) == 1
        # Tampering with a version-2 or version-3 event's id is still caught.
        for event_id in (2, 3):
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE audit_events SET object_id = :o WHERE id = :i"), {"o": new, "i": event_id})
            with session_scope(sessions) as s:
                verdict = audit.verify(db_session=s)
            assert not verdict.ok and verdict.first_bad_id == event_id and "object id" in verdict.reason
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE audit_events SET object_id = :o WHERE id = :i"), {"o": old, "i": event_id})
        with session_scope(sessions) as s:
            assert audit.erase_object_ids(db_session=s, object_type="recording", object_ids=[old]) == 2  # v2, v3
        with session_scope(sessions) as s:
            assert audit.verify(db_session=s).ok
            rows = {e.id: e for e in audit.iter_events(db_session=s)}
        assert rows[1].object_id == old  # version 1: its hash covers the id itself
        assert rows[2].object_id is None and rows[3].object_id is None and rows[3].object_salt is None
        assert rows[4].object_id == new
    finally:
        engine.dispose()
