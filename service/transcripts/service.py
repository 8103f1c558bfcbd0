"""Raw (identifying) transcripts: sealed under their own data key, readable by reviewers and admins."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.crypto import MasterKey
from service.core.keystore import create_data_key, destroy_data_key, load_data_key
from service.transcripts.models import RawTranscript


class TranscriptNotReady(Exception):
    pass


def _context(recording_id: str) -> bytes:
    return b"anonscribe/raw-transcript/" + recording_id.encode()


def save_raw(
    *, db_session: Session, master: MasterKey, recording_id: str, transcript: dict[str, Any]
) -> None:
    """Idempotent per recording: a retried job replaces the transcript and shreds the old key."""
    existing = db_session.execute(
        select(RawTranscript).where(RawTranscript.recording_id == recording_id)
    ).scalar_one_or_none()
    key_id, key = create_data_key(db_session=db_session, master=master, purpose="raw_transcript")
    ciphertext = key.encrypt(json.dumps(transcript).encode(), context=_context(recording_id))
    stats = {
        "model": transcript.get("model", ""),
        "language": transcript.get("language", ""),
        "segment_count": len(transcript["segments"]),
        "word_count": sum(len(s.get("words", [])) for s in transcript["segments"]),
        "duration_s": float(transcript.get("duration", 0.0)),
    }
    if existing is None:
        db_session.add(
            RawTranscript(
                id=uuid.uuid4().hex,
                recording_id=recording_id,
                key_id=key_id,
                ciphertext=ciphertext,
                created_at=utcnow(),
                **stats,
            )
        )
    else:
        old_key = existing.key_id
        existing.key_id = key_id
        existing.ciphertext = ciphertext
        existing.created_at = utcnow()
        for name, value in stats.items():
            setattr(existing, name, value)
        destroy_data_key(db_session=db_session, key_id=old_key)
    db_session.flush()


def load_raw(*, db_session: Session, master: MasterKey, recording_id: str, actor_id: int) -> dict[str, Any]:
    row = db_session.execute(
        select(RawTranscript).where(RawTranscript.recording_id == recording_id)
    ).scalar_one_or_none()
    if row is None:
        raise TranscriptNotReady(recording_id)
    key = load_data_key(db_session=db_session, master=master, key_id=row.key_id)
    data: dict[str, Any] = json.loads(key.decrypt(row.ciphertext, context=_context(recording_id)))
    audit.record(
        db_session=db_session,
        action="transcript.view_raw",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording_id,
    )
    return data


def delete_for_recording(*, db_session: Session, recording_id: str) -> int:
    rows = (
        db_session.execute(select(RawTranscript).where(RawTranscript.recording_id == recording_id))
        .scalars()
        .all()
    )
    for row in rows:
        destroy_data_key(db_session=db_session, key_id=row.key_id)
        db_session.delete(row)
    return len(rows)
