"""Participant withdrawal: every trace of a participant code goes, in one transaction, and a receipt says what went.

The receipt *is* the audit event (`participant.withdraw`): its id and hash are printed on it, so it can be checked
against the tamper-evident log. The code itself is never stored: the event names the participant only by a keyed
hash (HMAC under a deployment key wrapped by the master key), which is also how a second withdrawal of the same
code is recognised. An override reason is free text and may name someone, so it is sealed under a data key of its
own, never written to the log in clear.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.db import release_freed_pages, session_scope
from service.core.errors import DomainError
from service.core.runtime import Runtime
from service.core.sealed import SealedStore, record_context
from service.recordings import lifecycle as recordings
from service.redaction import service as redaction

ACTION = "participant.withdraw"
# The upload's rule for participant codes (RecordingMeta).
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
KINDS = (
    "recordings",
    "audio_files",
    "raw_transcripts",
    # A reviewer's corrections: each a sealed copy of the whole corrected transcript.
    "transcript_versions",
    "anonymised_transcripts",
    # Turns of the library's full-text index (anonymised text in clear) and the entry naming the document.
    "search_index_rows",
    "redaction_spans",
    "speaker_slots",
    # Diarisation voiceprints of the recording's speakers (sealed under the audio key).
    "slot_voices",
    # A study's interviewer voice profile enrolled from this recording stays (staff, not the participant) but
    # forgets where it came from.
    "voice_profile_links",
    "attachments",
    "pseudonym_entries",
    "jobs",
    # Exports are built on request and streamed, never stored: there is nothing to delete, and the receipt says so.
    "export_files",
    "data_keys",
)


# The code a request gave is identifying: it is kept on the error for the caller, never put in its message.
class InvalidParticipantCode(DomainError):
    status = 422
    message = "not a participant code"

    def __init__(self, participant_code: str) -> None:
        super().__init__()
        self.participant_code = participant_code


class ParticipantNotFound(DomainError):
    status = 404
    message = "no data for this participant code"

    def __init__(self, participant_code: str) -> None:
        super().__init__()
        self.participant_code = participant_code


class PastDeadline(DomainError):
    """The API's wording; the CLI and the page say how to give the override their own way."""

    status = 409

    def __init__(self, deadline: date) -> None:
        super().__init__(message=f"the withdrawal deadline ({deadline.isoformat()}) has passed; the data may already "
                                 "be in analysis. To withdraw anyway, give an override_reason.")
        self.deadline = deadline


class ReceiptNotFound(DomainError):
    status = 404
    message = "no such receipt"
    page_message = "There is no such receipt."

    def __init__(self, receipt_id: str) -> None:
        super().__init__()
        self.receipt_id = receipt_id


@dataclass
class Receipt:
    receipt_id: str
    issued_at: datetime
    study: str
    # The first 16 hex digits of the keyed hash: lets the team match a receipt to a code it holds; names nobody.
    participant_ref: str
    deleted: dict[str, int]
    past_deadline: bool
    override: bool
    audit_event_id: int
    audit_hash: str
    override_reason: str | None = field(default=None)

    @property
    def nothing_left(self) -> bool:
        return not any(self.deleted.values())


def participant_ref(*, db_session: Session, sealed: SealedStore, study: str, code: str) -> str:
    data = f"{study}\0{code}".encode()
    return sealed.keyed_hash(db_session=db_session, purpose="participant", data=data)


def _note_context(receipt_id: str) -> bytes:
    return record_context("withdrawal-reason", receipt_id)


def _new_receipt_id() -> str:
    h = uuid.uuid4().hex[:16].upper()
    return "WR-" + "-".join(h[i : i + 4] for i in range(0, 16, 4))


def withdraw(
    *,
    runtime: Runtime,
    participant_code: str,
    actor_id: int | None,
    override_reason: str | None = None,
    via: str = "api",
) -> Receipt:
    """Delete every recording, transcript (raw and anonymised), pseudonym entry and job of this code.

    Past the participant's withdrawal deadline (the latest of their recordings') this refuses unless an
    `override_reason` is given. A second withdrawal of the same code succeeds with nothing left to delete.
    """
    if not CODE.match(participant_code):
        raise InvalidParticipantCode(participant_code)
    reason = (override_reason or "").strip() or None
    study = runtime.settings.study
    sealed = runtime.sealed
    with session_scope(runtime.sessions) as s:
        # First, before any write: on first use this commits the MAC key in a session of its own.
        ref = participant_ref(db_session=s, sealed=sealed, study=study, code=participant_code)
        found = recordings.participant_recordings(db_session=s, participant_code=participant_code, study=study)
        counts: Counter[str] = Counter({k: 0 for k in KINDS})
        past = False
        if not found:
            if not audit.find(db_session=s, action=ACTION, object_id=ref):
                raise ParticipantNotFound(participant_code)
        else:
            deadline = max(r.withdrawal_deadline for r in found)
            past = utcnow().date() > deadline
            if past and reason is None:
                raise PastDeadline(deadline)
            # Jobs first: a worker's final save needs its job row, so it either committed before this (and its
            # output is deleted below) or finds its lease gone and discards its output.
            recordings.cancel_jobs(db_session=s, recording_ids=[r.id for r in found])
            locked = recordings.participant_recordings(
                db_session=s, participant_code=participant_code, study=study, lock=True
            )
            ids = [r.id for r in locked]
            job_ids = recordings.job_ids(db_session=s, recording_ids=ids)
            counts.update(recordings.purge(db_session=s, sealed=sealed, recordings=locked))
            counts["pseudonym_entries"] += redaction.forget_recordings(
                db_session=s, sealed=sealed, study=study, recording_ids=ids
            )
            # Earlier events keep their place in the chain, but no longer say which recordings they were about.
            audit.erase_object_ids(db_session=s, object_type="recording", object_ids=ids)
            audit.erase_object_ids(db_session=s, object_type="job", object_ids=job_ids)
        receipt_id = _new_receipt_id()
        deleted = {k: int(counts[k]) for k in KINDS}
        details: dict[str, Any] = {
            "receipt": receipt_id,
            "study": study,
            "deleted": deleted,
            "past_deadline": past,
            "override": past,
            "via": via,
        }
        if past and reason is not None:
            note = sealed.seal_record(
                db_session=s, purpose="withdrawal_reason", context=_note_context(receipt_id), value=reason.encode()
            )
            details["override_reason"] = {"key_id": note.key_id, "sealed": base64.b64encode(note.ciphertext).decode()}
        event = audit.record(
            db_session=s, action=ACTION, actor_id=actor_id, object_type="participant", object_id=ref, details=details
        )
        receipt = _receipt(event)
    release_freed_pages(runtime.engine)
    return receipt


def _receipt(event: audit.AuditEvent) -> Receipt:
    d = event.details
    return Receipt(
        receipt_id=d["receipt"],
        issued_at=event.at,
        study=d.get("study", ""),
        participant_ref=(event.object_id or "")[:16],
        # A receipt issued before a kind was counted doesn't list it (rather than claim 0 were deleted).
        deleted={k: int(d["deleted"][k]) for k in KINDS if k in d["deleted"]},
        past_deadline=bool(d.get("past_deadline")),
        override=bool(d.get("override")),
        audit_event_id=event.id,
        audit_hash=event.hash,
    )


def get_receipt(
    *,
    db_session: Session,
    sealed: SealedStore,
    receipt_id: str,
    reveal_reason: bool = False,
    actor_id: int | None = None,
) -> Receipt:
    """A receipt again (to reprint). `reveal_reason` decrypts an override reason for an admin; that read is audited."""
    for event in audit.find(db_session=db_session, action=ACTION):
        if event.details.get("receipt") == receipt_id:
            receipt = _receipt(event)
            note = event.details.get("override_reason")
            if reveal_reason and note:
                receipt.override_reason = sealed.open_record(
                    db_session=db_session, key_id=note["key_id"], ciphertext=base64.b64decode(note["sealed"]),
                    context=_note_context(receipt_id),
                ).decode()
                audit.record(
                    db_session=db_session, action="withdrawal.view_reason", actor_id=actor_id,
                    object_type="withdrawal", object_id=receipt_id,
                )
            return receipt
    raise ReceiptNotFound(receipt_id)
