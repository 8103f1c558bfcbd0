"""Failed sign-ins per client address: after `limit` failures within `window_s`, the address's further failures
get 429 until the window has passed and are not audited.

API tokens are 256-bit random values, so this is not about guessing them: every failure is an audited event, and a
misbehaving or hostile client could otherwise fill the audit table and the logs at request speed. A valid token
still works from a throttled address, so one broken script cannot lock out a research team behind the same NAT.
Counts live in this process (no shared store needed on the embedded default); with N API processes a client gets
at most N x limit audited failures per window, still bounded.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"throttled for {retry_after} s")
        self.retry_after = retry_after


class LoginThrottle:
    def __init__(self, *, limit: int, window_s: float, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.max_clients, self._clock = limit, window_s, max_clients, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._blocked: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None if it may try now."""
        if not self.enabled:
            return None
        with self._lock:
            until = self._blocked.get(client)
            if until is None:
                return None
            left = until - self._clock()
            if left <= 0:
                del self._blocked[client]
                self._failures.pop(client, None)
                return None
            return max(1, math.ceil(left))

    def failed(self, client: str) -> bool:
        """Count one failure; True when this one blocks the client (the caller audits that once)."""
        if not self.enabled:
            return False
        now = self._clock()
        with self._lock:
            times = self._failures.pop(client, None) or deque(maxlen=self.limit)
            while times and times[0] <= now - self.window_s:
                times.popleft()
            times.append(now)
            self._failures[client] = times  # most recent last: eviction drops the quietest clients first
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            if len(times) < self.limit:
                return False
            self._blocked[client] = now + self.window_s
            while len(self._blocked) > self.max_clients:
                del self._blocked[min(self._blocked, key=self._blocked.__getitem__)]
            return True


def client_address(host: str | None) -> str:
    """What the throttle counts and the audit log may record: a normalised IP address, or "unknown" (a Unix
    socket, a test client), never a string a client wrote. Behind a reverse proxy the host is the proxy's unless
    it is one of ANONSCRIBE_TRUSTED_PROXIES (service/forwarded.py)."""
    try:
        # Without a link-local zone id ("%eth0"): free text, and not part of who the client is.
        address = ipaddress.ip_address((host or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
