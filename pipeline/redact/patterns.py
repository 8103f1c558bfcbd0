"""Pattern layer: identifiers with a shape (phones, emails, references, dates, ages...), written or spoken.

Works case-insensitively; speech-to-text gives "oh seven seven double four ...", "jessica dot harper at hotmail dot
co dot uk", "the third of march twenty twenty one" as often as digits and symbols.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.redact.base import MONTHS, NUMBER_WORDS, WEEKDAYS, Token, stop_words, tokenize

Hit = tuple[int, int, str, float]  # start, end, label, confidence

_I = re.IGNORECASE

# --- written forms -------------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", _I)
_TLD = r"(?:com|co\.uk|org\.uk|uk|org|net|io|me|ly|tv|info|biz|gov\.uk|police\.uk|ac\.uk|nhs\.uk|co|app|xxx|ie)"
_URL = re.compile(rf"(?:https?://|www\.)[^\s,;)\"']+|(?<![@\w.-])(?:[\w-]+\.)+{_TLD}(?:/[^\s,;)\"']*)?(?![\w.])", _I)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
_UNDERSCORED = re.compile(r"(?<![\w@])[A-Za-z0-9]+(?:_[A-Za-z0-9]*)+[A-Za-z0-9]*(?![\w@])")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", _I)
_NI = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", _I)
_REG_CURRENT = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b", _I)
_REG_OLD = re.compile(r"\b(?:[A-Z]\d{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?\d{1,3}\s?[A-Z])\b", _I)
_CRIME_REF = re.compile(r"\b(?:[A-Z]{1,4}\s?/\s?)?\d{1,4}\s?/\s?\d{2,}(?:\s?/\s?\d{2,4})?\b", _I)
_NUM_DATE = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})\b")
_ISO_DATE = re.compile(r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b")
_DIGITS = re.compile(r"(?<![\w£$€])\+?\(?\d(?:[\d\s\-.()]*\d)?")
_YEAR = re.compile(r"(?<![\w£$€/.])(?:19[3-9]\d|20[0-4]\d)(?:'?s)?(?![\w/])")
_CLOCK = re.compile(r"\b(?:[01]?\d|2[0-3])[:.][0-5]\d(?:\s?(?:am|pm|a\.m\.|p\.m\.))?(?!\.?\d)", _I)
_AMPM = re.compile(r"\b(?:1[0-2]|0?[1-9])(?:[:.][0-5]\d)?\s?(?:am|pm|a\.m\.|p\.m\.)(?![\w])", _I)
_FLAT = re.compile(r"\b(?:flat|apartment|apt|unit)\s+\d{1,4}[a-z]?\b", _I)

_STREET_SUFFIX = ("street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "close", "crescent", "way",
                  "grove", "gardens", "place", "terrace", "court", "mews", "hill", "walk", "row", "square", "view",
                  "rise", "green", "parade", "wharf", "vale", "fold", "croft", "gate", "bank", "boulevard", "park",
                  "estate", "towers", "house", "drove", "passage", "yard")
_ONE_WORD_STREET = re.compile(r"[a-z]+(?:way|gate|gardens|field|fields|side|wood|dale|hill|croft|moor|bank|stone)$")

COUNT_NOUNS = frozenset([
    "people", "persons", "person", "officers", "officer", "cops", "victims", "cases", "case", "reports", "report",
    "jobs", "crimes", "offences", "images", "image", "photos", "photo", "pictures", "picture", "pics", "videos",
    "video", "messages", "message", "texts", "calls", "followers", "views", "likes", "times", "minutes", "minute",
    "hours", "hour", "days", "day", "weeks", "week", "months", "month", "years", "percent", "per", "pounds", "quid",
    "grand", "k", "million", "thousand", "hundred", "miles", "mile", "kids", "children", "girls", "boys", "lads",
    "women", "men", "members", "staff", "screenshots", "accounts", "posts", "quid", "pence", "p", "mg"
])
ID_CUES = ("collar number", "collar no", "collar", "shoulder number", "warrant number", "warrant card number",
           "badge number", "crime number", "crime reference", "crime ref", "crime reference number", "reference number",
           "reference", "ref", "ref number", "incident number", "incident", "log number", "log", "cad", "cad number",
           "occurrence number", "occurrence", "case number", "urn", "job number", "custody number",
           "custody record", "exhibit number", "pnc id", "pnc number", "nhs number", "national insurance number",
           "ni number", "account number", "sort code", "case reference", "storm number", "storm log", "pin")
_RANK_FOR_NUMBER = ("pc", "wpc", "pcso", "ps", "sgt", "dc", "ds", "special", "officer", "sc")


def _finditer(rx: re.Pattern[str], text: str, label: str, conf: float) -> Iterator[Hit]:
    for m in rx.finditer(text):
        s, e = m.span()
        while e > s and text[e - 1] in ".,;:!?)":
            e -= 1
        if e > s:
            yield (s, e, label, conf)


def _digit_count(s: str) -> int:
    return sum(c.isdigit() for c in s)


def written(text: str) -> list[Hit]:
    hits: list[Hit] = []
    hits += _finditer(_EMAIL, text, "EMAIL", 0.99)
    emails = [(s, e) for s, e, *_ in hits]
    for s, e, lab, c in _finditer(_URL, text, "URL", 0.95):
        if not any(a <= s < b for a, b in emails):
            hits.append((s, e, lab, c))
    hits += _finditer(_HANDLE, text, "HANDLE", 0.95)
    hits += _finditer(_UNDERSCORED, text, "HANDLE", 0.9)
    hits += _finditer(_NI, text, "ID", 0.97)
    for m in _POSTCODE.finditer(text):
        hits.append((m.start(), m.end(), "POSTCODE", 0.95))
    for m in _REG_CURRENT.finditer(text):
        hits.append((m.start(), m.end(), "VEHICLE", 0.9))
    for m in _REG_OLD.finditer(text):
        word = m.group()
        if sum(c.isupper() for c in word) == sum(c.isalpha() for c in word) and not word.isdigit():
            hits.append((m.start(), m.end(), "VEHICLE", 0.7))  # old formats only in capitals, else by cue
    for m in _CRIME_REF.finditer(text):
        if _NUM_DATE.fullmatch(m.group()) and _valid_date(_NUM_DATE.fullmatch(m.group())):
            continue
        if "/" in m.group() and _digit_count(m.group()) >= 5:
            hits.append((m.start(), m.end(), "ID", 0.95))
    for m in _NUM_DATE.finditer(text):
        if _valid_date(m):
            hits.append((m.start(), m.end(), "DATE", 0.95))
    hits += _finditer(_ISO_DATE, text, "DATE", 0.95)
    hits += _finditer(_FLAT, text, "ADDRESS", 0.9)
    times = list(_finditer(_AMPM, text, "TIME", 0.95))
    for m in _CLOCK.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()].lower()
        if (":" in m.group() or re.search(r"(?:am|pm|m\.)$", m.group(), _I) or re.search(
            r"\b(?:at|about|around|by|until|till|from|gone|before|after|past)\s+$", before
        )) and not before.rstrip().endswith(("£", "$", "€")):
            times.append((m.start(), m.end(), "TIME", 0.9))
    hits += times
    clock_spans = [(s, e) for s, e, *_ in times]
    hits += _numbers(text, [(s, e) for s, e, *_ in hits], clock_spans)
    return hits


def _valid_date(m: re.Match[str]) -> bool:
    a, b = int(m.group(1)), int(m.group(2))
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


def _numbers(text: str, taken: list[tuple[int, int]], clocks: list[tuple[int, int]]) -> list[Hit]:
    """Digit runs: phone numbers, long references, years."""
    hits: list[Hit] = []
    for m in _DIGITS.finditer(text):
        s, e = m.span()
        raw = m.group()
        while e > s and not text[e - 1].isdigit():
            e -= 1
        raw = text[s:e]
        if any(a <= s < b or a < e <= b for a, b in clocks):
            continue
        digits = re.sub(r"\D", "", raw)
        after = text[e : e + 12].lower()
        before = text[max(0, s - 2) : s]
        if re.match(r"\s*(?:,\d{3}|pounds|quid|grand|k\b|%|percent|per cent)", after) or "£" in before:
            continue
        if raw.startswith("+44") or (digits.startswith("44") and raw.startswith("+")):
            hits.append((s, e, "PHONE", 0.97))
        elif digits.startswith("0") and 10 <= len(digits) <= 11:
            hits.append((s, e, "PHONE", 0.95))
        elif len(digits) >= 6 and not re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
            label = "PHONE" if digits.startswith("0") and len(digits) >= 9 else "ID"
            hits.append((s, e, label, 0.9))
    for m in _YEAR.finditer(text):
        s, e = m.span()
        if any(a <= s < b for a, b in taken):
            continue
        nxt = re.match(r"\s*([a-z]+)", text[e:].lower())
        if nxt and nxt.group(1) in COUNT_NOUNS:
            continue
        hits.append((s, e, "DATE", 0.85))
    return hits


# --- spoken forms --------------------------------------------------------------------------------------------------
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


def spoken(text: str) -> list[Hit]:
    ws = _Words(text)
    hits: list[Hit] = []
    n = len(ws)
    i = 0
    while i < n:
        w = ws.at(i)
        # Dates: "[weekday] [the] third [of] march [2021]", "march [the] 3rd [2021]", "march 2019", "in march".
        k = i
        if w in WEEKDAYS:
            k += 1
            if ws.at(k) == "the":
                k += 1
        elif w == "the":
            k += 1
        used = _ordinal(ws, k)
        if used:
            m = k + used
            if ws.at(m) == "of":
                m += 1
            if _month(ws.at(m)):
                end = m + 1
                end += _year_at(ws, end)
                start = i if (w in WEEKDAYS or w != "the") else i + 1
                hits.append((*ws.span(start, end), "DATE", 0.95))
                i = end
                continue
        if _month(w) and (w not in ("jan", "dec", "sep", "oct", "nov", "aug", "apr", "jun", "jul", "feb")
                          or _ordinal(ws, i + 1) or _year_at(ws, i + 1)):
            end = i + 1
            if ws.at(end) == "the" and _ordinal(ws, end + 1):
                end += 1 + _ordinal(ws, end + 1)
            elif _ordinal(ws, end) and not ws.at(end).isalpha():
                end += 1
            year = _year_at(ws, end)
            end += year
            ambiguous = w in ("may", "march")
            if not ambiguous or end > i + 1 or ws.at(i - 1) in _MONTH_CONTEXT or _may_is_month(ws, i):
                hits.append((*ws.span(i, end), "DATE", 0.9 if not ambiguous or end > i + 1 else 0.7))
                i = end
                continue
        for hol in _HOLIDAYS:
            if tuple(ws.w[i : i + len(hol)]) == hol:
                end = i + len(hol)
                end += _year_at(ws, end)
                hits.append((*ws.span(i, end), "DATE", 0.85))
                i = end - 1
                break
        else:
            y = _spoken_year(ws, i)
            if y and ws.at(i + y) not in COUNT_NOUNS:
                hits.append((*ws.span(i, i + y), "DATE", 0.8))
                i += y
                continue
            # "on the 3rd", "of the 12th": a day number on its own
            if w in ("on", "of", "from", "since", "until", "till", "by") and ws.at(i + 1) == "the" and re.fullmatch(
                r"(?:[12]?\d|3[01])(?:st|nd|rd|th)", ws.at(i + 2)
            ):
                hits.append((*ws.span(i + 2, i + 3), "DATE", 0.8))
        i += 1
    hits += _spoken_times(ws)
    hits += _ages(ws)
    hits += _spoken_digits(ws)
    hits += _spoken_email(ws)
    hits += _cued(ws)
    hits += _spoken_handles(ws)
    hits += _addresses(ws)
    return hits


def _may_is_month(ws: _Words, i: int) -> bool:
    """A bare "May" at a sentence end or before a comma is the month ("it was May, I think")."""
    w = ws.toks[i].text
    after = ws.text[ws.toks[i].end : ws.toks[i].end + 2]
    return w[0].isupper() and i > 0 and bool(re.match(r"\s*[,.]", after)) and ws.at(i - 1) in ("was", "is", "in")


def _spoken_times(ws: _Words) -> list[Hit]:
    hits: list[Hit] = []
    n = len(ws)
    for i in range(n):
        w, n1 = ws.at(i), ws.at(i + 1)
        if w in ("half", "quarter") and n1 in ("past", "to") and (ws.at(i + 2) in _HOURS or ws.at(i + 2).isdigit()):
            hits.append((*ws.span(i, i + 3), "TIME", 0.9))
        elif w == "half" and n1 in _HOURS and ws.at(i - 1) in ("at", "about", "around", "till", "until", "by",
                                                                 "gone", "from", "like", "was", "before", "after"):
            hits.append((*ws.span(i, i + 2), "TIME", 0.85))
        elif (w in _HOURS or re.fullmatch(r"1[0-2]|0?[1-9]", w)) and n1 in ("o'clock", "oclock"):
            hits.append((*ws.span(i, i + 2), "TIME", 0.9))
        elif w in _HOURS or re.fullmatch(r"1[0-2]|0?[1-9]", w):
            k = i + 1
            if ws.at(k) in _TENS or ws.at(k) in _TEENS or ws.at(k) in ("oh", "o"):
                k += 1
                if ws.at(k) in _UNITS:
                    k += 1
            if ws.at(k) in ("am", "pm") or (ws.at(k) == "p" and ws.at(k + 1) == "m"):
                hits.append((*ws.span(i, k + (2 if ws.at(k) == "p" else 1)), "TIME", 0.9))
            elif (ws.w[k : k + 3] in (["in", "the", "morning"], ["in", "the", "afternoon"], ["in", "the", "evening"])
                  or ws.w[k : k + 2] == ["at", "night"]) and ws.at(i - 1) in _TIME_BEFORE:
                hits.append((*ws.span(i, k), "TIME", 0.8))
    return hits


_TIME_BEFORE = frozenset({"at", "about", "around", "till", "until", "by", "gone", "past", "from", "til"})
_AGE_SUBJECT_SKIP = frozenset({"it", "that", "this", "there", "which", "what", "number", "time", "score", "there's",
                               "it's", "that's"})
_AGE_VERB = ("was", "were", "is", "are", "am", "'m", "turned", "turning", "be", "been", "aged", "age")


def _age_number(ws: _Words, i: int) -> int:
    """Tokens used by an age 1-99 at i ("sixteen", "twenty two", "16")."""
    w = ws.at(i)
    if re.fullmatch(r"[1-9]\d?", w):
        return 1
    if w in _TEENS or (w in _UNITS and w not in ("oh", "o", "zero", "nought")):
        return 1
    if w in _TENS:
        return 2 if ws.at(i + 1) in _UNITS - {"oh", "o", "zero", "nought"} else 1
    return 0


def _ages(ws: _Words) -> list[Hit]:
    hits: list[Hit] = []
    n = len(ws)
    for i in range(n):
        ws.at(i)
        used = _age_number(ws, i)
        if not used:
            continue
        after = ws.at(i + used)
        if i + used < n and re.match(r"[/.:,]\d|/", ws.gap(i + used)):
            continue  # part of a reference or a time
        if after in ("year", "years", "yr", "yrs") and ws.at(i + used + 1) == "old":
            hits.append((*ws.span(i, i + used), "AGE", 0.95))
            continue
        if after in ("year", "years") and ws.gap(i + used).strip() == "-" and ws.at(i + used + 1) == "old":
            hits.append((*ws.span(i, i + used), "AGE", 0.95))
            continue
        prev = ws.at(i - 1)
        k = i - 1
        while prev in ("only", "just", "about", "nearly", "barely", "around", "like", "literally", "still", "already",
                       "probably", "maybe", "almost"):
            k -= 1
            prev = ws.at(k)
        if prev in ("aged", "age") or (prev == "of" and ws.at(k - 1) == "age"):
            hits.append((*ws.span(i, i + used), "AGE", 0.9))
            continue
        subj = ws.at(k - 1)
        contracted = prev in ("i'm", "he's", "she's", "they're", "we're", "you're")
        if not (prev in _AGE_VERB or contracted) or (not contracted and (subj in _AGE_SUBJECT_SKIP or not subj)):
            continue
        if after in COUNT_NOUNS or after in ("of", "o'clock", "oclock", "am", "pm", "times", "out", "or", "past",
                                             "percent", "per", "hundred", "thousand", "million", "grand", "quid"):
            continue
        if ws.at(i + used) in ("in", "the") and ws.at(i + used + 1) in ("the", "morning", "night", "evening"):
            continue  # "was two in the morning" is a time
        hits.append((*ws.span(i, i + used), "AGE", 0.85))
    return hits


def _spoken_digits(ws: _Words) -> list[Hit]:
    hits: list[Hit] = []
    i, n = 0, len(ws)
    while i < n:
        used, digits = _spoken_number(ws, i)
        if used >= 2 and any(not ws.at(k).isdigit() for k in range(i, i + used)):
            first = ws.at(i)
            plus44 = ws.at(i - 1) == "plus"  # "plus four four seven ..."
            zero = first in ("oh", "zero", "nought") or first.startswith("0")
            if (zero and digits >= 9) or (plus44 and digits >= 10):
                hits.append((*ws.span(i - (1 if ws.at(i - 1) == "plus" else 0), i + used), "PHONE", 0.9))
            elif digits >= 6 and used >= 4:
                hits.append((*ws.span(i, i + used), "ID", 0.8))
            i += used
            continue
        i += max(used, 1)
    return hits


_EMAIL_TLDS = {"com", "co", "uk", "org", "net", "ac", "gov", "police", "nhs", "io", "me", "ie"}


def _spoken_email(ws: _Words) -> list[Hit]:
    """"jessica dot harper at hotmail dot co dot uk"; also "exposed dot com" (a URL)."""
    hits: list[Hit] = []
    n = len(ws)
    for i in range(n):
        if ws.at(i) != "dot" or ws.at(i + 1) not in _EMAIL_TLDS:
            continue
        if i >= 1 and ws.at(i - 1) == "dot":
            continue
        end = i + 2
        while ws.at(end) == "dot" and ws.at(end + 1) in _EMAIL_TLDS:
            end += 2
        # walk back over "<word> (dot|underscore) <word>" to the start of the domain / local part
        k = i - 1
        while k - 2 >= 0 and ws.at(k - 1) in ("dot", "underscore", "dash", "hyphen"):
            k -= 2
        label = "URL"
        if ws.at(k - 1) == "at" and k - 2 >= 0:
            label = "EMAIL"
            k -= 2
            while k - 2 >= 0 and ws.at(k - 1) in ("dot", "underscore", "dash", "hyphen"):
                k -= 2
        if k < 0 or ws.at(k) in ("the", "a", "is", "was", "it"):
            continue
        if label == "URL" and any(ws.span(k, end)[0] < e and s < ws.span(k, end)[1] for s, e, *_ in hits):
            continue
        hits.append((*ws.span(k, end), label, 0.9))
    return hits


STOP = stop_words()
_HANDLE_CUES = ("snap", "snapchat", "insta", "instagram", "tiktok", "twitter", "facebook", "telegram", "kik",
                "discord", "reddit", "username", "user name", "handle", "gamertag", "onlyfans", "only fans", "x")
_ID_CUE_TOKENS = [tuple(c.split()) for c in sorted(ID_CUES, key=lambda c: -len(c.split()))]
_REG_AFTER_CUE = re.compile(r"(?:\s|was|is|number|it's|erm|like|:)*\s*([A-Z]{2}\d{2}\s?[A-Z]{3}|[A-Z]\d{1,3}\s?[A-Z]{3}"
                            r"|[A-Z]{3}\s?\d{1,3}\s?[A-Z]?)\b", _I)
_REG_CUES = (("reg",), ("registration",), ("reg", "number"), ("registration", "number"), ("number", "plate"),
             ("plate",), ("plates",), ("vrm",))


def _cued(ws: _Words) -> list[Hit]:
    """Identifiers recognised by the words before them: references, collar numbers, handles, registrations."""
    hits: list[Hit] = []
    n = len(ws)
    for i in range(n):
        # "collar number 4471", "CAD 3391", "crime reference was NT/22/45127", "PC 2231"
        cue = next((c for c in _ID_CUE_TOKENS if tuple(ws.base[i : i + len(c)]) == c), None)  # "number's 2231"
        rank = ws.at(i) in _RANK_FOR_NUMBER
        if cue or rank:
            k = i + (len(cue) if cue else 1)
            if not rank:  # "collar number back then was 4471": a few words may come between
                for _ in range(4):
                    if ws.at(k).isalpha() and ws.at(k) not in NUMBER_WORDS and ws.at(k) not in ("double", "triple"):
                        k += 1
                    else:
                        break
            used, digits = _spoken_number(ws, k)
            if used and digits >= (2 if not rank else 3) and (not rank or ws.at(k).isdigit() or used >= 3):
                hits.append((*ws.span(k, k + used), "ID", 0.9))
            elif cue and k < n and re.fullmatch(r"[a-z]{0,4}\d[\w/]*", ws.at(k)) and ws.at(k) not in ("1", "2"):
                hits.append((*ws.span(k, k + 1), "ID", 0.85))
        # "his snap is jay underscore b ninety nine", "her instagram is ellie underscore rose"
        if ws.at(i) in _HANDLE_CUES and ws.at(i - 1) in ("his", "her", "my", "their", "your", "called"):
            k = i + 1
            while ws.at(k) in ("name", "handle", "username", "account", "is", "was", "were", "called", "as", "it's",
                               "erm", "like", "just", "at"):
                k += 1
            if k < n and ws.at(k) not in ("private", "public", "deleted", "gone", "blocked", "down", "hacked", "fake",
                                          "full", "off") and (ws.at(k) not in STOP or ws.at(k + 1) == "underscore"):
                end = k + 1
                while ws.at(end) in ("underscore", "dot", "dash", "hyphen") and end + 1 < n:
                    end += 2
                used, _ = _spoken_number(ws, end)
                end += used
                if ws.gap(k) and "." not in ws.gap(k):
                    hits.append((*ws.span(k, end), "HANDLE", 0.8))
        # "reg number ab12 cde", "his reg was r467 kpm"
        reg = next((c for c in _REG_CUES if tuple(ws.w[i : i + len(c)]) == c), None)
        if reg:
            tail = ws.text[ws.toks[i + len(reg) - 1].end :]
            m = _REG_AFTER_CUE.match(tail)
            if m:
                off = ws.toks[i + len(reg) - 1].end
                hits.append((off + m.start(1), off + m.end(1), "VEHICLE", 0.85))
        # "postcode is ls6" (outward code alone)
        if ws.at(i) == "postcode":
            k = i + 1
            while ws.at(k) in ("was", "is", "it's", "erm"):
                k += 1
            if re.fullmatch(r"[a-z]{1,2}\d[a-z\d]?", ws.at(k)):
                end = k + 1
                if re.fullmatch(r"\d[a-z]{2}", ws.at(end)):
                    end += 1
                hits.append((*ws.span(k, end), "POSTCODE", 0.9))
    return hits


def _spoken_handles(ws: _Words) -> list[Hit]:
    """"paige underscore exposed", "tommo underscore ninety eight": a spoken underscore joins a username."""
    hits: list[Hit] = []
    i, n = 0, len(ws)
    while i < n:
        if ws.at(i + 1) == "underscore" and i + 2 < n and ws.at(i) not in STOP:
            end = i + 1
            while ws.at(end) == "underscore" and end + 1 < n:
                end += 2
            end += _spoken_number(ws, end)[0]
            hits.append((*ws.span(i, end), "HANDLE", 0.85))
            i = end
            continue
        i += 1
    return hits


def _addresses(ws: _Words) -> list[Hit]:
    """"14 Elm Grove", "22 raglan road", "41 kingsway": a house number and a street."""
    hits: list[Hit] = []
    n = len(ws)
    for i in range(n):
        if not re.fullmatch(r"\d{1,4}[a-z]?", ws.at(i)) or ws.at(i - 1) in ("the", "a", "about", "over", "of"):
            continue
        if i + 1 >= n or ws.at(i + 1)[0].isdigit() or re.search(r"[,.;]", ws.gap(i + 1)):
            continue
        for k in range(i + 2, min(i + 5, n + 1)):
            words = ws.w[i + 1 : k]
            if any(w in ("and", "or", "the", "of", "in", "to", "years", "people") for w in words[:-1]):
                break
            if words[-1] in _STREET_SUFFIX and len(words) >= 2:
                hits.append((*ws.span(i, k), "ADDRESS", 0.9))
                break
            if len(words) == 1 and _ONE_WORD_STREET.fullmatch(words[0]) and words[0] not in COUNT_NOUNS:
                hits.append((*ws.span(i, k), "ADDRESS", 0.75))
                break
    return hits


def find(text: str) -> list[Hit]:
    """Every pattern hit in `text` (overlaps allowed; the caller merges)."""
    return written(text) + spoken(text)
