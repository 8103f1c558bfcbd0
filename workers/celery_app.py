"""Celery application for multi-process and multi-machine deployments (`anonscribe worker`)."""

from __future__ import annotations

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

from service.core.private import restrict_umask
from service.core.queue import PROCESS_RECORDING, REAP_JOBS, RETENTION_SWEEP, SWEEP_UPLOADS
from service.core.settings import get_settings

settings = get_settings()

app = Celery("anonscribe", broker=settings.broker_url)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="anonscribe",
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout_s},
    worker_hijack_root_logger=False,
    beat_schedule={
        "reap-jobs": {"task": REAP_JOBS, "schedule": float(settings.reaper_interval_s)},
        # Runs on whichever worker is free next; sweeps on several workers at once take disjoint rows.
        "retention-sweep": {"task": RETENTION_SWEEP, "schedule": float(settings.retention_interval_s)},
        "sweep-uploads": {"task": SWEEP_UPLOADS, "schedule": 3600.0},
    },
)


@app.task(name=PROCESS_RECORDING)
def process_recording(job_id: str) -> str:
    from workers import tasks

    return tasks.process_recording(job_id)


@app.task(name=REAP_JOBS)
def reap_jobs() -> int:
    from workers import tasks

    return len(tasks.reap_jobs())


@app.task(name=RETENTION_SWEEP)
def retention_sweep() -> dict[str, int]:
    from workers import scheduled

    return scheduled.retention_sweep()


@app.task(name=SWEEP_UPLOADS)
def sweep_uploads() -> int:
    from workers import tasks

    return tasks.sweep_uploads()


@worker_ready.connect
def _reap_on_start(**_: object) -> None:
    # A restarted worker picks up what a dead one left behind without waiting for beat.
    from workers import tasks

    tasks.reap_jobs()


@worker_init.connect
@beat_init.connect
def _owner_only(**_: object) -> None:
    # Also when started as `celery -A workers.celery_app ...` rather than through `anonscribe`.
    restrict_umask()
