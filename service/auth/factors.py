"""The TOTP second factor and its recovery codes: enrolment (a sealed secret confirmed by a code), checking a code
or recovery code at sign-in, and an admin's reset, which crypto-shreds the secret. The sign-in steps that use these
are `service.auth.accounts`'s."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth import totp
from service.auth.credentials import credential, user_or_missing
from service.auth.local_models import RecoveryCode, SigninChallenge, UserCredential
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.core.sealed import SealedStore, record_context

TOTP_PURPOSE = "totp"


class NotEnrolling(DomainError):
    status = 409
    message = "there is no two-factor set-up in progress"


def open_secret(*, db_session: Session, sealed: SealedStore, cred: UserCredential) -> str:
    return sealed.open_record(db_session=db_session, key_id=cred.totp_key_id, ciphertext=cred.totp_secret,  # type: ignore[arg-type]
                              context=record_context(TOTP_PURPOSE, str(cred.user_id))).decode()


def verify_code(*, db_session: Session, sealed: SealedStore, cred: UserCredential, code: str) -> str:
    """"totp" or "recovery" when accepted (and recorded as used); otherwise the audited reason it was not."""
    if totp.looks_like_recovery_code(code):
        found = db_session.execute(select(RecoveryCode).where(
            RecoveryCode.user_id == cred.user_id, RecoveryCode.code_hash == totp.hash_recovery_code(code))
            .with_for_update()).scalar_one_or_none()
        if found is None:
            return "invalid_recovery_code"
        if found.used_at is not None:
            return "used_recovery_code"
        found.used_at = utcnow()
        return "recovery"
    secret, now = open_secret(db_session=db_session, sealed=sealed, cred=cred), utcnow()
    step = totp.match(secret, code, now=now, last_step=cred.totp_last_step)
    if step is None:
        replayed = totp.match(secret, code, now=now, last_step=None) is not None
        return "replayed_code" if replayed else "invalid_code"
    cred.totp_last_step = step
    return "totp"


def enrolment_secret(*, db_session: Session, sealed: SealedStore, user_id: int) -> str:
    """The secret being enrolled (made and sealed on first call, the same one until confirmed)."""
    cred = credential(db_session, user_id)
    if cred.totp_confirmed_at is not None:
        raise NotEnrolling()
    if cred.totp_secret is None:
        secret = totp.new_secret()
        record = sealed.seal_record(db_session=db_session, purpose=TOTP_PURPOSE,
                                    context=record_context(TOTP_PURPOSE, str(user_id)), value=secret.encode())
        cred.totp_key_id, cred.totp_secret = record.key_id, record.ciphertext
        cred.totp_enrolled_at, cred.totp_last_step = utcnow(), None
        db_session.flush()
        return secret
    return open_secret(db_session=db_session, sealed=sealed, cred=cred)


def confirm_enrolment(*, db_session: Session, sealed: SealedStore, user_id: int, code: str) -> list[str] | None:
    """Confirm the pending secret with a code from the app: returns the new recovery codes (shown once), or None if
    the code is wrong."""
    cred = credential(db_session, user_id)
    if cred.totp_confirmed_at is not None or cred.totp_secret is None:
        raise NotEnrolling()
    secret = open_secret(db_session=db_session, sealed=sealed, cred=cred)
    step = totp.match(secret, code, now=utcnow(), last_step=cred.totp_last_step)
    if step is None:
        audit.record(db_session=db_session, action="account.factor_failed", actor_id=user_id, object_type="user",
                     object_id=str(user_id), details={"reason": "invalid_code"})
        return None
    cred.totp_confirmed_at, cred.totp_last_step = utcnow(), step
    codes = _new_recovery_codes(db_session, user_id)
    audit.record(db_session=db_session, action="account.factor_enrolled", actor_id=user_id, object_type="user",
                 object_id=str(user_id), details={"factor": "totp", "recovery_codes": len(codes)})
    db_session.flush()
    return codes


def _new_recovery_codes(db_session: Session, user_id: int) -> list[str]:
    db_session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes, now = totp.new_recovery_codes(), utcnow()
    db_session.add_all(RecoveryCode(user_id=user_id, code_hash=totp.hash_recovery_code(c), created_at=now)
                       for c in codes)
    return codes


def recovery_left(*, db_session: Session, user_id: int) -> int:
    rows = db_session.execute(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                            RecoveryCode.used_at.is_(None))).all()
    return len(rows)


def reset_factor(*, db_session: Session, sealed: SealedStore, user_id: int, actor_id: int | None) -> bool:
    """Forget the user's TOTP secret (crypto-shredded) and recovery codes; a role that needs a factor enrols again
    at the next sign-in. False if there was nothing to reset."""
    user_or_missing(db_session, user_id)
    cred = credential(db_session, user_id)
    had = cred.totp_secret is not None
    codes = db_session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id)).rowcount
    if cred.totp_key_id:
        sealed.destroy_record(db_session=db_session, key_id=cred.totp_key_id)
    cred.totp_key_id = cred.totp_secret = cred.totp_enrolled_at = cred.totp_confirmed_at = None
    cred.totp_last_step = None
    db_session.execute(delete(SigninChallenge).where(SigninChallenge.user_id == user_id))
    audit.record(db_session=db_session, action="account.factor_reset", actor_id=actor_id, object_type="user",
                 object_id=str(user_id), details={"had_factor": had, "recovery_codes_removed": codes or 0})
    db_session.flush()
    return had
