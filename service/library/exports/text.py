"""Text formats of an anonymised transcript: TXT, WebVTT, SRT, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from service.transcripts import render


def clock(seconds: float, *, sep: str = ".") -> str:
    ms = round(max(0.0, seconds) * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


@dataclass(frozen=True)
class Turn:
    speaker: str | None
    start: float
    end: float
    text: str


def turns(document: dict[str, Any]) -> list[Turn]:
    """Consecutive segments of one speaker joined, for reading (TXT, DOCX, CSV, QDA sources)."""
    return [Turn(t["speaker"], t["start"], t["end"], t["text"].strip()) for t in render.reading_turns(document)]


def txt_with_offsets(document: dict[str, Any], *, timestamps: bool = True) -> tuple[str, list[tuple[int, int, Turn]]]:
    """The TXT body and each turn's [start, end) in Unicode code points: REFI-QDA selections point into it."""
    parts: list[str] = []
    spans: list[tuple[int, int, Turn]] = []
    pos = 0
    for i, turn in enumerate(turns(document)):
        if i:
            parts.append("\n\n")
            pos += 2
        prefix = f"[{clock(turn.start)[:8]}] " if timestamps else ""
        line = f"{prefix}{turn.speaker + ': ' if turn.speaker else ''}{turn.text}"
        parts.append(line)
        spans.append((pos, pos + len(line), turn))
        pos += len(line)
    if parts:
        parts.append("\n")
    return "".join(parts), spans


def to_txt(document: dict[str, Any], *, timestamps: bool = True) -> str:
    return txt_with_offsets(document, timestamps=timestamps)[0]


def to_vtt(document: dict[str, Any]) -> str:
    """One cue per segment, the speaker as a WebVTT voice (`<v Officer>`)."""
    return render.to_vtt(document)


def to_srt(document: dict[str, Any]) -> str:
    """SRT has no voice tag (players show `<v ...>` literally), so the speaker leads the line as in TXT."""
    out = []
    n = 0
    for seg in document["segments"]:
        body = seg["text"].strip()
        if not body:
            continue
        n += 1
        who = seg.get("speaker_label") or seg.get("speaker")
        # A blank line ends an SRT cue; speech never needs one.
        body = " ".join(body.split())
        out += [str(n), f"{clock(seg['start'], sep=',')} --> {clock(seg['end'], sep=',')}",
                f"{who}: {body}" if who else body, ""]
    return "\n".join(out) + ("\n" if out else "")


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


CSV_COLUMNS = ("document", "participant", "cohort", "turn", "start", "end", "speaker", "text")


def to_csv(document: dict[str, Any], *, timestamps: bool = True) -> str:
    """One row per speaker turn; times in seconds (or left empty when timestamps are off)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i, turn in enumerate(turns(document), 1):
        writer.writerow([
            document["document"],
            document["participant"],
            document["cohort"],
            i,
            f"{turn.start:.3f}" if timestamps else "",
            f"{turn.end:.3f}" if timestamps else "",
            turn.speaker or "",
            _cell(turn.text),
        ])
    return buf.getvalue()


def _cell(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
