"""Failed sign-ins are throttled per client address: after the limit, further failures get 429 with Retry-After
and the audit table stops growing (one `auth.throttled` event says why), while a valid token still works. Other
addresses are unaffected, and the block lifts when the window has passed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.auth.throttle import LoginThrottle
from tests.support.apps import create_users, make_settings

ATTACKER = ("203.0.113.5", 40000)
NEIGHBOUR = ("198.51.100.7", 40000)
BAD = {"Authorization": "Bearer ast_" + "x" * 43}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_blocks_after_the_limit_within_the_window_and_lifts_after_it() -> None:
    clock = Clock()
    t = LoginThrottle(limit=3, window_s=60, clock=clock)
    assert [t.failed("a") for _ in range(2)] == [False, False]
    assert t.retry_after("a") is None
    clock.now += 30
    assert t.failed("a") is True  # the third within 60 s
    assert t.retry_after("a") == 60 and t.retry_after("b") is None
    clock.now += 59.5
    assert t.retry_after("a") == 1
    clock.now += 1
    assert t.retry_after("a") is None
    # The count starts again from nothing after a block.
    assert [t.failed("a") for _ in range(2)] == [False, False]


def test_old_failures_fall_out_of_the_window() -> None:
    clock = Clock()
    t = LoginThrottle(limit=3, window_s=60, clock=clock)
    for _ in range(10):
        assert t.failed("a") is False
        clock.now += 31  # never three within a minute
    assert t.retry_after("a") is None


def test_memory_is_bounded_by_max_clients_and_zero_disables() -> None:
    t = LoginThrottle(limit=2, window_s=60, max_clients=100, clock=Clock())
    for i in range(1000):
        t.failed(f"10.0.{i // 256}.{i % 256}")
        t.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(t._failures) <= 100 and len(t._blocked) <= 100
    assert t.retry_after("10.0.3.231") is not None  # the latest block is kept
    off = LoginThrottle(limit=0, window_s=60)
    assert not any(off.failed("a") for _ in range(100)) and off.retry_after("a") is None


@dataclass
class Site:
    app: Any
    client: TestClient
    clock: Clock
    token: str

    def as_(self, address: tuple[str, int]) -> TestClient:
        # Same app, another client address; the lifespan already ran for `client`.
        return TestClient(self.app, client=address, follow_redirects=False)

    def events(self) -> list[tuple[str, dict]]:
        with self.app.state.runtime.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT action, details FROM audit_events ORDER BY id")).all()
        return [(a, d if isinstance(d, dict) else json.loads(d)) for a, d in rows]

    def count(self, action: str) -> int:
        return sum(1 for a, _ in self.events() if a == action)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    from service.app import create_app

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", login_failure_limit=3,
                             login_failure_window_s=60)
    app = create_app(settings, start_workers=False)
    wired = app.state.login_throttle
    assert (wired.limit, wired.window_s) == (3, 60)  # the settings reach the app
    clock = Clock()
    app.state.login_throttle = LoginThrottle(limit=3, window_s=60, clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        token = create_users(app.state.runtime, roles=("admin",))["admin"]
        yield Site(app=app, client=client, clock=clock, token=token)


def test_api_refuses_a_client_after_three_failures_without_auditing_more(site: Site) -> None:
    attacker, neighbour = site.as_(ATTACKER), site.as_(NEIGHBOUR)
    good = {"Authorization": f"Bearer {site.token}"}
    assert [attacker.get("/api/v1/me", headers=BAD).status_code for _ in range(3)] == [401, 401, 401]
    blocked = attacker.get("/api/v1/me", headers=BAD)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
    assert blocked.json() == {"detail": "too many failed sign-ins from this address; try again later"}
    assert attacker.get("/api/v1/me").status_code == 429  # no token at all counts the same
    assert site.count("auth.failed") == 3
    [details] = [d for a, d in site.events() if a == "auth.throttled"]
    assert details == {"client": ATTACKER[0], "failures": 3, "window_s": 60}
    before = len(site.events())
    assert {attacker.get("/api/v1/me", headers=BAD).status_code for _ in range(50)} == {429}
    assert len(site.events()) == before  # nothing written while blocked
    # A valid token still works from the throttled address: a team behind one NAT is not locked out.
    assert attacker.get("/api/v1/me", headers=good).status_code == 200

    assert neighbour.get("/api/v1/me", headers=BAD).status_code == 401  # counted on its own

    site.clock.now += 30
    assert attacker.get("/api/v1/me", headers=BAD).status_code == 429
    assert attacker.get("/api/v1/me", headers=BAD).headers["retry-after"] == "30"
    site.clock.now += 31
    assert attacker.get("/api/v1/me", headers=BAD).status_code == 401  # the window has passed: audited again
    assert site.count("auth.failed") == 4 + 1  # the neighbour's one and the attacker's new one
    with site.app.state.runtime.sessions() as s:
        from service.audit import service as audit

        assert audit.verify(db_session=s).ok


def _sign_in(client: TestClient, token: str) -> Any:
    form = client.get("/signin")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return client.post("/signin", data={"csrf": nonce, "token": token, "next": "/"})


def test_web_sign_in_shares_the_count_with_the_api(site: Site) -> None:
    attacker = site.as_(ATTACKER)
    assert attacker.get("/api/v1/me", headers=BAD).status_code == 401
    assert [_sign_in(attacker, "ast_wrong").status_code for _ in range(2)] == [401, 401]
    page = _sign_in(attacker, "ast_wrong-again")
    assert page.status_code == 429 and page.headers["retry-after"] == "60"
    assert "Too many failed sign-ins from this address. Try again in 1 minute(s)." in page.text
    assert "anonscribe_session" not in page.headers.get("set-cookie", "")
    assert attacker.get("/api/v1/me", headers=BAD).status_code == 429
    assert site.count("auth.failed") == 3 and site.count("auth.throttled") == 1
    assert _sign_in(attacker, site.token).status_code == 303  # the right token signs in all the same


def test_off_when_the_limit_is_zero(tmp_path: Path) -> None:
    from service.app import create_app

    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}"), start_workers=False)
    with TestClient(app) as client:
        assert {client.get("/api/v1/me", headers=BAD).status_code for _ in range(40)} == {401}
        with app.state.runtime.engine.connect() as conn:
            actions = [a for (a,) in conn.execute(sa.text("SELECT action FROM audit_events"))]
    assert actions.count("auth.failed") == 40 and "auth.throttled" not in actions
