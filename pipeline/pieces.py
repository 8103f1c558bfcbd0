"""Long recordings in pieces: where to cut them, and which thread decodes which piece.

ASR runs beside diarisation, one CPU thread each (`pipeline.run`). Diarisation finishes first, and its core then sat
idle while ASR worked through the rest of the recording on one thread. `take_pieces` lets the diarisation thread,
once done, take the pieces not yet started (`HandOff`): pieces are independent, so two threads on two pieces scale
almost fully, where a second thread inside one decoding adds about a third.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from pipeline.types import SAMPLE_RATE

T = TypeVar("T")

PIECE_SEARCH_S = 15.0
QUIET_FRAME_S = 0.2
# How often the job's thread reports progress (and so may be cancelled) while it waits for the second thread.
WAIT_S = 0.5


def piece_bounds(audio: np.ndarray, piece_s: float) -> list[tuple[int, int]]:
    """Sample ranges of about `piece_s` covering the audio, each cut at the quietest 0.2 s within 15 s (a quarter
    piece at most) of the nominal boundary, so a cut falls in a pause rather than through a word."""
    n = len(audio)
    search_s = min(PIECE_SEARCH_S, piece_s / 4)
    step = int(piece_s * SAMPLE_RATE)
    if n <= step + int(search_s * SAMPLE_RATE):
        return [(0, n)]
    frame = int(QUIET_FRAME_S * SAMPLE_RATE)
    bounds, start = [], 0
    while n - start > step + int(search_s * SAMPLE_RATE):
        lo = start + step - int(search_s * SAMPLE_RATE)
        window = audio[lo: lo + 2 * int(search_s * SAMPLE_RATE)]
        usable = len(window) // frame * frame
        energy = np.square(window[:usable].astype(np.float32)).reshape(-1, frame).sum(axis=1)
        cut = lo + int(np.argmin(energy)) * frame + frame // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


class Stopped(Exception):
    """Raised inside a lent thread when the job's thread stopped (cancelled or failed)."""


class HandOff:
    """A thread that has finished its own stage of a job, lent to ASR: `lend()` decodes pieces until none is left.

    The diarisation thread itself takes the pieces, rather than a new thread, so what ASR allocates there reuses the
    memory diarisation has just freed (the C allocator keeps one arena per thread): a 2-hour recording stays in
    bench/long_memory.py's bound."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._work: Callable[[], None] | None = None
        self._closed = False

    def offer(self, work: Callable[[], None]) -> None:
        with self._cond:
            if not self._closed:
                self._work = work
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._work = None
            self._cond.notify_all()

    def lend(self) -> None:
        """Called by the finished thread: works while ASR has pieces not started, returns at once after `close`."""
        with self._cond:
            self._cond.wait_for(lambda: self._work is not None or self._closed)
            work = self._work
        if work is not None:
            work()


# decode(index, report): the piece's result; report(seconds of that piece done) as it goes (may raise to stop).
DecodeFn = Callable[[int, Callable[[float], None]], T]


def take_pieces(count: int, decode: DecodeFn[T], *, on_done: Callable[[float], None] | None = None,
                handoff: HandOff | None = None) -> list[T]:
    """Every piece's result, in order. The calling thread decodes pieces one after another; a thread lent through
    `handoff` takes pieces too. `on_done(seconds done over all pieces)` is only ever called from the calling
    thread (a job's progress callback may raise to cancel it), and never goes back."""
    pending = deque(range(count))
    results: dict[int, T] = {}
    done = [0.0] * count
    stop = threading.Event()
    started, finished = threading.Event(), threading.Event()
    box: dict[str, BaseException] = {}
    reported = 0.0

    def report() -> None:
        nonlocal reported
        total = sum(done)
        if on_done and total > reported:
            reported = total
            on_done(total)

    def lent() -> None:
        started.set()
        try:
            while not stop.is_set():
                try:
                    index = pending.popleft()  # atomic: each piece is taken by one thread
                except IndexError:
                    return

                def progress(seconds: float, index: int = index) -> None:
                    if stop.is_set():
                        raise Stopped
                    done[index] = max(done[index], seconds)

                results[index] = decode(index, progress)
        except Stopped:
            pass
        except BaseException as exc:  # handed to the calling thread, which re-raises it
            box["error"] = exc
        finally:
            finished.set()

    if handoff is not None and count > 1:
        handoff.offer(lent)
    try:
        while True:
            try:
                index = pending.popleft()
            except IndexError:
                break

            def own(seconds: float, index: int = index) -> None:
                if "error" in box:  # the lent thread failed: stop this piece too
                    raise box["error"]
                done[index] = max(done[index], seconds)
                report()

            results[index] = decode(index, own)
            if "error" in box:
                raise box["error"]
        if handoff is not None:
            handoff.close()
        while started.is_set() and not finished.wait(timeout=WAIT_S):
            report()
        report()
    except BaseException:
        stop.set()
        if handoff is not None:
            handoff.close()
        if started.is_set():
            finished.wait()
        raise
    if "error" in box:
        raise box["error"]
    return [results[i] for i in range(count)]
