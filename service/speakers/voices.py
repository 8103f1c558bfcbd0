"""The interviewer by voice: study-level voice profiles of research staff, and the match that labels new recordings.

- A slot's voiceprint (CAM++ over its clean speech: pipeline.diarise.speech_prints) is sealed under the recording's
  audio key when the transcript is saved, so it is crypto-shredded with the audio; it is opened only to enrol it.
- A profile is enrolled from a slot a reviewer confirmed as Interviewer (never a participant's), sealed under a data
  key of its own; an admin deletes it by destroying that key and the row.
- A new recording's slot whose voice scores at or above the threshold against one of its study's profiles is
  labelled Interviewer with that score; below it the heuristic's guess stands (pipeline.align.guess_roles).
Audit events carry ids and counts, never a voiceprint.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.voiceprint import match_slots, normalise
from service.audit import service as audit
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.core.sealed import DataKeyNotFound, SealedStore, record_context
from service.recordings import jobs
from service.recordings.models import JobState, Recording
from service.speakers.models import SpeakerRole, SpeakerSlot, VoiceProfile

# Roles whose voice may be enrolled: research staff only. Participants are never profiled.
STAFF_ROLES = (SpeakerRole.interviewer.value,)


class VoiceError(DomainError):
    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(status, message)


def _slot_context(recording_id: str, slot: str) -> bytes:
    return record_context("slot-voice", f"{recording_id}/{slot}")


def _profile_context(profile_id: str) -> bytes:
    return record_context("voice-profile", profile_id)


def _pack(vector: Sequence[float]) -> bytes:
    return np.asarray(normalise(vector), dtype="<f4").tobytes()


def _unpack(data: bytes) -> list[float]:
    return [float(v) for v in np.frombuffer(data, dtype="<f4")]


def save_slot_voices(
    *, db_session: Session, sealed: SealedStore, recording: Recording, voices: Mapping[str, Sequence[float]]
) -> int:
    """Seal each slot's voiceprint under the recording's audio key (none kept once the audio is gone)."""
    if not voices or recording.key_id is None:
        return 0
    saved = 0
    for slot in db_session.execute(select(SpeakerSlot).where(SpeakerSlot.recording_id == recording.id)).scalars():
        vector = voices.get(slot.slot)
        if not vector:
            continue
        try:
            slot.voice = sealed.seal_under(db_session=db_session, key_id=recording.key_id,
                                           context=_slot_context(recording.id, slot.slot), value=_pack(vector))
        except (DataKeyNotFound, ValueError):
            continue  # audio shredded meanwhile, or a degenerate centroid: nothing to keep
        saved += 1
    db_session.flush()
    return saved


def _profiles(*, db_session: Session, study: str) -> list[VoiceProfile]:
    return list(db_session.execute(
        select(VoiceProfile).where(VoiceProfile.study == study).order_by(VoiceProfile.created_at, VoiceProfile.id)
    ).scalars())


def label_by_voice(
    *, db_session: Session, sealed: SealedStore, recording: Recording, voices: Mapping[str, Sequence[float]],
    threshold: float,
) -> dict[str, float]:
    """Slots whose voice matches one of the study's profiles become Interviewer (still a guess, with its score);
    a slot the heuristic had called Interviewer that no profile claims becomes Participant. Returns slot -> score."""
    profiles = _profiles(db_session=db_session, study=recording.study)
    if not profiles or not voices:
        return {}
    enrolled = {
        p.id: _unpack(sealed.open_record(db_session=db_session, key_id=p.key_id, ciphertext=p.ciphertext,
                                         context=_profile_context(p.id)))
        for p in profiles
    }
    matches = match_slots(voices, enrolled, threshold=threshold)
    if not matches:
        return {}
    for slot in db_session.execute(select(SpeakerSlot).where(SpeakerSlot.recording_id == recording.id)).scalars():
        if slot.slot in matches:
            slot.role, slot.voice_match = SpeakerRole.interviewer.value, matches[slot.slot].score
        elif slot.role == SpeakerRole.interviewer.value and slot.guessed:
            slot.role = SpeakerRole.participant.value
    db_session.flush()
    return {slot: m.score for slot, m in matches.items()}


def enrol_from_slot(
    *, db_session: Session, sealed: SealedStore, recording: Recording, slot: str, actor_id: int
) -> VoiceProfile:
    """A profile for the recording's study from a slot a reviewer confirmed as research staff."""
    row = db_session.execute(
        select(SpeakerSlot).where(SpeakerSlot.recording_id == recording.id, SpeakerSlot.slot == slot)
    ).scalar_one_or_none()
    if row is None:
        raise VoiceError(f"unknown speaker slot {slot}", status=404)
    if row.merged_into is not None:
        raise VoiceError(f"{slot} was merged into {row.merged_into}: enrol {row.merged_into} instead", status=422)
    if row.role not in STAFF_ROLES:
        raise VoiceError("voice profiles are made only for research staff: this slot is not an Interviewer",
                         status=422)
    job = jobs.get_for_recording(db_session=db_session, recording_id=recording.id)
    approved = job is not None and job.state == JobState.completed.value
    if row.guessed and not approved:
        # A guess (heuristic or voice match) is not a confirmation: a participant could be profiled by mistake.
        raise VoiceError("confirm this slot's role first (save it as Interviewer in the review), then enrol it")
    if row.voice is None or recording.key_id is None:
        raise VoiceError("no voiceprint is kept for this slot (recorded without diarisation, or its audio was "
                         "deleted)")
    try:
        vector = _unpack(sealed.open_record(db_session=db_session, key_id=recording.key_id, ciphertext=row.voice,
                                            context=_slot_context(recording.id, row.slot)))
    except DataKeyNotFound as exc:
        raise VoiceError("this recording's audio was deleted, and its voiceprints with it") from exc
    profile_id = uuid.uuid4().hex
    key_id, ciphertext = sealed.seal_record(db_session=db_session, purpose="voice_profile",
                                            context=_profile_context(profile_id), value=_pack(vector))
    profile = VoiceProfile(id=profile_id, study=recording.study, role=row.role, key_id=key_id, ciphertext=ciphertext,
                           source_recording_id=recording.id, source_slot=row.slot, created_at=utcnow(),
                           created_by=actor_id)
    db_session.add(profile)
    # The event's object is the recording, not the profile: a withdrawal blanks recording ids in the log, and the
    # chain covers details, so a recording id there could never be taken back.
    audit.record(db_session=db_session, action="voice_profile.enrol", actor_id=actor_id, object_type="recording",
                 object_id=recording.id, details={"profile": profile_id, "slot": row.slot})
    db_session.flush()
    return profile


def list_profiles(*, db_session: Session, study: str | None = None) -> list[VoiceProfile]:
    query = select(VoiceProfile).order_by(VoiceProfile.created_at, VoiceProfile.id)
    if study is not None:
        query = query.where(VoiceProfile.study == study)
    return list(db_session.execute(query).scalars())


def delete_profile(*, db_session: Session, sealed: SealedStore, profile_id: str, actor_id: int) -> None:
    """Crypto-shred the voiceprint (its key) and drop the row; labels it already gave stay as the reviewer left them."""
    profile = db_session.get(VoiceProfile, profile_id)
    if profile is None:
        raise VoiceError("no such voice profile", status=404)
    sealed.destroy_record(db_session=db_session, key_id=profile.key_id)
    db_session.delete(profile)
    audit.record(db_session=db_session, action="voice_profile.delete", actor_id=actor_id,
                 object_type="voice_profile", object_id=profile_id, details={"study_profiles_left": len(
                     [p for p in _profiles(db_session=db_session, study=profile.study) if p.id != profile_id])})
    db_session.flush()
