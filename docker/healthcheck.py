"""Container health checks (Dockerfile HEALTHCHECK and docker-compose.yml). Exit 0 = healthy.

    healthcheck.py api [URL]          GET URL (default http://127.0.0.1:8000/healthz) answers 200
    healthcheck.py worker|scheduler   an `anonscribe worker|scheduler` process runs and the broker answers PING

Standard library only for the API check: the slim image has no curl. The worker check does not use
`celery inspect ping`, which a solo-pool worker cannot answer while it transcribes.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

API_URL = "http://127.0.0.1:8000/healthz"
PROCESS_TITLES = {"worker": "[celeryd:", "scheduler": "celery beat"}
TIMEOUT_S = 5.0


def check_api(url: str = API_URL) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - fixed local URL
            if response.status != 200:
                return f"{url} answered {response.status}"
    except OSError as exc:
        return f"{url}: {exc}"
    return None


def running(role: str, proc: Path = Path("/proc")) -> bool:
    """True if a process runs `anonscribe <role>` (the console script, or `python -m service.cli <role>`)."""
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        # Celery rewrites its title when setproctitle is installed (it is not a dependency today).
        title = " ".join(args)
        if role in PROCESS_TITLES and title.startswith(PROCESS_TITLES[role]):
            return True
        # The launcher is the program (or the interpreter's script/module), not an argument of another
        # program such as docker-init, so `anonscribe worker` must start within the first three words.
        for i, arg in enumerate(args[:3]):
            if arg.endswith("/anonscribe") or arg in ("anonscribe", "service.cli"):
                if args[i + 1 : i + 2] == [role]:
                    return True
                break
    return False


def check_broker(url: str | None) -> str | None:
    if not url:
        return "ANONSCRIBE_BROKER_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S).ping()
    except redis.RedisError as exc:
        return f"broker: {exc}"
    return None


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("api", "worker", "scheduler"):
        print(__doc__, file=sys.stderr)
        return 2
    role = argv[0]
    if role == "api":
        problem = check_api(argv[1] if len(argv) > 1 else API_URL)
    elif not running(role):
        problem = f"no `anonscribe {role}` process"
    else:
        problem = check_broker(os.environ.get("ANONSCRIBE_BROKER_URL"))
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
