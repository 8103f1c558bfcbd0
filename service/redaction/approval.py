"""Approval: accepted (and undecided) spans become pseudonyms, and the sealed anonymised transcript is written; when
in doubt, redact. Also what the library reads of approved transcripts."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.sealed import SealedStore, record_context
from service.library import index as search_index
from service.recordings import jobs
from service.recordings.models import JobState, Recording
from service.redaction.anonymise import Replacement, anonymised_view
from service.redaction.models import AnonymisedTranscript, SpanStatus
from service.redaction.pseudonyms import (
    _load_state,
    _new_pseudonymiser,
    _pipeline_span,
    _study,
    participant_ref,
    save_study_map,
)
from service.redaction.review import ReviewError, _load_raw, list_spans
from service.speakers import service as speakers
from service.transcripts import versions


def shown_labels(document: dict[str, Any]) -> list[str]:
    """Speaker labels in order of first speech (roles such as "Officer 2", never names)."""
    seen: dict[str, None] = {}
    for seg in document["segments"]:
        if seg.get("speaker_label"):
            seen.setdefault(seg["speaker_label"], None)
    return list(seen)


def _anon_context(recording_id: str) -> bytes:
    return record_context("anonymised", recording_id)


def approve(*, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int | None) -> dict[str, Any]:
    """Everything not rejected is redacted; the study map is locked while tags are assigned."""
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording.id)
    if job is None or job.state != JobState.needs_review.value:
        raise ReviewError(409, "only a transcript waiting for review can be approved")
    # The working text (with the reviewer's corrections); the approval event covers this read.
    raw = _load_raw(db_session, sealed, recording, actor_id, audited=False)
    edited = versions.history(db_session=db_session, recording_id=recording.id)
    raw = speakers.apply(
        raw, speakers.list_slots(db_session=db_session, recording_id=recording.id), cohort=recording.cohort
    )
    study = _study(recording)
    mapping, sources = _load_state(db_session=db_session, sealed=sealed, study=study, lock=True)
    pseudo = _new_pseudonymiser(mapping)
    by_segment: dict[int, list[Replacement]] = {}
    count = 0
    for span in list_spans(db_session=db_session, recording_id=recording.id):
        if span.status == SpanStatus.rejected.value:
            continue
        text = raw["segments"][span.segment]["text"]
        by_segment.setdefault(span.segment, []).append((span.start, span.end, pseudo.tag(_pipeline_span(span, text))))
        count += 1
    document = anonymised_view(raw, by_segment)
    mapping = pseudo.mapping()
    participant = participant_ref(mapping, cohort=recording.cohort, participant_code=recording.participant_code)
    # Every entry whose tag this transcript uses now counts this recording among its sources; the participant's
    # own entry too, so a withdrawal removes it with their last transcript.
    used = {tag for reps in by_segment.values() for _, _, tag in reps} | {participant}
    for key, tag in mapping.items():
        if tag in used:
            sources.setdefault(key, set()).add(recording.id)
    save_study_map(db_session=db_session, sealed=sealed, study=study, mapping=mapping, sources=sources)
    existing = db_session.execute(
        select(AnonymisedTranscript).where(AnonymisedTranscript.recording_id == recording.id)
    ).scalar_one_or_none()
    key_id, ciphertext = sealed.seal_record(
        db_session=db_session, purpose="anonymised_transcript", context=_anon_context(recording.id),
        value=json.dumps(document).encode(),
    )
    # A re-approval after an admin reopened the review replaces the library's version and counts a revision.
    revision = 1
    if existing is not None:
        revision = (existing.revision or 1) + 1
        sealed.destroy_record(db_session=db_session, key_id=existing.key_id)
        db_session.delete(existing)
        db_session.flush()
    # The corrections are final now: only the approved text stays (what a reopened review would start from).
    versions.squash(db_session=db_session, sealed=sealed, recording_id=recording.id)
    db_session.add(
        AnonymisedTranscript(
            id=uuid.uuid4().hex,
            recording_id=recording.id,
            key_id=key_id,
            ciphertext=ciphertext,
            span_count=count,
            approved_by=actor_id,
            approved_at=utcnow(),
            participant_ref=participant,
            speaker_labels=shown_labels(document),
            revision=revision,
        )
    )
    # The library's full-text index follows the approved text (a re-approval replaces the recording's rows).
    search_index.replace(
        db_session=db_session, recording_id=recording.id,
        document=search_index.document_name(participant, recording.id), study=study, cohort=recording.cohort,
        interview_month=recording.interview_date.strftime("%Y-%m"),
        anonymised=document,
    )
    jobs.mark_approved(db_session=db_session, job_id=job.id)
    audit.record(
        db_session=db_session,
        action="transcript.approve",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording.id,
        details={"spans": count, "auto": actor_id is None, "revision": revision,
                 "edits": edited["edits"]},
    )
    db_session.flush()
    return document


def load_anonymised(
    *,
    db_session: Session,
    sealed: SealedStore,
    recording_id: str,
    actor_id: int | None,
    action: str = "transcript.view_anonymised",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Decrypt the approved document; the caller names the audited action (a library download says which format)."""
    row = db_session.execute(
        select(AnonymisedTranscript).where(AnonymisedTranscript.recording_id == recording_id)
    ).scalar_one_or_none()
    if row is None:
        raise ReviewError(409, "the transcript has not been approved yet")
    data: dict[str, Any] = json.loads(
        sealed.open_record(db_session=db_session, key_id=row.key_id, ciphertext=row.ciphertext,
                           context=_anon_context(recording_id))
    )
    audit.record(
        db_session=db_session,
        action=action,
        actor_id=actor_id,
        object_type="recording",
        object_id=recording_id,
        details=details,
    )
    return data


@dataclass(frozen=True)
class Approved:
    """One approved transcript as the library indexes it: metadata only, no text."""

    recording_id: str
    study: str
    cohort: str
    interview_date: date
    participant_code: str
    participant_ref: str | None
    speaker_labels: list[str]
    duration_s: float
    approved_at: datetime
    revision: int = 1


def approved_index(
    *,
    db_session: Session,
    recording_id: str | None = None,
    study: str | None = None,
    cohorts: list[str] | None = None,
    interviewed_from: date | None = None,
    interviewed_before: date | None = None,
    participant_code: str | None = None,
) -> list[Approved]:
    """Approved transcripts with their recording's metadata, oldest interview first. Never loads ciphertext."""
    query = select(
        AnonymisedTranscript.recording_id,
        Recording.study,
        Recording.cohort,
        Recording.interview_date,
        Recording.participant_code,
        AnonymisedTranscript.participant_ref,
        AnonymisedTranscript.speaker_labels,
        Recording.duration_s,
        AnonymisedTranscript.approved_at,
        AnonymisedTranscript.revision,
    ).join(Recording, Recording.id == AnonymisedTranscript.recording_id)
    if recording_id is not None:
        query = query.where(AnonymisedTranscript.recording_id == recording_id)
    if study is not None:
        query = query.where(Recording.study == study)
    if cohorts:
        query = query.where(Recording.cohort.in_(cohorts))
    if interviewed_from is not None:
        query = query.where(Recording.interview_date >= interviewed_from)
    if interviewed_before is not None:
        query = query.where(Recording.interview_date < interviewed_before)
    if participant_code is not None:
        query = query.where(func.upper(Recording.participant_code) == participant_code.upper())
    query = query.order_by(Recording.interview_date, Recording.cohort, AnonymisedTranscript.recording_id)
    return [
        Approved(
            recording_id=r[0], study=r[1], cohort=r[2], interview_date=r[3], participant_code=r[4],
            participant_ref=r[5], speaker_labels=list(r[6] or []), duration_s=float(r[7]), approved_at=r[8],
            revision=int(r[9] or 1),
        )
        for r in db_session.execute(query).all()
    ]
