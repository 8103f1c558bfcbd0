"""HTTP byte ranges (RFC 9110 section 14) over a body made on demand, so a media element can seek in it.

Single ranges only: several ranges are coalesced into the one that covers them (the RFC allows it), so no
multipart bodies. A Range header that does not parse is ignored (the whole body, 200), as the RFC allows; one that
parses but lies wholly past the end is a 416 that names the length.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

from fastapi.responses import JSONResponse, StreamingResponse
from starlette.responses import Response

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
# More specs than this is no player's request: the header is ignored rather than parsed at length.
MAX_SPECS = 16


class Unsatisfiable(Exception):
    pass


def parse(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range to send, or None for the whole body; `Unsatisfiable` when nothing in it exists."""
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs:
        return None
    parts = specs.split(",")
    if len(parts) > MAX_SPECS:
        return None
    wanted: list[tuple[int, int]] = []
    for part in parts:
        match = _SPEC.match(part)
        if match is None or match.group(1) == match.group(2) == "":
            return None  # malformed: the whole header is ignored
        first, last = match.group(1), match.group(2)
        if first == "":
            suffix = int(last)
            if suffix > 0 and size > 0:
                wanted.append((max(0, size - suffix), size - 1))
            continue
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None
        if start < size:
            wanted.append((start, min(end, size - 1)))
    if not wanted:
        raise Unsatisfiable
    return min(s for s, _ in wanted), max(e for _, e in wanted)


Body = Callable[[int, int], AsyncIterator[bytes]]


def respond(header: str | None, *, size: int, body: Body, media_type: str, headers: dict[str, str]) -> Response:
    """200 with the whole body, 206 with the range asked for, or 416. `body(first, last)` streams those bytes."""
    common = {"Accept-Ranges": "bytes", **headers}
    try:
        wanted = parse(header, size)
    except Unsatisfiable:
        return JSONResponse(
            {"detail": "the requested range lies outside the audio"}, status_code=416,
            headers={**common, "Content-Range": f"bytes */{size}"},
        )
    if wanted is None:
        first, last, status = 0, size - 1, 200
    else:
        (first, last), status = wanted, 206
        common["Content-Range"] = f"bytes {first}-{last}/{size}"
    common["Content-Length"] = str(last - first + 1)
    return StreamingResponse(body(first, last), status_code=status, media_type=media_type, headers=common)
