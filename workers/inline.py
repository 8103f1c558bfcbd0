"""The embedded default: worker threads, and the periodic sweeps of `scheduled.SCHEDULE`, inside the API process."""

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
        # A thread per entry, so a long retention sweep never holds up the reaper.
        self._periodic = [
            threading.Thread(target=self._loop, args=(entry,), name=f"anonscribe-{entry.name}", daemon=True)
            for entry in scheduled.SCHEDULE
        ]

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
        for thread in self._periodic:
            thread.start()
        return self.queue

    def _loop(self, entry: scheduled.Periodic) -> None:
        settings = self.runtime.settings
        delay = entry.first_s(settings)
        while not self._stop.wait(delay):
            try:
                entry.run(runtime=self.runtime)
            except Exception as exc:
                log.warning("%s failed (%s); will retry", entry.name, type(exc).__name__)
            delay = entry.every_s(settings)

    def stop(self) -> None:
        self._stop.set()
        self.queue.stop()
        for thread in self._periodic:
            if thread.is_alive():
                thread.join(timeout=30)  # let a sweep in progress commit before the engine goes
