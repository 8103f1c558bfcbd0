"""Local accounts, through the domain service on a real database: the password policy, argon2id hashes (nothing
secret stored in the clear), one-time links, TOTP on a fake clock (current and previous window, replay refused,
wrong code), single-use recovery codes, per-account lockout that lifts after its window, and a factor reset that
crypto-shreds the secret. Every step is audited with ids and counts only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.auth import accounts, factors, passwords, totp
from service.auth.models import Role, User
from service.core.db import session_scope
from tests.support.apps import make_settings
from tests.support.lifecycle import Clock, frozen

PASSWORD = "mauve kettle orbit 42 lantern"
LOCKOUT = accounts.Lockout(limit=3, lock=timedelta(minutes=15))
TOTP_ROLES = frozenset({"admin", "reviewer"})


def wrong_code(secret: str, step: int) -> str:
    """A 6-digit code valid for none of the steps around `step`."""
    valid = {totp.code_at(secret, step + d) for d in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(100)) if c not in valid)


@dataclass
class World:
    runtime: Any
    clock: Clock
    lockout: accounts.Lockout = LOCKOUT

    def session(self):  # type: ignore[no-untyped-def]
        return session_scope(self.runtime.sessions)

    def user(self, role: str = "reviewer", name: str | None = None) -> int:
        from service.auth import service as auth

        with self.session() as s:
            user, token = auth.create_user(db_session=s, name=name or f"{role}-{uuid.uuid4().hex[:8]}",
                                           role=Role(role), api_token=False)
            assert token is None
            return user.id

    def user_id_by_name(self, name: str) -> int:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text("SELECT id FROM users WHERE name = :n"), {"n": name}).scalar_one()

    def name(self, user_id: int) -> str:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text("SELECT name FROM users WHERE id = :i"), {"i": user_id}).scalar_one()

    def with_password(self, role: str = "reviewer") -> int:
        uid = self.user(role)
        with self.session() as s:
            link = accounts.make_link(db_session=s, user_id=uid, actor_id=None, purpose="invite",
                                      ttl=timedelta(hours=1))
        with self.session() as s:
            accounts.use_link(db_session=s, token=link, password=PASSWORD)
        return uid

    def password(self, user_id: int, password: str = PASSWORD) -> accounts.Next | str:
        """The password step's outcome, or the audited reason it failed."""
        with self.session() as s:
            try:
                return accounts.password_step(db_session=s, name=self.name(user_id), password=password,
                                              lockout=self.lockout, totp_roles=TOTP_ROLES)[1]
            except accounts.SignInFailed as exc:
                s.commit()  # as the sign-in page does: the count and the audit event stay
                return exc.refusal.reason  # type: ignore[attr-defined]

    def enrol(self, user_id: int) -> tuple[str, list[str]]:
        with self.session() as s:
            secret = factors.enrolment_secret(db_session=s, sealed=self.runtime.sealed, user_id=user_id)
        with self.session() as s:
            codes = factors.confirm_enrolment(db_session=s, sealed=self.runtime.sealed, user_id=user_id,
                                               code=totp.code_at(secret, totp.step_at(self.clock.now)))
        assert codes is not None and len(codes) == 10 and len(set(codes)) == 10
        return secret, codes

    def code(self, user_id: int, code: str) -> str:
        """Sign in past the password with `code`: "ok", or the audited reason it was refused."""
        with self.session() as s:
            challenge = accounts.start_challenge(db_session=s, user_id=user_id, purpose="code")
        with self.session() as s:
            try:
                accounts.code_step(db_session=s, sealed=self.runtime.sealed, token=challenge, code=code,
                                   lockout=self.lockout)
                return "ok"
            except accounts.SignInFailed as exc:
                s.commit()
                return exc.refusal.reason  # type: ignore[attr-defined]

    def events(self, action: str | None = None) -> list[tuple[str, str | None, dict]]:
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT action, object_id, details FROM audit_events ORDER BY id")).all()
        out = [(a, o, d if isinstance(d, dict) else json.loads(d)) for a, o, d in rows]
        return [e for e in out if action is None or e[0] == action]

    def dump(self) -> str:
        out = []
        with self.runtime.engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                    for v in row:
                        v = bytes(v) if isinstance(v, memoryview) else v
                        out.append(v.decode("latin-1") if isinstance(v, bytes) else str(v))
        return "\n".join(out)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    from service.app import create_app
    from tests.support.databases import pg_create, pg_drop

    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp_path / 'data' / 'a.db'}"
    try:
        with frozen() as clock:
            app = create_app(make_settings(tmp_path, url), start_workers=False)
            with TestClient(app):
                yield World(runtime=app.state.runtime, clock=clock)
    finally:
        if pg:
            pg_drop(pg)


# ---- the policy (no database) ----------------------------------------------------------------------------------

REFUSED = {
    "short": ("eleven char", "at least 12"),
    "common": ("iloveyou1234", "commonly used"),
    "common dressed up": ("P@ssw0rd2024!", "commonly used"),
    "common padded": ("!!Welcome2026!!", "commonly used"),
    "keyboard run": ("qwertyuiopasdf", "run of"),
    "digit run": ("123456789012", "run of"),
    "alphabet backwards": ("zyxwvutsrqpo", "run of"),
    "one character": ("aaaaaaaaaaaaaaaa", "different characters"),
    "repeated word": ("dragondragon1", "repeated"),
    "user name": ("xx-reviewer7-yy-2026", "user name"),
    "service name": ("Anonscribe is great!", "service's name"),
    "too long": ("a long phrase " * 80, "at most 1024"),
    "an API token": ("ast_Xq3v9LmT0pRw7KzY2bN8cD4fG6hJ1sA5eU0iO9", "API token"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_policy_refuses(case: str) -> None:
    password, words = REFUSED[case]
    with pytest.raises(passwords.WeakPassword, match=words) as refused:
        passwords.check(password, user_name="reviewer7")
    assert password not in str(refused.value)


@pytest.mark.parametrize("password", [
    "mauve kettle orbit 42 lantern", "Tr0ub4dor&3xyz", "twelve chars",
    "x" * 0 + "𝄞 music, unicode & spaces ok", "A" + "bcdefgh9" * 16,  # 129 characters: no low maximum
    ("correct horse battery staple " * 40)[:1024],
])
def test_policy_accepts_pass_phrases_up_to_1024_characters(password: str) -> None:
    passwords.check(password, user_name="reviewer7")


def test_hashes_are_argon2id_and_verify_only_the_password() -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$") and PASSWORD not in stored
    assert stored != passwords.hash_password(PASSWORD)  # salted
    assert passwords.verify(stored, PASSWORD) and not passwords.verify(stored, PASSWORD + " ")
    assert not passwords.verify(None, PASSWORD) and not passwords.verify("not a hash", PASSWORD)
    assert not passwords.needs_rehash(stored)
    assert passwords.needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$" + stored.split("$", 4)[4])


# ---- links, hashes, what is stored ------------------------------------------------------------------------------


def test_nothing_secret_is_stored_in_the_clear(world: World) -> None:
    uid = world.user("reviewer")
    with world.session() as s:
        link = accounts.make_link(db_session=s, user_id=uid, actor_id=None, purpose="invite", ttl=timedelta(hours=1))
    assert link.startswith("asl_") and len(link) > 40
    with world.session() as s:
        accounts.use_link(db_session=s, token=link, password=PASSWORD)
    secret, codes = world.enrol(uid)
    dump = world.dump()
    for needle in (PASSWORD, link, link[4:], secret, *codes, *(totp.normalise_recovery_code(c) for c in codes)):
        assert needle not in dump
    with world.runtime.engine.connect() as conn:
        stored, key_id = conn.execute(sa.text("SELECT password_hash, totp_key_id FROM user_credentials "
                                              "WHERE user_id = :u"), {"u": uid}).one()
        purposes = set(conn.execute(sa.text("SELECT purpose FROM data_keys WHERE id = :k"), {"k": key_id}).scalars())
        hashes = set(conn.execute(sa.text("SELECT code_hash FROM recovery_codes WHERE user_id = :u"),
                                  {"u": uid}).scalars())
    assert stored.startswith("$argon2id$") and purposes == {"totp"}
    assert hashes == {totp.hash_recovery_code(c) for c in codes}
    # The audit trail names the user and counts, never a secret.
    actions = [(a, d) for a, o, d in world.events() if o == str(uid)]
    assert ("account.link_created", {"link_ttl_s": 3600}) in actions
    assert ("account.password_set", {"via": "invite_link"}) in actions
    assert ("account.factor_enrolled", {"factor": "totp", "recovery_codes": 10}) in actions


def test_links_work_once_expire_and_are_replaced(world: World) -> None:
    uid = world.user("researcher")
    with world.session() as s:
        first = accounts.make_link(db_session=s, user_id=uid, actor_id=None, purpose="invite", ttl=timedelta(hours=1))
        second = accounts.make_link(db_session=s, user_id=uid, actor_id=None, purpose="invite",
                                    ttl=timedelta(hours=1))
    for bad in (first, "asl_" + "x" * 43, "not-a-link", second + "x"):
        with world.session() as s, pytest.raises(accounts.LinkInvalid):
            accounts.link_user(db_session=s, token=bad)
    with world.session() as s, pytest.raises(accounts.WeakPassword):
        accounts.use_link(db_session=s, token=second, password="password1234")
    with world.session() as s:
        assert accounts.link_user(db_session=s, token=second).id == uid  # a refused password leaves it usable
        accounts.use_link(db_session=s, token=second, password=PASSWORD)
    with world.session() as s, pytest.raises(accounts.LinkInvalid):
        accounts.use_link(db_session=s, token=second, password=PASSWORD + "2")
    assert world.password(uid) is accounts.Next.session  # a researcher needs no second factor
    with world.session() as s:
        late = accounts.make_link(db_session=s, user_id=uid, actor_id=None, purpose="invite", ttl=timedelta(hours=1))
    world.clock.advance(hours=1)
    with world.session() as s, pytest.raises(accounts.LinkInvalid):
        accounts.link_user(db_session=s, token=late)


def test_a_reset_link_ends_the_old_password_at_once(world: World) -> None:
    uid = world.with_password("uploader")
    assert world.password(uid) is accounts.Next.session
    with world.session() as s:
        link = accounts.make_link(db_session=s, user_id=uid, actor_id=None, purpose="reset", ttl=timedelta(hours=1))
    assert world.password(uid) == "no_password"
    with world.session() as s:
        accounts.use_link(db_session=s, token=link, password="a brand new pass phrase")
    assert world.password(uid) == "invalid_password"
    assert world.password(uid, "a brand new pass phrase") is accounts.Next.session
    [(_, _, details)] = world.events("account.password_reset")
    assert details == {"had_password": True, "link_ttl_s": 3600}


# ---- TOTP on a fake clock ---------------------------------------------------------------------------------------


def test_totp_current_previous_next_window_replay_and_wrong_codes(world: World) -> None:
    world.lockout = accounts.Lockout(limit=0, lock=timedelta(0))  # many refusals here; the lock has its own test
    uid = world.with_password("reviewer")
    assert world.password(uid) is accounts.Next.enrol  # reviewers must have a factor
    secret, _ = world.enrol(uid)
    assert world.password(uid) is accounts.Next.code
    enrolled_step = totp.step_at(world.clock.now)
    # The code used to confirm enrolment cannot sign in again (same step).
    assert world.code(uid, totp.code_at(secret, enrolled_step)) == "replayed_code"
    world.clock.advance(seconds=60)
    now = totp.step_at(world.clock.now)
    assert world.code(uid, totp.code_at(secret, now - 1)) == "ok"  # the previous window (typed as it turned)
    assert world.code(uid, totp.code_at(secret, now - 1)) == "replayed_code"
    assert world.code(uid, totp.code_at(secret, now - 2)) == "invalid_code"  # too old
    assert world.code(uid, totp.code_at(secret, now)) == "ok"
    assert world.code(uid, totp.code_at(secret, now)) == "replayed_code"
    assert world.code(uid, wrong_code(secret, now)) == "invalid_code"
    for junk in ("", "12345", "1234567", "abcdef"):
        assert world.code(uid, junk) == "invalid_code"
    world.clock.advance(seconds=30)
    assert world.code(uid, " ".join(totp.code_at(secret, totp.step_at(world.clock.now)))) == "ok"  # spaces ok
    signins = world.events("auth.signin")
    assert [d for _, o, d in signins if o == str(uid)] == [{"method": "password", "factor": "totp"}] * 3
    failed = [d["reason"] for _, o, d in world.events("auth.failed") if o == str(uid)]
    assert failed.count("replayed_code") == 3 and failed.count("invalid_code") >= 2


def test_enrolment_needs_a_right_code_and_is_audited(world: World) -> None:
    uid = world.with_password("admin")
    with world.session() as s:
        secret = factors.enrolment_secret(db_session=s, sealed=world.runtime.sealed, user_id=uid)
    with world.session() as s:
        assert factors.enrolment_secret(db_session=s, sealed=world.runtime.sealed, user_id=uid) == secret
        assert factors.confirm_enrolment(db_session=s, sealed=world.runtime.sealed, user_id=uid,
                                          code=wrong_code(secret, totp.step_at(world.clock.now))) is None
    assert world.password(uid) is accounts.Next.enrol  # not confirmed: still due
    world.enrol(uid)
    with world.session() as s, pytest.raises(factors.NotEnrolling):
        factors.enrolment_secret(db_session=s, sealed=world.runtime.sealed, user_id=uid)
    assert [d for _, o, d in world.events("account.factor_failed") if o == str(uid)] == [{"reason": "invalid_code"}]


def test_recovery_codes_work_once_each(world: World) -> None:
    uid = world.with_password("reviewer")
    _, codes = world.enrol(uid)
    assert world.code(uid, codes[3].lower()) == "ok"  # case and dashes do not matter
    assert world.code(uid, codes[3]) == "used_recovery_code"
    assert world.code(uid, "AAAA-BBBB-CCCC-DDDD") == "invalid_recovery_code"
    assert world.code(uid, codes[4].replace("-", "")) == "ok"
    with world.session() as s:
        assert factors.recovery_left(db_session=s, user_id=uid) == 8
    assert [d for _, o, d in world.events("account.recovery_code_used") if o == str(uid)] == [{"left": 9},
                                                                                              {"left": 8}]


def test_a_challenge_dies_after_five_wrong_codes_or_five_minutes(world: World) -> None:
    uid = world.with_password("reviewer")
    world.enrol(uid)
    with world.session() as s:
        challenge = accounts.start_challenge(db_session=s, user_id=uid, purpose="code")
    lockout = accounts.Lockout(limit=0, lock=timedelta(0))  # no account lock here: the challenge's own limit
    for _ in range(accounts.CHALLENGE_ATTEMPTS):
        with world.session() as s, pytest.raises(accounts.SignInFailed):
            accounts.code_step(db_session=s, sealed=world.runtime.sealed, token=challenge, code="000000",
                               lockout=lockout)
    with world.session() as s:
        assert accounts.challenge_user(db_session=s, token=challenge, purpose="code") is None
        challenge = accounts.start_challenge(db_session=s, user_id=uid, purpose="code")
    world.clock.advance(minutes=5)
    with world.session() as s:
        assert accounts.challenge_user(db_session=s, token=challenge, purpose="code") is None
        with pytest.raises(accounts.ChallengeExpired):
            accounts.code_step(db_session=s, sealed=world.runtime.sealed, token=challenge, code="000000",
                               lockout=lockout)


# ---- lockout ------------------------------------------------------------------------------------------------


def test_lockout_after_the_limit_and_unlock_after_the_window(world: World) -> None:
    uid = world.with_password("uploader")
    other = world.with_password("uploader")
    assert [world.password(uid, "wrong password!") for _ in range(3)] == ["invalid_password"] * 3
    # Locked: even the right password is refused, and nothing more is counted; others are unaffected.
    assert world.password(uid) == "locked"
    assert world.password(other) is accounts.Next.session
    with world.session() as s:
        assert accounts.status(db_session=s, user_id=uid).locked_until == world.clock.now + timedelta(minutes=15)
    world.clock.advance(minutes=14, seconds=59)
    assert world.password(uid) == "locked"
    world.clock.advance(seconds=1)
    assert world.password(uid) is accounts.Next.session
    [(_, obj, details)] = world.events("auth.account_locked")
    assert obj == str(uid) and details == {"failures": 3, "lock_s": 900}
    failures = [d for _, o, d in world.events("auth.failed") if o == str(uid)]
    assert [d.get("failures") for d in failures] == [1, 2, 3, None, None]
    assert [d["reason"] for d in failures] == ["invalid_password"] * 3 + ["locked"] * 2
    # A success clears the count: two failures, a sign-in, two more failures do not lock.
    assert [world.password(uid, "nope nope nope") for _ in range(2)] == ["invalid_password"] * 2
    with world.session() as s:
        accounts.signed_in(db_session=s, user=s.get(User, uid), factor="none")
    assert [world.password(uid, "nope nope nope") for _ in range(2)] == ["invalid_password"] * 2
    assert world.password(uid) is accounts.Next.session


def test_wrong_codes_count_towards_the_lock_and_an_admin_can_unlock(world: World) -> None:
    uid = world.with_password("reviewer")
    secret, _ = world.enrol(uid)
    world.clock.advance(seconds=60)
    wrong = wrong_code(secret, totp.step_at(world.clock.now))
    assert [world.code(uid, wrong) for _ in range(3)] == ["invalid_code"] * 3
    assert world.password(uid) == "locked"
    assert world.code(uid, totp.code_at(secret, totp.step_at(world.clock.now))) == "locked"
    with world.session() as s:
        accounts.unlock(db_session=s, user_id=uid, actor_id=None)
    assert world.password(uid) is accounts.Next.code
    assert world.code(uid, totp.code_at(secret, totp.step_at(world.clock.now))) == "ok"
    assert len(world.events("account.unlocked")) == 1


def test_unknown_names_and_disabled_users_are_refused_alike(world: World) -> None:
    from service.auth import service as auth

    uid = world.with_password("researcher")
    with world.session() as s:
        with pytest.raises(accounts.SignInFailed) as unknown:
            accounts.password_step(db_session=s, name="nobody-here", password=PASSWORD, lockout=LOCKOUT,
                                   totp_roles=TOTP_ROLES)
        s.commit()
    admin = world.with_password("admin")
    with world.session() as s:
        auth.update_user(db_session=s, user_id=uid, actor_id=admin, active=False)
    assert world.password(uid) == "disabled"
    assert unknown.value.refusal.message == accounts.SignInRefused("x").message  # one answer for all reasons
    [(_, obj, details)] = [e for e in world.events("auth.failed") if e[2]["reason"] == "unknown_user"]
    assert obj is None and details == {"reason": "unknown_user", "method": "password"}
    assert "nobody-here" not in json.dumps(world.events())


# ---- factor reset -------------------------------------------------------------------------------------------


def test_reset_factor_shreds_the_secret_and_codes_and_enrolment_is_due_again(world: World) -> None:
    uid = world.with_password("reviewer")
    _, codes = world.enrol(uid)
    with world.runtime.engine.connect() as conn:
        key_id = conn.execute(sa.text("SELECT totp_key_id FROM user_credentials WHERE user_id = :u"),
                              {"u": uid}).scalar_one()
    with world.session() as s:
        assert factors.reset_factor(db_session=s, sealed=world.runtime.sealed, user_id=uid, actor_id=None)
    with world.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM data_keys WHERE id = :k"), {"k": key_id}).scalar_one() == 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u"),
                            {"u": uid}).scalar_one() == 0
    assert world.password(uid) is accounts.Next.enrol
    with pytest.raises(accounts.ChallengeExpired):  # no factor to check a code against: start again
        world.code(uid, codes[0])
    [(_, obj, details)] = world.events("account.factor_reset")
    assert obj == str(uid) and details == {"had_factor": True, "recovery_codes_removed": 10}
    second, _ = world.enrol(uid)
    assert second not in world.dump() and world.password(uid) is accounts.Next.code


def test_cli_sets_a_password_and_resets_a_factor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import app as cli
    from service.core.settings import get_settings

    url = f"sqlite:///{tmp_path / 'data' / 'a.db'}"
    monkeypatch.setenv("ANONSCRIBE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ANONSCRIBE_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        made = runner.invoke(cli, ["users", "create", "cli-rev", "--role", "reviewer"])
        assert made.exit_code == 0, made.output
        weak = runner.invoke(cli, ["users", "set-password", "cli-rev"], input="letmein12345\nletmein12345\n")
        assert weak.exit_code == 2 and "commonly used" in weak.output
        differ = runner.invoke(cli, ["users", "set-password", "cli-rev"], input=f"{PASSWORD}\n{PASSWORD}x\n"
                               f"{PASSWORD}\n{PASSWORD}\n")
        assert differ.exit_code == 0 and "password set for cli-rev" in differ.output
        assert PASSWORD not in differ.output  # hidden input: never echoed
        assert runner.invoke(cli, ["users", "set-password", "nobody"], input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 2
        with frozen() as clock:
            from service.app import create_app

            app = create_app(make_settings(tmp_path, url), start_workers=False)
            with TestClient(app):
                world = World(runtime=app.state.runtime, clock=clock)
                uid = world.user_id_by_name("cli-rev")
                assert world.password(uid) is accounts.Next.enrol
                world.enrol(uid)
                assert world.password(uid) is accounts.Next.code
        reset = runner.invoke(cli, ["users", "reset-factor", "cli-rev"])
        assert reset.exit_code == 0 and "second factor of cli-rev reset" in reset.output
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT totp_secret FROM user_credentials")).scalar_one() is None
            via = conn.execute(sa.text("SELECT details FROM audit_events WHERE action = 'account.password_set'")).all()
        engine.dispose()
        assert [json.loads(d) if isinstance(d, str) else d for (d,) in via] == [{"via": "cli"}]
    finally:
        get_settings.cache_clear()
