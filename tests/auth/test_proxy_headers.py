"""X-Forwarded-For is believed only from configured proxies, and only an IP address is ever counted or audited.

A client that could name its own address would get a fresh sign-in throttle count per request and write whatever
it liked into the audit log (`auth.throttled` records the address)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.auth.throttle import client_address
from service.core.settings import parse_networks
from service.forwarded import client_from_forwarded, parse_address
from tests.support.apps import create_users, make_settings, serve

PROXY = ("10.0.0.2", 50000)
ATTACKER = ("203.0.113.5", 40000)
BAD = {"Authorization": "Bearer ast_" + "x" * 43}
MALFORMED = ["not-an-ip", "<script>alert(1)</script>", "fe80::1%<b>x</b>", "1.2.3.4.5", "", "999.1.1.1", "::g"]


def _throttled_clients(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT details FROM audit_events WHERE action = 'auth.throttled' ORDER BY id"))
        return [(d if isinstance(d, dict) else json.loads(d))["client"] for (d,) in rows]


def _audit_text(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return "\n".join(str(tuple(r)) for r in conn.execute(sa.text("SELECT * FROM audit_events")))


@contextmanager
def _app(tmp_path: Path, **overrides: object) -> Iterator[tuple[object, TestClient]]:
    from service.app import create_app

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", login_failure_limit=3,
                             login_failure_window_s=600, **overrides)
    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        create_users(app.state.runtime, roles=("admin",))
        yield app, client


def _as(app: object, peer: tuple[str, int]) -> TestClient:
    return TestClient(app, client=peer)  # type: ignore[arg-type]


def test_addresses_are_parsed_strictly() -> None:
    trusted = parse_networks("10.0.0.0/24, 127.0.0.1")
    assert client_from_forwarded("198.51.100.7", trusted) == parse_address("198.51.100.7")
    # Each proxy appends what it saw; what the client wrote itself sits further left and is not believed.
    assert str(client_from_forwarded("1.1.1.1, 198.51.100.7, 10.0.0.9", trusted)) == "198.51.100.7"
    assert str(client_from_forwarded("[2001:db8::1]:443, 10.0.0.9:80", trusted)) == "2001:db8::1"
    assert str(client_from_forwarded("127.0.0.1, 10.0.0.3", trusted)) == "127.0.0.1"  # all proxies: leftmost
    for bad in MALFORMED:
        assert client_from_forwarded(bad, trusted) is None, bad
        assert client_from_forwarded(f"198.51.100.7, {bad}", trusted) is None, bad  # unreadable hop: stop
        assert client_address(bad) == ("fe80::1" if "%" in bad else "unknown"), bad  # a socket's zone id: dropped
    assert client_address("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_address("fe80::1%eth0") == "fe80::1"
    assert client_address("testclient") == "unknown"
    assert client_address(None) == "unknown"
    with pytest.raises(ValueError, match=r"proxy\.example"):
        parse_networks("10.0.0.1, proxy.example")


def test_settings_refuse_a_host_name() -> None:
    from pydantic import ValidationError

    from service.core.settings import Settings

    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(_env_file=None, trusted_proxies="proxy.example")  # type: ignore[call-arg]
    assert Settings(_env_file=None).trusted_proxies is None  # type: ignore[call-arg]  # default: trust none


def test_forged_header_from_an_untrusted_peer_changes_nothing(tmp_path: Path) -> None:
    with _app(tmp_path) as (app, _):
        attacker = _as(app, ATTACKER)
        statuses = [attacker.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": f"198.51.100.{i}"}).status_code
                    for i in range(5)]
        assert statuses == [401, 401, 401, 429, 429]  # one count for the one real address
        # Even a proxy's address (as a header) from a peer that is not configured as a proxy is ignored.
        forged = {**BAD, "X-Forwarded-For": "<script>", "X-Forwarded-Proto": "https"}
        assert _as(app, PROXY).get("/api/v1/me", headers=forged).status_code == 401
        engine = app.state.runtime.engine  # type: ignore[attr-defined]
        assert _throttled_clients(engine) == [ATTACKER[0]]
        assert "198.51.100" not in _audit_text(engine) and "<script>" not in _audit_text(engine)


def test_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    with _app(tmp_path, trusted_proxies="10.0.0.0/24") as (app, _):
        proxy = _as(app, PROXY)
        # Clients behind the proxy are counted apart, by the address the proxy appended.
        for i in range(3):
            assert proxy.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": f"9.9.9.{i}, 198.51.100.7"}
                             ).status_code == 401
        assert proxy.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": "198.51.100.7"}).status_code == 429
        assert proxy.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": "198.51.100.8"}).status_code == 401
        # An untrusted peer's header still counts for nothing.
        attacker = _as(app, ATTACKER)
        assert [attacker.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": f"198.51.100.{20 + i}"}
                             ).status_code for i in range(4)] == [401, 401, 401, 429]
        assert _throttled_clients(app.state.runtime.engine) == ["198.51.100.7", ATTACKER[0]]  # type: ignore[attr-defined]
        # The scheme the proxy reports is believed too (the web UI's Secure cookie follows it).
        https = {"X-Forwarded-Proto": "https"}
        assert "secure" in proxy.get("/signin", headers=https).headers["set-cookie"].lower()
        assert "secure" not in attacker.get("/signin", headers=https).headers["set-cookie"].lower()
        assert "secure" not in proxy.get("/signin").headers["set-cookie"].lower()


def test_a_malformed_header_is_never_stored(tmp_path: Path) -> None:
    with _app(tmp_path, trusted_proxies="10.0.0.2") as (app, _):
        proxy = _as(app, PROXY)
        for bad in MALFORMED:
            proxy.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": bad})
        engine = app.state.runtime.engine  # type: ignore[attr-defined]
        # Unreadable: the request counts as the proxy's own.
        assert _throttled_clients(engine) == [PROXY[0]]
        text = _audit_text(engine)
        assert not [bad for bad in MALFORMED if bad and bad in text]


def test_live_server_ignores_forwarded_for_from_localhost(tmp_path: Path) -> None:
    """The real uvicorn as `anonscribe serve` runs it: its own default would believe 127.0.0.1's header."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", login_failure_limit=3)
    with serve(settings, start_workers=False) as server, httpx.Client(base_url=server.url) as c:
        statuses = [c.get("/api/v1/me", headers={**BAD, "X-Forwarded-For": f"198.51.100.{i}"}).status_code
                    for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert _throttled_clients(server.runtime.engine) == ["127.0.0.1"]  # type: ignore[attr-defined]


def test_serve_turns_uvicorns_proxy_headers_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from service.cli import app as cli
    from service.core.settings import get_settings

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setenv("ANONSCRIBE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert seen.get("proxy_headers") is False
