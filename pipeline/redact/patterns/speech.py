"""Pattern layer, spoken forms: dates, times, ages, digit strings and e-mail addresses said in words."""

from __future__ import annotations

import re

from pipeline.redact import wordnames
from pipeline.redact.base import WEEKDAYS, is_common, stop_words
from pipeline.redact.patterns.words import (
    _HOLIDAYS,
    _HOURS,
    _MONTH_CONTEXT,
    _ORDINALS,
    _TEENS,
    _TENS,
    _UNITS,
    _month,
    _ordinal,
    _spoken_number,
    _spoken_year,
    _Words,
    _year_at,
)
from pipeline.redact.patterns.written import COUNT_NOUNS, Hit


def spoken_forms(ws: _Words) -> list[Hit]:
    hits: list[Hit] = []
    i = 0
    while i < len(ws):
        found = _date_at(ws, i)
        if found:
            hit, i = found
            hits.append(hit)
        else:
            i += 1
    hits += _spoken_times(ws)
    hits += _roads(ws)
    hits += _ages(ws)
    hits += _spoken_digits(ws)
    hits += _spoken_email(ws)
    return hits


# A spoken date at token i, and the token to go on from; the forms are tried in this order.
_Found = tuple[Hit, int] | None


def _date_at(ws: _Words, i: int) -> _Found:
    return (_ordinal_date(ws, i) or _month_date(ws, i) or _holiday(ws, i) or _spoken_year_at(ws, i)
            or _day_number(ws, i))


def _ordinal_date(ws: _Words, i: int) -> _Found:
    """"[weekday] [the] third [of] march [2021]"."""
    w = ws.at(i)
    k = i
    if w in WEEKDAYS:
        k += 1
        if ws.at(k) == "the":
            k += 1
    elif w == "the":
        k += 1
    used = _ordinal(ws, k)
    if not used:
        return None
    m = k + used
    if ws.at(m) == "of":
        m += 1
    if not _month(ws.at(m)):
        if w in WEEKDAYS and ws.at(i + 1) == "the":  # "monday the eighth"
            return (*ws.span(i, k + used), "DATE", 0.85), k + used
        return None
    end = m + 1
    end += _year_at(ws, end)
    start = i if (w in WEEKDAYS or w != "the") else i + 1
    return (*ws.span(start, end), "DATE", 0.95), end


def _month_date(ws: _Words, i: int) -> _Found:
    """"march [the] 3rd [2021]", "march 2019", "in march"."""
    w = ws.at(i)
    if not (_month(w) and (w not in ("jan", "dec", "sep", "oct", "nov", "aug", "apr", "jun", "jul", "feb")
                           or _ordinal(ws, i + 1) or _year_at(ws, i + 1))):
        return None
    end = i + 1
    if ws.at(end) == "the" and _ordinal(ws, end + 1):
        end += 1 + _ordinal(ws, end + 1)
    elif _ordinal(ws, end) and not ws.at(end).isalpha():
        end += 1
    year = _year_at(ws, end)
    end += year
    ambiguous = w in ("may", "march")
    if w == "may" and end == i + 1 and ws.at(i - 1) in ("that", "about", "around") and wordnames.ordinary_use(
            ws.w, i):
        return None  # "that may well be true", "about may be"
    if not ambiguous or end > i + 1 or ws.at(i - 1) in _MONTH_CONTEXT or _may_is_month(ws, i):
        return (*ws.span(i, end), "DATE", 0.9 if not ambiguous or end > i + 1 else 0.7), end
    return None


def _holiday(ws: _Words, i: int) -> _Found:
    for hol in _HOLIDAYS:
        if tuple(ws.w[i : i + len(hol)]) == hol:
            end = i + len(hol)
            end += _year_at(ws, end)
            return (*ws.span(i, end), "DATE", 0.85), end
    return None


def _spoken_year_at(ws: _Words, i: int) -> _Found:
    y = _spoken_year(ws, i)
    if y and ws.at(i + y) not in COUNT_NOUNS:
        return (*ws.span(i, i + y), "DATE", 0.8), i + y
    return None


def _day_number(ws: _Words, i: int) -> _Found:
    """"on the 3rd", "of the 12th": a day number on its own."""
    if ws.at(i) in ("on", "of", "from", "since", "until", "till", "by") and ws.at(i + 1) == "the" and re.fullmatch(
        r"(?:[12]?\d|3[01])(?:st|nd|rd|th)", ws.at(i + 2)
    ):
        return (*ws.span(i + 2, i + 3), "DATE", 0.8), i + 1
    return None


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
        elif w == "half" and (n1 in _HOURS or re.fullmatch(r"1[0-2]|0?[1-9]", n1)) and \
                _after_cue(ws, i, _HALF_BEFORE) and ws.at(i + 2) not in ("percent", "hours", "an", "a") and \
                not (ws.at(i + 2) == "of" and ws.at(i + 3) in ("them", "the", "those", "these", "us", "you", "it")):
            hits.append((*ws.span(i, i + 2), "TIME", 0.85))  # "at half eleven", "like maybe half eleven"
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
            elif k > i + 1 and _minutes(ws, i + 1, k) and ws.at(i - 1) in _TIME_BEFORE | {"started", "finished",
                                                                                          "ended", "was"} \
                    and ws.at(k) not in COUNT_NOUNS | {"pounds", "quid", "grand", "percent", "of"}:
                hits.append((*ws.span(i, k), "TIME", 0.8))  # "at eight thirty", "about nine fifteen"
            elif (ws.w[k : k + 3] in (["in", "the", "morning"], ["in", "the", "afternoon"], ["in", "the", "evening"])
                  or ws.w[k : k + 2] == ["at", "night"]) and ws.at(i - 1) not in _COUNTED:
                # "two in the morning" is an hour, cued or not ("early starts like four in the morning")
                hits.append((*ws.span(i, k), "TIME", 0.8 if _after_cue(ws, i, _TIME_BEFORE) else 0.6))
            elif k == i + 1 and re.fullmatch(r"1[0-2]|0?[1-9]", w) and _after_cue(ws, i, _HOUR_BEFORE) and \
                    (i + 1 == n or re.match(r"\s*[.,;!?]", ws.gap(i + 1))):
                hits.append((*ws.span(i, i + 1), "TIME", 0.6))  # Whisper's "out by 3.", "after 11."
    return hits


_ROAD_NOT_AFTER = frozenset({"paper", "sheet", "sheets", "size", "envelope", "grade", "grades", "level", "levels",
                             "team", "list", "road"})


def _roads(ws: _Words) -> list[Hit]:
    """"the A644", "the a six four four", "the m six": a numbered road places someone; after "the" only, so a
    vitamin, a paper size or an "a" that is an article stays."""
    hits: list[Hit] = []
    for i in range(len(ws) - 2):
        if ws.at(i) != "the":
            continue
        w = ws.at(i + 1)
        if re.fullmatch(r"[amb]\d{1,4}", w) and ws.at(i + 2) not in _ROAD_NOT_AFTER:
            hits.append((*ws.span(i + 1, i + 2), "LOCATION", 0.8))
            continue
        if w not in ("a", "m", "b"):
            continue
        k = i + 2
        while k < len(ws) and k - i - 2 < 4 and (ws.at(k) in _UNITS or ws.at(k) in _TEENS or ws.at(k) in _TENS) and \
                ws.at(k) not in ("zero", "nought") and not re.search(r"[.,;?!]", ws.gap(k)):
            k += 1
        if k > i + 2 and ws.at(k) not in _ROAD_NOT_AFTER and ws.at(k) not in COUNT_NOUNS:
            hits.append((*ws.span(i + 1, k), "LOCATION", 0.75))
    return hits


def _minutes(ws: _Words, i: int, k: int) -> bool:
    """Tokens i..k-1 say the minutes of a clock time: "thirty", "fifteen", "forty five", "oh five"."""
    first = ws.at(i)
    if first in ("oh", "o"):
        return k == i + 2
    return first in _TEENS or first in ("twenty", "thirty", "forty", "fifty")


_TIME_BEFORE = frozenset({"at", "about", "around", "till", "until", "by", "gone", "past", "from", "til"})
_HALF_BEFORE = _TIME_BEFORE | {"like", "was", "before", "after"}
_HOUR_BEFORE = frozenset({"at", "by", "after", "gone", "till", "until", "around", "before"})
# "the two in the morning", "only three at night": a count of something, not an hour
_COUNTED = frozenset({"the", "those", "these", "all", "only", "another", "other", "first", "last"})


def _after_cue(ws: _Words, i: int, cues: frozenset[str]) -> bool:
    """A time cue before token i, over up to two hedges ("at maybe two", "about like half eleven")."""
    j = i - 1
    for _ in range(3):
        if ws.at(j) in cues:
            return True
        if ws.at(j) not in _HEDGES:
            return False
        j -= 1
    return False
_AGE_SUBJECT_SKIP = frozenset({"it", "that", "this", "there", "which", "what", "number", "time", "score", "there's",
                               "it's", "that's", "consent", "limit", "threshold", "rating", "total", "count"})
_AGE_VERB = ("was", "were", "is", "are", "am", "'m", "turned", "turning", "turns", "turn", "be", "been", "aged", "age",
             "being")


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
        if re.fullmatch(r"[1-9]\d?yo", ws.at(i)):
            hits.append((*ws.span(i, i + 1), "AGE", 0.9))  # "a 15yo girl"
            continue
        used = _age_number(ws, i)
        if not used:
            continue
        after = ws.at(i + used)
        if i + used < n and re.match(r"[/.:,]\d|/", ws.gap(i + used)):
            continue  # part of a reference or a time
        if after in ("year", "years", "yr", "yrs") and ws.at(i + used + 1) in ("old", "olds"):
            hits.append((*ws.span(i, i + used), "AGE", 0.95))
            continue
        if after in ("year", "years") and ws.gap(i + used).strip() == "-" and ws.at(i + used + 1) == "old":
            hits.append((*ws.span(i, i + used), "AGE", 0.95))
            continue
        if after in ("yo", "y/o"):
            hits.append((*ws.span(i, i + used + 1), "AGE", 0.9))  # "15 yo", "15 y/o"
            continue
        if re.fullmatch(r"\s*\(\s*", ws.gap(i)) and i + used < n and re.match(r"\s*\)", ws.gap(i + used)) and (
                ws.at(i - 1) in _ROLE_NOUNS or (i > 0 and ws.toks[i - 1].text[:1].isupper())):
            hits.append((*ws.span(i, i + used), "AGE", 0.85))  # "the girl (15)", "Aisha (16)"
            continue
        if ws.w[i + used: i + used + 3] == ["at", "the", "time"] and (i == 0 or re.search(r"[,(]", ws.gap(i))):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "Aisha, 16 at the time, didn't tell anyone"
            continue
        prev = ws.at(i - 1)
        k = i - 1
        hedged = ws.at(i - 1) in _HEDGES and re.fullmatch(r"\s*,\s*", ws.gap(i - 1)) and ws.at(i - 2) in _ROLE_NOUNS
        if ((ws.at(i - 1) in _ROLE_NOUNS and re.fullmatch(r"\s*,\s*", ws.gap(i))) or hedged) and (
                i + used >= n or re.match(r"\s*[,.]", ws.gap(i + used))):
            hits.append((*ws.span(i, i + used), "AGE", 0.85))  # "The lad, 19, had shared it"
            continue
        if after in ("something", "plus", "odd", "ish", "summat") and (ws.at(i - 1) in (
                "a", "was", "is", "he's", "she's", "i'm", "about") or (ws.at(i - 1) in (
                "like", "maybe", "older", "younger", "been", "probably") and ws.at(i + used + 1) not in COUNT_NOUNS
                                                                         and not ws.at(i + used + 1).endswith("s"))):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "a forty plus bloke", "he was older like thirty odd"
            continue
        if ws.at(i - 1) in _PERSON_NOUNS and ws.at(i + used) in ("who", "who'd", "who's", "who'll") and \
                _age_value(ws, i, used) >= 10:
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "a woman sixty seven who'd been filmed"
            continue
        if _kids_ages(ws, i, used):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "my two kids, seven and nine"
            continue
        if _life_event_at(ws, i, used):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "married at seventeen", "left school at sixteen"
            continue
        if after in ("years", "yrs") and ws.at(i + used + 1) == "of" and ws.at(i + used + 2) == "age":
            hits.append((*ws.span(i, i + used), "AGE", 0.95))  # "sixteen years of age"
            continue
        if prev == "to" and ws.at(i - 2) == "up" and ws.at(i - 3) in ("coming", "come", "comes", "getting"):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "she's coming up to sixteen"
            continue
        tail = ws.w[i + used: i + used + 4]
        if tail[:2] == ["that", "age"] or (tail[:3] in (["that", "sort", "of"], ["that", "kind", "of"]) and \
                tail[3:4] == ["age"]):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "kids twelve thirteen that sort of age"
            continue
        if _age_before_when(ws, i, used, prev):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "and 26 when I left", "sixteen when it started"
            continue
        if prev == "as" and ws.at(i - 2) in ("young", "old") and ws.at(i - 3) == "as":
            hits.append((*ws.span(i, i + used), "AGE", 0.85))  # "girls as young as eleven"
            continue
        while prev in ("only", "just", "about", "nearly", "barely", "around", "like", "literally", "still", "already",
                       "also",
                       "probably", "maybe", "almost", "both", "gone", "over", "under", "all", "roughly", "what",
                       "approximately", "even", "actually", "really", "apparently", "though", *_FILLERS):
            k -= 1
            prev = ws.at(k)
        if prev == "than" and ws.at(k - 1) in ("more", "less", "older", "younger"):
            k -= 2  # "can't have been more than 25"
            prev = ws.at(k)
        if prev in _PERSON_NOUNS and prev not in ("age", "ages", "someone", "somebody") and \
                _age_value(ws, i, used) >= 8 and _plain_age_after(ws, i + used):
            hits.append((*ws.span(i, i + used), "AGE", 0.75))  # "a lad about nineteen", "boys sixteen seventeen"
            continue
        if prev == "them" and ws.at(k - 1) == "of" and ws.at(k - 2) in ("one", "both", "all", "two", "some") and \
                _age_value(ws, i, used) >= 5 and _plain_age_after(ws, i + used):
            hits.append((*ws.span(i, i + used), "AGE", 0.75))  # "one of them only sixteen at the time"
            continue
        if prev in ("older", "younger", "young") and (k < i - 1 or re.fullmatch(r"\s*,\s*", ws.gap(i))) and \
                after not in COUNT_NOUNS and (after not in ("of", "or") or _age_range_end(ws, i + used + 1)):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "a bit older, about 27"
            continue
        if prev in ("aged", "age") or (prev == "of" and ws.at(k - 1) in _PERSON_NOUNS and after not in COUNT_NOUNS and (
                after not in ("of", "hundred", "or", "and") or ws.at(k - 1) == "ages")):
            hits.append((*ws.span(i, i + used), "AGE", 0.9))
            continue
        if prev == "at" and (after in _PRONOUNS or not after or re.match(r"\s*,", ws.gap(i + used))) and \
                _age_value(ws, i, used) >= 13:
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "at sixteen you don't think"
            continue
        if prev == "between" and ws.at(i + used) == "and" and (ws.at(k - 1) in (*_AGE_VERB, "aged") or (
                ws.at(k - 1) in ("all", "both") and any(ws.at(j) in _PERSON_NOUNS for j in range(k - 8, k - 1)))):
            hits.append((*ws.span(i, i + used), "AGE", 0.85))  # "were between twelve and fourteen"
            continue
        subj = ws.at(k - 1)
        contracted = prev in ("i'm", "he's", "she's", "they're", "we're", "you're", "who's") or (
            prev.endswith("'s") and prev not in _NOT_SUBJECT_S)  # "her brother's only seven"
        if not (prev in _AGE_VERB or contracted) or (not contracted and (subj in _AGE_SUBJECT_SKIP or not subj)):
            continue
        if prev == "be" and subj == "to" and ws.at(k - 2) == "used":
            continue  # "it used to be three or four": a count
        if after == "or" and ws.at(i + used + 1) in ("so", "thereabouts"):
            hits.append((*ws.span(i, i + used), "AGE", 0.8))  # "she'd have been sixteen or so"
            continue
        if after == "or" and _age_number(ws, i + used + 1):  # "about fifteen or sixteen", not "two or three days"
            nxt = i + used + 1 + _age_number(ws, i + used + 1)
            after = ws.at(nxt) if ws.at(nxt) in COUNT_NOUNS or ws.at(nxt) in ("of", "times", "hundred") else ""
        if after.endswith("s") and len(after) > 3 and after not in stop_words() and is_common(after) and \
                after not in ("years", "yrs", "yo", "ish"):
            continue  # "about twelve rooms", "sixteen stones"
        if after in ("stone", "st", "lbs", "kilos", "foot", "feet", "inch", "inches", "metres", "mph"):
            continue  # "sixteen stone of attitude"
        if after in COUNT_NOUNS or after in ("of", "o'clock", "oclock", "am", "pm", "times", "out", "or", "past",
                                             "percent", "per", "hundred", "thousand", "million", "grand", "quid",
                                             "strong", "nil", "all", "points", "goals"):
            continue
        if ws.at(i + used) in ("in", "the") and ws.at(i + used + 1) in ("the", "morning", "night", "evening"):
            continue  # "was two in the morning" is a time
        hits.append((*ws.span(i, i + used), "AGE", 0.85))
    found = _age_pairs(ws, hits) + _decades(ws) + _birthdays(ws)
    return found + _age_pairs(ws, _restated_ages(ws, found))


# Words between an age and the speaker's correction or confirmation of it: "fourteen no fifteen yeah fifteen",
# "in her forties i think forty four", "seventeen maybe just eighteen", "in her 50s, 56".
_RESTATE = frozenset({"no", "yeah", "yes", "sorry", "maybe", "just", "i", "think", "or", "actually", "well", "like",
                      "what",
                      "about", "nearly", "probably", "mean", "wait", "so", "reckon", "guess", "was", "she", "he",
                      "it", "be", "she'd", "he'd", "have", "been", "um", "uh", "er", "erm"})
_DECADE_RANGE = {"teens": (13, 19), "twenties": (20, 29), "thirties": (30, 39), "forties": (40, 49),
                 "fifties": (50, 59), "sixties": (60, 69), "seventies": (70, 79), "eighties": (80, 89)}
_DECADE_DIGITS = {"10s": "teens", "20s": "twenties", "30s": "thirties", "40s": "forties", "50s": "fifties",
                  "60s": "sixties", "70s": "seventies", "80s": "eighties"}


def _restated_ages(ws: _Words, found: list[Hit]) -> list[Hit]:
    starts = {ws.toks[k].start: k for k in range(len(ws))}
    ends = {ws.toks[k].end: k for k in range(len(ws))}
    out: list[Hit] = []
    for s, e, label, conf in found:
        if label != "AGE" or s not in starts or e not in ends:
            continue
        first, last = starts[s], ends[e]
        w = ws.at(last)
        digits = _DECADE_DIGITS.get(re.sub(r"^(?:early|mid|late)-?", "", w), "")
        decade = _DECADE_RANGE.get(w) or _DECADE_RANGE.get(digits)
        if ws.at(first) == "year" and last == first + 1:  # "year eight so twelve or thirteen"
            school = _age_value(ws, last, 1) or (int(w) if w.isdigit() else 0)
            decade = (school + 3, school + 6) if school else None
        elif (ws.at(first) in ("s", "p") and last == first + 1) or re.fullmatch(r"[sp][1-7]", ws.at(first)):
            school = _age_value(ws, last, 1) if last > first else int(ws.at(first)[1])  # "s three so what fourteen"
            offset = 10 if ws.at(first)[0] == "s" else 3
            decade = (school + offset, school + offset + 2) if school else None
        value = _age_value(ws, first, last - first + 1) if not decade else 0
        j = last + 1
        while j < len(ws) and j - last <= 4:
            if re.search(r"[.;?!]", ws.gap(j)):
                break
            used = _age_number(ws, j)
            if used:
                v = _age_value(ws, j, used)
                near = decade[0] <= v <= decade[1] if decade else value and abs(v - value) <= 3
                if near and ws.at(j + used) not in COUNT_NOUNS:
                    out.append((*ws.span(j, j + used), "AGE", conf))
                break
            if ws.at(j) not in _RESTATE:
                break
            j += 1
    return out


_BIRTHDAY_ORDINALS = {**_ORDINALS, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80}


def _birthdays(ws: _Words) -> list[Hit]:
    """"her sixteenth birthday", "his 18th birthday", "my twenty first birthday": the age it marks."""
    hits: list[Hit] = []
    for j in range(1, len(ws)):
        if ws.at(j) not in ("birthday", "birthdays", "bday"):
            continue
        w = ws.at(j - 1)
        if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", w) or w in _BIRTHDAY_ORDINALS:
            start = j - 2 if ws.at(j - 2) in ("twenty", "thirty", "forty", "fifty") and w in _ORDINALS and \
                _ORDINALS[w] < 10 else j - 1
            hits.append((*ws.span(start, j), "AGE", 0.85))
    return hits


# "a girl of fifteen", "a lad of seventeen", "at the age of twelve"
_PERSON_NOUNS = frozenset({"age", "ages", "girl", "boy", "lad", "lass", "kid", "child", "woman", "man", "bloke", "guy",
                           "victim", "daughter", "son", "teenager", "teen", "youngster", "someone", "somebody",
                           "girls", "boys", "lads", "kids", "children", "fella", "fellow", "student", "pupil"})
# A person's description before an age set off by commas: "a retired teacher, 67, ..."
_ROLE_NOUNS = _PERSON_NOUNS | frozenset({
    "teacher", "nurse", "carer", "cleaner", "driver", "mum", "mother", "dad", "father", "wife", "husband", "partner",
    "boyfriend", "girlfriend", "ex", "neighbour", "pensioner", "grandmother", "grandfather", "nan", "grandad",
    "widow", "widower", "colleague", "manager", "stepdad", "stepfather", "stepmum", "uncle", "aunt", "cousin",
    "brother", "sister", "friend", "mate", "suspect", "offender", "perpetrator", "defendant", "complainant",
    "survivor", "worker", "mechanic", "builder", "labourer", "coach", "officer", "soldier", "student", "lecturer",
    "landlord", "tenant", "owner", "trainee", "apprentice", "grandson", "granddaughter", "nephew", "niece",
    "minor", "wean", "bairn", "teenager"})
_FILLERS = ("um", "uh", "er", "erm", "ah", "eh", "mm", "hmm", "uhm")
_HEDGES = frozenset({"like", "maybe", "just", "probably", "roughly", "about", "around", "nearly", "almost", *_FILLERS})
_SCHOOL_NUMBERS = frozenset({"one", "two", "three", "four", "five", "six", "seven"})
_WHEN_SUBJECTS = frozenset({"i", "he", "she", "we", "they", "it", "you", "this", "that", "all"})


_HEDGES = frozenset({"just", "only", "about", "maybe", "probably", "barely", "nearly", "around", "roughly"})
_KIDS = frozenset({"kids", "children", "boys", "girls", "daughters", "sons", "twins", "grandkids", "grandchildren",
                   "bairns", "weans", "lads", "ones"})
# "married at seventeen", "left school at sixteen", "a mum at nineteen", "had her at twenty": a life event's age
_LIFE_EVENTS = frozenset({"married", "pregnant", "engaged", "wed", "school", "home", "mum", "mam", "mother", "dad",
                          "father", "parent", "college", "divorced", "baby"})
_CLOCK_AFTER = frozenset({"o'clock", "oclock", "hundred", "am", "pm", "thirty", "fifteen", "forty",
                          "in", "that", "this", "tonight", "sharp", "ish"})


def _kids_ages(ws: _Words, i: int, used: int) -> bool:
    """"my two kids seven and nine", "two girls, 8 and 10": children's ages listed after them (the pair rule
    takes the second)."""
    k = i - 1
    if ws.at(k) not in _KIDS or re.search(r"[.;?!]", ws.gap(i)):
        return False
    nxt = i + used
    if ws.at(nxt) not in ("and", "or") and not re.fullmatch(r"\s*,\s*", ws.gap(nxt)):
        return False
    j = nxt + 1 if ws.at(nxt) in ("and", "or") else nxt
    more = _age_number(ws, j)
    return bool(more) and ws.at(j + more) not in COUNT_NOUNS and _age_value(ws, i, used) <= 25


def _life_event_at(ws: _Words, i: int, used: int) -> bool:
    if ws.at(i - 1) != "at" or not 13 <= _age_value(ws, i, used) <= 60:
        return False
    before, before2 = ws.at(i - 2), ws.at(i - 3)
    event = before in _LIFE_EVENTS or (before in ("her", "him", "me", "them", "out") and before2 in (
        "had", "having", "moved", "kicked", "chucked"))
    after = ws.at(i + used)
    clock = after in ("past", "to") and _age_number(ws, i + used + 1)  # "at ten to six"
    return event and not clock and after not in _CLOCK_AFTER and after not in COUNT_NOUNS and \
        not _age_number(ws, i + used)


def _age_before_when(ws: _Words, i: int, used: int, prev: str) -> bool:
    """"26 when I left", "sixteen when it started": a number right before "when <subject>" is how old someone was
    then, unless it is a clock time ("at ten when he got in") or a count ("two when they arrived")."""
    if ws.at(i + used) != "when" or ws.at(i + used + 1) not in _WHEN_SUBJECTS:
        return False
    if prev in _TIME_BEFORE or prev in ("for", "in", "after", "before", "of", "than", "the", "were", "there", "had",
                                        "have", "has", "got", "get", "with", "are", "was"):
        return False
    return 11 <= _age_value(ws, i, used) <= 99
_PRONOUNS = frozenset({"i", "you", "he", "she", "we", "they", "it", "most", "everyone", "nobody", "kids", "girls",
                       "boys", "lads"})
_NOT_SUBJECT_S = frozenset({"it's", "that's", "there's", "what's", "here's", "who's", "where's", "how's", "let's",
                            "one's", "time's", "he's", "she's"})
_DECADES = frozenset({"teens", "twenties", "thirties", "forties", "fifties", "sixties", "seventies", "eighties"})


def _plain_age_after(ws: _Words, j: int) -> bool:
    """What follows a bare number leaves it an age: not a count ("kids two years apart", "boys three times"), a sum,
    a time or part of a bigger number."""
    after = ws.at(j)
    return after not in COUNT_NOUNS and after not in (
        "years", "yrs", "months", "weeks", "days", "hours", "minutes", "of", "times", "hundred", "thousand", "pounds",
        "quid", "grand", "o'clock", "am", "pm", "percent", "or", "out", "miles", "foot", "feet", "stone") and \
        not re.match(r"[/.:,]\d", ws.gap(j)) and not (after == "in" and ws.at(j + 1) in ("the", "a"))


def _age_range_end(ws: _Words, j: int) -> bool:
    """An age closes the range at j ("26 or 27"), not a count ("3 or 4 years")."""
    used = _age_number(ws, j)
    after = ws.at(j + used)
    if after in ("years", "yrs") and ws.at(j + used + 1) == "old":
        return bool(used)
    return bool(used) and _age_value(ws, j, used) >= 10 and after not in COUNT_NOUNS and \
        after not in ("years", "yrs", "months", "weeks", "days", "of", "times")


def _age_value(ws: _Words, i: int, used: int) -> int:
    from pipeline.redact.base import NUMBER_WORDS

    if ws.at(i).isdigit():
        return int(ws.at(i))
    return sum(NUMBER_WORDS.get(ws.at(k), 0) for k in range(i, i + used))


def _age_pairs(ws: _Words, hits: list[Hit]) -> list[Hit]:
    """An age said as a range takes its other end: "about fifteen or sixteen", "between twelve and fourteen"."""
    out = list(hits)
    starts = {ws.toks[k].start: k for k in range(len(ws))}
    for s, e, _label, conf in hits:
        k = starts.get(s)
        if k is None:
            continue
        end = k
        while end < len(ws) and ws.toks[end].end <= e:
            end += 1
        nxt_used = _age_number(ws, end)
        if nxt_used and _age_value(ws, end, nxt_used) - _age_value(ws, k, end - k) in (1, 2) and \
                ws.at(end + nxt_used) not in COUNT_NOUNS and ws.at(end + nxt_used) not in (
                "of", "hundred", "thousand", "pounds", "quid", "o'clock", "am", "pm", "minutes", "times"):
            out.append((*ws.span(end, end + nxt_used), "AGE", conf))  # "about fourteen fifteen"
        if ws.at(end) in ("nearly", "almost", "about", "going") and re.match(r"\s*,", ws.gap(end)) and \
                _age_number(ws, end + 1):
            out.append((*ws.span(end + 1, end + 1 + _age_number(ws, end + 1)), "AGE", conf))  # "15, nearly 16"
        if ws.at(end) == "going" and ws.at(end + 1) == "on" and _age_number(ws, end + 2):
            out.append((*ws.span(end + 2, end + 2 + _age_number(ws, end + 2)), "AGE", conf))  # "sixteen going on"
        skip = end
        while skip < end + 2 and ws.at(skip) in ("then", "maybe", "probably", "possibly", "or", "perhaps") and \
                not re.search(r"[.;?!]", ws.gap(skip)):
            skip += 1
        if skip > end and (used := _age_number(ws, skip)) and \
                _age_value(ws, skip, used) - _age_value(ws, k, end - k) in (1, 2) and \
                ws.at(skip + used) not in COUNT_NOUNS:
            out.append((*ws.span(skip, skip + used), "AGE", conf))  # "sixteen then maybe seventeen"
        if ws.at(end) in ("or", "and", "to") and end + 1 < len(ws):
            used = _age_number(ws, end + 1)
            after = ws.at(end + 1 + used)
            if used and after not in COUNT_NOUNS and after not in ("of", "hundred", "thousand", "pounds", "quid"):
                out.append((*ws.span(end + 1, end + 1 + used), "AGE", conf))
        if k >= 1 and _age_number(ws, k - 1) == 1 and not ws.at(k - 1).isdigit() and \
                0 < _age_value(ws, k, end - k) - _age_value(ws, k - 1, 1) <= 2 and \
                not re.search(r"[.;?!]", ws.gap(k)) and ws.at(k - 2) not in _TENS:
            out.append((*ws.span(k - 1, k), "AGE", conf))  # "kids twelve thirteen that sort of age"
        if ws.at(end) == "and" and ws.at(end + 1) in ("her", "him", "he", "she", "me", "them", "his", "hers") and \
                (used := _age_number(ws, end + 2)) and _age_value(ws, end + 2, used) >= 10 and \
                ws.at(end + 2 + used) not in COUNT_NOUNS:
            out.append((*ws.span(end + 2, end + 2 + used), "AGE", conf))  # "him being nineteen and her fifteen"
        if ws.at(k - 1) == "and" and ws.at(k - 3) == "between" and _age_number(ws, k - 2):
            out.append((*ws.span(k - 2, k - 1), "AGE", conf))
    return out


def _decades(ws: _Words) -> list[Hit]:
    """"in his forties", "in her early twenties", "in their teens"; a school year ("all year nine") too."""
    out: list[Hit] = []
    for i in range(len(ws)):
        w = ws.at(i)
        if re.fullmatch(r"(?:(?:early|mid|late)-?)?[1-9]0s", w):
            k = i - 1
            if ws.at(k) in ("early", "mid", "late"):
                k -= 1
            if (ws.at(k) in ("his", "her", "their", "my", "your", "our") and ws.at(k - 1) == "in") or k < i - 1 or \
                    "-" in w:
                out.append((*ws.span(k + 1, i + 1), "AGE", 0.8))  # "in his 40s", "early 20s", "mid-30s"
            continue
        if w in _DECADES:
            k = i - 1
            if ws.at(k) in ("early", "mid", "late"):
                k -= 1
            if (ws.at(k) in ("his", "her", "their", "my", "your", "our") and ws.at(k - 1) == "in") or k < i - 1:
                out.append((*ws.span(k + 1, i + 1), "AGE", 0.8))  # "in her forties", "a bloke mid thirties"
        elif (re.fullmatch(r"[sp][1-7]", w) or (w in ("s", "p") and ws.at(i + 1) in _SCHOOL_NUMBERS)) and \
                ws.at(i - 1) in ("in", "was", "is", "she's", "he's", "i'm", "a", "an", "of", "the", "into", "at"):
            out.append((*ws.span(i, i + (1 if len(w) == 2 else 2)), "AGE", 0.75))  # Scottish school years: "in S3"
        elif w == "year" and ws.at(i - 1) in ("first", "second", "third", "fourth", "fifth", "sixth", "lower",
                                               "upper") and ws.at(i - 2) in ("in", "since", "from", "was", "of",
                                                                            "she's", "he's", "i'm", "till", "until"):
            out.append((*ws.span(i - 1, i + 1), "AGE", 0.7))  # "since fourth year at school" (Scottish, NI)
        elif w == "year" and (ws.at(i + 1) in ("seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen") or
                              re.fullmatch(r"(?:[7-9]|1[0-3])s?", ws.at(i + 1))) and \
                (ws.at(i - 1) in ("in", "all", "was", "were", "is", "are", "she's", "he's", "they're", "i'm", "a",
                                  "of", "the", "since", "from", "until", "till") or
                 11 <= _age_value(ws, i - 1, 1) <= 19) and \
                ws.at(i + 2) not in ("old", "olds", "of", "year", "years"):
            out.append((*ws.span(i, i + 2), "AGE", 0.75))
    return out


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
