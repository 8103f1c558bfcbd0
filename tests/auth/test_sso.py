"""Single sign-on over HTTP against a real OpenID provider on a port (tests/support/oidc.py): the app's own HTTP client
does discovery, fetches the provider's keys and exchanges codes over the wire; nothing in the app is patched.

Rules under test:
- the code flow: PKCE S256 (the provider refuses a wrong verifier), state bound to the browser and single use, the
  ID token's signature and its iss, aud, exp, iat and nonce checked; each refusal audited with its reason code and
  no session made;
- users are matched by subject (default) or a verified e-mail address; unknown people are refused, or made
  inactive users waiting for an admin's approval; roles follow a mapped group claim when configured;
- the client secret comes from its file; without one the client is public: its token request carries no secret in
  any form, and PKCE (then the nonce) is what keeps an intercepted code from signing anyone in;
- sign-out offers the provider's end-session URL;
- the audit log holds ids, roles and reason codes, never a code, a state, a token, a subject or an address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.support import oidc
from tests.support.apps import create_users, make_settings
from tests.support.databases import pg_create, pg_drop

CLIENT_ID = "anonscribe-test"
SECRET = "s3cret-from-a-file"


@dataclass
class World:
    app: Any
    runtime: Any
    provider: oidc.Provider
    base_settings: Any
    admin_token: str

    def configure(self, **overrides: Any) -> None:
        self.runtime.settings = self.base_settings.model_copy(update=overrides)

    def browser(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def start(self, client: TestClient, next_path: str = "/") -> str:
        resp = client.get("/signin/sso", params={"next": next_path})
        assert resp.status_code == 303, resp.text[:500]
        return resp.headers["location"]

    def login(self, client: TestClient, sub: str, next_path: str = "/") -> httpx.Response:
        callback = self.provider.authorize(self.start(client, next_path), sub)
        return client.get(callback)

    def bind(self, name: str, role: str, match: str) -> int:
        from service.auth import sso
        from service.auth.models import Role
        from service.core.db import session_scope

        with session_scope(self.runtime.sessions) as s:
            return sso.bind_new_user(db_session=s, settings=self.runtime.settings, name=name, role=Role(role),
                                     match=match, actor_id=None).id

    def events(self, since: int = 0) -> list[tuple[str, int | None, str | None, dict]]:
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT action, actor_id, object_id, details FROM audit_events "
                                        "WHERE id > :i ORDER BY id"), {"i": since}).all()
        return [(a, actor, obj, d if isinstance(d, dict) or d is None else json.loads(d)) for a, actor, obj, d in rows]

    def last_event_id(self) -> int:
        with self.runtime.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM audit_events")).scalar_one())

    def failures(self, since: int) -> list[str]:
        return [d["reason"] for a, _, _, d in self.events(since) if a == "sso.signin_failed"]

    def count(self, table: str) -> int:
        with self.runtime.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())

    def user(self, user_id: int) -> tuple[str, bool]:
        with self.runtime.engine.connect() as conn:
            role, active = conn.execute(sa.text("SELECT role, active FROM users WHERE id = :i"),
                                        {"i": user_id}).one()
        return role, bool(active)


@pytest.fixture(scope="module")
def provider() -> Iterator[oidc.Provider]:
    with oidc.provider() as p:
        yield p


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world_(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           provider: oidc.Provider) -> Iterator[World]:
    from service.app import create_app

    tmp = tmp_path_factory.mktemp(f"sso-{request.param}")
    secret = tmp / "oidc-client-secret"
    secret.write_text(SECRET + "\n")
    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"
    settings = make_settings(tmp, url, oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                             oidc_client_secret_file=secret)
    app = create_app(settings, start_workers=False)
    try:
        with TestClient(app):
            runtime = app.state.runtime
            yield World(app=app, runtime=runtime, provider=provider, base_settings=settings,
                        admin_token=create_users(runtime, roles=("admin",))["admin"])
    finally:
        if pg:
            pg_drop(pg)


@pytest.fixture
def world(world_: World) -> Iterator[World]:
    from service.core.clock import set_clock

    world_.configure()
    world_.app.state.sso_start_throttle = None  # every test starts within the limit
    world_.provider.tamper.clear()
    world_.provider.foreign_key = None
    world_.provider.enforce_pkce = True
    yield world_
    set_clock(None)
    world_.provider.tamper.clear()
    world_.provider.foreign_key = None
    world_.provider.enforce_pkce = True


def _uid() -> str:
    import uuid

    return uuid.uuid4().hex[:8]


# ---- the flow ----------------------------------------------------------------------------------------------------


def test_code_flow_with_pkce_signs_a_bound_user_in(world: World) -> None:
    sub = f"sub-{_uid()}"
    user_id = world.bind(f"rev-{_uid()}", "reviewer", sub)
    world.provider.user(sub, email=f"{sub}@uni.example", name="Rev Iewer")
    client = world.browser()
    since = world.last_event_id()

    location = world.start(client, "/review?x=1")
    query = parse_qs(urlparse(location).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://testserver/signin/sso/callback"]
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    cookie = client.cookies.get("anonscribe_sso")
    assert cookie and cookie not in location  # the browser's half never goes to the provider

    resp = client.get(world.provider.authorize(location, sub))
    assert resp.status_code == 200, resp.text[:1000]
    assert re.search(r'http-equiv="refresh" content="0;url=/review\?x=1"', resp.text)
    session = client.cookies.get("anonscribe_session")
    assert session and session.startswith("aws_")
    set_cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith("anonscribe_session="))
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie.replace("Strict", "strict")
    assert client.get("/review").status_code == 200
    assert client.get("/admin/users").status_code == 403  # the bound role, nothing more
    # PKCE: the token request carried a verifier whose S256 is the challenge; the secret came from its file.
    assert world.provider.verifiers_seen[-1] and oidc._s256(world.provider.verifiers_seen[-1]) == \
        query["code_challenge"][0]
    assert world.provider.client_auth[-1] == (CLIENT_ID, SECRET)

    actions = [(a, actor, obj) for a, actor, obj, _ in world.events(since)]
    assert ("sso.signin", user_id, str(user_id)) in actions and ("auth.session_start", user_id, str(user_id)) in actions
    _assert_no_secrets(world, since, [sub, f"{sub}@uni.example", cookie, session, query["state"][0],
                                      query["nonce"][0], location])
    with world.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT last_login_at FROM user_identities WHERE user_id = :u"),
                            {"u": user_id}).scalar_one() is not None


def _assert_no_secrets(world: World, since: int, secrets: list[str]) -> None:
    dump = json.dumps(world.events(since))
    for value in secrets:
        assert value not in dump


def test_bad_state_is_refused(world: World) -> None:
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    client = world.browser()
    callback = world.provider.authorize(world.start(client), sub)
    since = world.last_event_id()
    forged = re.sub(r"state=[^&]+", "state=" + "A" * 43, callback)
    for url in (forged, re.sub(r"&?state=[^&]+", "", callback)):
        resp = client.get(url)
        assert resp.status_code == 401 and "could not be completed" in resp.text
        assert "anonscribe_session" not in client.cookies
    assert world.failures(since) == ["state_unknown", "state_missing"]
    # The real state, but from another browser (no cookie of this attempt): refused, and the attempt is spent.
    other = world.browser()
    assert other.get(callback).status_code == 401
    assert client.get(callback).status_code == 401
    assert world.failures(since)[2:] == ["state_other_browser", "state_unknown"]


def test_replayed_code_is_refused(world: World) -> None:
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    client = world.browser()
    callback = world.provider.authorize(world.start(client), sub)
    assert client.get(callback).status_code == 200
    since = world.last_event_id()
    # The same callback again: its state was single use.
    again = world.browser()
    assert again.get(callback).status_code == 401
    # The old code under a new, valid attempt: the provider has spent the code (and it was issued for another PKCE
    # challenge): refused at the token endpoint.
    fresh = world.browser()
    new_state = parse_qs(urlparse(world.start(fresh)).query)["state"][0]
    old_code = parse_qs(urlparse(callback).query)["code"][0]
    resp = fresh.get("/signin/sso/callback", params={"state": new_state, "code": old_code})
    assert resp.status_code == 401 and "anonscribe_session" not in fresh.cookies
    assert world.failures(since) == ["state_unknown", "token_refused"]


def test_intercepted_code_is_useless_without_the_victims_verifier(world: World) -> None:
    """A code taken from the victim's callback and sent with the attacker's own attempt: the provider checks the
    attacker's PKCE verifier against the victim's challenge and refuses; the victim's code is not spent by it."""
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    victim = world.browser()
    callback = world.provider.authorize(world.start(victim), sub)
    code = parse_qs(urlparse(callback).query)["code"][0]
    attacker = world.browser()
    state = parse_qs(urlparse(world.start(attacker)).query)["state"][0]
    since = world.last_event_id()
    resp = attacker.get("/signin/sso/callback", params={"state": state, "code": code})
    assert resp.status_code == 401 and "anonscribe_session" not in attacker.cookies
    assert world.failures(since) == ["token_refused"]


@pytest.mark.parametrize(("tamper", "reason"), [
    ({"aud": "another-client"}, "id_token_aud"),
    ({"aud": ["another-client", CLIENT_ID]}, "id_token_aud"),  # several audiences and no azp for us
    ({"iss": "https://evil.example"}, "id_token_iss"),
    ({"nonce": "not-the-nonce"}, "id_token_nonce"),
    ({"iat": 4102444800}, "id_token_iat"),  # issued in 2100
    ({"exp": 946684800}, "id_token_expired"),  # expired in 2000
])
def test_bad_id_token_claims_are_refused(world: World, tamper: dict, reason: str) -> None:
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "admin", sub)
    world.provider.tamper.update(tamper)
    client = world.browser()
    since = world.last_event_id()
    resp = world.login(client, sub)
    assert resp.status_code == 401, resp.text[:500]
    assert "anonscribe_session" not in client.cookies
    assert world.failures(since) == [reason]


def test_forged_signature_is_refused(world: World) -> None:
    from joserfc.jwk import RSAKey

    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "admin", sub)
    jwks = httpx.get(f"{world.provider.url}/jwks").json()["keys"][0]
    # Same key id as the provider's, another key: only the signature check can tell.
    world.provider.foreign_key = RSAKey.generate_key(2048, parameters={"kid": jwks["kid"]}, private=True)
    world.provider.tamper["sub"] = sub
    since = world.last_event_id()
    assert world.login(world.browser(), sub).status_code == 401
    assert world.failures(since) == ["id_token_signature"]


def test_expired_id_token_by_the_injected_clock(world: World) -> None:
    """The provider's real token (valid for an hour) arrives when the app's clock says two hours later."""
    from service.core.clock import set_clock

    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    client = world.browser()
    # Started now, so the attempt itself is fresh; the token checked at +61 min (skew 60 s) is expired.
    callback = world.provider.authorize(world.start(client), sub)
    world.configure(oidc_login_timeout_s=3600 * 3)
    later = datetime.now(UTC) + timedelta(minutes=62)
    set_clock(lambda: later)
    since = world.last_event_id()
    assert client.get(callback).status_code == 401
    assert world.failures(since) == ["id_token_expired"]


def test_attempt_left_too_long_expires(world: World) -> None:
    from service.core.clock import set_clock

    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    client = world.browser()
    callback = world.provider.authorize(world.start(client), sub)
    set_clock(lambda: datetime.now(UTC) + timedelta(seconds=world.runtime.settings.oidc_login_timeout_s + 5))
    since = world.last_event_id()
    assert client.get(callback).status_code == 401
    assert world.failures(since) == ["state_expired"]


def test_cancelled_at_the_provider(world: World) -> None:
    client = world.browser()
    location = world.start(client)
    state = parse_qs(urlparse(location).query)["state"][0]
    since = world.last_event_id()
    denied = world.provider.deny(location)
    assert "error=access_denied" in denied
    # The mock leaves the state out of an error redirect (RFC 6749 4.1.2.1 says to return it): without it nothing
    # ties the answer to an attempt, so it is refused as such; with it (as Keycloak and Entra ID send it) the page
    # says the sign-in was cancelled.
    assert client.get(denied).status_code == 401
    resp = client.get(denied + "&state=" + state)
    assert resp.status_code == 403 and "cancelled" in resp.text
    assert world.failures(since) == ["state_missing", "provider_access_denied"]


# ---- a public client (no secret) -------------------------------------------------------------------------------

CALLBACK = "http://testserver/signin/sso/callback"


@pytest.fixture
def public(world: World) -> World:
    """The same app and provider, as a public client: registered at the provider with token_endpoint_auth_method
    "none" and configured here without ANONSCRIBE_OIDC_CLIENT_SECRET_FILE."""
    client_id = world.provider.register_public_client(CALLBACK)
    world.configure(oidc_client_id=client_id, oidc_client_secret_file=None)
    assert world.runtime.settings.oidc_client_secret() is None
    return world


def _token_requests_since(world: World, n: int) -> list[oidc.TokenRequest]:
    return world.provider.token_requests[n:]


def test_public_client_signs_in_with_pkce_and_no_secret(public: World) -> None:
    world = public
    client_id = world.runtime.settings.oidc_client_id
    sub = f"sub-{_uid()}"
    user_id = world.bind(f"pub-{_uid()}", "reviewer", sub)
    world.provider.user(sub, email=f"{sub}@uni.example")
    client = world.browser()
    since, sent = world.last_event_id(), len(world.provider.token_requests)

    location = world.start(client, "/review")
    query = parse_qs(urlparse(location).query)
    assert query["client_id"] == [client_id] and query["code_challenge_method"] == ["S256"]
    resp = client.get(world.provider.authorize(location, sub))
    assert resp.status_code == 200, (resp.text[:500], world.failures(since))
    assert client.cookies.get("anonscribe_session", "").startswith("aws_")
    assert client.get("/review").status_code == 200 and client.get("/admin/users").status_code == 403

    # As the provider received it: the client id in the form, no secret in the form, no Authorization header at all
    # (so no Basic credentials either); the verifier is the challenge's.
    [request] = _token_requests_since(world, sent)
    assert request.client_id == client_id
    assert request.client_secret is None and request.authorization is None
    assert request.code_verifier and oidc._s256(request.code_verifier) == query["code_challenge"][0]
    actions = [(a, actor) for a, actor, _, _ in world.events(since)]
    assert ("sso.signin", user_id) in actions and ("auth.session_start", user_id) in actions
    _assert_no_secrets(world, since, [sub, f"{sub}@uni.example", request.code_verifier])


def test_public_client_intercepted_code_is_refused_without_the_verifier(public: World) -> None:
    """No secret binds the code to this client, so PKCE must: the victim's code in the attacker's attempts (each with
    the attacker's own verifier) is refused every time, and the victim's own return still signs the victim in."""
    world = public
    sub = f"sub-{_uid()}"
    user_id = world.bind(f"u-{_uid()}", "researcher", sub)
    victim = world.browser()
    callback = world.provider.authorize(world.start(victim), sub)
    code = parse_qs(urlparse(callback).query)["code"][0]
    since, sent = world.last_event_id(), len(world.provider.token_requests)
    for _ in range(2):
        attacker = world.browser()
        state = parse_qs(urlparse(world.start(attacker)).query)["state"][0]
        resp = attacker.get("/signin/sso/callback", params={"state": state, "code": code})
        assert resp.status_code == 401 and "anonscribe_session" not in attacker.cookies
    assert world.failures(since) == ["token_refused", "token_refused"]
    requests = _token_requests_since(world, sent)
    assert len(requests) == 2 and all(r.client_secret is None and r.authorization is None for r in requests)
    assert victim.get(callback).status_code == 200
    assert ("sso.signin", user_id) in [(a, actor) for a, actor, _, _ in world.events(since)]


def test_public_client_without_pkce_at_the_provider_the_nonce_still_refuses(public: World) -> None:
    """A provider that ignores PKCE redeems the intercepted code for the attacker's attempt; the ID token then carries
    the victim's nonce, not the attempt's, and is refused."""
    world = public
    world.provider.enforce_pkce = False
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "admin", sub)
    callback = world.provider.authorize(world.start(world.browser()), sub)
    code = parse_qs(urlparse(callback).query)["code"][0]
    attacker = world.browser()
    state = parse_qs(urlparse(world.start(attacker)).query)["state"][0]
    since = world.last_event_id()
    resp = attacker.get("/signin/sso/callback", params={"state": state, "code": code})
    assert resp.status_code == 401 and "anonscribe_session" not in attacker.cookies
    assert world.failures(since) == ["id_token_nonce"]


@pytest.mark.parametrize("content", [None, "", "  \n"])
def test_unusable_secret_file_is_not_a_public_client(world: World, tmp_path: Path, content: str | None) -> None:
    """A secret file configured but missing or empty is this site's fault: the sign-in is refused (503, audited)
    before any token request, never made as a public client's."""
    path = tmp_path / "oidc-client-secret"
    if content is not None:
        path.write_text(content)
    world.configure(oidc_client_secret_file=path)
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    client = world.browser()
    since, sent = world.last_event_id(), len(world.provider.token_requests)
    resp = world.login(client, sub)
    assert resp.status_code == 503 and "not set up correctly" in resp.text
    assert "anonscribe_session" not in client.cookies
    assert _token_requests_since(world, sent) == []
    assert world.failures(since) == ["client_secret_unreadable"]
    _assert_no_secrets(world, since, [str(path)])


def test_public_client_settings(tmp_path: Path) -> None:
    """No secret file is a valid (public) configuration; the issuer must still be https:// off this machine."""
    from pydantic import ValidationError

    settings = make_settings(tmp_path, "sqlite://", oidc_issuer="https://idp.uni.example/realms/x",
                             oidc_client_id="anonscribe")
    assert settings.sso_enabled and settings.oidc_client_secret() is None
    for issuer in ("http://idp.uni.example/realms/x", "http://10.0.0.5/realms/x", "ftp://idp.uni.example"):
        with pytest.raises(ValidationError, match="https://"):
            make_settings(tmp_path, "sqlite://", oidc_issuer=issuer, oidc_client_id="anonscribe")


# ---- who is who ----------------------------------------------------------------------------------------------------


def test_unknown_user_is_refused_by_default(world: World) -> None:
    users = world.count("users")
    since = world.last_event_id()
    resp = world.login(world.browser(), f"stranger-{_uid()}")
    assert resp.status_code == 403 and "not registered here" in resp.text
    assert world.failures(since) == ["unknown_user"] and world.count("users") == users


def test_unknown_user_waits_for_approval_then_signs_in(world: World) -> None:
    world.configure(oidc_unknown_users="pending")
    sub = f"new-{_uid()}"
    world.provider.user(sub, email=f"{sub}@uni.example", preferred_username=f"{sub}.person")
    users = world.count("users")
    since = world.last_event_id()
    resp = world.login(world.browser(), sub)
    assert resp.status_code == 403 and "waiting for an administrator" in resp.text
    assert world.count("users") == users + 1
    with world.runtime.engine.connect() as conn:
        user_id, name, active = conn.execute(sa.text(
            "SELECT u.id, u.name, u.active FROM users u JOIN user_identities i ON i.user_id = u.id "
            "WHERE i.subject = :s AND i.approved_at IS NULL"), {"s": sub}).one()
        tokens = conn.execute(sa.text("SELECT COUNT(*) FROM api_tokens WHERE user_id = :u"),
                              {"u": user_id}).scalar_one()
    assert name == f"{sub}.person" and not active and tokens == 0
    assert [(a, obj) for a, _, obj, _ in world.events(since) if a.startswith("sso.user")] == \
        [("sso.user_pending", str(user_id))]
    # A second try makes no second user.
    assert world.login(world.browser(), sub).status_code == 403 and world.count("users") == users + 1

    admin = world.browser()
    _sign_in_token(admin, world.admin_token)
    page = admin.get("/admin/sso")
    assert page.status_code == 200 and "waiting for approval" in page.text and name in page.text
    csrf = _csrf(page.text)
    assert admin.post(f"/admin/sso/users/{user_id}/approve", data={"csrf": csrf, "role": "root"}).status_code == 422
    resp = admin.post(f"/admin/sso/users/{user_id}/approve", data={"csrf": csrf, "role": "uploader"})
    assert resp.status_code == 303
    assert world.user(user_id) == ("uploader", True)
    assert admin.post(f"/admin/sso/users/{user_id}/approve", data={"csrf": csrf, "role": "admin"}).status_code == 409
    approved = [(actor, d) for a, actor, _, d in world.events(since) if a == "sso.user_approved"]
    assert len(approved) == 1 and approved[0][1] == {"role": "uploader"}

    client = world.browser()
    assert world.login(client, sub).status_code == 200
    assert client.get("/upload").status_code == 200
    _assert_no_secrets(world, since, [sub, f"{sub}@uni.example"])


def test_disabled_user_is_refused(world: World) -> None:
    sub = f"sub-{_uid()}"
    user_id = world.bind(f"u-{_uid()}", "researcher", sub)
    with world.runtime.engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET active = :f WHERE id = :i"), {"f": False, "i": user_id})
    since = world.last_event_id()
    assert world.login(world.browser(), sub).status_code == 403
    assert world.failures(since) == ["user_disabled"]


def test_email_matching_binds_the_subject_on_first_sign_in(world: World) -> None:
    world.configure(oidc_user_claim="email")
    email = f"Person.{_uid()}@Uni.example"
    sub = f"sub-{_uid()}"
    user_id = world.bind(f"u-{_uid()}", "reviewer", email)
    world.provider.user(sub, email=email.lower(), email_verified=True)
    client = world.browser()
    assert world.login(client, sub).status_code == 200
    with world.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT subject FROM user_identities WHERE user_id = :u"),
                            {"u": user_id}).scalar_one() == sub
    since = world.last_event_id()
    # The same address under another account of the provider (a re-used mailbox) is not this person.
    other = f"sub-{_uid()}"
    world.provider.user(other, email=email, email_verified=True)
    assert world.login(world.browser(), other).status_code == 401
    # An address the provider says is unverified is never matched.
    unverified = f"sub-{_uid()}"
    world.provider.user(unverified, email=f"x-{_uid()}@uni.example", email_verified=False)
    assert world.login(world.browser(), unverified).status_code == 401
    assert world.failures(since) == ["subject_mismatch", "email_unverified"]


def test_group_claim_sets_the_role(world: World) -> None:
    world.configure(oidc_groups_claim="groups",
                    oidc_group_roles={"/anonscribe/admins": "admin", "/anonscribe/reviewers": "reviewer"})
    sub = f"sub-{_uid()}"
    user_id = world.bind(f"u-{_uid()}", "researcher", sub)
    world.provider.user(sub, groups=["/staff", "/anonscribe/reviewers"])
    since = world.last_event_id()
    client = world.browser()
    assert world.login(client, sub).status_code == 200
    assert world.user(user_id) == ("reviewer", True)
    assert client.get("/review").status_code == 200 and client.get("/library").status_code == 403
    assert ("sso.role_from_groups", {"role": "reviewer"}) in [(a, d) for a, _, _, d in world.events(since)]
    # The first listed group the user holds decides; losing every mapped group refuses the sign-in.
    world.provider.user(sub, groups=["/anonscribe/reviewers", "/anonscribe/admins"])
    assert world.login(world.browser(), sub).status_code == 200 and world.user(user_id) == ("admin", True)
    world.provider.user(sub, groups=["/staff"])
    since = world.last_event_id()
    resp = world.login(world.browser(), sub)
    assert resp.status_code == 403 and "none of the groups" in resp.text
    assert world.failures(since) == ["no_role_group"]


# ---- sign-out, admin, configuration ---------------------------------------------------------------------------


def test_sign_out_offers_the_providers_end_session(world: World) -> None:
    sub = f"sub-{_uid()}"
    world.bind(f"u-{_uid()}", "researcher", sub)
    client = world.browser()
    assert world.login(client, sub).status_code == 200
    page = client.get("/library")
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post("/signout", data={"csrf": csrf})
    assert resp.status_code == 303
    assert client.get("/library").status_code == 303  # the local session is over
    signed_out = client.get(resp.headers["location"])
    link = re.search(r'id="sso-end-session">.*?<a href="([^"]+)"', signed_out.text, re.S)
    assert link, signed_out.text
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith(f"{world.provider.url}/oauth2/end_session?")
    query = parse_qs(urlparse(url).query)
    assert query["client_id"] == [CLIENT_ID] and query["post_logout_redirect_uri"] == ["http://testserver/signin"]
    assert httpx.get(url).status_code == 200  # the provider's own end-session page
    # Not offered on an ordinary visit to the sign-in page.
    assert "sso-end-session" not in world.browser().get("/signin").text


def test_admin_binds_a_user_on_the_page(world: World) -> None:
    admin = world.browser()
    _sign_in_token(admin, world.admin_token)
    page = admin.get("/admin/sso")
    assert "Redirect URI to register" in page.text and "http://testserver/signin/sso/callback" in page.text
    csrf = _csrf(page.text)
    name, sub = f"bound-{_uid()}", f"sub-{_uid()}"
    since = world.last_event_id()
    resp = admin.post("/admin/sso/users", data={"csrf": csrf, "name": name, "role": "uploader", "match": sub})
    assert resp.status_code == 303
    again = admin.post("/admin/sso/users", data={"csrf": csrf, "name": f"x-{_uid()}", "role": "uploader",
                                                  "match": sub})
    assert again.status_code == 409 and "already bound" in again.text
    assert admin.post("/admin/sso/users", data={"csrf": csrf, "name": "bad name", "role": "uploader",
                                                "match": f"s-{_uid()}"}).status_code == 422
    assert admin.post("/admin/sso/users", data={"csrf": csrf, "name": f"y-{_uid()}", "role": "uploader",
                                                "match": "has space"}).status_code == 422
    actions = [(a, d) for a, _, _, d in world.events(since)]
    assert ("user.create", {"role": "uploader", "via": "sso"}) in actions
    assert ("sso.identity_bound", {"by": "sub"}) in actions
    _assert_no_secrets(world, since, [sub])
    client = world.browser()
    assert world.login(client, sub).status_code == 200 and client.get("/upload").status_code == 200


def test_provider_unreachable_is_a_clear_error(world: World, tmp_path: Path) -> None:
    from harness.procs import free_port

    world.configure(oidc_issuer=f"http://127.0.0.1:{free_port()}")
    since, attempts = world.last_event_id(), world.count("sso_login_states")
    resp = world.browser().get("/signin/sso")
    assert resp.status_code == 502 and "could not be reached" in resp.text
    assert "anonscribe_sso" not in resp.headers.get("set-cookie", "")
    assert world.failures(since) == ["discovery_failed"] and world.count("sso_login_states") == attempts


def test_starts_per_address_are_limited(world: World) -> None:
    """Each start stores an attempt until it returns or expires: one address gets 429 past the limit."""
    from service.web.sso import START_LIMIT

    client = world.browser()
    codes = [client.get("/signin/sso").status_code for _ in range(START_LIMIT + 1)]
    assert codes[:START_LIMIT - 1] == [303] * (START_LIMIT - 1) and codes[-1] == 429
    assert "Too many sign-ins started" in client.get("/signin/sso").text


def test_sso_off_by_default(tmp_path: Path) -> None:
    from service.app import create_app

    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}"), start_workers=False)
    with TestClient(app, follow_redirects=False) as client:
        assert "sso-button" not in client.get("/signin").text
        assert client.get("/signin/sso").status_code == 404
        assert client.get("/signin/sso/callback?state=x&code=y").status_code == 404


def test_sign_in_page_shows_the_button(world: World) -> None:
    world.configure(oidc_button_label="Sign in with Uni SSO")
    page = world.browser().get("/signin?next=/library")
    assert 'id="sso-button" href="/signin/sso?next=/library"' in page.text and "Sign in with Uni SSO" in page.text


def _sign_in_token(client: TestClient, token: str) -> None:
    form = client.get("/signin")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    assert client.post("/signin", data={"csrf": nonce, "token": token}).status_code == 303


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', text).group(1)  # type: ignore[union-attr]


def test_cli_binds_and_approves(tmp_path: Path, provider: oidc.Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    """`anonscribe users sso-add` makes a user the provider's sign-in then reaches; `sso-approve` lets a pending one
    in. Against the same real provider, on a deployment configured only through the environment."""
    from typer.testing import CliRunner

    from service.app import create_app
    from service.cli import app as cli
    from service.core.settings import get_settings

    url = f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}"
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    env = {"ANONSCRIBE_DATA_DIR": str(tmp_path / "data"), "ANONSCRIBE_DATABASE_URL": url,
           "ANONSCRIBE_OIDC_ISSUER": provider.url, "ANONSCRIBE_OIDC_CLIENT_ID": CLIENT_ID,
           "ANONSCRIBE_OIDC_CLIENT_SECRET_FILE": str(secret), "ANONSCRIBE_OIDC_UNKNOWN_USERS": "pending"}
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        assert runner.invoke(cli, ["users", "sso-add", "x", "--role", "admin", "--match", "s"]).exit_code == 2
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        sub = f"cli-{_uid()}"
        out = runner.invoke(cli, ["users", "sso-add", "cli.user", "--role", "reviewer", "--match", sub])
        assert out.exit_code == 0, out.output
        again = runner.invoke(cli, ["users", "sso-add", "cli.other", "--role", "reviewer", "--match", sub])
        assert again.exit_code == 2 and "already bound" in again.output
        settings = make_settings(tmp_path, url, oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                                 oidc_client_secret_file=secret, oidc_unknown_users="pending")
        app = create_app(settings, start_workers=False)
        with TestClient(app):
            w = World(app=app, runtime=app.state.runtime, provider=provider, base_settings=settings, admin_token="")
            client = w.browser()
            assert w.login(client, sub).status_code == 200, w.failures(0)
            assert client.get("/review").status_code == 200
            newcomer = f"cli-new-{_uid()}"
            assert w.login(w.browser(), newcomer).status_code == 403
            with w.runtime.engine.connect() as conn:
                pending = conn.execute(sa.text("SELECT user_id FROM user_identities WHERE subject = :s"),
                                       {"s": newcomer}).scalar_one()
            out = runner.invoke(cli, ["users", "sso-approve", str(pending), "--role", "researcher"])
            assert out.exit_code == 0, out.output
            assert runner.invoke(cli, ["users", "sso-approve", str(pending), "--role", "admin"]).exit_code == 2
            client = w.browser()
            assert w.login(client, newcomer).status_code == 200 and client.get("/library").status_code == 200
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("values", [
    {"oidc_issuer": "https://idp.uni.example/realms/x"},  # no client id
    {"oidc_client_id": "anonscribe"},  # no issuer
    {"oidc_issuer": "http://idp.uni.example/realms/x", "oidc_client_id": "anonscribe"},  # plain HTTP elsewhere
    {"oidc_issuer": "https://idp.uni.example", "oidc_client_id": "a", "oidc_group_roles": {"g": "root"}},
])
def test_incomplete_or_unsafe_settings_are_refused(tmp_path: Path, values: dict) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_settings(tmp_path, "sqlite://", **values)


def test_group_roles_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.core.settings import Settings

    monkeypatch.setenv("ANONSCRIBE_OIDC_GROUP_ROLES", '{"/anonscribe/admins": "admin", "g2": "reviewer"}')
    settings = Settings(_env_file=None, oidc_issuer="https://login.microsoftonline.com/t/v2.0",  # type: ignore[call-arg]
                        oidc_client_id="c")
    assert list(settings.oidc_group_roles.items()) == [("/anonscribe/admins", "admin"), ("g2", "reviewer")]


def test_failures_count_towards_the_sign_in_throttle(world: World) -> None:
    from service.auth.throttle import LoginThrottle

    original = world.app.state.login_throttle
    world.app.state.login_throttle = LoginThrottle(limit=3, window_s=600)
    try:
        client = world.browser()
        since = world.last_event_id()
        codes = [client.get("/signin/sso/callback", params={"state": f"forged-{i}", "code": "c"}).status_code
                 for i in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        # Three refusals and the one throttle event; the throttled ones are not audited.
        assert [a for a, *_ in world.events(since)] == ["sso.signin_failed"] * 3 + ["auth.throttled"]
    finally:
        world.app.state.login_throttle = original

