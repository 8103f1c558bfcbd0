"""Transcript correction during review: edit a segment's text or speaker, split, merge, undo; reopen after approval.

Each step reads the working transcript (the newest sealed version, or the raw one), applies a pure edit
(`transcripts.edits`), seals the result as a new version with the spans as they were (for undo), and carries the
redaction spans across: a span on unchanged text keeps its decision, a span on changed text goes, and the edited
text is detected again with every layer, the recording's known names and the names already pseudonymised anywhere in
the study, over the whole transcript so propagation reaches the other segments too. A name the reviewer types is
caught like any other. Audit events carry counts, never text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.sealed import SealedStore
from service.recordings import jobs
from service.recordings.models import JobState, Recording
from service.redaction.models import AnonymisedTranscript, RedactionSpan, SpanOrigin, SpanStatus
from service.redaction.pseudonyms import _study, load_study_map
from service.redaction.review import ReviewError, _require_editable, list_spans
from service.speakers import service as speakers
from service.transcripts import edits, versions
from service.transcripts import service as transcripts

_FIELDS = ("segment", "start", "end", "label", "layers", "confidence", "uncertain", "status", "origin", "decided_by")


def _working(db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int) -> dict[str, Any]:
    try:
        # The edit's own event records this read: one action, one audit entry.
        return versions.load_working(
            db_session=db_session, sealed=sealed, recording_id=recording.id, actor_id=actor_id, audited=False,
            lock=True,
        )
    except transcripts.TranscriptNotReady as exc:
        if recording.raw_transcript_deleted_at is not None:
            raise ReviewError(410, "the unredacted transcript was deleted under the retention policy") from exc
        raise ReviewError(409, "the transcript is not ready for review") from exc


def _require_correctable(db_session: Session, recording: Recording) -> None:
    # Gone is gone, whatever the review's state: say so first.
    if recording.raw_transcript_deleted_at is not None:
        raise ReviewError(410, "the unredacted transcript was deleted under the retention policy")
    _require_editable(db_session, recording.id)


def _as_dict(span: RedactionSpan) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(span, k) for k in _FIELDS}
    out["layers"] = list(span.layers or [])
    out["id"] = span.id
    out["decided_at"] = span.decided_at.isoformat() if span.decided_at else None
    return out


def _apply(db_session: Session, recording_id: str, desired: list[dict[str, Any]]) -> None:
    """Make the recording's spans exactly `desired`: rows kept by id (their decisions with them), the rest replaced."""
    rows = {s.id: s for s in list_spans(db_session=db_session, recording_id=recording_id)}
    seen: set[int] = set()
    now = utcnow()
    for sp in desired:
        row = rows.get(sp.get("id") or -1)
        if row is None or row.id in seen:
            row = RedactionSpan(recording_id=recording_id, created_at=now)
            db_session.add(row)
        else:
            seen.add(row.id)
        for k in _FIELDS:
            setattr(row, k, sp[k])
        at = sp.get("decided_at")
        row.decided_at = datetime.fromisoformat(at) if isinstance(at, str) else at
    for span_id, row in rows.items():
        if span_id not in seen:
            db_session.delete(row)
    db_session.flush()


def _known_names(db_session: Session, sealed: SealedStore, recording: Recording) -> list[str]:
    """The names given at upload, and every person already pseudonymised in the study (from the sealed map)."""
    # Imported here: the recordings service imports its lifecycle, which imports this domain's service.
    from service.recordings import service as recordings

    names = recordings.known_names(sealed=sealed, db_session=db_session, recording=recording)
    mapping = load_study_map(db_session=db_session, sealed=sealed, study=_study(recording))
    names += [key.split(":", 1)[1] for key in mapping if key.startswith("person:") and key.split(":", 1)[1]]
    return sorted(set(names))


def _detect(
    db_session: Session, sealed: SealedStore, recording: Recording, transcript: dict[str, Any],
    spans: list[dict[str, Any]], changed: set[int],
) -> int:
    """New spans (pending) wherever detection over the corrected transcript finds an identifier no span covers: in
    the changed segments all of it, elsewhere what the edit taught propagation. Returns how many were added."""
    from pipeline.redact import Span, load_detector

    texts = [seg["text"] for seg in transcript["segments"]]
    # Unchanged segments keep the spans they have (those not rejected) and take part in propagation only: the
    # layers and the model run on the changed text alone, so an edit costs the same in a long interview.
    known: list[list[Span] | None] = [None if i in changed else [] for i in range(len(texts))]
    for sp in spans:
        bucket = known[sp["segment"]]
        if bucket is not None and sp["status"] != SpanStatus.rejected.value:
            text = texts[sp["segment"]]
            bucket.append(Span(sp["start"], sp["end"], sp["label"], text[sp["start"]:sp["end"]],
                               tuple(sp["layers"] or ()), float(sp["confidence"]), bool(sp["uncertain"])))
    detector = load_detector(known_names=_known_names(db_session, sealed, recording))
    found = detector.detect_document(texts, known=known)
    added = 0
    for i, hits in enumerate(found):
        here = [s for s in spans if s["segment"] == i]
        for hit in hits:
            if any(s["start"] < hit.end and hit.start < s["end"] for s in here):
                continue  # a decision (or a pending span) already covers it
            new = {
                "id": None, "segment": i, "start": hit.start, "end": hit.end, "label": hit.label,
                "layers": list(hit.layers), "confidence": float(hit.confidence), "uncertain": bool(hit.uncertain),
                "status": SpanStatus.pending.value,
                "origin": (SpanOrigin.detected if i in changed else SpanOrigin.propagated).value,
                "decided_by": None, "decided_at": None,
            }
            spans.append(new)
            here.append(new)
            added += 1
    return added


def _commit(
    *, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int, action: str,
    transcript: dict[str, Any], before: list[dict[str, Any]], after: list[dict[str, Any]], changed: set[int],
    details: dict[str, Any],
) -> dict[str, Any]:
    kept = len([s for s in after if s.get("id") is not None])
    added = _detect(db_session, sealed, recording, transcript, after, changed) if changed else 0
    _apply(db_session, recording.id, after)
    number = versions.save(
        db_session=db_session, sealed=sealed, recording_id=recording.id, transcript=transcript, spans_before=before,
        action=action, actor_id=actor_id,
    )
    summary = {**details, "version": number, "segments": len(transcript["segments"]),
               "spans_kept": kept, "spans_dropped": len(before) - kept, "spans_added": added}
    audit.record(
        db_session=db_session, action=f"transcript.{action}", actor_id=actor_id, object_type="recording",
        object_id=recording.id, details=summary,
    )
    return summary


def _start(db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int, segment: int | None = None):  # type: ignore[no-untyped-def]
    _require_correctable(db_session, recording)
    transcript = _working(db_session, sealed, recording, actor_id)
    if segment is not None and not 0 <= segment < len(transcript["segments"]):
        raise ReviewError(404, "no such segment")
    before = [_as_dict(s) for s in list_spans(db_session=db_session, recording_id=recording.id)]
    return transcript, before


def edit_segment(
    *, db_session: Session, sealed: SealedStore, recording: Recording, segment: int, text: str | None = None,
    speaker: str | None = None, actor_id: int,
) -> dict[str, Any]:
    """Change a segment's text, its speaker, or both (one version, one audit event)."""
    transcript, before = _start(db_session, sealed, recording, actor_id, segment)
    if text is None and speaker is None:
        raise ReviewError(422, "give the segment's new text, its speaker, or both")
    details: dict[str, Any] = {"segment": segment}
    spans = list(before)
    changed: set[int] = set()
    if speaker is not None:
        slots = {s.slot for s in speakers.list_slots(db_session=db_session, recording_id=recording.id)
                 if not s.merged_into}
        if speaker not in slots:
            raise ReviewError(422, f"unknown speaker slot (one of {', '.join(sorted(slots))})")
        details["speaker_changed"] = transcript["segments"][segment].get("speaker") != speaker
        transcript = edits.set_speaker(transcript, segment, speaker)
    if text is not None:
        old_text = transcript["segments"][segment]["text"]
        try:
            transcript, counts = edits.edit_text(transcript, segment, text)
        except edits.EditError as exc:
            raise ReviewError(422, str(exc)) from exc
        new_text = transcript["segments"][segment]["text"]
        mine = [s for s in spans if s["segment"] == segment]
        kept, _ = edits.remap_spans(old_text, new_text, mine)
        spans = [s for s in spans if s["segment"] != segment] + kept
        details.update(words_kept=counts.kept, words_changed=counts.changed, words_inserted=counts.inserted,
                       words_deleted=counts.deleted)
        if new_text != old_text:
            changed.add(segment)
    if not changed and not details.get("speaker_changed"):
        # Saved as it was (a form submitted unchanged): no version, nothing to undo, nothing to audit.
        return {**details, "version": versions.history(db_session=db_session, recording_id=recording.id)["edits"],
                "segments": len(transcript["segments"]), "spans_kept": len(before), "spans_dropped": 0,
                "spans_added": 0, "unchanged": True}
    return _commit(db_session=db_session, sealed=sealed, recording=recording, actor_id=actor_id, action="edit",
                   transcript=transcript, before=before, after=spans, changed=changed, details=details)


def split_segment(
    *, db_session: Session, sealed: SealedStore, recording: Recording, segment: int, word: int, actor_id: int
) -> dict[str, Any]:
    """Segment `segment` becomes two, the second starting at its word number `word` (0-based)."""
    transcript, before = _start(db_session, sealed, recording, actor_id, segment)
    old_text = transcript["segments"][segment]["text"]
    try:
        out, cut = edits.split(transcript, segment, word)
    except edits.EditError as exc:
        raise ReviewError(422, str(exc)) from exc
    spans = edits.split_spans(before, index=segment, cut=cut, old_text=old_text,
                              first_text=out["segments"][segment]["text"],
                              second_text=out["segments"][segment + 1]["text"])
    return _commit(db_session=db_session, sealed=sealed, recording=recording, actor_id=actor_id, action="split",
                   transcript=out, before=before, after=spans, changed=set(), details={"segment": segment})


def merge_segments(
    *, db_session: Session, sealed: SealedStore, recording: Recording, segment: int, actor_id: int
) -> dict[str, Any]:
    """Segments `segment` and `segment + 1` become one, with the first one's speaker."""
    transcript, before = _start(db_session, sealed, recording, actor_id, segment)
    try:
        out, shift = edits.merge(transcript, segment)
    except edits.EditError as exc:
        raise ReviewError(404, str(exc)) from exc
    spans = edits.merge_spans(before, index=segment, shift=shift)
    # Names split across the old boundary ("Mark | Bellamy") are whole again: detect the joined text.
    return _commit(db_session=db_session, sealed=sealed, recording=recording, actor_id=actor_id, action="merge",
                   transcript=out, before=before, after=spans, changed={segment}, details={"segment": segment})


def undo(*, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int) -> dict[str, Any]:
    """The last edit undone: the text before it, and its spans as they were (decisions taken since on spans that
    are still there are kept)."""
    _require_correctable(db_session, recording)
    _working(db_session, sealed, recording, actor_id)  # takes the edit lock
    current = {s.id: s for s in list_spans(db_session=db_session, recording_id=recording.id)}
    try:
        action, spans = versions.undo(db_session=db_session, sealed=sealed, recording_id=recording.id)
    except versions.NothingToUndo as exc:
        raise ReviewError(409, "nothing to undo") from exc
    for sp in spans:
        row = current.get(sp.get("id") or -1)
        if row is not None and (row.segment, row.start, row.end) == (sp["segment"], sp["start"], sp["end"]):
            sp.update(status=row.status, label=row.label, decided_by=row.decided_by,
                      decided_at=row.decided_at.isoformat() if row.decided_at else None)
    _apply(db_session, recording.id, spans)
    left = versions.history(db_session=db_session, recording_id=recording.id)
    audit.record(
        db_session=db_session, action="transcript.undo", actor_id=actor_id, object_type="recording",
        object_id=recording.id, details={"undone": action, "edits_left": left["edits"], "spans": len(spans)},
    )
    return {"undone": action, **left}


def reopen(*, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int) -> dict[str, Any]:
    """An admin reopens an approved review while the raw transcript exists. The library keeps serving the approved
    version until the review is approved again, which replaces it (and counts a revision)."""
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording.id)
    if recording.raw_transcript_deleted_at is not None:
        raise ReviewError(410, "the unredacted transcript was deleted under the retention policy: the approved "
                               "transcript is final")
    if job is None or job.state != JobState.completed.value:
        raise ReviewError(409, "only an approved transcript can be reopened")
    _working(db_session, sealed, recording, actor_id)
    jobs.reopen_review(db_session=db_session, job_id=job.id)
    revision = db_session.execute(
        select(AnonymisedTranscript.revision).where(AnonymisedTranscript.recording_id == recording.id)
    ).scalar_one_or_none()
    audit.record(
        db_session=db_session, action="review.reopen", actor_id=actor_id, object_type="recording",
        object_id=recording.id, details={"revision": revision},
    )
    return {"id": recording.id, "status": JobState.needs_review.value, "revision": revision}
