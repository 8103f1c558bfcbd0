"""Single sign-on in Debian's headless Chromium (Selenium, the system driver; see test_browser.py): the app under
uvicorn on 127.0.0.1 and a real OpenID provider (oidc-provider-mock, tests/support/oidc.py) on `localhost`, so the
round trip crosses sites as it does with Entra ID or Keycloak (the state cookie must survive the provider's
redirect; the session cookie must be sent on the first page after it).

The admin binds a researcher's subject on the Single sign-on page; the researcher clicks the sign-in button, signs in
at the provider's own form and lands on the library; signing out ends the session here and offers the provider's
end-session page, which sends the browser back to the sign-in page. Someone nobody bound waits for approval.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import oidc
from tests.support.apps import LiveServer, make_settings, serve
from tests.web.test_browser import Walk, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def provider() -> Iterator[oidc.Provider]:
    with oidc.provider(host="localhost") as p:
        yield p


@pytest.fixture
def server(tmp_path: Path, provider: oidc.Provider) -> Iterator[LiveServer]:
    secret = tmp_path / "client-secret"
    secret.write_text("browser-test-secret")
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}",
                             oidc_issuer=provider.url, oidc_client_id="anonscribe", oidc_client_secret_file=secret,
                             oidc_unknown_users="pending", oidc_button_label="Sign in with University SSO")
    with serve(settings, start_workers=False) as live:
        yield live


def _at_provider(w: Walk, provider: oidc.Provider, sub: str) -> None:
    w.wait(lambda: w.d.current_url.startswith(provider.url + "/oauth2/authorize?"), what="the provider's form")
    w.css("input[name='sub']").send_keys(sub)
    w.css("form button[type='submit']").click()


def test_researcher_signs_in_through_the_provider(server: LiveServer, provider: oidc.Provider,
                                                  browser: Any) -> None:  # noqa: F811
    w = Walk(browser, server.url)
    sub = "c0ffee-rivera"
    provider.user(sub, email="a.rivera@uni.example", preferred_username="a.rivera", name="Ana Rivera")

    # ---- the admin binds the researcher's subject -----------------------------------------------------------------
    w.sign_in(server.tokens["admin"])
    w.go("/admin/sso")
    assert "/signin/sso/callback" in w.css("#sso-settings").text
    w.css("#sso-name").send_keys("a.rivera")
    w.css("#sso-match").send_keys(sub)
    w.d.execute_script("document.getElementById('sso-role').value = 'researcher';")
    w.css("form[action='/admin/sso/users'] button[type='submit']").click()
    w.wait(lambda: "saved=true" in w.path(), what="binding saved")
    assert "a.rivera" in w.css("#identities").text
    w.shot("admin-sso", readme=True)
    w.sign_out()

    # ---- the researcher: button, the provider's form, back to the library ----------------------------------------
    w.go("/library")
    assert w.path() == "/signin?next=/library"
    button = w.css("#sso-button")
    assert button.text == "Sign in with University SSO"
    w.shot("signin-sso")
    button.click()
    _at_provider(w, provider, sub)
    w.wait(lambda: w.path() == "/library", what="the library after sign-in")
    assert "a.rivera" in w.css("header .who").text and "(researcher)" in w.css("header .who").text
    w.shot("sso-signed-in")
    with server.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        actions = list(conn.execute(sa.text("SELECT action FROM audit_events ORDER BY id DESC LIMIT 3")).scalars())
    assert "sso.signin" in actions

    # ---- sign-out: the session here ends; the provider's end-session page is offered and comes back --------------
    w.sign_out()
    link = w.css("#sso-end-session a")
    assert link.get_attribute("href").startswith(provider.url + "/oauth2/end_session?")
    w.go("/library")
    assert w.path() == "/signin?next=/library"  # signed out here, whatever the provider says
    w.go("/signin?signed_out=true")
    w.css("#sso-end-session a").click()
    w.wait(lambda: w.d.current_url.startswith(provider.url + "/oauth2/end_session"), what="end-session page")
    w.css("form button[type='submit']").click()
    w.wait(lambda: w.path() == "/signin", what="back from the provider's sign-out")


def test_someone_not_bound_waits_for_approval(server: LiveServer, provider: oidc.Provider,
                                              browser: Any) -> None:  # noqa: F811
    w = Walk(browser, server.url)
    provider.user("new-person", email="new.person@uni.example", preferred_username="new.person")
    w.go("/signin")
    w.css("#sso-button").click()
    _at_provider(w, provider, "new-person")
    assert "waiting for an administrator's approval" in w.css("#signin-error", timeout=30).text
    w.shot("sso-pending")
    w.sign_in(server.tokens["admin"])
    w.go("/admin/sso")
    assert "waiting for approval" in w.css("#identities").text and "new.person" in w.css("#identities").text
