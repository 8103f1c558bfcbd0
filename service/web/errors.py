"""Error pages: not signed in -> 303 to sign-in; wrong role, bad CSRF token or a refused action -> an HTML page.

A refused action is any `DomainError` raised under a page route: service/app.py sends those here, the API's to JSON.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from service.core.errors import DomainError
from service.web.session import CsrfFailed, NotSignedIn, PageForbidden
from service.web.templating import WebRoute, page, secure


class PageError(DomainError):
    """A refusal of the page's own (a form field); the message is already the fixed sentence the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.page_message = message


def is_page(request: Request) -> bool:
    """Whether the request was routed to a page, form or download of the web UI (not the API)."""
    return isinstance(request.scope.get("route"), WebRoute)


def _error(request: Request, status: int, title: str, message: str) -> Response:
    return page(request, "error.html", web=getattr(request.state, "web", None), status_code=status, title=title,
                message=message)


async def not_signed_in(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # Only a GET is worth coming back to; after a POST the user starts from the page again.
    next_path = target if request.method == "GET" else "/"
    return secure(RedirectResponse(f"/signin?next={quote(next_path, safe='/')}", status_code=303))


async def forbidden(request: Request, exc: Exception) -> Response:
    return _error(request, 403, "Not for your role", "Your role may not open this page or do this.")


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return _error(request, 403, "Form expired",
                  "This form could not be accepted (its security token was missing or wrong). Reload the page and "
                  "try again.")


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    titles = {403: "Not for your role", 404: "Not found", 409: "Not possible now", 410: "Gone"}
    return _error(request, exc.status, titles.get(exc.status, "Not accepted"), exc.sentence)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(CsrfFailed, csrf_failed)
