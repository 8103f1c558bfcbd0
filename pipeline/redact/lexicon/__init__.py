"""Gazetteer and cue layers: forces, ranks and titles before names, places, given names, operations, teams, and
capitalised or out-of-vocabulary words next to identifier cues ("called ...", "lives in ...", "... Police").

Everything is matched on lower-cased tokens, so lower-case ASR text and ALL CAPS are handled like well-cased text;
capitals are used as extra evidence only where the text is mixed-case ("Will" mid-sentence is a name, "will" isn't).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from pipeline.redact import gazetteers
from pipeline.redact.base import (
    MONTHS,
    NUMBER_WORDS,
    POLICE_TERMS,
    RANK_WORDS,
    TITLE_WORDS,
    WEEKDAYS,
    Token,
    case_mode,
    is_oov,
    joined,
    sentence_initial,
    stop_words,
    tokenize,
)
from pipeline.redact.gazetteers import forces


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    label: str
    layer: str  # "gazetteer" or "cue"
    confidence: float
    uncertain: bool = False


@lru_cache(maxsize=1)
def _force_index() -> tuple[dict[tuple[str, ...], tuple[str, str]], int]:
    """Phrase -> (canonical force, "alias" | "area" | "nickname")."""
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    for force in forces.FORCES:
        for alias in force.aliases:
            if alias in ("the met", "met's", "the yard", "mps"):
                continue  # handled with case and context in _forces
            index[gazetteers.split_entry(alias)] = (force.name, "alias")
        for area in force.areas:
            key = gazetteers.split_entry(area)
            kind = "area" if key in gazetteers.places() else "nickname"  # "Notts", "Lincs": a force in police talk
            index.setdefault(key, (force.name, kind))
        index.setdefault(gazetteers.split_entry(force.name), (force.name, "alias"))
    return index, max(map(len, index))


def _tuples(words: tuple[str, ...] | frozenset[str]) -> list[tuple[str, ...]]:
    return sorted((gazetteers.split_entry(w) for w in words), key=len, reverse=True)


_RANKS = _tuples(forces.RANKS)
_AMBIGUOUS_RANKS = frozenset(forces.AMBIGUOUS_RANKS)
_TITLES = _tuples(tuple(t for t in forces.TITLES if not t.endswith(".")))
_ROLES = _tuples(forces.OFFICER_ROLES)
_POLICE_AFTER = _tuples(forces.POLICE_AFTER)
_POLICE_BEFORE = _tuples(forces.POLICE_BEFORE)
_DEPARTMENTS = _tuples(forces.DEPARTMENTS)
_UNITS = _tuples(forces.UNITS_AFTER_PLACE)
_FORCE_WORDS = frozenset({"police", "constabulary", "police force", "police service"})

_RELATIONS = _tuples((
    "ex", "ex boyfriend", "ex girlfriend", "ex partner", "ex husband", "ex wife", "boyfriend", "girlfriend",
    "partner", "husband", "wife", "fiance", "fiancee", "friend", "best friend", "mate", "best mate", "pal", "brother",
    "sister", "cousin", "son", "daughter", "mum", "mam", "mom", "dad", "mother", "father", "stepdad", "stepmum",
    "step dad", "step mum", "auntie", "aunt", "aunty", "uncle", "nan", "nana", "gran", "grandad", "grandma",
    "nephew", "niece", "boss", "manager", "colleague", "neighbour", "flatmate", "housemate", "solicitor", "lawyer",
    "barrister", "social worker", "counsellor", "therapist", "teacher", "isva", "idva", "gp", "support worker",
    "caseworker", "case worker", "lad", "bloke", "guy", "girl", "woman", "man", "kid", "victim", "suspect",
    "offender", "perpetrator", "perp", "accused", "defendant", "complainant", "baby", "kids", "boy",
))
_PERSON_CUES = _tuples(("called", "named", "name is", "name was", "name's", "names", "known as", "goes by",
                        "go by", "calls himself", "calls herself", "calling himself", "calling herself",
                        "name of", "surname is", "surname was", "first name", "first name is", "first name was"))
_WEAK_PERSON_CUES = _tuples(("spoke to", "speak to", "talked to", "talking to", "told", "asked", "rang", "phoned",
                             "texted", "messaged", "met", "with", "and", "me and", "to", "for", "from", "about",
                             "like", "saw", "see", "seeing", "dating", "married", "by", "thanks to", "it was"))
_PLACE_CUES = _tuples(("lives in", "live in", "living in", "lived in", "moved to", "move to", "moving to",
                       "grew up in", "grow up in", "based in", "based at", "based out of", "stationed at",
                       "stationed in", "near", "up in", "down in", "over in", "out in", "round", "from", "in", "at",
                       "to", "towards", "outside", "around", "born in", "went to", "go to", "going to", "out of",
                       "work out of", "works out of", "worked out of", "area of", "side of"))
_STRONG_PLACE_CUES = frozenset(c for c in _PLACE_CUES if c not in {("in",), ("at",), ("to",), ("from",),
                                                                   ("around",), ("went", "to"), ("go", "to"),
                                                                   ("going", "to"), ("out", "of"), ("round",),
                                                                   ("near",), ("towards",), ("outside",)})
_ORG_CUES = _tuples(("works at", "works for", "worked at", "worked for", "working at", "working for", "work at",
                     "work for", "job at", "employed by", "driver for", "drives for", "driving for", "studying at",
                     "student at", "studied at", "went to", "was at", "started at", "school was", "college was",
                     "shift at", "placement at"))
_ORG_SUFFIX = _tuples(("academy", "college", "university", "uni", "school", "primary", "primary school",
                       "high school", "grammar school", "grammar", "sixth form", "hospital", "infirmary", "surgery",
                       "medical centre", "health centre", "church", "mosque", "gurdwara", "mandir", "synagogue",
                       "fc", "football club", "rugby club", "ltd", "limited", "plc", "group", "housing",
                       "housing association", "trust", "nhs trust", "council", "barracks", "centre", "center"))
_FACILITY_SUFFIX = _tuples(("police station", "station", "nick", "custody", "custody suite", "crown court",
                            "magistrates", "magistrates court", "magistrates' court", "county court",
                            "family court", "court", "house", "prison", "hmp", "hall", "estate", "park",
                            "shopping centre", "retail park", "leisure centre", "arms", "inn", "tavern", "hotel"))
_EMPLOYERS = frozenset(gazetteers.split_entry(e) for e in (
    "tesco", "asda", "sainsbury's", "sainsburys", "morrisons", "aldi", "lidl", "greggs", "primark", "argos",
    "mcdonald's", "mcdonalds", "kfc", "nando's", "nandos", "costa", "starbucks", "wetherspoons", "amazon",
    "royal mail", "b&q", "jd sports", "sports direct", "currys", "waitrose", "m&s", "marks and spencer", "poundland",
    "home bargains", "b&m", "wilko", "superdrug", "subway", "pret", "deliveroo", "just eat", "hermes", "evri",
    "dpd", "barnardos", "barnardo's", "nspcc", "sainsbury", "tesco's", "asda's", "toby carvery", "harvester",
))
_AMBIGUOUS_EMPLOYERS = frozenset(gazetteers.split_entry(e) for e in ("boots", "next", "iceland", "co-op", "coop",
                                                                     "river island", "new look", "greggs's"))
_ALL_EMPLOYERS = sorted(_EMPLOYERS | _AMBIGUOUS_EMPLOYERS, key=len, reverse=True)
_DETERMINERS = frozenset({"the", "an", "a", "her", "his", "my", "their", "our", "your", "this", "that", "its",
                          "whole", "big", "major", "undercover", "sting", "covert", "police", "joint"})
_POLICE_PEOPLE = frozenset({"copper", "coppers", "cop", "cops", "policeman", "policewoman", "detective", "officers"})
_OPERATION = frozenset({"operation", "op", "project"})
_NOT_NAME = frozenset(MONTHS) | frozenset(WEEKDAYS) | frozenset(NUMBER_WORDS) | RANK_WORDS | TITLE_WORDS | {
    "police", "constabulary", "force", "officer", "officers", "station", "road", "street", "court", "team", "unit",
    "department", "school", "college", "university", "hospital", "centre", "god", "jesus", "christmas", "easter",
    "english", "british", "uk", "internet", "online", "whatsapp", "snapchat", "instagram", "facebook", "tiktok",
    "twitter", "google", "iphone", "teams", "zoom", "covid", "lockdown", "mum", "dad", "nan", "grandad", "i",
}
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


def _match_at(words: list[str], i: int, phrases: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    for p in phrases:
        if tuple(words[i : i + len(p)]) == p:
            return p
    return None


def _match_before(words: list[str], i: int, phrases: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """A phrase ending right before token i."""
    for p in phrases:
        if i - len(p) >= 0 and tuple(words[i - len(p) : i]) == p:
            return p
    return None


class _Text:
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


def _namey(t: _Text, i: int, *, strong_cue: bool) -> bool:
    """Could token i be (part of) a person's name here?"""
    if i >= t.n:
        return False
    w = t.w[i]
    if not w[:1].isalpha() or w in _NOT_NAME or w in forces.NOT_IDENTIFYING:
        return False
    names = gazetteers.given_names()
    surnames = gazetteers.surnames()
    if t.mode == "mixed":
        if t.toks[i].text[:1].isupper():
            return w not in stop_words() or (names.word(w) and w not in ("i", "will", "may")) or t.cap(i)
        return names.sure_word(w) or surnames.sure_word(w) or is_oov(w) or (
            strong_cue and (names.word(w) or surnames.word(w)) and w not in stop_words())
    if w in stop_words():
        return False
    if names.word(w) or surnames.word(w) or is_oov(w):
        return strong_cue or names.sure_word(w) or surnames.sure_word(w) or is_oov(w)
    return False


def _name_run(t: _Text, i: int, *, strong_cue: bool, limit: int = 3) -> int:
    """End (exclusive) of the name starting at i, or i when there is none."""
    j = i
    while j < t.n and j - i < limit and (j == i or t.linked(j)) and _namey(t, j, strong_cue=strong_cue or j > i):
        if j > i and t.mode != "mixed" and not _continues_name(t, j):
            break
        if j > i and t.mode == "mixed" and not t.toks[j].text[:1].isupper() and not (
            gazetteers.surnames().sure_word(t.w[j]) and _continues_name(t, j)
        ):
            break  # "Did Mark Bellamy ring you": in cased text a lower-case word must be a sure surname
        if t.toks[j].possessive:
            j += 1
            break
        j += 1
    return j


def _continues_name(t: _Text, j: int) -> bool:
    """A second or third word joins a name if it is a surname or given name or unknown, not an ordinary word."""
    w = t.w[j]
    if w in stop_words() or w in _NOT_NAME:
        return False
    return gazetteers.surnames().word(w) or gazetteers.given_names().word(w) or is_oov(w)


def _forces(t: _Text, out: list[Hit]) -> None:
    index, longest = _force_index()
    i = 0
    while i < t.n:
        w = t.w[i]
        # "the Met", "Met officers", "Met's": never "we met", "I met"; "the Met Office" is the weather.
        if w == "met" and t.w[i + 1 : i + 2] != ["office"]:
            prev = t.w[i - 1] if i else ""
            after = t.w[i + 1] if i + 1 < t.n else ""
            if prev == "the" or t.toks[i].possessive or (t.cap(i) and prev not in stop_words()) or (
                after in ("police", "officers", "officer", "cops") and prev not in stop_words()
            ):
                end = i + (2 if after == "police" else 1)
                out.append(t.hit(i, end, "FORCE", "gazetteer", 0.9))
                i = end
                continue
        if w == "yard" and i and t.w[i - 1] == "the" and t.upper_first(i):
            out.append(t.hit(i, i + 1, "FORCE", "gazetteer", 0.8))
        if t.toks[i].text == "MPS":
            out.append(t.hit(i, i + 1, "FORCE", "gazetteer", 0.8))
        matched = False
        for size in range(min(longest, t.n - i), 0, -1):
            key = tuple(t.w[i : i + size])
            if key not in index or not all(t.linked(k) for k in range(i + 1, i + size)):
                continue
            _, kind = index[key]
            end = i + size
            after = _match_at(t.w, end, _POLICE_AFTER) if end < t.n and t.linked(end) else None
            before = _match_before(t.w, i, _POLICE_BEFORE)
            if kind == "area" and not (after or before):
                break  # a place: the place layer takes it
            if after and " ".join(after) in _FORCE_WORDS:
                end += len(after)
            out.append(Hit(t.toks[i].start, t.toks[end - 1].end, "FORCE", "gazetteer", 0.95 if kind != "area"
                           else 0.9))
            i = end
            matched = True
            break
        if not matched:
            i += 1


def _ranked_names(t: _Text, out: list[Hit]) -> None:
    """"DS Kaur", "sergeant mike dawson", "Mr Hussain", "my sergeant, Bev", "my tutor mark"."""
    for i in range(t.n):
        rank = _match_at(t.w, i, _RANKS)
        title = None if rank else _match_at(t.w, i, _TITLES)
        cue = rank or title
        if cue is None:
            continue
        role = None
        j = i + len(cue)
        if j >= t.n:
            continue
        if rank and j < t.n and _match_at(t.w, j, _RANKS):
            continue  # "detective sergeant": the longer rank is matched at its own start
        if i and t.w[i - 1] in ("my", "our", "the", "his", "her", "their", "your") and rank:
            role = rank
        comma = t.text[t.toks[j - 1].end : t.toks[j].start].strip() == ","
        if not t.linked(j) and not (role and comma):
            continue
        ambiguous = (rank and " ".join(rank) in _AMBIGUOUS_RANKS) or (title and title[0] in ("miss", "doctor"))
        if ambiguous or title:
            sure = t.upper_first(j) if t.mode == "mixed" else (
                gazetteers.given_names().word(t.w[j]) or gazetteers.surnames().word(t.w[j]) or is_oov(t.w[j])
            ) and t.w[j] not in stop_words() and not gazetteers.places().sure_word(t.w[j])
            if not sure:
                continue
        end = _name_run(t, j, strong_cue=True)
        if end == j:
            continue
        label = "OFFICER" if rank else "PERSON"
        out.append(t.hit(j, end, label, "gazetteer", 0.9 if not role else 0.85))


def _roles(t: _Text, out: list[Hit]) -> None:
    """"my sergeant X", "my tutor X", "the officer in the case, X", "my ex Liam", "a lad called Tyler"."""
    for i in range(t.n):
        if t.w[i] not in ("my", "our", "the", "his", "her", "their", "your", "a", "this", "one"):
            continue
        j = i + 1
        if j < t.n and t.w[j] in ("old", "first", "new", "best", "then", "former", "current"):
            j += 1
        officer = _match_at(t.w, j, _ROLES)
        relation = None if officer else _match_at(t.w, j, _RELATIONS)
        cue = officer or relation
        if not cue or (t.w[i] in ("a", "this", "one") and not officer):
            continue
        k = j + len(cue)
        if k < t.n and t.w[k] in ("ex",):
            k += 1
        if k >= t.n:
            continue
        gap = t.text[t.toks[k - 1].end : t.toks[k].start].strip()
        if gap not in ("", ",", "-"):
            continue
        end = _name_run(t, k, strong_cue=True)
        if end == k:
            continue
        w = t.w[k]
        known = gazetteers.given_names().word(w) or gazetteers.surnames().word(w)
        sure = t.upper_first(k) or (known and (w,) not in gazetteers.given_names().ambiguous)
        out.append(t.hit(k, end, "OFFICER" if officer else "PERSON", "cue" if not sure else "gazetteer",
                         0.8 if sure else 0.5, uncertain=not sure))


def _cued_names(t: _Text, out: list[Hit]) -> None:
    """"called Chantelle", "his name was tom", "a girl called ...": strong cues take any name-like word."""
    for i in range(t.n):
        cue = _match_at(t.w, i, _PERSON_CUES)
        if not cue:
            continue
        k = i + len(cue)
        while k < t.n and t.w[k] in ("was", "is", "like", "erm", "um", "uh", "something", "er"):
            k += 1
        if k >= t.n:
            continue
        end = _name_run(t, k, strong_cue=True)
        w = t.w[k]
        if (end == k and w[:1].isalpha() and w not in stop_words() and w not in _NOT_NAME and \
                w not in forces.NOT_IDENTIFYING and t.linked(k) and not t.toks[k].text.isupper()) or \
                (end == k and t.mode != "mixed" and w.isalpha() and w not in stop_words() and w not in _NOT_NAME):
            end = k + 1  # "my son's called alfie": after "called" even a frequent word may be the name
        if end > k:
            sure = t.upper_first(k) or gazetteers.given_names().sure_word(w)
            officer = i > 0 and (t.w[i - 1] in RANK_WORDS or t.w[i - 1] in _POLICE_PEOPLE)  # "an officer called X"
            out.append(t.hit(k, end, "OFFICER" if officer else "PERSON", "cue" if not sure else "gazetteer",
                             0.75 if sure else 0.45, uncertain=not sure))


def _given_names(t: _Text, out: list[Hit]) -> None:
    names = gazetteers.given_names()
    places = gazetteers.places()
    i = 0
    while i < t.n:
        w = t.w[i]
        if not names.word(w) or w in _NOT_NAME or w in forces.NOT_IDENTIFYING or w in POLICE_TERMS:
            i += 1
            continue
        ambiguous = (w,) in names.ambiguous or w in stop_words()
        capital = t.upper_first(i)
        weak = _match_before(t.w, i, _WEAK_PERSON_CUES) is not None
        placey = places.sure_word(w) and (_match_before(t.w, i, _PLACE_CUES) is not None or (
            i + 1 < t.n and t.w[i + 1] in ("police", "constabulary")))
        conf, uncertain = 0.0, False
        if t.mode == "mixed":
            if capital and not sentence_initial(t.text, t.toks, i):
                conf = 0.8 if not ambiguous else 0.6
            elif capital:  # first word of a sentence: "Mark said" yes, "Will you" no
                if not ambiguous:
                    conf = 0.75
                elif i + 1 < t.n and t.w[i + 1] in _NAME_VERBS:
                    conf, uncertain = 0.45, True
            elif not ambiguous:
                conf = 0.6  # ASR sometimes leaves a name lower-case in a cased sentence
        elif not ambiguous:
            conf = 0.75
        elif (weak and w not in stop_words()) or (i + 1 < t.n and t.w[i + 1] in _NAME_VERBS
                                                   and (i == 0 or sentence_initial(t.text, t.toks, i))):
            conf, uncertain = 0.4, True
        if conf == 0.0 or placey:
            i += 1
            continue
        end = i + 1
        if not t.toks[i].possessive:
            end = _name_run(t, i, strong_cue=True, limit=3)
            end = max(end, i + 1)
        out.append(t.hit(i, end, "PERSON", "gazetteer", conf, uncertain))
        i = end


# Verbs that follow a name at the start of a sentence: "mark said ...", "grace was the victim".
_NAME_VERBS = frozenset([
    "said", "says", "told", "rang", "called", "messaged", "texted", "sent", "posted", "was", "is", "had", "has",
    "did", "does", "kept", "went", "came", "got", "never", "always", "just", "would", "could", "should", "will",
    "wanted", "asked", "shared", "put", "took", "made", "thought", "knew"
])


def _surnames(t: _Text, out: list[Hit]) -> None:
    """A rare surname on its own ("Whitfield denied everything") is a near-miss for review."""
    surnames = gazetteers.surnames()
    for i in range(t.n):
        w = t.w[i]
        if not surnames.sure_word(w) or not is_oov(w) or gazetteers.places().word(w):
            continue
        if t.mode == "mixed" and not t.upper_first(i):
            continue
        out.append(t.hit(i, i + 1, "PERSON", "gazetteer", 0.5, uncertain=True))


def _places(t: _Text, out: list[Hit]) -> None:
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
        cue = _match_before(t.w, i, _PLACE_CUES)
        strong = cue is not None and cue in _STRONG_PLACE_CUES
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
        end = _extend_facility(t, end)
        label = "LOCATION"
        unit = _match_at(t.w, end, _UNITS) if end < t.n and t.linked(end) else None
        if unit and unit not in _FACILITY_SUFFIX and " ".join(unit) not in ("court", "station", "nick", "district"):
            end += len(unit)
            label = "ORGANISATION"
        out.append(Hit(t.toks[i].start, t.toks[end - 1].end, label, "gazetteer", conf, uncertain))
        i = end


def _extend_facility(t: _Text, end: int) -> int:
    """"Wakefield police station", "Sheffield Crown Court": the building goes with the place."""
    if end < t.n and t.linked(end):
        suffix = _match_at(t.w, end, _FACILITY_SUFFIX)
        if suffix:
            return end + len(suffix)
    return end


def _operations(t: _Text, out: list[Hit]) -> None:
    for i in range(t.n):
        if t.w[i] not in _OPERATION or i + 1 >= t.n or not t.linked(i + 1):
            continue
        j = i + 1
        w = t.w[j]
        capital_op = (t.upper_first(i) and not sentence_initial(t.text, t.toks, i)) or t.mode == "upper"
        if i and t.w[i - 1] in _DETERMINERS and not capital_op and not t.upper_first(j):
            continue
        if t.mode == "mixed":
            if not t.toks[j].text[:1].isupper():
                continue
        elif w in stop_words() or w in _NOT_OPERATION or not w.isalpha():
            continue
        end = j + 1
        while end < t.n and end < j + 2 and t.linked(end) and (
            (t.mode == "mixed" and t.toks[end].text[:1].isupper()) or (t.mode != "mixed" and is_oov(t.w[end]))
        ):
            end += 1
        out.append(t.hit(i, end, "OPERATION", "gazetteer", 0.9))


_NOT_OPERATION = frozenset([
    "was", "is", "went", "got", "had", "has", "were", "started", "ran", "took", "ended", "failed", "room",
    "theatre", "itself", "worked", "works", "didn't", "did", "would", "will", "could", "should", "and", "but", "so",
    "on", "in", "at", "for", "to", "of", "with"
])


def _departments(t: _Text, out: list[Hit]) -> None:
    for i in range(t.n):
        dep = _match_at(t.w, i, _DEPARTMENTS)
        if dep and all(t.linked(k) for k in range(i + 1, i + len(dep))):
            if dep == ("sapphire",) and t.mode == "mixed" and not t.upper_first(i):
                continue
            out.append(t.hit(i, i + len(dep), "ORGANISATION", "gazetteer", 0.85))


def _organisations(t: _Text, out: list[Hit]) -> None:
    places = gazetteers.places()
    for i in range(t.n):
        key = next((e for e in _ALL_EMPLOYERS if tuple(t.w[i : i + len(e)]) == e), None)
        if key and (key in _EMPLOYERS or t.upper_first(i)):
            out.append(t.hit(i, i + len(key), "ORGANISATION", "gazetteer", 0.8))
        # "Thornhill Academy", "kirklees college", "the Royal Infirmary", "St Benedict's"
        suffix = _match_at(t.w, i, _ORG_SUFFIX)
        if suffix and i > 0 and t.linked(i):
            k = i
            while k > 0 and i - k < 3 and t.linked(k) and _org_word(t, k - 1, places):
                k -= 1
            if k < i:
                out.append(t.hit(k, i + len(suffix), "ORGANISATION", "gazetteer", 0.75))
        if t.w[i] in ("st", "saint") and i + 1 < t.n and t.linked(i + 1) and _namey(t, i + 1, strong_cue=True):
            end = _name_run(t, i + 1, strong_cue=True, limit=2)
            if end > i + 1:
                out.append(t.hit(i, end, "ORGANISATION", "gazetteer", 0.7))


def _org_word(t: _Text, k: int, places: gazetteers.WordList) -> bool:
    w = t.w[k]
    if w in stop_words() or w in _DETERMINERS or not w[:1].isalpha():
        return False
    if t.mode == "mixed":
        return t.toks[k].text[:1].isupper()
    return places.word(w) or is_oov(w) or gazetteers.given_names().sure_word(w) or w in ("royal", "city", "general")


def _place_cues(t: _Text, out: list[Hit]) -> None:
    """Near-misses after place and work cues: "lives in Ossett", "works at the Red Lion", "X Police"."""
    for i in range(1, t.n):
        place_cue = _match_before(t.w, i, _PLACE_CUES)
        org_cue = _match_before(t.w, i, _ORG_CUES)
        k = i
        if (place_cue or org_cue) and t.w[k] == "the" and k + 1 < t.n:
            k += 1
        if place_cue or org_cue:
            end = k
            while end < t.n and end - k < 3 and (end == k or t.linked(end)) and _unknown_word(t, end):
                end += 1
            if end > k:
                end = _extend_facility(t, end)
                label = "ORGANISATION" if org_cue and not place_cue else "LOCATION"
                out.append(t.hit(k, end, label, "cue", 0.4, uncertain=True))
        # "... Police" after an unknown word: a force the gazetteer lacks (or a misheard one)
        if t.w[i] in ("police", "constabulary") and t.linked(i) and _unknown_word(t, i - 1):
            start = i - 1
            while start > 0 and i - start < 3 and t.linked(start) and _unknown_word(t, start - 1):
                start -= 1
            out.append(t.hit(start, i + 1, "FORCE", "cue", 0.4, uncertain=True))


def _unknown_word(t: _Text, k: int) -> bool:
    """Capitalised (in cased text) or out-of-vocabulary, and not a word that names nothing."""
    w = t.w[k]
    if not w[:1].isalpha() or w in stop_words() or w in _NOT_NAME or w in forces.NOT_IDENTIFYING:
        return False
    if w in POLICE_TERMS or (t.mode == "mixed" and t.toks[k].text.isupper() and len(w) <= 5):
        return False  # "CPS", "MASH", "ANPR"
    return t.cap(k) or is_oov(w)


def _groups_and_streets(t: _Text, out: list[Hit]) -> None:
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


_STRONG_CUE_WORDS = frozenset(c for c in _STRONG_PLACE_CUES if len(c) > 1)


def _misheard(t: _Text, out: list[Hit]) -> None:
    """Speech-to-text turns "Northants Police" into "north and the police" and "Kettering" into "catering": words
    that sound like a force before "police", or like a town after "lives in", are near-misses for review."""
    for i in range(1, t.n):
        if t.w[i] in ("police", "constabulary"):
            for size in (3, 2, 1):
                if i - size < 0 or not all(t.linked(k) for k in range(i - size + 1, i + 1)):
                    continue
                window = t.w[i - size : i]
                if window[0] in stop_words() or window[-1] in _FORCE_WORDS:
                    continue
                if _force_index()[0].get(tuple(window)) or any(tuple(window[k:]) in _force_index()[0]
                                                               for k in range(size)):
                    break  # a force the gazetteer knows ("Greater Manchester Police"), not a mishearing
                spelt = "".join(window)
                if len(spelt) >= 5 and any(SequenceMatcher(None, spelt, f).ratio() >= 0.75
                                           for f in _force_spellings()):
                    out.append(t.hit(i - size, i + 1, "FORCE", "cue", 0.35, uncertain=True))
                    break
        cue = _match_before(t.w, i, _PLACE_CUES)
        w = t.w[i]
        if cue in _STRONG_CUE_WORDS and w.isalpha() and w not in stop_words() and not gazetteers.places().word(w):
            place = _place_sounds().get(_phonetic(w))
            if place and place != w:
                out.append(t.hit(i, i + 1, "LOCATION", "cue", 0.35, uncertain=True))


def find(text: str) -> list[Hit]:
    t = _Text(text)
    out: list[Hit] = []
    if not t.n:
        return out
    _forces(t, out)
    _ranked_names(t, out)
    _roles(t, out)
    _cued_names(t, out)
    _given_names(t, out)
    _surnames(t, out)
    _places(t, out)
    _operations(t, out)
    _departments(t, out)
    _organisations(t, out)
    _place_cues(t, out)
    _groups_and_streets(t, out)
    _misheard(t, out)
    return [h for h in out if not _inside_law_name(text, h)]


def _inside_law_name(text: str, h: Hit) -> bool:
    """"Clare's Law", "Sarah's Law" name a scheme, not a person."""
    return h.label == "PERSON" and bool(re.match(r"['\u2019]s\s+law\b", text[h.end :], re.IGNORECASE))

