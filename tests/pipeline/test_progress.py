"""ASR progress is reported as the work finishes, not all at once at the end of the stage: through the pipeline
(what `anonscribe transcribe`'s bar and the worker both listen to) and in the job the web page and API show.

Whisper works in windows of up to 30 s of speech, batched four at a time by default, so on the 42 s Azure clip the
honest granularity is one window: its end must be reported while the rest is still being transcribed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support.apps import make_settings, upload, wait_for_job
from tests.support.paths import shared

pytestmark = pytest.mark.slow
CLIP = "azure_en_general_test.wav"  # 42 s, two windows of speech


def _run(tmp_path: Path, **overrides: object) -> list[tuple[float, str, float, float]]:
    from pipeline.run import run_pipeline
    from workers.options import pipeline_options

    settings = make_settings(tmp_path, "sqlite://", **overrides)
    options, diarisation, overlap = pipeline_options(settings)
    events: list[tuple[float, str, float, float]] = []
    stage = ["decoding"]
    t0 = time.monotonic()

    def on_stage(name: str) -> None:
        stage[0] = name
        events.append((time.monotonic() - t0, name, 0.0, 0.0))

    run_pipeline(str(shared(CLIP)), asr=options, diarisation=diarisation, overlap=overlap, on_stage=on_stage,
                 on_progress=lambda done, total: events.append((time.monotonic() - t0, stage[0], done, total)))
    return events


def _asr(events: list[tuple[float, str, float, float]]) -> tuple[list[tuple[float, float, float]], float, float]:
    """ASR progress reports (time, done, total), and when the stage began and ended."""
    began = next(t for t, name, _, total in events if name == "transcribing" and not total)
    ended = next((t for t, name, _, total in events if name not in ("decoding", "transcribing") and not total),
                 events[-1][0])
    return [(t, done, total) for t, name, done, total in events if name == "transcribing" and total], began, ended


def test_batched_asr_reports_a_window_while_the_rest_is_transcribed(tmp_path: Path) -> None:
    """The service's defaults (batched, diarising alongside in a second thread)."""
    reports, began, ended = _asr(_run(tmp_path, diarise=True, cpu_threads=2))
    done = [d for _, d, _ in reports]
    assert done == sorted(done), "ASR progress only moves forward"
    total = reports[-1][2]
    assert done[-1] == pytest.approx(total)
    early = [(t, d) for t, d, _ in reports if 0 < d < total]
    assert early, f"no intermediate ASR progress: {reports}"
    # Reported while a good part of the stage's work was still to come, not in one burst at its end.
    first = early[0][0]
    assert first - began < 0.85 * (ended - began), (began, first, ended, reports)
    assert 0.5 < early[0][1] / total < 0.8  # the first window ends at ~28 s of 42


def test_sequential_asr_reports_each_segment(tmp_path: Path) -> None:
    reports, _, _ = _asr(_run(tmp_path, batched=False))
    total = reports[-1][2]
    intermediate = [d for _, d, _ in reports if 0 < d < total]
    assert len(set(intermediate)) >= 3, reports
    assert intermediate == sorted(intermediate)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_job_progress_moves_during_asr(api, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """What the web page's bar and the API show: the job's stored progress passes through the ASR stage's share
    (2-55 %) instead of sitting at its start. Progress is written every PROGRESS_INTERVAL_S; sampled faster here.
    (The pipeline tests above are the ones that tell early reports from a burst at the end; this one checks the
    worker carries them to the job.)"""
    import workers.tasks
    from service.recordings.models import Job
    from workers.tasks import STAGE_SPAN

    monkeypatch.setattr(workers.tasks, "PROGRESS_INTERVAL_S", 0.1)
    samples: list[tuple[float, str | None, float]] = []
    stop = threading.Event()
    runtime = api.client.app.state.runtime

    def watch() -> None:
        while not stop.is_set():
            with runtime.sessions() as s:
                samples.extend((time.monotonic(), j.stage, j.progress) for j in s.query(Job).all())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        resp = upload(api.client, api.h("uploader"), shared(CLIP))
        assert resp.status_code == 202, resp.text
        body = wait_for_job(api.client, api.h("uploader"), resp.json()["id"])
    finally:
        stop.set()
        watcher.join()
    assert body["status"] == "needs_review" and body["job"]["progress"] == 1.0
    lo, hi = STAGE_SPAN["transcribing"]
    asr = [(t, p) for t, stage, p in samples if stage == "transcribing"]
    during = [(t, p) for t, p in asr if lo < p < hi]
    assert during, f"progress never moved inside the ASR stage: {sorted({p for _, p in asr})}"
    # Seen while a good part of the stage was still to come (the old bar moved only as the stage ended).
    began, ended = asr[0][0], asr[-1][0]
    assert during[0][0] - began < 0.85 * (ended - began), (began, during, ended)
    progress = [p for _, _, p in samples]
    assert progress == sorted(progress)
