"""Segments as people read them: in time order, never overlapping, cut at sentence ends and pauses, and short
enough for a subtitle cue.

Whisper's segments come from two places that do not know of each other: the first pass, and the speech it skipped,
transcribed again afterwards (`pipeline.asr`). Sorting the segments by start was not enough: a 43 s first-pass
segment whose words skip 71-79 s was followed by the recovered 71-79 s, so cues overlapped and read out of order.
Here every word is placed by its own time, and segments are rebuilt from the words: a segment ends where its source
changes, at a sentence end, at a pause, and before it would exceed MAX_SEGMENT_S or MAX_SEGMENT_CHARS (split at its
best point: a pause, a comma, near the middle). Every cue of the WebVTT/SRT exports is one segment.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from pipeline.types import Segment, Word

# Subtitle norms (BBC, Netflix): at most ~7 s on screen and two lines of ~42 characters.
MAX_SEGMENT_S = 7.0
MAX_SEGMENT_CHARS = 84
# A silence this long between two words starts a new segment whatever the punctuation.
PAUSE_SPLIT_S = 1.0
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_CLAUSE_END = re.compile(r"[,;:\u2014-][\"'\u201d\u2019)\]]*$")
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "etc.", "vs.", "e.g.", "i.e.", "no.", "approx."}


def _ends_sentence(word: Word) -> bool:
    text = word.text.strip()
    return bool(_SENTENCE_END.search(text)) and text.lower() not in _ABBREVIATIONS


def _text(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


def _too_long(words: list[Word]) -> bool:
    return len(words) > 1 and (words[-1].end - words[0].start > MAX_SEGMENT_S or len(_text(words)) > MAX_SEGMENT_CHARS)


def _best_cut(words: list[Word]) -> int:
    """Index of the first word of the second half: the longest pause, after punctuation, near the middle."""
    start, span = words[0].start, max(words[-1].end - words[0].start, 1e-6)
    best, best_score = len(words) // 2, float("-inf")
    for i in range(1, len(words)):
        before = words[i - 1]
        pause = max(0.0, words[i].start - before.end)
        punct = 1.0 if _ends_sentence(before) else 0.5 if _CLAUSE_END.search(before.text.strip()) else 0.0
        balance = abs((before.end - start) / span - 0.5)  # 0 at the middle, 0.5 at either end
        score = min(pause, 1.0) + punct - 1.5 * balance
        if score > best_score:
            best, best_score = i, score
    return best


def _fit(words: list[Word]) -> list[list[Word]]:
    if not _too_long(words):
        return [words]
    cut = _best_cut(words)
    return _fit(words[:cut]) + _fit(words[cut:])


def _runs(tagged: list[tuple[Word, int]]) -> list[tuple[list[Word], int]]:
    """Consecutive words of one source, cut at sentence ends and pauses."""
    runs: list[tuple[list[Word], int]] = []
    for word, source in tagged:
        if runs:
            words, last = runs[-1]
            prev = words[-1]
            untimed = word.end <= word.start  # often a repeat Whisper could not place: it stays with its neighbour
            if source == last and (untimed or (not _ends_sentence(prev) and word.start - prev.end < PAUSE_SPLIT_S)):
                words.append(word)
                continue
        runs.append(([word], source))
    return runs


def shape_segments(segments: list[Segment], flags: Callable[[Segment], list[str]] | None = None) -> list[Segment]:
    """The segments rebuilt from their words in time order (see the module docstring); numbered from 0.

    Each new segment keeps its source's scores and flags (they describe the decoding the words came from); a source
    cut into pieces has each piece's flags from `flags(piece)` instead, if given (a 30 s batched window flagged for
    a repeat must not flag every sentence in it). Segments without words keep their own times.
    """
    tagged = sorted(((w, i) for i, s in enumerate(segments) for w in s.words), key=lambda t: (t[0].start, t[0].end))
    out: list[Segment] = []
    runs = _runs(tagged)
    pieces_of = Counter(source for _, source in runs)
    for words, source in runs:
        pieces = _fit(words)
        for piece in pieces:
            seg = segments[source]
            new = replace(seg, start=piece[0].start, end=max(w.end for w in piece), text=_text(piece),
                          words=list(piece), flags=list(seg.flags))
            if flags and (pieces_of[source] > 1 or len(pieces) > 1):
                new.flags = flags(new)
            out.append(new)
    out += [replace(s, flags=list(s.flags)) for s in segments if not s.words]
    out.sort(key=lambda s: (s.start, s.end))
    for i, seg in enumerate(out):
        seg.id = i
        if i + 1 < len(out) and seg.end > out[i + 1].start:
            # Word times of two decodings can overlap by a few hundredths: the earlier segment yields.
            seg.end = max(seg.start, out[i + 1].start)
            seg.words = [replace(w, end=min(w.end, seg.end), start=min(w.start, seg.end)) for w in seg.words]
    return out
