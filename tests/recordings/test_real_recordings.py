"""Every real recording in ../shared/data goes the whole way a user takes it: upload through the API on the embedded
default (SQLite + in-process worker, diarisation on as by default), transcription, review, approval, and every
download — and the CLI's `transcribe` in every format on overlapping speech.

Nothing in the suite sent real overlapping two-speaker speech through the worker before; 15 of these files failed.
`ANONSCRIBE_SWEEP_MODEL=base` runs the same sweep with `base` (minutes, not part of CI).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import srt
import webvtt
from docx import Document
from fastapi.testclient import TestClient

from tests.support.apps import Api, create_users, make_settings
from tests.support.dates import interview_date
from tests.support.paths import MODEL_CACHE, ROOT, SHARED, TEST_MODEL, shared

pytestmark = pytest.mark.slow

AUDIO = (".wav", ".mp3", ".flac", ".m4a", ".mp4", ".ogg", ".webm")
RECORDINGS = sorted(p.name for p in SHARED.iterdir() if p.suffix in AUDIO) if SHARED.is_dir() else []
MODEL = os.environ.get("ANONSCRIBE_SWEEP_MODEL", TEST_MODEL)
LIBRARY_FORMATS = ("txt", "docx", "vtt", "srt", "json", "csv")
RAW_FORMATS = ("json", "txt", "vtt", "rttm")
FINISHED = ("needs_review", "completed", "failed", "cancelled")


def test_the_shared_recordings_are_there() -> None:
    # A sweep over nothing proves nothing: the manifest lists 21 top-level recordings.
    assert len(RECORDINGS) >= 20, RECORDINGS


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, dict]]]:
    """All recordings uploaded at once, as a team would after a week of interviews; waits for every job."""
    from service.app import create_app

    tmp = tmp_path_factory.mktemp("sweep")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'data' / 'anonscribe.db'}", whisper_model=MODEL, diarise=True)
    app = create_app(settings)
    with TestClient(app) as client:
        api = Api(client=client, tokens=create_users(app.state.runtime), settings=settings)
        ids = {}
        for i, name in enumerate(RECORDINGS):
            with open(shared(name), "rb") as fh:
                resp = client.post("/api/v1/recordings", headers=api.h("uploader"), files={"file": (name, fh)},
                                   data={"participant_code": f"R{i:02d}", "cohort": ("police", "victim")[i % 2],
                                         "interview_date": interview_date()})
            assert resp.status_code == 202, (name, resp.text)
            ids[name] = resp.json()["id"]
        status: dict[str, dict] = {}
        deadline = time.time() + 60 * len(RECORDINGS) * (4 if MODEL == TEST_MODEL else 12)
        while len(status) < len(ids) and time.time() < deadline:
            for name, rid in ids.items():
                if name not in status:
                    body = client.get(f"/api/v1/recordings/{rid}", headers=api.h("uploader")).json()
                    if body["status"] in FINISHED:
                        status[name] = body
            time.sleep(0.5)
        yield api, {name: {**status.get(name, {"status": "timed out"}), "id": ids[name]} for name in ids}


def test_every_recording_completes(sweep) -> None:  # type: ignore[no-untyped-def]
    _, status = sweep
    failed = {name: (body["status"], (body.get("job") or {}).get("error")) for name, body in status.items()
              if body["status"] != "needs_review"}
    assert not failed, failed


@pytest.mark.parametrize("name", RECORDINGS)
def test_review_approve_and_every_download(sweep, name: str) -> None:  # type: ignore[no-untyped-def]
    api, status = sweep
    rid = status[name]["id"]
    if status[name]["status"] != "needs_review":
        pytest.fail(f"{name} ended {status[name]['status']}")
    rev = api.h("reviewer")
    for fmt in RAW_FORMATS:
        resp = api.client.get(f"/api/v1/recordings/{rid}/transcript?format={fmt}", headers=rev)
        assert resp.status_code == 200, (fmt, resp.text)
    raw = api.client.get(f"/api/v1/recordings/{rid}/transcript?format=json", headers=rev).json()
    json.dumps(raw, allow_nan=False)
    review = api.client.get(f"/api/v1/recordings/{rid}/review", headers=rev)
    assert review.status_code == 200
    resp = api.client.post(f"/api/v1/recordings/{rid}/review/approve", headers=rev)
    assert resp.status_code == 200, resp.text

    researcher = api.h("researcher")
    words = sum(len(s["text"].split()) for s in raw["segments"])
    got = {}
    for fmt in LIBRARY_FORMATS:
        resp = api.client.get(f"/api/v1/library/{rid}?format={fmt}", headers=researcher)
        assert resp.status_code == 200, (fmt, resp.text)
        got[fmt] = resp.content
    # Each file reads back as its tools read it, and holds the transcript.
    txt = got["txt"].decode()
    docx = "\n".join(p.text for p in Document(io.BytesIO(got["docx"])).paragraphs)
    cues = list(webvtt.from_buffer(io.StringIO(got["vtt"].decode())))
    subtitles = list(srt.parse(got["srt"].decode()))
    document = json.loads(got["json"])
    rows = list(csv.DictReader(io.StringIO(got["csv"].decode())))
    assert len(cues) == len(subtitles) == sum(1 for _ in document["segments"]) == len(raw["segments"])
    if words:
        assert len(txt.split()) >= words and len(docx.split()) >= words and rows


def test_corpus_exports_hold_every_approved_transcript(sweep) -> None:  # type: ignore[no-untyped-def]
    api, status = sweep
    approved = [b["id"] for b in status.values() if b["status"] == "needs_review"]
    for rid in approved:  # the per-file test may have been deselected
        api.client.post(f"/api/v1/recordings/{rid}/review/approve", headers=api.h("reviewer"))
    assert len(approved) == len(RECORDINGS)
    exports = {}
    for fmt in ("zip", "qdpx"):
        resp = api.client.get(f"/api/v1/library/export?format={fmt}", headers=api.h("researcher"))
        assert resp.status_code == 200, resp.text
        exports[fmt] = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    # The ZIP names each transcript's files after its recording id; the REFI-QDA project has one source each.
    assert all(any(rid[:8] in name for name in exports["zip"]) for rid in approved), exports["zip"]
    assert sum(1 for name in exports["qdpx"] if name.startswith("sources/")) == len(approved), exports["qdpx"]

OVERLAPPING = ["pyannote_sample.wav", "pyannote_ami_trn09.wav"]


@pytest.mark.parametrize("name", OVERLAPPING)
@pytest.mark.parametrize("fmt", RAW_FORMATS)
def test_cli_transcribes_overlapping_speech_in_every_format(tmp_path: Path, name: str, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0", "HOME": str(tmp_path),
           "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE), "ANONSCRIBE_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "anonscribe"), "transcribe", str(shared(name)),
                           "--model", TEST_MODEL, "--format", fmt, "--output", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    body = out.read_text()
    if fmt == "json":
        data = json.loads(body)
        assert len({s["speaker"] for s in data["segments"]}) >= 2
        assert any(w["overlap"] for s in data["segments"] for w in s["words"])
    elif fmt == "rttm":
        assert len({line.split()[7] for line in body.splitlines()}) >= 2
    elif fmt == "vtt":
        assert len(list(webvtt.from_buffer(io.StringIO(body)))) >= 2
    else:
        assert len(body.split()) >= 10
