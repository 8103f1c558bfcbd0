"""Render a transcript (its JSON form) as plain text or WebVTT."""

from __future__ import annotations

import json
from typing import Any


def _clock(seconds: float, *, sep: str = ".") -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _speaker(segment: dict[str, Any]) -> str | None:
    return segment.get("speaker_label") or segment.get("speaker")


def to_txt(transcript: dict[str, Any], *, timestamps: bool = True) -> str:
    lines = []
    for seg in transcript["segments"]:
        prefix = f"[{_clock(seg['start'])[:8]}] " if timestamps else ""
        who = _speaker(seg)
        lines.append(f"{prefix}{who + ': ' if who else ''}{seg['text']}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_vtt(transcript: dict[str, Any]) -> str:
    out = ["WEBVTT", ""]
    for i, seg in enumerate(transcript["segments"], 1):
        text = seg["text"].replace("-->", "->")
        who = _speaker(seg)
        out += [
            str(i),
            f"{_clock(seg['start'])} --> {_clock(seg['end'])}",
            f"<v {who}>{text}" if who else text,
            "",
        ]
    return "\n".join(out)


def to_json(transcript: dict[str, Any]) -> str:
    return json.dumps(transcript, ensure_ascii=False, indent=2)


RENDERERS = {"json": to_json, "txt": to_txt, "vtt": to_vtt}
MEDIA_TYPES = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}
