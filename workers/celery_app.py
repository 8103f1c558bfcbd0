"""Celery application for multi-process and multi-machine deployments (`anonscribe worker`)."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

from service.core.private import restrict_umask
from service.core.queue import PROCESS_RECORDING
from service.core.settings import get_settings
from workers import scheduled

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
    beat_schedule=scheduled.beat_schedule(settings),
)


@app.task(name=PROCESS_RECORDING)
def process_recording(job_id: str) -> str:
    from workers import tasks

    return tasks.process_recording(job_id)


def _periodic_task(entry: scheduled.Periodic) -> None:
    def run() -> Any:
        return entry.run(runtime=None)

    run.__name__ = run.__qualname__ = entry.name.replace("-", "_")
    app.task(name=entry.task)(run)


for _entry in scheduled.SCHEDULE:
    _periodic_task(_entry)


@worker_ready.connect
def _reap_on_start(**_: object) -> None:
    # A restarted worker picks up what a dead one left behind without waiting for beat.
    scheduled.reap_jobs()


@worker_init.connect
@beat_init.connect
def _owner_only(**_: object) -> None:
    # Also when started as `celery -A workers.celery_app ...` rather than through `anonscribe`.
    restrict_umask()
