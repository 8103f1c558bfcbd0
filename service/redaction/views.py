from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from service.auth.models import Role, User
from service.core.ints import Position, RowId
from service.deps import SealedDep, SessionDep, require_roles
from service.openapi import content
from service.recordings import service as recordings
from service.recordings.models import Recording
from service.redaction import service, snippets
from service.redaction.models import RedactionSpan
from service.redaction.schemas import (
    EditResult,
    ReopenResult,
    SegmentEdit,
    SegmentMerge,
    SegmentSplit,
    SpanAdd,
    SpanDecision,
    SpanRead,
    UndoResult,
)
from service.transcripts import render

router = APIRouter(prefix="/api/v1/recordings", tags=["review"])

Reviewer = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer))]
Admin = Annotated[User, Depends(require_roles(Role.admin))]


def _recording(db_session: SessionDep, user: User, recording_id: str) -> Recording:
    return recordings.get_recording(db_session=db_session, user=user, recording_id=recording_id)


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


@router.get("/{recording_id}/review")
def get_review(recording_id: str, db_session: SessionDep, sealed: SealedDep, user: Reviewer) -> Response:
    """Spans with their context, undecided and uncertain first. Identifying: reviewers and admins only."""
    recording = _recording(db_session, user, recording_id)
    body = service.review_items(
        db_session=db_session, sealed=sealed, recording=recording, actor_id=user.id
    )
    return Response(render.to_json(body), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.patch("/{recording_id}/review/spans/{span_id}", response_model=SpanRead)
def decide_span(
    recording_id: str, span_id: RowId, body: SpanDecision, db_session: SessionDep, user: Reviewer
) -> SpanRead:
    _recording(db_session, user, recording_id)
    span = service.decide(
        db_session=db_session,
        recording_id=recording_id,
        span_id=span_id,
        action=body.action,
        label=body.label,
        actor_id=user.id,
    )
    return _read(span)


@router.post("/{recording_id}/review/spans", response_model=list[SpanRead], status_code=status.HTTP_201_CREATED)
def add_span(
    recording_id: str, body: SpanAdd, db_session: SessionDep, sealed: SealedDep, user: Reviewer
) -> list[SpanRead]:
    recording = _recording(db_session, user, recording_id)
    spans = service.add_span(
        db_session=db_session,
        sealed=sealed,
        recording=recording,
        segment=body.segment,
        start=body.start,
        end=body.end,
        label=body.label,
        actor_id=user.id,
    )
    return [_read(s) for s in spans]


@router.post("/{recording_id}/review/approve")
def approve(recording_id: str, db_session: SessionDep, sealed: SealedDep, user: Reviewer) -> dict[str, object]:
    recording = _recording(db_session, user, recording_id)
    document = service.approve(
        db_session=db_session, sealed=sealed, recording=recording, actor_id=user.id
    )
    return {"id": recording_id, "status": "completed", "segments": len(document["segments"])}


@router.get("/{recording_id}/anonymised", responses={200: {"content": content(*render.MEDIA_TYPES.values())}})
def get_anonymised(
    recording_id: str,
    db_session: SessionDep,
    sealed: SealedDep,
    user: Reviewer,
    format: Literal["json", "txt", "vtt"] = "json",
) -> Response:
    _recording(db_session, user, recording_id)
    data = service.load_anonymised(
        db_session=db_session, sealed=sealed, recording_id=recording_id, actor_id=user.id
    )
    return Response(
        render.RENDERERS[format](data), media_type=render.MEDIA_TYPES[format], headers={"Cache-Control": "no-store"}
    )


@router.get("/{recording_id}/review/spans/{span_id}/audio", responses={200: {"content": content("audio/wav")}})
async def span_audio(
    recording_id: str,
    span_id: RowId,
    db_session: SessionDep,
    sealed: SealedDep,
    user: Reviewer,
    pad: Annotated[float, Query(ge=0.0, le=10.0)] = snippets.PAD_S,
) -> Response:
    """A few seconds around a span, decoded in memory from the sealed audio, so a reviewer can hear a name."""
    recording = _recording(db_session, user, recording_id)
    body = await snippets.span_snippet(
        sealed=sealed, db_session=db_session, recording=recording, span_id=span_id, actor_id=user.id, pad=pad
    )
    return Response(body, media_type="audio/wav", headers={"Cache-Control": "no-store"})


# ---- correcting the transcript (until approval) ---------------------------------------------------------------


@router.patch("/{recording_id}/segments/{segment}", response_model=EditResult)
def edit_segment(
    recording_id: str, segment: Position, body: SegmentEdit, db_session: SessionDep, sealed: SealedDep, user: Reviewer
) -> dict[str, object]:
    """Correct a segment's text and/or speaker. Unchanged words keep their timings; the edited text is detected
    again. 409 once approved, 410 once the raw transcript is deleted."""
    recording = _recording(db_session, user, recording_id)
    return service.edit_segment(
        db_session=db_session, sealed=sealed, recording=recording, segment=segment, text=body.text,
        speaker=body.speaker, actor_id=user.id,
    )


@router.post("/{recording_id}/segments/{segment}/split", response_model=EditResult)
def split_segment(
    recording_id: str, segment: Position, body: SegmentSplit, db_session: SessionDep, sealed: SealedDep,
    user: Reviewer,
) -> dict[str, object]:
    """Split a segment in two before its word number `word`."""
    recording = _recording(db_session, user, recording_id)
    return service.split_segment(
        db_session=db_session, sealed=sealed, recording=recording, segment=segment, word=body.word, actor_id=user.id
    )


@router.post("/{recording_id}/segments/merge", response_model=EditResult)
def merge_segments(
    recording_id: str, body: SegmentMerge, db_session: SessionDep, sealed: SealedDep, user: Reviewer
) -> dict[str, object]:
    """Merge segment `segment` with the one after it."""
    recording = _recording(db_session, user, recording_id)
    return service.merge_segments(
        db_session=db_session, sealed=sealed, recording=recording, segment=body.segment, actor_id=user.id
    )


@router.post("/{recording_id}/segments/undo", response_model=UndoResult)
def undo_edit(recording_id: str, db_session: SessionDep, sealed: SealedDep, user: Reviewer) -> dict[str, object]:
    """Undo the last correction (409: nothing to undo)."""
    recording = _recording(db_session, user, recording_id)
    return service.undo_edit(db_session=db_session, sealed=sealed, recording=recording, actor_id=user.id)


@router.post("/{recording_id}/review/reopen", response_model=ReopenResult)
def reopen_review(recording_id: str, db_session: SessionDep, sealed: SealedDep, user: Admin) -> dict[str, object]:
    """Admins only: reopen an approved review while the raw transcript exists. The library keeps the approved text
    until the review is approved again."""
    recording = _recording(db_session, user, recording_id)
    return service.reopen_review(db_session=db_session, sealed=sealed, recording=recording, actor_id=user.id)
