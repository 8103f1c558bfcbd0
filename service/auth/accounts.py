"""Local accounts: passwords set through one-time links (or the CLI), a TOTP second factor with recovery codes, and
per-account lockout. API tokens stay in `service.auth.service`: a token is never a password here.

A password sign-in has up to two steps. `password_step` checks name and password and says what is still due: nothing
(a session may start), a code (`"code"`), or, for a role that must have a second factor and has none yet, its
enrolment (`"enrol"`). The pending step is a `SigninChallenge` whose random id lives in a short-lived cookie.

The second factor itself (enrolment, codes, reset) is `service.auth.factors`'s. Every outcome is audited with ids
and counts only: never a password, code, secret, link or the name someone typed.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth import factors, passwords
from service.auth.credentials import credential, sha, user_or_missing
from service.auth.local_models import AccountLink, RecoveryCode, SigninChallenge, UserCredential
from service.auth.models import User
from service.auth.throttle import LoginThrottle, Throttled
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.core.sealed import SealedStore

LINK_PREFIX = "asl_"
CHALLENGE_PREFIX = "asc_"
CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_ATTEMPTS = 5


class LinkInvalid(DomainError):
    status = 410
    message = "this link is not valid: it was used, has expired or was replaced by a newer one"


class WeakPassword(DomainError):
    status = 422

    def __init__(self, reason: str) -> None:
        super().__init__(message=reason)


class SignInRefused(DomainError):
    """One answer for every reason (unknown name, wrong password, locked, disabled): the reason is audited only."""

    status = 401
    message = "name, password or code not accepted"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ChallengeExpired(DomainError):
    status = 401
    message = "the sign-in took too long or had too many wrong codes; start again"


class Next(enum.StrEnum):
    session = "session"
    code = "code"
    enrol = "enrol"


@dataclass(frozen=True)
class Lockout:
    """Consecutive failed password or code attempts per account before a temporary lock (0 = never)."""

    limit: int
    lock: timedelta

    @classmethod
    def from_settings(cls, settings) -> Lockout:  # type: ignore[no-untyped-def]
        return cls(limit=settings.account_failure_limit, lock=timedelta(seconds=settings.account_lock_s))


@dataclass(frozen=True)
class AccountStatus:
    has_password: bool
    totp: bool
    recovery_left: int
    locked_until: datetime | None


# ---- passwords and one-time links -----------------------------------------------------------------------------


def _store_password(db_session: Session, user: User, password: str) -> None:
    try:
        passwords.check(password, user_name=user.name)
    except passwords.WeakPassword as exc:
        raise WeakPassword(str(exc)) from None
    cred = credential(db_session, user.id)
    cred.password_hash = passwords.hash_password(password)
    cred.password_set_at = utcnow()
    cred.failed_count, cred.locked_until = 0, None


def set_password(*, db_session: Session, user_id: int, password: str, actor_id: int | None, via: str) -> None:
    """Set a password directly (the CLI, or a signed-in person changing their own)."""
    user = user_or_missing(db_session, user_id)
    _store_password(db_session, user, password)
    audit.record(db_session=db_session, action="account.password_set", actor_id=actor_id, object_type="user",
                 object_id=str(user.id), details={"via": via})
    db_session.flush()


def password_matches(*, db_session: Session, user_id: int, password: str) -> bool:
    cred = db_session.get(UserCredential, user_id)
    return passwords.verify(cred.password_hash if cred else None, password[:passwords.MAX_LENGTH])


def make_link(*, db_session: Session, user_id: int, actor_id: int | None, purpose: str, ttl: timedelta) -> str:
    """A one-time link for `user_id` to set a password: "invite" keeps any current password until the link is used,
    "reset" ends it now. Older unused links of the user stop working. Returns the link's secret (shown once)."""
    if purpose not in ("invite", "reset"):
        raise ValueError(purpose)
    user = user_or_missing(db_session, user_id)
    now = utcnow()
    db_session.execute(delete(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None)))
    token = LINK_PREFIX + secrets.token_urlsafe(32)
    db_session.add(AccountLink(user_id=user.id, token_hash=sha(token), purpose=purpose, created_by=actor_id,
                               created_at=now, expires_at=now + ttl))
    if purpose == "reset":
        cred = credential(db_session, user.id)
        had = cred.password_hash is not None
        cred.password_hash, cred.password_set_at = None, None
        audit.record(db_session=db_session, action="account.password_reset", actor_id=actor_id, object_type="user",
                     object_id=str(user.id), details={"had_password": had, "link_ttl_s": int(ttl.total_seconds())})
    else:
        audit.record(db_session=db_session, action="account.link_created", actor_id=actor_id, object_type="user",
                     object_id=str(user.id), details={"link_ttl_s": int(ttl.total_seconds())})
    db_session.flush()
    return token


def _live_link(db_session: Session, token: str) -> AccountLink:
    if not token.startswith(LINK_PREFIX) or len(token) > 128:
        raise LinkInvalid()
    link = db_session.execute(select(AccountLink).where(AccountLink.token_hash == sha(token))).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise LinkInvalid()
    user = db_session.get(User, link.user_id)
    if user is None or not user.active:
        raise LinkInvalid()
    return link


def link_user(*, db_session: Session, token: str) -> User:
    """Who a live link is for (the set-up page greets them by name); `LinkInvalid` otherwise."""
    return user_or_missing(db_session, _live_link(db_session, token).user_id)


def use_link(*, db_session: Session, token: str, password: str) -> User:
    link = _live_link(db_session, token)
    user = user_or_missing(db_session, link.user_id)
    _store_password(db_session, user, password)
    link.used_at = utcnow()
    audit.record(db_session=db_session, action="account.password_set", actor_id=user.id, object_type="user",
                 object_id=str(user.id), details={"via": f"{link.purpose}_link"})
    db_session.flush()
    return user


# ---- sign-in ------------------------------------------------------------------------------------------------


def _failed(db_session: Session, *, user_id: int | None, reason: str, client: str | None,
            throttle: LoginThrottle | None, lockout: Lockout) -> SignInRefused:
    """Count and audit one failure; the caller raises what this returns (after committing: the count must stay)."""
    failures = None
    if user_id is not None and lockout.limit > 0 and reason != "locked":
        cred = credential(db_session, user_id)
        cred.failed_count += 1
        failures = cred.failed_count
        if failures >= lockout.limit:
            cred.locked_until = utcnow() + lockout.lock
            cred.failed_count = 0
            audit.record(db_session=db_session, action="auth.account_locked", object_type="user",
                         object_id=str(user_id),
                         details={"failures": failures, "lock_s": int(lockout.lock.total_seconds())})
    details: dict[str, object] = {"reason": reason, "method": "password"}
    if failures is not None:
        details["failures"] = failures
    audit.record(db_session=db_session, action="auth.failed", object_type="user" if user_id else None,
                 object_id=str(user_id) if user_id else None, details=details)
    if throttle is not None and client is not None and throttle.failed(client):
        audit.record(db_session=db_session, action="auth.throttled",
                     details={"client": client, "failures": throttle.limit, "window_s": throttle.window_s})
    db_session.flush()
    return SignInRefused(reason)


def _check_throttle(client: str | None, throttle: LoginThrottle | None) -> None:
    # Unlike a token, a password is guessable: a throttled address gets no answer at all, right password or not.
    if throttle is not None and client is not None:
        wait = throttle.retry_after(client)
        if wait is not None:
            raise Throttled(wait)


def _locked(cred: UserCredential | None) -> bool:
    if cred is None or cred.locked_until is None:
        return False
    if cred.locked_until <= utcnow():
        cred.locked_until = None
        return False
    return True


def password_step(
    *, db_session: Session, name: str, password: str, lockout: Lockout, totp_roles: frozenset[str],
    client: str | None = None, throttle: LoginThrottle | None = None,
) -> tuple[User, Next]:
    """Check a name and password; say what is still due. Raises `Throttled` (nothing checked, nothing written), or
    `SignInFailed`, whose failure count and audit event the caller commits before answering."""
    _check_throttle(client, throttle)
    user = db_session.execute(select(User).where(User.name == name.strip())).scalar_one_or_none() \
        if 0 < len(name.strip()) <= 64 else None
    cred = db_session.get(UserCredential, user.id, with_for_update=True) if user else None
    ok = passwords.verify(cred.password_hash if cred else None, password[:passwords.MAX_LENGTH])
    if user is None:
        raise SignInFailed(_failed(db_session, user_id=None, reason="unknown_user", client=client,
                                   throttle=throttle, lockout=lockout))
    if _locked(cred):
        raise SignInFailed(_failed(db_session, user_id=user.id, reason="locked", client=client, throttle=throttle,
                                   lockout=lockout))
    if not ok or cred is None:
        reason = "invalid_password" if cred is not None and cred.password_hash else "no_password"
        raise SignInFailed(_failed(db_session, user_id=user.id, reason=reason, client=client, throttle=throttle,
                                   lockout=lockout))
    if not user.active:
        raise SignInFailed(_failed(db_session, user_id=user.id, reason="disabled", client=client, throttle=throttle,
                                   lockout=lockout))
    if passwords.needs_rehash(cred.password_hash):  # type: ignore[arg-type]
        cred.password_hash = passwords.hash_password(password)
    if cred.totp_confirmed_at is not None:
        return user, Next.code
    if user.role in totp_roles:
        return user, Next.enrol
    return user, Next.session


class SignInFailed(Exception):
    """Carries the refusal out of a step whose failure count must be committed before it is answered."""

    def __init__(self, refusal: DomainError) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def signed_in(*, db_session: Session, user: User, factor: str) -> None:
    """The last step succeeded: clear the failure count and audit how the person signed in."""
    cred = credential(db_session, user.id)
    cred.failed_count, cred.locked_until, cred.last_signin_at = 0, None, utcnow()
    audit.record(db_session=db_session, action="auth.signin", actor_id=user.id, object_type="user",
                 object_id=str(user.id), details={"method": "password", "factor": factor})


def start_challenge(*, db_session: Session, user_id: int, purpose: str) -> str:
    now = utcnow()
    db_session.execute(delete(SigninChallenge).where(
        (SigninChallenge.user_id == user_id) | (SigninChallenge.created_at < now - CHALLENGE_TTL)))
    token = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    db_session.add(SigninChallenge(user_id=user_id, token_hash=sha(token), purpose=purpose, created_at=now,
                                   attempts=0))
    db_session.flush()
    return token


def challenge_user(*, db_session: Session, token: str, purpose: str) -> User | None:
    """The user a live challenge of `purpose` belongs to, or None (unknown, expired, used up, disabled user)."""
    row = _challenge(db_session, token, purpose)
    if row is None:
        return None
    user = db_session.get(User, row.user_id)
    return user if user is not None and user.active else None


def _challenge(db_session: Session, token: str, purpose: str) -> SigninChallenge | None:
    if not token.startswith(CHALLENGE_PREFIX) or len(token) > 128:
        return None
    row = db_session.execute(select(SigninChallenge).where(SigninChallenge.token_hash == sha(token))
                             .with_for_update()).scalar_one_or_none()
    if row is None or row.purpose != purpose or row.created_at + CHALLENGE_TTL <= utcnow():
        return None
    return row


def code_step(
    *, db_session: Session, sealed: SealedStore, token: str, code: str, lockout: Lockout,
    client: str | None = None, throttle: LoginThrottle | None = None,
) -> User:
    """The second step: a TOTP code or an unused recovery code. The challenge is used up on success, and after
    `CHALLENGE_ATTEMPTS` wrong codes."""
    _check_throttle(client, throttle)
    row = _challenge(db_session, token, "code")
    if row is None:
        raise ChallengeExpired()
    user = db_session.get(User, row.user_id)
    cred = db_session.get(UserCredential, row.user_id, with_for_update=True)
    if user is None or cred is None or cred.totp_confirmed_at is None:
        raise ChallengeExpired()
    if _locked(cred) or not user.active:
        db_session.delete(row)
        raise SignInFailed(_failed(db_session, user_id=user.id, reason="locked" if user.active else "disabled",
                                   client=client, throttle=throttle, lockout=lockout))
    factor = factors.verify_code(db_session=db_session, sealed=sealed, cred=cred, code=code)
    if factor in ("totp", "recovery"):
        db_session.delete(row)
        signed_in(db_session=db_session, user=user, factor=factor)
        if factor == "recovery":
            left = factors.recovery_left(db_session=db_session, user_id=user.id)
            audit.record(db_session=db_session, action="account.recovery_code_used", actor_id=user.id,
                         object_type="user", object_id=str(user.id), details={"left": left})
        db_session.flush()
        return user
    row.attempts += 1
    if row.attempts >= CHALLENGE_ATTEMPTS:
        db_session.delete(row)
    raise SignInFailed(_failed(db_session, user_id=user.id, reason=factor, client=client, throttle=throttle,
                               lockout=lockout))


def enrol_step(*, db_session: Session, sealed: SealedStore, token: str, code: str) -> tuple[User, list[str]] | None:
    """Sign-in's enrolment step: confirm the code, use up the challenge, sign in. None if the code is wrong."""
    row = _challenge(db_session, token, "enrol")
    if row is None:
        raise ChallengeExpired()
    user = db_session.get(User, row.user_id)
    if user is None or not user.active:
        raise ChallengeExpired()
    codes = factors.confirm_enrolment(db_session=db_session, sealed=sealed, user_id=user.id, code=code)
    if codes is None:
        row.attempts += 1
        if row.attempts >= CHALLENGE_ATTEMPTS:
            db_session.delete(row)
        return None
    db_session.delete(row)
    signed_in(db_session=db_session, user=user, factor="totp_enrolled")
    db_session.flush()
    return user, codes


def statuses(*, db_session: Session) -> dict[int, AccountStatus]:
    """Per user id, for the admin's list (users without a credentials row have no password and no factor)."""
    left: dict[int, int] = {}
    for (uid,) in db_session.execute(select(RecoveryCode.user_id).where(RecoveryCode.used_at.is_(None))):
        left[uid] = left.get(uid, 0) + 1
    now = utcnow()
    return {
        c.user_id: AccountStatus(
            has_password=c.password_hash is not None, totp=c.totp_confirmed_at is not None,
            recovery_left=left.get(c.user_id, 0),
            locked_until=c.locked_until if c.locked_until and c.locked_until > now else None)
        for c in db_session.execute(select(UserCredential)).scalars()
    }


def status(*, db_session: Session, user_id: int) -> AccountStatus:
    return statuses(db_session=db_session).get(user_id, AccountStatus(False, False, 0, None))


def unlock(*, db_session: Session, user_id: int, actor_id: int | None) -> None:
    user_or_missing(db_session, user_id)
    cred = credential(db_session, user_id)
    if cred.locked_until is None and cred.failed_count == 0:
        return
    cred.locked_until, cred.failed_count = None, 0
    audit.record(db_session=db_session, action="account.unlocked", actor_id=actor_id, object_type="user",
                 object_id=str(user_id))
    db_session.flush()
