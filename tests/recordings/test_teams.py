"""Microsoft Teams transcripts: parsed for voices, sealed with the audio, never shown."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from harness.synth import INTERVIEW, dialogue, write_wav
from pipeline.align import reconcile_with_voices
from pipeline.diarise import Turn
from pipeline.teams import TeamsCue, TeamsTranscriptError, parse_teams_vtt, voice_names
from tests.support.apps import wait_for_job
from tests.support.dates import interview_date

TEAMS_VTT = """WEBVTT

0f1b2c3d-1/12-0
00:00:00.500 --> 00:00:05.120
<v Harriet Okonkwo-Baines>Thank you for agreeing to talk to me today.</v>

0f1b2c3d-1/12-1
00:00:05.900 --> 00:00:11.000
<v Gareth Pryce-Lloyd>Of course. I have worked in the unit for six years.</v>
"""


def test_parse_teams_vtt_voices_and_times() -> None:
    cues = parse_teams_vtt("\ufeff" + TEAMS_VTT)
    assert cues == [
        TeamsCue(0.5, 5.12, "Harriet Okonkwo-Baines"),
        TeamsCue(5.9, 11.0, "Gareth Pryce-Lloyd"),
    ]
    assert voice_names(cues) == ["Harriet Okonkwo-Baines", "Gareth Pryce-Lloyd"]
    hours = parse_teams_vtt("WEBVTT\n\n01:02:03.250 --> 01:02:04.000\n<v.loud A B>hi</v>\n")
    assert hours == [TeamsCue(3723.25, 3724.0, "A B")]


@pytest.mark.parametrize("bad", ["", "hello", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nno voice here\n"])
def test_parse_teams_vtt_rejects_unusable(bad: str) -> None:
    with pytest.raises(TeamsTranscriptError):
        parse_teams_vtt(bad)


def test_reconcile_merges_a_split_person_only_when_clusters_outnumber_voices() -> None:
    cues = [TeamsCue(0, 10, "Ann"), TeamsCue(10, 20, "Bob"), TeamsCue(20, 30, "Ann")]
    # The diariser split Ann in two (X early, Z late).
    turns = [Turn(0, 9.5, "X"), Turn(10.2, 19.8, "Y"), Turn(20.1, 29.9, "Z")]
    merged, sources = reconcile_with_voices(turns, cues)
    assert [t.speaker for t in merged] == ["X", "Y", "X"] or [t.speaker for t in merged] == ["Z", "Y", "Z"]
    assert set(sources.values()) == {0, 1}
    # As many clusters as voices: nothing is merged, even if the match is fuzzy.
    same, _ = reconcile_with_voices(turns[:2], cues[:2])
    assert [t.speaker for t in same] == ["X", "Y"]


@pytest.mark.slow
@pytest.mark.full_pipeline
def test_upload_with_teams_transcript_never_shows_names(api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    audio, utts = dialogue(INTERVIEW[:4])
    wav = write_wav(tmp_path / "interview.wav", audio)
    names = {"A": "Harriet Okonkwo-Baines", "B": "Gareth Pryce-Lloyd"}
    vtt = "WEBVTT\n\n" + "\n".join(
        f"{i}\n00:00:{u.start:06.3f} --> 00:00:{u.end:06.3f}\n<v {names[u.speaker]}>{u.text}</v>\n"
        for i, u in enumerate(utts)
    )
    with open(wav, "rb") as fh:
        resp = api.client.post(
            "/api/v1/recordings",
            headers=api.h("uploader"),
            data={"participant_code": "P31", "cohort": "victim", "interview_date": interview_date()},
            files=[("file", ("interview.wav", fh)), ("teams_transcript", ("Harriet Okonkwo-Baines.vtt", vtt))],
        )
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    assert wait_for_job(api.client, api.h("uploader"), rid, timeout=300)["status"] == "needs_review"
    data = api.client.get(f"/api/v1/recordings/{rid}/transcript", headers=api.h("reviewer"))
    assert {sp["label"] for sp in data.json()["speakers"]} == {"Interviewer", "Victim"}
    for fmt in ("json", "txt", "vtt", "rttm"):
        body = api.client.get(f"/api/v1/recordings/{rid}/transcript?format={fmt}", headers=api.h("reviewer")).text
        for name in names.values():
            for part in name.replace("-", " ").split():
                assert part not in body, (fmt, part)
    runtime = api.client.app.state.runtime
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT ciphertext FROM recording_attachments")).all()
        assert len(rows) == 1 and b"Harriet" not in bytes(rows[0][0]) and b"WEBVTT" not in bytes(rows[0][0])
    # The Teams file goes with the recording.
    assert api.client.delete(f"/api/v1/recordings/{rid}", headers=api.h("admin")).status_code == 204
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM recording_attachments")).scalar_one() == 0


def test_bad_teams_transcript_is_rejected_and_nothing_kept(api, media) -> None:  # type: ignore[no-untyped-def]
    with open(media["wav_mono"], "rb") as fh:
        resp = api.client.post(
            "/api/v1/recordings",
            headers=api.h("uploader"),
            data={"participant_code": "P32", "cohort": "police", "interview_date": interview_date()},
            files=[("file", ("a.wav", fh)), ("teams_transcript", ("t.vtt", "not a transcript"))],
        )
    assert resp.status_code == 422 and "Teams transcript" in resp.json()["detail"]
    assert api.client.get("/api/v1/recordings", headers=api.h("admin")).json()["total"] == 0
    assert not list((api.settings.data_dir / "blobs").rglob("*.blob"))


def _docx(paragraphs: list[str]) -> bytes:
    import io

    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_parse_teams_docx_both_layouts() -> None:
    from pipeline.teams import parse_teams_transcript

    older = _docx(["0:0:0.500 --> 0:0:5.120", "Harriet Okonkwo-Baines", "Thank you for agreeing to talk to me.",
                   "0:0:5.900 --> 0:0:11.0", "Gareth Pryce-Lloyd", "Of course."])
    cues = parse_teams_transcript(older)
    assert [(c.voice, c.start, c.end) for c in cues] == [
        ("Harriet Okonkwo-Baines", 0.5, 5.12), ("Gareth Pryce-Lloyd", 5.9, 11.0)]
    newer = _docx(["Interview transcript", "Harriet Okonkwo-Baines   0:03", "Thank you for agreeing.",
                   "Gareth Pryce-Lloyd   0:09", "Of course.", "Harriet Okonkwo-Baines   1:02:07", "Thanks."])
    cues = parse_teams_transcript(newer)
    assert [(c.voice, c.start) for c in cues] == [
        ("Harriet Okonkwo-Baines", 3), ("Gareth Pryce-Lloyd", 9), ("Harriet Okonkwo-Baines", 3727)]
    assert cues[0].end == 9  # open-ended turns close at the next one
    with pytest.raises(TeamsTranscriptError):
        parse_teams_transcript(_docx(["just some notes", "no speakers here"]))
    with pytest.raises(TeamsTranscriptError):
        parse_teams_transcript(b"PK\x03\x04 not really a zip")


def test_docx_upload_is_sealed_and_names_reach_the_deny_list(api, media, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workers import tasks

    seen = {}

    def fake_pipeline(reader, *, asr, **kwargs):  # type: ignore[no-untyped-def]
        seen["cues"] = kwargs.get("reference_cues")
        seen["hotwords"] = asr.hotwords
        seen["respell_names"] = kwargs.get("respell_names")
        raise RuntimeError("stop here")

    monkeypatch.setattr(tasks, "run_pipeline", fake_pipeline)
    data = _docx(["Harriet Okonkwo-Baines   0:03", "Hello.", "Gareth Pryce-Lloyd   0:05", "Hi."])
    runtime = api.client.app.state.runtime
    runtime.queue.stop()  # drive the job by hand
    with open(media["wav_mono"], "rb") as fh:
        resp = api.client.post(
            "/api/v1/recordings", headers=api.h("uploader"),
            data={"participant_code": "P33", "cohort": "police", "interview_date": interview_date()},
            files=[("file", ("a.wav", fh)), ("teams_transcript", ("meeting.docx", data))],
        )
    assert resp.status_code == 202, resp.text
    job_id = api.client.get(f"/api/v1/recordings/{resp.json()['id']}", headers=api.h("admin")).json()["job"]["id"]
    tasks.process_recording(job_id, runtime=runtime)
    assert [c.voice for c in seen["cues"]] == ["Harriet Okonkwo-Baines", "Gareth Pryce-Lloyd"]
    # The Teams voices' names are respelled and redacted from the cues (run_pipeline adds them), not hotwords.
    assert seen["hotwords"] is None and seen["respell_names"] is True
    with runtime.engine.connect() as conn:
        (cipher,) = conn.execute(sa.text("SELECT ciphertext FROM recording_attachments")).one()
    assert b"Harriet" not in bytes(cipher) and b"word/document.xml" not in bytes(cipher)
    bad = api.client.post(
        "/api/v1/recordings", headers=api.h("uploader"),
        data={"participant_code": "P34", "cohort": "police", "interview_date": interview_date()},
        files=[("file", ("a.wav", media["wav_mono"].read_bytes())), ("teams_transcript", ("x.docx", _docx(["notes"])))],
    )
    assert bad.status_code == 422 and "Teams transcript" in bad.json()["detail"]
