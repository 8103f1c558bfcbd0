"""Microsoft Teams transcripts (.vtt or .docx): timed voices with real names.

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


# Teams .docx transcripts come in two layouts: "0:0:3.120 --> 0:0:7.480" / "Name" / "text" (older), and
# "Name   0:03" (or "Name 1:02:03") followed by the text paragraph (newer).
_DOCX_RANGE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}\s*$")
_DOCX_RANGE_LOOSE = re.compile(r"^\s*(\d+):(\d+):(\d+)(?:\.(\d+))?\s*-->\s*(\d+):(\d+):(\d+)(?:\.(\d+))?\s*$")
_DOCX_HEADER = re.compile(r"^(?P<name>[^\d\n].{0,80}?)\s+(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{2})\s*$")


def _clock(text: str) -> float:
    parts = [int(p) for p in text.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def parse_teams_docx(data: bytes) -> list[TeamsCue]:
    """Speaker names (and times where the layout gives them) from a Teams .docx transcript."""
    import io

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a bad package
        raise TeamsTranscriptError("not a readable .docx file") from exc
    lines = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    cues: list[TeamsCue] = []
    i = 0
    while i < len(lines):
        loose = _DOCX_RANGE_LOOSE.match(lines[i])
        if loose and i + 1 < len(lines):
            g = loose.groups()
            start = int(g[0]) * 3600 + int(g[1]) * 60 + int(g[2]) + float(f"0.{g[3] or 0}")
            end = int(g[4]) * 3600 + int(g[5]) * 60 + int(g[6]) + float(f"0.{g[7] or 0}")
            cues.append(TeamsCue(start=start, end=max(end, start), voice=lines[i + 1]))
            i += 3
            continue
        header = _DOCX_HEADER.match(lines[i])
        if header:
            start = _clock(header.group("time"))
            cues.append(TeamsCue(start=start, end=start, voice=header.group("name").strip()))
            i += 2
            continue
        i += 1
    # Close open-ended cues at the next cue's start, so they can be matched in time.
    for k, cue in enumerate(cues):
        if cue.end <= cue.start and k + 1 < len(cues) and cues[k + 1].start > cue.start:
            cues[k] = TeamsCue(start=cue.start, end=cues[k + 1].start, voice=cue.voice)
    if not cues:
        raise TeamsTranscriptError("no speaker turns found in the .docx transcript")
    return cues


def parse_teams_transcript(data: bytes) -> list[TeamsCue]:
    """A Teams transcript in either format, decided by content (a .docx is a ZIP package)."""
    if data[:4] == b"PK\x03\x04":
        return parse_teams_docx(data)
    try:
        return parse_teams_vtt(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TeamsTranscriptError("not UTF-8 WebVTT text nor a .docx file") from exc
