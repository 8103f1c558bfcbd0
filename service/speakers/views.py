from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from service.auth.models import Role, User
from service.deps import SealedDep, SessionDep, require_roles
from service.recordings import service as recordings
from service.speakers import roles as vocabulary
from service.speakers import service, voices
from service.speakers.models import VoiceProfile
from service.speakers.schemas import SLOT_PATTERN, SpeakerRead, SpeakersPatch, VoiceProfileRead

router = APIRouter(prefix="/api/v1/recordings", tags=["speakers"])

profiles_router = APIRouter(prefix="/api/v1/voice-profiles", tags=["speakers"])

Editor = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer, Role.uploader))]
Reviewer = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer))]
Admin = Annotated[User, Depends(require_roles(Role.admin))]
Slot = Annotated[str, Path(pattern=SLOT_PATTERN)]
ProfileId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _read(db_session: SessionDep, recording_id: str, cohort: str) -> list[SpeakerRead]:
    slots = service.list_slots(db_session=db_session, recording_id=recording_id)
    labels = service.labels(slots, cohort=cohort)
    return [
        SpeakerRead(slot=s.slot, role=vocabulary.word(s.role, cohort=cohort), label=labels[s.slot],
                    merged_into=s.merged_into, guessed=s.guessed, voice_match=s.voice_match)
        for s in slots
    ]


def _recording(db_session: SessionDep, user: User, recording_id: str):  # type: ignore[no-untyped-def]
    return recordings.get_recording(db_session=db_session, user=user, recording_id=recording_id)


@router.get("/{recording_id}/speakers", response_model=list[SpeakerRead])
def get_speakers(recording_id: str, db_session: SessionDep, user: Editor) -> list[SpeakerRead]:
    recording = _recording(db_session, user, recording_id)
    return _read(db_session, recording_id, recording.cohort)


@router.patch("/{recording_id}/speakers", response_model=list[SpeakerRead])
def patch_speakers(recording_id: str, body: SpeakersPatch, db_session: SessionDep, user: Editor) -> list[SpeakerRead]:
    """Relabel roles and merge slots; the transcript re-renders from these without reprocessing."""
    recording = _recording(db_session, user, recording_id)
    roles = {slot: vocabulary.stored(word, cohort=recording.cohort) for slot, word in body.roles.items()}
    service.update(
        db_session=db_session,
        recording_id=recording_id,
        actor_id=user.id,
        roles=roles,
        merges=[(m.source, m.target) for m in body.merge],
    )
    return _read(db_session, recording_id, recording.cohort)


def _profile(p: VoiceProfile) -> VoiceProfileRead:
    return VoiceProfileRead(id=p.id, study=p.study, role=p.role, source_recording_id=p.source_recording_id,
                            source_slot=p.source_slot, created_at=p.created_at)


@router.post("/{recording_id}/speakers/{slot}/voice-profile", status_code=status.HTTP_201_CREATED,
             response_model=VoiceProfileRead)
def enrol_voice(recording_id: str, slot: Slot, db_session: SessionDep, sealed: SealedDep,
                user: Reviewer) -> VoiceProfileRead:
    """Enrol the voice of a slot a reviewer confirmed as Interviewer as a voice profile of the recording's study:
    later recordings of the study label that voice Interviewer. Never for a participant (422)."""
    recording = _recording(db_session, user, recording_id)
    return _profile(voices.enrol_from_slot(db_session=db_session, sealed=sealed, recording=recording, slot=slot,
                                           actor_id=user.id))


@profiles_router.get("", response_model=list[VoiceProfileRead])
def list_voice_profiles(db_session: SessionDep, user: Reviewer) -> list[VoiceProfileRead]:
    return [_profile(p) for p in voices.list_profiles(db_session=db_session)]


@profiles_router.delete("/{profile_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_voice_profile(profile_id: ProfileId, db_session: SessionDep, sealed: SealedDep, user: Admin) -> Response:
    """Crypto-shred the profile's voiceprint and remove it; recordings already labelled keep their roles."""
    voices.delete_profile(db_session=db_session, sealed=sealed, profile_id=profile_id, actor_id=user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
