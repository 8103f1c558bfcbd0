"""The periodic sweeps are declared once (`workers.scheduled.SCHEDULE`); Celery beat and the in-process runner both
read that table."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from service.core.queue import REAP_JOBS, RETENTION_SWEEP, SWEEP_CREDENTIALS, SWEEP_UPLOADS
from workers import scheduled


def test_celery_beat_sends_every_entry_under_its_stable_task_name(settings) -> None:  # type: ignore[no-untyped-def]
    from workers import celery_app

    # Task names are what beat's schedule file and queued messages carry: they must not change.
    assert scheduled.beat_schedule(settings) == {
        "reap-jobs": {"task": REAP_JOBS, "schedule": float(settings.reaper_interval_s)},
        "retention-sweep": {"task": RETENTION_SWEEP, "schedule": float(settings.retention_interval_s)},
        "sweep-uploads": {"task": SWEEP_UPLOADS, "schedule": 3600.0},
        "sweep-credentials": {"task": SWEEP_CREDENTIALS, "schedule": 3600.0},
    }
    assert celery_app.app.conf.beat_schedule == scheduled.beat_schedule(celery_app.settings)
    for entry in scheduled.SCHEDULE:
        assert entry.task in celery_app.app.tasks  # a worker can run what beat sends


def test_inline_runner_runs_each_entry_of_the_table(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app
    from workers.inline import InlineWorkers

    runs: list[tuple[str, object]] = []
    lock = threading.Lock()

    def entry(name: str) -> scheduled.Periodic:
        def run(*, runtime: object) -> None:
            with lock:
                runs.append((name, runtime))

        return scheduled.Periodic(name=name, task=f"test.{name}", run=run, every_s=lambda s: 0.05,
                                  first_s=lambda s: 0.01)

    monkeypatch.setattr(scheduled, "SCHEDULE", (entry("one"), entry("two")))
    with TestClient(create_app(settings, start_workers=False)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        workers = InlineWorkers(runtime)
        workers.start()
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                with lock:
                    counts = {n: sum(1 for r, _ in runs if r == n) for n in ("one", "two")}
                if min(counts.values()) >= 2:
                    break
                time.sleep(0.02)
        finally:
            workers.stop()
        assert min(counts.values()) >= 2, counts  # every entry, again and again
        assert all(rt is runtime for _, rt in runs)
        names = {t.name for t in threading.enumerate()}
        assert not names & {"anonscribe-one", "anonscribe-two"}  # stopped with the runner
