"""Users and API tokens. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth.models import ApiToken, Role, User
from service.core.clock import utcnow

TOKEN_PREFIX = "ast_"  # noqa: S105 - a public prefix, not a secret
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class UserExists(Exception):
    pass


class InvalidUserName(ValueError):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, db_session: Session, user: User) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db_session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12], created_at=utcnow())
    )
    db_session.flush()
    return token


def create_user(
    *, db_session: Session, name: str, role: Role, actor_id: int | None = None
) -> tuple[User, str]:
    if not _NAME.match(name):
        raise InvalidUserName("user names are 1-64 letters, digits, '.', '_' or '-'")
    if db_session.execute(select(User).where(User.name == name)).scalar_one_or_none():
        raise UserExists(name)
    user = User(name=name, role=Role(role).value, active=True, created_at=utcnow())
    db_session.add(user)
    db_session.flush()
    token = issue_token(db_session=db_session, user=user)
    audit.record(
        db_session=db_session,
        action="user.create",
        actor_id=actor_id,
        object_type="user",
        object_id=str(user.id),
        details={"role": user.role},
    )
    return user, token


def authenticate(*, db_session: Session, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = db_session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def record_failed_login(*, db_session: Session, reason: str) -> None:
    audit.record(db_session=db_session, action="auth.failed", details={"reason": reason})


def list_users(*, db_session: Session) -> list[User]:
    return list(db_session.execute(select(User).order_by(User.id)).scalars())
