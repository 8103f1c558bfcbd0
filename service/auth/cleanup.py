"""The credential clean-up sweep: the `api_tokens` table would otherwise keep every token ever revoked or expired
and every web session ever started (sessions are rows there too, service/auth/sessions.py).

- An API token is deleted `api_token_purge_after_days` after it stopped working (revoked, or past its expiry):
  until then its owner and the admins still see it, marked, in the token lists. A live token is never touched.
- A web session is deleted once it can no longer be used (signed out, past its absolute age, or idle too long):
  nobody sees sessions in a list and a dead session id is worth nothing, so there is nothing to keep it for.

The audit entries about each token (made, revoked, refused) stay; the sweep adds one entry with counts only.
Idempotent, and safe on several machines at once: each DELETE removes only rows still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth.models import ApiToken
from service.auth.service import TOKEN_PREFIX
from service.auth.sessions import SESSION_PREFIX
from service.core.clock import utcnow
from service.core.settings import Settings

ACTION = "auth.credential_sweep"


@dataclass(frozen=True)
class Policy:
    keep_ended_tokens: timedelta
    session_max_age: timedelta
    session_idle: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(keep_ended_tokens=timedelta(days=settings.api_token_purge_after_days),
                   session_max_age=timedelta(seconds=settings.web_session_max_age_s),
                   session_idle=timedelta(seconds=settings.web_session_idle_s))


def sweep(*, db_session: Session, policy: Policy) -> dict[str, int]:
    """Delete ended API tokens past the keeping period and unusable web sessions; returns the counts."""
    now = utcnow()
    tokens = ApiToken.prefix.startswith(TOKEN_PREFIX)
    sessions = ApiToken.prefix.startswith(SESSION_PREFIX)
    # Revoked before `revoked_at` existed (alembic 0014): kept the full period counted from now.
    stamped = db_session.execute(
        update(ApiToken).where(tokens, ApiToken.revoked.is_(True), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    cutoff = now - policy.keep_ended_tokens
    old_tokens = db_session.execute(
        delete(ApiToken).where(tokens, or_(
            and_(ApiToken.revoked.is_(True), ApiToken.revoked_at <= cutoff),
            ApiToken.expires_at <= cutoff,
        )).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    # What sessions.resolve refuses: signed out, too old, or unused too long.
    dead_sessions = db_session.execute(
        delete(ApiToken).where(sessions, or_(
            ApiToken.revoked.is_(True),
            ApiToken.created_at <= now - policy.session_max_age,
            func.coalesce(ApiToken.last_used_at, ApiToken.created_at) <= now - policy.session_idle,
        )).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    counts = {"api_tokens": int(old_tokens), "web_sessions": int(dead_sessions), "revocations_dated": int(stamped)}
    if old_tokens or dead_sessions:
        audit.record(db_session=db_session, action=ACTION,
                     details={**counts, "keep_days": policy.keep_ended_tokens.days})
    db_session.flush()
    return counts
