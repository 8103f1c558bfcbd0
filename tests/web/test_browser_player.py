"""The review page's player in Debian's headless Chromium (Selenium, the system driver; see test_browser.py).

A synthesised interview is uploaded through the API of a live server without workers, and given a hand-made
transcript whose segments are the utterances' real times (one word Whisper doubted, one flagged segment). The
reviewer clicks a segment's time: the media element plays from there (its `currentTime` passes the segment's
start) and the segment gets the playing highlight; the keyboard moves forward, speeds up and jumps to the next
uncertain word. The browser fetched the audio in ranges, and that was one audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.support.apps import LiveServer, make_settings, serve
from tests.support.dates import interview_date
from tests.web.test_browser import Walk, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

LINES = [
    ("A", "Thank you for coming in today. Could you tell me about your work?"),
    ("B", "I answer calls from the public and pass them on to the right team."),
    ("A", "What happens when a call is about images shared online?"),
    ("B", "We log it, and a specialist officer calls the victim back the same day."),
]
LOW_WORD = (2, 1)  # segment, word: "happens", as Whisper doubted it
FLAGGED = 3  # a segment the pipeline flagged


def transcript(utterances: list[Any]) -> dict[str, Any]:
    segments = []
    for i, u in enumerate(utterances):
        tokens = u.text.split()
        step = (u.end - u.start) / len(tokens)
        words = [{"start": round(u.start + j * step, 3), "end": round(u.start + (j + 1) * step, 3),
                  "text": (" " if j else "") + tok, "probability": 0.2 if (i, j) == LOW_WORD else 0.95,
                  "speaker": u.speaker, "overlap": False} for j, tok in enumerate(tokens)]
        segments.append({"id": i, "start": u.start, "end": u.end, "text": u.text, "words": words,
                         "flags": ["repetition"] if i == FLAGGED else [], "speaker": f"S{1 if u.speaker == 'A' else 2}",
                         "avg_logprob": -0.2, "no_speech_prob": 0.01, "compression_ratio": 1.3})
    return {"segments": segments, "language": "en", "duration": utterances[-1].end, "model": "hand-made",
            "speakers": [{"slot": s, "role": r, "talk_time": 1.0, "questions": 0, "first_start": 0.0,
                          "teams_voice": None} for s, r in (("S1", "Interviewer"), ("S2", "Participant"))],
            "speaker_turns": []}


def attach(runtime: Any, recording_id: str, raw: dict[str, Any]) -> None:
    from service.core.db import session_scope
    from service.recordings import jobs
    from service.recordings.models import JobState
    from service.speakers import service as speakers
    from service.transcripts import service as transcripts

    with session_scope(runtime.sessions) as s:
        job = jobs.get_for_recording(db_session=s, recording_id=recording_id)
        job.state = JobState.needs_review.value  # type: ignore[union-attr]
        transcripts.save_raw(db_session=s, sealed=runtime.sealed, recording_id=recording_id, transcript=raw)
        speakers.init_from_transcript(db_session=s, recording_id=recording_id, speakers=raw["speakers"])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}")
    with serve(settings, start_workers=False) as live:
        yield live


def upload_dialogue(server: LiveServer, tmp_path: Path) -> tuple[str, list[Any]]:
    """The scripted dialogue, synthesised and uploaded through the API; its recording id and utterances."""
    from harness import synth

    audio, utterances = synth.dialogue(LINES)
    wav = synth.write_wav(tmp_path / "interview.wav", audio)
    uploader = {"Authorization": f"Bearer {server.tokens['uploader']}"}
    resp = httpx.post(f"{server.url}/api/v1/recordings", headers=uploader,
                      data={"participant_code": f"P{uuid.uuid4().hex[:4]}", "cohort": "police",
                            "interview_date": interview_date()},
                      files={"file": ("interview.wav", wav.read_bytes(), "audio/wav")}, timeout=60)
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    return rid, utterances


def test_click_a_segment_and_it_plays_highlighted(server: LiveServer, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    rid, utterances = upload_dialogue(server, tmp_path)
    attach(server.runtime, rid, transcript(utterances))

    w = Walk(browser, server.url)
    w.sign_in(server.tokens["reviewer"])
    w.go(f"/review/{rid}")
    player = w.css("#player")
    assert w.css("#shortcuts").is_displayed() and "next / previous uncertain" in w.css("#shortcuts").get_attribute(
        "textContent")
    target = w.css("#seg-1")
    start = float(target.get_attribute("data-start"))
    assert start == utterances[1].start and "playing" not in target.get_attribute("class")
    target.find_element(w.By.CSS_SELECTOR, "a.time").click()

    def now() -> float:
        return float(w.d.execute_script("return arguments[0].currentTime;", player))

    w.wait(lambda: now() > start + 0.3, 20, "playback past the segment's start")
    assert w.d.execute_script("return arguments[0].paused;", player) is False
    assert "playing" in w.css("#seg-1").get_attribute("class")
    assert [li.get_attribute("id") for li in w.all("li.playing")] == ["seg-1"]
    w.shot("review-player", readme=True)

    # The keyboard: faster, then the next uncertain item (the doubted word of segment 2, then flagged segment 3).
    body = w.css("body")
    body.send_keys("]")
    assert w.css("#rate").text == "1.25\u00d7"
    assert float(w.d.execute_script("return arguments[0].playbackRate;", player)) == 1.25
    low = w.css("#seg-2 .w-low")
    body.send_keys("n")
    w.wait(lambda: abs(now() - float(low.get_attribute("data-start"))) < 1.0, 10, "jump to the doubted word")
    w.wait(lambda: "playing" in w.css("#seg-2").get_attribute("class"), 10, "segment 2 highlighted")
    body.send_keys("n")
    w.wait(lambda: now() >= utterances[FLAGGED].start - 0.01, 10, "jump to the flagged segment")
    assert "repetition" in w.css(f"#seg-{FLAGGED} .meta").text
    body.send_keys("k")
    w.wait(lambda: w.d.execute_script("return arguments[0].paused;", player), 5, "pause")

    # However many ranges the player fetched: one listening event, for this reviewer.
    with server.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        events = conn.execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE action = 'recording.listen' "
                                      "AND object_id = :r"), {"r": rid}).scalar_one()
    assert events == 1


def test_correct_a_word_type_a_name_split_relabel_and_approve(
    server: LiveServer, browser: Any, tmp_path: Path  # noqa: F811
) -> None:
    """The editor in the browser: open a segment's Edit, fix a misheard word and type a name, save (a plain form
    POST); split the next segment and give its second half to the other voice; approve. The library's text has the
    correction, and the typed name is redacted."""
    from selenium.webdriver.support.ui import Select

    rid, utterances = upload_dialogue(server, tmp_path)
    raw = transcript(utterances)
    raw["segments"][1]["text"] = raw["segments"][1]["text"].replace("public", "pubic")  # what Whisper misheard
    raw["segments"][1]["words"][5]["text"] = " pubic"
    attach(server.runtime, rid, raw)

    w = Walk(browser, server.url)
    w.sign_in(server.tokens["reviewer"])
    w.go(f"/review/{rid}")
    w.css("#edit-1 > summary").click()
    box = w.css("#text-1")
    assert box.get_attribute("value") == raw["segments"][1]["text"]
    box.clear()
    box.send_keys("I answer calls from the public, Dawn Okafor among them, and pass them on to the right team.")
    w.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", w.css("#seg-1"))
    w.shot("review-editor", readme=True)
    w.css("#edit-1 form.edit-text button[type='submit']").click()
    w.wait(lambda: "msg=edited" in w.path(), 20, "the edit saved")
    seg = w.css("#seg-1")
    assert [f.text for f in w.all("#seg-1 .flag-edited")] == ["corrected"]
    assert "the public" in seg.text and "pubic" not in seg.text
    # The typed name is a span to decide, like any detected one.
    names = [a.text for a in w.all("#seg-1 a.span")]
    assert any("Okafor" in n for n in names), names
    # Unchanged words still play from their own time.
    assert seg.find_element(w.By.CSS_SELECTOR, ".w[data-start]").get_attribute("data-start") == str(
        raw["segments"][1]["words"][0]["start"])

    # Split segment 3 before "a specialist", and give the second half to the interviewer's voice.
    w.css("#edit-3 > summary").click()
    at = raw["segments"][3]["text"].split().index("a")
    Select(w.css("#split-3")).select_by_value(str(at))
    w.css("form[action$='/segments/3/split'] button").click()
    w.wait(lambda: "msg=split" in w.path(), 20, "the split")
    assert w.css("#seg-4").text.count("specialist") == 1
    w.css("#edit-4 > summary").click()
    Select(w.css("#speaker-4")).select_by_value("S1")
    w.css("#edit-4 form.edit-text button[type='submit']").click()
    w.wait(lambda: "msg=edited" in w.path(), 20, "the relabel")
    assert w.css("#undo-button").is_displayed()

    w.css("#approve-button").click()
    w.wait(lambda: "approved=true" in w.path(), 20, "approval")
    researcher = {"Authorization": f"Bearer {server.tokens['researcher']}"}
    text = httpx.get(f"{server.url}/api/v1/library/{rid}?format=txt", headers=researcher, timeout=30).text
    assert "from the public, [Person" in text and "Okafor" not in text and "pubic" not in text
    assert "Interviewer: a specialist officer calls the victim back the same day." in text
