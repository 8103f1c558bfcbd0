"""Renderers for anonymised transcripts: one module per family of formats, all taking the export document
(`service.library.service.export_document`) and returning bytes, so API routes and web pages share them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.library.exports import docx, text


@dataclass(frozen=True)
class Options:
    timestamps: bool = True
    line_numbers: bool = False  # DOCX only: Word's own line numbering, for citing quotes by line


@dataclass(frozen=True)
class Format:
    render: Callable[[dict[str, Any], Options], bytes]
    media_type: str
    extension: str


FORMATS: dict[str, Format] = {
    "txt": Format(lambda d, o: text.to_txt(d, timestamps=o.timestamps).encode(), "text/plain; charset=utf-8", "txt"),
    "docx": Format(
        lambda d, o: docx.to_docx(d, timestamps=o.timestamps, line_numbers=o.line_numbers),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "vtt": Format(lambda d, o: text.to_vtt(d).encode(), "text/vtt; charset=utf-8", "vtt"),
    "srt": Format(lambda d, o: text.to_srt(d).encode(), "application/x-subrip; charset=utf-8", "srt"),
    "json": Format(lambda d, o: text.to_json(d).encode(), "application/json", "json"),
    # With a byte-order mark: Excel otherwise opens UTF-8 CSV as Windows-1252.
    "csv": Format(lambda d, o: text.to_csv(d, timestamps=o.timestamps).encode("utf-8-sig"), "text/csv; charset=utf-8",
                  "csv"),
}


def render(document: dict[str, Any], fmt: str, options: Options | None = None) -> bytes:
    return FORMATS[fmt].render(document, options or Options())
