"""Periodic sweeps and the one table that schedules them.

`SCHEDULE` is read by both runners: Celery beat sends its entries by task name in the Celery deployment
(`workers/celery_app.py`), and the embedded deployment runs each in a thread of the API process (`workers/inline.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.auth import cleanup
from service.core.db import session_scope
from service.core.queue import PROCESS_RECORDING, REAP_JOBS, RETENTION_SWEEP, SWEEP_CREDENTIALS, SWEEP_UPLOADS
from service.core.runtime import Runtime
from service.core.settings import Settings
from service.recordings import jobs
from service.retention import service as retention

log = logging.getLogger("anonscribe.scheduled")

# An upload a process died in the middle of leaves a partial blob (local) or an unfinished multipart upload (S3).
# No live upload lasts a day (4 GiB at 50 KiB/s is under one).
STALE_UPLOAD_S = 24 * 3600
SWEEP_UPLOADS_EVERY_S = 3600.0
# Ended tokens are kept for days and dead sessions harm nothing but the table's size: hourly is plenty.
SWEEP_CREDENTIALS_EVERY_S = 3600.0


def _runtime(runtime: Runtime | None) -> Runtime:
    # Imported late: the tasks module loads the pipeline, which beat (importing this table) never needs.
    from workers.tasks import get_runtime

    return runtime or get_runtime()


def reap_jobs(*, runtime: Runtime | None = None) -> list[str]:
    """Requeue jobs whose worker died and re-dispatch queued jobs a broker may have lost."""
    rt = _runtime(runtime)
    with session_scope(rt.sessions) as s:
        ids = jobs.stale_jobs(db_session=s, redispatch_after_s=rt.settings.redispatch_after_s)
    if rt.queue is not None:
        for job_id in ids:
            rt.queue.enqueue(PROCESS_RECORDING, job_id)
    if ids:
        log.info("reaper re-dispatched %d job(s)", len(ids))
    return ids


def sweep_uploads(*, runtime: Runtime | None = None) -> int:
    rt = _runtime(runtime)
    n = rt.sealed.blobs.sweep_incomplete(older_than_s=STALE_UPLOAD_S)
    if n:
        log.info("removed %d unfinished upload(s) left by a crashed process", n)
    return n


def retention_sweep(*, runtime: Runtime | None = None) -> dict[str, int]:
    """Delete what retention says is due (safe on several machines at once)."""
    return retention.run(runtime=_runtime(runtime)).counts()


def sweep_credentials(*, runtime: Runtime | None = None) -> dict[str, int]:
    """Delete API tokens revoked or expired long enough ago, and web sessions that can no longer be used."""
    rt = _runtime(runtime)
    with session_scope(rt.sessions) as s:
        counts = cleanup.sweep(db_session=s, policy=cleanup.Policy.from_settings(rt.settings))
    if counts["api_tokens"] or counts["web_sessions"]:
        log.info("deleted %d ended API token(s) and %d ended web session(s)", counts["api_tokens"],
                 counts["web_sessions"])
    return counts


@dataclass(frozen=True)
class Periodic:
    name: str  # the beat entry's key, and the in-process thread's name
    task: str  # the Celery task name: keep it stable, beat schedules and queued messages carry it
    run: Callable[..., Any]  # run(runtime=...) → what the Celery task returns
    every_s: Callable[[Settings], float]
    first_s: Callable[[Settings], float]  # the in-process runner's first pass (beat keeps its own clock)


def _reap_count(*, runtime: Runtime | None = None) -> int:
    return len(reap_jobs(runtime=runtime))


SCHEDULE: tuple[Periodic, ...] = (
    Periodic(
        name="reap-jobs",
        task=REAP_JOBS,
        run=_reap_count,
        every_s=lambda s: float(s.reaper_interval_s),
        first_s=lambda s: float(s.reaper_interval_s),
    ),
    # Runs on whichever worker is free next; sweeps on several workers at once take disjoint rows.
    Periodic(
        name="retention-sweep",
        task=RETENTION_SWEEP,
        run=retention_sweep,
        every_s=lambda s: float(s.retention_interval_s),
        # Soon after start-up: what fell due while the service was down goes now.
        first_s=lambda s: min(5.0, float(s.retention_interval_s)),
    ),
    Periodic(
        name="sweep-uploads",
        task=SWEEP_UPLOADS,
        run=sweep_uploads,
        every_s=lambda s: SWEEP_UPLOADS_EVERY_S,
        first_s=lambda s: float(s.reaper_interval_s),
    ),
    Periodic(
        name="sweep-credentials",
        task=SWEEP_CREDENTIALS,
        run=sweep_credentials,
        every_s=lambda s: SWEEP_CREDENTIALS_EVERY_S,
        first_s=lambda s: float(s.reaper_interval_s),
    ),
)


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The table as Celery beat's `beat_schedule`."""
    return {p.name: {"task": p.task, "schedule": p.every_s(settings)} for p in SCHEDULE}
