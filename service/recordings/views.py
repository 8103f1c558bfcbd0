from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from starlette.requests import ClientDisconnect

from service.auth.models import Role, User
from service.core.ints import PageNo
from service.deps import CurrentUser, RuntimeDep, SealedDep, SessionDep, require_roles
from service.openapi import ErrorMessage, content
from service.recordings import jobs, playback, service
from service.recordings.models import Recording
from service.recordings.schemas import JobRead, RecordingAccepted, RecordingPage, RecordingRead
from service.speakers import service as speakers
from service.transcripts import render, versions
from service.transcripts import service as transcripts

router = APIRouter(prefix="/api/v1/recordings", tags=["recordings"])

Uploader = Annotated[User, Depends(require_roles(Role.admin, Role.uploader))]
Reviewer = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer))]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "participant_code", "cohort", "interview_date"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "participant_code": {"type": "string", "example": "P07"},
                        "cohort": {"type": "string", "enum": ["police", "victim", "other"]},
                        "interview_date": {"type": "string", "format": "date"},
                        "withdrawal_deadline": {"type": "string", "format": "date"},
                        "num_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                        "min_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                        "max_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                    },
                }
            }
        },
    }
}


def _read(db_session: SessionDep, recording: Recording) -> RecordingRead:
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording.id)
    return RecordingRead.model_validate(
        {
            **{c.name: getattr(recording, c.name) for c in Recording.__table__.columns},
            "status": job.state if job else "uploaded",
            "job": JobRead.model_validate(job) if job else None,
        }
    )


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, response_model=RecordingAccepted, openapi_extra=_UPLOAD_BODY
)
async def upload_recording(request: Request, runtime: RuntimeDep, user: Uploader) -> RecordingAccepted:
    length = request.headers.get("content-length")
    try:
        content_length = int(length) if length is not None else None
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "invalid Content-Length") from exc
    try:
        created = await service.create_recording(
            runtime=runtime,
            uploader=user,
            chunks=request.stream(),
            content_type=request.headers.get("content-type"),
            content_length=content_length,
        )
    except ClientDisconnect as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the client disconnected during the upload") from exc
    return RecordingAccepted(
        id=created.recording.id,
        status=created.job.state,
        status_url=str(request.url_for("get_recording", recording_id=created.recording.id)),
    )


@router.get("", response_model=RecordingPage)
def list_recordings(
    db_session: SessionDep,
    user: CurrentUser,
    page: Annotated[PageNo, Query()] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecordingPage:
    rows, total = service.list_recordings(db_session=db_session, user=user, page=page, per_page=per_page)
    return RecordingPage(
        items=[_read(db_session, r) for r in rows], total=total, page=page, per_page=per_page
    )


def _get(db_session: SessionDep, user: User, recording_id: str) -> Recording:
    return service.get_recording(db_session=db_session, user=user, recording_id=recording_id)


@router.get("/{recording_id}", response_model=RecordingRead, name="get_recording")
def get_recording(recording_id: str, db_session: SessionDep, user: CurrentUser) -> RecordingRead:
    return _read(db_session, _get(db_session, user, recording_id))


@router.get("/{recording_id}/transcript", responses={200: {"content": content(*render.MEDIA_TYPES.values())}})
def get_transcript(
    recording_id: str,
    db_session: SessionDep,
    sealed: SealedDep,
    user: Reviewer,
    format: Literal["json", "txt", "vtt", "rttm"] = "json",
) -> Response:
    recording = _get(db_session, user, recording_id)
    try:
        # With the reviewer's corrections so far (the raw transcript itself stays as the recogniser wrote it).
        data = versions.load_working(
            db_session=db_session, sealed=sealed, recording_id=recording_id, actor_id=user.id
        )
    except transcripts.TranscriptNotReady as exc:
        if recording.raw_transcript_deleted_at is not None:
            raise HTTPException(
                status.HTTP_410_GONE, "the unredacted transcript was deleted under the retention policy"
            ) from exc
        raise HTTPException(status.HTTP_409_CONFLICT, "the transcript is not ready yet") from exc
    data = speakers.apply(
        data, speakers.list_slots(db_session=db_session, recording_id=recording_id), cohort=recording.cohort
    )
    body = render.to_rttm(data, uri=recording_id) if format == "rttm" else render.RENDERERS[format](data)
    return Response(
        body,
        media_type=render.MEDIA_TYPES[format],
        headers={"Cache-Control": "no-store"},
    )


_AUDIO_HEADERS = {
    "Accept-Ranges": {"schema": {"type": "string"}, "description": "Always `bytes`"},
    "Content-Range": {"schema": {"type": "string"}, "description": "The bytes sent, or `bytes */LENGTH` on a 416"},
}
_AUDIO_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The whole recording as 16 kHz mono 16-bit WAV", "content": content("audio/wav"),
          "headers": {"Accept-Ranges": _AUDIO_HEADERS["Accept-Ranges"]}},
    206: {"description": "The byte range asked for", "content": content("audio/wav"), "headers": _AUDIO_HEADERS},
    416: {"description": "The range lies outside the audio", "model": ErrorMessage, "headers": _AUDIO_HEADERS},
}


@router.get("/{recording_id}/audio", responses=_AUDIO_RESPONSES)
def get_audio(
    recording_id: str,
    db_session: SessionDep,
    sealed: SealedDep,
    user: Reviewer,
    range_header: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
) -> Response:
    """The whole recording for listening while reviewing, with byte ranges so a player can seek; decoded in memory
    from the sealed audio, never stored. 410 once the audio has been deleted. One audit event per listening session."""
    recording = _get(db_session, user, recording_id)
    return playback.response(db_session=db_session, sealed=sealed, recording=recording, actor_id=user.id,
                             range_header=range_header)


@router.post("/{recording_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=RecordingRead)
def retry_recording(
    recording_id: str, db_session: SessionDep, runtime: RuntimeDep, user: Uploader
) -> RecordingRead:
    """A failed recording goes back in the queue with fresh attempts (uploaders: their own; admins: any)."""
    service.retry_recording(runtime=runtime, actor=user, recording_id=recording_id)
    return _read(db_session, _get(db_session, user, recording_id))


@router.delete("/{recording_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_recording(
    recording_id: str, db_session: SessionDep, runtime: RuntimeDep, user: Uploader
) -> Response:
    """Admins delete any recording; uploaders their own whose processing failed. Crypto-shredded like a
    withdrawal: the sealed audio, its key and everything derived from it."""
    service.delete_recording(runtime=runtime, db_session=db_session, actor=user, recording_id=recording_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
