"""What the retention domain asks of redaction: deleting a recording's spans and anonymised transcript, approval
times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from service.core.sealed import SealedStore
from service.library import index as search_index
from service.recordings.models import Job, JobState
from service.redaction.models import AnonymisedTranscript, RedactionSpan


def delete_for_recording(*, db_session: Session, sealed: SealedStore, recording_id: str) -> dict[str, int]:
    spans = db_session.execute(delete(RedactionSpan).where(RedactionSpan.recording_id == recording_id))
    anonymised = 0
    for row in db_session.execute(
        select(AnonymisedTranscript).where(AnonymisedTranscript.recording_id == recording_id)
    ).scalars():
        sealed.destroy_record(db_session=db_session, key_id=row.key_id)
        db_session.delete(row)
        anonymised += 1
    # The library's search rows hold the anonymised text: they go with it.
    turns, documents = search_index.remove_counted(db_session=db_session, recording_ids=[recording_id])
    return {"redaction_spans": spans.rowcount, "anonymised_transcripts": anonymised,  # type: ignore[attr-defined]
            "search_index_rows": turns + documents}


def approved_before(cutoff: datetime) -> Select[tuple[str]]:
    """Ids of recordings whose transcript was approved at or before `cutoff` (a subquery for the sweeps). A review an
    admin reopened is not approved until it is approved again (which restarts the count): its raw transcript must
    not go in the middle of the correction."""
    reopened = select(Job.recording_id).where(Job.state == JobState.needs_review.value)
    return select(AnonymisedTranscript.recording_id).where(
        AnonymisedTranscript.approved_at <= cutoff, AnonymisedTranscript.recording_id.not_in(reopened)
    )


def delete_spans(*, db_session: Session, recording_ids: Sequence[str]) -> int:
    """Spans point into the unredacted text: they go with it."""
    n = 0
    for i in range(0, len(recording_ids), 500):
        result = db_session.execute(
            delete(RedactionSpan)
            .where(RedactionSpan.recording_id.in_(list(recording_ids[i : i + 500])))
            .execution_options(synchronize_session=False)
        )
        n += result.rowcount  # type: ignore[attr-defined]
    return n


def approval_times(*, db_session: Session, recording_ids: Sequence[str]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    ids = list(recording_ids)
    for i in range(0, len(ids), 500):
        out.update(
            db_session.execute(
                select(AnonymisedTranscript.recording_id, AnonymisedTranscript.approved_at).where(
                    AnonymisedTranscript.recording_id.in_(ids[i : i + 500])
                )
            ).tuples().all()
        )
    return out
