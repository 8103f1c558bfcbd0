"""What the commands share: logging, a clean exit with an error, the runtime of a one-off command."""

from __future__ import annotations

import logging

import typer

from service.core.private import secure_data_dir
from service.core.settings import get_settings


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def die(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def one_off_runtime():  # type: ignore[no-untyped-def]
    """The deployment's runtime for one-off commands: migrated DB, existing master key (never a new one)."""
    from service.core.crypto import MasterKeyError
    from service.core.db import run_migrations
    from service.core.runtime import build_runtime

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    try:
        return build_runtime(settings)
    except MasterKeyError as exc:
        die(str(exc))
