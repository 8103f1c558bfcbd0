"""Real speech through the API and the CLI with tiny.en, scored by WER against the shared references.

Bound: tiny.en scored 0.0 % WER on the Azure clip (batched and sequential) and 0.0 % on JFK on this
machine. Whisper tiny.en's published LibriSpeech test-clean WER is ~5.6 %, so 5 % leaves room for
numeric differences between CPUs while still failing on a broken decoder, resampler or word merge.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import jiwer
import pytest

from harness.textnorm import normalise
from tests.support.apps import upload, wait_for_job
from tests.support.paths import MODEL_CACHE, shared

WER_BOUND = 0.05


def _wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalise(reference), normalise(hypothesis))


@pytest.mark.slow
@pytest.mark.full_pipeline
def test_api_transcribes_real_recording(api) -> None:  # type: ignore[no-untyped-def]
    path = shared("azure_en_general_test.wav")
    resp = upload(api.client, api.h("uploader"), path)
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    assert resp.json()["status_url"].endswith(f"/api/v1/recordings/{rid}")
    body = wait_for_job(api.client, api.h("uploader"), rid)
    assert body["status"] == "needs_review", body["job"]
    assert body["job"]["progress"] == 1.0
    assert body["job"]["audio_done_s"] == pytest.approx(body["duration_s"], abs=0.5)
    assert body["duration_s"] == pytest.approx(42.0, abs=0.1)

    data = api.client.get(f"/api/v1/recordings/{rid}/transcript", headers=api.h("reviewer")).json()
    hypothesis = " ".join(s["text"] for s in data["segments"])
    assert _wer(path.with_suffix(".txt").read_text(), hypothesis) <= WER_BOUND
    words = [w for s in data["segments"] for w in s["words"]]
    assert len(words) > 100
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= 42.1 and 0 <= w["probability"] <= 1 for w in words)
    # One reader: every segment is labelled, and the single voice is the participant.
    assert all(s["speaker"] == "S1" and s["speaker_label"] == "Officer" for s in data["segments"])
    assert all(isinstance(s["flags"], list) for s in data["segments"])
    assert [(sp["slot"], sp["label"]) for sp in data["speakers"]] == [("S1", "Officer")]

    txt = api.client.get(f"/api/v1/recordings/{rid}/transcript?format=txt", headers=api.h("admin"))
    assert txt.status_code == 200 and txt.headers["content-type"].startswith("text/plain")
    assert _wer(path.with_suffix(".txt").read_text(), txt.text.replace("[00:00:", " ")) < 0.2
    vtt = api.client.get(f"/api/v1/recordings/{rid}/transcript?format=vtt", headers=api.h("admin"))
    assert vtt.text.startswith("WEBVTT") and "-->" in vtt.text


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "txt", "vtt"])
def test_cli_transcribes_offline(tmp_path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    path = shared("fw_jfk.flac")
    out = tmp_path / f"jfk.{fmt}"
    env = {
        "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "ANONSCRIBE_DATA_DIR": str(tmp_path / "d"),
        "HF_HUB_OFFLINE": "1",
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "transcribe",
            str(path),
            "--model",
            "tiny.en",
            "--format",
            fmt,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    if fmt == "json":
        data = json.loads(text)
        hypothesis = " ".join(s["text"] for s in data["segments"])
        assert data["model"] == "tiny.en" and data["language"] == "en"
        assert data["duration"] == pytest.approx(11.0, abs=0.05)
    elif fmt == "vtt":
        assert text.startswith("WEBVTT\n")
        cues = [line for line in text.splitlines()[2:] if line and "-->" not in line and not line.isdigit()]
        assert all(c.startswith("<v Participant>") for c in cues)
        hypothesis = " ".join(c.split(">", 1)[1] for c in cues)
    else:
        # "[00:00:00] Participant: text" turns, blank-line separated
        hypothesis = " ".join(line.split(": ", 1)[1] for line in text.splitlines() if line)
    assert _wer(path.with_suffix(".txt").read_text(), hypothesis) <= WER_BOUND


def test_cli_rejects_missing_file_and_bad_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"ANONSCRIBE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "transcribe", str(tmp_path / "nope.wav")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "transcribe",
            str(shared("fw_jfk.flac")),
            "--model",
            "large-v9",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2 and "unknown Whisper model" in proc.stderr
    bad = tmp_path / "notes.wav"
    bad.write_text("this is a text file, not audio " * 20)
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "transcribe", str(bad), "--model", "tiny.en"],
        capture_output=True,
        text=True,
        env={**env, "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE)},
    )
    assert proc.returncode == 2 and "could not be opened" in proc.stderr


def test_long_audio_is_cut_in_pauses() -> None:
    import numpy as np

    from pipeline.asr import piece_bounds

    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16_000 * 100)).astype(np.float32)
    for pause_s in (18.0, 41.5, 62.0):  # one quiet half-second near each nominal 20 s boundary that has one
        audio[int(pause_s * 16_000): int((pause_s + 0.5) * 16_000)] = 0.0
    bounds = piece_bounds(audio, 20.0)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    cuts = [b[1] / 16_000 for b in bounds[:-1]]
    assert 18.0 <= cuts[0] <= 18.5 and 41.5 <= cuts[1] <= 42.0 and 62.0 <= cuts[2] <= 62.5
    assert piece_bounds(audio[: 16_000 * 22], 20.0) == [(0, 16_000 * 22)]  # short audio: one piece


@pytest.mark.slow
def test_pieces_transcribe_like_one_pass() -> None:
    """The 42 s Azure clip in ~12 s pieces: the words and their order survive the cuts (same WER bound)."""
    from dataclasses import replace

    from pipeline.asr import AsrOptions, piece_bounds, transcribe
    from pipeline.decode import decode_audio
    from pipeline.weights import resolve_model

    audio = decode_audio(str(shared("azure_en_general_test.wav")))
    options = AsrOptions(model_path=resolve_model("tiny.en", cache_dir=MODEL_CACHE), model_name="tiny.en",
                         cpu_threads=2)
    pieces = replace(options, piece_s=12.0)
    assert len(piece_bounds(audio, 12.0)) >= 3
    whole, _ = transcribe(audio, options=options)
    cut, language = transcribe(audio, options=pieces)
    reference = normalise(shared("azure_en_general_test.txt").read_text(encoding="utf-8-sig"))
    hypothesis = normalise(" ".join(s.text for s in cut))
    assert language == "en"
    assert jiwer.wer(reference, hypothesis) <= 0.05, hypothesis
    words = [w for s in cut for w in s.words]
    assert all(0 <= w.start <= w.end <= len(audio) / 16_000 + 0.05 for w in words)
    assert [s.start for s in cut] == sorted(s.start for s in cut) and [s.id for s in cut] == list(range(len(cut)))
    assert abs(len(words) - sum(len(s.words) for s in whole)) <= 2


@pytest.mark.slow
def test_a_lent_thread_decodes_pieces_too(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With two model workers and a thread lent (as diarisation lends its own when done), the Azure clip's pieces
    are shared between two threads, and the transcript is the one a single thread writes (pieces are independent)."""
    import threading
    from dataclasses import replace

    from pipeline import asr as asr_module
    from pipeline.decode import decode_audio
    from pipeline.pieces import HandOff
    from pipeline.weights import resolve_model

    audio = decode_audio(str(shared("azure_en_general_test.wav")))
    one = asr_module.AsrOptions(model_path=resolve_model("tiny.en", cache_dir=MODEL_CACHE), model_name="tiny.en",
                                cpu_threads=1, piece_s=8.0)
    assert len(asr_module.piece_bounds(audio, 8.0)) >= 4
    alone, _ = asr_module.transcribe(audio, options=one)

    threads: set[str] = set()
    real = asr_module._transcribe_piece

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(asr_module, "_transcribe_piece", recording)
    handoff = HandOff()
    lender = threading.Thread(target=handoff.lend, name="diarise", daemon=True)
    lender.start()
    shared_out, language = asr_module.transcribe(audio, options=replace(one, workers=2), handoff=handoff)
    handoff.close()
    lender.join(timeout=10)
    assert threads == {threading.current_thread().name, "diarise"}
    assert language == "en"
    assert [(s.text, s.start, s.end) for s in shared_out] == [(s.text, s.start, s.end) for s in alone]
