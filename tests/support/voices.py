"""Slot voiceprints as the worker leaves them (sealed under the recording's audio key), for tests of enrolment that
need no diarisation: the voice-profile flow with real voices is tests/speakers/test_voice_profiles.py."""

from __future__ import annotations

import random
from typing import Any


def voice(seed: int, dim: int = 192) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0.0, 1.0) for _ in range(dim)]


def give_voices(runtime: Any, recording_id: str, *, confirm: dict[str, str] | None = None) -> None:
    """Seal a voiceprint for every slot of the recording (making it an audio key if it has none, as an upload
    would), then save `confirm` (slot -> stored role) as a reviewer's decision."""
    from sqlalchemy import select

    from service.core.db import session_scope
    from service.core.sealed import record_context
    from service.recordings.models import Recording
    from service.speakers import service as speakers
    from service.speakers import voices
    from service.speakers.models import SpeakerRole, SpeakerSlot

    with session_scope(runtime.sessions) as s:
        recording = s.get(Recording, recording_id)
        assert recording is not None
        if recording.key_id is None:
            recording.key_id = runtime.sealed.seal_record(db_session=s, purpose="audio",
                                                          context=record_context("test-audio", recording_id),
                                                          value=b"").key_id
        slots = list(s.execute(select(SpeakerSlot.slot).where(SpeakerSlot.recording_id == recording_id)).scalars())
        voices.save_slot_voices(db_session=s, sealed=runtime.sealed, recording=recording,
                                voices={slot: voice(i) for i, slot in enumerate(slots)})
        if confirm:
            speakers.update(db_session=s, recording_id=recording_id, actor_id=None,
                            roles={slot: SpeakerRole(role) for slot, role in confirm.items()}, merges=[])
