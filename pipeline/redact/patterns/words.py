"""Pattern layer, spoken forms: a token view and the readers of numbers, years, ordinals and months said in words."""

from __future__ import annotations

import re

from pipeline.redact.base import MONTHS, NUMBER_WORDS, Token, tokenize

_UNITS = {w for w, v in NUMBER_WORDS.items() if v < 10}
_FILLERS = frozenset({"erm", "um", "uh", "er", "ah", "hmm"})
_TEENS = {w for w, v in NUMBER_WORDS.items() if 10 <= v < 20}
_TENS = {w for w, v in NUMBER_WORDS.items() if v >= 20}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_HOURS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}
_HOLIDAYS = (("boxing", "day"), ("christmas", "day"), ("christmas", "eve"), ("new", "year's", "eve"),
             ("new", "years", "eve"), ("new", "year's", "day"), ("new", "years", "day"), ("new", "year's"),
             ("valentine's", "day"), ("valentines", "day"), ("bonfire", "night"), ("guy", "fawkes", "night"),
             ("mother's", "day"), ("mothers", "day"), ("father's", "day"), ("fathers", "day"), ("easter", "sunday"),
             ("easter", "monday"), ("good", "friday"), ("christmas",), ("easter",), ("halloween",), ("eid",),
             ("diwali",), ("hogmanay",), ("new", "year"))
_MONTH_CONTEXT = {"in", "since", "until", "till", "by", "from", "during", "of", "early", "late", "mid", "last",
                  "next", "through", "throughout", "before", "after", "around", "about", "that", "following"}


class _Words:
    """Token view with cheap look-ahead helpers (lower-case words, possessive kept as typed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[Token] = tokenize(text)
        self.w = [t.text.lower().replace("\u2019", "'") for t in self.toks]
        self.base = [t.lower for t in self.toks]  # possessive removed

    def __len__(self) -> int:
        return len(self.toks)

    def at(self, i: int) -> str:
        return self.w[i] if 0 <= i < len(self.w) else ""

    def gap(self, i: int) -> str:
        """Text between token i-1 and token i."""
        return self.text[self.toks[i - 1].end if i else 0 : self.toks[i].start] if i < len(self.toks) else ""

    def span(self, i: int, j: int) -> tuple[int, int]:  # tokens i..j-1
        return self.toks[i].start, self.toks[j - 1].start + len(self.toks[j - 1].text)


def _spoken_number(ws: _Words, i: int) -> tuple[int, int]:
    """Digits spoken one by one from token i: (tokens used, digits)."""
    j, digits = i, 0
    while j < len(ws):
        w = ws.at(j)
        if j > i and re.search(r"[.?!;]", ws.gap(j)):
            break
        if w in ("double", "treble", "triple") and ws.at(j + 1) in _UNITS:
            digits += 2 if w == "double" else 3
            j += 2
        elif w in _UNITS and not (w == "o" and j == i):
            digits += 1
            j += 1
        elif w in _TEENS:
            digits += 2
            j += 1
        elif w in _TENS:
            digits += 2
            j += 2 if ws.at(j + 1) in _UNITS - {"oh", "o", "nought", "zero"} else 1
        elif w.isdigit():
            digits += len(w)
            j += 1
        elif w in _FILLERS and j > i and _spoken_number(ws, j + 1)[1]:
            j += 1  # "07890, erm, 123 456"
        else:
            break
    return j - i, digits


def _spoken_year(ws: _Words, i: int) -> int:
    """Tokens used by a spoken year at i ("twenty nineteen", "two thousand and eight", "nineteen ninety five")."""
    w, n1, n2 = ws.at(i), ws.at(i + 1), ws.at(i + 2)
    if w == "nineteen" and n1 in {"fifty", "sixty", "seventy", "eighty", "ninety"}:
        return 3 if n2 in _UNITS - {"oh", "o", "nought", "zero"} else 2
    if w == "twenty" and (n1 in _TEENS or n1 in {"oh", "o"}):
        return 3 if n1 in {"oh", "o"} and n2 in _UNITS else 2
    if w == "twenty" and n1 == "twenty":
        return 3 if n2 in _UNITS - {"oh", "o", "nought", "zero"} else 2
    if w == "two" and n1 == "thousand":
        k = i + 2
        if ws.at(k) == "and":
            k += 1
        if ws.at(k) in _UNITS - {"oh", "o", "nought", "zero"} or ws.at(k) in _TEENS or ws.at(k) == "twenty":
            k += 1
        if ws.at(k) in ("pound", "pounds", "quid", "euros", "dollars", "pound's", "odd", "people", "followers",
                        "views", "messages", "pictures", "images", "words", "miles"):
            return 0  # "two thousand pound": a sum, not a year
        return k - i
    return 0


def _ordinal(ws: _Words, i: int) -> int:
    """Tokens used by a day-of-month ordinal at i ("third", "twenty first", "3rd", "14th", "3")."""
    w = ws.at(i)
    if w in ("twenty", "thirty") and ws.at(i + 1) in _ORDINALS and _ORDINALS[ws.at(i + 1)] < 10:
        return 2
    if w in _ORDINALS:
        return 1
    if re.fullmatch(r"(?:[12]?\d|3[01])(?:st|nd|rd|th)?", w) and w not in ("0",):
        return 1
    return 0


def _month(w: str) -> bool:
    return w in MONTHS or w in ("jan", "feb", "sept", "sep", "oct", "nov", "dec", "aug", "apr", "jun", "jul")


def _year_at(ws: _Words, i: int) -> int:
    if re.fullmatch(r"(?:19|20)\d{2}|'\d{2}", ws.at(i)):
        return 1
    return _spoken_year(ws, i)
