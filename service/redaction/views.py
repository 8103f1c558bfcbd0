from __future__ import annotations

import io
import wave
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from starlette.concurrency import run_in_threadpool

from service.auth.models import Role, User
from service.deps import RuntimeDep, SessionDep, require_roles
from service.recordings import service as recordings
from service.recordings.models import Recording
from service.redaction import service
from service.redaction.models import RedactionSpan
from service.redaction.schemas import SpanAdd, SpanDecision, SpanRead
from service.transcripts import render

router = APIRouter(prefix="/api/v1/recordings", tags=["review"])

Reviewer = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer))]
SNIPPET_PAD_S = 2.0


def _recording(db_session: SessionDep, user: User, recording_id: str) -> Recording:
    try:
        return recordings.get_recording(db_session=db_session, user=user, recording_id=recording_id)
    except recordings.RecordingNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such recording") from exc


def _read(span: RedactionSpan) -> SpanRead:
    return SpanRead(
        id=span.id,
        segment=span.segment,
        start=span.start,
        end=span.end,
        label=span.label,
        status=span.status,
        origin=span.origin,
        uncertain=span.uncertain,
        confidence=span.confidence,
    )


def _fail(exc: service.ReviewError) -> HTTPException:
    return HTTPException(exc.status, exc.message)


@router.get("/{recording_id}/review")
def get_review(recording_id: str, db_session: SessionDep, runtime: RuntimeDep, user: Reviewer) -> Response:
    """Spans with their context, undecided and uncertain first. Identifying: reviewers and admins only."""
    recording = _recording(db_session, user, recording_id)
    try:
        body = service.review_items(
            db_session=db_session, master=runtime.sealed.master, recording=recording, actor_id=user.id
        )
    except service.ReviewError as exc:
        raise _fail(exc) from exc
    return Response(render.to_json(body), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.patch("/{recording_id}/review/spans/{span_id}", response_model=SpanRead)
def decide_span(
    recording_id: str, span_id: int, body: SpanDecision, db_session: SessionDep, user: Reviewer
) -> SpanRead:
    _recording(db_session, user, recording_id)
    try:
        span = service.decide(
            db_session=db_session,
            recording_id=recording_id,
            span_id=span_id,
            action=body.action,
            label=body.label,
            actor_id=user.id,
        )
    except service.ReviewError as exc:
        raise _fail(exc) from exc
    return _read(span)


@router.post("/{recording_id}/review/spans", response_model=list[SpanRead], status_code=status.HTTP_201_CREATED)
def add_span(
    recording_id: str, body: SpanAdd, db_session: SessionDep, runtime: RuntimeDep, user: Reviewer
) -> list[SpanRead]:
    recording = _recording(db_session, user, recording_id)
    try:
        spans = service.add_span(
            db_session=db_session,
            master=runtime.sealed.master,
            recording=recording,
            segment=body.segment,
            start=body.start,
            end=body.end,
            label=body.label,
            actor_id=user.id,
        )
    except service.ReviewError as exc:
        raise _fail(exc) from exc
    return [_read(s) for s in spans]


@router.post("/{recording_id}/review/approve")
def approve(recording_id: str, db_session: SessionDep, runtime: RuntimeDep, user: Reviewer) -> dict[str, object]:
    recording = _recording(db_session, user, recording_id)
    try:
        document = service.approve(
            db_session=db_session, master=runtime.sealed.master, recording=recording, actor_id=user.id
        )
    except service.ReviewError as exc:
        raise _fail(exc) from exc
    return {"id": recording_id, "status": "completed", "segments": len(document["segments"])}


@router.get("/{recording_id}/anonymised", responses={200: {"content": render.MEDIA_TYPES}})
def get_anonymised(
    recording_id: str,
    db_session: SessionDep,
    runtime: RuntimeDep,
    user: Reviewer,
    format: Literal["json", "txt", "vtt"] = "json",
) -> Response:
    _recording(db_session, user, recording_id)
    try:
        data = service.load_anonymised(
            db_session=db_session, master=runtime.sealed.master, recording_id=recording_id, actor_id=user.id
        )
    except service.ReviewError as exc:
        raise _fail(exc) from exc
    return Response(
        render.RENDERERS[format](data), media_type=render.MEDIA_TYPES[format], headers={"Cache-Control": "no-store"}
    )


@router.get("/{recording_id}/review/spans/{span_id}/audio", responses={200: {"content": {"audio/wav": {}}}})
async def span_audio(
    recording_id: str,
    span_id: int,
    db_session: SessionDep,
    runtime: RuntimeDep,
    user: Reviewer,
    pad: Annotated[float, Query(ge=0.0, le=10.0)] = SNIPPET_PAD_S,
) -> Response:
    """A few seconds around a span, decoded in memory from the sealed audio, so a reviewer can hear a name."""
    recording = _recording(db_session, user, recording_id)
    span = db_session.get(RedactionSpan, span_id)
    if span is None or span.recording_id != recording_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such span")
    if recording.blob_id is None or recording.key_id is None or recording.audio_deleted_at is not None:
        raise HTTPException(status.HTTP_410_GONE, "the audio has been deleted")
    from service.transcripts import service as transcripts

    try:
        # The snippet event below records this read: one action, one audit entry.
        raw = transcripts.load_raw(
            db_session=db_session, master=runtime.sealed.master, recording_id=recording_id, actor_id=user.id,
            audited=False,
        )
    except transcripts.TranscriptNotReady as exc:
        raise HTTPException(status.HTTP_410_GONE, "the unredacted transcript has been deleted") from exc
    seg = raw["segments"][span.segment]
    start, end = _span_times(seg, span.start, span.end)
    reader, source = runtime.sealed.open_reader(
        db_session=db_session, blob_id=recording.blob_id, key_id=recording.key_id, object_id=recording_id
    )
    from workers.pipeline.decode import decode_window

    try:
        audio = await run_in_threadpool(decode_window, reader, start_s=max(0.0, start - pad), end_s=end + pad)
    finally:
        reader.close()
        source.close()
    from service.audit import service as audit

    audit.record(
        db_session=db_session,
        action="review.audio_snippet",
        actor_id=user.id,
        object_type="recording",
        object_id=recording_id,
        details={"span": span_id},
    )
    return Response(_wav(audio), media_type="audio/wav", headers={"Cache-Control": "no-store"})


def _span_times(seg: dict, start: int, end: int) -> tuple[float, float]:  # type: ignore[type-arg]
    from service.redaction.anonymise import word_ranges

    ranges = word_ranges(seg["text"], seg.get("words", []))
    hits = [w for w, r in zip(seg.get("words", []), ranges, strict=True) if r and r[0] < end and start < r[1]]
    if hits:
        return float(hits[0]["start"]), float(hits[-1]["end"])
    return float(seg["start"]), float(seg["end"])


def _wav(audio) -> bytes:  # type: ignore[no-untyped-def]
    import numpy as np

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()
