"""Periodic sweeps: Celery beat sends them in the Celery deployment; a thread runs them in the embedded one."""

from __future__ import annotations

import logging

from service.core.runtime import Runtime
from service.retention import service as retention

log = logging.getLogger("anonscribe.scheduled")


def retention_sweep(*, runtime: Runtime | None = None) -> dict[str, int]:
    """Delete what retention says is due (safe on several machines at once)."""
    from workers.tasks import get_runtime

    rt = runtime or get_runtime()
    return retention.run(runtime=rt).counts()
