"""Builds the FastAPI application and wires settings, storage and the queue at start-up."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool

from service.audit.views import router as audit_router
from service.auth.throttle import LoginThrottle
from service.auth.views import router as auth_router
from service.core.db import run_migrations, session_scope
from service.core.errors import DomainError
from service.core.private import restrict_umask, secure_data_dir
from service.core.queue import CeleryQueue
from service.core.runtime import Runtime, build_runtime
from service.core.settings import Settings, get_settings, parse_networks
from service.forwarded import TrustedProxyHeaders
from service.health.views import router as health_router
from service.library import service as library
from service.library.views import router as library_router
from service.openapi import API_ERRORS
from service.recordings.views import router as recordings_router
from service.redaction.views import router as redaction_router
from service.retention.views import router as retention_router
from service.speakers.views import profiles_router
from service.speakers.views import router as speakers_router
from service.web import install as install_web
from service.web.errors import is_page, page_error

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
# ONNX Runtime telemetry off before anything can import it (see pipeline/__init__.py).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
log = logging.getLogger("anonscribe")


def wire_queue(runtime: Runtime, *, start_workers: bool) -> object | None:
    """Inline: worker threads in this process. Celery: send by task name to the broker."""
    settings = runtime.settings
    if settings.resolved_queue == "celery":
        runtime.queue = CeleryQueue(
            settings.broker_url or "", visibility_timeout_s=settings.broker_visibility_timeout_s
        )
        return None
    if not start_workers:
        return None
    from workers.inline import InlineWorkers  # wired here so service/ never imports workers/ at load time

    workers = InlineWorkers(runtime)
    workers.start()
    return workers


def index_library(runtime: Runtime) -> None:
    """Approved transcripts the search index doesn't hold yet (approved before it existed) are indexed at start."""
    try:
        with session_scope(runtime.sessions) as s:
            n = library.index_missing(db_session=s, sealed=runtime.sealed)
    except IntegrityError:
        return  # another replica starting at the same time indexed them first
    if n:
        log.info("library search: indexed %d approved transcripts", n)


def create_app(
    settings: Settings | None = None, *, start_workers: bool = True, migrate: bool = True
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.resolved_queue == "celery" and not settings.broker_url:
            raise RuntimeError("ANONSCRIBE_QUEUE=celery needs ANONSCRIBE_BROKER_URL")
        secure_data_dir(settings)
        if migrate:
            run_migrations(settings.resolved_database_url)
        runtime = build_runtime(settings, create_master_key=settings.resolved_queue == "inline")
        if migrate:
            # Like the schema: the bucket (or directory) exists before the first upload.
            await run_in_threadpool(runtime.sealed.blobs.prepare)
        await run_in_threadpool(index_library, runtime)
        workers = wire_queue(runtime, start_workers=start_workers)
        app.state.runtime = runtime
        log.info("anonscribe ready: queue=%s", settings.resolved_queue)
        try:
            yield
        finally:
            if workers is not None:
                workers.stop()  # type: ignore[attr-defined]
            runtime.close()

    app = FastAPI(
        title="anonscribe",
        version="0.1.0",
        description="Speaker-labelled, anonymised transcripts of research interviews.",
        lifespan=lifespan,
    )
    app.state.login_throttle = LoginThrottle(
        limit=settings.login_failure_limit, window_s=settings.login_failure_window_s
    )
    app.add_exception_handler(OperationalError, _database_unavailable)
    # Views and pages let a domain's refusal through: one place answers it, as JSON or as the error page.
    app.add_exception_handler(DomainError, _refused)
    app.include_router(health_router)
    for router in (auth_router, recordings_router, speakers_router, profiles_router, redaction_router,
                   library_router, retention_router, audit_router):
        # The error bodies each can send, so the API document describes every response (tests/deploy/test_openapi.py).
        app.include_router(router, responses=API_ERRORS)
    install_web(app)
    if settings.trusted_proxies:
        # Outermost (added last), so everything inside sees the client the proxy reports.
        app.add_middleware(TrustedProxyHeaders, trusted=parse_networks(settings.trusted_proxies))
    return app


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The database is down or unreachable (or gave up on a lock): a retryable 503, not a 500. Only the type is
    # logged: SQLAlchemy's message carries the statement's parameters.
    log.warning("database unavailable (%s) for %s %s", type(exc).__name__, request.method, request.url.path)
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"}, status_code=503, headers={"Retry-After": "5"}
    )


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if is_page(request):
        return await page_error(request, exc)
    return _api_error(exc)


def _api_error(exc: DomainError) -> JSONResponse:
    # Exactly what an HTTPException gave: the body the API document declares for every 4xx (service/openapi.py).
    return JSONResponse({"detail": exc.detail}, status_code=exc.status)


def app_factory() -> FastAPI:
    """For `uvicorn --factory service.app:app_factory` (what docker-compose runs)."""
    restrict_umask()
    return create_app()
