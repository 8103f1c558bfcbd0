"""Text formats of an anonymised transcript: TXT, WebVTT, SRT, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from service.core.timestamps import cue_time, stamp
from service.transcripts import render


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
        prefix = f"[{stamp(turn.start)}] " if timestamps else ""
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


# What SRT players interpret rather than show: HTML-like tags (<i>, <font color=..>, and the WebVTT <v Name>
# players print raw), ASS override blocks ({\an8} moves a line to the top, {\c&H..&} recolours it), MicroDVD
# codes ({y:i}) and ASS escapes (\N, \h). SRT has no escaping, so they are removed; `[Person A]` is plain text.
_SRT_MARKUP = re.compile(
    r"</?[A-Za-z][^<>]*>"  # <i>, </i>, <font ...>, <v Officer>
    r"|{\\[^{}]*}"  # {\an8}, {\b1}
    r"|{[A-Za-z]:[^{}]*}"  # {y:i}, {c:$0000FF}
    r"|\\[Nnh]"  # ASS line breaks and hard spaces
)

_SPACE_BEFORE_PUNCT = re.compile(r" ([,.;:!?])")


def srt_text(text: str) -> str:
    """Cue text as players will show it: no markup, and on one line (a blank line would end the cue)."""
    text = _SRT_MARKUP.sub(" ", text)
    # Braces left over would still open an override block in ASS-based players (mpv, VLC with libass).
    text = text.replace("{", "(").replace("}", ")").replace("-->", "->")
    # A tag is replaced by a space (it may have separated two words); none belongs before punctuation.
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))


def to_srt(document: dict[str, Any]) -> str:
    """SRT has no voice tag (players show `<v ...>` literally), so the speaker leads the line as in TXT."""
    out = []
    n = 0
    for seg in document["segments"]:
        body = srt_text(seg["text"])
        if not body:
            continue
        n += 1
        who = srt_text(seg.get("speaker_label") or seg.get("speaker") or "")
        out += [str(n), f"{cue_time(seg['start'], sep=',')} --> {cue_time(seg['end'], sep=',')}",
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
