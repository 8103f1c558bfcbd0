"""Apply accepted spans to a transcript: text, words and their timings, all redacted together."""

from __future__ import annotations

from typing import Any

# Replacement = (start, end, tag) in segment-text character offsets.
Replacement = tuple[int, int, str]


def word_ranges(text: str, words: list[dict[str, Any]]) -> list[tuple[int, int] | None]:
    """Character range of each word in the segment text (words carry their own leading spaces)."""
    ranges: list[tuple[int, int] | None] = []
    pos = 0
    for w in words:
        token = w["text"].strip()
        at = text.find(token, pos) if token else -1
        if at < 0:
            ranges.append(None)
            continue
        ranges.append((at, at + len(token)))
        pos = at + len(token)
    return ranges


def _merge(replacements: list[Replacement]) -> list[Replacement]:
    merged: list[Replacement] = []
    for start, end, tag in sorted(replacements):
        if merged and start < merged[-1][1]:
            ps, pe, ptag = merged[-1]
            merged[-1] = (ps, max(pe, end), ptag)
        else:
            merged.append((start, end, tag))
    return merged


def redact_segment(segment: dict[str, Any], replacements: list[Replacement]) -> dict[str, Any]:
    reps = _merge(replacements)
    text = segment["text"]
    out, pos = [], 0
    # Where each tag sits in the redacted text, so exports can mark redactions without parsing brackets.
    tags: list[dict[str, Any]] = []
    length = 0
    for start, end, tag in reps:
        out.append(text[pos:start])
        length += start - pos
        out.append(tag)
        tags.append({"start": length, "end": length + len(tag), "tag": tag})
        length += len(tag)
        pos = end
    out.append(text[pos:])
    new_text = "".join(out)

    words = segment.get("words", [])
    ranges = word_ranges(text, words)
    new_words: list[dict[str, Any]] = []
    used: set[int] = set()
    for w, rng in zip(words, ranges, strict=True):
        hit = None
        if rng is None:
            # A word we can't place is dropped rather than risk keeping an identifier.
            if reps:
                continue
        else:
            hit = next((i for i, (s, e, _) in enumerate(reps) if rng[0] < e and s < rng[1]), None)
        if hit is None or rng is None:
            new_words.append(_clean_word(w))
            continue
        # Punctuation or a possessive outside the span stays with the word, as it stays in the text.
        start, end, tag = reps[hit]
        lead = text[rng[0] : start] if start > rng[0] else ""
        tail = text[end : rng[1]] if end < rng[1] else ""
        if hit in used:
            new_words[-1]["end"] = max(new_words[-1]["end"], w["end"])
            new_words[-1]["text"] += tail
            continue
        used.add(hit)
        new_words.append({**_clean_word(w), "text": " " + lead + tag + tail, "redacted": True})
    return {**segment, "text": new_text, "words": new_words, "redactions": tags}


def _clean_word(w: dict[str, Any]) -> dict[str, Any]:
    keep = ("start", "end", "text", "speaker", "speaker_label", "overlap")
    return {k: w[k] for k in keep if k in w}


def anonymised_view(transcript: dict[str, Any], by_segment: dict[int, list[Replacement]]) -> dict[str, Any]:
    """The researcher-facing document: redacted segments, role labels, no raw-only fields."""
    segments = []
    for i, seg in enumerate(transcript["segments"]):
        redacted = redact_segment(seg, by_segment.get(i, []))
        segments.append(
            {
                "id": i,
                "start": seg["start"],
                "end": seg["end"],
                "speaker": seg.get("speaker"),
                "speaker_label": seg.get("speaker_label"),
                "text": redacted["text"],
                "flags": seg.get("flags", []),
                "words": redacted["words"],
                "redactions": redacted["redactions"],
            }
        )
    speakers = [
        {"slot": sp["slot"], "label": sp.get("label") or sp.get("role"), "role": sp.get("role")}
        for sp in transcript.get("speakers", [])
        if not sp.get("merged_into")
    ]
    return {
        "language": transcript.get("language"),
        "duration": transcript.get("duration"),
        "speakers": speakers,
        "speaker_turns": transcript.get("speaker_turns", []),
        "segments": segments,
    }


def redact_detected(transcript: dict[str, Any], detected: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Every detected span applied, with tags from a fresh pseudonymiser: what `anonscribe transcribe --redact`
    prints. No review and no study map, so tags are numbered within this one transcript."""
    from pipeline.redact import Pseudonymiser, Span

    pseudo = Pseudonymiser()
    by_segment: dict[int, list[Replacement]] = {}
    for i, spans in enumerate(detected):
        text = transcript["segments"][i]["text"]
        for d in spans:
            span = Span(d["start"], d["end"], d["label"], text[d["start"] : d["end"]], tuple(d.get("layers", ())),
                        float(d.get("confidence", 1.0)), bool(d.get("uncertain", False)))
            by_segment.setdefault(i, []).append((span.start, span.end, pseudo.tag(span)))
    return anonymised_view(transcript, by_segment)
