"""Streaming multipart parsing straight into the encrypting writer.

Starlette's `UploadFile` spools large parts to a temporary file in plaintext; this parser never holds
more than one network chunk of the audio and never touches disk except through the sealed blob.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from service.core.errors import DomainError
from service.core.sealed import SealedUpload
from service.recordings.media import MIN_FILE_BYTES, SNIFF_BYTES, MediaError, sniff

MAX_FIELD_BYTES = 1024
MAX_FIELDS = 16
FILE_FIELD = "file"
TEAMS_FIELD = "teams_transcript"
# Names to redact (participant, officers named in the interview): identifying, so never a plain field.
NAMES_FIELD = "known_names"
MAX_NAMES_BYTES = 8 * 1024
MAX_TEAMS_BYTES = 4 * 1024 * 1024


class UploadError(DomainError):
    """A refused upload body (multipart framing, sizes, fields)."""


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    file_seen: bool = False
    file_bytes: int = 0
    kind: str | None = None
    # Teams transcript bytes: small, identifying; sealed under the recording's key before any write.
    teams: bytes | None = None
    known_names: bytes | None = None


class _Handler:
    def __init__(self, sealed: SealedUpload, max_bytes: int, *, blank_is_absent: bool = False) -> None:
        self.sealed = sealed
        self.max_bytes = max_bytes
        self.blank_is_absent = blank_is_absent
        self.result = ParsedUpload()
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._hname = b""
        self._hvalue = b""
        self._part: str | None = None
        self._is_file = False
        self._is_teams = False
        self._is_names = False
        self._value = bytearray()
        self._head = bytearray()

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self._headers = {}
        self._part = None
        self._is_file = False
        self._is_teams = False
        self._is_names = False
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._hname.lower()] = self._hvalue
        self._hname = b""
        self._hvalue = b""

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if disposition != b"form-data" or not name:
            raise UploadError(400, "malformed multipart part: no form-data name")
        self._part = name.decode("utf-8", "replace")
        # The client's file name is ignored, never stored: it may name the participant.
        if self._part == FILE_FIELD:
            if self.result.file_seen:
                raise UploadError(422, "more than one file in the upload")
            self.result.file_seen = True
            self._is_file = True
        elif self._part == TEAMS_FIELD:
            if self.result.teams is not None:
                raise UploadError(422, "more than one Teams transcript in the upload")
            self._is_teams = True
        elif self._part == NAMES_FIELD:
            if self.result.known_names is not None:
                raise UploadError(422, "form field 'known_names' given twice")
            self._is_names = True
        elif len(self.result.fields) >= MAX_FIELDS:
            raise UploadError(422, "too many form fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.result.file_bytes += len(chunk)
            if self.result.file_bytes > self.max_bytes:
                raise UploadError(413, f"the file is larger than the limit of {self.max_bytes} bytes")
            if self.result.kind is None:
                self._head += chunk
                if len(self._head) < SNIFF_BYTES:
                    return
                self._decide()
                chunk = bytes(self._head)
                self._head = bytearray()
            self.sealed.write(chunk)
        elif self._is_names:
            self._value += chunk
            if len(self._value) > MAX_NAMES_BYTES:
                raise UploadError(422, "form field 'known_names' is too long")
        elif self._is_teams:
            self._value += chunk
            if len(self._value) > MAX_TEAMS_BYTES:
                raise UploadError(413, f"the Teams transcript is larger than {MAX_TEAMS_BYTES} bytes")
        else:
            self._value += chunk
            if len(self._value) > MAX_FIELD_BYTES:
                raise UploadError(422, f"form field {self._part!r} is too long")

    def _decide(self) -> None:
        kind = sniff(bytes(self._head))
        if kind is None:
            raise MediaError(415, "unsupported content: not a recognised audio or video container")
        self.result.kind = kind

    def on_part_end(self) -> None:
        if self._is_file:
            if self.result.file_bytes == 0:
                raise MediaError(422, "the file is empty")
            if self.result.file_bytes < MIN_FILE_BYTES:
                raise MediaError(422, "the file is too small to hold audio")
            if self.result.kind is None:
                self._decide()
                self.sealed.write(bytes(self._head))
                self._head = bytearray()
        elif self._is_teams:
            # A browser sends an empty part for a file input left empty: with form semantics that is no file.
            if self._value or not self.blank_is_absent:
                self.result.teams = bytes(self._value)
            self._value = bytearray()
        elif self._is_names:
            self.result.known_names = bytes(self._value)
            self._value = bytearray()
        elif self._part is not None:
            if not self._value and self.blank_is_absent:
                return  # an optional input the user left blank
            if self._part in self.result.fields:
                raise UploadError(422, f"form field {self._part!r} given twice")
            try:
                self.result.fields[self._part] = self._value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UploadError(422, f"form field {self._part!r} is not UTF-8") from exc

    def on_end(self) -> None:
        self.ended = True


def boundary_of(content_type: str | None) -> bytes:
    if not content_type:
        raise UploadError(415, "Content-Type must be multipart/form-data")
    ctype, options = parse_options_header(content_type)
    if ctype != b"multipart/form-data":
        raise UploadError(415, "Content-Type must be multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise UploadError(400, "multipart boundary missing or invalid")
    return boundary


async def stream_into(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str | None,
    content_length: int | None,
    sealed: SealedUpload,
    max_bytes: int,
    blank_is_absent: bool = False,
    idle_timeout_s: float | None = None,
) -> ParsedUpload:
    """`blank_is_absent`: HTML form semantics (the web UI's form sends every input, filled or not); the API keeps
    treating an empty field as a value, and rejects it if it is not a valid one."""
    boundary = boundary_of(content_type)
    handler = _Handler(sealed, max_bytes, blank_is_absent=blank_is_absent)
    callbacks = {name: getattr(handler, name) for name in dir(handler) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    pending = aiter(chunks)
    while True:
        try:
            # A client that stops sending mid-body would otherwise hold the connection and the open blob forever
            # (uvicorn has no body-read timeout).
            chunk = await asyncio.wait_for(anext(pending), idle_timeout_s)
        except StopAsyncIteration:
            break
        except TimeoutError as exc:
            raise UploadError(408, f"no data arrived for {idle_timeout_s:g} s: the upload was abandoned") from exc
        received += len(chunk)
        if content_length is not None and received > content_length:
            raise UploadError(400, "request body is longer than its Content-Length")
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            # The client's framing is broken (bad boundary, header syntax, oversized part header): a 400,
            # not a 500. Our own callbacks raise UploadError/MediaError, which pass through untouched.
            raise UploadError(400, "malformed multipart body") from exc
    parser.finalize()
    if content_length is not None and received != content_length:
        raise UploadError(400, "request body is shorter than its Content-Length")
    if not handler.ended:
        raise UploadError(400, "the multipart body is incomplete (upload interrupted?)")
    if not handler.result.file_seen:
        raise UploadError(422, "no 'file' part in the upload")
    return handler.result
