"""Redaction review: detected spans, reviewer decisions, study-wide pseudonyms, approval.

Spans hold positions, never text; text is read from the sealed raw transcript when a reviewer asks,
and that read is audited. Approval turns accepted (and undecided) spans into pseudonyms: when in
doubt, redact.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.core.sealed import SealedStore, record_context
from service.recordings import jobs
from service.recordings.models import FINAL_STATES, JobState, Recording
from service.redaction.anonymise import Replacement, anonymised_view
from service.redaction.models import AnonymisedTranscript, PseudonymMap, RedactionSpan, SpanOrigin, SpanStatus
from service.speakers import service as speakers
from service.transcripts import service as transcripts

CONTEXT_CHARS = 60


class ReviewError(DomainError):
    """A refused review step (span, state of the transcript, deleted audio or text)."""


class TextNotFound(ReviewError):
    pass


def replace_detected(*, db_session: Session, recording_id: str, detected: list[list[dict[str, Any]]]) -> int:
    """Worker output, idempotent per recording: a retried job replaces, never duplicates."""
    db_session.execute(delete(RedactionSpan).where(RedactionSpan.recording_id == recording_id))
    now = utcnow()
    n = 0
    for segment, spans in enumerate(detected):
        for sp in spans:
            db_session.add(
                RedactionSpan(
                    recording_id=recording_id,
                    segment=segment,
                    start=sp["start"],
                    end=sp["end"],
                    label=sp["label"],
                    layers=list(sp.get("layers", [])),
                    confidence=float(sp.get("confidence", 1.0)),
                    uncertain=bool(sp.get("uncertain", False)),
                    status=SpanStatus.pending.value,
                    origin=SpanOrigin.detected.value,
                    created_at=now,
                )
            )
            n += 1
    db_session.flush()
    return n


def list_spans(*, db_session: Session, recording_id: str) -> list[RedactionSpan]:
    return list(
        db_session.execute(
            select(RedactionSpan)
            .where(RedactionSpan.recording_id == recording_id)
            .order_by(RedactionSpan.segment, RedactionSpan.start)
        ).scalars()
    )


def _load_raw(
    db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int | None, *, audited: bool
) -> dict[str, Any]:
    try:
        return transcripts.load_raw(
            db_session=db_session, sealed=sealed, recording_id=recording.id, actor_id=actor_id, audited=audited
        )
    except transcripts.TranscriptNotReady as exc:
        if recording.raw_transcript_deleted_at is not None:
            raise ReviewError(410, "the unredacted transcript was deleted under the retention policy") from exc
        raise ReviewError(409, "the transcript is not ready for review") from exc


APPROVED = (
    "this transcript has been approved; its redactions can no longer change (the anonymised transcript in the "
    "library is final)"
)


def _require_reviewable(db_session: Session, recording_id: str) -> None:
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording_id)
    if job is None or job.state not in (JobState.needs_review.value, JobState.completed.value):
        raise ReviewError(409, "the transcript is not ready for review")


def _require_editable(db_session: Session, recording_id: str) -> None:
    """Decisions count only until approval: after it they would change a span and nothing the library serves."""
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording_id)
    if job is not None and job.state == JobState.completed.value:
        raise ReviewError(409, APPROVED)
    if job is None or job.state != JobState.needs_review.value:
        raise ReviewError(409, "the transcript is not ready for review")


def _priority(span: RedactionSpan) -> tuple[int, int, float, int, int]:
    # Undecided first; among them the uncertain (model-only, cue-based, low confidence) first.
    return (
        0 if span.status == SpanStatus.pending.value else 1,
        0 if span.uncertain else 1,
        span.confidence,
        span.segment,
        span.start,
    )


def review_items(*, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int) -> dict[str, Any]:
    _require_reviewable(db_session, recording.id)
    # Reading the review is reading the unredacted text: audited as such.
    raw = _load_raw(db_session, sealed, recording, actor_id, audited=True)
    segments = raw["segments"]
    preview = _pseudonymiser(db_session=db_session, sealed=sealed, study=_study(recording))
    items = []
    for span in sorted(list_spans(db_session=db_session, recording_id=recording.id), key=_priority):
        seg = segments[span.segment]
        text = seg["text"]
        item = {
            "id": span.id,
            "segment": span.segment,
            "start": span.start,
            "end": span.end,
            "text": text[span.start : span.end],
            "context_before": text[max(0, span.start - CONTEXT_CHARS) : span.start],
            "context_after": text[span.end : span.end + CONTEXT_CHARS],
            "time": seg["start"],
            "speaker": seg.get("speaker"),
            "label": span.label,
            "layers": span.layers,
            "confidence": span.confidence,
            "uncertain": span.uncertain,
            "status": span.status,
            "origin": span.origin,
        }
        if span.status != SpanStatus.rejected.value:
            item["replacement"] = preview.tag(_pipeline_span(span, text))
        items.append(item)
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording.id)
    return {
        "recording_id": recording.id,
        "state": job.state if job else None,
        "spans": items,
        "segments": [_review_segment(i, s) for i, s in enumerate(segments)],
    }


def _review_segment(index: int, seg: dict[str, Any]) -> dict[str, Any]:
    """What the review shows of a segment: its text and times, and what the pipeline doubted (segment flags, each
    word's probability; "overlap" when another voice covers a word) so the reviewer listens there first."""
    words = seg.get("words", [])
    flags = list(seg.get("flags", []))
    if any(w.get("overlap") for w in words) and "overlap" not in flags:
        flags.append("overlap")
    return {
        "id": index, "start": seg["start"], "end": seg.get("end", seg["start"]), "speaker": seg.get("speaker"),
        "text": seg["text"], "flags": flags,
        "words": [{k: w[k] for k in ("text", "start", "end", "probability") if k in w} for w in words],
    }


def decide(
    *, db_session: Session, recording_id: str, span_id: int, action: str, label: str | None, actor_id: int
) -> RedactionSpan:
    _require_editable(db_session, recording_id)
    span = db_session.get(RedactionSpan, span_id)
    if span is None or span.recording_id != recording_id:
        raise ReviewError(404, "no such span")
    span.status = SpanStatus.accepted.value if action == "accept" else SpanStatus.rejected.value
    if label:
        span.label = label
    span.decided_by, span.decided_at = actor_id, utcnow()
    audit.record(
        db_session=db_session,
        action="redaction.decide",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording_id,
        details={"span": span_id, "action": action, "label": span.label},
    )
    return span


def add_span(
    *,
    db_session: Session,
    sealed: SealedStore,
    recording: Recording,
    segment: int,
    start: int = 0,
    end: int = 0,
    label: str,
    actor_id: int,
    find: str | None = None,
) -> list[RedactionSpan]:
    """A reviewer marks a missed identifier; every other occurrence in the transcript goes too.

    The range is given by character offsets, or by `find`: the text as it reads in the segment (its first
    occurrence, any case) - what a person can type into a form without counting characters."""
    _require_editable(db_session, recording.id)
    raw = _load_raw(db_session, sealed, recording, actor_id, audited=False)  # the redaction.add event covers it
    segments = raw["segments"]
    if not 0 <= segment < len(segments):
        raise ReviewError(422, "segment out of range")
    text = segments[segment]["text"]
    if find is not None:
        at = text.lower().find(find.strip().lower()) if find.strip() else -1
        if at < 0:
            raise TextNotFound(422, "that text is not in the segment")
        start, end = at, at + len(find.strip())
    if not (0 <= start < end <= len(text)) or not text[start:end].strip():
        raise ReviewError(422, "character range out of bounds or empty")
    needle = text[start:end].strip()
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    start, end = start + lead, start + lead + len(needle)
    existing = list_spans(db_session=db_session, recording_id=recording.id)
    now = utcnow()
    created: list[RedactionSpan] = []

    def covered(i: int, s: int, e: int) -> bool:
        return any(
            x.segment == i and x.start < e and s < x.end and x.status != SpanStatus.rejected.value
            for x in existing + created
        )

    def make(i: int, s: int, e: int, origin: SpanOrigin) -> None:
        span = RedactionSpan(
            recording_id=recording.id, segment=i, start=s, end=e, label=label, layers=["reviewer"],
            confidence=1.0, uncertain=False, status=SpanStatus.accepted.value, origin=origin.value,
            decided_by=actor_id, decided_at=now, created_at=now,
        )
        db_session.add(span)
        created.append(span)

    # The reviewer's own range always counts, even mid-word; other occurrences are whole words.
    make(segment, start, end, SpanOrigin.added)
    pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)", re.IGNORECASE)
    for i, seg in enumerate(segments):
        for m in pattern.finditer(seg["text"]):
            if not covered(i, m.start(), m.end()):
                make(i, m.start(), m.end(), SpanOrigin.propagated)
    db_session.flush()
    audit.record(
        db_session=db_session,
        action="redaction.add",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording.id,
        details={"label": label, "spans": len(created)},
    )
    return created


# ---- pseudonyms -----------------------------------------------------------------------------------------


def _study(recording: Recording) -> str:
    return getattr(recording, "study", None) or "default"


def _map_context(study: str) -> bytes:
    return record_context("pseudonyms", study)


def _load_state(
    *, db_session: Session, sealed: SealedStore, study: str, lock: bool = False
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(entity key -> tag, entity key -> ids of the recordings whose approved transcripts use its tag).

    The sources let a withdrawal remove exactly the entries no other participant's transcript needs. Maps
    written before sources were kept are a flat mapping: their entries have no sources and are never removed
    by a withdrawal (only by the map's own retention).
    """
    query = select(PseudonymMap).where(PseudonymMap.study == study)
    if lock:
        query = query.with_for_update()
    row = db_session.execute(query).scalar_one_or_none()
    if row is None:
        return {}, {}
    state = json.loads(
        sealed.open_record(db_session=db_session, key_id=row.key_id, ciphertext=row.ciphertext,
                           context=_map_context(study))
    )
    if state.get("v") != 2:
        return dict(state), {}
    return dict(state["map"]), {k: set(v) for k, v in state["sources"].items()}


def load_study_map(*, db_session: Session, sealed: SealedStore, study: str, lock: bool = False) -> dict[str, str]:
    return _load_state(db_session=db_session, sealed=sealed, study=study, lock=lock)[0]


def save_study_map(
    *,
    db_session: Session,
    sealed: SealedStore,
    study: str,
    mapping: dict[str, str],
    sources: dict[str, set[str]] | None = None,
) -> None:
    """Re-sealed under a fresh data key each time; the old key is destroyed, so a removed entry is gone from
    every earlier copy of the ciphertext too."""
    row = db_session.get(PseudonymMap, study)
    state = {"v": 2, "map": mapping, "sources": {k: sorted(v) for k, v in (sources or {}).items() if v}}
    key_id, ciphertext = sealed.seal_record(
        db_session=db_session, purpose="pseudonyms", context=_map_context(study),
        value=json.dumps(state, sort_keys=True).encode(),
    )
    if row is None:
        db_session.add(PseudonymMap(study=study, key_id=key_id, ciphertext=ciphertext, version=1, updated_at=utcnow()))
    else:
        old = row.key_id
        row.key_id, row.ciphertext, row.version, row.updated_at = key_id, ciphertext, row.version + 1, utcnow()
        sealed.destroy_record(db_session=db_session, key_id=old)
    db_session.flush()


def _new_pseudonymiser(mapping: dict[str, str]):  # type: ignore[no-untyped-def]
    from pipeline.redact import Pseudonymiser  # pure text code; imported where used

    return Pseudonymiser(existing=mapping)


def _pseudonymiser(*, db_session: Session, sealed: SealedStore, study: str, lock: bool = False):  # type: ignore[no-untyped-def]
    return _new_pseudonymiser(load_study_map(db_session=db_session, sealed=sealed, study=study, lock=lock))


def _pipeline_span(span: RedactionSpan, text: str):  # type: ignore[no-untyped-def]
    from pipeline.redact import Span

    return Span(
        start=span.start,
        end=span.end,
        label=span.label,
        text=text[span.start : span.end],
        layers=tuple(span.layers or ()),
        confidence=span.confidence,
        uncertain=span.uncertain,
    )


# ---- approval -------------------------------------------------------------------------------------------

PARTICIPANT_PREFIX = {"police": "POL", "victim": "VIC", "other": "OTH"}


def participant_ref(mapping: dict[str, str], *, cohort: str, participant_code: str) -> str:
    """The participant's pseudonym for researchers ("VIC-03"). Kept in the sealed study map, so it is the same for
    every interview of one participant and a number is never reused, even after a withdrawal."""
    key = f"participant:{cohort}:{participant_code.upper()}"
    if key not in mapping:
        prefix = PARTICIPANT_PREFIX.get(cohort, "OTH")
        # Tombstones included: a withdrawn participant's number is never given to someone else.
        taken = [int(v.split("-", 1)[1]) for v in mapping.values() if re.fullmatch(prefix + r"-\d+", v)]
        mapping[key] = f"{prefix}-{max(taken, default=0) + 1:02d}"
    return mapping[key]


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
    raw = _load_raw(db_session, sealed, recording, actor_id, audited=False)  # the approval event covers it
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
    if existing is not None:
        sealed.destroy_record(db_session=db_session, key_id=existing.key_id)
        db_session.delete(existing)
        db_session.flush()
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
        )
    )
    jobs.mark_approved(db_session=db_session, job_id=job.id)
    audit.record(
        db_session=db_session,
        action="transcript.approve",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording.id,
        details={"spans": count, "auto": actor_id is None},
    )
    db_session.flush()
    return document


def load_anonymised(
    *,
    db_session: Session,
    sealed: SealedStore,
    recording_id: str,
    actor_id: int,
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
        )
        for r in db_session.execute(query).all()
    ]


def delete_for_recording(*, db_session: Session, sealed: SealedStore, recording_id: str) -> dict[str, int]:
    spans = db_session.execute(delete(RedactionSpan).where(RedactionSpan.recording_id == recording_id))
    anonymised = 0
    for row in db_session.execute(
        select(AnonymisedTranscript).where(AnonymisedTranscript.recording_id == recording_id)
    ).scalars():
        sealed.destroy_record(db_session=db_session, key_id=row.key_id)
        db_session.delete(row)
        anonymised += 1
    return {"redaction_spans": spans.rowcount, "anonymised_transcripts": anonymised}  # type: ignore[attr-defined]


# ---- lifecycle: what the retention domain asks of redaction -------------------------------------------------


def approved_before(cutoff: datetime) -> Select[tuple[str]]:
    """Ids of recordings whose transcript was approved at or before `cutoff` (a subquery for the sweeps)."""
    return select(AnonymisedTranscript.recording_id).where(AnonymisedTranscript.approved_at <= cutoff)


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


def _tombstones(mapping: dict[str, str]) -> dict[str, str]:
    from pipeline.redact.pseudonyms import TOMBSTONE_PREFIX, tombstones

    kept = tombstones(mapping)
    for prefix in PARTICIPANT_PREFIX.values():
        refs = [v for v in mapping.values() if re.fullmatch(prefix + r"-\d+", v)]
        if refs:
            kept[f"{TOMBSTONE_PREFIX}participant:{prefix}"] = max(refs, key=lambda v: int(v.split("-", 1)[1]))
    return kept


def forget_recordings(*, db_session: Session, sealed: SealedStore, study: str, recording_ids: Sequence[str]) -> int:
    """A participant withdrew: drop these recordings from the study map's sources and remove every entry no
    remaining transcript uses. Returns how many entries went. The highest tag of each kind stays as a tombstone,
    so a later "[Person 4]" never names someone else than the "[Person 4]" in notes already taken."""
    mapping, sources = _load_state(db_session=db_session, sealed=sealed, study=study, lock=True)
    gone = set(recording_ids)
    if not any(srcs & gone for srcs in sources.values()):
        return 0
    removed = [k for k, srcs in sources.items() if srcs and not (srcs - gone)]
    kept = {k: v for k, v in mapping.items() if k not in set(removed)}
    kept.update({k: v for k, v in _tombstones(mapping).items() if k not in kept})
    remaining = {k: srcs - gone for k, srcs in sources.items() if k not in set(removed)}
    save_study_map(db_session=db_session, sealed=sealed, study=study, mapping=kept, sources=remaining)
    return len(removed)


def idle_study_maps(*, db_session: Session, idle_before: datetime) -> list[str]:
    return list(
        db_session.execute(
            select(PseudonymMap.study).where(PseudonymMap.updated_at <= idle_before).order_by(PseudonymMap.study)
        ).scalars()
    )


def study_map_has_entities(*, db_session: Session, sealed: SealedStore, study: str) -> bool:
    from pipeline.redact.pseudonyms import is_tombstone

    mapping = load_study_map(db_session=db_session, sealed=sealed, study=study)
    return any(not is_tombstone(k) for k in mapping)


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


def retire_study_map(*, db_session: Session, sealed: SealedStore, study: str) -> int:
    """The map's retention ran out: forget every entity, keep only the tag numbering. Returns entries removed."""
    from pipeline.redact.pseudonyms import is_tombstone

    mapping, _ = _load_state(db_session=db_session, sealed=sealed, study=study, lock=True)
    entities = [k for k in mapping if not is_tombstone(k)]
    if not entities:
        return 0
    save_study_map(db_session=db_session, sealed=sealed, study=study, mapping=_tombstones(mapping), sources={})
    audit.record(
        db_session=db_session, action="pseudonyms.retire", object_type="study", object_id=study,
        details={"entries": len(entities)},
    )
    return len(entities)


__all__ = ["FINAL_STATES", "ReviewError"]
