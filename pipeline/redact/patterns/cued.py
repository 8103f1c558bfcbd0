"""Pattern layer: identifiers recognised by the words before them (references, collar numbers, handles,
registrations, outward postcodes) and house-number addresses."""

from __future__ import annotations

import re

from pipeline.redact.base import NUMBER_WORDS, stop_words
from pipeline.redact.patterns.words import _spoken_number, _Words
from pipeline.redact.patterns.written import (
    _I,
    _ONE_WORD_STREET,
    _RANK_FOR_NUMBER,
    _STREET_SUFFIX,
    COUNT_NOUNS,
    ID_CUES,
    Hit,
)

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
    for i in range(len(ws)):  # token by token, each cue in turn: the hits keep this order
        for found in (_numbered_id(ws, i), _handle(ws, i), _registration(ws, i), _outward_postcode(ws, i)):
            if found:
                hits.append(found)
    return hits


def _numbered_id(ws: _Words, i: int) -> Hit | None:
    """"collar number 4471", "CAD 3391", "crime reference was NT/22/45127", "PC 2231"."""
    cue = next((c for c in _ID_CUE_TOKENS if tuple(ws.base[i : i + len(c)]) == c), None)  # "number's 2231"
    rank = ws.at(i) in _RANK_FOR_NUMBER or (ws.at(i) == "number" and (  # "p c number four four seven one"
        ws.at(i - 1) in _RANK_FOR_NUMBER or ws.at(i - 2) + ws.at(i - 1) in _RANK_FOR_NUMBER))
    if not (cue or rank):
        return None
    k = i + (len(cue) if cue else 1)
    if not rank:  # "collar number back then was 4471": a few words may come between
        for _ in range(4):
            if ws.at(k).isalpha() and ws.at(k) not in NUMBER_WORDS and ws.at(k) not in ("double", "triple"):
                k += 1
            else:
                break
    used, digits = _spoken_number(ws, k)
    if used and digits >= (2 if not rank else 3) and (not rank or ws.at(k).isdigit() or used >= 3):
        return (*ws.span(k, k + used), "ID", 0.9)
    if cue and k < len(ws) and re.fullmatch(r"[a-z]{0,4}\d[\w/]*", ws.at(k)) and ws.at(k) not in ("1", "2"):
        return (*ws.span(k, k + 1), "ID", 0.85)
    return None


def _handle(ws: _Words, i: int) -> Hit | None:
    """"his snap is jay underscore b ninety nine", "her instagram is ellie underscore rose"."""
    if ws.at(i) not in _HANDLE_CUES or ws.at(i - 1) not in ("his", "her", "my", "their", "your", "called"):
        return None
    n = len(ws)
    k = i + 1
    while ws.at(k) in ("name", "handle", "username", "account", "is", "was", "were", "called", "as", "it's",
                       "erm", "like", "just", "at"):
        k += 1
    if k >= n or ws.at(k) in ("private", "public", "deleted", "gone", "blocked", "down", "hacked", "fake",
                              "full", "off") or (ws.at(k) in STOP and ws.at(k + 1) != "underscore"):
        return None
    end = k + 1
    while ws.at(end) in ("underscore", "dot", "dash", "hyphen") and end + 1 < n:
        end += 2
    used, _ = _spoken_number(ws, end)
    end += used
    if ws.gap(k) and "." not in ws.gap(k):
        return (*ws.span(k, end), "HANDLE", 0.8)
    return None


def _registration(ws: _Words, i: int) -> Hit | None:
    """"reg number ab12 cde", "his reg was r467 kpm"."""
    reg = next((c for c in _REG_CUES if tuple(ws.w[i : i + len(c)]) == c), None)
    if not reg:
        return None
    off = ws.toks[i + len(reg) - 1].end
    m = _REG_AFTER_CUE.match(ws.text[off:])
    return (off + m.start(1), off + m.end(1), "VEHICLE", 0.85) if m else None


def _outward_postcode(ws: _Words, i: int) -> Hit | None:
    """"postcode is ls6" (the outward code alone)."""
    if ws.at(i) != "postcode":
        return None
    k = i + 1
    while ws.at(k) in ("was", "is", "it's", "erm"):
        k += 1
    if not re.fullmatch(r"[a-z]{1,2}\d[a-z\d]?", ws.at(k)):
        return None
    end = k + 1
    if re.fullmatch(r"\d[a-z]{2}", ws.at(end)):
        end += 1
    return (*ws.span(k, end), "POSTCODE", 0.9)


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


_HOUSE_NUMBER_CUES = frozenset({"at", "on", "to", "from", "is", "was", "lived", "lives", "address", "number", "flat",
                                "into", "outside", "round"})


_NOT_STREET_START = frozenset({"miles", "mile", "minutes", "minute", "hours", "hour", "yards", "metres", "meters",
                               "km", "quid", "pounds", "percent", "seconds", "days", "weeks", "months", "years"})


def _addresses(ws: _Words) -> list[Hit]:
    """"14 Elm Grove", "22 raglan road", "41 kingsway": a house number and a street."""
    hits: list[Hit] = []
    n = len(ws)
    for i in range(n):
        first = i + 1  # the street's first word
        if not re.fullmatch(r"\d{1,4}[a-z]?", ws.at(i)) or ws.at(i - 1) in ("the", "a", "about", "over", "of"):
            # "she lived at forty two nanpantan road": a house number said in words after a word that places it
            used, digits = _spoken_number(ws, i) if ws.at(i - 1) in _HOUSE_NUMBER_CUES else (0, 0)
            if not used or not 1 <= digits <= 4:
                continue
            first = i + used + (1 if ws.at(i + used) in ("a", "b", "c", "d") else 0)
            if ws.at(first) in _STREET_SUFFIX or ws.at(first) in STOP:
                continue  # "a one way street"
        if first >= n or ws.at(first)[0].isdigit() or re.search(r"[,.;]", ws.gap(first)) or \
                ws.at(first) in COUNT_NOUNS or ws.at(first) in _NOT_STREET_START:
            continue  # "60 miles each way"
        for k in range(first + 1, min(first + 4, n + 1)):
            words = ws.w[first:k]
            if any(w in ("and", "or", "the", "of", "in", "to", "years", "people") for w in words[:-1]):
                break
            if words[-1] in _STREET_SUFFIX and len(words) >= 2:
                hits.append((*ws.span(i, k), "ADDRESS", 0.9))
                break
            if len(words) == 1 and _ONE_WORD_STREET.fullmatch(words[0]) and words[0] not in COUNT_NOUNS:
                hits.append((*ws.span(i, k), "ADDRESS", 0.75))
                break
    return hits


def cued_and_addresses(ws: _Words) -> list[Hit]:
    return _cued(ws) + _spoken_handles(ws) + _addresses(ws)
