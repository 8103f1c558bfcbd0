"""Upload form (streamed through the API's own upload service) and the recordings list with live job status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from service.auth.models import User
from service.core.ints import PageNo
from service.deps import RuntimeDep, SessionDep
from service.recordings import jobs
from service.recordings import service as recordings
from service.recordings.media import MediaError
from service.recordings.models import Cohort, JobState
from service.recordings.upload import UploadError
from service.web.session import Posted, Reviewer, Uploader, WebSession, check_csrf_param, posted, require
from service.web.templating import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)

UploaderPage = Annotated[WebSession, Depends(require(*Uploader))]
UploaderForm = Annotated[Posted, Depends(posted(*Uploader))]
# Who may list recordings: as the API, everyone but researchers (uploaders see their own).
Lister = Annotated[WebSession, Depends(require(*sorted({*Uploader, *Reviewer})))]
ACTIVE = {JobState.uploaded.value, JobState.queued.value, JobState.transcribing.value, JobState.diarising.value,
          JobState.redacting.value}
PER_PAGE = 25

FIELD_NAMES = {
    "participant_code": "Participant code",
    "cohort": "Cohort",
    "interview_date": "Interview date",
    "withdrawal_deadline": "Withdrawal deadline",
    "num_speakers": "Number of speakers",
    "min_speakers": "Minimum speakers",
    "max_speakers": "Maximum speakers",
}


@dataclass(frozen=True)
class Row:
    id: str
    participant_code: str
    cohort: str
    interview_date: date
    duration_s: float
    created_at: datetime
    state: str
    stage: str | None
    progress: float
    error: str | None
    audio_deleted: bool

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def reviewable(self) -> bool:
        return self.state in (JobState.needs_review.value, JobState.completed.value)

    @property
    def failed(self) -> bool:
        return self.state == JobState.failed.value


def rows_for(*, db_session: Session, user: User, page_no: int) -> tuple[list[Row], int]:
    found, total = recordings.list_recordings(db_session=db_session, user=user, page=page_no, per_page=PER_PAGE)
    out = []
    for r in found:
        job = jobs.get_for_recording(db_session=db_session, recording_id=r.id)
        out.append(Row(
            id=r.id, participant_code=r.participant_code, cohort=r.cohort, interview_date=r.interview_date,
            duration_s=r.duration_s, created_at=r.created_at, state=job.state if job else "uploaded",
            stage=job.stage if job else None, progress=job.progress if job else 0.0,
            error=job.error if job else None, audio_deleted=r.audio_deleted_at is not None,
        ))
    return out, total


@router.get("/upload")
def upload_form(request: Request, web: UploaderPage) -> Response:
    return page(request, "upload.html", web=web, cohorts=[c.value for c in Cohort], errors=[])


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, recordings.InvalidMetadata):
        out = []
        for e in exc.errors:
            loc = [str(x) for x in e.get("loc", []) if x != "__root__"]
            name = FIELD_NAMES.get(loc[0], loc[0]) if loc else "Form"
            out.append(f"{name}: {e.get('msg', 'invalid')}")
        return out
    if isinstance(exc, UploadError | MediaError):
        return [exc.message]
    return ["The upload was interrupted."]


@router.post("/upload")
async def upload(request: Request, runtime: RuntimeDep, web: UploaderPage) -> Response:
    """The browser's multipart body goes straight into the same streaming, encrypting upload service as the API's:
    nothing is buffered to disk. XHR (Accept: application/json) gets JSON; a plain form post a redirect or the form
    again with the errors."""
    check_csrf_param(request, web)
    wants_json = "application/json" in request.headers.get("accept", "")
    length = request.headers.get("content-length")
    chunks = request.stream()
    try:
        created = await recordings.create_recording(
            runtime=runtime,
            uploader=web.user,
            chunks=chunks,
            content_type=request.headers.get("content-type"),
            content_length=int(length) if length and length.isdigit() else None,
            blank_is_absent=True,
        )
    except (UploadError, MediaError, recordings.InvalidMetadata, ClientDisconnect) as exc:
        status = getattr(exc, "status", 422 if isinstance(exc, recordings.InvalidMetadata) else 400)
        if status not in (408, 413) and not isinstance(exc, ClientDisconnect):
            # Read what the browser is still sending, so it sees our answer instead of a reset connection.
            try:
                async for _ in chunks:
                    pass
            except ClientDisconnect:
                pass
        errors = _errors(exc)
        if wants_json:
            return JSONResponse({"detail": errors}, status_code=status)
        return page(request, "upload.html", web=web, cohorts=[c.value for c in Cohort], errors=errors,
                    status_code=status)
    if wants_json:
        return JSONResponse(
            {"id": created.recording.id, "status": created.job.state, "next": "/recordings?uploaded=1"},
            status_code=202,
        )
    return RedirectResponse("/recordings?uploaded=1", status_code=303)


# Fixed notices chosen by a code in the redirect's query.
NOTICES = {
    "retried": "The recording is queued for transcription again.",
    "deleted": "The recording, its audio and its key were deleted.",
}


def _row_rights(web: WebSession) -> dict[str, bool]:
    # Uploaders list only their own recordings and admins may act on any: whoever may upload may retry or delete
    # the failed rows they see (the service checks again).
    return {"can_review": web.user.role in Reviewer, "can_manage": web.user.role in Uploader}


@router.get("/recordings")
def recordings_page(
    request: Request, db_session: SessionDep, web: Lister, page_no: Annotated[PageNo, Query(alias="page")] = 1,
    uploaded: bool = False, done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    rows, total = rows_for(db_session=db_session, user=web.user, page_no=page_no)
    return page(request, "recordings.html", web=web, rows=rows, total=total, page_no=page_no, per_page=PER_PAGE,
                any_active=any(r.active for r in rows), uploaded=uploaded, notice=NOTICES.get(done or ""),
                **_row_rights(web))


@router.get("/recordings/rows")
def recording_rows(
    request: Request, db_session: SessionDep, web: Lister, page_no: Annotated[PageNo, Query(alias="page")] = 1,
) -> Response:
    """The table body alone, for the page's poller: the same template, so JS and no-JS show the same thing."""
    rows, _ = rows_for(db_session=db_session, user=web.user, page_no=page_no)
    context: dict[str, Any] = {"rows": rows, "any_active": any(r.active for r in rows), **_row_rights(web)}
    return page(request, "_recording_rows.html", web=web, **context)


@router.post("/recordings/{recording_id}/retry")
def retry(recording_id: str, runtime: RuntimeDep, form: UploaderForm) -> Response:
    recordings.retry_recording(runtime=runtime, actor=form.web.user, recording_id=recording_id)
    return RedirectResponse("/recordings?done=retried", status_code=303)


@router.post("/recordings/{recording_id}/delete")
def delete(recording_id: str, db_session: SessionDep, runtime: RuntimeDep, form: UploaderForm) -> Response:
    recordings.delete_recording(runtime=runtime, db_session=db_session, actor=form.web.user, recording_id=recording_id)
    return RedirectResponse("/recordings?done=deleted", status_code=303)
