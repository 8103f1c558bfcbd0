"""ASR and diarisation at the same time: same transcript as in turn, callbacks on the caller's thread only,
a stop or an error on either side ends both."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipeline import run as run_module
from pipeline.asr import AsrOptions
from pipeline.decode import decode_audio
from pipeline.diarise import DiariseOptions
from pipeline.run import SpeakerHints, run_pipeline
from pipeline.weights import resolve_model
from service.core.settings import Settings
from tests.support.paths import MODEL_CACHE, TEST_MODEL, shared
from workers.options import pipeline_options

pytestmark = [pytest.mark.slow, pytest.mark.full_pipeline]


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return decode_audio(str(shared("pyannote_sample.wav")))


@pytest.fixture(scope="module")
def asr() -> AsrOptions:
    return AsrOptions(model_path=resolve_model(TEST_MODEL, cache_dir=MODEL_CACHE), cpu_threads=1)


DIARISATION = DiariseOptions(cache_dir=MODEL_CACHE, threads=1)


def _thread_names_alive() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_overlapped_stages_give_the_same_transcript(sample, asr) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[str, str]] = []

    def on_stage(name: str) -> None:
        calls.append(("stage:" + name, threading.current_thread().name))

    def on_progress(done: float, total: float) -> None:
        assert 0.0 <= done <= total + 1e-6
        calls.append(("progress", threading.current_thread().name))

    hints = SpeakerHints(min_speakers=1, max_speakers=4)
    in_turn = run_pipeline(sample, asr=asr, diarisation=DIARISATION, hints=hints)
    together = run_pipeline(sample, asr=asr, diarisation=DIARISATION, hints=hints, overlap=True,
                            on_stage=on_stage, on_progress=on_progress)
    assert [(s.text, s.speaker, s.start) for s in together.segments] == [
        (s.text, s.speaker, s.start) for s in in_turn.segments
    ]
    assert together.speaker_turns == in_turn.speaker_turns
    assert len({s.speaker for s in together.segments}) == 2
    # The worker's heartbeat and DB writes sit behind these callbacks: never called from the second thread.
    assert {thread for _, thread in calls} == {threading.current_thread().name}
    stages = [name for name, _ in calls if name.startswith("stage:")]
    assert stages[:2] == ["stage:decoding", "stage:transcribing"]
    assert stages[-1] == "stage:aligning"
    assert "diarise" not in _thread_names_alive()


def test_diarisation_lends_its_thread_to_asr_when_done(sample, asr, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With two ASR workers, the diarisation thread decodes pieces once it is done: same transcript, no thread left."""
    from dataclasses import replace

    from pipeline import asr as asr_module

    threads: list[str] = []
    real = asr_module._transcribe_piece

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    pieces = replace(asr, piece_s=6.0)
    hints = SpeakerHints(min_speakers=1, max_speakers=4)
    alone = run_pipeline(sample, asr=pieces, diarisation=DIARISATION, hints=hints, overlap=True)
    monkeypatch.setattr(asr_module, "_transcribe_piece", recording)
    handed = run_pipeline(sample, asr=replace(pieces, workers=2), diarisation=DIARISATION, hints=hints, overlap=True)
    assert [(s.text, s.speaker, s.start) for s in handed.segments] == [
        (s.text, s.speaker, s.start) for s in alone.segments]
    assert len(threads) >= 4 and set(threads) <= {threading.current_thread().name, "diarise"}
    assert "diarise" not in _thread_names_alive()


def test_a_stop_during_asr_ends_diarisation_too(sample, asr, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Cancelled(Exception):
        pass

    started, cancelled = threading.Event(), threading.Event()
    outcomes: list[str] = []
    real = run_module._diarise

    def watched(audio, options, hints, on_fraction):  # type: ignore[no-untyped-def]
        def fraction(f: float) -> None:
            # Hold diarisation at its first step until the job is cancelled, so it is surely mid-way.
            started.set()
            assert cancelled.wait(timeout=120)
            on_fraction(f)

        try:
            result = real(audio, options, hints, fraction)
        except BaseException as exc:
            outcomes.append(type(exc).__name__)
            raise
        outcomes.append("finished")
        return result

    def on_progress(done: float, total: float) -> None:
        # A cancelled job: the worker's heartbeat raises from its progress callback.
        assert started.wait(timeout=120)
        cancelled.set()
        raise Cancelled

    monkeypatch.setattr(run_module, "_diarise", watched)
    with pytest.raises(Cancelled):
        run_pipeline(sample, asr=asr, diarisation=DIARISATION, overlap=True, on_progress=on_progress)
    assert outcomes == ["_Stopped"]
    assert "diarise" not in _thread_names_alive()


def test_a_diarisation_error_reaches_the_caller(sample, asr, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("diarisation failed")

    monkeypatch.setattr(run_module, "_diarise", broken)
    with pytest.raises(RuntimeError, match="diarisation failed"):
        run_pipeline(sample, asr=asr, diarisation=DIARISATION, overlap=True)
    assert "diarise" not in _thread_names_alive()


@pytest.mark.parametrize(
    ("values", "overlap", "threads"),
    [
        ({"cpu_threads": 2}, True, (1, 1)),
        ({"cpu_threads": 3}, True, (2, 1)),
        ({"cpu_threads": 8}, True, (4, 4)),
        ({"cpu_threads": 1}, False, (1, 1)),
        ({"cpu_threads": 2, "overlap_stages": False}, False, (2, 2)),
        ({"cpu_threads": 2, "diarise": False}, False, (2, 2)),
        ({"cpu_threads": 2, "asr_handoff": False}, True, (1, 1)),
    ],
)
def test_threads_are_split_between_overlapped_stages(values: dict[str, object], overlap: bool,
                                                     threads: tuple[int, int], tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, model_cache_dir=MODEL_CACHE,  # type: ignore[call-arg]
                        whisper_model=TEST_MODEL, **values)
    options = pipeline_options(settings)
    assert options.overlap is overlap
    assert options.asr.cpu_threads == threads[0]
    # A second ASR worker takes the diariser's CPU when it is done: only when the stages overlap.
    assert options.asr.workers == (2 if overlap and values.get("asr_handoff", True) else 1)
    if options.diarisation is not None:
        assert options.diarisation.threads == threads[1]  # type: ignore[attr-defined]
