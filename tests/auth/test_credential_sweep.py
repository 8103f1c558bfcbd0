"""The scheduled clean-up of `api_tokens` (service/auth/cleanup.py, `sweep-credentials` in workers/scheduled.py), on
both back-ends with the service clock frozen and moved by hand: an API token revoked or expired is deleted
`api_token_purge_after_days` after it stopped working and not a minute before, a live token never is, web sessions
go once they can no longer be used, and the audit log keeps every entry about the tokens plus one with counts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from service.core.db import session_scope
from tests.support.lifecycle import App, frozen, quiet_app

API = "/api/v1"


def _sweep(app: App) -> dict[str, int]:
    from workers import scheduled

    [entry] = [e for e in scheduled.SCHEDULE if e.name == "sweep-credentials"]
    result: dict[str, int] = entry.run(runtime=app.runtime)
    return result


def _ids(app: App) -> set[int]:
    with app.runtime.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT id FROM api_tokens")).scalars())


def _events(app: App, action: str) -> list[dict[str, Any]]:
    with app.runtime.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor_id, object_type, object_id, details FROM audit_events "
                                    "WHERE action = :a ORDER BY id"), {"a": action}).mappings().all()
    return [{**r, "details": json.loads(r["details"]) if isinstance(r["details"], str) else r["details"]}
            for r in rows]


def _make(app: App, role: str, name: str, **expiry: Any) -> tuple[int, str]:
    resp = app.client.post(f"{API}/tokens", headers=app.h(role), json={"name": name, **expiry})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"], resp.json()["token"]


def _works(app: App, token: str) -> bool:
    return app.client.get(f"{API}/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_ended_tokens_go_after_the_keeping_period_and_live_ones_never(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    with frozen() as clock, quiet_app(tmp_path, db_url) as app:
        revoked, _ = _make(app, "researcher", "old laptop")
        expiring, expiring_token = _make(app, "researcher", "one-day job", expires_in_days=1)
        live, live_token = _make(app, "researcher", "nightly export")
        yearly, yearly_token = _make(app, "uploader", "uploader script", expires_in_days=365)
        assert app.client.delete(f"{API}/tokens/{revoked}", headers=app.h("researcher")).status_code == 204
        clock.advance(days=10)
        later, _ = _make(app, "uploader", "revoked later")
        assert app.client.delete(f"{API}/tokens/{later}", headers=app.h("uploader")).status_code == 204
        everything = _ids(app)

        # Nothing has been over for 90 days yet: the sweep deletes nothing and writes nothing.
        clock.advance(days=80, minutes=-1)  # T0 + 90 days - 1 minute
        assert _sweep(app) == {"api_tokens": 0, "web_sessions": 0, "revocations_dated": 0}
        assert _ids(app) == everything and _events(app, "auth.credential_sweep") == []

        clock.advance(minutes=1)  # 90 days after the first revocation
        assert _sweep(app)["api_tokens"] == 1
        assert _ids(app) == everything - {revoked}
        clock.advance(days=1)  # 90 days after the one-day token expired
        assert _sweep(app)["api_tokens"] == 1
        assert _ids(app) == everything - {revoked, expiring}
        assert _sweep(app)["api_tokens"] == 0  # idempotent
        clock.advance(days=9)  # 90 days after the second revocation
        assert _sweep(app)["api_tokens"] == 1
        assert _ids(app) == everything - {revoked, expiring, later}

        # A token past its expiry is refused at once but listed (marked) for the keeping period, then deleted.
        clock.advance(days=365 - 100)  # the yearly token's last moment... and past it
        assert _works(app, yearly_token) is False and _sweep(app)["api_tokens"] == 0
        assert yearly in _ids(app)
        clock.advance(days=90)
        assert _sweep(app)["api_tokens"] == 1 and yearly not in _ids(app)

        # A live token is never deleted, however old or long unused; it still works.
        clock.advance(days=3650)
        assert _sweep(app)["api_tokens"] == 0
        assert live in _ids(app) and _works(app, live_token) and _works(app, app.tokens["admin"])
        assert _works(app, expiring_token) is False

        # Every audit entry about the tokens stays; each sweep that deleted something wrote one entry of counts.
        made = {e["object_id"] for e in _events(app, "token.create")}
        assert {str(t) for t in (revoked, expiring, later, yearly)} <= made
        assert {e["object_id"] for e in _events(app, "token.revoke")} == {str(revoked), str(later)}
        sweeps = _events(app, "auth.credential_sweep")
        assert [e["details"]["api_tokens"] for e in sweeps] == [1, 1, 1, 1]
        for e in sweeps:
            assert e["details"] == {"api_tokens": 1, "web_sessions": 0, "revocations_dated": 0, "keep_days": 90}
            assert e["actor_id"] is None and e["object_type"] is None and e["object_id"] is None
        from service.audit import service as audit

        with session_scope(app.runtime.sessions) as s:
            assert audit.verify(db_session=s).ok


def test_the_keeping_period_is_a_setting_and_old_revocations_get_a_date(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    """Tokens revoked before revocation times were kept (alembic 0014) are dated by the first sweep and kept the
    whole period from then, never deleted on a guess."""
    with frozen() as clock, quiet_app(tmp_path, db_url, api_token_purge_after_days=7) as app:
        legacy, _ = _make(app, "researcher", "from before")
        dated, _ = _make(app, "researcher", "revoked now")
        assert app.client.delete(f"{API}/tokens/{dated}", headers=app.h("researcher")).status_code == 204
        with app.runtime.engine.begin() as conn:
            conn.execute(sa.text("UPDATE api_tokens SET revoked = :t, revoked_at = NULL WHERE id = :i"),
                         {"t": True, "i": legacy})
        clock.advance(days=30)
        assert _sweep(app) == {"api_tokens": 1, "web_sessions": 0, "revocations_dated": 1}
        assert legacy in _ids(app) and dated not in _ids(app)
        clock.advance(days=7, minutes=-1)
        assert _sweep(app)["api_tokens"] == 0 and legacy in _ids(app)
        clock.advance(minutes=1)
        assert _sweep(app) == {"api_tokens": 1, "web_sessions": 0, "revocations_dated": 0}
        assert legacy not in _ids(app)
        assert [e["details"]["keep_days"] for e in _events(app, "auth.credential_sweep")] == [7, 7]


def test_web_sessions_go_once_they_cannot_be_used(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    """Sessions are rows of the same table; sign-in drops only the signing-in user's dead ones, so a user who never
    comes back would leave theirs for ever. The sweep deletes exactly what `sessions.resolve` refuses."""
    from service.auth import sessions
    from service.auth.models import User

    idle, max_age = timedelta(hours=1), timedelta(hours=8)
    with frozen() as clock, quiet_app(tmp_path, db_url, web_session_idle_s=3600, web_session_max_age_s=8 * 3600) as app:
        with session_scope(app.runtime.sessions) as s:
            users = list(s.execute(sa.select(User).order_by(User.id)).scalars())
            signed_out = sessions.begin(db_session=s, user=users[0], max_age=max_age, method="token")
            left_idle = sessions.begin(db_session=s, user=users[1], max_age=max_age, method="token")
            busy = sessions.begin(db_session=s, user=users[2], max_age=max_age, method="token")
        with session_scope(app.runtime.sessions) as s:
            assert sessions.end(db_session=s, session_id=signed_out)
        all_rows, dead = _ids(app), _session_rows(app, keep=[busy])
        assert len(dead) == 2

        def alive(sid: str) -> bool:
            with session_scope(app.runtime.sessions) as s:
                return sessions.resolve(db_session=s, session_id=sid, max_age=max_age, idle=idle) is not None

        clock.advance(minutes=30)
        assert alive(busy)  # (resolving a session uses it: left_idle is left alone)
        assert _sweep(app)["web_sessions"] == 1  # the signed-out one
        clock.advance(minutes=30)  # left_idle: an hour unused; busy was used 30 minutes ago
        assert alive(busy) and not alive(left_idle)
        assert _sweep(app) == {"api_tokens": 0, "web_sessions": 1, "revocations_dated": 0}
        assert _ids(app) == all_rows - dead
        # Kept in use, the busy session still ends at its absolute age; the sweep takes it then, not before.
        for _ in range(13):
            clock.advance(minutes=30)
            assert alive(busy) and _sweep(app)["web_sessions"] == 0
        clock.advance(minutes=30)  # 8 hours after sign-in
        assert not alive(busy)
        assert _sweep(app)["web_sessions"] == 1
        with app.runtime.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM api_tokens WHERE prefix LIKE 'aws_%'")).scalar_one() == 0
        # The users' API tokens were not touched, and the session start/end entries are still in the log.
        assert all(_works(app, t) for t in app.tokens.values())
        assert len(_events(app, "auth.session_start")) == 3 and len(_events(app, "auth.session_end")) == 1
        assert [e["details"]["web_sessions"] for e in _events(app, "auth.credential_sweep")] == [1, 1, 1]


def _session_rows(app: App, keep: list[str]) -> set[int]:
    """Ids of session rows other than those of `keep`."""
    from service.auth import service as auth

    hashes = [auth.hash_token(sid) for sid in keep]
    with app.runtime.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, token_hash FROM api_tokens WHERE prefix LIKE 'aws_%'")).all()
    return {i for i, h in rows if h not in hashes}


def test_migration_adds_revocation_times_without_guessing_them(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    """0014 adds `revoked_at`, empty for tokens revoked before it (the first sweep dates them); downgrade drops it."""
    from alembic.config import Config

    from alembic import command
    from service.core.db import ALEMBIC_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["database_url"] = db_url
    if db_url.startswith("sqlite"):
        (tmp_path / "data").mkdir(exist_ok=True)
    engine = sa.create_engine(db_url)
    try:
        command.upgrade(cfg, "0013")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (id, name, role, active, created_at) "
                                 "VALUES (1, 'old', 'uploader', :t, CURRENT_TIMESTAMP)"), {"t": True})
            conn.execute(sa.text("INSERT INTO api_tokens (user_id, token_hash, prefix, created_at, revoked) "
                                 "VALUES (1, :h, 'ast_aaaaaaaa', CURRENT_TIMESTAMP, :t)"), {"h": "a" * 64, "t": True})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT revoked, revoked_at FROM api_tokens")).one() == (True, None)
        command.downgrade(cfg, "0013")
        with engine.connect() as conn:
            assert "revoked_at" not in {c["name"] for c in sa.inspect(conn).get_columns("api_tokens")}
            assert conn.execute(sa.text("SELECT COUNT(*) FROM api_tokens")).scalar_one() == 1
    finally:
        engine.dispose()
