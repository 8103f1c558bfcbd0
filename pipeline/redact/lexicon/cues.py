"""Near-misses for review: unknown words after place and work cues, "X Police" for a force the gazetteer lacks, and
what speech-to-text makes of forces and towns ("north and the police", "catering")."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

from pipeline.redact import gazetteers
from pipeline.redact.base import POLICE_TERMS, is_oov, stop_words
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.names import ORDINARY_UNKNOWN
from pipeline.redact.lexicon.organisations import ORG_CUES
from pipeline.redact.lexicon.places import PLACE_CUES, STRONG_PLACE_CUES, extend_facility
from pipeline.redact.lexicon.police import FORCE_WORDS, force_index
from pipeline.redact.lexicon.text import NOT_NAME, Hit, Text, match_before


def place_cues(t: Text, out: list[Hit]) -> None:
    """Near-misses after place and work cues: "lives in Ossett", "works at the Red Lion", "X Police"."""
    for i in range(1, t.n):
        place_cue = match_before(t.w, i, PLACE_CUES)
        if place_cue == ("to",) and i > 1 and t.w[i - 2] in _INFINITIVE_BEFORE:
            place_cue = None  # "we had to liaise with them": a verb, not a place
        org_cue = match_before(t.w, i, ORG_CUES)
        k = i
        if (place_cue or org_cue) and t.w[k] == "the" and k + 1 < t.n:
            k += 1
        if place_cue or org_cue:
            end = k
            while end < t.n and end - k < 3 and (end == k or t.linked(end)) and _unknown_word(t, end):
                end += 1
            if end > k:
                end = extend_facility(t, end)
                label = "ORGANISATION" if org_cue and not place_cue else "LOCATION"
                out.append(t.hit(k, end, label, "cue", 0.4, uncertain=True))
        # "... Police" after an unknown word: a force the gazetteer lacks (or a misheard one)
        if t.w[i] in ("police", "constabulary") and t.linked(i) and _unknown_word(t, i - 1):
            start = i - 1
            while start > 0 and i - start < 3 and t.linked(start) and _unknown_word(t, start - 1):
                start -= 1
            out.append(t.hit(start, i + 1, "FORCE", "cue", 0.4, uncertain=True))


_INFINITIVE_BEFORE = frozenset({"had", "have", "has", "need", "needed", "needs", "want", "wanted", "wants", "going",
                                "got", "able", "tried", "try", "trying", "used", "ought", "supposed", "decided",
                                "started", "began", "managed", "agreed", "refused", "likes", "liked", "how", "what"})


def _unknown_word(t: Text, k: int) -> bool:
    """Capitalised (in cased text) or out-of-vocabulary, and not a word that names nothing."""
    w = t.w[k]
    if not w[:1].isalpha() or w in stop_words() or w in NOT_NAME or w in forces.NOT_IDENTIFYING or \
            w in ORDINARY_UNKNOWN:
        return False
    if w in POLICE_TERMS or (t.mode == "mixed" and t.toks[k].text.isupper() and len(w) <= 5):
        return False  # "CPS", "MASH", "ANPR"
    return t.cap(k) or is_oov(w)


def _phonetic(word: str) -> str:
    """A crude sound key: "catering" and "kettering" both give "ktrng"."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return ""
    for a, b in (("ph", "f"), ("ck", "k"), ("ce", "se"), ("ci", "si"), ("cy", "sy"), ("c", "k"), ("q", "k"),
                 ("z", "s"), ("x", "ks"), ("wh", "w")):
        w = w.replace(a, b)
    key = w[0] + re.sub(r"[aeiouyhw]", "", w[1:])
    return re.sub(r"(.)\1+", r"\1", key)


@lru_cache(maxsize=1)
def _place_sounds() -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in gazetteers.places().entries:
        if len(entry) == 1 and len(entry[0]) >= 6 and entry not in gazetteers.places().ambiguous:
            key = _phonetic(entry[0])
            if len(key) >= 4:
                out.setdefault(key, entry[0])
    return out


@lru_cache(maxsize=1)
def _force_spellings() -> list[str]:
    return sorted({re.sub(r"[^a-z]", "", p) for f in forces.FORCES for p in (*f.aliases, *f.areas)
                   if len(re.sub(r"[^a-z]", "", p)) >= 5 and not p.startswith("the ")})


_STRONG_CUE_WORDS = frozenset(c for c in STRONG_PLACE_CUES if len(c) > 1)


def misheard(t: Text, out: list[Hit]) -> None:
    """Speech-to-text turns "Northants Police" into "north and the police" and "Kettering" into "catering": words
    that sound like a force before "police", or like a town after "lives in", are near-misses for review."""
    for i in range(1, t.n):
        if t.w[i] in ("police", "constabulary"):
            for size in (3, 2, 1):
                if i - size < 0 or not all(t.linked(k) for k in range(i - size + 1, i + 1)):
                    continue
                window = t.w[i - size : i]
                if window[0] in stop_words() or window[-1] in FORCE_WORDS:
                    continue
                if force_index()[0].get(tuple(window)) or any(tuple(window[k:]) in force_index()[0]
                                                             for k in range(size)):
                    break  # a force the gazetteer knows ("Greater Manchester Police"), not a mishearing
                spelt = "".join(window)
                if len(spelt) >= 5 and any(SequenceMatcher(None, spelt, f).ratio() >= 0.75
                                           for f in _force_spellings()):
                    out.append(t.hit(i - size, i + 1, "FORCE", "cue", 0.35, uncertain=True))
                    break
        cue = match_before(t.w, i, PLACE_CUES)
        w = t.w[i]
        if cue in _STRONG_CUE_WORDS and w.isalpha() and w not in stop_words() and not gazetteers.places().word(w):
            place = _place_sounds().get(_phonetic(w))
            if place and place != w:
                out.append(t.hit(i, i + 1, "LOCATION", "cue", 0.35, uncertain=True))
