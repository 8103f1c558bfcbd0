"""Audited requests at once on a live server: every one answered as it should be, and the audit chain intact.

Each of these requests appends to the hash chain from its own connection, so they race for the chain's head. On
SQLite the head's `FOR UPDATE` is silently dropped; this is the test that shows appends are serialised anyway.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest

from service.audit import service as audit
from tests.support.apps import make_settings, serve
from tests.support.lifecycle import App, approve, save_as_worker

THREADS = 12
PER_THREAD = 10
LINES = ["Thank you for coming in today.", "I was at home that evening."]


@pytest.fixture
def audio(media) -> bytes:  # type: ignore[no-untyped-def]
    return media["m4a"].read_bytes()


def _event_count(server) -> int:  # type: ignore[no-untyped-def]
    from service.core.db import session_scope

    with session_scope(server.runtime.sessions) as s:
        verdict = audit.verify(db_session=s)
    assert verdict.ok, verdict
    return verdict.count


def test_concurrent_audited_requests_keep_the_chain(tmp_path, db_url, audio) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, db_url)
    with serve(settings, start_workers=False) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        app = App(client=c, runtime=server.runtime, tokens=server.tokens)  # type: ignore[arg-type]
        rid = app.upload(audio)
        save_as_worker(app, rid, LINES)
        approve(app, rid)
        before = _event_count(server)

        # Three kinds of audited request, interleaved in every thread: (method path, headers, expected status).
        kinds = {
            "library.download": (f"/api/v1/library/{rid}?format=txt", app.h("researcher"), 200),
            "transcript.view_raw": (f"/api/v1/recordings/{rid}/transcript", app.h("reviewer"), 200),
            "auth.failed": ("/api/v1/me", {"Authorization": "Bearer not-a-token"}, 401),
        }
        order = list(kinds)
        barrier = threading.Barrier(THREADS)
        results: list[tuple[str, int | str]] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                barrier.wait()
                for i in range(PER_THREAD):
                    kind = order[(n + i) % len(order)]
                    path, headers, _ = kinds[kind]
                    try:
                        status: int | str = client.get(path, headers=headers).status_code
                    except httpx.TransportError as exc:  # e.g. the server dropped the connection after a 500
                        status = type(exc).__name__
                    with lock:
                        results.append((kind, status))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert len(results) == THREADS * PER_THREAD
        statuses = Counter(status for _, status in results)
        assert not [s for s in statuses if not isinstance(s, int) or s >= 500], statuses
        wrong = Counter((kind, status) for kind, status in results if status != kinds[kind][2])
        assert not wrong, wrong

        assert _event_count(server) == before + THREADS * PER_THREAD
        from tests.support.lifecycle import audit_rows

        new = Counter(r["action"] for r in audit_rows(server.runtime.engine)[before:])
        assert new == Counter(kind for kind, _ in results)


def test_concurrent_appends_from_an_empty_log(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    """Straight through the service: the very first events race to create the chain's head, and each thread keeps
    one session across commits (sessions don't expire objects on commit, so a head read earlier would be stale)."""
    from service.core.db import make_engine, make_session_factory, run_migrations

    run_migrations(db_url)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []

    def worker(n: int) -> None:
        with sessions() as s:
            barrier.wait()
            for i in range(PER_THREAD):
                try:
                    audit.record(db_session=s, action="test.concurrent", details={"thread": n, "i": i})
                    s.commit()
                except Exception as exc:
                    s.rollback()
                    errors.append(type(exc).__name__)

    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, Counter(errors)
        with sessions() as s:
            verdict = audit.verify(db_session=s)
        assert verdict.ok and verdict.count == THREADS * PER_THREAD, verdict
    finally:
        engine.dispose()


def test_an_audited_read_is_not_answered_before_its_event_commits(tmp_path, sqlite_url, audio) -> None:  # type: ignore[no-untyped-def]
    """The request's session commits before the response leaves: if the audit event can't be committed, the
    researcher gets an error, not the transcript (FastAPI's default would commit after sending)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session, sessionmaker

    from service.audit.models import AuditEvent

    class FailingCommit(Session):
        def commit(self) -> None:
            pending = self.execute(sa.select(AuditEvent.id).where(AuditEvent.action == "library.download")).first()
            if pending is not None:  # this transaction wrote the download's audit event
                raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))
            super().commit()

    settings = make_settings(tmp_path, sqlite_url)
    with serve(settings, start_workers=False) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        app = App(client=c, runtime=server.runtime, tokens=server.tokens)  # type: ignore[arg-type]
        rid = app.upload(audio)
        save_as_worker(app, rid, LINES)
        approve(app, rid)
        server.runtime.sessions = sessionmaker(  # type: ignore[attr-defined]
            bind=server.runtime.engine, expire_on_commit=False, class_=FailingCommit  # type: ignore[attr-defined]
        )
        resp = c.get(f"/api/v1/library/{rid}?format=txt", headers=app.h("researcher"))
        assert resp.status_code == 503, resp.status_code
        assert "home that evening" not in resp.text
        from tests.support.lifecycle import audit_rows

        assert "library.download" not in {r["action"] for r in audit_rows(server.runtime.engine)}
