"""`anonscribe users ...`: manage users and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from service.auth.models import Role
from service.cli.common import die
from service.core.private import secure_data_dir
from service.core.settings import get_settings

app = typer.Typer(help="Manage users and API tokens.", no_args_is_help=True)


def _db():  # type: ignore[no-untyped-def]
    """Settings, engine and session factory of the migrated database (no master key needed for tokens)."""
    from service.core.db import make_engine, make_session_factory, run_migrations

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    return settings, engine, make_session_factory(engine)


@app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="Login name (not a participant's name).")],
    role: Annotated[Role, typer.Option(help="admin, uploader, reviewer or researcher.")],
) -> None:
    """Create a user and print their API token (shown once, as the last word)."""
    from service.auth import service as auth_service
    from service.core.db import session_scope

    _, engine, sessions = _db()
    try:
        with session_scope(sessions) as s:
            user, token = auth_service.create_user(db_session=s, name=name, role=role)
            role_name = user.role
    except auth_service.UserExists:
        die(f"a user named {name!r} already exists")
    except auth_service.InvalidUserName as exc:
        die(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"created {role_name} {name}; API token (shown once): {token}")


def _sso_session():  # type: ignore[no-untyped-def]
    if not get_settings().sso_enabled:
        die("single sign-on is not configured: set ANONSCRIBE_OIDC_ISSUER and ANONSCRIBE_OIDC_CLIENT_ID")
    return _db()


@app.command("sso-add")
def users_sso_add(
    name: Annotated[str, typer.Argument(help="Login name (not a participant's name).")],
    role: Annotated[Role, typer.Option(help="admin, uploader, reviewer or researcher.")],
    match: Annotated[str, typer.Option(help="The provider's subject (`sub`), or the e-mail address when "
                                            "ANONSCRIBE_OIDC_USER_CLAIM=email.")],
) -> None:
    """Create a user who signs in at the organisation's OpenID provider (no API token is made)."""
    from service.auth import service as auth_service
    from service.auth import sso
    from service.core.db import session_scope

    settings, engine, sessions = _sso_session()
    try:
        with session_scope(sessions) as s:
            user = sso.bind_new_user(db_session=s, settings=settings, name=name, role=role, match=match,
                                     actor_id=None)
            user_id = user.id
    except auth_service.UserExists:
        die(f"a user named {name!r} already exists")
    except (auth_service.InvalidUserName, sso.InvalidIdentity) as exc:
        die(str(exc))
    except sso.IdentityTaken:
        die("that identity is already bound to a user")
    finally:
        engine.dispose()
    typer.echo(f"created {role.value} {name} (user {user_id}), signing in at {sso.issuer_key(settings)}")


@app.command("sso-approve")
def users_sso_approve(
    user_id: Annotated[int, typer.Argument(help="The pending user's id (the Single sign-on page lists them).")],
    role: Annotated[Role, typer.Option(help="admin, uploader, reviewer or researcher.")],
) -> None:
    """Approve someone whose first single sign-on made them a pending user."""
    from service.auth import service as auth_service
    from service.auth import sso
    from service.core.db import session_scope

    _, engine, sessions = _sso_session()
    try:
        with session_scope(sessions) as s:
            sso.approve(db_session=s, user_id=user_id, role=role, actor_id=None)
    except auth_service.UserNotFound:
        die(f"no single sign-on user {user_id}")
    except sso.NotPending:
        die(f"user {user_id} is not waiting for approval")
    finally:
        engine.dispose()
    typer.echo(f"approved user {user_id} as {role.value}")


def _user_id(session, name: str) -> int:  # type: ignore[no-untyped-def]
    from service.auth import service as auth_service

    found = next((u.id for u in auth_service.list_users(db_session=session) if u.name == name), None)
    if found is None:
        die(f"there is no user named {name!r}")
    return found  # type: ignore[return-value]


@app.command("set-password")
def users_set_password(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
) -> None:
    """Set a user's password (asked twice, never echoed; the policy of the web form applies). For an admin or
    reviewer, the TOTP second factor is set up at their next sign-in."""
    from service.auth import accounts
    from service.core.db import session_scope

    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _, engine, sessions = _db()
    try:
        with session_scope(sessions) as s:
            accounts.set_password(db_session=s, user_id=_user_id(s, name), password=password, actor_id=None,
                                  via="cli")
    except accounts.WeakPassword as exc:
        die(exc.sentence)
    finally:
        engine.dispose()
    typer.echo(f"password set for {name}")


@app.command("reset-factor")
def users_reset_factor(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
) -> None:
    """Forget a user's authenticator app and recovery codes (a lost phone); they set up a new one at their next
    sign-in. The sealed secret is crypto-shredded."""
    from service.auth import factors
    from service.cli.common import one_off_runtime
    from service.core.db import session_scope

    runtime = one_off_runtime()
    try:
        with session_scope(runtime.sessions) as s:
            had = factors.reset_factor(db_session=s, sealed=runtime.sealed, user_id=_user_id(s, name),
                                        actor_id=None)
    finally:
        runtime.close()
    typer.echo(f"second factor of {name} {'reset' if had else 'was not set up; nothing to reset'}")


@app.command("token-create")
def users_token_create(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    token_name: Annotated[str, typer.Option("--token-name", help="What the token is for (1-64 characters).")],
    expires_days: Annotated[int | None, typer.Option(
        "--expires-days", min=1, help="Days until it stops working (at most ANONSCRIBE_API_TOKEN_MAX_DAYS); "
                                      "unset: until revoked.")] = None,
) -> None:
    """Make an API token for a user's scripts and print it (shown once, as the last word)."""
    from service.auth import tokens
    from service.core.db import session_scope

    settings, engine, sessions = _db()
    try:
        with session_scope(sessions) as s:
            row, token = tokens.create(db_session=s, user_id=_user_id(s, name), name=token_name, actor_id=None,
                                       limits=tokens.Limits.from_settings(settings), expires_in_days=expires_days)
            token_id, expires = row.id, row.expires_at
    except (tokens.InvalidTokenName, tokens.InvalidExpiry, tokens.TooManyTokens) as exc:
        die(exc.message)
    finally:
        engine.dispose()
    until = f"expires {expires.isoformat(timespec='minutes')}" if expires else "no expiry"
    typer.echo(f"token {token_id} for {name} ({until}); API token (shown once): {token}")


@app.command("token-list")
def users_token_list(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
) -> None:
    """A user's API tokens, newest first: id, state, prefix, created, last used, expiry, name. Never the token."""
    from service.auth import tokens
    from service.core.db import session_scope

    _, engine, sessions = _db()

    def when(value) -> str:  # type: ignore[no-untyped-def]
        return value.isoformat(timespec="minutes") if value else "-"

    try:
        with session_scope(sessions) as s:
            rows = [(r.id, tokens.state(r), r.prefix, when(r.created_at), when(r.last_used_at), when(r.expires_at),
                     r.name) for r in tokens.list_tokens(db_session=s, user_id=_user_id(s, name))]
    finally:
        engine.dispose()
    if not rows:
        typer.echo(f"{name} has no API tokens")
    for row in rows:
        typer.echo("\t".join(str(v) for v in row))


@app.command("token-revoke")
def users_token_revoke(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    token_id: Annotated[int, typer.Argument(help="The token's id (`users token-list NAME`).", min=1, max=2**31 - 1)],
) -> None:
    """Revoke one of a user's API tokens: it stops working at once."""
    from service.auth import tokens
    from service.core.db import session_scope

    _, engine, sessions = _db()
    try:
        with session_scope(sessions) as s:
            tokens.revoke(db_session=s, user_id=_user_id(s, name), token_id=token_id, actor_id=None)
    except tokens.TokenNotFound:
        die(f"{name} has no API token {token_id}")
    finally:
        engine.dispose()
    typer.echo(f"token {token_id} of {name} revoked")
