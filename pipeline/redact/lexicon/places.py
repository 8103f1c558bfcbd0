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
                     "work out of", "works out of", "worked out of", "area of", "side of", "cover", "covers",
                     "covering", "covered", "patrol", "patrols", "patrolling", "patrolled", "policing"))
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
    "kashmiri", "zealander", "zambian", "malawian", "ugandan", "african", "brazilian", "colombian"
])
_STREET_SUFFIX = frozenset([
    "street", "road", "lane", "avenue", "drive", "close", "crescent", "way", "grove", "gardens", "terrace", "mews",
    "walk", "row", "square", "parade", "rise", "vale", "fold", "place"
])
NOT_STREET = frozenset([
    "main", "high", "back", "side", "the", "a", "same", "busy", "little", "big", "dirt", "country", "private",
    "one", "long", "wrong", "other", "next", "this", "that", "our", "my", "his", "her", "their", "every", "new",
    "old", "right", "left", "top", "bottom", "end", "slip", "ring", "service"
])


# Words before a street, pub or building name in speech: "lived on mill lane", "drinks in the red lion".
_SITE_CUES = frozenset({"on", "at", "in", "down", "up", "along", "off", "onto", "near", "from", "to", "round",
                        "outside", "behind", "opposite", "past", "into", "by"})
_STREET_HEADS = frozenset({"lane", "road", "street", "avenue", "close", "drive", "way", "crescent", "grove",
                           "terrace", "gardens", "mews"})
_NOT_STREET_NAME = frozenset({"home", "motor", "slip", "ring", "test", "fast", "sea", "dual", "drive", "car",
                              "long", "half", "mid", "each", "either", "any", "same", "wrong", "right", "one", "two"})
_PUB_HEADS = frozenset({"arms", "inn", "tavern"})
_PUBS = tuples(("red lion", "white lion", "golden lion", "white hart", "kings head", "king's head", "queens head",
                "queen's head", "royal oak", "black bull", "white horse", "black horse", "bay horse", "nags head",
                "nag's head", "rose and crown", "coach and horses", "fox and hounds", "bulls head", "bull's head",
                "wheatsheaf", "dog and gun", "old bell", "blue bell", "three horseshoes", "horse and jockey"))
# Pub names in speech: "the <adjective> <noun>" after a place word ("drinking at the golden fleece").
_PUB_ADJECTIVES = frozenset({"red", "white", "black", "golden", "old", "royal", "blue", "green", "grey", "brown",
                             "kings", "queens", "king's", "queen's", "jolly", "flying", "spotted", "dun", "three",
                             "fighting", "hare", "rising", "setting", "bay", "little", "new", "eight", "seven"})
_PUB_NOUNS = frozenset({"lion", "swan", "fleece", "horse", "hart", "bull", "bell", "crown", "anchor", "plough",
                        "ship", "star", "oak", "feathers", "fox", "stag", "dog", "cock", "cow", "boar", "bear",
                        "eagle", "falcon", "pheasant", "greyhound", "hound", "hounds", "mitre", "sun", "moon", "globe",
                        "grapes", "vine", "harp", "boot", "chequers", "beehive", "lamb", "ram", "unicorn", "griffin",
                        "dragon", "hind", "duck", "drake", "heifer", "horseshoe", "horseshoes", "bells", "swan's",
                        "tavern", "inn", "arms", "head", "hart's", "bush", "cross", "kettle", "pig", "buck"})
_NOT_BUILDING = frozenset({"safe", "council", "halfway", "open", "full", "big", "small", "new", "old", "family",
                           "care", "foster", "whole", "main", "next", "other", "same", "public", "terraced",
                           "detached", "semi", "town", "country", "court", "station", "bail", "dog", "green"})


def sites(t: Text, out: list[Hit]) -> None:
    """Lower-case streets, pubs and named buildings that only their shape and a cue give away: "on mill lane",
    "weaver way", "the red lion", "the kings arms", "at brook house"."""
    for i in range(1, t.n):
        w = t.w[i]
        prev = t.w[i - 1]
        # "the red lion", "the white hart inn", "the kings arms": a known pub name or "<word> arms/inn/tavern"
        if prev == "the":
            pub = match_at(t.w, i, _PUBS)
            end = i + len(pub) if pub else 0
            if not pub and i + 1 < t.n and t.linked(i + 1):
                head = next((k for k in (i + 1, i + 2) if k < t.n and t.w[k] in _PUB_HEADS), None)
                if head and all(_name_word(t, k) for k in range(i, head)):
                    end = head + 1
            if not end and i + 1 < t.n and t.linked(i + 1) and t.w[i] in _PUB_ADJECTIVES and \
                    t.w[i + 1] in _PUB_NOUNS and i >= 2 and t.w[i - 2] in _SITE_CUES:
                end = i + 2  # "at the golden fleece", "outside the black swan"
            if not end and i + 2 < t.n and t.w[i] in _PUB_NOUNS and t.w[i + 1] == "and" and \
                    t.w[i + 2] in _PUB_NOUNS and i >= 2 and t.w[i - 2] in _SITE_CUES:
                end = i + 3  # "at the crown and anchor", "in the dog and duck"
            if end:
                if end < t.n and t.w[end] in _PUB_HEADS:
                    end += 1
                out.append(t.hit(i - 1, end, "ORGANISATION", "gazetteer", 0.6))
                continue
        named = _named_site(t, i)
        if named:
            out.append(t.hit(i, named[0], named[1], "cue", 0.55))
            continue
        if _home_street(t, i):
            out.append(t.hit(i, i + 2, "ADDRESS", "cue", 0.55))
            continue
        if prev not in _SITE_CUES or not _name_word(t, i) or i + 1 >= t.n or not t.linked(i + 1):
            continue
        nxt, after = t.w[i + 1], t.w[i + 2] if i + 2 < t.n else ""
        if nxt not in _STREET_HEADS and after in _STREET_HEADS and t.linked(i + 2) and _name_word(t, i + 1) and \
                nxt not in _NOT_STREET_NAME and w not in _NOT_STREET_NAME and prev in ("on", "off", "down", "along"):
            out.append(t.hit(i, i + 3, "ADDRESS", "cue", 0.5))  # "on cross green lane"
            continue
        if nxt in _STREET_HEADS and w not in _NOT_STREET_NAME and not (nxt == "close" and after in ("to", "by")) \
                and not (nxt == "way" and after in ("to", "of", "through", "round", "back", "home")):
            out.append(t.hit(i, i + 2, "ADDRESS", "cue", 0.55))
        elif nxt == "house" and w not in _NOT_BUILDING and prev in ("at", "to", "from", "outside", "into"):
            out.append(t.hit(i, i + 2, "ORGANISATION", "cue", 0.5, uncertain=True))


_HOME_VERBS = frozenset({"live", "lives", "lived", "living", "moved", "move", "grew", "stays", "stayed", "staying"})
_ANY_STREET = frozenset({"main", "high", "same", "busy", "wrong", "other", "next", "this", "that", "every", "one",
                         "the", "a", "an", "my", "his", "her", "their", "our", "your", "its", "whole"})


def _home_street(t: Text, i: int) -> bool:
    """"they lived on back lane", "she lives off long row": where someone lives, even a plain word names the street
    (but not "the main road", "the high street", "the same street")."""
    if i < 2 or i + 1 >= t.n or t.w[i - 1] not in ("on", "off", "down", "up") or t.w[i - 2] not in _HOME_VERBS:
        return False
    w = t.w[i]
    return t.w[i + 1] in _STREET_HEADS and t.linked(i + 1) and w.isalpha() and w not in _ANY_STREET and \
        not t.toks[i].possessive


# "the manor estate", "the strand shopping centre": a named estate or centre, whatever the word before it.
_NAMED_SITES = {("estate",): "LOCATION", ("shopping", "centre"): "ORGANISATION", ("retail", "park"): "ORGANISATION",
                ("shopping", "center"): "ORGANISATION", ("industrial", "estate"): "LOCATION",
                ("trading", "estate"): "LOCATION", ("business", "park"): "ORGANISATION"}
_NOT_SITE_NAME = frozenset({"same", "whole", "other", "council", "housing", "local", "big", "new", "old", "nearest",
                            "next", "main", "real", "private", "family", "entire", "rough", "posh", "little", "nice",
                            "biggest", "largest", "town", "city", "one", "first", "last", "bad", "worst", "only",
                            "industrial", "trading", "business", "retail", "shopping"})


def _named_site(t: Text, i: int) -> tuple[int, str] | None:
    """(end, label) of "the <name> estate" starting at token i (the name), after "the"."""
    if t.w[i - 1] != "the" or i < 2 or t.w[i - 2] not in _SITE_CUES | {"off", "of", "across", "around"}:
        return None
    w = t.w[i]
    if not w.isalpha() or w in stop_words() or w in _NOT_SITE_NAME or t.toks[i].possessive:
        return None
    for first in (i + 1, i + 2):  # "the manor estate", "the lane head estate"
        if first == i + 2 and (i + 1 >= t.n or not t.linked(i + 1) or not t.w[i + 1].isalpha() or
                               t.w[i + 1] in stop_words() or t.w[i + 1] in _NOT_SITE_NAME or t.toks[i].possessive):
            break
        for head, label in _NAMED_SITES.items():
            if tuple(t.w[first : first + len(head)]) == head and \
                    all(t.linked(k) for k in range(first, first + len(head))):
                return first + len(head), label
    return None


def _name_word(t: Text, k: int) -> bool:
    w = t.w[k]
    return w.isalpha() and w not in stop_words() and w not in NOT_STREET and not t.toks[k].possessive


# Places everyone goes to ("everyone at church", "back to school"), not the towns of the same name (Church, Lancs).
_GOES_TO = frozenset({("church",), ("chapel",), ("school",), ("work",), ("home",), ("college",), ("mosque",),
                      ("temple",), ("court",), ("hospital",), ("prison",), ("sea",), ("town",), ("bed",)})


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
        strong = (cue is not None and cue in STRONG_PLACE_CUES) or _beside_place(t, i, end, places)
        capital = all(t.upper_first(k) or t.w[k] in ("upon", "on", "the", "in", "le", "of") for k in range(i, end))
        if key in places.ambiguous:
            if (_verb_after_to(t, i, end, cue) or key in _GOES_TO or all(w in stop_words() for w in key)) and \
                    not capital:
                i += 1
                continue
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


# Places that are also verbs: after "to" with an object they are the verb ("to send them", "going to deal with it").
_VERB_PLACES = frozenset({"send", "deal", "box", "hope", "march", "mark", "rake", "settle", "sway", "tumble", "bow",
                          "hose", "stow", "bury", "rock", "wall", "hook", "pool", "bridge", "stock", "crook", "sale"})
_VERB_OBJECTS = frozenset({"with", "them", "it", "him", "her", "me", "us", "you", "the", "a", "an", "some", "any",
                           "this", "that", "those", "these", "my", "his", "their", "your", "our", "out", "off", "back",
                           "over", "round", "down", "up", "pictures", "photos", "messages", "videos", "things", "stuff",
                           "anything", "everything", "something", "nothing", "on", "for", "in", "into", "one", "more"})
_TRAVEL = frozenset({"went", "go", "goes", "going", "gone", "moved", "move", "moving", "drove", "drive", "driving",
                     "posted", "transferred", "travelled", "came", "come", "coming", "back", "way", "train", "bus",
                     "commute", "commuted", "road", "route", "trip", "visit"})


def _verb_after_to(t: Text, i: int, end: int, cue: tuple[str, ...] | None) -> bool:
    """"he got a girl of fifteen to send them": an infinitive, unless someone travels there ("moved to deal")."""
    if end != i + 1 or t.w[i] not in _VERB_PLACES or cue is None or cue[-1] != "to":
        return False
    before = t.w[i - len(cue) - 1] if i - len(cue) - 1 >= 0 else ""
    if cue[0] in _TRAVEL or before in _TRAVEL:
        return end < t.n and t.w[end] in ("with", "them", "it", "him", "her", "out", "off", "the", "a", "an", "some",
                                          "my", "his", "their")  # "going to deal with it", "went to mark the exams"
    return end >= t.n or t.w[end] in _VERB_OBJECTS


def _beside_place(t: Text, i: int, end: int, places: gazetteers.WordList) -> bool:
    """"covering street and glastonbury", "in wells or frome": listed beside a place that is surely one."""
    def sure(k: int) -> bool:
        return 0 <= k < t.n and (t.w[k],) in places and (t.w[k],) not in places.ambiguous

    return (end + 1 < t.n and t.w[end] in ("and", "or") and sure(end + 1)) or (
        i >= 2 and t.w[i - 1] in ("and", "or") and sure(i - 2))


def extend_facility(t: Text, end: int) -> int:
    """"Wakefield police station", "Sheffield Crown Court": the building goes with the place."""
    if end < t.n and t.linked(end):
        suffix = match_at(t.w, end, _FACILITY_SUFFIX)
        if suffix:
            return end + len(suffix)
    return end


# Faiths and peoples a person belongs to ("from a catholic family", "she's yoruba"), except as the kind of an
# institution ("a catholic secondary", "the methodist church"); "christian" is a given name too, so it needs words
# around that make it a faith ("i am a christian woman").
_FAITHS = frozenset({"catholic", "protestant", "buddhist", "pentecostal", "rastafarian", "mormon", "methodist",
                     "baptist", "presbyterian", "anglican", "evangelical", "yoruba", "igbo", "hausa", "christian"})
_INSTITUTION_AFTER = frozenset({"school", "schools", "secondary", "primary", "high", "church", "churches", "college",
                                "academy", "grammar", "cathedral", "chaplain", "priest", "charity", "diocese", "parish",
                                "club", "centre", "hall", "chapel", "association", "union", "society", "minister",
                                "ministers", "mission", "trust", "care", "children's", "youth", "aid"})
_FAITH_BEFORE = frozenset({"a", "very", "devout", "practising", "practicing", "orthodox", "strict", "strong", "good",
                           "born", "born-again", "staunch", "committed", "i'm", "im", "am", "are", "we're", "they're"})
_FAITH_AFTER = frozenset({"woman", "man", "family", "families", "girl", "boy", "lad", "household", "community", "faith",
                          "values", "background", "home", "parents", "people", "kids", "upbringing", "mum", "dad"})


def _faith(t: Text, i: int) -> bool:
    w = t.w[i]
    after = t.w[i + 1] if i + 1 < t.n else ""
    if w not in _FAITHS or after in _INSTITUTION_AFTER:
        return False
    return w != "christian" or (i > 0 and t.w[i - 1] in _FAITH_BEFORE) or after in _FAITH_AFTER


def groups_and_streets(t: Text, out: list[Hit]) -> None:
    for i in range(t.n):
        if t.w[i] in _GROUPS or _faith(t, i):  # "who speaks polish" too: the language someone speaks places them
            out.append(t.hit(i, i + 1, "GROUP", "gazetteer", 0.6, uncertain=True))
        # "Beverley Road", "raglan road", "Clarke Road": a name or place before a street word
        if t.w[i] in _STREET_SUFFIX and i > 0 and t.linked(i) and not t.w[i - 1][:1].isdigit():
            k = i - 1
            w = t.w[k]
            if w in NOT_STREET or w in stop_words() or not w[:1].isalpha() or (
                    t.w[i] == "way" and i + 1 < t.n and t.w[i + 1] in ("back", "too", "more", "off", "out", "better")):
                continue  # "my tutor way back was"
            evidence = (t.upper_first(k) and t.upper_first(i)) or is_oov(w) or gazetteers.places().word(w) or \
                gazetteers.given_names().word(w) or gazetteers.surnames().sure_word(w)
            if evidence:
                while k > 0 and i - k < 3 and t.linked(k) and ((t.upper_first(k - 1) and t.mode == "mixed")
                                                             or is_oov(t.w[k - 1])) and t.w[k - 1] not in stop_words():
                    k -= 1
                out.append(t.hit(k, i + 1, "ADDRESS", "gazetteer", 0.75))
