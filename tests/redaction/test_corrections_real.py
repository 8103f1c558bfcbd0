"""A real recording corrected the way a reviewer would, through the API on the embedded default (SQLite, in-process
worker, tiny.en, diarisation on): pyannote's sample call, where Whisper hears "I heard a beep" as "I heard (of) deep".
Fix the misheard words, type a name the recording never said, split a turn and give its second half to the other
voice, approve, and read the library's TXT and JSON: the corrected text, the typed name redacted."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.apps import Api, create_users, make_settings, wait_for_job
from tests.support.dates import interview_date
from tests.support.paths import shared

pytestmark = pytest.mark.slow

RECS = "/api/v1/recordings"


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    from service.app import create_app

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}", diarise=True)
    app = create_app(settings)
    with TestClient(app) as client:
        yield Api(client=client, tokens=create_users(app.state.runtime), settings=settings)


def test_correct_a_real_recording_and_read_it_in_the_library(api: Api) -> None:
    with open(shared("pyannote_sample.wav"), "rb") as fh:
        resp = api.client.post(RECS, headers=api.h("uploader"), files={"file": ("call.wav", fh)},
                               data={"participant_code": "P07", "cohort": "victim", "interview_date": interview_date(),
                                     "num_speakers": "2"})
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    assert wait_for_job(api.client, api.h("uploader"), rid, timeout=600)["status"] == "needs_review"
    rev = api.h("reviewer")

    def review() -> dict:
        return api.client.get(f"{RECS}/{rid}/review", headers=rev).json()

    before = review()
    segments = before["segments"]
    # What tiny.en hears, depending on the run's diarisation cuts and windows: "I need the design" for "Neither did
    # I", or "I heard of deep" / "I heard a deep" for "I heard a beep". Each found is corrected (and at least one is,
    # or this proves nothing).
    fixes = {r"\bI need the design\.?|\bNeeds a design\.?": "Neither did I.",
             r"\bheard (?:of |a )?deep\b": "heard a beep"}
    corrected: list[str] = []
    for pattern, right in fixes.items():
        for seg in segments:
            if not re.search(pattern, seg["text"]):
                continue
            text = re.sub(pattern, right, seg["text"]).strip()
            resp = api.client.patch(f"{RECS}/{rid}/segments/{seg['id']}", headers=rev, json={"text": text})
            assert resp.status_code == 200 and resp.json()["words_changed"] >= 1, resp.text
            corrected.append(right)
            # Unchanged words kept what Whisper measured; the new ones are marked and carry no probability.
            after = review()["segments"][seg["id"]]
            assert any(w.get("edited") and "probability" not in w for w in after["words"])
            untouched = [w for w in after["words"] if not w.get("edited")]
            assert all(w in seg["words"] for w in untouched)
    assert corrected, [s["text"] for s in segments]

    # A name typed into a segment that had none: caught and redacted.
    [plain] = [s for s in segments if "difference" in s["text"]]
    typed = plain["text"].strip().replace("difference", "difference, Margaret Thornbury", 1)
    resp = api.client.patch(f"{RECS}/{rid}/segments/{plain['id']}", headers=rev, json={"text": typed})
    assert resp.status_code == 200 and resp.json()["spans_added"] >= 1, resp.text
    assert any("Margaret" in s["text"] and s["segment"] == plain["id"] for s in review()["spans"])

    # Split "(... a beep.) This is | Diane in New Jersey." before the name (segments are cut at sentence ends, so
    # the sentence may already be a segment of its own) and give the second half to the other voice.
    [seg] = [s for s in review()["segments"] if "This is Diane" in s["text"]]
    at = next(i for i, w in enumerate(seg["words"]) if w["text"].strip().startswith("Diane"))
    assert at > 0
    resp = api.client.post(f"{RECS}/{rid}/segments/{seg['id']}/split", headers=rev, json={"word": at})
    assert resp.status_code == 200 and resp.json()["segments"] == len(segments) + 1, resp.text
    second = review()["segments"][seg["id"] + 1]
    assert second["text"].strip().startswith("Diane in New Jersey")
    other = next(slot for slot in review()["speakers"] if slot != second["speaker"])
    assert api.client.patch(f"{RECS}/{rid}/segments/{second['id']}", headers=rev,
                            json={"speaker": other}).status_code == 200

    assert api.client.post(f"{RECS}/{rid}/review/approve", headers=rev).status_code == 200
    res = api.h("researcher")
    txt = api.client.get(f"/api/v1/library/{rid}?format=txt", headers=res)
    assert txt.status_code == 200, txt.text
    assert all(right in txt.text for right in corrected)
    assert "design" not in txt.text and "deep" not in txt.text
    for name in ("Margaret", "Thornbury", "Diane"):
        assert name not in txt.text
    assert "difference, [Person" in txt.text
    doc = api.client.get(f"/api/v1/library/{rid}?format=json", headers=res).json()
    assert len(doc["segments"]) == len(segments) + 1 and doc["revision"] == 1
    split_second = doc["segments"][seg["id"] + 1]
    assert split_second["text"].strip().startswith("[Person") and split_second["speaker"] == other
    assert split_second["speaker_label"] != doc["segments"][seg["id"]]["speaker_label"]
    assert "Margaret" not in repr(doc) and "Diane" not in repr(doc)
