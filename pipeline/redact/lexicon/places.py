"""Places from the gazetteer (with the building or unit that goes with them), groups a person belongs to, and
streets."""

from __future__ import annotations

from pipeline.redact import gazetteers
from pipeline.redact.base import is_oov, sentence_initial, stop_words
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.text import Hit, Text, match_at, match_before, tuples

_UNITS = tuples(forces.UNITS_AFTER_PLACE)

PLACE_CUES = tuples(("lives in", "live in", "living in", "lived in", "moved to", "move to", "moving to",
                     "grew up in", "grow up in", "based in", "based at", "based out of", "stationed at",
                     "stationed in", "near", "up in", "down in", "over in", "out in", "round", "from", "in", "at",
                     "to", "towards", "outside", "around", "born in", "went to", "go to", "going to", "out of",
                     "work out of", "works out of", "worked out of", "area of", "side of"))
STRONG_PLACE_CUES = frozenset(c for c in PLACE_CUES if c not in {("in",), ("at",), ("to",), ("from",),
                                                                 ("around",), ("went", "to"), ("go", "to"),
                                                                 ("going", "to"), ("out", "of"), ("round",),
                                                                 ("near",), ("towards",), ("outside",)})

_FACILITY_SUFFIX = tuples(("police station", "station", "nick", "custody", "custody suite", "crown court",
                           "magistrates", "magistrates court", "magistrates' court", "county court",
                           "family court", "court", "house", "prison", "hmp", "hall", "estate", "park",
                           "shopping centre", "retail park", "leisure centre", "arms", "inn", "tavern", "hotel"))

# A person's nationality, religion or ethnicity narrows who they are in a small study.
_GROUPS = frozenset([
    "polish", "romanian", "lithuanian", "latvian", "bulgarian", "albanian", "kurdish", "somali", "eritrean",
    "sudanese", "afghan", "pakistani", "indian", "bangladeshi", "nigerian", "ghanaian", "jamaican", "caribbean",
    "chinese", "vietnamese", "turkish", "iranian", "iraqi", "syrian", "muslim", "sikh", "hindu", "jewish", "gypsy",
    "traveller", "roma", "portuguese", "slovak", "czech", "hungarian", "ukrainian", "russian", "filipino", "thai",
    "kenyan", "zimbabwean", "congolese", "ethiopian", "yemeni", "arab", "punjabi", "gujarati", "tamil", "bengali",
    "kashmiri"
])
_STREET_SUFFIX = frozenset([
    "street", "road", "lane", "avenue", "drive", "close", "crescent", "way", "grove", "gardens", "terrace", "mews",
    "walk", "row", "square", "parade", "rise", "vale", "fold", "place"
])
_NOT_STREET = frozenset([
    "main", "high", "back", "side", "the", "a", "same", "busy", "little", "big", "dirt", "country", "private",
    "one", "long", "wrong", "other", "next", "this", "that", "our", "my", "his", "her", "their", "every", "new",
    "old", "right", "left", "top", "bottom", "end", "slip", "ring", "service"
])


def place_names(t: Text, out: list[Hit]) -> None:
    places = gazetteers.places()
    names = gazetteers.given_names()
    i = 0
    while i < t.n:
        matched = 0
        for size in range(min(places.longest, t.n - i), 0, -1):
            key = tuple(t.w[i : i + size])
            if key in places and all(t.linked(k) for k in range(i + 1, i + size)):
                matched = size
                break
        if not matched:
            i += 1
            continue
        end = i + matched
        key = tuple(t.w[i:end])
        cue = match_before(t.w, i, PLACE_CUES)
        strong = cue is not None and cue in STRONG_PLACE_CUES
        capital = all(t.upper_first(k) or t.w[k] in ("upon", "on", "the", "in", "le", "of") for k in range(i, end))
        if key in places.ambiguous:
            if capital and not sentence_initial(t.text, t.toks, i):
                conf, uncertain = 0.7, False
            elif capital and end < t.n and t.w[end] in ("was", "is", "were", "has", "had"):
                conf, uncertain = 0.4, True  # "Bury was my first posting"
            elif strong or (cue and (capital or t.mode != "mixed")):
                conf, uncertain = 0.45, True
            else:
                i += 1
                continue
        else:
            conf, uncertain = 0.85, False
            if matched == 1 and names.word(key[0]) and not cue:
                i += 1  # "Keith", "Shirley": the given-name layer labels it a person
                continue
        end = extend_facility(t, end)
        label = "LOCATION"
        unit = match_at(t.w, end, _UNITS) if end < t.n and t.linked(end) else None
        if unit and unit not in _FACILITY_SUFFIX and " ".join(unit) not in ("court", "station", "nick", "district"):
            end += len(unit)
            label = "ORGANISATION"
        out.append(Hit(t.toks[i].start, t.toks[end - 1].end, label, "gazetteer", conf, uncertain))
        i = end


def extend_facility(t: Text, end: int) -> int:
    """"Wakefield police station", "Sheffield Crown Court": the building goes with the place."""
    if end < t.n and t.linked(end):
        suffix = match_at(t.w, end, _FACILITY_SUFFIX)
        if suffix:
            return end + len(suffix)
    return end


def groups_and_streets(t: Text, out: list[Hit]) -> None:
    for i in range(t.n):
        if t.w[i] in _GROUPS:
            out.append(t.hit(i, i + 1, "GROUP", "gazetteer", 0.6, uncertain=True))
        # "Beverley Road", "raglan road", "Clarke Road": a name or place before a street word
        if t.w[i] in _STREET_SUFFIX and i > 0 and t.linked(i) and not t.w[i - 1][:1].isdigit():
            k = i - 1
            w = t.w[k]
            if w in _NOT_STREET or w in stop_words() or not w[:1].isalpha():
                continue
            evidence = (t.upper_first(k) and t.upper_first(i)) or is_oov(w) or gazetteers.places().word(w) or \
                gazetteers.given_names().word(w) or gazetteers.surnames().sure_word(w)
            if evidence:
                while k > 0 and i - k < 3 and t.linked(k) and ((t.upper_first(k - 1) and t.mode == "mixed")
                                                             or is_oov(t.w[k - 1])) and t.w[k - 1] not in stop_words():
                    k -= 1
                out.append(t.hit(k, i + 1, "ADDRESS", "gazetteer", 0.75))
