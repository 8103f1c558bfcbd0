"""Upload bodies built by hand (multipart/form-data), so a test controls every byte the server sees."""

from __future__ import annotations

from tests.support.dates import interview_date

BOUNDARY = "anonscribe-test-boundary-7f3a9c"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
META = {"participant_code": "P07", "cohort": "police", "interview_date": interview_date()}


def multipart(parts: list[tuple[str | None, bytes, str | None]]) -> bytes:
    """A multipart/form-data body built by hand: (name, value, filename); name None omits it."""
    out = bytearray()
    for name, value, filename in parts:
        disposition = "form-data" + (f'; name="{name}"' if name is not None else "")
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def form(file: bytes | None, *, filename: str = "interview.wav", files: int = 1, **meta: str | None) -> bytes:
    """The usual upload: metadata fields, then `files` copies of the file part. meta=None drops a field."""
    fields = {k: v for k, v in {**META, **meta}.items() if v is not None}
    parts: list[tuple[str | None, bytes, str | None]] = [(k, v.encode(), None) for k, v in fields.items()]
    if file is not None:
        parts += [("file", file, filename)] * files
    return multipart(parts)
