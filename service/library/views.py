"""Researcher library routes: list approved anonymised transcripts, download one, export a corpus."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from service.auth.models import Role, User
from service.core.ints import PageNo
from service.deps import RuntimeDep, SealedDep, SessionDep, require_roles
from service.library import service
from service.library.exports import FORMATS, Options
from service.library.schemas import (
    MONTH_PATTERN,
    CorpusFormat,
    DocFormat,
    LibraryItem,
    LibraryPage,
    SearchHit,
    SearchPage,
)
from service.openapi import content
from service.recordings.models import Cohort

router = APIRouter(prefix="/api/v1/library", tags=["library"])

Reader = Annotated[User, Depends(require_roles(Role.admin, Role.researcher))]
Cohorts = Annotated[list[Cohort] | None, Query(description="police, victim or other; repeat for several")]
Month = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="interview month, YYYY-MM")]
SpeakerRole = Annotated[
    str | None, Query(max_length=32, description="transcripts with a speaker of this role, e.g. Officer, Victim")
]
Study = Annotated[str | None, Query(max_length=64)]
Timestamps = Annotated[bool, Query(description="time of each turn (TXT, DOCX, CSV, QDA sources)")]
LineNumbers = Annotated[bool, Query(description="DOCX: Word line numbering")]
RecordingId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
SEARCH_SYNTAX = (
    'words (all must occur in the turn), "a phrase", word* (prefix), -word or -"a phrase" (exclude), a OR b. '
    "Case and accents are ignored; other punctuation separates words."
)


def _file(download: service.Download) -> Response:
    # Names are built from pseudonyms and hex ids only, so they need no quoting beyond the quotes themselves.
    return Response(
        download.body,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("", response_model=LibraryPage, response_model_exclude_none=True)
def list_library(
    db_session: SessionDep,
    runtime: RuntimeDep,
    user: Reader,
    cohort: Cohorts = None,
    month: Month = None,
    role: SpeakerRole = None,
    study: Study = None,
    participant_code: Annotated[str | None, Query(max_length=32, description="only if the admin allows")] = None,
    page: Annotated[PageNo, Query()] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LibraryPage:
    """Approved, anonymised transcripts only. Participants appear as pseudonyms, interview dates as months."""
    entries, total = service.list_entries(
        db_session=db_session,
        show_codes=runtime.settings.library_show_participant_codes,
        page=page,
        per_page=per_page,
        cohorts=[c.value for c in cohort] if cohort else None,
        month=month,
        role=role,
        study=study,
        participant_code=participant_code,
    )
    return LibraryPage(
        items=[LibraryItem.model_validate(e, from_attributes=True) for e in entries],
        total=total,
        page=page,
        per_page=per_page,
    )


# Declared before /{recording_id}, which would otherwise match "search" and "export".
@router.get("/search", response_model=SearchPage)
def search_library(
    db_session: SessionDep,
    user: Reader,
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=500, description=SEARCH_SYNTAX)],
    cohort: Cohorts = None,
    month: Month = None,
    role: Annotated[str | None, Query(max_length=32, description="turns spoken by this role, e.g. Officer")] = None,
    study: Study = None,
    page: Annotated[PageNo, Query()] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchPage:
    """Full-text search of approved, anonymised transcripts, one hit per speaker turn, best first. Audited with
    counts only (never the query)."""
    response.headers["Cache-Control"] = "no-store"  # snippets are transcript text
    found = service.search(
        db_session=db_session, actor_id=user.id, q=q, page=page, per_page=per_page,
        cohorts=[c.value for c in cohort] if cohort else None, month=month, role=role, study=study,
    )
    return SearchPage(
        items=[SearchHit(**{**vars(h), "url": h.url}) for h in found.hits],
        total=found.total, documents=found.documents, page=page, per_page=per_page,
    )


@router.get("/export", responses={200: {"content": content("application/zip")}})
def export_corpus(
    db_session: SessionDep,
    runtime: RuntimeDep,
    sealed: SealedDep,
    user: Reader,
    format: CorpusFormat = "zip",
    cohort: Cohorts = None,
    month: Month = None,
    role: SpeakerRole = None,
    study: Study = None,
    include: Annotated[list[DocFormat] | None, Query(description="ZIP: formats per transcript (txt, docx)")] = None,
    timestamps: Timestamps = True,
    line_numbers: LineNumbers = False,
) -> Response:
    """A cohort (or, without `cohort`, the whole study) as a ZIP with a manifest, or as a REFI-QDA project."""
    download = service.export_corpus(
        db_session=db_session,
        sealed=sealed,
        actor_id=user.id,
        fmt=format,
        include=list(dict.fromkeys(include or ["txt", "docx"])),
        options=Options(timestamps=timestamps, line_numbers=line_numbers),
        show_codes=runtime.settings.library_show_participant_codes,
        cohorts=[c.value for c in cohort] if cohort else None,
        month=month,
        role=role,
        study=study,
    )
    return _file(download)


@router.get("/{recording_id}", responses={200: {"content": content(*(f.media_type for f in FORMATS.values()))}})
def download_transcript(
    recording_id: RecordingId,
    db_session: SessionDep,
    runtime: RuntimeDep,
    sealed: SealedDep,
    user: Reader,
    format: DocFormat = "txt",
    timestamps: Timestamps = True,
    line_numbers: LineNumbers = False,
) -> Response:
    download = service.download(
        db_session=db_session,
        sealed=sealed,
        recording_id=recording_id,
        actor_id=user.id,
        fmt=format,
        options=Options(timestamps=timestamps, line_numbers=line_numbers),
        show_codes=runtime.settings.library_show_participant_codes,
    )
    return _file(download)
