"""What the API document declares beyond the routes' own models: error bodies and non-JSON content.

Every API error is `{"detail": "a sentence"}` (an HTTPException), except a request that fails validation, whose
`detail` is FastAPI's list of problems; a 422 can be either (a domain rule refuses a well-formed request).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorMessage(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    detail: list[ValidationProblem]


_ERRORS = {
    400: "Malformed request",
    401: "Missing or invalid API token",
    403: "Not allowed for this role",
    404: "No such object (or not visible to this user)",
    408: "The upload stalled",
    409: "Not possible in the object's current state",
    410: "Gone: deleted under the retention policy or a withdrawal",
    413: "Too large",
    415: "Unsupported content",
    429: "Too many failed sign-ins from this address",
    503: "The database is unavailable; retry",
}

# Declared on every API route (a superset: not every route can answer each of them).
API_ERRORS: dict[int | str, dict[str, Any]] = {
    **{code: {"model": ErrorMessage, "description": text} for code, text in _ERRORS.items()},
    422: {"model": ValidationErrors | ErrorMessage, "description": "Invalid request, or refused by a rule"},
}


def content(*media_types: str) -> dict[str, dict[str, Any]]:
    """A 200 response's `content` map: a media-type object (with a schema) per type, not a bare string."""
    def schema(media_type: str) -> dict[str, Any]:
        if media_type.startswith("application/json"):
            return {"type": "object"}
        if media_type.startswith("text/"):
            return {"type": "string"}
        return {"type": "string", "format": "binary"}

    return {media_type: {"schema": schema(media_type)} for media_type in media_types}
