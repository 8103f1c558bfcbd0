"""Redaction review: detected spans, reviewer decisions, and the reviewer's view of them.

Spans hold positions, never text; text is read from the sealed raw transcript when a reviewer asks, and that read
is audited."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.core.sealed import SealedStore
from service.recordings import jobs
from service.recordings.models import JobState, Recording
from service.redaction.models import RedactionSpan, SpanOrigin, SpanStatus
from service.redaction.pseudonyms import _pipeline_span, _pseudonymiser, _study
from service.transcripts import service as transcripts
from service.transcripts import versions

CONTEXT_CHARS = 60


class ReviewError(DomainError):
    """A refused review step (span, state of the transcript, deleted audio or text)."""


class TextNotFound(ReviewError):
    pass


def replace_detected(*, db_session: Session, recording_id: str, detected: list[list[dict[str, Any]]]) -> int:
    """Worker output, idempotent per recording: a retried job replaces, never duplicates."""
    db_session.execute(delete(RedactionSpan).where(RedactionSpan.recording_id == recording_id))
    now = utcnow()
    n = 0
    for segment, spans in enumerate(detected):
        for sp in spans:
            db_session.add(
                RedactionSpan(
                    recording_id=recording_id,
                    segment=segment,
                    start=sp["start"],
                    end=sp["end"],
                    label=sp["label"],
                    layers=list(sp.get("layers", [])),
                    confidence=float(sp.get("confidence", 1.0)),
                    uncertain=bool(sp.get("uncertain", False)),
                    status=SpanStatus.pending.value,
                    origin=SpanOrigin.detected.value,
                    created_at=now,
                )
            )
            n += 1
    db_session.flush()
    return n


def list_spans(*, db_session: Session, recording_id: str) -> list[RedactionSpan]:
    return list(
        db_session.execute(
            select(RedactionSpan)
            .where(RedactionSpan.recording_id == recording_id)
            .order_by(RedactionSpan.segment, RedactionSpan.start)
        ).scalars()
    )


def _load_raw(
    db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int | None, *, audited: bool
) -> dict[str, Any]:
    try:
        # The working text: the raw transcript with the reviewer's corrections so far.
        return versions.load_working(
            db_session=db_session, sealed=sealed, recording_id=recording.id, actor_id=actor_id, audited=audited
        )
    except transcripts.TranscriptNotReady as exc:
        if recording.raw_transcript_deleted_at is not None:
            raise ReviewError(410, "the unredacted transcript was deleted under the retention policy") from exc
        raise ReviewError(409, "the transcript is not ready for review") from exc


APPROVED = (
    "this transcript has been approved; its redactions can no longer change (the anonymised transcript in the "
    "library is final)"
)


def _require_reviewable(db_session: Session, recording_id: str) -> None:
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording_id)
    if job is None or job.state not in (JobState.needs_review.value, JobState.completed.value):
        raise ReviewError(409, "the transcript is not ready for review")


def _require_editable(db_session: Session, recording_id: str) -> None:
    """Decisions count only until approval: after it they would change a span and nothing the library serves."""
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording_id)
    if job is not None and job.state == JobState.completed.value:
        raise ReviewError(409, APPROVED)
    if job is None or job.state != JobState.needs_review.value:
        raise ReviewError(409, "the transcript is not ready for review")


def _priority(span: RedactionSpan) -> tuple[int, int, float, int, int]:
    # Undecided first; among them the uncertain (model-only, cue-based, low confidence) first.
    return (
        0 if span.status == SpanStatus.pending.value else 1,
        0 if span.uncertain else 1,
        span.confidence,
        span.segment,
        span.start,
    )


def review_items(*, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int) -> dict[str, Any]:
    _require_reviewable(db_session, recording.id)
    # Reading the review is reading the unredacted text: audited as such.
    raw = _load_raw(db_session, sealed, recording, actor_id, audited=True)
    segments = raw["segments"]
    preview = _pseudonymiser(db_session=db_session, sealed=sealed, study=_study(recording))
    items = []
    for span in sorted(list_spans(db_session=db_session, recording_id=recording.id), key=_priority):
        seg = segments[span.segment]
        text = seg["text"]
        item = {
            "id": span.id,
            "segment": span.segment,
            "start": span.start,
            "end": span.end,
            "text": text[span.start : span.end],
            "context_before": text[max(0, span.start - CONTEXT_CHARS) : span.start],
            "context_after": text[span.end : span.end + CONTEXT_CHARS],
            "time": seg["start"],
            "speaker": seg.get("speaker"),
            "label": span.label,
            "layers": span.layers,
            "confidence": span.confidence,
            "uncertain": span.uncertain,
            "status": span.status,
            "origin": span.origin,
        }
        if span.status != SpanStatus.rejected.value:
            item["replacement"] = preview.tag(_pipeline_span(span, text))
        items.append(item)
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording.id)
    return {
        "recording_id": recording.id,
        "state": job.state if job else None,
        "spans": items,
        "segments": [_review_segment(i, s) for i, s in enumerate(segments)],
        "speakers": [s.get("slot") for s in raw.get("speakers", []) if s.get("slot")],
        "history": versions.history(db_session=db_session, recording_id=recording.id),
    }


def _review_segment(index: int, seg: dict[str, Any]) -> dict[str, Any]:
    """What the review shows of a segment: its text and times, and what the pipeline doubted (segment flags, each
    word's probability; "overlap" when another voice covers a word) so the reviewer listens there first."""
    words = seg.get("words", [])
    flags = list(seg.get("flags", []))
    if any(w.get("overlap") for w in words) and "overlap" not in flags:
        flags.append("overlap")
    return {
        "id": index, "start": seg["start"], "end": seg.get("end", seg["start"]), "speaker": seg.get("speaker"),
        "text": seg["text"], "flags": flags, "edited": bool(seg.get("edited")),
        "words": [{k: w[k] for k in ("text", "start", "end", "probability", "edited") if k in w} for w in words],
    }


def decide(
    *, db_session: Session, recording_id: str, span_id: int, action: str, label: str | None, actor_id: int
) -> RedactionSpan:
    _require_editable(db_session, recording_id)
    span = db_session.get(RedactionSpan, span_id)
    if span is None or span.recording_id != recording_id:
        raise ReviewError(404, "no such span")
    span.status = SpanStatus.accepted.value if action == "accept" else SpanStatus.rejected.value
    if label:
        span.label = label
    span.decided_by, span.decided_at = actor_id, utcnow()
    audit.record(
        db_session=db_session,
        action="redaction.decide",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording_id,
        details={"span": span_id, "action": action, "label": span.label},
    )
    return span


def add_span(
    *,
    db_session: Session,
    sealed: SealedStore,
    recording: Recording,
    segment: int,
    start: int = 0,
    end: int = 0,
    label: str,
    actor_id: int,
    find: str | None = None,
) -> list[RedactionSpan]:
    """A reviewer marks a missed identifier; every other occurrence in the transcript goes too.

    The range is given by character offsets, or by `find`: the text as it reads in the segment (its first
    occurrence, any case) - what a person can type into a form without counting characters."""
    _require_editable(db_session, recording.id)
    raw = _load_raw(db_session, sealed, recording, actor_id, audited=False)  # the redaction.add event covers it
    segments = raw["segments"]
    if not 0 <= segment < len(segments):
        raise ReviewError(422, "segment out of range")
    text = segments[segment]["text"]
    if find is not None:
        at = text.lower().find(find.strip().lower()) if find.strip() else -1
        if at < 0:
            raise TextNotFound(422, "that text is not in the segment")
        start, end = at, at + len(find.strip())
    if not (0 <= start < end <= len(text)) or not text[start:end].strip():
        raise ReviewError(422, "character range out of bounds or empty")
    needle = text[start:end].strip()
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    start, end = start + lead, start + lead + len(needle)
    existing = list_spans(db_session=db_session, recording_id=recording.id)
    now = utcnow()
    created: list[RedactionSpan] = []

    def covered(i: int, s: int, e: int) -> bool:
        return any(
            x.segment == i and x.start < e and s < x.end and x.status != SpanStatus.rejected.value
            for x in existing + created
        )

    def make(i: int, s: int, e: int, origin: SpanOrigin) -> None:
        span = RedactionSpan(
            recording_id=recording.id, segment=i, start=s, end=e, label=label, layers=["reviewer"],
            confidence=1.0, uncertain=False, status=SpanStatus.accepted.value, origin=origin.value,
            decided_by=actor_id, decided_at=now, created_at=now,
        )
        db_session.add(span)
        created.append(span)

    # The reviewer's own range always counts, even mid-word; other occurrences are whole words.
    make(segment, start, end, SpanOrigin.added)
    pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)", re.IGNORECASE)
    for i, seg in enumerate(segments):
        for m in pattern.finditer(seg["text"]):
            if not covered(i, m.start(), m.end()):
                make(i, m.start(), m.end(), SpanOrigin.propagated)
    db_session.flush()
    audit.record(
        db_session=db_session,
        action="redaction.add",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording.id,
        details={"label": label, "spans": len(created)},
    )
    return created
