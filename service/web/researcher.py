"""The researcher library: approved, anonymised transcripts only, with filters, per-format downloads and corpora."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from service.core.ints import PageNo
from service.deps import RuntimeDep, SealedDep, SessionDep
from service.library import service as library
from service.library.exports import FORMATS, Options
from service.library.query import QueryError
from service.library.schemas import MONTH_PATTERN
from service.recordings.models import Cohort
from service.speakers import roles as vocabulary
from service.web.errors import PageError
from service.web.session import Reader, WebSession, require
from service.web.templating import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ReaderPage = Annotated[WebSession, Depends(require(*Reader))]
PER_PAGE = 50
HITS_PER_PAGE = 20
ROLES = vocabulary.all_words()
Cohorts = Annotated[list[Cohort] | None, Query()]
# An empty month or role input means "any": browsers send every input of a GET form.
Month = Annotated[str | None, Query(max_length=7)]
RoleFilter = Annotated[str | None, Query(max_length=32)]


def _month(value: str | None) -> str | None:
    if not value:
        return None
    if not re.match(MONTH_PATTERN, value):
        raise PageError(422, "The month must be given as YYYY-MM.")
    return value


def _file(download: library.Download) -> Response:
    return Response(
        download.body,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )


@router.get("/library")
def library_page(
    request: Request, db_session: SessionDep, runtime: RuntimeDep, web: ReaderPage, cohort: Cohorts = None,
    month: Month = None, role: RoleFilter = None, page_no: Annotated[PageNo, Query(alias="page")] = 1,
) -> Response:
    entries, total = library.list_entries(
        db_session=db_session, show_codes=runtime.settings.library_show_participant_codes, page=page_no,
        per_page=PER_PAGE, cohorts=[c.value for c in cohort] if cohort else None, month=_month(month),
        role=role or None,
    )
    chosen = [c.value for c in cohort] if cohort else []
    return page(
        request, "library.html", web=web, entries=entries, total=total, page_no=page_no, per_page=PER_PAGE,
        cohorts=[c.value for c in Cohort], chosen=chosen, month=month or "", role=role or "", roles=ROLES,
        formats=list(FORMATS), show_codes=runtime.settings.library_show_participant_codes,
    )


@router.get("/library/export")
def export(
    db_session: SessionDep, runtime: RuntimeDep, sealed: SealedDep, web: ReaderPage, cohort: Cohorts = None,
    month: Month = None, role: RoleFilter = None, format: Literal["zip", "qdpx"] = "zip",
    include: Annotated[list[str] | None, Query()] = None, timestamps: Literal["yes", "no"] = "yes",
) -> Response:
    download = library.export_corpus(
        db_session=db_session, sealed=sealed, actor_id=web.user.id, fmt=format,
        include=list(dict.fromkeys(include or ["txt", "docx"])), options=Options(timestamps=timestamps == "yes"),
        show_codes=runtime.settings.library_show_participant_codes,
        cohorts=[c.value for c in cohort] if cohort else None, month=_month(month), role=role or None,
    )
    return _file(download)


def _marked(snippet: str, highlights: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The snippet as (text, is a hit) pieces, so the template marks hits without trusting any markup."""
    out, pos = [], 0
    for start, end in highlights:
        out += [(snippet[pos:start], False), (snippet[start:end], True)]
        pos = end
    return [p for p in [*out, (snippet[pos:], False)] if p[0]]


# Declared before /library/{recording_id}, which would otherwise match "search".
@router.get("/library/search")
def search_page(
    request: Request, db_session: SessionDep, web: ReaderPage, q: Annotated[str, Query(max_length=500)] = "",
    cohort: Cohorts = None, month: Month = None, role: RoleFilter = None,
    page_no: Annotated[PageNo, Query(alias="page")] = 1,
) -> Response:
    chosen = [c.value for c in cohort] if cohort else []
    context = {"q": q, "cohorts": [c.value for c in Cohort], "chosen": chosen, "month": month or "",
               "role": role or "", "roles": ROLES, "page_no": page_no, "per_page": HITS_PER_PAGE}
    if not q.strip():
        return page(request, "library_search.html", web=web, results=None, error=None, **context)
    try:
        results = library.search(
            db_session=db_session, actor_id=web.user.id, q=q, page=page_no, per_page=HITS_PER_PAGE,
            cohorts=chosen or None, month=_month(month), role=role or None,
        )
    except QueryError as exc:
        # The form again, with what to change: a query the syntax can't use is the user's to fix.
        return page(request, "library_search.html", web=web, results=None, error=exc.sentence, status_code=422,
                    **context)
    hits = [(h, _marked(h.snippet, h.highlights)) for h in results.hits]
    return page(request, "library_search.html", web=web, results=results, hits=hits, error=None, **context)


@router.get("/library/{recording_id}/download")
def download(
    recording_id: str,
    db_session: SessionDep, runtime: RuntimeDep, sealed: SealedDep, web: ReaderPage,
    format: Literal["txt", "docx", "vtt", "srt", "json", "csv"] = "txt",
    timestamps: Literal["yes", "no"] = "yes", line_numbers: Literal["yes", "no"] = "no",
) -> Response:
    found = library.download(
        db_session=db_session, sealed=sealed, recording_id=recording_id, actor_id=web.user.id,
        fmt=format, options=Options(timestamps=timestamps == "yes", line_numbers=line_numbers == "yes"),
        show_codes=runtime.settings.library_show_participant_codes,
    )
    return _file(download=found)


@router.get("/library/{recording_id}")
def read_page(
    recording_id: str, request: Request, db_session: SessionDep, runtime: RuntimeDep, sealed: SealedDep,
    web: ReaderPage,
) -> Response:
    """The transcript as the DOCX reads: numbered speaker turns (`#turn-N`), times, role colours, redaction tags."""
    found = library.read(db_session=db_session, sealed=sealed, recording_id=recording_id, actor_id=web.user.id,
                         show_codes=runtime.settings.library_show_participant_codes)
    roles = list(dict.fromkeys(t.role for t in found.turns if t.role))
    return page(request, "library_read.html", web=web, reading=found, entry=found.entry, roles=roles,
                formats=list(FORMATS), show_codes=runtime.settings.library_show_participant_codes)
