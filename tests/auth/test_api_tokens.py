"""API tokens made and revoked by their owner or an admin, through the API on a real database with the service's
clock frozen: a name and an optional expiry (refused once past it, audited with the reason), a revoked token stops
at once, another user's token answers like a missing one, web sessions are never listed or revoked here, the limits
(count, name, expiry) are 4xx, and the audit log has ids and expiry days but never the token or its name. Also the
CLI (`users token-create/-list/-revoke`) and the rule that a token is no web password for someone who has one.

(The role matrix of the new endpoints is in tests/auth/test_auth_matrix.py.)
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.support.apps import create_users, make_settings
from tests.support.lifecycle import Clock, frozen

API = "/api/v1"
LIMIT = 4
MAX_DAYS = 90
FIELDS = {"id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked", "state"}


@dataclass
class World:
    client: TestClient
    runtime: Any
    clock: Clock
    tokens: dict[str, str]

    def h(self, role_or_token: str) -> dict[str, str]:
        token = self.tokens.get(role_or_token, role_or_token)
        return {"Authorization": f"Bearer {token}"}

    def new_user(self, role: str = "researcher") -> str:
        return create_users(self.runtime, roles=(role,))[role]

    def user_id(self, token: str) -> int:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text("SELECT user_id FROM api_tokens WHERE token_hash = :h"),
                                {"h": hashlib.sha256(token.encode()).hexdigest()}).scalar_one()

    def make(self, token: str, name: str = "backup script", **expiry: Any) -> dict:
        resp = self.client.post(f"{API}/tokens", headers=self.h(token), json={"name": name, **expiry})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def events(self, action: str) -> list[tuple[int | None, str | None, dict]]:
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT actor_id, object_id, details FROM audit_events WHERE action = :a "
                                        "ORDER BY id"), {"a": action}).all()
        return [(a, o, d if isinstance(d, dict) else json.loads(d)) for a, o, d in rows]

    def last_failure(self) -> str:
        return self.events("auth.failed")[-1][2]["reason"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from service.app import create_app
    from tests.support.databases import pg_create, pg_drop

    tmp = tmp_path_factory.mktemp(f"tokens-{request.param}")
    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'a.db'}"
    try:
        with frozen() as clock:
            app = create_app(make_settings(tmp, url, api_token_limit=LIMIT, api_token_max_days=MAX_DAYS),
                             start_workers=False)
            with TestClient(app, follow_redirects=False) as client:
                yield World(client=client, runtime=app.state.runtime, clock=clock,
                            tokens=create_users(app.state.runtime))
    finally:
        if pg:
            pg_drop(pg)


def test_owner_creates_lists_uses_and_revokes(world: World) -> None:
    me = world.new_user()
    made = world.make(me, "nightly export", expires_in_days=30)
    assert set(made) == FIELDS | {"token"} and made["token"].startswith("ast_") and made["prefix"] == made["token"][:12]
    assert (made["name"], made["state"], made["revoked"], made["last_used_at"]) == ("nightly export", "live", False,
                                                                                     None)
    assert made["expires_at"].startswith((world.clock.now + timedelta(days=30)).isoformat()[:19])
    assert world.client.get(f"{API}/me", headers=world.h(made["token"])).status_code == 200

    listed = world.client.get(f"{API}/tokens", headers=world.h(me)).json()
    # Newest first: the new one, then the one made with the user ("initial", no expiry); never a token or hash.
    assert [(t["id"], t["name"], t["expires_at"]) for t in listed][1:] == [(listed[1]["id"], "initial", None)]
    assert listed[0]["id"] == made["id"] and listed[0]["last_used_at"] is not None
    assert all(set(t) == FIELDS for t in listed)
    assert made["token"] not in json.dumps(listed) and hashlib.sha256(made["token"].encode()).hexdigest() not in (
        json.dumps(listed))

    assert world.client.delete(f"{API}/tokens/{made['id']}", headers=world.h(me)).status_code == 204
    assert world.client.get(f"{API}/me", headers=world.h(made["token"])).status_code == 401
    assert world.last_failure() == "revoked_token"
    after = {t["id"]: t for t in world.client.get(f"{API}/tokens", headers=world.h(me)).json()}
    assert (after[made["id"]]["revoked"], after[made["id"]]["state"]) == (True, "revoked")
    # Again: nothing changes, nothing more audited.
    assert world.client.delete(f"{API}/tokens/{made['id']}", headers=world.h(me)).status_code == 204
    uid = world.user_id(me)
    assert [e for e in world.events("token.create") if e[1] == str(made["id"])] == [
        (uid, str(made["id"]), {"user_id": uid, "by": "owner", "expires_days": 30})]
    assert [e for e in world.events("token.revoke") if e[1] == str(made["id"])] == [
        (uid, str(made["id"]), {"user_id": uid, "by": "owner"})]
    with world.runtime.engine.connect() as conn:
        details = " ".join(str(d) for d in conn.execute(sa.text("SELECT details FROM audit_events")).scalars())
    assert "nightly export" not in details and made["token"][4:] not in details


def test_expiry_follows_the_clock(world: World) -> None:
    me = world.new_user("uploader")
    day = world.make(me, "one day", expires_in_days=1)
    at = (world.clock.now + timedelta(hours=36)).isoformat()
    exact = world.make(me, "until a moment", expires_at=at)
    assert exact["expires_at"][:19] == at[:19]
    world.clock.advance(hours=23)
    assert world.client.get(f"{API}/me", headers=world.h(day["token"])).status_code == 200
    world.clock.advance(hours=2)
    assert world.client.get(f"{API}/me", headers=world.h(day["token"])).status_code == 401
    assert world.last_failure() == "expired_token"
    assert world.client.get(f"{API}/me", headers=world.h(exact["token"])).status_code == 200
    states = {t["id"]: t["state"] for t in world.client.get(f"{API}/tokens", headers=world.h(me)).json()}
    assert (states[day["id"]], states[exact["id"]]) == ("expired", "live")
    world.clock.advance(hours=12)
    assert world.client.get(f"{API}/me", headers=world.h(exact["token"])).status_code == 401
    created = [e[2]["expires_days"] for e in world.events("token.create") if e[1] in (str(day["id"]),
                                                                                      str(exact["id"]))]
    assert created == [1, 2]  # 36 hours, rounded


def test_limits_are_4xx_and_change_nothing(world: World) -> None:
    me = world.new_user()
    now = world.clock.now
    bad = [
        {"name": ""}, {"name": "   "}, {"name": "x" * 65}, {"name": "bell\x07"}, {"name": "new\nline"},
        {"name": "n", "expires_in_days": 0}, {"name": "n", "expires_in_days": MAX_DAYS + 1},
        {"name": "n", "expires_in_days": 10**12},
        {"name": "n", "expires_at": (now - timedelta(minutes=1)).isoformat()},
        {"name": "n", "expires_at": (now + timedelta(days=MAX_DAYS, minutes=1)).isoformat()},
        {"name": "n", "expires_at": (now + timedelta(days=1)).replace(tzinfo=None).isoformat()},
        {"name": "n", "expires_in_days": 1, "expires_at": (now + timedelta(days=1)).isoformat()},
        {"name": "n", "scope": "admin"}, {"expires_in_days": 3},
    ]
    for body in bad:
        resp = world.client.post(f"{API}/tokens", headers=world.h(me), json=body)
        assert resp.status_code == 422, (body, resp.text)
    assert len(world.client.get(f"{API}/tokens", headers=world.h(me)).json()) == 1
    assert world.make(me, "x" * 64, expires_in_days=MAX_DAYS)["name"] == "x" * 64
    made = [world.make(me, f"t{i}") for i in range(LIMIT - 2)]  # with "initial": LIMIT live tokens
    full = world.client.post(f"{API}/tokens", headers=world.h(me), json={"name": "one too many"})
    assert full.status_code == 409 and f"at most {LIMIT}" in full.json()["detail"]
    world.client.delete(f"{API}/tokens/{made[0]['id']}", headers=world.h(me))
    world.make(me, "room again")  # revoked ones do not count (nor do expired ones)


def test_web_sessions_are_not_listed_made_or_revoked_here(world: World) -> None:
    from tests.web.test_web import sign_in

    me = world.new_user()
    browser = TestClient(world.client.app, follow_redirects=False)
    assert sign_in(browser, me).status_code == 303
    with world.runtime.engine.connect() as conn:
        session_row = conn.execute(sa.text("SELECT id, name FROM api_tokens WHERE user_id = :u AND prefix LIKE "
                                           "'aws%'"), {"u": world.user_id(me)}).one()
    assert session_row[1] == "web session"
    assert [t["name"] for t in world.client.get(f"{API}/tokens", headers=world.h(me)).json()] == ["initial"]
    assert world.client.delete(f"{API}/tokens/{session_row[0]}", headers=world.h(me)).status_code == 404
    admin = world.client.delete(f"{API}/users/{world.user_id(me)}/tokens/{session_row[0]}", headers=world.h("admin"))
    assert admin.status_code == 404
    assert browser.get("/account").status_code == 200  # the session still works
    # A session id is no API token, whatever the endpoint.
    session_id = browser.cookies.get("anonscribe_session")
    assert world.client.get(f"{API}/tokens", headers=world.h(session_id)).status_code == 401


def test_another_users_token_is_not_found_and_admins_manage_anyones(world: World) -> None:
    owner, other = world.new_user(), world.new_user("uploader")
    made = world.make(owner, "owner's")
    owner_id = world.user_id(owner)
    for resp in (world.client.delete(f"{API}/tokens/{made['id']}", headers=world.h(other)),
                 world.client.delete(f"{API}/tokens/{2**31 - 1}", headers=world.h(other))):
        assert (resp.status_code, resp.json()) == (404, {"detail": "no such token"})
    assert world.client.get(f"{API}/users/{owner_id}/tokens", headers=world.h(other)).status_code == 403
    assert world.client.get(f"{API}/me", headers=world.h(made["token"])).status_code == 200

    admin = world.h("admin")
    listed = world.client.get(f"{API}/users/{owner_id}/tokens", headers=admin).json()
    assert [t["name"] for t in listed] == ["owner's", "initial"]
    # The token belongs to `owner`, not to `other`: the pair must match.
    wrong = world.client.delete(f"{API}/users/{world.user_id(other)}/tokens/{made['id']}", headers=admin)
    assert wrong.status_code == 404
    assert world.client.delete(f"{API}/users/{owner_id}/tokens/{made['id']}", headers=admin).status_code == 204
    assert world.client.get(f"{API}/me", headers=world.h(made["token"])).status_code == 401
    admin_id = world.user_id(world.tokens["admin"])
    assert world.events("token.revoke")[-1] == (admin_id, str(made["id"]), {"user_id": owner_id, "by": "admin"})

    given = world.client.post(f"{API}/users/{owner_id}/tokens", headers=admin,
                              json={"name": "for the lab's script", "expires_in_days": 7})
    assert given.status_code == 201 and world.user_id(given.json()["token"]) == owner_id
    assert world.events("token.create")[-1][2] == {"user_id": owner_id, "by": "admin", "expires_days": 7}
    assert world.client.get(f"{API}/users/{2**31 - 1}/tokens", headers=admin).status_code == 404
    assert world.client.post(f"{API}/users/{2**31 - 1}/tokens", headers=admin, json={"name": "x"}).status_code == 404


def test_a_token_is_no_web_password(world: World) -> None:
    """With token sign-in on, a user who has a password (or single sign-on) cannot sign in to the web with a
    token: that would skip the password and the second factor. Token-only accounts (scripts) still can."""
    from service.auth import accounts
    from service.core.db import session_scope
    from tests.web.test_web import sign_in

    token = world.new_user("reviewer")
    with session_scope(world.runtime.sessions) as s:
        link = accounts.make_link(db_session=s, user_id=world.user_id(token), actor_id=None, purpose="invite",
                                  ttl=timedelta(hours=1))
    with session_scope(world.runtime.sessions) as s:
        accounts.use_link(db_session=s, token=link, password="mauve kettle orbit 42 lantern")
    browser = TestClient(world.client.app, follow_redirects=False)
    refused = sign_in(browser, token)
    assert refused.status_code == 403 and "API tokens are for scripts" in refused.text
    assert "anonscribe_session" not in refused.headers.get("set-cookie", "")
    assert world.last_failure() == "token_not_for_web"
    assert world.client.get(f"{API}/me", headers=world.h(token)).status_code == 200  # still fine for the API
    assert sign_in(TestClient(world.client.app, follow_redirects=False), world.new_user("reviewer")).status_code == 303
    # Invited but no password yet (or between an admin's reset and the new password): still a person's account.
    invited = world.new_user("researcher")
    with session_scope(world.runtime.sessions) as s:
        accounts.make_link(db_session=s, user_id=world.user_id(invited), actor_id=None, purpose="reset",
                           ttl=timedelta(hours=1))
    # Bound to a single sign-on identity (tests/auth/test_sso.py binds them through a real provider).
    bound = world.new_user("uploader")
    with world.runtime.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO user_identities (user_id, issuer, subject, created_at) VALUES "
                             "(:u, 'https://idp.example', :s, CURRENT_TIMESTAMP)"),
                     {"u": world.user_id(bound), "s": uuid.uuid4().hex})
    for person in (invited, bound):
        assert sign_in(TestClient(world.client.app, follow_redirects=False), person).status_code == 403
        assert world.last_failure() == "token_not_for_web"


def test_cli_creates_lists_and_revokes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import app as cli
    from service.core.settings import get_settings

    monkeypatch.setenv("ANONSCRIBE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ANONSCRIBE_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'a.db'}")
    monkeypatch.setenv("ANONSCRIBE_API_TOKEN_MAX_DAYS", "30")
    get_settings.cache_clear()
    runner = CliRunner()
    name = f"script-{uuid.uuid4().hex[:6]}"
    try:
        assert runner.invoke(cli, ["users", "create", name, "--role", "uploader"]).exit_code == 0
        out = runner.invoke(cli, ["users", "token-create", name, "--token-name", "sync job", "--expires-days", "7"])
        assert out.exit_code == 0, out.output
        token = out.output.split()[-1]
        token_id = int(re.search(r"token (\d+) for", out.output).group(1))  # type: ignore[union-attr]
        assert token.startswith("ast_") and "expires" in out.output
        for args, message in (
            (["--token-name", "x", "--expires-days", "31"], "1 to 30 days"),
            (["--token-name", "  "], "1-64 printable"),
        ):
            refused = runner.invoke(cli, ["users", "token-create", name, *args])
            assert refused.exit_code == 2 and message in refused.output, refused.output
        assert runner.invoke(cli, ["users", "token-create", "nobody", "--token-name", "x"]).exit_code == 2
        listing = runner.invoke(cli, ["users", "token-list", name])
        lines = [line.split("\t") for line in listing.output.strip().splitlines()]
        assert (int(lines[0][0]), lines[0][1], lines[0][6]) == (token_id, "live", "sync job")
        assert [r[6] for r in lines] == ["sync job", "initial"] and token not in listing.output
        assert runner.invoke(cli, ["users", "token-revoke", name, str(token_id)]).exit_code == 0
        assert runner.invoke(cli, ["users", "token-revoke", name, "999999"]).exit_code == 2
        assert runner.invoke(cli, ["users", "token-list", name]).output.split("\t")[1] == "revoked"
        with sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'a.db'}").connect() as conn:
            rows = conn.execute(sa.text("SELECT action, actor_id, details FROM audit_events WHERE action LIKE "
                                        "'token.%' ORDER BY id")).all()
        assert [(a, actor, json.loads(d)["by"]) for a, actor, d in rows] == [("token.create", None, "cli"),
                                                                               ("token.revoke", None, "cli")]
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_names_existing_tokens_and_sessions(tmp_path: Path, backend: str) -> None:
    """Rows from before 0012 get a name (tokens "initial", sessions "web session") and no expiry; downgrade works."""
    from alembic.config import Config

    from alembic import command
    from service.core.db import ALEMBIC_DIR
    from tests.support.databases import pg_create, pg_drop

    pg = pg_create() if backend == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp_path / 'm.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["database_url"] = url
    engine = sa.create_engine(url)
    try:
        command.upgrade(cfg, "0012")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (id, name, role, active, created_at) "
                                 "VALUES (1, 'old', 'uploader', :t, CURRENT_TIMESTAMP)"), {"t": True})
            for prefix, digest in (("ast_aaaaaaaa", "a" * 64), ("aws_bbbbbbbb", "b" * 64)):
                conn.execute(sa.text("INSERT INTO api_tokens (user_id, token_hash, prefix, created_at, revoked) "
                                     "VALUES (1, :h, :p, CURRENT_TIMESTAMP, :f)"),
                             {"h": digest, "p": prefix, "f": False})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT prefix, name, expires_at FROM api_tokens ORDER BY prefix")).all()
        assert [tuple(r) for r in rows] == [("ast_aaaaaaaa", "initial", None), ("aws_bbbbbbbb", "web session", None)]
        command.downgrade(cfg, "0012")
        with engine.connect() as conn:
            assert "name" not in {c["name"] for c in sa.inspect(conn).get_columns("api_tokens")}
    finally:
        engine.dispose()
        if pg:
            pg_drop(pg)
