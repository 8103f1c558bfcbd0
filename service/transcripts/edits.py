"""A reviewer's corrections as pure functions on the transcript's JSON form: no database, no keys.

Words keep what the recogniser measured wherever the reviewer left them alone: a new text is aligned word by word
with the old one, unchanged words keep their timings and probabilities, and only changed or inserted words get
timings spread over the time the words they replace took (or the gap they fill), marked `edited` and without a
probability (nobody should read a reviewer's word as doubtful). Redaction spans are character ranges into a
segment's text; `remap_spans`, `split_spans` and `merge_spans` carry them across each operation, keeping a span
only where its text and the characters either side of it are unchanged.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

MAX_TEXT = 5000


class EditError(ValueError):
    """An edit that cannot be applied (bad index, empty text, a word that cannot be placed)."""


@dataclass(frozen=True)
class WordCounts:
    """What an edit did, in counts: what the audit log may say of it."""

    kept: int = 0
    changed: int = 0
    inserted: int = 0
    deleted: int = 0


def normalise_text(text: str) -> str:
    """One space between words, none around them; Whisper's own leading space is added back by the caller."""
    return " ".join(text.split())


def _spread(tokens: list[str], lo: float, hi: float, speaker: str | None) -> list[dict[str, Any]]:
    """New words over [lo, hi], each taking time in proportion to its length."""
    hi = max(hi, lo)
    total = sum(len(t) for t in tokens) or 1
    out, t = [], lo
    for i, tok in enumerate(tokens):
        end = hi if i == len(tokens) - 1 else t + (hi - lo) * len(tok) / total
        word: dict[str, Any] = {"start": round(t, 3), "end": round(end, 3), "text": " " + tok, "edited": True}
        if speaker is not None:
            word["speaker"] = speaker
        out.append(word)
        t = end
    return out


def align_words(
    words: list[dict[str, Any]], new_text: str, *, start: float, end: float, speaker: str | None = None
) -> tuple[list[dict[str, Any]], WordCounts]:
    """The words of `new_text`, aligned with the old `words` of a segment spanning [start, end]."""
    old = [w["text"].strip() for w in words]
    new = new_text.split()
    out: list[dict[str, Any]] = []
    kept = changed = inserted = deleted = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [copy.deepcopy(words[i]) for i in range(i1, i2)]
            kept += i2 - i1
            continue
        if tag == "delete":
            deleted += i2 - i1
            continue
        if i1 < i2:  # replaced: the new words take the time the old ones took
            lo, hi = float(words[i1]["start"]), float(words[i2 - 1]["end"])
            changed += min(i2 - i1, j2 - j1)
            inserted += max(0, (j2 - j1) - (i2 - i1))
            deleted += max(0, (i2 - i1) - (j2 - j1))
        else:  # inserted: the gap between the neighbours (or the segment's edge)
            lo = float(words[i1 - 1]["end"]) if i1 > 0 else start
            hi = float(words[i1]["start"]) if i1 < len(words) else end
            inserted += j2 - j1
        out += _spread(new[j1:j2], lo, hi, speaker)
    return out, WordCounts(kept, changed, inserted, deleted)


def _segment(transcript: dict[str, Any], index: int) -> dict[str, Any]:
    segments = transcript["segments"]
    if not 0 <= index < len(segments):
        raise EditError("no such segment")
    return segments[index]


def _renumber(transcript: dict[str, Any]) -> None:
    for i, seg in enumerate(transcript["segments"]):
        seg["id"] = i


def _lead(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def edit_text(transcript: dict[str, Any], index: int, text: str) -> tuple[dict[str, Any], WordCounts]:
    """A copy of `transcript` with segment `index` reading `text`."""
    clean = normalise_text(text)
    if not clean:
        raise EditError("the text is empty (merge the segment into its neighbour instead)")
    if len(clean) > MAX_TEXT:
        raise EditError(f"a segment's text is at most {MAX_TEXT} characters")
    out = copy.deepcopy(transcript)
    seg = _segment(out, index)
    words, counts = align_words(
        seg.get("words", []), clean, start=float(seg["start"]), end=float(seg["end"]), speaker=seg.get("speaker")
    )
    seg["text"] = _lead(seg["text"]) + clean
    seg["words"] = words
    if counts.changed or counts.inserted or counts.deleted:
        seg["edited"] = True
    return out, counts


def set_speaker(transcript: dict[str, Any], index: int, slot: str) -> dict[str, Any]:
    out = copy.deepcopy(transcript)
    seg = _segment(out, index)
    seg["speaker"] = slot
    for w in seg.get("words", []):
        w["speaker"] = slot
    return out


def _word_starts(seg: dict[str, Any]) -> list[int | None]:
    """Where each word begins in the segment's text (words carry their own leading spaces); None if not found.
    The same placement as `redaction.anonymise.word_ranges`, which approval uses."""
    starts: list[int | None] = []
    pos = 0
    for w in seg.get("words", []):
        token = w["text"].strip()
        at = seg["text"].find(token, pos) if token else -1
        starts.append(at if at >= 0 else None)
        if at >= 0:
            pos = at + len(token)
    return starts


def split(transcript: dict[str, Any], index: int, at_word: int) -> tuple[dict[str, Any], int]:
    """Segment `index` becomes two, the second starting at word `at_word`. Returns the copy and the character
    offset in the old text where the second part begins."""
    out = copy.deepcopy(transcript)
    seg = _segment(out, index)
    words = seg.get("words", [])
    if not 0 < at_word < len(words):
        raise EditError(f"split at a word between 1 and {len(words) - 1}")
    cut = _word_starts(seg)[at_word]
    if cut is None:
        raise EditError("that word cannot be placed in the segment's text")
    lead = _lead(seg["text"])
    first = {**seg, "text": seg["text"][:cut].rstrip(), "words": words[:at_word],
             "end": float(words[at_word - 1]["end"])}
    second = {**copy.deepcopy(seg), "text": lead + seg["text"][cut:], "words": words[at_word:],
              "start": float(words[at_word]["start"])}
    out["segments"][index : index + 1] = [first, second]
    _renumber(out)
    return out, cut


def merge(transcript: dict[str, Any], index: int) -> tuple[dict[str, Any], int]:
    """Segments `index` and `index + 1` become one (the first one's speaker). Returns the copy and how far the
    second one's characters moved (add it to an offset in the second's text)."""
    out = copy.deepcopy(transcript)
    if not 0 <= index < len(out["segments"]) - 1:
        raise EditError("merge needs a segment and the one after it")
    a, b = out["segments"][index], out["segments"][index + 1]
    head = a["text"].rstrip()
    shift = len(head) + 1 - len(_lead(b["text"]))
    merged = {
        **a,
        "text": head + " " + b["text"].lstrip(),
        "end": max(float(a["end"]), float(b["end"])),
        "words": a.get("words", []) + b.get("words", []),
        "flags": list(dict.fromkeys(a.get("flags", []) + b.get("flags", []))),
    }
    if a.get("edited") or b.get("edited"):
        merged["edited"] = True
    out["segments"][index : index + 2] = [merged]
    _renumber(out)
    return out, shift


# ---- redaction spans across an edit -----------------------------------------------------------------------
# A span here is any dict with "segment", "start" and "end" (character offsets into that segment's text).


def remap_spans(old_text: str, new_text: str, spans: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Spans of one segment carried into its new text: a span stays only where its characters and one either side
    are unchanged (so "Mark" inside a new "Marking" is not kept as a decided name). Returns (kept, dropped)."""
    blocks = [(i1, i2, j1) for tag, i1, i2, j1, _ in
              SequenceMatcher(None, old_text, new_text, autojunk=False).get_opcodes() if tag == "equal"]
    kept: list[dict[str, Any]] = []
    for sp in spans:
        s, e = sp["start"], sp["end"]
        lo, hi = (s - 1 if s > 0 else s), (e + 1 if e < len(old_text) else e)
        block = next(((i1, j1) for i1, i2, j1 in blocks if i1 <= lo and hi <= i2), None)
        if block is None:
            continue
        ns = s - block[0] + block[1]
        ne = ns + (e - s)
        if (s == 0 and ns != 0) or (e == len(old_text) and ne != len(new_text)):
            continue  # something was typed right against the span: it is no longer the same word
        kept.append({**sp, "start": ns, "end": ne})
    return kept, len(spans) - len(kept)


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def split_spans(
    spans: list[dict[str, Any]], *, index: int, cut: int, old_text: str, first_text: str, second_text: str
) -> list[dict[str, Any]]:
    """Spans after `split`: later segments move down one, a span across the cut is cut in two."""
    lead = len(second_text) - len(old_text) + cut  # characters before the cut text in the second part
    out = []
    for sp in spans:
        if sp["segment"] < index:
            out.append(sp)
        elif sp["segment"] > index:
            out.append({**sp, "segment": sp["segment"] + 1})
        else:
            if sp["start"] < cut:
                s, e = _trim(first_text, sp["start"], min(sp["end"], len(first_text)))
                if e > s:
                    out.append({**sp, "start": s, "end": e})
            if sp["end"] > cut:
                s, e = _trim(second_text, max(sp["start"], cut) - cut + lead, sp["end"] - cut + lead)
                if e > s:
                    out.append({**sp, "segment": index + 1, "start": s, "end": e, "id": None})
    return out


def merge_spans(spans: list[dict[str, Any]], *, index: int, shift: int) -> list[dict[str, Any]]:
    """Spans after `merge`: the second segment's move into the first, later segments move up one."""
    out = []
    for sp in spans:
        if sp["segment"] <= index:
            out.append(sp)
        elif sp["segment"] == index + 1:
            out.append({**sp, "segment": index, "start": sp["start"] + shift, "end": sp["end"] + shift})
        else:
            out.append({**sp, "segment": sp["segment"] - 1})
    return out
