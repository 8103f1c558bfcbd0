"""Single sign-on for people: a sign-in at the organisation's OpenID provider becomes a user of anonscribe.

Who is who: an identity row binds (issuer, subject) or (issuer, e-mail) to a user, made by an admin beforehand or by
a first sign-in that then waits for approval (ANONSCRIBE_OIDC_UNKNOWN_USERS=pending). Roles stay the admin's unless a
group claim is mapped to roles, in which case every sign-in sets the role the provider's groups say.

Audit: `sso.signin` (user id), `sso.signin_failed` (a fixed reason code), `sso.user_pending`, `sso.user_approved`,
`sso.identity_bound`, `sso.role_from_groups`; never a token, a code, a subject or an address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth import service as auth
from service.auth.models import Role, User
from service.auth.oidc import OidcClient, OidcFailed
from service.auth.oidc_models import SsoLoginState, UserIdentity
from service.auth.throttle import LoginThrottle, Throttled
from service.core.clock import utcnow
from service.core.errors import DomainError
from service.core.settings import Settings

# An unauthenticated form creates these rows: past this many live attempts new ones are refused until old expire.
MAX_LIVE_ATTEMPTS = 10_000
# What an admin may bind before the first sign-in.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
PROVIDER_ERRORS = {"access_denied", "login_required", "consent_required", "interaction_required",
                   "account_selection_required", "invalid_request", "unauthorized_client", "invalid_scope",
                   "server_error", "temporarily_unavailable", "unsupported_response_type"}


class SsoRefused(Exception):
    """The sign-in did not make a session. `reason` is the audited code; the page says a fixed sentence for it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityTaken(DomainError):
    status = 409
    message = "that sign-in identity is already bound to a user"


class InvalidIdentity(DomainError):
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class NotPending(DomainError):
    status = 409
    message = "that user is not waiting for approval"


def issuer_key(settings: Settings) -> str:
    """How identities name their provider: the configured issuer without a trailing slash."""
    return str(settings.oidc_issuer or "").rstrip("/")


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def code_verifier(browser_key: str, state: str) -> str:
    """The PKCE verifier of one attempt: from the browser's cookie and the state, so it is stored nowhere."""
    digest = hmac.new(browser_key.encode(), b"anonscribe/pkce/v1:" + state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ---- the sign-in ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    url: str
    browser_key: str


def start(*, db_session: Session, client: OidcClient, next_path: str, redirect_uri: str) -> Started:
    """A new attempt: its state row, and the provider's URL to send the browser to."""
    now = utcnow()
    ttl = timedelta(seconds=client.settings.oidc_login_timeout_s)
    db_session.execute(delete(SsoLoginState).where(SsoLoginState.created_at < now - ttl))
    live = db_session.execute(select(func.count()).select_from(SsoLoginState)).scalar_one()
    if live >= MAX_LIVE_ATTEMPTS:
        raise SsoRefused("too_many_attempts")
    state, nonce, browser_key = (secrets.token_urlsafe(32) for _ in range(3))
    try:
        url = client.authorization_url(state=state, nonce=nonce, code_verifier=code_verifier(browser_key, state),
                                       redirect_uri=redirect_uri)
    except OidcFailed as exc:
        raise SsoRefused(exc.reason) from exc
    db_session.add(SsoLoginState(state_hash=_sha(state), browser_hash=_sha(browser_key), nonce=nonce,
                                 next_path=next_path[:512], created_at=now))
    db_session.flush()
    return Started(url=url, browser_key=browser_key)


@dataclass(frozen=True)
class SignedIn:
    user: User
    next_path: str


def finish(
    *, db_session: Session, client: OidcClient, state: str | None, code: str | None, error: str | None,
    browser_key: str | None, redirect_uri: str,
) -> SignedIn:
    """The provider sent the browser back. Every way this can go wrong raises `SsoRefused` (the caller audits it)."""
    if not state or len(state) > 128:
        raise SsoRefused("state_missing")
    row = db_session.get(SsoLoginState, _sha(state), with_for_update=True)
    if row is None:
        # Never issued, or used already (a replayed callback), or expired and swept.
        raise SsoRefused("state_unknown")
    db_session.delete(row)  # single use, whatever happens next
    db_session.flush()
    if not browser_key or not hmac.compare_digest(_sha(browser_key), row.browser_hash):
        raise SsoRefused("state_other_browser")
    if utcnow() - row.created_at > timedelta(seconds=client.settings.oidc_login_timeout_s):
        raise SsoRefused("state_expired")
    if error:
        raise SsoRefused("provider_" + (error if error in PROVIDER_ERRORS else "error"))
    if not code or len(code) > 4096:
        raise SsoRefused("code_missing")
    try:
        id_token = client.exchange(code=code, code_verifier=code_verifier(browser_key, state),
                                   redirect_uri=redirect_uri)
        claims = client.validate(id_token, nonce=row.nonce)
    except OidcFailed as exc:
        raise SsoRefused(exc.reason) from exc
    user = _user_for(db_session=db_session, settings=client.settings, claims=claims)
    audit.record(db_session=db_session, action="sso.signin", actor_id=user.id, object_type="user",
                 object_id=str(user.id))
    return SignedIn(user=user, next_path=row.next_path)


def _user_for(*, db_session: Session, settings: Settings, claims: dict[str, Any]) -> User:
    issuer = issuer_key(settings)
    subject = str(claims["sub"])
    email = _claimed_email(claims) if settings.oidc_user_claim == "email" else None
    if settings.oidc_user_claim == "email":
        identity = _one(db_session, UserIdentity.issuer == issuer, UserIdentity.email == email)
        if identity is not None and identity.subject is None:
            if _one(db_session, UserIdentity.issuer == issuer, UserIdentity.subject == subject) is not None:
                raise SsoRefused("subject_bound_elsewhere")
            identity.subject = subject  # from now on the address must come with this account
        elif identity is not None and identity.subject != subject:
            # The provider gave the address to another account (a re-used mailbox): not the person we bound.
            raise SsoRefused("subject_mismatch")
    else:
        identity = _one(db_session, UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    role = _role_from_groups(settings, claims)
    if identity is None:
        if settings.oidc_unknown_users == "pending":
            create_pending(db_session=db_session, issuer=issuer, subject=subject, email=email, claims=claims)
            raise SsoRefused("pending_approval")
        raise SsoRefused("unknown_user")
    user = identity.user
    if not user.active:
        raise SsoRefused("pending_approval" if identity.approved_at is None else "user_disabled")
    if settings.oidc_groups_claim and settings.oidc_group_roles:
        if role is None:
            raise SsoRefused("no_role_group")
        _apply_role(db_session=db_session, user=user, role=role)
    identity.last_login_at = utcnow()
    db_session.flush()
    return user


def _one(db_session: Session, *where: Any) -> UserIdentity | None:
    return db_session.execute(select(UserIdentity).where(*where).with_for_update()).scalar_one_or_none()


def _claimed_email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or not _EMAIL.match(email):
        raise SsoRefused("no_email_claim")
    # Keycloak sends email_verified; Entra ID does not (README): an explicit false is refused, never matched.
    if claims.get("email_verified") is False or claims.get("email_verified") == "false":
        raise SsoRefused("email_unverified")
    return email.strip().lower()


def _role_from_groups(settings: Settings, claims: dict[str, Any]) -> Role | None:
    if not settings.oidc_groups_claim or not settings.oidc_group_roles:
        return None
    groups = claims.get(settings.oidc_groups_claim)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return None
    held = {g for g in groups if isinstance(g, str)}
    for group, role in settings.oidc_group_roles.items():  # the first listed group the user holds decides
        if group in held:
            return Role(role)
    return None


def _apply_role(*, db_session: Session, user: User, role: Role) -> None:
    if user.role == role.value:
        return
    try:
        auth.update_user(db_session=db_session, user_id=user.id, actor_id=user.id, role=role)
    except auth.LastAdmin:
        # The provider's groups would leave nobody to manage users: the role stays, and the log says why.
        audit.record(db_session=db_session, action="sso.role_kept", object_type="user", object_id=str(user.id),
                     details={"reason": "last_admin"})
        return
    audit.record(db_session=db_session, action="sso.role_from_groups", object_type="user", object_id=str(user.id),
                 details={"role": role.value})


def create_pending(*, db_session: Session, issuer: str, subject: str, email: str | None,
                    claims: dict[str, Any]) -> User:
    hint = claims.get("preferred_username") or claims.get("email") or "sso-user"
    user = _new_user(db_session=db_session, name=_free_name(db_session, str(hint)), role=Role.researcher,
                     active=False)
    now = utcnow()
    db_session.add(UserIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email, created_at=now))
    audit.record(db_session=db_session, action="sso.user_pending", object_type="user", object_id=str(user.id))
    db_session.flush()
    return user


def _free_name(db_session: Session, hint: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "-", hint.split("@", 1)[0]).strip("-._")[:48] or "sso-user"
    if not base[0].isalnum():
        base = "u" + base
    name = base
    while db_session.execute(select(User.id).where(User.name == name)).first() is not None:
        name = f"{base}-{secrets.token_hex(2)}"
    return name


def _new_user(*, db_session: Session, name: str, role: Role, active: bool, actor_id: int | None = None) -> User:
    """A user without an API token: they sign in at the provider (an admin can still issue a token later)."""
    if not auth._NAME.match(name):
        raise auth.InvalidUserName("user names are 1-64 letters, digits, '.', '_' or '-'")
    if db_session.execute(select(User).where(User.name == name)).scalar_one_or_none():
        raise auth.UserExists(name)
    user = User(name=name, role=Role(role).value, active=active, created_at=utcnow())
    db_session.add(user)
    db_session.flush()
    audit.record(db_session=db_session, action="user.create", actor_id=actor_id, object_type="user",
                 object_id=str(user.id), details={"role": user.role, "via": "sso"})
    return user


def record_failure(*, db_session: Session, reason: str, client: str, throttle: LoginThrottle | None) -> None:
    """Audit a refused SSO sign-in; counted by the sign-in throttle like a bad token (raises `Throttled` past it)."""
    if throttle is not None:
        wait = throttle.retry_after(client)
        if wait is not None:
            raise Throttled(wait)
    audit.record(db_session=db_session, action="sso.signin_failed", details={"reason": reason})
    if throttle is not None and throttle.failed(client):
        audit.record(db_session=db_session, action="auth.throttled",
                     details={"client": client, "failures": throttle.limit, "window_s": throttle.window_s})


# ---- administration ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityRow:
    identity: UserIdentity
    user: User

    @property
    def pending(self) -> bool:
        return self.identity.approved_at is None


def list_identities(*, db_session: Session) -> list[IdentityRow]:
    rows = db_session.execute(
        select(UserIdentity, User).join(User, User.id == UserIdentity.user_id).order_by(UserIdentity.id)
    ).all()
    return [IdentityRow(identity=i, user=u) for i, u in rows]


def bind_new_user(
    *, db_session: Session, settings: Settings, name: str, role: Role, match: str, actor_id: int | None,
) -> User:
    """An admin's pre-created user, bound to a subject or an e-mail address (as ANONSCRIBE_OIDC_USER_CLAIM says)."""
    match = match.strip()
    issuer = issuer_key(settings)
    if settings.oidc_user_claim == "email":
        if not _EMAIL.match(match):
            raise InvalidIdentity("give the user's e-mail address as the provider sends it")
        subject, email = None, match.lower()
        taken = _one(db_session, UserIdentity.issuer == issuer, UserIdentity.email == email)
    else:
        if not 0 < len(match) <= 255 or any(c.isspace() for c in match):
            raise InvalidIdentity("give the provider's subject identifier (`sub`) for the user")
        subject, email = match, None
        taken = _one(db_session, UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    if taken is not None:
        raise IdentityTaken()
    user = _new_user(db_session=db_session, name=name, role=role, active=True, actor_id=actor_id)
    now = utcnow()
    db_session.add(UserIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email, created_at=now,
                                approved_at=now))
    audit.record(db_session=db_session, action="sso.identity_bound", actor_id=actor_id, object_type="user",
                 object_id=str(user.id), details={"by": settings.oidc_user_claim})
    db_session.flush()
    return user


def approve(*, db_session: Session, user_id: int, role: Role, actor_id: int | None) -> User:
    """A pending user gets a role and may sign in from now on."""
    identity = db_session.execute(
        select(UserIdentity).where(UserIdentity.user_id == user_id).with_for_update()
    ).scalars().first()
    if identity is None:
        raise auth.UserNotFound(user_id)
    if identity.approved_at is not None:
        raise NotPending()
    user = identity.user
    user.role = Role(role).value
    user.active = True
    identity.approved_at = utcnow()
    audit.record(db_session=db_session, action="sso.user_approved", actor_id=actor_id, object_type="user",
                 object_id=str(user.id), details={"role": user.role})
    db_session.flush()
    return user
