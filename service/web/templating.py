"""Jinja2 rendering and the security headers every web response carries."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from service.core.timestamps import stamp
from service.web.session import CSRF_FIELD, WebSession

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

# Scripts and styles only from this origin: no inline script, no inline style, no event-handler attributes, so an
# injected tag in a transcript could not run even if escaping ever failed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The upload form's action carries its CSRF token: no Referer may take it (or any id) elsewhere.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Pages show transcripts, codes and, once, new tokens: nothing is kept in a browser or proxy cache.
    "Cache-Control": "no-store",
}


def secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class WebRoute(APIRoute):
    """Every page, form and download route of the web UI gets the security headers, whatever it returns."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            return secure(await handler(request))

        return with_headers


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _period(seconds: int) -> str:
    """A policy period as people say it: 30 days, 12 hours, 5 minutes."""
    if seconds == 0:
        return "0 (at the next sweep)"
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"


# The exports' rule and format (truncated HH:MM:SS): a segment's time on a page is the one in the files.
templates.env.filters["duration"] = stamp
templates.env.filters["period"] = _period
templates.env.filters["when"] = _when


def nav_for(web: WebSession | None) -> list[tuple[str, str]]:
    if web is None:
        return []
    role = web.user.role
    items: list[tuple[str, str]] = []
    if role in ("admin", "uploader"):
        items.append(("/upload", "Upload"))
    if role in ("admin", "uploader", "reviewer"):
        items.append(("/recordings", "Recordings"))
    if role in ("admin", "reviewer"):
        items.append(("/review", "Review"))
    if role in ("admin", "researcher"):
        items.append(("/library", "Library"))
    if role == "admin":
        items += [("/admin/users", "Users"), ("/admin/sso", "SSO"), ("/admin/retention", "Retention"),
                  ("/admin/voices", "Voices"), ("/admin/withdrawal", "Withdrawal"), ("/admin/audit", "Audit log")]
    return items


def page(
    request: Request, name: str, *, web: WebSession | None, status_code: int = 200, **context: Any
) -> Response:
    return secure(templates.TemplateResponse(
        request,
        name,
        {
            "web": web,
            "user": web.user if web else None,
            "csrf": web.csrf if web else "",
            "csrf_field": CSRF_FIELD,
            "nav": nav_for(web),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    ))
