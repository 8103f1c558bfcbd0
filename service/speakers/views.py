from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from service.auth.models import Role, User
from service.deps import SessionDep, require_roles
from service.recordings import service as recordings
from service.speakers import roles as vocabulary
from service.speakers import service
from service.speakers.schemas import SpeakerRead, SpeakersPatch

router = APIRouter(prefix="/api/v1/recordings", tags=["speakers"])

Editor = Annotated[User, Depends(require_roles(Role.admin, Role.reviewer, Role.uploader))]


def _read(db_session: SessionDep, recording_id: str, cohort: str) -> list[SpeakerRead]:
    slots = service.list_slots(db_session=db_session, recording_id=recording_id)
    labels = service.labels(slots, cohort=cohort)
    return [
        SpeakerRead(slot=s.slot, role=vocabulary.word(s.role, cohort=cohort), label=labels[s.slot],
                    merged_into=s.merged_into, guessed=s.guessed)
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
