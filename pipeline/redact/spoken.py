"""Spoken forms: what Whisper writes when people read out identifiers, mapped to the written form the pattern and
gazetteer layers know, with every canonical character mapped back to the original text.

  "g m p"                         -> "gmp"            (a force initialism, spelled)
  "d c smith"                     -> "dc smith"       (a rank, spelled)
  "y d one nine k x p"            -> "yd19kxp"        (a registration)
  "l s six one a b"               -> "ls61ab"         (a postcode)
  "n t slash two two slash four…" -> "nt/22/4…"       (a crime reference)
  "oh seven seven double nine …"  -> "07799…"         (a phone number)
  "four a m"                      -> "4am"            (a time)

Only runs of spelled letters and digit words are rewritten, so ordinary speech ("two or three", "a lot") stays as
it is. Also here: times and partial dates said in words that need their context ("oh six hundred", "ten to
midnight", "on the fourteenth", "the third of the ninth").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.redact.base import NUMBER_WORDS, Token, tokenize

Hit = tuple[int, int, str, float]

_UNIT = {w: str(v) for w, v in NUMBER_WORDS.items() if v < 10 and w != "o"}
_TEEN = {w: str(v) for w, v in NUMBER_WORDS.items() if 10 <= v < 20}
_TEN = {w: v for w, v in NUMBER_WORDS.items() if v >= 20}
_CONNECT = {"slash": "/", "stroke": "/", "dash": "-", "hyphen": "-"}
_RANKS = frozenset({"pc", "dc", "ds", "di", "dci", "dsu", "ps", "pcso", "wpc", "sgt", "dcs", "tdc", "dsi", "psi"})
# Roles said as letters before a rank: "the o i c d c whitworth", "the s i o d s i patel".
_ROLE_ACRONYMS = frozenset({"oic", "sio", "dio", "fio", "flo", "spoc", "ioc"})
_SHAPES = re.compile(r"[a-z]{2}\d{2}[a-z]{3}|[a-z]{1,2}\d[a-z\d]?\d[a-z]{2}|[a-z]\d{1,3}[a-z]{3}|[a-z]{3}\d{1,3}[a-z]?")


@dataclass(frozen=True)
class Canonical:
    text: str
    # (canonical start, end, original start, end, copied): copied pieces map character by character, rewritten
    # pieces map whole (a span inside "yd19kxp" is the whole of "y d one nine k x p").
    pieces: tuple[tuple[int, int, int, int, bool], ...]

    @property
    def changed(self) -> bool:
        return any(not copied for *_, copied in self.pieces)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        o_start, o_end = start, end
        for cs, ce, os_, oe, copied in self.pieces:
            if cs <= start < ce or (start == ce and cs == ce):
                o_start = os_ + (start - cs) if copied else os_
            if cs < end <= ce:
                o_end = os_ + (end - cs) if copied else oe
        return o_start, o_end


def _digit_word(toks: Sequence[Token], i: int) -> tuple[int, str]:
    """Tokens used and digits written for a digit word at i ("double four" -> 2, "44")."""
    w = toks[i].lower
    nxt = toks[i + 1].lower if i + 1 < len(toks) else ""
    if w in ("double", "triple", "treble") and nxt in _UNIT:
        return 2, _UNIT[nxt] * (2 if w == "double" else 3)
    if w in _UNIT:
        if nxt == "hundred":
            return 2, _UNIT[w] + "00"
        return 1, _UNIT[w]
    if w in _TEEN:
        return 1, _TEEN[w]
    if w in _TEN:
        if nxt in _UNIT and nxt not in ("oh", "zero", "nought"):
            return 2, str(_TEN[w] + int(_UNIT[nxt]))
        return 1, str(_TEN[w])
    if w.isdigit():
        return 1, w
    return 0, ""


def _letter(tok: Token) -> bool:
    return len(tok.lower) == 1 and tok.lower.isalpha() and tok.end - tok.start == 1


# Letters written as their names ("gee em pee", "t v pee"); only read as letters next to another letter.
_LETTER_NAMES = {"bee": "b", "cee": "c", "dee": "d", "ee": "e", "ef": "f", "eff": "f", "gee": "g", "aitch": "h",
                 "haitch": "h", "jay": "j", "kay": "k", "el": "l", "em": "m", "en": "n", "pee": "p", "cue": "q",
                 "ar": "r", "ess": "s", "tee": "t", "vee": "v", "ex": "x", "zed": "z"}


def _letter_at(toks: Sequence[Token], j: int) -> str:
    """The letter spelled at token j ("" if none): a single letter, a letter's name beside another letter, or
    "double u"."""
    w = toks[j].lower
    if _letter(toks[j]):
        return w
    if w in _LETTER_NAMES:
        near = [toks[k] for k in (j - 1, j + 1) if 0 <= k < len(toks)]
        if any(_letter(t) or t.lower in _LETTER_NAMES for t in near):
            return _LETTER_NAMES[w]
    return ""


def _runs(text: str, toks: list[Token]) -> list[tuple[int, int, list[tuple[int, str]]]]:
    """(first token, end token, [(token index, canonical piece)]) for each run of letters/digit words."""
    out = []
    i = 0
    while i < len(toks):
        items: list[tuple[int, str]] = []
        j = i
        while j < len(toks):
            if j > i and re.search(r"[.,;:!?]", text[toks[j - 1].end : toks[j].start]):
                break
            if toks[j].lower == "double" and j + 1 < len(toks) and toks[j + 1].lower in ("u", "you") and items:
                items.append((j, "w"))  # "f x six eight double u b k"
                j += 2
                continue
            letter = _letter_at(toks, j)
            if letter:
                items.append((j, letter))
                j += 1
                continue
            used, digits = _digit_word(toks, j)
            if used:
                items.append((j, digits))
                j += used
                continue
            if toks[j].lower in _CONNECT and items and j + 1 < len(toks) and (
                    _letter(toks[j + 1]) or _digit_word(toks, j + 1)[0]):
                items.append((j, _CONNECT[toks[j].lower]))
                j += 1
                continue
            break
        if _worth(toks, items):
            out.append((i, j, items))
            i = j
        else:
            i = max(j, i + 1)
    return out


def _worth(toks: Sequence[Token], items: list[tuple[int, str]]) -> bool:
    letters = [p for _, p in items if p.isalpha() and len(p) == 1]
    units = sum(1 for k, p in items
                if (p.isdigit() and toks[k].lower in _UNIT) or toks[k].lower in ("double", "triple"))
    if len(items) < 2:
        return False
    if any(p in "/-" for _, p in items):
        return True
    if letters and len(set(letters) - {"a", "i"}) >= 1:
        return True
    return units >= 4


def normalise(text: str) -> Canonical:
    toks = tokenize(text)
    pieces: list[tuple[int, int, int, int, bool]] = []
    out: list[str] = []
    pos = 0  # original position copied up to
    clen = 0

    def emit(canon: str, o_start: int, o_end: int, copied: bool) -> None:
        nonlocal clen
        if canon:
            pieces.append((clen, clen + len(canon), o_start, o_end, copied))
            out.append(canon)
            clen += len(canon)

    for i, j, items in _runs(text, toks):
        emit(text[pos : toks[i].start], pos, toks[i].start, True)
        parts = [p for _, p in items]
        # "a y d one nine k x p": the article is a word, unless the whole run has the shape of a plate or postcode.
        if parts[0] in ("a", "i") and len(parts) > 2 and not _SHAPES.fullmatch("".join(parts)):
            first = toks[items[0][0]]
            emit(text[first.start : items[1][0] and toks[items[1][0]].start], first.start, toks[items[1][0]].start,
                 True)
            items, parts = items[1:], parts[1:]
        # "... four five one two seven i remember": a last "a" or "i" after a number is a word again.
        # So is one after a whole plate or postcode: "y r one seven x h g a grey astra".
        if parts[-1] in ("a", "i") and len(parts) > 2 and (
                parts[-2][-1:].isdigit() or _SHAPES.fullmatch("".join(parts[:-1]))) and \
                not _SHAPES.fullmatch("".join(parts)):
            items, parts = items[:-1], parts[:-1]
            j = items[-1][0] + 1 + (1 if toks[items[-1][0]].lower in ("double", "triple", "treble") else 0)
            j = max(j, items[-1][0] + _digit_word(toks, items[-1][0])[0])
        # A spelled rank before a number stays a word of its own: "p c one two three four" -> "pc 1234".
        groups: list[list[tuple[int, str]]] = [[]]
        for k, (t, p) in enumerate(items):
            groups[-1].append((t, p))
            so_far = "".join(x for _, x in groups[-1])
            rest = "".join(x for _, x in items[k + 1 :])
            if so_far in _RANKS and k + 1 < len(items) and items[k + 1][1].isdigit() \
                    and not _SHAPES.fullmatch("".join(parts)):
                groups.append([])
            elif so_far in _ROLE_ACRONYMS and any(rest.startswith(r) for r in _RANKS):
                groups.append([])  # "o i c d c whitworth" -> "oic dc whitworth"
        for g, group in enumerate(groups):
            if not group:
                continue
            first_tok = toks[group[0][0]]
            if g:
                emit(" ", first_tok.start, first_tok.start, False)
            nxt = groups[g + 1][0][0] if g + 1 < len(groups) and groups[g + 1] else j
            last_tok = toks[nxt - 1]
            emit("".join(p for _, p in group), first_tok.start, last_tok.end, False)
        pos = toks[j - 1].end
    emit(text[pos:], pos, len(text), True)
    return Canonical("".join(out), tuple(pieces))


# --- times and partial dates said in words ------------------------------------------------------------------------
_HOUR = {w: v for w, v in NUMBER_WORDS.items() if 1 <= v <= 12}
_ORD = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
        "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
        "twentieth", "thirtieth")
_DAY = re.compile(r"(?:(?:twenty|thirty)\s+)?(?:" + "|".join(_ORD) + r")|(?:[12]?\d|3[01])(?:st|nd|rd|th)", re.I)
_MONTH_ORD = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
_DAY_OF_MONTH = re.compile(rf"\bthe\s+({_DAY.pattern})\s+of\s+the\s+{_MONTH_ORD}\b", re.I)
_ON_THE_DAY = re.compile(
    rf"\b(?:on|since|until|till|by|from|before|after|was|it's|that's|of)\s+the\s+({_DAY.pattern})"
    r"(?=\s*(?:$|[.,;!?]|\s(?:and|i|we|he|she|they|it|when|at|about|around|or|in|so|but|because|that|which|then|"
    r"just|last|this|anyway|yeah|is|was|as|to|the|after|before|night|morning|evening|afternoon|i'm|erm|um|if|though|"
    r"there|you|right)\b)"
    # a correction: "on the twelfth no the thirteenth of may"
    rf"|\s(?:no|sorry|actually|nah)\s+(?:sorry\s+)?the\s+(?:{_DAY.pattern})\s+of\s+(?:the\s+{_MONTH_ORD}|"
    r"january|february|march|april|may|june|july|august|september|october|november|december)\b)",
    re.I)
_QUANTIFIED = re.compile(r"\b(?:one|some|any|all|most|few|each|none|many|both|among)\s+of$",
                         re.I)
_NUMBER_BEFORE_ONE = re.compile(r"\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|and|\d+)\s+one"
                                r"\s+of$", re.I)
_HOUR_WORDS = "|".join(sorted(_HOUR, key=len, reverse=True))
_MINUTES = r"(?:five|ten|twenty|twenty\s+five|quarter|half|\d{1,2}|(?:one|two|three|four|six|seven|eight|nine)" \
           r"(?:\s+minutes)?)"
_TO_PAST = re.compile(rf"\b{_MINUTES}\s+(?:to|past|after)\s+(?:midnight|midday|noon|{_HOUR_WORDS}|\d{{1,2}})\b",
                      re.I)
_HUNDRED = re.compile(r"\b(?:(?:oh|zero|o)\s+(?:one|two|three|four|five|six|seven|eight|nine)|ten|eleven|twelve|"
                      r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty(?:\s+(?:one|two|three))?)"
                      r"\s+hundred(?:\s+hours)?\b", re.I)
_HOUR_AMPM = re.compile(rf"\b(?:{_HOUR_WORDS})(?:\s+(?:oh\s+)?(?:[a-z]+ty(?:\s+[a-z]+)?|[a-z]+teen|ten|eleven))?"
                        r"\s+(?:a\s*m|p\s*m|a\.m\.?|p\.m\.?)(?![a-z])", re.I)
_TIME_CUE = re.compile(r"(?:\bat|\babout|\baround|\bby|\buntil|\btill|\bfrom|\bgone|\bbefore|\bafter|\bpast|"
                       r"\bbetween|\bthen|\bit was|\bthis was)\s+$", re.I)
_MIDNIGHT = re.compile(r"\b(?:at|about|around|by|until|till|gone|after|before|past|between|from|since)\s+"
                       r"(?:like\s+|um\s+|just\s+)?(midnight|midday|noon)\b", re.I)
# "it was gone two", "by six that morning", "at four the next morning": an hour by its context.
_GONE_HOUR = re.compile(rf"\bgone\s+((?:{_HOUR_WORDS})(?:\s+o'?clock)?)(?!\s+(?:years?|months?|weeks?|days?|hours?|"
                        r"minutes?|times?|of|or|and|grand|quid|pounds?|people|kids|more|lads|girls)\b)", re.I)
_HOUR_OF_DAY = re.compile(rf"\b(?:at|by|about|around|till|until|from|before|after|gone)\s+((?:{_HOUR_WORDS})"
                          r"(?:\s+o'?clock)?)\s+(?:that|this|the\s+next|the\s+following|in\s+the|on\s+(?:a|the))\s+"
                          r"(?:morning|night|evening|afternoon)\b", re.I)


def times_and_dates(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for m in _DAY_OF_MONTH.finditer(text):
        hits.append((m.start(), m.end(), "DATE", 0.9))
    for m in _ON_THE_DAY.finditer(text):
        before = text[: m.start() + 3].rstrip()
        if _QUANTIFIED.search(before) and not _NUMBER_BEFORE_ONE.search(before):
            continue  # "one of the first to see it", but "cad twenty one of the third" is a date
        hits.append((m.start(1), m.end(1), "DATE", 0.75))
    for m in _TO_PAST.finditer(text):
        hits.append((m.start(), m.end(), "TIME", 0.85))
    for m in _HOUR_AMPM.finditer(text):
        hits.append((m.start(), m.end(), "TIME", 0.9))
    for m in _HUNDRED.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()]
        if m.group().lower().endswith("hours") or _TIME_CUE.search(before) or m.group()[:2].lower() in ("oh", "ze"):
            hits.append((m.start(), m.end(), "TIME", 0.85))
    for m in _MIDNIGHT.finditer(text):
        hits.append((m.start(1), m.end(1), "TIME", 0.6))
    for rx in (_GONE_HOUR, _HOUR_OF_DAY):
        for m in rx.finditer(text):
            hits.append((m.start(1), m.end(1), "TIME", 0.7))
    return hits
