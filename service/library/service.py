"""The researcher library: approved, anonymised transcripts only, listed by metadata and exported in the formats
researchers' tools read.

What a researcher sees about a transcript is reduced on purpose:
- the participant appears as a study pseudonym ("VIC-03"), never as the participant code, unless the admin setting
  `library_show_participant_codes` is on (then codes show in listings and manifests, never in transcripts or file
  names);
- interview dates are given to the month ("2026-11"): an exact date next to a force or a role can single out an
  officer or a victim, and the month is enough to place an interview in a period;
- file names are the document id (pseudonym + the first 8 hex digits of the random recording id) and the cohort.
Every download is audited per recording with its format (never text), through the redaction service's loader.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.errors import DomainError
from service.core.sealed import SealedStore
from service.library import index, reading
from service.library import query as search_syntax
from service.library.exports import FORMATS, Options, render
from service.library.exports.corpus import build_zip
from service.library.exports.qdpx import build_qdpx, role_of
from service.redaction import service as redaction

COHORT_PREFIX = redaction.PARTICIPANT_PREFIX


class LibraryError(DomainError):
    """A refused library request (filters, formats, nothing approved)."""

    @property
    def sentence(self) -> str:
        # The library pages have always shown the service's words as they are.
        return self.message


@dataclass(frozen=True)
class Entry:
    id: str
    document: str
    participant: str
    cohort: str
    interview_month: str
    study: str
    speakers: list[str]
    roles: list[str]
    duration_s: float
    participant_code: str | None = None
    # 1, or more once an admin reopened the review and it was approved again: the text was revised.
    revision: int = 1


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    body: bytes


def _entry(a: redaction.Approved, *, show_codes: bool) -> Entry:
    participant = a.participant_ref or f"{COHORT_PREFIX.get(a.cohort, 'OTH')}-{a.recording_id[:6]}"
    return Entry(
        id=a.recording_id,
        document=index.document_name(participant, a.recording_id),
        participant=participant,
        cohort=a.cohort,
        interview_month=a.interview_date.strftime("%Y-%m"),
        study=a.study,
        speakers=list(a.speaker_labels),
        roles=list(dict.fromkeys(role_of(s) for s in a.speaker_labels)),
        duration_s=round(a.duration_s, 3),
        participant_code=a.participant_code if show_codes else None,
        revision=a.revision,
    )


def month_range(month: str) -> tuple[date, date]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = date(year, mon, 1)
    except ValueError as exc:
        raise LibraryError(422, "month must be YYYY-MM") from exc
    return start, date(year + mon // 12, mon % 12 + 1, 1)


def find(
    *,
    db_session: Session,
    show_codes: bool,
    cohorts: list[str] | None = None,
    month: str | None = None,
    role: str | None = None,
    participant_code: str | None = None,
    study: str | None = None,
) -> list[Entry]:
    if participant_code is not None and not show_codes:
        # Not even as a filter: filtering by code would let a researcher link a code to a pseudonym.
        raise LibraryError(403, "participant codes are not available in the library (admin setting)")
    start, before = month_range(month) if month else (None, None)
    approved = redaction.approved_index(
        db_session=db_session,
        study=study,
        cohorts=cohorts,
        interviewed_from=start,
        interviewed_before=before,
        participant_code=participant_code,
    )
    entries = [_entry(a, show_codes=show_codes) for a in approved]
    if role:
        wanted = role.strip().lower()
        entries = [e for e in entries if any(r.lower() == wanted for r in e.roles)]
    return entries


def list_entries(
    *, db_session: Session, show_codes: bool, page: int, per_page: int, **filters: Any
) -> tuple[list[Entry], int]:
    entries = find(db_session=db_session, show_codes=show_codes, **filters)
    return entries[(page - 1) * per_page : page * per_page], len(entries)


def get_entry(*, db_session: Session, recording_id: str, show_codes: bool) -> Entry:
    found = redaction.approved_index(db_session=db_session, recording_id=recording_id)
    if not found:
        # Unknown and not-yet-approved look the same: the library never tells which recordings exist.
        raise LibraryError(404, "no approved transcript with this id")
    return _entry(found[0], show_codes=show_codes)


def export_document(entry: Entry, anonymised: dict[str, Any]) -> dict[str, Any]:
    """The anonymised document with the library's neutral metadata: what every format renders."""
    return {
        "document": entry.document,
        "id": entry.id,
        "participant": entry.participant,
        "cohort": entry.cohort,
        "interview_month": entry.interview_month,
        "study": entry.study,
        "revision": entry.revision,
        "language": anonymised.get("language"),
        "duration": anonymised.get("duration"),
        "speaker_labels": entry.speakers or redaction.shown_labels(anonymised),
        "speakers": anonymised.get("speakers", []),
        "speaker_turns": anonymised.get("speaker_turns", []),
        "segments": [
            {
                "id": seg.get("id", i),
                "start": seg["start"],
                "end": seg["end"],
                "speaker": seg.get("speaker"),
                "speaker_label": seg.get("speaker_label"),
                "text": seg["text"],
                "flags": seg.get("flags", []),
                "redactions": seg.get("redactions", []),
                "words": seg.get("words", []),
            }
            for i, seg in enumerate(anonymised["segments"])
        ],
    }


def _load(
    *, db_session: Session, sealed: SealedStore, entry: Entry, actor_id: int, action: str, details: dict[str, Any]
) -> dict[str, Any]:
    anonymised = redaction.load_anonymised(
        db_session=db_session, sealed=sealed, recording_id=entry.id, actor_id=actor_id, action=action,
        details=details,
    )
    return export_document(entry, anonymised)


def download(
    *, db_session: Session, sealed: SealedStore, recording_id: str, actor_id: int, fmt: str, options: Options,
    show_codes: bool,
) -> Download:
    if fmt not in FORMATS:
        raise LibraryError(422, f"unknown format {fmt!r}")
    entry = get_entry(db_session=db_session, recording_id=recording_id, show_codes=show_codes)
    document = _load(db_session=db_session, sealed=sealed, entry=entry, actor_id=actor_id, action="library.download",
                     details={"format": fmt})
    spec = FORMATS[fmt]
    return Download(f"{entry.document}.{spec.extension}", spec.media_type, render(document, fmt, options))


def export_corpus(
    *,
    db_session: Session,
    sealed: SealedStore,
    actor_id: int,
    fmt: str,
    include: list[str],
    options: Options,
    show_codes: bool,
    cohorts: list[str] | None = None,
    month: str | None = None,
    role: str | None = None,
    study: str | None = None,
) -> Download:
    if fmt not in ("zip", "qdpx"):
        raise LibraryError(422, f"unknown corpus format {fmt!r}")
    bad = [f for f in include if f not in FORMATS]
    if bad or not include:
        raise LibraryError(422, f"include must list formats among {', '.join(FORMATS)}")
    entries = find(db_session=db_session, show_codes=show_codes, cohorts=cohorts, month=month, role=role, study=study)
    if not entries:
        raise LibraryError(404, "no approved transcripts match these filters")
    export_id = uuid.uuid4().hex[:12]  # ties the per-recording audit events of one export together
    documents = [
        _load(db_session=db_session, sealed=sealed, entry=entry, actor_id=actor_id, action="library.export",
              details={"format": fmt, "export": export_id})
        for entry in entries
    ]
    # Only with the admin setting on, and then only in the manifest: transcripts and file names never carry codes.
    codes = {e.id: e.participant_code for e in entries if e.participant_code is not None}
    scope = "-".join(sorted(set(cohorts))) if cohorts else "all"
    studies = sorted({e.study for e in entries})
    name = f"anonscribe-{scope}"
    if fmt == "qdpx":
        title = f"anonscribe {', '.join(studies)}: {scope if cohorts else 'all cohorts'}"
        body = build_qdpx(documents, study=studies[0] if len(studies) == 1 else "+".join(studies), title=title,
                          timestamps=options.timestamps)
        return Download(f"{name}.qdpx", "application/zip", body)
    about = {"studies": studies, "cohorts": sorted(set(cohorts)) if cohorts else "all", "month": month,
             "role": role, "formats": list(include), "count": len(documents),
             "dates": "interview dates are given to the month"}
    body = build_zip(documents, include=include, options=options, about=about, participant_codes=codes)
    return Download(f"{name}.zip", "application/zip", body)


# ---- reading and search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    entry: Entry
    language: str | None
    turns: list[reading.Turn]


def read(*, db_session: Session, sealed: SealedStore, recording_id: str, actor_id: int, show_codes: bool) -> Reading:
    """One transcript to read in the browser, turn by turn (audited like a download, as `library.read`)."""
    entry = get_entry(db_session=db_session, recording_id=recording_id, show_codes=show_codes)
    document = _load(db_session=db_session, sealed=sealed, entry=entry, actor_id=actor_id, action="library.read",
                     details={"format": "page"})
    return Reading(entry=entry, language=document.get("language"), turns=reading.turns(document))


@dataclass(frozen=True)
class Hit:
    id: str
    document: str
    cohort: str
    interview_month: str
    turn: int
    speaker: str
    start: float
    end: float
    snippet: str
    highlights: list[tuple[int, int]]

    @property
    def url(self) -> str:
        return f"/library/{self.id}#turn-{self.turn}"


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int
    documents: int


def search(
    *, db_session: Session, actor_id: int, q: str, page: int, per_page: int, cohorts: list[str] | None = None,
    month: str | None = None, role: str | None = None, study: str | None = None,
) -> Results:
    """Turns of approved transcripts matching `q` (syntax: service/library/query.py). Audited with counts only:
    the query itself may hold a name, so it is neither stored nor logged."""
    if month:
        month_range(month)  # the same check as the list's filter
    parsed = search_syntax.parse(q)
    found = index.search(db_session=db_session, query=parsed, cohorts=cohorts, month=month, role=role,
                         study=study, limit=per_page, offset=(page - 1) * per_page)
    audit.record(
        db_session=db_session, action="library.search", actor_id=actor_id, object_type="library",
        details={"terms": parsed.terms, "hits": found.total, "documents": found.documents,
                 "filters": sum(bool(f) for f in (cohorts, month, role, study))},
    )
    hits = []
    for row in found.rows:
        text, marks = search_syntax.snippet(row.text, parsed)
        hits.append(Hit(id=row.recording_id, document=row.document, cohort=row.cohort,
                        interview_month=row.interview_month, turn=row.turn, speaker=row.speaker, start=row.start,
                        end=row.end, snippet=text, highlights=marks))
    return Results(hits=hits, total=found.total, documents=found.documents)


def index_missing(*, db_session: Session, sealed: SealedStore) -> int:
    """Index approved transcripts the index doesn't hold yet (those approved before it existed: the migration can't
    open sealed documents, so the app does it once at start). Returns how many were indexed."""
    done = index.indexed(db_session=db_session)
    n = 0
    for a in redaction.approved_index(db_session=db_session):
        if a.recording_id in done:
            continue
        entry = _entry(a, show_codes=False)
        anonymised = redaction.load_anonymised(db_session=db_session, sealed=sealed, recording_id=a.recording_id,
                                               actor_id=None, action="library.index")
        index.replace(db_session=db_session, recording_id=a.recording_id, document=entry.document, study=a.study,
                      cohort=a.cohort, interview_month=entry.interview_month, anonymised=anonymised)
        n += 1
    return n
