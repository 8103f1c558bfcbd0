"""Imports every domain's models so Alembic and tests see the whole schema."""

from service.audit.models import AuditEvent, AuditHead
from service.auth.models import ApiToken, User
from service.core.db import Base
from service.core.keystore import WrappedDataKey
from service.recordings.models import Job, Recording, RecordingAttachment
from service.redaction.models import AnonymisedTranscript, PseudonymMap, RedactionSpan
from service.speakers.models import SpeakerSlot, VoiceProfile
from service.transcripts.models import RawTranscript

__all__ = [
    "AnonymisedTranscript",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Job",
    "PseudonymMap",
    "RawTranscript",
    "Recording",
    "RecordingAttachment",
    "RedactionSpan",
    "SpeakerSlot",
    "User",
    "VoiceProfile",
    "WrappedDataKey",
]
