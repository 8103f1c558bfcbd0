"""Speaker slots and roles. Labels are roles (Interviewer, Officer, Victim, ...), never names."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.recordings import jobs
from service.recordings.models import JobState
from service.speakers import roles as vocabulary
from service.speakers.models import SpeakerRole, SpeakerSlot, VoiceProfile


class SpeakerError(DomainError):
    """A refused change; the message is a fixed sentence, `status` the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(status, message)


APPROVED = (
    "this transcript has been approved; its speaker roles can no longer change (the anonymised transcript in the "
    "library is final)"
)


def init_from_transcript(*, db_session: Session, recording_id: str, speakers: list[dict[str, Any]]) -> None:
    """Called when a transcript is (re)saved: slots and guessed roles start from the pipeline's guess."""
    db_session.execute(delete(SpeakerSlot).where(SpeakerSlot.recording_id == recording_id))
    now = utcnow()
    for sp in speakers:
        role = sp.get("role", SpeakerRole.participant.value)
        db_session.add(
            SpeakerSlot(recording_id=recording_id, slot=sp["slot"], role=SpeakerRole(role).value,
                        merged_into=None, guessed=True, updated_at=now)
        )
    db_session.flush()


def list_slots(*, db_session: Session, recording_id: str) -> list[SpeakerSlot]:
    rows = db_session.execute(select(SpeakerSlot).where(SpeakerSlot.recording_id == recording_id)).scalars()
    return sorted(rows, key=lambda s: int(s.slot[1:]))


def labels(slots: list[SpeakerSlot], *, cohort: str) -> dict[str, str]:
    """slot -> display label; merged slots take their target's label; repeated roles get numbers."""
    effective = {s.slot: s for s in slots if s.merged_into is None}
    base = {slot: vocabulary.word(s.role, cohort=cohort) for slot, s in effective.items()}
    counts = Counter(base.values())
    seen: Counter[str] = Counter()
    out: dict[str, str] = {}
    for slot in sorted(effective, key=lambda x: int(x[1:])):
        label = base[slot]
        if counts[label] > 1:
            seen[label] += 1
            label = f"{label} {seen[label]}"
        out[slot] = label
    for s in slots:
        if s.merged_into is not None:
            out[s.slot] = out.get(_root(slots, s.slot), vocabulary.word(s.role, cohort=cohort))
    return out


def _root(slots: list[SpeakerSlot], slot: str) -> str:
    by = {s.slot: s for s in slots}
    seen = set()
    while by.get(slot) is not None and by[slot].merged_into and slot not in seen:
        seen.add(slot)
        slot = by[slot].merged_into  # type: ignore[assignment]
    return slot


def merge_map(slots: list[SpeakerSlot]) -> dict[str, str]:
    return {s.slot: _root(slots, s.slot) for s in slots}


def update(
    *,
    db_session: Session,
    recording_id: str,
    actor_id: int,
    roles: dict[str, SpeakerRole],
    merges: list[tuple[str, str]],
) -> list[SpeakerSlot]:
    """`roles` are stored roles (`roles.stored` turns a cohort's word into one)."""
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording_id)
    if job is not None and job.state == JobState.completed.value:
        # Approval wrote the labels into the anonymised transcript: a change now would alter nothing it serves.
        raise SpeakerError(APPROVED, status=409)
    slots = {s.slot: s for s in list_slots(db_session=db_session, recording_id=recording_id)}
    if not slots:
        raise SpeakerError("this recording has no speakers yet", status=409)
    for slot in [*roles, *(m[0] for m in merges), *(m[1] for m in merges)]:
        if slot not in slots:
            raise SpeakerError(f"unknown speaker slot {slot}")
    now = utcnow()
    for slot, role in roles.items():
        if slots[slot].role != SpeakerRole(role).value:
            slots[slot].voice_match = None  # the reviewer overruled the voice match: its score no longer applies
        slots[slot].role = SpeakerRole(role).value
        slots[slot].guessed = False
        slots[slot].updated_at, slots[slot].updated_by = now, actor_id
    for source, target in merges:
        if source == target:
            raise SpeakerError("cannot merge a speaker into itself")
        if _root(list(slots.values()), target) == source:
            raise SpeakerError("that merge would make a cycle")
        slots[source].merged_into = target
        slots[source].guessed = False
        slots[source].updated_at, slots[source].updated_by = now, actor_id
    if not roles and not merges:
        return list(slots.values())  # nothing changed: nothing to audit
    audit.record(
        db_session=db_session,
        action="speakers.update",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording_id,
        details={"roles": {k: SpeakerRole(v).value for k, v in roles.items()}, "merges": [list(m) for m in merges]},
    )
    db_session.flush()
    return list_slots(db_session=db_session, recording_id=recording_id)


def apply(transcript: dict[str, Any], slots: list[SpeakerSlot], *, cohort: str) -> dict[str, Any]:
    """Render-time view: merged slots folded, every segment and word given its role label."""
    if not slots:
        return transcript
    folded = merge_map(slots)
    names = labels(slots, cohort=cohort)
    out = dict(transcript)
    segments = []
    for seg in transcript["segments"]:
        slot = folded.get(seg.get("speaker") or "", seg.get("speaker"))
        words = [
            {**w, "speaker": folded.get(w.get("speaker") or "", w.get("speaker")),
             "speaker_label": names.get(folded.get(w.get("speaker") or "", "") or "", None)}
            for w in seg.get("words", [])
        ]
        segments.append({**seg, "speaker": slot, "speaker_label": names.get(slot or ""), "words": words})
    out["segments"] = segments
    out["speaker_turns"] = [
        {**t, "speaker": folded.get(t["speaker"], t["speaker"])} for t in transcript.get("speaker_turns", [])
    ]
    out["speakers"] = [
        {"slot": s.slot, "role": vocabulary.word(s.role, cohort=cohort), "label": names.get(s.slot),
         "merged_into": s.merged_into}
        for s in slots
    ]
    return out


def delete_for_recording(*, db_session: Session, recording_id: str) -> dict[str, int]:
    """A recording's slots go with it, and with them the slot voiceprints (sealed under its audio key, shredded with
    it). A study's voice profile enrolled from one of its slots is a staff member's voice and stays (it never
    depended on the recording), but no longer says which recording it came from."""
    voices = db_session.execute(
        select(func.count()).where(SpeakerSlot.recording_id == recording_id, SpeakerSlot.voice.is_not(None))
    ).scalar_one()
    slots = db_session.execute(
        delete(SpeakerSlot).where(SpeakerSlot.recording_id == recording_id).execution_options(synchronize_session=False)
    )
    links = db_session.execute(
        sql_update(VoiceProfile)
        .where(VoiceProfile.source_recording_id == recording_id)
        .values(source_recording_id=None, source_slot=None)
        .execution_options(synchronize_session=False)
    )
    return {"speaker_slots": slots.rowcount, "slot_voices": int(voices),  # type: ignore[attr-defined]
            "voice_profile_links": links.rowcount}  # type: ignore[attr-defined]
