"""Imports every domain's models so Alembic and tests see the whole schema."""

from service.audit.models import AuditEvent, AuditHead
from service.auth.local_models import AccountLink, RecoveryCode, SigninChallenge, UserCredential
from service.auth.models import ApiToken, User
from service.auth.oidc_models import SsoLoginState, UserIdentity
from service.core.db import Base
from service.core.keystore import WrappedDataKey
from service.library.models import SearchDocument
from service.recordings.models import Job, Recording, RecordingAttachment
from service.redaction.models import AnonymisedTranscript, PseudonymMap, RedactionSpan
from service.speakers.models import SpeakerSlot, VoiceProfile
from service.transcripts.models import RawTranscript, TranscriptVersion

__all__ = [
    "AccountLink",
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
    "RecoveryCode",
    "RedactionSpan",
    "SearchDocument",
    "SigninChallenge",
    "SpeakerSlot",
    "SsoLoginState",
    "TranscriptVersion",
    "User",
    "UserCredential",
    "UserIdentity",
    "VoiceProfile",
    "WrappedDataKey",
]
