"""Running the service: serve (API, and the worker on the embedded default), worker, scheduler, migrate."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import die, setup_logging
from service.core.private import secure_data_dir
from service.core.settings import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API (and, on the embedded default, the worker) in this process."""
    import uvicorn

    from service.app import create_app
    from service.core.crypto import MasterKeyError
    from service.core.runtime import load_master_key
    from service.forwarded import UVICORN_OPTIONS

    setup_logging()
    settings = get_settings()
    secure_data_dir(settings)
    try:
        load_master_key(settings, create_if_missing=settings.resolved_queue == "inline")
    except MasterKeyError as exc:
        die(str(exc))
    typer.echo(f"data dir: {settings.data_dir.resolve()}  queue: {settings.resolved_queue}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False, **UVICORN_OPTIONS)


def worker(
    concurrency: Annotated[
        int, typer.Option(help="Jobs at once in this process (1 = one model in memory).")
    ] = 1,
) -> None:
    """Run a Celery worker (ANONSCRIBE_BROKER_URL must point at Redis)."""
    setup_logging()
    settings = get_settings()
    if not settings.broker_url:
        die("`anonscribe worker` needs ANONSCRIBE_BROKER_URL (e.g. redis://localhost:6379/0)")
    from workers.celery_app import app as celery_app

    pool = "solo" if concurrency == 1 else "threads"
    celery_app.worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-Q",
            "anonscribe",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def scheduler() -> None:
    """Run Celery beat: periodic sweeps (job reaper, retention)."""
    setup_logging()
    settings = get_settings()
    if not settings.broker_url:
        die("`anonscribe scheduler` needs ANONSCRIBE_BROKER_URL")
    from workers.celery_app import app as celery_app

    schedule = settings.data_dir / "celerybeat-schedule"
    secure_data_dir(settings)
    celery_app.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


def migrate() -> None:
    """Apply database migrations (alembic upgrade head) and create the blob bucket or directory."""
    from service.core.db import run_migrations
    from service.core.storage import StorageError, make_blob_store

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    typer.echo("database is at the latest schema")
    try:
        store = make_blob_store(settings)
        store.prepare()
    except StorageError as exc:
        die(str(exc))
    typer.echo(f"blob storage is ready ({store.describe()})")
