"""The interviewer by voice, the real way: two AMI recordings that share a speaker (MEE009 talks in dev00 and dev01)
go through the API and the worker (tiny.en, diarisation on). A reviewer confirms dev00's MEE009 slot as Interviewer and
enrols it; dev01, uploaded afterwards, comes back with MEE009's slot labelled Interviewer and its voice-match score,
shown on the review page. A participant slot cannot be enrolled; an admin's deletion crypto-shreds the profile."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.voiceprint import DEFAULT_THRESHOLD
from tests.support.apps import Api, upload, wait_for_job
from tests.support.paths import shared

RECS = "/api/v1/recordings"
PROFILES = "/api/v1/voice-profiles"
SPEAKER = "MEE009"


def _reference(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return out


def _slot_of(turns: list[dict], reference: list[tuple[float, float, str]], speaker: str) -> str:
    """The diarised slot that overlaps the reference speaker's turns the most."""
    by: dict[str, float] = defaultdict(float)
    for t in turns:
        for s, e, who in reference:
            if who == speaker:
                by[t["speaker"]] += max(0.0, min(e, t["end"]) - max(s, t["start"]))
    return max(by, key=by.__getitem__)


def _transcribed(api: Api, stem: str, *, voices: int = 1) -> tuple[str, str, list[dict]]:
    """(recording id, the slot MEE009 speaks as, all slots) after the worker is done."""
    resp = upload(api.client, api.h("uploader"), shared(f"pyannote_ami_{stem}.wav"))
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    assert wait_for_job(api.client, api.h("admin"), rid, timeout=600)["status"] == "needs_review"
    transcript = api.client.get(f"{RECS}/{rid}/transcript", headers=api.h("reviewer")).json()
    slot = _slot_of(transcript["speaker_turns"], _reference(shared(f"pyannote_ami_{stem}.rttm")), SPEAKER)
    slots = api.client.get(f"{RECS}/{rid}/speakers", headers=api.h("reviewer")).json()
    assert len(slots) >= voices, slots
    return rid, slot, slots


def _rows(api: Api, sql: str, **params: object) -> list[tuple]:
    with api.client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def _sign_in(api: Api, role: str) -> None:
    form = api.client.get("/signin")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    api.client.post("/signin", data={"csrf": nonce, "token": api.tokens[role], "next": "/"})


@pytest.mark.full_pipeline
@pytest.mark.slow
def test_an_enrolled_interviewer_is_recognised_in_the_next_recording(api: Api) -> None:
    first, slot, slots = _transcribed(api, "dev00", voices=2)  # MEE009 and MEE012 told apart
    others = [s["slot"] for s in slots if s["slot"] != slot]
    # Before any profile, the heuristic decides and no slot shows a voice match.
    assert all(s["voice_match"] is None for s in slots)

    # The reviewer confirms the roles: MEE009 is the interviewer, everyone else a participant.
    roles = {slot: "Interviewer", **{o: "Participant" for o in others}}
    assert api.client.patch(f"{RECS}/{first}/speakers", headers=api.h("reviewer"), json={"roles": roles}).is_success

    # Never a participant's voice (nor an uploader's call, nor a slot that does not exist).
    refused = api.client.post(f"{RECS}/{first}/speakers/{others[0]}/voice-profile", headers=api.h("reviewer"))
    assert refused.status_code == 422 and "research staff" in refused.json()["detail"]
    assert api.client.post(f"{RECS}/{first}/speakers/{slot}/voice-profile",
                           headers=api.h("uploader")).status_code == 403
    assert api.client.post(f"{RECS}/{first}/speakers/S9/voice-profile",
                           headers=api.h("reviewer")).status_code == 404
    assert _rows(api, "SELECT id FROM voice_profiles") == []

    enrolled = api.client.post(f"{RECS}/{first}/speakers/{slot}/voice-profile", headers=api.h("reviewer"))
    assert enrolled.status_code == 201, enrolled.text
    profile = enrolled.json()
    assert (profile["role"], profile["study"], profile["source_recording_id"], profile["source_slot"]) == (
        "Interviewer", "default", first, slot)
    assert [p["id"] for p in api.client.get(PROFILES, headers=api.h("reviewer")).json()] == [profile["id"]]
    [(key_id, ciphertext)] = _rows(api, "SELECT key_id, ciphertext FROM voice_profiles")
    # Sealed: 192 float32 values plus the AEAD's nonce and tag, and nothing readable.
    assert len(bytes(ciphertext)) > 192 * 4 and b"Interviewer" not in bytes(ciphertext)
    assert _rows(api, "SELECT purpose FROM data_keys WHERE id = :k", k=key_id) == [("voice_profile",)]

    second, expected, slots = _transcribed(api, "dev01")
    by_slot = {s["slot"]: s for s in slots}
    assert by_slot[expected]["role"] == "Interviewer", slots
    assert by_slot[expected]["voice_match"] >= DEFAULT_THRESHOLD
    assert by_slot[expected]["guessed"] is True  # still a guess for the reviewer, now with a score
    assert [s["slot"] for s in slots if s["role"] == "Interviewer"] == [expected]
    assert all(s["voice_match"] is None for s in slots if s["slot"] != expected)
    [(details,)] = _rows(api, "SELECT details FROM audit_events WHERE action = 'transcript.create' "
                              "AND object_id = :r", r=second)
    assert '"voice_matches": 1' in str(details).replace("'", '"')

    # The review page says why the slot is the interviewer.
    _sign_in(api, "reviewer")
    page = api.client.get(f"/review/{second}")
    assert page.status_code == 200
    score = f"{by_slot[expected]['voice_match']:.2f}"
    assert f"Interviewer (voice match {score})" in page.text

    # Deleting is for admins; it destroys the key and the row, and the audit trail holds ids only.
    assert api.client.delete(f"{PROFILES}/{profile['id']}", headers=api.h("reviewer")).status_code == 403
    assert api.client.delete(f"{PROFILES}/{profile['id']}", headers=api.h("admin")).status_code == 204
    assert _rows(api, "SELECT id FROM voice_profiles") == []
    assert _rows(api, "SELECT id FROM data_keys WHERE id = :k", k=key_id) == []
    assert api.client.delete(f"{PROFILES}/{profile['id']}", headers=api.h("admin")).status_code == 404
    events = _rows(api, "SELECT action, object_type, details FROM audit_events WHERE action LIKE 'voice_profile.%' "
                        "ORDER BY id")
    # The enrolment is filed under the recording (whose id a withdrawal blanks), the deletion under the profile.
    assert [(a, t) for a, t, _ in events] == [("voice_profile.enrol", "recording"), ("voice_profile.delete",
                                                                                     "voice_profile")]
    for _, _, details in events:
        assert set(details if isinstance(details, dict) else {}) <= {"profile", "slot", "study_profiles_left"}


@pytest.mark.slow
def test_no_voiceprint_without_diarisation(api: Api, media: dict[str, Path]) -> None:
    """With diarisation off there is one slot and no centroid: a confirmed interviewer still cannot be enrolled."""
    resp = upload(api.client, api.h("uploader"), media["m4a"])
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    assert wait_for_job(api.client, api.h("admin"), rid)["status"] == "needs_review"
    url = f"{RECS}/{rid}/speakers/S1/voice-profile"
    # A guess is not a confirmation.
    api.client.patch(f"{RECS}/{rid}/speakers", headers=api.h("reviewer"), json={"roles": {"S1": "Participant"}})
    assert api.client.post(url, headers=api.h("reviewer")).status_code == 422
    api.client.patch(f"{RECS}/{rid}/speakers", headers=api.h("reviewer"), json={"roles": {"S1": "Interviewer"}})
    refused = api.client.post(url, headers=api.h("admin"))
    assert refused.status_code == 409 and "no voiceprint" in refused.json()["detail"]
    assert api.client.post(f"{RECS}/{rid}/speakers/X1/voice-profile", headers=api.h("admin")).status_code == 422
    assert api.client.delete(f"{PROFILES}/not-an-id", headers=api.h("admin")).status_code == 422
    assert api.client.get(PROFILES, headers=api.h("researcher")).status_code == 403
    assert api.client.get(PROFILES, headers=api.h("admin")).json() == []
