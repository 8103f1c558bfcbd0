"""What every lexicon layer works on: the tokenised text with its case evidence, the hit it reports, phrase
matching, and the words that never name anyone."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.redact import gazetteers
from pipeline.redact.base import (
    MONTHS,
    NUMBER_WORDS,
    RANK_WORDS,
    TITLE_WORDS,
    WEEKDAYS,
    Token,
    case_mode,
    joined,
    sentence_initial,
    tokenize,
)


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    label: str
    layer: str  # "gazetteer" or "cue"
    confidence: float
    uncertain: bool = False


def tuples(words: tuple[str, ...] | frozenset[str]) -> list[tuple[str, ...]]:
    return sorted((gazetteers.split_entry(w) for w in words), key=len, reverse=True)


DETERMINERS = frozenset({"the", "an", "a", "her", "his", "my", "their", "our", "your", "this", "that", "its",
                         "whole", "big", "major", "undercover", "sting", "covert", "police", "joint"})

NOT_NAME = frozenset(MONTHS) | frozenset(WEEKDAYS) | frozenset(NUMBER_WORDS) | RANK_WORDS | TITLE_WORDS | {
    "police", "constabulary", "force", "officer", "officers", "station", "road", "street", "court", "team", "unit",
    "old", "sundays", "saturdays", "mondays", "fridays",
    "department", "school", "college", "university", "hospital", "centre", "god", "jesus", "christmas", "easter",
    "english", "british", "uk", "internet", "online", "whatsapp", "snapchat", "instagram", "facebook", "tiktok",
    "twitter", "google", "iphone", "teams", "zoom", "covid", "lockdown", "mum", "dad", "nan", "grandad", "i",
    "number",  # "PC number 4471": the collar number follows, not a surname
}


# Phrase lists indexed by their first and by their last word (longest phrase first), built on first use: the layers
# try every list at every token, and a scan of each list per token was most of the detector's time.
_INDEXES: dict[tuple[int, int], tuple[list[tuple[str, ...]], dict[str, list[tuple[str, ...]]]]] = {}


def _by_word(phrases: list[tuple[str, ...]], end: int) -> dict[str, list[tuple[str, ...]]]:
    key = (id(phrases), end)
    hit = _INDEXES.get(key)
    if hit is None or hit[0] is not phrases:
        index: dict[str, list[tuple[str, ...]]] = {}
        for p in sorted(phrases, key=len, reverse=True):
            if p:
                index.setdefault(p[end], []).append(p)
        hit = (phrases, index)
        _INDEXES[key] = hit
    return hit[1]


def match_at(words: list[str], i: int, phrases: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    if not 0 <= i < len(words):
        return None
    for p in _by_word(phrases, 0).get(words[i], ()):
        if tuple(words[i : i + len(p)]) == p:
            return p
    return None


def match_before(words: list[str], i: int, phrases: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """A phrase ending right before token i."""
    if not 0 < i <= len(words):
        return None
    for p in _by_word(phrases, -1).get(words[i - 1], ()):
        if i - len(p) >= 0 and tuple(words[i - len(p) : i]) == p:
            return p
    return None


class Text:
    def __init__(self, text: str) -> None:
        self.text = text
        self.mode = case_mode(text)
        self.toks: list[Token] = tokenize(text)
        self.w = [t.lower for t in self.toks]
        self.n = len(self.toks)

    def cap(self, i: int) -> bool:
        """Capitalised as evidence: only in mixed-case text, and not the first word of a sentence."""
        return (self.mode == "mixed" and self.toks[i].text[:1].isupper()
                and not sentence_initial(self.text, self.toks, i))

    def upper_first(self, i: int) -> bool:
        return self.mode == "mixed" and self.toks[i].text[:1].isupper()

    def linked(self, i: int) -> bool:
        """Token i directly follows token i-1 in one phrase (no punctuation between)."""
        return i > 0 and joined(self.text, self.toks[i - 1], self.toks[i])

    def hit(self, i: int, j: int, label: str, layer: str, conf: float, uncertain: bool = False) -> Hit:
        return Hit(self.toks[i].start, self.toks[j - 1].end, label, layer, conf, uncertain)
