"""The enqueue interface. Domains ask for a task by name; start-up wires the implementation."""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
from collections.abc import Callable
from typing import Protocol

from service.core.tracebacks import content_free

log = logging.getLogger("anonscribe.queue")

PROCESS_RECORDING = "anonscribe.process_recording"
REAP_JOBS = "anonscribe.reap_jobs"
RETENTION_SWEEP = "anonscribe.retention_sweep"
SWEEP_UPLOADS = "anonscribe.sweep_uploads"
SWEEP_CREDENTIALS = "anonscribe.sweep_credentials"


class JobQueue(Protocol):
    def enqueue(self, task: str, job_id: str) -> None: ...
    def ping(self) -> bool: ...


class InlineQueue:
    """Embedded default: worker threads inside the server process run the same task functions."""

    def __init__(self, workers: int = 1) -> None:
        self._q: stdlib_queue.Queue[tuple[str, str] | None] = stdlib_queue.Queue()
        self._handlers: dict[str, Callable[[str], object]] = {}
        self._threads: list[threading.Thread] = []
        self._workers = workers

    def register(self, task: str, fn: Callable[[str], object]) -> None:
        self._handlers[task] = fn

    def enqueue(self, task: str, job_id: str) -> None:
        if task not in self._handlers:
            raise KeyError(f"no handler registered for {task}")
        self._q.put((task, job_id))

    def ping(self) -> bool:
        return all(t.is_alive() for t in self._threads) and bool(self._threads)

    def start(self) -> None:
        for i in range(self._workers):
            t = threading.Thread(target=self._loop, name=f"anonscribe-inline-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _loop(self) -> None:
        while (item := self._q.get()) is not None:
            task, job_id = item
            try:
                self._handlers[task](job_id)
            except Exception as exc:  # a task must never kill the worker thread
                log.error("inline task %s failed for job %s: %s", task, job_id, content_free(exc))
            finally:
                self._q.task_done()

    def join(self) -> None:
        self._q.join()

    def stop(self) -> None:
        for _ in self._threads:
            self._q.put(None)
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()


class CeleryQueue:
    """Sends by task name, so the API process never imports the worker code."""

    def __init__(self, broker_url: str, *, visibility_timeout_s: int) -> None:
        from celery import Celery

        self.app = Celery("anonscribe", broker=broker_url)
        self.app.conf.broker_transport_options = {"visibility_timeout": visibility_timeout_s}
        self.app.conf.broker_connection_retry_on_startup = True

    def enqueue(self, task: str, job_id: str) -> None:
        self.app.send_task(task, args=[job_id], queue="anonscribe")

    def ping(self) -> bool:
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            return True
        except Exception:
            return False
