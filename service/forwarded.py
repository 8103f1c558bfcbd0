"""The client's address (and scheme) behind a reverse proxy, believed only from proxies the operator named.

uvicorn's own `--proxy-headers` trusts 127.0.0.1 by default (FORWARDED_ALLOW_IPS), so any client on the host -
or reaching it through a tunnel - could name its own address: a fresh one per request dodges the sign-in throttle,
and whatever it sent lands in the audit log. So the servers we start turn uvicorn's handling off (`UVICORN_OPTIONS`)
and this middleware reads the headers only from ANONSCRIBE_TRUSTED_PROXIES, accepting nothing but IP addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

# For every uvicorn we start (`anonscribe serve`; docker-compose passes --no-proxy-headers).
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(value: str | None) -> Address | None:
    """An IP address, or None. Takes the forms proxies write: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    if "%" in value:
        return None  # an IPv6 zone id is free text
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; compare them as the IPv4 they are.
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def client_from_forwarded(forwarded_for: str, trusted: Sequence[Network]) -> Address | None:
    """The first address from the right that is not a trusted proxy: each proxy appends the address it saw, and
    anything further left was written by the client. None when an entry can't be read - from there leftwards
    nothing can be attributed."""
    found: Address | None = None
    for item in reversed(forwarded_for.split(",")):
        address = parse_address(item)
        if address is None:
            return None
        found = address
        if not any(address in net for net in trusted):
            return address
    return found  # every hop was a trusted proxy: the leftmost is the client


class TrustedProxyHeaders:
    """ASGI middleware: a request from a trusted proxy gets the client address and scheme the proxy reports."""

    def __init__(self, app: Any, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = list(trusted)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            peer = parse_address((scope.get("client") or (None,))[0])
            if peer is not None and any(peer in net for net in self.trusted):
                scope = dict(scope)
                forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
                client = client_from_forwarded(",".join(forwarded), self.trusted) if forwarded else None
                if client is not None:
                    scope["client"] = (str(client), 0)
                protos = [v.decode("latin-1").strip() for k, v in scope["headers"] if k == b"x-forwarded-proto"]
                if protos and protos[-1] in ("http", "https") and scope["type"] == "http":
                    scope["scheme"] = protos[-1]
        await self.app(scope, receive, send)

