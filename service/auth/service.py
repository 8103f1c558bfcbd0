"""Users and API tokens. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth.models import ApiToken, Role, User
from service.auth.throttle import LoginThrottle, Throttled
from service.core.clock import utcnow
from service.core.errors import DomainError

TOKEN_PREFIX = "ast_"  # noqa: S105 - a public prefix, not a secret
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class UserExists(DomainError):
    status = 409
    message = "a user with that name exists"

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class InvalidUserName(DomainError):
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class UserNotFound(DomainError):
    status = 404
    message = "no such user"

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id


class LastAdmin(DomainError):
    """The change would leave no active admin: nobody could manage users or withdraw participants."""

    status = 409
    message = "that would leave no active admin"

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *, db_session: Session, user: User, name: str = "initial", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token row and the token itself (the caller shows it once). Limits and audit: service/auth/tokens.py."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12], name=name, created_at=utcnow(),
                   expires_at=expires_at)
    db_session.add(row)
    db_session.flush()
    return row, token


def create_user(
    *, db_session: Session, name: str, role: Role, actor_id: int | None = None, api_token: bool = True
) -> tuple[User, str | None]:
    """A new user, with an API token (for scripts) unless `api_token` is False (a person who will get a password
    through a set-up link: service/auth/accounts.py)."""
    if not _NAME.match(name):
        raise InvalidUserName("user names are 1-64 letters, digits, '.', '_' or '-'")
    if db_session.execute(select(User).where(User.name == name)).scalar_one_or_none():
        raise UserExists(name)
    user = User(name=name, role=Role(role).value, active=True, created_at=utcnow())
    db_session.add(user)
    db_session.flush()
    token = issue_token(db_session=db_session, user=user)[1] if api_token else None
    audit.record(
        db_session=db_session,
        action="user.create",
        actor_id=actor_id,
        object_type="user",
        object_id=str(user.id),
        details={"role": user.role, "api_token": token is not None},
    )
    return user, token


def authenticate(*, db_session: Session, token: str) -> User | None:
    return check_token(db_session=db_session, token=token)[0]


def check_token(*, db_session: Session, token: str) -> tuple[User | None, str]:
    """The token's user, or None and why not, for the audit log: invalid_token (unknown), revoked_token,
    expired_token, disabled (the user is). Every refusal gets the same 401; only the log tells them apart."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None, "invalid_token"
    row = db_session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one_or_none()
    if row is None or not row.prefix.startswith(TOKEN_PREFIX):
        return None, "invalid_token"
    now = utcnow()
    if row.revoked:
        return None, "revoked_token"
    if row.expires_at is not None and row.expires_at <= now:
        return None, "expired_token"
    if not row.user.active:
        return None, "disabled"
    row.last_used_at = now
    return row.user, "ok"


def record_failed_login(
    *, db_session: Session, reason: str, client: str | None = None, throttle: LoginThrottle | None = None
) -> None:
    """Audit a failed sign-in. The one that reaches the throttle's limit is followed by an `auth.throttled` event;
    later ones from that client raise `Throttled` unaudited, so the table grows by at most `limit` rows per window."""
    if throttle is not None and client is not None:
        wait = throttle.retry_after(client)
        if wait is not None:
            raise Throttled(wait)
    audit.record(db_session=db_session, action="auth.failed", details={"reason": reason})
    if throttle is not None and client is not None and throttle.failed(client):
        audit.record(
            db_session=db_session,
            action="auth.throttled",
            details={"client": client, "failures": throttle.limit, "window_s": throttle.window_s},
        )


def list_users(*, db_session: Session) -> list[User]:
    return list(db_session.execute(select(User).order_by(User.id)).scalars())


def update_user(
    *, db_session: Session, user_id: int, actor_id: int, role: Role | None = None, active: bool | None = None
) -> User:
    """Change a user's role or deactivate them; audited as one `user.update` event."""
    user = db_session.get(User, user_id, with_for_update=True)
    if user is None:
        raise UserNotFound(user_id)
    changes: dict[str, object] = {}
    if role is not None and Role(role).value != user.role:
        changes["role"] = {"from": user.role, "to": Role(role).value}
    if active is not None and active != user.active:
        changes["active"] = {"from": user.active, "to": active}
    if not changes:
        return user
    leaves_admin = user.role == Role.admin.value and user.active
    if leaves_admin and ("role" in changes or active is False):
        others = db_session.execute(
            select(User).where(User.role == Role.admin.value, User.active.is_(True), User.id != user.id)
            .with_for_update()
        ).first()
        if others is None:
            raise LastAdmin(user_id)
    if "role" in changes:
        user.role = Role(role).value  # type: ignore[arg-type]
    if "active" in changes:
        user.active = bool(active)
    audit.record(
        db_session=db_session,
        action="user.update",
        actor_id=actor_id,
        object_type="user",
        object_id=str(user.id),
        details=changes,
    )
    db_session.flush()
    return user
