"""A person's local account end to end in Debian's headless Chromium, against the real app under uvicorn: an admin
creates a reviewer with a one-time link; the reviewer opens it, chooses a password, signs in, enrols an authenticator
(the code is computed here from the key the page shows, as an app would), is shown recovery codes once, signs out,
and signs in again with password + code. The service's clock is frozen in this process, so the second code comes
from a later 30-second step without waiting for one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.auth import totp
from tests.support.apps import LiveServer, make_settings, serve
from tests.support.lifecycle import Clock, frozen
from tests.web.test_browser import Walk, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

PASSWORD = "amber lighthouse 73 drifting"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, Clock]]:
    with frozen() as clock, serve(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}"),
                                  start_workers=False) as live:
        yield live, clock


def test_admin_invites_a_reviewer_who_sets_a_password_enrols_totp_and_signs_in_with_a_code(
    server: tuple[LiveServer, Clock], browser: Any,  # noqa: F811
) -> None:
    from selenium.webdriver.support.ui import Select

    live, clock = server
    w = Walk(browser, live.url)

    # ---- the admin creates the reviewer; the set-up link is shown once ------------------------------------------
    w.sign_in(live.tokens["admin"])
    w.go("/admin/users")
    w.css("#name").send_keys("rev-browser")
    Select(w.css("#new-role")).select_by_value("reviewer")
    assert Select(w.css("#new-access")).first_selected_option.get_attribute("value") == "link"
    w.css("section[aria-labelledby='new-h'] button[type='submit']").click()
    link = w.css("#new-link").get_attribute("value")
    assert link.startswith(f"{live.url}/account/setup/asl_")
    w.shot("admin-setup-link")
    w.sign_out()

    # ---- the reviewer chooses a password ------------------------------------------------------------------------
    w.d.get(link)
    assert w.css("#setup-name").text == "rev-browser"
    w.css("#password").send_keys("password12345")
    w.css("#confirm").send_keys("password12345")
    w.css("main form button[type='submit']").click()
    assert "commonly used" in w.css("#setup-error").text
    w.css("#password").send_keys(PASSWORD)
    w.css("#confirm").send_keys(PASSWORD)
    w.css("main form button[type='submit']").click()
    w.wait(lambda: "password_set=true" in w.path(), what="password set")

    # ---- first sign-in: the role needs a second factor, so it is enrolled now ----------------------------------
    w.password_form("rev-browser", PASSWORD)
    w.wait(lambda: w.path() == "/signin/enrol", what="enrolment page")
    assert w.css("figure.qr svg").is_displayed()
    secret = w.css("#totp-secret").get_attribute("value").replace(" ", "")
    assert w.css("#totp-uri").get_attribute("href").startswith("otpauth://totp/anonscribe:rev-browser?secret=")
    w.shot("totp-enrol", readme=True)
    w.css("#code").send_keys(totp.code_at(secret, totp.step_at(clock.now)))
    w.css("main form button[type='submit']").click()
    codes = [c.text for c in w.all("#recovery-codes code")]
    assert len(codes) == 10 and all(len(c) == 19 for c in codes)
    w.shot("recovery-codes")
    w.css("#continue").click()
    w.wait(lambda: w.path() == "/recordings", what="reviewer's start page")
    assert "rev-browser" in w.css("header .who").text
    w.sign_out()

    # ---- and again, with password + a code from the next 30 s --------------------------------------------------
    clock.advance(seconds=30)
    w.password_form("rev-browser", PASSWORD)
    w.wait(lambda: w.path() == "/signin/code", what="code page")
    w.shot("signin-code")
    w.css("#code").send_keys(totp.code_at(secret, totp.step_at(clock.now)))
    w.css("main form button[type='submit']").click()
    w.wait(lambda: w.path() == "/recordings", what="signed in with a code")
    w.go("/review")
    assert w.path() == "/review" and "waiting for review" in w.css("h1").text
    w.sign_out()

    # The same code once more is a replay: refused, no session.
    w.password_form("rev-browser", PASSWORD)
    w.wait(lambda: w.path() == "/signin/code", what="code page")
    w.css("#code").send_keys(totp.code_at(secret, totp.step_at(clock.now)))
    w.css("main form button[type='submit']").click()
    assert "not accepted" in w.css("#code-error").text
    w.go("/review")
    assert w.path().startswith("/signin")
