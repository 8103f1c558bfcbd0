"""Browser sessions for the web UI.

A session is a random id in an HttpOnly cookie, never the API token the user signed in with. Only its SHA-256 is
stored, as an `api_tokens` row under its own prefix: that row already carries everything a session needs (user,
hash, creation and last-use times, revocation) and needs no schema change. The prefixes keep the two apart both
ways: `authenticate` accepts only `ast_` tokens, so a stolen session id is no API token, and `resolve` accepts only
`aws_` rows, so an API token pasted into the cookie is no session.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, union_all
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth import service as auth
from service.auth.local_models import AccountLink, UserCredential
from service.auth.models import ApiToken, User
from service.auth.oidc_models import UserIdentity
from service.auth.throttle import LoginThrottle
from service.core.clock import utcnow
from service.core.errors import DomainError

SESSION_PREFIX = "aws_"
SESSION_NAME = "web session"
# last_used_at is refreshed at most this often: one write per minute of activity, not one per page.
TOUCH_EVERY = timedelta(seconds=60)


class TokenNotForWeb(DomainError):
    """A valid API token of someone who signs in with a password or single sign-on: not a web password."""

    status = 403
    message = "this account signs in with its password or single sign-on; API tokens are for scripts"


def start(
    *, db_session: Session, token: str, max_age: timedelta, client: str | None = None,
    throttle: LoginThrottle | None = None,
) -> tuple[User, str] | None:
    """Exchange a valid API token for a new session id; a bad token is audited (and throttled) like a failed API
    call."""
    user, reason = auth.check_token(db_session=db_session, token=token.strip()) if token.strip() else (None,
                                                                                                       "missing_token")
    if user is None:
        auth.record_failed_login(db_session=db_session, reason=reason, client=client, throttle=throttle)
        return None
    if has_personal_signin(db_session=db_session, user_id=user.id):
        auth.record_failed_login(db_session=db_session, reason="token_not_for_web", client=client, throttle=throttle)
        raise TokenNotForWeb()
    return user, begin(db_session=db_session, user=user, max_age=max_age, method="token")


def has_personal_signin(*, db_session: Session, user_id: int) -> bool:
    """Whether the user signs in as a person: a password or a confirmed TOTP factor (service/auth/accounts.py), a
    set-up or reset link ever made for them (so the gap between an admin's password reset and the new password is
    no opening), or a single sign-on identity. Such a user's API tokens are refused on the web sign-in form, so a
    token (no second factor, and it may sit in a script's config) is never a way round the password, the TOTP code
    or the provider's own checks."""
    found = union_all(
        select(UserCredential.user_id).where(
            UserCredential.user_id == user_id,
            or_(UserCredential.password_hash.is_not(None), UserCredential.totp_confirmed_at.is_not(None))),
        select(AccountLink.user_id).where(AccountLink.user_id == user_id),
        select(UserIdentity.user_id).where(UserIdentity.user_id == user_id),
    )
    return db_session.execute(found.limit(1)).first() is not None


def begin(*, db_session: Session, user: User, max_age: timedelta, method: str) -> str:
    """A new session for a user already authenticated (by `method`: token, password); returns its id."""
    now = utcnow()
    # Old sessions of this user that can no longer be used are dropped, so the table does not grow per sign-in.
    db_session.execute(
        delete(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.prefix.startswith(SESSION_PREFIX),
            or_(ApiToken.revoked.is_(True), ApiToken.created_at < now - max_age),
        )
    )
    session_id = SESSION_PREFIX + secrets.token_urlsafe(32)
    db_session.add(
        ApiToken(
            user_id=user.id,
            token_hash=auth.hash_token(session_id),
            prefix=session_id[:12],
            name=SESSION_NAME,
            created_at=now,
            last_used_at=now,
        )
    )
    audit.record(db_session=db_session, action="auth.session_start", actor_id=user.id, object_type="user",
                 object_id=str(user.id), details={"method": method})
    db_session.flush()
    return session_id


def _row(db_session: Session, session_id: str) -> ApiToken | None:
    if not session_id.startswith(SESSION_PREFIX) or len(session_id) > 128:
        return None
    row = db_session.execute(
        select(ApiToken).where(ApiToken.token_hash == auth.hash_token(session_id), ApiToken.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None or not row.prefix.startswith(SESSION_PREFIX):
        return None
    return row


def resolve(*, db_session: Session, session_id: str, max_age: timedelta, idle: timedelta) -> User | None:
    """The signed-in user, or None if the session is unknown, ended, expired, idle too long or its user disabled."""
    row = _row(db_session, session_id)
    if row is None or not row.user.active:
        return None
    now = utcnow()
    last = row.last_used_at or row.created_at
    if row.created_at + max_age <= now or last + idle <= now:
        return None
    if now - last >= TOUCH_EVERY:
        row.last_used_at = now
    return row.user


def end(*, db_session: Session, session_id: str) -> bool:
    """Sign out: the id is revoked server-side, so a copy of the cookie is worthless from now on."""
    row = _row(db_session, session_id)
    if row is None:
        return False
    row.revoked, row.revoked_at = True, utcnow()
    audit.record(db_session=db_session, action="auth.session_end", actor_id=row.user_id, object_type="user",
                 object_id=str(row.user_id))
    db_session.flush()
    return True
