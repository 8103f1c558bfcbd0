"""`take_pieces`: a thread lent by a finished stage (`HandOff`) takes ASR's remaining pieces."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.pieces import HandOff, take_pieces


def _lender(handoff: HandOff, name: str = "lender") -> threading.Thread:
    """A stage's thread that has finished its own work and lends itself to ASR."""
    thread = threading.Thread(target=handoff.lend, name=name, daemon=True)
    thread.start()
    return thread


def _decoder(lend: HandOff | None = None, busy_s: float = 0.0):
    """A decode function recording which thread took each piece; piece 0 lends a thread (`lend`) and then keeps
    its own thread busy for `busy_s`, as diarisation finishing while ASR is inside its first piece."""
    taken: dict[int, str] = {}
    lenders: list[threading.Thread] = []

    def decode(index: int, report) -> str:
        taken[index] = threading.current_thread().name
        if index == 0 and lend is not None:
            lenders.append(_lender(lend))
            report(1.0)
            time.sleep(busy_s)
        for step in range(1, 6):
            time.sleep(0.005)
            report(10.0 * step / 5)
        return f"piece {index}"

    return decode, taken, lenders


def test_without_a_lent_thread_one_thread_decodes_every_piece_in_order() -> None:
    decode, taken, _ = _decoder()
    assert take_pieces(4, decode) == ["piece 0", "piece 1", "piece 2", "piece 3"]
    assert set(taken.values()) == {threading.current_thread().name}


def test_a_lent_thread_takes_the_pieces_not_started() -> None:
    handoff = HandOff()
    decode, taken, lenders = _decoder(handoff, busy_s=0.3)
    me = threading.current_thread().name
    progress: list[tuple[str, float]] = []
    results = take_pieces(6, decode, handoff=handoff,
                          on_done=lambda s: progress.append((threading.current_thread().name, s)))
    assert results == [f"piece {i}" for i in range(6)]
    assert sorted(taken) == list(range(6))  # each piece decoded exactly once
    assert taken[0] == me
    assert [taken[i] for i in range(1, 6)] == ["lender"] * 5  # all taken while piece 0 was busy
    # Progress only from this thread, only forward, and it ends at every piece's full length.
    assert {name for name, _ in progress} == {me}
    values = [s for _, s in progress]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert values[-1] == pytest.approx(60.0)
    lenders[0].join(timeout=5)
    assert not lenders[0].is_alive()  # the lent thread goes back when the pieces are done


def test_a_thread_lent_after_asr_finished_returns_at_once() -> None:
    handoff = HandOff()
    decode, taken, _ = _decoder()
    take_pieces(3, decode, handoff=handoff)
    handoff.close()  # what pipeline.run does when transcribe returns
    late = _lender(handoff)
    late.join(timeout=5)
    assert not late.is_alive()
    assert set(taken.values()) == {threading.current_thread().name}


def test_an_error_in_the_lent_thread_reaches_the_caller() -> None:
    handoff = HandOff()
    _lender(handoff)

    def decode(index: int, report) -> str:
        report(1.0)
        if threading.current_thread().name == "lender":
            raise RuntimeError("model failed")
        time.sleep(0.2)
        return "ok"

    with pytest.raises(RuntimeError, match="model failed"):
        take_pieces(3, decode, handoff=handoff)


def test_a_cancelled_job_stops_the_lent_thread_too() -> None:
    handoff = HandOff()
    lender = _lender(handoff)
    finished: list[int] = []
    started = threading.Event()

    def decode(index: int, report) -> str:
        if threading.current_thread().name == "lender":
            started.set()
            for _ in range(2000):  # ten seconds unless stopped
                time.sleep(0.005)
                report(1.0)
            finished.append(index)
            return "late"
        assert started.wait(timeout=10)
        report(1.0)
        return "ok"

    def on_done(_seconds: float) -> None:
        raise KeyboardInterrupt  # what a job's progress callback raises when it is cancelled

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        take_pieces(3, decode, handoff=handoff, on_done=on_done)
    assert time.monotonic() - t0 < 5
    lender.join(timeout=5)
    assert finished == [] and not lender.is_alive()
