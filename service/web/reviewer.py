"""Redaction review: the transcript with its spans highlighted, decisions, added spans, speaker roles, approval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from service.auth.models import User
from service.core.ints import Position, RowId
from service.deps import SealedDep, SessionDep
from service.recordings import playback
from service.recordings import service as recordings
from service.recordings.models import JobState, Recording
from service.redaction import service as redaction
from service.redaction import snippets
from service.redaction.schemas import LABELS
from service.speakers import roles as vocabulary
from service.speakers import service as speakers
from service.speakers import voices
from service.speakers.models import SpeakerRole
from service.speakers.schemas import SLOT_PATTERN
from service.web import review_text
from service.web.errors import PageError
from service.web.session import Admin, Posted, Reviewer, WebSession, posted, require
from service.web.templating import WebRoute, page
from service.web.uploader import rows_for

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ReviewerPage = Annotated[WebSession, Depends(require(*Reviewer))]
ReviewerForm = Annotated[Posted, Depends(posted(*Reviewer))]
AdminForm = Annotated[Posted, Depends(posted(*Admin))]
Slot = Annotated[str, Path(pattern=SLOT_PATTERN)]

# Fixed notices chosen by a code in the redirect's query: nothing from a transcript ever goes into a URL.
NOTICES = {
    "accepted": "Span accepted: it will be redacted.",
    "rejected": "Span rejected: the text stays as it is.",
    "added": "Span added; every other occurrence in the transcript is redacted too.",
    "speakers": "Speaker roles saved.",
    "approved": "Transcript approved. The anonymised transcript is now in the researcher library.",
    "notfound": "That text is not in the chosen segment; copy it exactly as it appears there.",
    "edited": "Segment saved. Words you changed are marked; their redactions were detected again.",
    "unchanged": "Nothing changed in that segment.",
    "badedit": "That change is not possible: a segment needs some text, and a speaker from the list.",
    "split": "Segment split in two.",
    "badsplit": "A segment splits before one of its words, not before the first.",
    "merged": "Segments merged.",
    "undone": "Last edit undone.",
    "nothing": "There is no edit to undo.",
    "reopened": "Review reopened. The library keeps the approved version until you approve again.",
    "enrolled": "Voice enrolled: later recordings of this study label the matching voice Interviewer, with its score.",
}


def _recording(db_session: SessionDep, user: User, recording_id: str) -> Recording:
    return recordings.get_recording(db_session=db_session, user=user, recording_id=recording_id)


@router.get("/review")
def review_queue(request: Request, db_session: SessionDep, web: ReviewerPage, approved: bool = False) -> Response:
    rows, _ = rows_for(db_session=db_session, user=web.user, page_no=1)
    waiting = [r for r in rows if r.state == JobState.needs_review.value]
    return page(request, "review_queue.html", web=web, rows=waiting, notice=NOTICES["approved"] if approved else None)


@router.get("/review/{recording_id}")
def review_page(
    request: Request, recording_id: str, db_session: SessionDep, sealed: SealedDep, web: ReviewerPage,
    msg: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    recording = _recording(db_session, web.user, recording_id)
    try:
        body = redaction.review_items(db_session=db_session, sealed=sealed, recording=recording,
                                      actor_id=web.user.id)
    except redaction.ReviewError as exc:
        # Opened from the queue or a link before the pipeline is done: said the way a reviewer expects it.
        if exc.status != 409:
            raise
        raise PageError(409, "This transcript is not ready for review yet.") from exc
    slots = speakers.list_slots(db_session=db_session, recording_id=recording_id)
    labels = speakers.labels(slots, cohort=recording.cohort)
    by_segment: dict[int, list[dict[str, Any]]] = {}
    for span in body["spans"]:
        by_segment.setdefault(span["segment"], []).append(span)
    segments = [
        review_text.segment(s, by_segment.get(s["id"], []),
                            speaker=labels.get(s.get("speaker") or "", s.get("speaker") or "?"))
        for s in body["segments"]
    ]
    audio = recording.blob_id is not None and recording.key_id is not None and recording.audio_deleted_at is None
    profiles = voices.list_profiles(db_session=db_session, study=recording.study)
    pending = sum(1 for s in body["spans"] if s["status"] == "pending")
    return page(
        request, "review.html", web=web, recording=recording, state=body["state"], spans=body["spans"],
        segments=segments, labels=LABELS, slots=slots, slot_labels=labels,
        roles=vocabulary.vocabulary(recording.cohort),
        slot_roles={s.slot: vocabulary.word(s.role, cohort=recording.cohort) for s in slots},
        audio=audio, pending=pending, notice=NOTICES.get(msg or ""),
        uncertain=sum(1 for seg in segments if seg.uncertain),
        # Waiting for review: decisions, added spans, speakers and approval. Once approved the page only shows.
        editable=body["state"] == JobState.needs_review.value,
        history=body["history"], edit_slots=[s for s in slots if not s.merged_into],
        # What each segment's edit form starts from: its text as typed, its voice, its words (split points).
        editing={s["id"]: {"text": s["text"].strip(), "slot": s.get("speaker"), "edited": s.get("edited"),
                           "words": [w["text"].strip() for w in s["words"]]} for s in body["segments"]},
        reopenable=(body["state"] == JobState.completed.value and web.user.role == "admin"),
        # Slot voiceprints are sealed under the audio's key: gone with the audio.
        enrol=_enrollable(slots, approved=body["state"] == JobState.completed.value,
                          voices_kept=recording.key_id is not None and recording.audio_deleted_at is None),
        enrolled={(p.source_recording_id, p.source_slot) for p in profiles}, study_profiles=len(profiles),
    )


def _enrollable(slots: list[Any], *, approved: bool, voices_kept: bool) -> dict[str, str]:
    """slot -> "ready" (the enrol button) or "confirm" (the role is still a guess: save it first), only for a slot
    whose role is research staff and that keeps a voiceprint. A participant's slot never gets either."""
    out = {}
    for s in slots:
        if s.role in voices.STAFF_ROLES and not s.merged_into and s.voice is not None and voices_kept:
            out[s.slot] = "confirm" if s.guessed and not approved else "ready"
    return out


def _back(recording_id: str, msg: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/review/{recording_id}?msg={msg}{anchor}", status_code=303)


def _field(form: Posted, name: str) -> str:
    value = form.form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/review/{recording_id}/spans/{span_id}")
def decide_span(recording_id: str, span_id: RowId, db_session: SessionDep, form: ReviewerForm) -> Response:
    _recording(db_session, form.web.user, recording_id)
    action = _field(form, "action")
    label = _field(form, "label") or None
    if action not in ("accept", "reject") or (label is not None and label not in LABELS):
        raise PageError(422, "Choose accept or reject, and a label from the list.")
    redaction.decide(db_session=db_session, recording_id=recording_id, span_id=span_id, action=action, label=label,
                     actor_id=form.web.user.id)
    return _back(recording_id, "accepted" if action == "accept" else "rejected", f"#span-{span_id}")


@router.post("/review/{recording_id}/spans")
def add_span(recording_id: str, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm) -> Response:
    """A missed identifier, given as the segment and the text exactly as it reads there (no offsets to count)."""
    recording = _recording(db_session, form.web.user, recording_id)
    label, needle = _field(form, "label"), _field(form, "text")
    try:
        segment = int(_field(form, "segment"))
    except ValueError as exc:
        raise PageError(422, "Choose the segment the text is in.") from exc
    if label not in LABELS or not needle or len(needle) > 200:
        raise PageError(422, "Give the text to redact (up to 200 characters) and a label from the list.")
    try:
        redaction.add_span(db_session=db_session, sealed=sealed, recording=recording,
                           segment=segment, find=needle, label=label, actor_id=form.web.user.id)
    except redaction.TextNotFound:
        return _back(recording_id, "notfound", "#add-span")
    return _back(recording_id, "added", f"#seg-{segment}")


@router.post("/review/{recording_id}/speakers")
def relabel_speakers(recording_id: str, db_session: SessionDep, form: ReviewerForm) -> Response:
    """Each slot's role, and optionally another slot it is the same person as."""
    recording = _recording(db_session, form.web.user, recording_id)
    slots = {s.slot: s for s in speakers.list_slots(db_session=db_session, recording_id=recording_id)}
    roles: dict[str, SpeakerRole] = {}
    merges: list[tuple[str, str]] = []
    for slot, current in slots.items():
        word = _field(form, f"role_{slot}")
        role = vocabulary.stored(word, cohort=recording.cohort) if word else None
        # Saving the form confirms the roles it shows: a guess kept as it is stops being a guess (so it can be
        # enrolled as the interviewer's voice), not only a changed one.
        if role is not None and (role != current.role or current.guessed):
            roles[slot] = role
        target = _field(form, f"merge_{slot}")
        if target and target != (current.merged_into or ""):
            merges.append((slot, target))
    # Even with nothing changed: the service says whether changes are still possible (not after approval).
    speakers.update(db_session=db_session, recording_id=recording_id, actor_id=form.web.user.id, roles=roles,
                    merges=merges)
    return _back(recording_id, "speakers", "#speakers")


@router.post("/review/{recording_id}/speakers/{slot}/voice-profile")
def enrol_voice(recording_id: str, slot: Slot, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm
                ) -> Response:
    """The slot's voice as the study's interviewer profile; the service refuses a participant's or a guessed slot
    (the same checks and audit event as the API)."""
    recording = _recording(db_session, form.web.user, recording_id)
    voices.enrol_from_slot(db_session=db_session, sealed=sealed, recording=recording, slot=slot,
                           actor_id=form.web.user.id)
    return _back(recording_id, "enrolled", "#speakers")


# ---- correcting the transcript: one form per step, each a plain POST (the page works without scripts) ------------


@router.post("/review/{recording_id}/segments/undo")
def undo_edit(recording_id: str, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm) -> Response:
    recording = _recording(db_session, form.web.user, recording_id)
    try:
        redaction.undo_edit(db_session=db_session, sealed=sealed, recording=recording, actor_id=form.web.user.id)
    except redaction.ReviewError as exc:
        if exc.message != "nothing to undo":
            raise
        return _back(recording_id, "nothing")
    return _back(recording_id, "undone")


@router.post("/review/{recording_id}/segments/merge")
def merge_segments(recording_id: str, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm) -> Response:
    recording = _recording(db_session, form.web.user, recording_id)
    try:
        segment = int(_field(form, "segment"))
    except ValueError as exc:
        raise PageError(422, "Choose the segment to merge with the next one.") from exc
    redaction.merge_segments(db_session=db_session, sealed=sealed, recording=recording, segment=segment,
                             actor_id=form.web.user.id)
    return _back(recording_id, "merged", f"#seg-{segment}")


@router.post("/review/{recording_id}/segments/{segment}")
def edit_segment(
    recording_id: str, segment: Position, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm
) -> Response:
    """The segment's text (as typed in its box) and speaker."""
    recording = _recording(db_session, form.web.user, recording_id)
    text = form.form.get("text")
    if not isinstance(text, str) or len(text) > 5000:
        raise PageError(422, "Give the segment's text (up to 5000 characters).")
    speaker = _field(form, "speaker") or None
    try:
        done = redaction.edit_segment(db_session=db_session, sealed=sealed, recording=recording, segment=segment,
                                      text=text, speaker=speaker, actor_id=form.web.user.id)
    except redaction.ReviewError as exc:
        if exc.status != 422:
            raise
        return _back(recording_id, "badedit", f"#seg-{segment}")
    return _back(recording_id, "unchanged" if done.get("unchanged") else "edited", f"#seg-{segment}")


@router.post("/review/{recording_id}/segments/{segment}/split")
def split_segment(
    recording_id: str, segment: Position, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm
) -> Response:
    recording = _recording(db_session, form.web.user, recording_id)
    try:
        word = int(_field(form, "word"))
    except ValueError as exc:
        raise PageError(422, "Choose the word the second part starts with.") from exc
    try:
        redaction.split_segment(db_session=db_session, sealed=sealed, recording=recording, segment=segment,
                                word=word, actor_id=form.web.user.id)
    except redaction.ReviewError as exc:
        if exc.status != 422:
            raise
        return _back(recording_id, "badsplit", f"#seg-{segment}")
    return _back(recording_id, "split", f"#seg-{segment}")


@router.post("/review/{recording_id}/reopen")
def reopen(recording_id: str, db_session: SessionDep, sealed: SealedDep, form: AdminForm) -> Response:
    recording = _recording(db_session, form.web.user, recording_id)
    redaction.reopen_review(db_session=db_session, sealed=sealed, recording=recording, actor_id=form.web.user.id)
    return _back(recording_id, "reopened")


@router.post("/review/{recording_id}/approve")
def approve(recording_id: str, db_session: SessionDep, sealed: SealedDep, form: ReviewerForm) -> Response:
    recording = _recording(db_session, form.web.user, recording_id)
    redaction.approve(db_session=db_session, sealed=sealed, recording=recording,
                      actor_id=form.web.user.id)
    return RedirectResponse("/review?approved=true", status_code=303)


@router.get("/review/{recording_id}/spans/{span_id}/audio")
async def span_audio(
    recording_id: str, span_id: RowId, db_session: SessionDep, sealed: SealedDep, web: ReviewerPage
) -> Response:
    """The same audited snippet as the API's, for the page's audio players."""
    recording = _recording(db_session, web.user, recording_id)
    body = await snippets.span_snippet(sealed=sealed, db_session=db_session, recording=recording, span_id=span_id,
                                       actor_id=web.user.id)
    return Response(body, media_type="audio/wav")


@router.get("/review/{recording_id}/audio")
def recording_audio(
    recording_id: str, request: Request, db_session: SessionDep, sealed: SealedDep, web: ReviewerPage
) -> Response:
    """The API's whole-recording audio (byte ranges, one audit event per listening session) for the page's player."""
    recording = _recording(db_session, web.user, recording_id)
    return playback.response(db_session=db_session, sealed=sealed, recording=recording, actor_id=web.user.id,
                             range_header=request.headers.get("range"))
