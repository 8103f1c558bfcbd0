"""What the worker hands its result to (`service/recordings/flows.py`): one transaction, all or nothing, and the
admin's auto-approval for a transcript with nothing uncertain. The pipeline is stubbed: this is about persistence."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.types import Transcript
from service.recordings import flows, jobs
from tests.support.lifecycle import App, count, quiet_app, segments, spans_for
from workers import tasks

LINES = ["My name is Gareth Pryce.", "Thank you for coming in today."]


@pytest.fixture
def audio(media) -> bytes:  # type: ignore[no-untyped-def]
    return media["m4a"].read_bytes()


def _pipeline(*, uncertain: bool = False):  # type: ignore[no-untyped-def]
    def run(reader, **kwargs: Any) -> Transcript:  # type: ignore[no-untyped-def]
        transcript = Transcript.from_dict(segments(LINES))
        transcript.detected = [
            [{**span, "uncertain": uncertain} for span in spans] for spans in spans_for(LINES, {"Gareth Pryce": "NAME"})
        ]
        return transcript

    return run


def _job_id(app: App, rid: str) -> str:
    with app.session() as s:
        job = jobs.get_for_recording(db_session=s, recording_id=rid)
        assert job is not None
        return job.id


def _stored(app: App, rid: str) -> dict[str, int]:
    engine = app.runtime.engine
    return {
        "raw": count(engine, "SELECT COUNT(*) FROM raw_transcripts WHERE recording_id = :r", r=rid),
        "slots": count(engine, "SELECT COUNT(*) FROM speaker_slots WHERE recording_id = :r", r=rid),
        "spans": count(engine, "SELECT COUNT(*) FROM redaction_spans WHERE recording_id = :r", r=rid),
        "anonymised": count(engine, "SELECT COUNT(*) FROM anonymised_transcripts WHERE recording_id = :r", r=rid),
    }


def _actions(app: App, rid: str) -> list[str]:
    with app.runtime.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT action FROM audit_events WHERE object_id = :r ORDER BY id"),
                                 {"r": rid}).scalars())


def _job(app: App, job_id: str) -> tuple[str, str | None]:
    with app.runtime.engine.connect() as conn:
        state, error = conn.execute(sa.text("SELECT state, error FROM jobs WHERE id = :j"), {"j": job_id}).one()
    return state, error


def test_result_is_saved_all_or_nothing(tmp_path, db_url, audio, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real_replace = flows.redaction.replace_detected

    def spans_fail(**kwargs: Any) -> int:
        real_replace(**kwargs)  # written into the transaction, then the save fails
        raise RuntimeError("the spans could not be saved")

    monkeypatch.setattr(tasks, "run_pipeline", _pipeline())
    monkeypatch.setattr(flows.redaction, "replace_detected", spans_fail)
    with quiet_app(tmp_path, db_url) as app:
        rid = app.upload(audio)
        job_id = _job_id(app, rid)
        assert tasks.process_recording(job_id, runtime=app.runtime) == "retry"
        # Raw transcript and speaker slots were saved before the spans failed: none of it stayed.
        assert _stored(app, rid) == {"raw": 0, "slots": 0, "spans": 0, "anonymised": 0}
        assert "transcript.create" not in _actions(app, rid)
        assert _job(app, job_id) == ("queued", jobs.RETRYING.format(attempt=1))

        monkeypatch.setattr(flows.redaction, "replace_detected", real_replace)
        assert tasks.process_recording(job_id, runtime=app.runtime) == "needs_review"
        assert _stored(app, rid) == {"raw": 1, "slots": 2, "spans": 1, "anonymised": 0}
        assert _actions(app, rid).count("transcript.create") == 1
        assert _job(app, job_id) == ("needs_review", None)


@pytest.mark.parametrize("uncertain", [False, True])
def test_auto_approval_only_with_nothing_uncertain(tmp_path, db_url, audio, monkeypatch, uncertain) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tasks, "run_pipeline", _pipeline(uncertain=uncertain))
    with quiet_app(tmp_path, db_url, auto_approve=True) as app:
        rid = app.upload(audio)
        job_id = _job_id(app, rid)
        outcome = tasks.process_recording(job_id, runtime=app.runtime)
        created = _actions(app, rid)[-2:] if not uncertain else _actions(app, rid)[-1:]
        if uncertain:  # a human decides
            assert outcome == "needs_review" and _job(app, job_id) == ("needs_review", None)
            assert _stored(app, rid)["anonymised"] == 0 and created == ["transcript.create"]
        else:
            assert outcome == "completed" and _job(app, job_id) == ("completed", None)
            assert _stored(app, rid)["anonymised"] == 1 and created == ["transcript.create", "transcript.approve"]
