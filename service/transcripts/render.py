"""Render a transcript (its JSON form, after speaker labels are applied) as TXT, WebVTT, JSON or RTTM."""

from __future__ import annotations

import json
from typing import Any

from service.core.timestamps import cue_time, stamp


def _who(segment: dict[str, Any]) -> str | None:
    return segment.get("speaker_label") or segment.get("speaker")


def reading_turns(transcript: dict[str, Any]) -> list[dict[str, Any]]:
    """Consecutive segments of one speaker joined into turns, for reading."""
    turns: list[dict[str, Any]] = []
    for seg in transcript["segments"]:
        who = _who(seg)
        if turns and turns[-1]["speaker"] == who:
            turns[-1]["end"] = seg["end"]
            turns[-1]["text"] = f"{turns[-1]['text']} {seg['text']}".strip()
        else:
            turns.append({"speaker": who, "start": seg["start"], "end": seg["end"], "text": seg["text"]})
    return turns


def to_txt(transcript: dict[str, Any], *, timestamps: bool = True) -> str:
    lines = []
    for turn in reading_turns(transcript):
        prefix = f"[{stamp(turn['start'])}] " if timestamps else ""
        who = turn["speaker"]
        lines.append(f"{prefix}{who + ': ' if who else ''}{turn['text']}")
    return "\n\n".join(lines) + ("\n" if lines else "")


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")


def to_vtt(transcript: dict[str, Any]) -> str:
    out = ["WEBVTT", ""]
    for i, seg in enumerate(transcript["segments"], 1):
        text = _vtt_text(seg["text"])
        who = _who(seg)
        out += [str(i), f"{cue_time(seg['start'])} --> {cue_time(seg['end'])}", f"<v {who}>{text}" if who else text, ""]
    return "\n".join(out)


def to_json(transcript: dict[str, Any]) -> str:
    return json.dumps(transcript, ensure_ascii=False, indent=2)


def to_rttm(transcript: dict[str, Any], *, uri: str = "recording") -> str:
    """One line per diarised speaker turn (overlaps included), labelled by role."""
    labels = {sp["slot"]: sp.get("label") or sp["slot"] for sp in transcript.get("speakers", [])}
    lines = []
    for turn in transcript.get("speaker_turns", []):
        label = (labels.get(turn["speaker"]) or turn["speaker"]).replace(" ", "_")
        lines.append(
            f"SPEAKER {uri} 1 {turn['start']:.3f} {turn['end'] - turn['start']:.3f} <NA> <NA> {label} <NA> <NA>"
        )
    return "\n".join(lines) + ("\n" if lines else "")


RENDERERS = {"json": to_json, "txt": to_txt, "vtt": to_vtt, "rttm": to_rttm}
MEDIA_TYPES = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "rttm": "text/plain; charset=utf-8",
}
