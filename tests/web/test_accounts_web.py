"""Local accounts in the web UI over HTTP (TestClient), on a frozen clock: an admin creates a person with a one-time
link, the person chooses a password, enrols TOTP (code computed here from the key the page shows), gets recovery
codes once, signs out and in with password + code; replayed and wrong codes, recovery codes, lockout, the admin's
reset of a password or factor, one's own account page, and token sign-in turned off.

The role matrix of the new signed-in pages is in tests/web/test_web.py (PAGES); these pages before a session are
checked here."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.auth import totp
from tests.support.apps import create_users, make_settings
from tests.support.databases import pg_create, pg_drop
from tests.support.lifecycle import Clock, frozen
from tests.support.markup import lint_page

PASSWORD = "velvet harbour 19 quietly"


@dataclass
class Site:
    app: Any
    runtime: Any
    clock: Clock
    admin: TestClient

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def admin_csrf(self) -> str:
        return _field(self.admin.get("/admin/users").text, "csrf")

    def create(self, role: str, name: str) -> str:
        """Admin creates a person; returns their one-time link (path only)."""
        resp = self.admin.post("/admin/users", data={"csrf": self.admin_csrf(), "name": name, "role": role,
                                                     "access": "link"})
        assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store", resp.text
        url = html.unescape(re.search(r'id="new-link" class="token-value" readonly value="([^"]+)"',
                                      resp.text).group(1))  # type: ignore[union-attr]
        assert url.startswith("http://testserver/account/setup/asl_")
        return url.removeprefix("http://testserver")

    def user_id(self, name: str) -> int:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text("SELECT id FROM users WHERE name = :n"), {"n": name}).scalar_one()

    def events(self, action: str) -> int:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE action = :a"),
                                {"a": action}).scalar_one()

    def step(self) -> int:
        return totp.step_at(self.clock.now)


def _field(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]


def set_password(client: TestClient, link: str, password: str = PASSWORD, confirm: str | None = None) -> httpx.Response:
    form = client.get(link)
    assert form.status_code == 200, form.text
    return client.post(link, data={"csrf": _field(form.text, "csrf"), "password": password,
                                   "confirm": password if confirm is None else confirm})


def password_signin(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/") -> httpx.Response:
    form = client.get("/signin")
    return client.post("/signin", data={"csrf": _field(form.text, "csrf"), "name": name, "password": password,
                                        "next": next_path})


def post_code(client: TestClient, path: str, code: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code, page.headers.get("location"))
    return client.post(path, data={"csrf": _field(page.text, "csrf"), "next": _field(page.text, "next"),
                                   "code": code})


def enrol(site: Site, client: TestClient) -> tuple[str, list[str]]:
    page = client.get("/signin/enrol")
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret" class="token-value" readonly value="([A-Z2-7 ]+)"',
                       page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert "<svg" in page.text and "otpauth://totp/" in html.unescape(page.text)
    resp = post_code(client, "/signin/enrol", totp.code_at(secret, site.step()))
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store", resp.text
    codes = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", resp.text)
    assert len(codes) == 10
    return secret, codes


def sign_out(client: TestClient) -> None:
    page = client.get("/account")
    assert client.post("/signout", data={"csrf": _field(page.text, "csrf")}).status_code == 303


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from service.app import create_app
    from tests.web.test_web import sign_in

    tmp = tmp_path_factory.mktemp(f"accounts-{request.param}")
    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"
    try:
        with frozen() as clock:
            app = create_app(make_settings(tmp, url, account_failure_limit=3), start_workers=False)
            with TestClient(app):
                admin = TestClient(app, follow_redirects=False)
                assert sign_in(admin, create_users(app.state.runtime, roles=("admin",))["admin"]).status_code == 303
                yield Site(app=app, runtime=app.state.runtime, clock=clock, admin=admin)
    finally:
        if pg:
            pg_drop(pg)


def test_reviewer_invited_sets_password_enrols_and_signs_in_with_a_code(site: Site) -> None:
    link = site.create("reviewer", "rev-web")
    person = site.client()
    assert "rev-web" in person.get(link).text
    weak = set_password(person, link, "password2024!")
    assert weak.status_code == 422 and "commonly used" in weak.text
    assert set_password(person, link, PASSWORD, PASSWORD + "x").status_code == 422
    done = set_password(person, link)
    assert (done.status_code, done.headers["location"]) == (303, "/signin?password_set=true")
    assert person.get(link).status_code == 410  # used
    assert "Your password is set" in person.get("/signin?password_set=true").text

    first = password_signin(person, "rev-web", next_path="/review")
    assert first.status_code == 303 and first.headers["location"] == "/signin/enrol?next=%2Freview"
    assert "anonscribe_session" not in first.headers.get("set-cookie", "")
    assert person.get("/review").status_code == 303  # no session before the second factor
    secret, codes = enrol(site, person)
    assert person.get("/review").status_code == 200
    sign_out(person)

    site.clock.advance(seconds=30)
    again = password_signin(person, "rev-web")
    assert again.headers["location"] == "/signin/code"
    wrong = post_code(person, "/signin/code", f"{(int(totp.code_at(secret, site.step())) + 1) % 10**6:06d}")
    assert wrong.status_code == 401 and "not accepted" in wrong.text
    ok = post_code(person, "/signin/code", totp.code_at(secret, site.step()))
    assert (ok.status_code, ok.headers["location"]) == (303, "/recordings")
    assert "anonscribe_challenge=\"\"" in ok.headers.get("set-cookie", "")
    assert person.get("/review").status_code == 200
    sign_out(person)

    # The same code again (same 30 s): refused as a replay, whoever saw it.
    password_signin(person, "rev-web")
    replay = post_code(person, "/signin/code", totp.code_at(secret, site.step()))
    assert replay.status_code == 401
    # A recovery code instead, once.
    assert post_code(person, "/signin/code", codes[0]).status_code == 303
    sign_out(person)
    password_signin(person, "rev-web")
    assert post_code(person, "/signin/code", codes[0]).status_code == 401
    with site.runtime.engine.connect() as conn:
        reasons = list(conn.execute(sa.text("SELECT details FROM audit_events WHERE action = 'auth.failed' "
                                            "ORDER BY id")).scalars())
    text = " ".join(map(str, reasons))
    assert "replayed_code" in text and "used_recovery_code" in text and PASSWORD not in text and secret not in text


def test_admin_resets_the_factor_and_the_password(site: Site) -> None:
    link = site.create("admin", "adm-web")
    person = site.client()
    set_password(person, link)
    password_signin(person, "adm-web")
    secret, _ = enrol(site, person)
    sign_out(person)
    uid = site.user_id("adm-web")
    listing = site.admin.get("/admin/users").text
    assert re.search(r"<th scope=\"row\">adm-web</th>.*?password \+ 2FA \(10 recovery\)", listing, re.S)
    resp = site.admin.post(f"/admin/users/{uid}/reset-factor", data={"csrf": site.admin_csrf()})
    assert resp.headers["location"] == "/admin/users?saved=true"
    site.clock.advance(seconds=30)
    assert password_signin(person, "adm-web").headers["location"] == "/signin/enrol"
    # A new key: the old one's codes mean nothing now.
    new_secret, _ = enrol(site, person)
    assert new_secret != secret
    sign_out(person)
    reset = site.admin.post(f"/admin/users/{uid}/link", data={"csrf": site.admin_csrf()})
    assert reset.status_code == 200 and "Set-up link for adm-web" in reset.text
    new_link = html.unescape(re.search(r'id="new-link" class="token-value" readonly value="http://testserver([^"]+)"',
                                       reset.text).group(1))  # type: ignore[union-attr]
    assert password_signin(person, "adm-web").status_code == 401  # the old password ended with the reset
    set_password(person, new_link, "another fine pass phrase")
    assert password_signin(person, "adm-web", "another fine pass phrase").headers["location"] == "/signin/code"
    assert site.events("account.factor_reset") >= 1 and site.events("account.password_reset") >= 1


def test_lockout_shows_on_the_admin_page_and_the_admin_unlocks(site: Site) -> None:
    link = site.create("researcher", "res-web")
    person = site.client()
    set_password(person, link)
    for _ in range(3):
        refused = password_signin(person, "res-web", "not the password at all")
        assert refused.status_code == 401 and "locked for 15 minute(s)" in refused.text
    assert password_signin(person, "res-web").status_code == 401  # locked: the right password too
    listing = site.admin.get("/admin/users").text
    assert re.search(r"<th scope=\"row\">res-web</th>.*?locked until", listing, re.S)
    uid = site.user_id("res-web")
    site.admin.post(f"/admin/users/{uid}/unlock", data={"csrf": site.admin_csrf()})
    ok = password_signin(person, "res-web")
    assert (ok.status_code, ok.headers["location"]) == (303, "/library")  # researchers: no factor required


def test_account_page_changes_the_password_and_enrols_by_choice(site: Site) -> None:
    link = site.create("uploader", "up-web")
    person = site.client()
    set_password(person, link)
    assert password_signin(person, "up-web").headers["location"] == "/upload"
    page = person.get("/account")
    assert page.status_code == 200 and "Two-factor sign-in" in page.text and 'id="enrol-link"' in page.text
    csrf = _field(page.text, "csrf")
    wrong = person.post("/account/password", data={"csrf": csrf, "current": "nope", "password": "fresh pass phrase 7",
                                                   "confirm": "fresh pass phrase 7"})
    assert wrong.status_code == 403
    weak = person.post("/account/password", data={"csrf": csrf, "current": PASSWORD, "password": "qwerty123456",
                                                  "confirm": "qwerty123456"})
    assert weak.status_code == 422
    ok = person.post("/account/password", data={"csrf": csrf, "current": PASSWORD, "password": "fresh pass phrase 7",
                                                 "confirm": "fresh pass phrase 7"})
    assert ok.headers["location"] == "/account?saved=true"
    enrol_page = person.get("/account/totp")
    secret = re.search(r'value="([A-Z2-7 ]{39})"', enrol_page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    bad = person.post("/account/totp", data={"csrf": csrf, "code": "12"})
    assert bad.status_code == 422
    codes = person.post("/account/totp", data={"csrf": csrf, "code": totp.code_at(secret, site.step())})
    assert codes.status_code == 200 and len(re.findall(r"<li><code>", codes.text)) == 10
    sign_out(person)
    site.clock.advance(seconds=30)
    assert password_signin(person, "up-web", "fresh pass phrase 7").headers["location"] == "/signin/code"


def test_pre_session_forms_need_their_cookie_and_token(site: Site) -> None:
    link = site.create("reviewer", "rev-csrf")
    person = site.client()
    form = person.get(link)
    forged = person.post(link, data={"csrf": "forged", "password": PASSWORD, "confirm": PASSWORD})
    assert forged.status_code == 403 and "expired" in forged.text
    assert _field(form.text, "csrf")  # the real form still works afterwards
    set_password(person, link)
    password_signin(person, "rev-csrf")
    page = person.get("/signin/enrol")
    assert page.status_code == 200
    for token in ("", "0" * 64):
        resp = person.post("/signin/enrol", data={"csrf": token, "code": "123456"})
        assert resp.headers["location"] == "/signin?expired=true"
    stranger = site.client()  # no challenge cookie at all
    for path in ("/signin/code", "/signin/enrol"):
        assert stranger.get(path).headers["location"] == "/signin?expired=true"
        assert stranger.post(path, data={"csrf": "x", "code": "123456"}).headers["location"] == "/signin?expired=true"
    site.clock.advance(minutes=5)  # the pending sign-in has lapsed
    assert person.get("/signin/enrol").headers["location"] == "/signin?expired=true"
    for bad in ("/account/setup/asl_" + "x" * 43, "/account/setup/nonsense"):
        assert stranger.get(bad).status_code == 410


def test_new_pages_pass_the_markup_rules(site: Site) -> None:
    link = site.create("reviewer", "rev-lint")
    person = site.client()
    lint_page(person.get(link))
    set_password(person, link)
    password_signin(person, "rev-lint")
    lint_page(person.get("/signin/enrol"))
    lint_page(person.get("/signin"))
    lint_page(site.admin.get("/admin/users"))
    lint_page(site.admin.get("/account"))


def test_token_sign_in_can_be_turned_off(tmp_path: Path) -> None:
    from service.app import create_app
    from tests.web.test_web import sign_in

    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", web_token_signin=False),
                     start_workers=False)
    with TestClient(app, follow_redirects=False) as client:
        token = create_users(app.state.runtime, roles=("admin",))["admin"]
        assert 'id="token"' not in client.get("/signin").text
        resp = sign_in(client, token)
        assert resp.status_code == 403 and "turned off" in resp.text
        assert "anonscribe_session" not in resp.headers.get("set-cookie", "")
        # Still good for the API: tokens are for scripts.
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_throttled_address_gets_no_answer_on_passwords_even_a_right_one(tmp_path: Path) -> None:
    """The per-address throttle (LOGIN_FAILURE_LIMIT) on top of the per-account lock: unlike a token, a password can
    be guessed, so a blocked address is not told whether a password was right; other addresses are unaffected."""
    from service.app import create_app

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", login_failure_limit=2,
                             login_failure_window_s=600, account_failure_limit=0)
    with frozen() as clock:
        app = create_app(settings, start_workers=False)
        with TestClient(app):
            from tests.web.test_web import sign_in

            admin = TestClient(app, follow_redirects=False)
            sign_in(admin, create_users(app.state.runtime, roles=("admin",))["admin"])
            site = Site(app=app, runtime=app.state.runtime, clock=clock, admin=admin)
            set_password(site.client(), site.create("researcher", "res-throttle"))
            attacker = TestClient(app, client=("203.0.113.5", 40000), follow_redirects=False)
            for _ in range(2):
                assert password_signin(attacker, "res-throttle", "guess guess guess").status_code == 401
            blocked = password_signin(attacker, "res-throttle")
            assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
            assert "anonscribe_session" not in blocked.headers.get("set-cookie", "")
            neighbour = TestClient(app, client=("198.51.100.7", 40000), follow_redirects=False)
            assert password_signin(neighbour, "res-throttle").headers["location"] == "/library"
            assert site.events("auth.throttled") == 1
