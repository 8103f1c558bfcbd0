"""Correcting a transcript during review, through the API: edit a segment's text and speaker, split, merge, undo;
redaction follows the edits (decisions on unchanged spans kept, a typed-in name caught, names from the recording and
the study); approval builds from the corrected text; approved reviews are read-only until an admin reopens them;
the versions go with the raw transcript. Transcripts are saved the way the worker saves them (no ASR here; the
detector is the real one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.lifecycle import App, audit_rows, frozen, quiet_app, save_as_worker, sweep

RECS = "/api/v1/recordings"
LINES = [
    "Hello hello",
    "This is Diane in New Jersey",
    "Needs a design okay",
    "and that was it",
]


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Iterator[App]:
    with frozen() as clock, quiet_app(tmp_path, db_url) as app:
        app.clock = clock  # type: ignore[attr-defined]
        yield app


@pytest.fixture
def rid(app: App, media: dict[str, Path]) -> str:
    rid = app.upload(media["m4a"].read_bytes(), known_names="Zbigniew Qwertyson")
    save_as_worker(app, rid, LINES, marks={"Diane": "PERSON"})
    return rid


def review(app: App, rid: str, role: str = "reviewer") -> dict:
    resp = app.client.get(f"{RECS}/{rid}/review", headers=app.h(role))
    assert resp.status_code == 200, resp.text
    return resp.json()


def edit(app: App, rid: str, n: int, role: str = "reviewer", **body: object):  # type: ignore[no-untyped-def]
    return app.client.patch(f"{RECS}/{rid}/segments/{n}", headers=app.h(role), json=body)


def spans_in(body: dict, segment: int) -> list[dict]:
    return sorted((s for s in body["spans"] if s["segment"] == segment), key=lambda s: s["start"])


def test_edit_keeps_decisions_catches_typed_names_and_undoes(app: App, rid: str) -> None:
    before = review(app, rid)
    [diane] = [s for s in before["spans"] if s["text"] == "Diane"]
    assert app.client.patch(f"{RECS}/{rid}/review/spans/{diane['id']}", headers=app.h("reviewer"),
                            json={"action": "accept", "label": "PERSON"}).json()["status"] == "accepted"

    # A misheard phrase corrected: unchanged words keep their times, new ones are marked edited.
    resp = edit(app, rid, 2, text="Neither did I. Okay")
    assert resp.status_code == 200, resp.text
    assert resp.json()["version"] == 1 and resp.json()["words_kept"] == 0 and resp.json()["words_changed"] == 4
    body = review(app, rid)
    seg = body["segments"][2]
    assert seg["text"] == " Neither did I. Okay" and seg["edited"] is True
    assert all(w.get("edited") and "probability" not in w for w in seg["words"])
    old_words = before["segments"][2]["words"]
    assert seg["words"][0]["start"] == pytest.approx(old_words[0]["start"], abs=1e-3)
    assert seg["words"][-1]["end"] == pytest.approx(old_words[-1]["end"], abs=1e-3)
    assert body["history"] == {"edits": 1, "undo": "edit"}

    # The segment with the accepted name edited around it: the decision stays, on the same span.
    resp = edit(app, rid, 1, text="Well, this is Diane in New Jersey now")
    assert resp.status_code == 200, resp.text
    # Nothing dropped ("Diane" and the characters around it are unchanged); the edited text was detected again.
    assert (resp.json()["spans_dropped"], resp.json()["spans_added"]) == (0, 1)
    body = review(app, rid)
    kept = next(s for s in body["spans"] if s["id"] == diane["id"])
    assert (kept["text"], kept["status"], kept["segment"]) == ("Diane", "accepted", 1)
    # The rest of the segment was detected again (New Jersey, pending: nobody decided it).
    assert any(s["text"] == "New Jersey" and s["status"] == "pending" for s in spans_in(body, 1))

    # Names typed in by the reviewer: one any layer knows, one only the upload's known names know.
    resp = edit(app, rid, 3, text="and Mark Bellamy told Qwertyson that was it")
    assert resp.status_code == 200 and resp.json()["spans_added"] >= 2, resp.text
    body = review(app, rid)
    found = {s["text"]: s for s in spans_in(body, 3)}
    assert "Mark Bellamy" in found and "Qwertyson" in found
    assert found["Qwertyson"]["status"] == "pending" and "known" in found["Qwertyson"]["layers"]
    assert found["Qwertyson"]["replacement"].startswith("[Person")

    # Undo the last edit: text and spans as they were; the decision on Diane survives both undos.
    resp = app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer"))
    assert resp.status_code == 200 and resp.json() == {"undone": "edit", "edits": 2, "undo": "edit"}
    body = review(app, rid)
    assert body["segments"][3]["text"] == " and that was it" and spans_in(body, 3) == []
    app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer"))
    body = review(app, rid)
    assert body["segments"][1]["text"] == " This is Diane in New Jersey"
    assert [(s["id"], s["status"]) for s in spans_in(body, 1)] == [(diane["id"], "accepted")]
    app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer"))
    assert [(s["id"], s["status"]) for s in review(app, rid)["spans"]] == [(diane["id"], "accepted")]
    assert [s["text"] for s in review(app, rid)["segments"]] == [s["text"] for s in before["segments"]]
    resp = app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer"))
    assert (resp.status_code, resp.json()["detail"]) == (409, "nothing to undo")

    # Every edit audited with counts and never a word of text.
    events = [e for e in audit_rows(app.runtime.engine) if e["action"].startswith("transcript.")]
    assert sum(e["action"] == "transcript.edit" for e in events) == 3
    assert sum(e["action"] == "transcript.undo" for e in events) == 3
    dumped = repr(events)
    for word in ("Neither", "Bellamy", "Qwertyson", "Well", "Diane"):
        assert word not in dumped


def test_split_merge_speaker_approve_reopen(app: App, rid: str) -> None:
    before = review(app, rid)
    # Roles: uploaders and researchers may not correct; reviewers and admins may.
    for role in ("uploader", "researcher"):
        for resp in (
            edit(app, rid, 0, role=role, text="x"),
            app.client.post(f"{RECS}/{rid}/segments/0/split", headers=app.h(role), json={"word": 1}),
            app.client.post(f"{RECS}/{rid}/segments/merge", headers=app.h(role), json={"segment": 0}),
            app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h(role)),
            app.client.post(f"{RECS}/{rid}/review/reopen", headers=app.h(role)),
        ):
            assert resp.status_code == 403, resp.text
    # Bad requests say what is wrong.
    assert edit(app, rid, 9, text="x").status_code == 404
    assert edit(app, rid, 0).status_code == 422
    assert edit(app, rid, 0, text="   ").status_code == 422
    assert edit(app, rid, 0, speaker="S9").status_code == 422
    assert edit(app, rid, 0, speaker="Diane").status_code == 422
    assert app.client.post(f"{RECS}/{rid}/segments/1/split", headers=app.h("reviewer"),
                           json={"word": 6}).status_code == 422
    assert app.client.post(f"{RECS}/{rid}/segments/merge", headers=app.h("reviewer"),
                           json={"segment": 3}).status_code == 404

    # Split "This is Diane | in New Jersey": the span goes with its word into the first part.
    resp = app.client.post(f"{RECS}/{rid}/segments/1/split", headers=app.h("admin"), json={"word": 3})
    assert resp.status_code == 200 and resp.json()["segments"] == 5, resp.text
    body = review(app, rid)
    assert [s["text"] for s in body["segments"][1:3]] == [" This is Diane", " in New Jersey"]
    # Each part spans its own words' times.
    old = before["segments"][1]["words"]
    assert (body["segments"][1]["start"], body["segments"][1]["end"]) == (old[0]["start"], old[2]["end"])
    assert (body["segments"][2]["start"], body["segments"][2]["end"]) == (old[3]["start"], old[-1]["end"])
    assert [s["text"] for s in spans_in(body, 1)] == ["Diane"]
    # The second part is "Diane" speaking: relabelled.
    assert edit(app, rid, 2, speaker="S1").status_code == 200
    assert review(app, rid)["segments"][2]["speaker"] == "S1"
    # Merge the last two.
    resp = app.client.post(f"{RECS}/{rid}/segments/merge", headers=app.h("reviewer"), json={"segment": 3})
    assert resp.status_code == 200 and resp.json()["segments"] == 4
    assert review(app, rid)["segments"][3]["text"] == " Needs a design okay and that was it"
    assert edit(app, rid, 3, text="Neither did I. Okay, and that was it").status_code == 200

    resp = app.client.post(f"{RECS}/{rid}/review/approve", headers=app.h("reviewer"))
    assert resp.status_code == 200 and resp.json()["segments"] == 4
    doc = app.client.get(f"{RECS}/{rid}/anonymised", headers=app.h("reviewer")).json()
    texts = [s["text"] for s in doc["segments"]]
    assert texts[3] == " Neither did I. Okay, and that was it"
    assert texts[1].startswith(" This is [Person") and "Diane" not in repr(doc)
    assert doc["segments"][2]["speaker"] == "S1"
    library = app.client.get("/api/v1/library", headers=app.h("researcher")).json()["items"]
    assert [i["revision"] for i in library if i["id"] == rid] == [1]

    # Approved: read-only.
    for resp in (
        edit(app, rid, 0, text="changed"),
        app.client.post(f"{RECS}/{rid}/segments/0/split", headers=app.h("reviewer"), json={"word": 1}),
        app.client.post(f"{RECS}/{rid}/segments/merge", headers=app.h("reviewer"), json={"segment": 0}),
        app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer")),
    ):
        assert resp.status_code == 409 and "approved" in resp.json()["detail"], resp.text
    # Only an admin reopens; the corrections are the starting point, and nothing undoes past the approval.
    assert app.client.post(f"{RECS}/{rid}/review/reopen", headers=app.h("reviewer")).status_code == 403
    resp = app.client.post(f"{RECS}/{rid}/review/reopen", headers=app.h("admin"))
    assert resp.status_code == 200 and resp.json() == {"id": rid, "status": "needs_review", "revision": 1}
    assert app.client.post(f"{RECS}/{rid}/review/reopen", headers=app.h("admin")).status_code == 409
    body = review(app, rid)
    assert body["history"] == {"edits": 0, "undo": None} and len(body["segments"]) == 4
    assert app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer")).status_code == 409
    assert edit(app, rid, 0, text="Hello, hello").status_code == 200
    assert app.client.post(f"{RECS}/{rid}/review/approve", headers=app.h("reviewer")).status_code == 200
    doc = app.client.get(f"{RECS}/{rid}/anonymised", headers=app.h("reviewer")).json()
    assert doc["segments"][0]["text"] == " Hello, hello" and doc["segments"][3]["text"].startswith(" Neither")
    library = app.client.get("/api/v1/library", headers=app.h("researcher")).json()["items"]
    assert [i["revision"] for i in library if i["id"] == rid] == [2]
    events = {e["action"]: e for e in audit_rows(app.runtime.engine)}
    assert events["review.reopen"]["details"] == {"revision": 1}
    assert events["transcript.approve"]["details"]["revision"] == 2
    # After approval only the approved text is kept as a version.
    with app.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM transcript_versions")).scalar_one() == 1


def test_names_from_the_study_are_caught_and_versions_go_with_the_raw_transcript(
    app: App, rid: str, media: dict[str, Path]
) -> None:
    # Another participant's approved transcript redacted "Xandru Plimmet": typed here, it is caught as well.
    other = app.upload(media["m4a"].read_bytes(), code="P08")
    save_as_worker(app, other, ["I was with Xandru Plimmet"], marks={"Xandru Plimmet": "PERSON"})
    assert app.client.post(f"{RECS}/{other}/review/approve", headers=app.h("reviewer")).status_code == 200
    assert edit(app, rid, 3, text="and Plimmet said that was it").status_code == 200
    body = review(app, rid)
    assert [s["text"] for s in spans_in(body, 3)] == ["Plimmet"]

    with app.runtime.engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT key_id FROM transcript_versions")).scalars().all()
    assert len(keys) == 1
    app.clock.advance(days=91)  # type: ignore[attr-defined]
    sweep(app)  # never approved: the raw transcript's maximum age
    with app.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM transcript_versions")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM data_keys WHERE id = :k"), {"k": keys[0]}).scalar_one() == 0
    resp = edit(app, rid, 0, text="Hello")
    assert resp.status_code == 410, resp.text
    assert app.client.post(f"{RECS}/{rid}/segments/undo", headers=app.h("reviewer")).status_code == 410
    # An approved review can no longer be reopened once its raw transcript is gone (approved + 30 days).
    resp = app.client.post(f"{RECS}/{other}/review/reopen", headers=app.h("admin"))
    assert resp.status_code == 410 and "final" in resp.json()["detail"]


def test_two_reviewers_editing_at_once_both_land(tmp_path: Path, pg_url: str, media: dict[str, Path]) -> None:
    """Each edit locks the transcript while it reads and writes it: the second applies to the first's result."""
    from concurrent.futures import ThreadPoolExecutor

    with frozen(), quiet_app(tmp_path, pg_url) as app:
        rid = app.upload(media["m4a"].read_bytes())
        save_as_worker(app, rid, LINES)
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda n: edit(app, rid, n, text=f"Edited segment {n} here"), (0, 3)))
        assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
        assert sorted(r.json()["version"] for r in results) == [1, 2]
        texts = [s["text"] for s in review(app, rid)["segments"]]
        assert texts[0] == " Edited segment 0 here" and texts[3] == " Edited segment 3 here"


def test_a_withdrawal_shreds_the_corrections_too(app: App, rid: str) -> None:
    assert edit(app, rid, 0, text="Hello, Quentin Zabriskie").status_code == 200
    assert edit(app, rid, 3, text="and that was really it").status_code == 200
    with app.runtime.engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT key_id FROM transcript_versions")).scalars().all()
    assert len(keys) == 2
    resp = app.client.post("/api/v1/participants/P07/withdrawal", headers=app.h("admin"))
    assert resp.status_code == 200, resp.text
    # The audio's key, the raw transcript's and each version's.
    assert resp.json()["deleted"]["data_keys"] == 4
    with app.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM transcript_versions")).scalar_one() == 0
        for key in keys:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM data_keys WHERE id = :k"), {"k": key}).scalar_one() == 0


def test_a_reopened_review_keeps_its_raw_transcript_until_approved_again(app: App, rid: str) -> None:
    """Retention counts from the approval that stands: while an admin's reopened review is open, the raw transcript
    (and with it the corrections) must not be swept away mid-edit, nor the review cancelled when the audio reaches
    its maximum age; the new approval restarts the count."""
    reviewer, admin = app.h("reviewer"), app.h("admin")
    assert app.client.post(f"{RECS}/{rid}/review/approve", headers=reviewer).status_code == 200
    app.clock.advance(days=20)  # type: ignore[attr-defined]
    assert app.client.post(f"{RECS}/{rid}/review/reopen", headers=admin).status_code == 200
    app.clock.advance(days=15)  # type: ignore[attr-defined]  # 35 days after the first approval
    report = sweep(app)
    # The audio reached its maximum age and went; the reopened review goes on (it is a text step) and keeps the raw
    # transcript, although the first approval is more than the raw transcript's 30 days ago.
    assert [a["recording_id"] for a in report.audio_deleted] == [rid] and report.raw_transcripts_deleted == []
    assert edit(app, rid, 0, text="Hello again").status_code == 200
    assert app.client.post(f"{RECS}/{rid}/review/approve", headers=reviewer).status_code == 200
    app.clock.advance(days=29)  # type: ignore[attr-defined]
    sweep(app)
    assert app.client.post(f"{RECS}/{rid}/review/reopen", headers=admin).status_code == 200  # still there
    assert app.client.post(f"{RECS}/{rid}/review/approve", headers=reviewer).status_code == 200
    app.clock.advance(days=31)  # type: ignore[attr-defined]
    sweep(app)
    resp = app.client.post(f"{RECS}/{rid}/review/reopen", headers=admin)
    assert resp.status_code == 410, resp.text
