"""The library's full-text index: one row per speaker turn of each approved transcript, anonymised text only.

SQLite (the embedded default): `library_search` is an FTS5 virtual table; PostgreSQL: a table with a tsvector
column under a GIN index (alembic 0008_library_search creates both). Both index the same tokens (`query.tokens`),
so one query syntax matches the same turns on either. `library_search_documents` says which recordings are indexed
and holds the metadata the filters use.

Kept in step with the anonymised transcript by the redaction domain: `replace` at approval (idempotent: a
re-approval replaces the rows), `remove` when the transcript goes (withdrawal, deletion). On SQLite a removal also
merges the FTS5 segments ('optimize'), so the removed words leave the index's b-trees too, and not only its
content table (secure_delete then zeroes the freed pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from service.core.clock import utcnow
from service.library import query as q
from service.library.models import SearchDocument
from service.library.reading import turns

# SQL here is put together from this module's constants and bind-parameter names only (hence the S608 noqa marks);
# every value, the rendered query included, is a bound parameter.
TABLE = "library_search"


def document_name(participant: str, recording_id: str) -> str:
    """The document id researchers see: pseudonym and the first 8 hex digits of the random recording id."""
    return f"{participant}_{recording_id[:8]}"


def _sqlite(db_session: Session) -> bool:
    return db_session.get_bind().dialect.name == "sqlite"


def replace(
    *, db_session: Session, recording_id: str, document: str, study: str, cohort: str, interview_month: str,
    anonymised: dict[str, Any],
) -> int:
    """Index (or index again) one approved transcript; returns its number of turns."""
    remove(db_session=db_session, recording_ids=[recording_id])
    rows = []
    for turn in turns(anonymised):
        said = turn.text.replace("\x00", "")  # PostgreSQL text holds no NUL; an edited segment could carry one
        words = q.tokens(said)
        rows.append({"rid": recording_id, "turn": turn.n, "speaker": turn.speaker or "", "role": turn.role,
                     "start": turn.start, "end": turn.end, "text": said,
                     "terms": " ".join(words) if _sqlite(db_session) else q.to_tsvector(words)})
    if rows:
        columns = "recording_id, turn, speaker, role, start_s, end_s, text, terms"
        terms = ":terms" if _sqlite(db_session) else "CAST(:terms AS tsvector)"
        values = f":rid, :turn, :speaker, :role, :start, :end, :text, {terms}"
        db_session.execute(text(f"INSERT INTO {TABLE} ({columns}) VALUES ({values})"), rows)  # noqa: S608
    db_session.add(SearchDocument(recording_id=recording_id, document=document, study=study, cohort=cohort,
                                  interview_month=interview_month, turns=len(rows), indexed_at=utcnow()))
    db_session.flush()
    return len(rows)


def remove(*, db_session: Session, recording_ids: Sequence[str]) -> int:
    """Drop these recordings' turns from the index; returns how many turns went."""
    return remove_counted(db_session=db_session, recording_ids=recording_ids)[0]


def remove_counted(*, db_session: Session, recording_ids: Sequence[str]) -> tuple[int, int]:
    """Drop these recordings from the index; returns (turns, document rows) that went (a withdrawal's receipt)."""
    ids = list(recording_ids)
    if not ids:
        return 0, 0
    gone = documents = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ", ".join(f":r{j}" for j in range(len(chunk)))
        result = db_session.execute(text(f"DELETE FROM {TABLE} WHERE recording_id IN ({marks})"),  # noqa: S608
                                    {f"r{j}": rid for j, rid in enumerate(chunk)})
        gone += result.rowcount  # type: ignore[attr-defined]
        result = db_session.execute(delete(SearchDocument).where(SearchDocument.recording_id.in_(chunk))
                                    .execution_options(synchronize_session=False))
        documents += result.rowcount  # type: ignore[attr-defined]
    if gone and _sqlite(db_session):
        # FTS5 keeps a deleted row's tokens in its segment b-trees until they are merged: merge now.
        db_session.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')"))  # noqa: S608
    return gone, documents


def indexed(*, db_session: Session) -> set[str]:
    return set(db_session.execute(select(SearchDocument.recording_id)).scalars())


@dataclass(frozen=True)
class Row:
    recording_id: str
    document: str
    cohort: str
    interview_month: str
    turn: int
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Found:
    rows: list[Row]
    total: int  # matching turns
    documents: int  # in how many transcripts


def search(
    *, db_session: Session, query: q.Query, cohorts: Sequence[str] | None = None, month: str | None = None,
    role: str | None = None, study: str | None = None, limit: int, offset: int,
) -> Found:
    """Matching turns, best first (BM25 on SQLite, ts_rank on PostgreSQL), then by interview month and turn."""
    sqlite = _sqlite(db_session)
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if sqlite:
        params["q"] = q.to_fts5(query)
        source = f"{TABLE} JOIN library_search_documents d ON d.recording_id = {TABLE}.recording_id"
        where = [f"{TABLE} MATCH :q"]
        score, order = f"bm25({TABLE})", "ASC"
    else:
        params["q"] = q.to_tsquery(query)
        source = (f"{TABLE} JOIN library_search_documents d ON d.recording_id = {TABLE}.recording_id, "
                  "CAST(:q AS tsquery) AS query")
        where = [f"{TABLE}.terms @@ query"]
        score, order = f"ts_rank({TABLE}.terms, query)", "DESC"
    if cohorts:
        where.append("d.cohort IN (" + ", ".join(f":c{i}" for i in range(len(cohorts))) + ")")
        params.update({f"c{i}": c for i, c in enumerate(cohorts)})
    if month:
        where.append("d.interview_month = :month")
        params["month"] = month
    if study:
        where.append("d.study = :study")
        params["study"] = study
    if role:
        where.append(f"lower({TABLE}.role) = :role")
        params["role"] = role.strip().lower()
    condition = " AND ".join(where)
    counted = f"SELECT count(*), count(DISTINCT {TABLE}.recording_id) FROM {source} WHERE {condition}"  # noqa: S608
    total, documents = db_session.execute(text(counted), params).one()
    listed = (
        f"SELECT {TABLE}.recording_id, d.document, d.cohort, d.interview_month, {TABLE}.turn, {TABLE}.speaker, "  # noqa: S608
        f"{TABLE}.start_s, {TABLE}.end_s, {TABLE}.text FROM {source} WHERE {condition} "
        f"ORDER BY {score} {order}, d.interview_month, {TABLE}.recording_id, {TABLE}.turn "
        "LIMIT :limit OFFSET :offset"
    )
    rows = db_session.execute(text(listed), params).all()
    return Found(
        rows=[Row(r[0], r[1], r[2], r[3], int(r[4]), r[5], float(r[6]), float(r[7]), r[8]) for r in rows],
        total=int(total), documents=int(documents),
    )


def counts(*, db_session: Session) -> tuple[int, int]:
    """(indexed documents, indexed turns)."""
    docs = db_session.execute(select(func.count()).select_from(SearchDocument)).scalar_one()
    rows = db_session.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar_one()  # noqa: S608
    return int(docs), int(rows)
