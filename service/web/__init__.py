"""The server-rendered web UI: Jinja2 pages and plain forms over the same domain services as the API."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from service.web import account, admin, errors, researcher, reviewer, signin, sso, uploader
from service.web.templating import HERE

ROUTERS = (signin.router, sso.router, account.router, uploader.router, reviewer.router, researcher.router, admin.router)


class _Static(StaticFiles):
    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def install(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", _Static(directory=HERE / "static"), name="static")
    errors.install(app)
