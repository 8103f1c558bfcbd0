"""The embedded default: worker threads and a periodic reaper inside the API process."""

from __future__ import annotations

import logging
import threading

from service.core.db import session_scope
from service.core.queue import PROCESS_RECORDING, InlineQueue
from service.core.runtime import Runtime
from service.recordings import jobs
from workers import scheduled, tasks

log = logging.getLogger("anonscribe.inline")


class InlineWorkers:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue = InlineQueue(workers=runtime.settings.inline_workers)
        self.queue.register(
            PROCESS_RECORDING, lambda job_id: tasks.process_recording(job_id, runtime=runtime)
        )
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="anonscribe-reaper", daemon=True)
        self._retention = threading.Thread(target=self._retention_loop, name="anonscribe-retention", daemon=True)

    def start(self) -> InlineQueue:
        self.runtime.queue = self.queue
        self.queue.start()
        # This process's in-memory queue is new: everything still waiting goes into it now.
        with session_scope(self.runtime.sessions) as s:
            waiting = jobs.unfinished_jobs(db_session=s)
            for job_id in waiting:
                jobs.mark_dispatched(db_session=s, job_id=job_id)
        for job_id in waiting:
            self.queue.enqueue(PROCESS_RECORDING, job_id)
        if waiting:
            log.info("re-dispatched %d unfinished job(s) at start-up", len(waiting))
        self._reaper.start()
        self._retention.start()
        return self.queue

    def _reap_loop(self) -> None:
        while not self._stop.wait(self.runtime.settings.reaper_interval_s):
            try:
                tasks.reap_jobs(runtime=self.runtime)
            except Exception:
                log.warning("reaper pass failed; will retry")

    def _retention_loop(self) -> None:
        # First pass soon after start-up: what fell due while the service was down goes now.
        delay = min(5.0, float(self.runtime.settings.retention_interval_s))
        while not self._stop.wait(delay):
            try:
                scheduled.retention_sweep(runtime=self.runtime)
            except Exception as exc:
                log.warning("retention sweep failed (%s); will retry", type(exc).__name__)
            delay = float(self.runtime.settings.retention_interval_s)

    def stop(self) -> None:
        self._stop.set()
        self.queue.stop()
        if self._retention.is_alive():
            self._retention.join(timeout=30)  # let a sweep in progress commit before the engine goes
