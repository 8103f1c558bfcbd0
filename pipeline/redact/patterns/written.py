"""Pattern layer, written forms: phones, emails, URLs, handles, postcodes, NI numbers, registrations, references,
numeric dates, clock times, flats; and the word lists the spoken forms share (count nouns, identifier cues)."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
# Northern Irish registrations keep the dateless form, their letters always holding an I or a Z: "AKZ 4471".
_REG_NI = re.compile(r"\b(?!MI\s?[56]\b)[A-Z]{1,2}[IZ]\s?\d{1,4}\b")
_CRIME_REF = re.compile(r"\b(?:[A-Z]{1,4}\s?/\s?)?\d{1,4}\s?/\s?\d{2,}(?:\s?/\s?\d{2,7})?\b", _I)
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
           "ni number", "account number", "sort code", "case reference", "storm number", "storm log", "pin",
           "ended in", "ending in", "ends in", "last four digits", "last four", "card number", "long number",
           "passport number", "licence number", "driving licence number", "student number", "staff number",
           "employee number", "payroll number", "membership number", "policy number", "tracking number", "niche",
           "athena", "niche number", "athena number", "niche reference", "athena reference", "pnc number",
           "ticket number", "job reference", "report number")
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
    hits += _vehicles(text)
    hits += _references_and_dates(text)
    hits += _finditer(_ISO_DATE, text, "DATE", 0.95)
    hits += _finditer(_FLAT, text, "ADDRESS", 0.9)
    times = _times(text)
    hits += times
    clock_spans = [(s, e) for s, e, *_ in times]
    hits += _numbers(text, [(s, e) for s, e, *_ in hits], clock_spans)
    return hits


def _vehicles(text: str) -> list[Hit]:
    hits: list[Hit] = [(m.start(), m.end(), "VEHICLE", 0.9) for m in _REG_CURRENT.finditer(text)]
    for m in _REG_OLD.finditer(text):
        word = m.group()
        if sum(c.isupper() for c in word) == sum(c.isalpha() for c in word) and not word.isdigit():
            hits.append((m.start(), m.end(), "VEHICLE", 0.7))  # old formats only in capitals, else by cue
    hits += [(m.start(), m.end(), "VEHICLE", 0.7) for m in _REG_NI.finditer(text)]
    return hits


def _references_and_dates(text: str) -> list[Hit]:
    """Crime references ("NT/22/45127") and numeric dates ("3/4/21"): a valid date is not a reference."""
    hits: list[Hit] = []
    for m in _CRIME_REF.finditer(text):
        if _NUM_DATE.fullmatch(m.group()) and _valid_date(_NUM_DATE.fullmatch(m.group())):
            continue
        if "/" in m.group() and _digit_count(m.group()) >= 5:
            hits.append((m.start(), m.end(), "ID", 0.95))
    for m in _NUM_DATE.finditer(text):
        if _valid_date(m):
            hits.append((m.start(), m.end(), "DATE", 0.95))
    return hits


def _times(text: str) -> list[Hit]:
    """"7pm", "19:30", "at 7.30": with a dot and no am/pm, only after a time word, and never a price ("£7.30")."""
    times = list(_finditer(_AMPM, text, "TIME", 0.95))
    for m in _CLOCK.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()].lower()
        if (":" in m.group() or re.search(r"(?:am|pm|m\.)$", m.group(), _I) or re.search(
            r"\b(?:at|about|around|by|until|till|from|gone|before|after|past)\s+$", before
        )) and not before.rstrip().endswith(("£", "$", "€")):
            times.append((m.start(), m.end(), "TIME", 0.9))
    return times


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
        if nxt and (nxt.group(1) in COUNT_NOUNS or nxt.group(1) in ("act", "acts", "regulations", "order", "bill")):
            continue  # "the 2015 Act" names a law, not a date of anyone's life
        hits.append((s, e, "DATE", 0.85))
    return hits
