"""Single sign-on state: which provider identity is which user, and the short-lived login attempts in flight.

Kept out of `users` on purpose: a user may have no identity (token or password accounts) and an identity row says
nothing a local account needs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.auth.models import User
from service.core.db import Base, UTCDateTime


class UserIdentity(Base):
    """An OpenID provider's account bound to a user. Matched by (issuer, subject) or (issuer, email) as configured;
    an admin may bind by email before the first sign-in, and the subject is recorded then and checked after."""

    __tablename__ = "user_identities"
    __table_args__ = (
        Index("uq_user_identities_issuer_subject", "issuer", "subject", unique=True),
        Index("uq_user_identities_issuer_email", "issuer", "email", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Lower-cased; only set when an admin bound it or users are matched by email.
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # NULL: created by a first sign-in and waiting for an admin (the user is inactive until then).
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship()


class SsoLoginState(Base):
    """One sign-in sent to the provider and not yet back. Single use, dropped on return or after the TTL.

    Nothing here is a secret on its own: the state and the browser key are stored as SHA-256, and the PKCE verifier
    is derived from the browser key (an HttpOnly cookie) and the state, so a copy of this table cannot finish a
    sign-in, and a callback URL replayed in another browser has no key to match."""

    __tablename__ = "sso_login_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    next_path: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
