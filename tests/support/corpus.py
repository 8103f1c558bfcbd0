"""Approved transcripts for library and export tests, made cheaply: a hand-written raw transcript full of real
identifiers goes through the real services (sealed raw transcript, speaker slots, the real redaction detector with
the recording's known names, approval with study-wide pseudonyms). Only Whisper is skipped."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from service.core.clock import utcnow
from service.core.db import session_scope
from service.recordings import jobs
from service.recordings.models import JobState, Recording
from service.redaction import service as redaction
from service.speakers import service as speakers
from service.transcripts import service as transcripts


@dataclass
class Interview:
    code: str
    cohort: str
    interview_date: date
    lines: list[tuple[str, str]]  # (slot, text)
    known_names: tuple[str, ...] = ()
    roles: dict[str, str] | None = None  # slot -> Interviewer | Participant | Other
    start_s: float = 0.5  # when the first segment starts


def raw_transcript(lines: list[tuple[str, str]], roles: dict[str, str], *, start_s: float = 0.5) -> dict[str, Any]:
    """Segments with word timings as the pipeline stores them: 0.4 s per word, 0.6 s between turns."""
    segments, turns, t = [], [], start_s
    for i, (slot, text) in enumerate(lines):
        words = []
        for j, token in enumerate(text.split()):
            start = round(t + 0.4 * j, 3)
            words.append({"start": start, "end": round(start + 0.35, 3), "text": (" " if j else "") + token,
                          "probability": 0.93, "speaker": slot, "overlap": False})
        end = words[-1]["end"]
        segments.append({"id": i, "start": t, "end": end, "text": text, "words": words, "avg_logprob": -0.2,
                         "no_speech_prob": 0.01, "compression_ratio": 1.4, "flags": [], "speaker": slot})
        turns.append({"start": t, "end": end, "speaker": slot})
        t = round(end + 0.6, 3)
    slots = list(dict.fromkeys(slot for slot, _ in lines))
    return {
        "segments": segments,
        "language": "en",
        "duration": t,
        "model": "hand-made",
        "speakers": [{"slot": s, "role": roles[s], "talk_time": 1.0, "questions": 0, "first_start": 0.0,
                      "teams_voice": None} for s in slots],
        "speaker_turns": turns,
    }


def make_transcript(runtime: Any, interview: Interview, *, uploader_id: int, approver_id: int | None,
                    approve: bool = True) -> str:
    from pipeline.redact import load_detector

    roles = interview.roles or {"S1": "Interviewer", "S2": "Participant", "S3": "Participant"}
    raw = raw_transcript(interview.lines, roles, start_s=interview.start_s)
    detector = load_detector(known_names=list(interview.known_names))
    found = detector.detect_document([s["text"] for s in raw["segments"]])
    detected = [[asdict(sp) for sp in spans] for spans in found]
    rid = uuid.uuid4().hex
    with session_scope(runtime.sessions) as s:
        recording = Recording(
            id=rid, uploader_id=uploader_id, participant_code=interview.code, study=runtime.settings.study,
            cohort=interview.cohort, interview_date=interview.interview_date,
            withdrawal_deadline=interview.interview_date + timedelta(days=28), container="wav",
            duration_s=raw["duration"], size_bytes=1, sha256="0" * 64, blob_id=None, key_id=None,
            created_at=utcnow(),
        )
        s.add(recording)
        s.flush()
        job = jobs.create_job(db_session=s, recording_id=rid, audio_total_s=raw["duration"])
        job.state = JobState.needs_review.value
        transcripts.save_raw(db_session=s, sealed=runtime.sealed, recording_id=rid, transcript=raw)
        speakers.init_from_transcript(db_session=s, recording_id=rid, speakers=raw["speakers"])
        redaction.replace_detected(db_session=s, recording_id=rid, detected=detected)
        s.flush()
        if approve:
            redaction.approve(db_session=s, sealed=runtime.sealed, recording=recording, actor_id=approver_id)
    return rid


# ---- a small two-perspective study ---------------------------------------------------------------------------

NAMES = ("Sarah Mitchell", "Mark Bellamy", "Priya Raman")
POLICE = Interview(
    code="PCX-5521", cohort="police", interview_date=date(2025, 3, 14), known_names=("Mark Bellamy",),
    roles={"S1": "Interviewer", "S2": "Participant", "S3": "Participant"},
    lines=[
        ("S1", "Thank you for agreeing to talk to me. How long have you worked in this area?"),
        ("S2", "I'm Mark Bellamy, I've been with Greater Manchester Police for nine years."),
        ("S3", "And I joined the public protection unit in 2019, working with Mark Bellamy."),
        ("S1", "How do victims usually first contact you?"),
        ("S2", "Mostly by phone. One victim, Sarah Mitchell, rang us on 07700 900123 after the images appeared."),
        ("S3", "We met Sarah Mitchell at Longsight station on the third of March."),
    ],
)
VICTIM = Interview(
    code="VXQ-4471", cohort="victim", interview_date=date(2025, 4, 2), known_names=("Sarah Mitchell", "Priya Raman"),
    roles={"S1": "Interviewer", "S2": "Participant"},
    lines=[
        ("S1", "Can you tell me what happened when you reported it?"),
        ("S2", "My name is Sarah Mitchell. I went to Greater Manchester Police and spoke to Mark Bellamy."),
        ("S1", "How did you feel about the response?"),
        ("S2", "My friend Priya Raman came with me. You can email me at sarah.mitchell@example.com if you need."),
        ("S2", "I live near M14 5RQ, so it was close."),
    ],
)
VICTIM_FOLLOW_UP = Interview(
    code="VXQ-4471", cohort="victim", interview_date=date(2025, 6, 20), known_names=("Sarah Mitchell",),
    roles={"S1": "Interviewer", "S2": "Participant"},
    lines=[
        ("S1", "It has been a few months. Has anything changed?"),
        ("S2", "Yes. Mark Bellamy called me back and the images were taken down."),
    ],
)
UNAPPROVED = Interview(
    code="PCX-9090", cohort="police", interview_date=date(2025, 3, 20), known_names=("Mark Bellamy",),
    roles={"S1": "Interviewer", "S2": "Participant"},
    lines=[("S1", "Where do you work?"), ("S2", "I work with Mark Bellamy in Manchester.")],
)
# Strings that must never reach a researcher, in any format, file name or property.
IDENTIFIERS = ("sarah", "mitchell", "bellamy", "priya", "raman", "manchester", "longsight", "07700", "900123",
               "sarah.mitchell@example.com", "m14 5rq", "pcx-5521", "vxq-4471", "pcx-9090", "2025-03-14",
               "2025-04-02", "2025-06-20", "third of march")


STUDY = {"police": POLICE, "victim": VICTIM, "victim_follow_up": VICTIM_FOLLOW_UP, "unapproved": UNAPPROVED}


def user_ids(runtime: Any) -> dict[str, int]:
    import sqlalchemy as sa

    with runtime.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT role, MIN(id) FROM users GROUP BY role")).all())


def build_study(runtime: Any) -> dict[str, str]:
    """The four interviews above (three approved), uploaded by the admin and approved by the reviewer."""
    ids = user_ids(runtime)
    return {
        name: make_transcript(runtime, interview, uploader_id=ids["admin"], approver_id=ids["reviewer"],
                              approve=name != "unapproved")
        for name, interview in STUDY.items()
    }


def expected_turns(interview: Interview) -> list[tuple[str, float]]:
    """(slot, start) of each reading turn: consecutive segments of one speaker join."""
    raw = raw_transcript(interview.lines, interview.roles or {})
    out: list[tuple[str, float]] = []
    for seg in raw["segments"]:
        if not out or out[-1][0] != seg["speaker"]:
            out.append((seg["speaker"], seg["start"]))
    return out
