"""`anonscribe users ...`: manage users and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from service.auth.models import Role
from service.cli.common import die
from service.core.private import secure_data_dir
from service.core.settings import get_settings

app = typer.Typer(help="Manage users and API tokens.", no_args_is_help=True)


@app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="Login name (not a participant's name).")],
    role: Annotated[Role, typer.Option(help="admin, uploader, reviewer or researcher.")],
) -> None:
    """Create a user and print their API token (shown once, as the last word)."""
    from service.auth import service as auth_service
    from service.core.db import make_engine, make_session_factory, run_migrations, session_scope

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            user, token = auth_service.create_user(db_session=s, name=name, role=role)
            role_name = user.role
    except auth_service.UserExists:
        die(f"a user named {name!r} already exists")
    except auth_service.InvalidUserName as exc:
        die(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"created {role_name} {name}; API token (shown once): {token}")
