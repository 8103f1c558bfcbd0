"""API tokens for scripts and the CLI, made and revoked by their owner (or an admin for anyone): each with a name
and an optional expiry, shown once, stored as SHA-256 (service/auth/service.py). Web sessions live in the same table
under their own prefix (service/auth/sessions.py) and are never listed, made or revoked here."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth import service as auth
from service.auth.credentials import user_or_missing
from service.auth.models import ApiToken
from service.auth.service import TOKEN_PREFIX
from service.core.clock import utcnow
from service.core.errors import DomainError

NAME_MAX = 64


class InvalidTokenName(DomainError):
    status = 422
    message = "a token name is 1-64 printable characters"


class InvalidExpiry(DomainError):
    status = 422

    def __init__(self, max_days: int) -> None:
        super().__init__(message=f"a token expires 1 to {max_days} days from now, or never")


class TooManyTokens(DomainError):
    status = 409

    def __init__(self, limit: int) -> None:
        super().__init__(message=f"at most {limit} live API tokens per user: revoke one first")


class TokenNotFound(DomainError):
    status = 404
    message = "no such token"


@dataclass(frozen=True)
class Limits:
    per_user: int
    max_days: int

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        return cls(per_user=settings.api_token_limit, max_days=settings.api_token_max_days)  # type: ignore[attr-defined]


def clean_name(name: str) -> str:
    """Trimmed; 1-64 characters, none of them control or format characters (it is shown on pages and the CLI)."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX or any(unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidTokenName()
    return name


def expiry(*, limits: Limits, days: int | None = None, at: datetime | None = None) -> datetime | None:
    """The expiry from a number of days or a moment (neither: never). Later than `max_days` or not in the future:
    refused, so no token outlives the deployment's policy."""
    now = utcnow()
    if days is not None and at is not None:
        raise InvalidExpiry(limits.max_days)
    if days is not None:
        if not 1 <= days <= limits.max_days:
            raise InvalidExpiry(limits.max_days)
        return now + timedelta(days=days)
    if at is not None:
        if at.tzinfo is None or not now < at <= now + timedelta(days=limits.max_days):
            raise InvalidExpiry(limits.max_days)
        return at
    return None


def _tokens(user_id: int):  # type: ignore[no-untyped-def]
    return select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.prefix.startswith(TOKEN_PREFIX))


def list_tokens(*, db_session: Session, user_id: int) -> list[ApiToken]:
    """The user's API tokens, newest first, revoked and expired ones included (marked); never web sessions."""
    user_or_missing(db_session, user_id)
    return list(db_session.execute(_tokens(user_id).order_by(ApiToken.id.desc())).scalars())


def live_count(*, db_session: Session, user_id: int) -> int:
    now = utcnow()
    query = _tokens(user_id).where(ApiToken.revoked.is_(False),
                                   or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
    return db_session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def create(
    *, db_session: Session, user_id: int, name: str, actor_id: int | None, limits: Limits,
    expires_in_days: int | None = None, expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user_id` (by the owner, an admin, or the CLI when `actor_id` is None); the token string is
    returned once. Audited with the ids and the expiry in days, never the name (people write anything there)."""
    user = user_or_missing(db_session, user_id)
    name = clean_name(name)
    when = expiry(limits=limits, days=expires_in_days, at=expires_at)
    if live_count(db_session=db_session, user_id=user_id) >= limits.per_user:
        raise TooManyTokens(limits.per_user)
    row, token = auth.issue_token(db_session=db_session, user=user, name=name, expires_at=when)
    days = None if when is None else max(1, round((when - row.created_at).total_seconds() / 86400))
    audit.record(db_session=db_session, action="token.create", actor_id=actor_id, object_type="api_token",
                 object_id=str(row.id),
                 details={"user_id": user_id, "by": _by(actor_id, user_id), "expires_days": days})
    return row, token


def revoke(*, db_session: Session, user_id: int, token_id: int, actor_id: int | None) -> ApiToken:
    """Revoke one of `user_id`'s tokens (another user's id, or a web session's, is not found). Revoking a revoked
    token changes nothing and is not audited again."""
    row = db_session.get(ApiToken, token_id, with_for_update=True)
    if row is None or row.user_id != user_id or not row.prefix.startswith(TOKEN_PREFIX):
        raise TokenNotFound()
    if not row.revoked:
        row.revoked, row.revoked_at = True, utcnow()
        audit.record(db_session=db_session, action="token.revoke", actor_id=actor_id, object_type="api_token",
                     object_id=str(row.id), details={"user_id": user_id, "by": _by(actor_id, user_id)})
        db_session.flush()
    return row


def _by(actor_id: int | None, user_id: int) -> str:
    return "cli" if actor_id is None else "owner" if actor_id == user_id else "admin"


def state(row: ApiToken, now: datetime | None = None) -> str:
    """live, expired or revoked: what the lists show."""
    if row.revoked:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "live"


def expiry_choices(max_days: int) -> list[int]:
    """The lifetimes the web forms offer (days), none beyond the deployment's maximum, which is always offered."""
    return sorted({d for d in (7, 30, 90, 365) if d <= max_days} | {max_days})
