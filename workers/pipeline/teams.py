"""Microsoft Teams transcripts (.vtt): timed voices with real names.

Names are identifying: they are used only as hints (how many people spoke, which diarised voice is
which account) and, later, as a redaction deny-list. They never reach a transcript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE_TIME = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")


class TeamsTranscriptError(ValueError):
    pass


@dataclass(frozen=True)
class TeamsCue:
    start: float
    end: float
    voice: str


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_teams_vtt(text: str) -> list[TeamsCue]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].startswith("WEBVTT"):
        raise TeamsTranscriptError("not a WebVTT file (no WEBVTT header)")
    cues: list[TeamsCue] = []
    i = 0
    while i < len(lines):
        match = _CUE_TIME.match(lines[i])
        if not match:
            i += 1
            continue
        g = match.groups()
        start, end = _seconds(*g[0:4]), _seconds(*g[4:8])
        i += 1
        body = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        voice = _VOICE.search(" ".join(body))
        if voice and end > start:
            cues.append(TeamsCue(start=start, end=end, voice=voice.group(1).strip()))
    if not cues:
        raise TeamsTranscriptError("the WebVTT file has no cues with <v Speaker> voices")
    return cues


def voice_names(cues: list[TeamsCue]) -> list[str]:
    """Distinct speaker names in order of first appearance."""
    seen: dict[str, None] = {}
    for cue in cues:
        seen.setdefault(cue.voice, None)
    return list(seen)
