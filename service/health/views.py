"""Liveness and readiness probes for orchestrators.

The one deliberate exception to "every endpoint needs a token": compose and load balancers probe
without credentials. They answer only ok/failing per component, never data.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from service.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _checks(runtime) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    checks: dict[str, bool] = {}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:
        checks["database"] = False
    checks["queue"] = bool(runtime.queue and runtime.queue.ping())
    try:
        checks["storage"] = runtime.sealed.blobs.ping()
    except Exception:
        checks["storage"] = False
    try:
        from pipeline.weights import resolve_model

        resolve_model(runtime.settings.whisper_model, cache_dir=runtime.settings.resolved_model_cache_dir)
        checks["model"] = True
    except Exception:
        checks["model"] = False
    if runtime.settings.diarise and runtime.settings.diarisation_pipeline is None:
        try:
            from pipeline.weights import diarisation_weights

            diarisation_weights(cache_dir=runtime.settings.resolved_model_cache_dir)
            checks["diarisation"] = True
        except Exception:
            checks["diarisation"] = False
    return checks


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A component is failing (see `checks`)"}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks = await run_in_threadpool(_checks, runtime)
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
