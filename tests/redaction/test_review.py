"""Redaction review end to end: a synthesised interview full of identifiers goes through upload,
transcription, diarisation, detection, review and approval; the anonymised transcript has none of them."""

from __future__ import annotations

import io
import json
import re
import wave

import pytest
import sqlalchemy as sa

from harness.synth import dialogue, write_wav
from tests.support.apps import wait_for_job
from tests.support.dates import interview_date

pytestmark = [pytest.mark.slow, pytest.mark.full_pipeline]

LINES = [
    ("A", "Thank you for joining me. Can you tell me what happened?"),
    ("B", "My name is Sarah Mitchell. I reported it to Greater Manchester Police on the third of March 2021."),
    ("A", "Who dealt with your case?"),
    ("B", "An officer called Mark Bellamy. He gave me his number, 07700 900123, and said Mark would ring back."),
    ("A", "Did Mark Bellamy ring you back?"),
    ("B", "No. Bellamy never called, so I rang Greater Manchester Police again in April."),
]
IDENTIFIERS = ["sarah", "mitchell", "mark", "bellamy", "manchester", "07700", "900", "123", "2021", "april",
               "third of march"]


def _upload(api, path, code: str, names: str):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        resp = api.client.post(
            "/api/v1/recordings", headers=api.h("uploader"),
            data={"participant_code": code, "cohort": "victim", "interview_date": interview_date(), "num_speakers": "2",
                  "known_names": names},
            files={"file": ("interview.wav", fh)},
        )
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    body = wait_for_job(api.client, api.h("uploader"), rid, timeout=300)
    assert body["status"] == "needs_review", body["job"]
    return rid


@pytest.fixture
def interview(tmp_path):  # type: ignore[no-untyped-def]
    audio, _ = dialogue(LINES)
    return write_wav(tmp_path / "interview.wav", audio)


def test_review_and_approve_removes_every_identifier(api, interview) -> None:  # type: ignore[no-untyped-def]
    rid = _upload(api, interview, "P41", "Sarah Mitchell\nMark Bellamy")
    raw = api.client.get(f"/api/v1/recordings/{rid}/transcript?format=txt", headers=api.h("reviewer")).text.lower()
    # The identifiers are really in what Whisper heard (otherwise this test would prove nothing).
    assert "mitchell" in raw and "bellamy" in raw and "manchester" in raw

    # Reviewers only: the review exposes identifying text.
    for role in ("uploader", "researcher"):
        assert api.client.get(f"/api/v1/recordings/{rid}/review", headers=api.h(role)).status_code == 403
    review = api.client.get(f"/api/v1/recordings/{rid}/review", headers=api.h("reviewer")).json()
    spans = review["spans"]
    assert spans and all({"text", "context_before", "label", "layers", "uncertain"} <= set(s) for s in spans)
    labels = {s["label"] for s in spans}
    assert {"PERSON", "DATE"} <= labels or {"OFFICER", "DATE"} <= labels
    # Uncertain spans come first.
    flags = [s["uncertain"] for s in spans]
    assert flags == sorted(flags, reverse=True)

    # Reject a span, change a label, add one by character range (it propagates).
    first = spans[-1]
    r = api.client.patch(f"/api/v1/recordings/{rid}/review/spans/{first['id']}", headers=api.h("reviewer"),
                         json={"action": "reject"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    # "you" is no identifier, but it occurs in several segments: a good probe of propagation.
    occurrences = sum(len(re.findall(r"\byou\b", s["text"], re.IGNORECASE)) for s in review["segments"])
    assert occurrences >= 2
    seg = next(s for s in review["segments"] if re.search(r"\byou\b", s["text"], re.IGNORECASE))
    word = re.search(r"\byou\b", seg["text"], re.IGNORECASE)
    r = api.client.post(f"/api/v1/recordings/{rid}/review/spans", headers=api.h("reviewer"),
                        json={"segment": seg["id"], "start": word.start(), "end": word.end(), "label": "PERSON"})
    assert r.status_code == 201, r.text
    assert len(r.json()) == occurrences and {x["origin"] for x in r.json()} == {"added", "propagated"}
    # Undo the rejection: a leak is worse than a false positive.
    api.client.patch(f"/api/v1/recordings/{rid}/review/spans/{first['id']}", headers=api.h("reviewer"),
                     json={"action": "accept"})

    # Not approvable by uploaders; approval by a reviewer completes the job.
    assert api.client.post(f"/api/v1/recordings/{rid}/review/approve", headers=api.h("uploader")).status_code == 403
    r = api.client.post(f"/api/v1/recordings/{rid}/review/approve", headers=api.h("reviewer"))
    assert r.status_code == 200, r.text
    assert api.client.get(f"/api/v1/recordings/{rid}", headers=api.h("admin")).json()["status"] == "completed"
    assert api.client.post(f"/api/v1/recordings/{rid}/review/approve", headers=api.h("reviewer")).status_code == 409

    anon = api.client.get(f"/api/v1/recordings/{rid}/anonymised", headers=api.h("reviewer")).json()
    blob = json.dumps(anon).lower()
    for ident in IDENTIFIERS:
        assert ident not in blob, f"{ident!r} leaked into the anonymised transcript"
    assert "[person" in blob or "[officer" in blob
    assert "[date]" in blob
    # Word-level data is redacted with the text, and speakers are roles.
    assert {s["speaker_label"] for s in anon["segments"]} == {"Interviewer", "Victim"}
    assert all("probability" not in w for s in anon["segments"] for w in s["words"])
    for fmt in ("txt", "vtt"):
        text = api.client.get(f"/api/v1/recordings/{rid}/anonymised?format={fmt}", headers=api.h("reviewer")).text
        assert not any(ident in text.lower() for ident in IDENTIFIERS)
        assert not re.search(r"\byou\b", text, re.IGNORECASE)

    # The study map is sealed: no name in any table, in any form.
    runtime = api.client.app.state.runtime
    with runtime.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                dump = " ".join(str(bytes(v) if isinstance(v, memoryview) else v) for v in row).lower()
                assert "bellamy" not in dump and "mitchell" not in dump, table


def test_pseudonyms_consistent_across_recordings_and_audio_snippet(api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [("A", "Who was the officer in your case?"), ("B", "It was Mark Bellamy from the local station.")]
    tags = []
    for code in ("P51", "P52"):
        audio, _ = dialogue(lines)
        rid = _upload(api, write_wav(tmp_path / f"{code}.wav", audio), code, "Mark Bellamy")
        review = api.client.get(f"/api/v1/recordings/{rid}/review", headers=api.h("reviewer")).json()
        span = next(s for s in review["spans"] if "bellamy" in s["text"].lower())
        snippet = api.client.get(f"/api/v1/recordings/{rid}/review/spans/{span['id']}/audio",
                                 headers=api.h("reviewer"))
        assert snippet.status_code == 200 and snippet.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(snippet.content)) as w:
            assert w.getframerate() == 16_000 and 1.0 < w.getnframes() / 16_000 < 9.0
        assert api.client.get(f"/api/v1/recordings/{rid}/review/spans/{span['id']}/audio",
                              headers=api.h("researcher")).status_code == 403
        assert api.client.post(f"/api/v1/recordings/{rid}/review/approve", headers=api.h("admin")).status_code == 200
        anon = api.client.get(f"/api/v1/recordings/{rid}/anonymised", headers=api.h("admin")).json()
        text = " ".join(s["text"] for s in anon["segments"])
        found = re.findall(r"\[(?:Person|Officer) \d+\]", text)
        assert found, text
        tags.append(found[-1])
    assert tags[0] == tags[1]
