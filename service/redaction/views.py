from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from service.auth.models import Role, User
from service.core.ints import RowId
from service.deps import SealedDep, SessionDep, require_roles
from service.openapi import content
from service.recordings import service as recordings
from service.recordings.models import Recording
from service.redaction import service, snippets
from service.redaction.models import RedactionSpan
from service.redaction.schemas import SpanAdd, SpanDecision, SpanRead
from service.transcripts import render

router = APIRouter(prefix="/api/v1/recordings", tags=["review"])

Reviewer = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer))]


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
