"""Helpers for the data-lifecycle tests: an app without worker threads, uploads, transcripts saved the way the
worker saves them, a movable clock, and scans of everything the service stores."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.core import clock
from tests.support.apps import create_users, make_settings
from tests.support.dates import interview_date

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class Clock:
    """The service's clock, moved by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@contextmanager
def frozen(start: datetime = T0) -> Iterator[Clock]:
    c = Clock(start)
    clock.set_clock(c)
    try:
        yield c
    finally:
        clock.set_clock(None)


@dataclass
class App:
    client: TestClient
    runtime: Any
    tokens: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def upload(self, audio: bytes, code: str = "P07", **fields: str) -> str:
        data = {"participant_code": code, "cohort": "victim", "interview_date": interview_date(0), **fields}
        resp = self.client.post(
            "/api/v1/recordings", headers=self.h("uploader"), data=data, files={"file": ("a.m4a", audio)}
        )
        assert resp.status_code == 202, resp.text
        return resp.json()["id"]

    def session(self):  # type: ignore[no-untyped-def]
        from service.core.db import session_scope

        return session_scope(self.runtime.sessions)


@contextmanager
def quiet_app(tmp_path: Path, db_url: str, **overrides: object) -> Iterator[App]:
    """The real app, migrated, but with no worker threads: tests decide when jobs and sweeps run."""
    from service.app import create_app

    settings = make_settings(tmp_path, db_url, **overrides)
    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        yield App(client=client, runtime=app.state.runtime, tokens=create_users(app.state.runtime))


def segments(lines: list[str]) -> dict[str, Any]:
    """A transcript in the pipeline's own format (pipeline.types), one segment per line."""
    from pipeline.types import Segment, SpeakerInfo, Transcript, Word

    segs = []
    t = 0.0
    for i, line in enumerate(lines):
        words = []
        for m in re.finditer(r"\S+", line):
            words.append(Word(start=t, end=t + 0.3, text=" " + m.group(), probability=0.9, speaker=f"S{i % 2 + 1}"))
            t += 0.35
        segs.append(Segment(id=i, start=words[0].start, end=words[-1].end, text=" " + line, words=words,
                            speaker=f"S{i % 2 + 1}"))
    speakers = [
        SpeakerInfo(slot="S1", role="Interviewer", talk_time=t / 2, questions=1, first_start=0.0),
        SpeakerInfo(slot="S2", role="Participant", talk_time=t / 2, questions=0, first_start=0.35),
    ]
    return Transcript(segments=segs, language="en", duration=t, model="test", speakers=speakers).to_dict()


def spans_for(lines: list[str], marks: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Detector-shaped spans (offsets into each segment's text) for every occurrence of each marked string."""
    out = []
    for line in lines:
        text = " " + line
        found = []
        for needle, label in marks.items():
            for m in re.finditer(re.escape(needle), text):
                found.append({"start": m.start(), "end": m.end(), "label": label, "layers": ["known"],
                              "confidence": 1.0, "uncertain": False})
        out.append(found)
    return out


def save_as_worker(app: App, recording_id: str, lines: list[str], marks: dict[str, str] | None = None) -> None:
    """What workers.tasks.process_recording persists after the pipeline, through the same domain services
    (lease, sealed raw transcript, speaker slots, spans, needs_review). For tests about what happens to a
    transcript afterwards, where the words themselves don't matter."""
    from service.recordings import jobs
    from service.recordings.models import JobState
    from service.redaction import service as redaction
    from service.speakers import service as speakers
    from service.transcripts import service as transcripts

    data = segments(lines)
    owner = f"test-{uuid.uuid4().hex[:6]}"
    with app.session() as s:
        job = jobs.get_for_recording(db_session=s, recording_id=recording_id)
        assert job is not None
        assert jobs.claim(db_session=s, job_id=job.id, owner=owner, lease_seconds=600, max_attempts=3)
    with app.session() as s:
        transcripts.save_raw(db_session=s, sealed=app.runtime.sealed, recording_id=recording_id, transcript=data)
        speakers.init_from_transcript(db_session=s, recording_id=recording_id, speakers=data["speakers"])
        redaction.replace_detected(db_session=s, recording_id=recording_id, detected=spans_for(lines, marks or {}))
        jobs.finish(db_session=s, job_id=job.id, owner=owner, state=JobState.needs_review)


def approve(app: App, recording_id: str) -> None:
    resp = app.client.post(f"/api/v1/recordings/{recording_id}/review/approve", headers=app.h("reviewer"))
    assert resp.status_code == 200, resp.text


def sweep(app: App, **kw: Any):  # type: ignore[no-untyped-def]
    from service.retention import service as retention

    return retention.run(runtime=app.runtime, **kw)


# ---- scanning everything stored ----------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def dump_tables(engine: sa.Engine) -> dict[str, str]:
    """Every row of every table, as text (binary columns as Latin-1), keyed by table."""
    out = {}
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            out[table] = "\n".join(" | ".join(_text(v) for v in row) for row in rows)
    return out


def count(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def files_containing(root: Path, needles: list[bytes]) -> list[tuple[str, bytes]]:
    hits = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            try:
                data = p.read_bytes()
            except OSError:
                continue
            hits += [(str(p), n) for n in needles if n in data or n in p.name.encode()]
    return hits


def audit_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    import json

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_events ORDER BY id")).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        if isinstance(d["details"], str):
            d["details"] = json.loads(d["details"])
        out.append(d)
    return out
