"""Employers, schools, hospitals, churches and clubs: known names, and names before an institution word."""

from __future__ import annotations

from functools import lru_cache

from pipeline.redact import gazetteers
from pipeline.redact.base import is_common, is_oov, stop_words
from pipeline.redact.lexicon.names import name_run, namey
from pipeline.redact.lexicon.text import DETERMINERS, Hit, Text, match_at, match_before, tuples

ORG_CUES = tuples(("drove for", "drive for", "drives for", "delivers for", "delivered for", "carer for",
                   "cleaner for", "works at", "works for", "worked at", "worked for", "working at", "working for",
                   "work at", "work for", "job at", "employed by", "driver for", "drives for", "driving for",
                   "studying at", "student at", "studied at", "went to", "was at", "started at", "school was",
                   "college was", "shift at", "shifts at", "placement at", "manager at", "cleaner at", "apprentice at",
                   "apprenticeship at", "volunteer at", "volunteers at", "volunteered at", "interview at", "bank was",
                   "bank is", "banks with", "banked with", "account with", "account at"))
# Places of work and leisure named after "called": "a bar called the dun cow", "a firm called ...".
_VENUES = frozenset({"bar", "pub", "club", "nightclub", "shop", "cafe", "restaurant", "takeaway", "firm", "company",
                     "business", "salon", "garage", "gym", "hotel", "school", "college", "academy", "charity",
                     "agency", "factory", "warehouse", "church", "mosque", "centre", "venue", "site", "estate",
                     "street", "road", "village", "town", "place", "unit", "home", "hostel"})
ORG_SUFFIX = tuples(("academy", "college", "university", "uni", "school", "primary", "primary school",
                      "high school", "grammar school", "grammar", "sixth form", "hospital", "infirmary", "surgery",
                      "medical centre", "health centre", "church", "mosque", "gurdwara", "mandir", "synagogue",
                      "fc", "football club", "rugby club", "ltd", "limited", "plc", "group", "housing",
                      "housing association", "trust", "nhs trust", "council", "barracks", "centre", "center"))

_EMPLOYERS = frozenset(gazetteers.split_entry(e) for e in (
    "tesco", "asda", "sainsbury's", "sainsburys", "morrisons", "aldi", "lidl", "greggs", "primark", "argos",
    "mcdonald's", "mcdonalds", "kfc", "nando's", "nandos", "costa", "starbucks", "wetherspoons", "amazon",
    "royal mail", "b&q", "jd sports", "sports direct", "currys", "waitrose", "m&s", "marks and spencer", "poundland",
    "home bargains", "b&m", "wilko", "superdrug", "subway", "pret", "deliveroo", "just eat", "hermes", "evri",
    "dpd", "barnardos", "barnardo's", "nspcc", "sainsbury", "tesco's", "asda's", "toby carvery", "harvester",
    "b and q", "b and m", "m and s", "j d sports", "k f c", "uber", "ocado", "yodel", "parcelforce", "dhl", "fedex",
    "costcutter", "londis", "nisa", "one stop", "kwik fit", "halfords", "screwfix", "toolstation", "wickes",
    "homebase", "dunelm", "matalan", "tk maxx", "h and m", "footlocker", "specsavers", "vodafone", "pizza hut",
    "dominos", "domino's", "burger king", "frankie and benny's", "wagamama", "pizza express", "travelodge",
    "premier inn", "holiday inn", "odeon", "cineworld", "pets at home", "card factory",
    "farmfoods", "heron foods", "poundstretcher", "pure gym", "puregym", "the gym group", "hollister",
    "selfridges", "john lewis", "debenhams", "morrison's", "aldi's", "lidl's", "waitrose", "mcdonald", "asos",
    "boohoo", "shein", "tui", "jet2", "ryanair", "easyjet", "serco", "g4s", "capita", "sodexo",
    "arriva", "first bus", "stagecoach", "national express", "northern rail", "avanti",
    "spar", "budgens", "barclays", "natwest", "lloyds", "halifax", "santander", "hsbc", "monzo", "tsb", "metro bank",
    "starling", "virgin money", "first direct", "yorkshire building society", "co-op bank", "co op bank",
))
# An unknown or place word before these is a firm: "bluebird care", "ace cars", "parkers removals".
_FIRM_SUFFIX = tuples(("care", "homecare", "home care", "care home", "nursery", "pharmacy", "solicitors", "motors",
                       "removals", "builders", "plumbing", "electrical", "taxis", "cars", "private hire",
                       "recruitment", "logistics", "transport", "construction", "salon", "barbers", "foods",
                       "developments", "properties", "lettings", "estate agents", "accountants", "dental",
                       "dentists", "vets", "kitchens", "motor company", "garage", "autos", "bakery", "butchers"))
_AMBIGUOUS_EMPLOYERS = frozenset(gazetteers.split_entry(e) for e in ("boots", "next", "iceland", "co-op", "coop",
                                                                     "river island", "new look", "greggs's",
                                                                     "nationwide", "premier", "the range"))
_ALL_EMPLOYERS = sorted(_EMPLOYERS | _AMBIGUOUS_EMPLOYERS, key=len, reverse=True)
_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _e in _ALL_EMPLOYERS:
    _BY_FIRST.setdefault(_e[0], []).append(_e)  # longest first, as in _ALL_EMPLOYERS


def organisation_names(t: Text, out: list[Hit]) -> None:
    places = gazetteers.places()
    for i in range(t.n):
        key = next((e for e in _BY_FIRST.get(t.w[i], ()) if tuple(t.w[i : i + len(e)]) == e), None)
        if key and (key in _EMPLOYERS or t.upper_first(i) or match_before(t.w, i, ORG_CUES)):
            out.append(t.hit(i, i + len(key), "ORGANISATION", "gazetteer", 0.8))
        firm = match_at(t.w, i, _FIRM_SUFFIX)
        if firm and i > 0 and t.linked(i) and _org_word(t, i - 1, places) and t.mode != "mixed":
            k = i - 1
            while k > 0 and i - k < 2 and t.linked(k) and _org_word(t, k - 1, places):
                k -= 1
            out.append(t.hit(k, i + len(firm), "ORGANISATION", "cue", 0.55))
        # "Thornhill Academy", "kirklees college", "the Royal Infirmary", "St Benedict's"
        suffix = match_at(t.w, i, ORG_SUFFIX)
        if suffix and i > 0 and t.linked(i):
            k = i
            while k > 0 and i - k < 3 and t.linked(k) and _org_word(t, k - 1, places):
                k -= 1
            if k < i and tuple(t.w[k : i + len(suffix)]) not in (("city", "centre"), ("town", "centre")):
                out.append(t.hit(k, i + len(suffix), "ORGANISATION", "gazetteer", 0.75))
        if t.w[i] in ("called", "named") and i > 0 and t.w[i - 1] in _VENUES:
            k = i + 1 + (1 if i + 1 < t.n and t.w[i + 1] == "the" else 0)
            end = k
            while end < t.n and end - k < 3 and t.linked(end) and t.w[end].isalpha() and (
                    end == k or t.w[end] not in stop_words()) and t.w[end] not in ("and", "or", "but", "in", "on"):
                end += 1
            if end > k and t.w[k] not in stop_words():
                label = "LOCATION" if t.w[i - 1] in ("estate", "street", "road", "village", "town") else "ORGANISATION"
                out.append(t.hit(i + 1, end, label, "cue", 0.6))
        if t.w[i] == "royal" and i > 0 and t.w[i - 1] == "the" and i + 1 < t.n and t.linked(i + 1) and \
                places.word(t.w[i + 1]) and not match_at(t.w, i + 2, ORG_SUFFIX):
            out.append(t.hit(i, i + 2, "ORGANISATION", "gazetteer", 0.7))  # hospitals: "the royal stoke"
        if t.w[i] in ("st", "saint") and i + 1 < t.n and t.linked(i + 1) and namey(t, i + 1, strong_cue=True):
            end = name_run(t, i + 1, strong_cue=True, limit=2)
            if end > i + 1:
                out.append(t.hit(i, end, "ORGANISATION", "gazetteer", 0.7))


# Head nouns of the small services, venues and gyms people name ("the birch centre", "sahara women's project",
# "tees valley lodge", "ironworks fitness"), and the words before them that make the phrase a kind, not a name
# ("the community centre", "the victim service"): a head with a word outside these before it is a named place.
_INSTITUTION_HEADS = frozenset({"centre", "center", "project", "service", "services", "lodge", "fitness", "gym",
                                "foundation", "partnership", "collective", "network", "alliance", "inn", "arms",
                                "tavern", "hotel", "refuge", "hub", "nails", "lounge", "funfair", "salon", "barbers",
                                "motors", "taxis", "cabs", "bakery", "takeaway", "tattoo", "tattoos", "dental",
                                "haulage", "foods", "logistics", "removals", "plumbing", "roofing", "scaffolding",
                                "joinery", "recruitment", "lettings", "autos", "tyres", "carpets", "kitchens",
                                "palace", "nursery", "nurseries", "trust", "studio", "studios", "tabernacle",
                                "chapel", "mosque", "temple", "gurdwara"})
_KIND_WORDS = frozenset({
    "community", "health", "leisure", "sports", "sport", "job", "jobs", "city", "town", "shopping", "medical", "day",
    "family", "families", "youth", "advice", "test", "testing", "call", "data", "custody", "training", "contact",
    "crisis", "arts", "art", "student", "students", "learning", "visitor", "visitors", "garden", "recovery",
    "resource", "resources", "assessment", "referral", "support", "rape", "drop-in", "drop", "in", "children's",
    "women's", "men's", "womens", "mens", "childrens", "victim", "victims", "witness", "witnesses", "police",
    "probation", "ambulance", "prison", "court", "courts", "counselling", "counseling", "therapy", "mental",
    "sexual", "assault", "domestic", "abuse", "violence", "new", "old", "main", "local", "big", "small", "nearest",
    "same", "other", "whole", "national", "regional", "central", "little", "specialist", "independent", "social",
    "care", "council", "fire", "rescue", "helpline", "online", "digital", "phone", "telephone", "outreach", "housing",
    "homeless", "homelessness", "addiction", "drug", "drugs", "alcohol", "nhs", "gp", "walk-in",
    "walk", "urgent", "emergency", "a&e", "treatment", "rehab", "rehabilitation", "public", "private", "hotel",
    "cheap", "village", "church", "sixth", "form", "early", "help", "safeguarding", "protection", "child",
    "adult", "adults", "customer", "customers", "forensic", "evidence", "exam", "examination", "legal", "citizens",
    "citizen's", "victim's", "victims'", "bereavement", "intervention", "prevention", "liaison", "wellbeing",
    "lgbt", "lgbtq", "student's", "pupil", "school", "university", "college", "the", "a", "an", "this", "that",
    "postal", "delivery", "dating", "escort", "taxi", "bus", "coach", "rail", "train", "security", "cleaning",
    "catering", "my", "our", "your", "his", "her", "their", "its", "budget", "country", "airport", "station",
    "conference", "function", "events", "event", "play", "soft", "boxing", "fitness", "weights", "council's",
    "one", "two", "stop", "shop", "trust", "good", "best", "real", "proper", "free", "paid", "hair", "nail", "beauty",
    "tanning", "departure", "vip", "staff", "sun", "chip", "kebab", "pizza", "indian", "chinese", "local's"})
# Heads that name a business even after a word for its trade ("the hair lounge", "lily nails"): a generic one says
# "salon" or "bar".
_TRADE_HEADS = frozenset({"lounge", "nails", "palace"})


def named_institutions(t: Text, out: list[Hit]) -> None:
    """"the birch centre", "arden survivors service", "ironworks fitness": a head noun of a small service or venue
    after one to three words, at least one of them not a word for a kind of service, after "the" or a preposition
    (or a capital in cased text). Uncertain: shown to the reviewer first."""
    for h in range(1, t.n):
        if t.w[h] not in _INSTITUTION_HEADS or not t.linked(h):
            continue
        k = h
        while k > 0 and h - k < 3 and t.linked(k) and _institution_word(t.w[k - 1]) and \
                t.w[k - 1] not in _BEFORE_INSTITUTION:
            k -= 1
        kinds = all(t.w[j] in _KIND_WORDS for j in range(k, h))
        if k == h or (kinds and not (t.w[h] in _TRADE_HEADS and t.w[h - 1] not in ("departure", "vip", "staff"))):
            continue
        before = t.w[k - 1] if k > 0 else ""
        if t.mode == "mixed" and not t.toks[k].text[:1].isupper():
            continue
        if before not in _BEFORE_INSTITUTION and not (t.mode == "mixed" and k > 0):
            continue
        out.append(t.hit(k, h + 1, "ORGANISATION", "cue", 0.5, uncertain=True))


_BEFORE_INSTITUTION = frozenset({"the", "at", "from", "for", "with", "to", "called", "named", "via", "through",
                                 "by", "into", "gym", "charity", "pub", "hotel", "centre", "bar", "salon", "like",
                                 "church", "mosque", "chapel"})


# Words British pubs are named by ("the feathers", "the half moon", "the red lion"): after "at/in/the pub" a venue.
_PUB_HEADS = frozenset({"feathers", "pheasant", "lion", "anchor", "swan", "plough", "fox", "hounds", "bull", "stag",
                        "hart", "eagle", "falcon", "wheatsheaf", "mermaid", "chequers", "greyhound", "woolpack",
                        "cavern", "horseshoe", "unicorn", "griffin", "boar", "pelican", "peacock", "partridge",
                        "grapes", "harp", "shamrock", "thistle", "globe", "moon", "crown", "bell", "ship", "oak",
                        "head", "arms", "beehive", "magpie", "kestrel", "rising", "sun", "lamb", "arch"})
# Heads that need a word before them to be a pub ("the half moon", "the kings head", "the royal oak")
_PUB_HEADS_PAIRED = frozenset({"moon", "crown", "bell", "ship", "oak", "head", "arms", "sun", "rising"})
_BEFORE_PUB = frozenset({"at", "in", "to", "from", "outside", "behind", "pub", "bar", "down", "round", "near"})
_NOT_PUB_AFTER = frozenset({"court", "office", "prosecution", "service", "estate", "street", "road", "lane", "ring",
                            "and", "of", "teacher"})


def named_pubs(t: Text, out: list[Hit]) -> None:
    """"working at the feathers", "drinks in the half moon", "the other pub the pheasant": a pub by its name.
    Uncertain."""
    for h in range(2, t.n):
        if t.w[h] not in _PUB_HEADS or not t.linked(h):
            continue
        k = h
        while k > 0 and h - k < 3 and t.w[k - 1] != "the" and t.linked(k) and t.w[k - 1].isalpha() and \
                (t.w[k - 1] not in stop_words() or t.w[k - 1] in ("and", "of")):
            k -= 1
        if k < 2 or t.w[k - 1] != "the" or t.w[k - 2] not in _BEFORE_PUB:
            continue
        if (k == h and t.w[h] in _PUB_HEADS_PAIRED) or (
                h + 1 < t.n and t.linked(h + 1) and t.w[h + 1] in _NOT_PUB_AFTER):
            continue
        if any(t.w[j] in _KIND_WORDS and t.w[j] not in ("old", "new") for j in range(k, h)):
            continue  # "at the same fox", "at the local bell"
        if t.mode == "mixed" and not t.toks[h].text[:1].isupper() and t.w[k - 2] not in ("pub", "bar"):
            continue
        out.append(t.hit(k - 1, h + 1, "ORGANISATION", "cue", 0.45, uncertain=True))


_VENUE_TYPES = frozenset({"pub", "bar", "cafe", "café", "restaurant", "hotel", "club", "salon", "takeaway"})
_BUSINESS_WORDS = frozenset({"place", "shop", "firm", "company", "business", "charity", "group", "gym", "school",
                             "garage"})
_BUSINESS_KINDS = _VENUE_TYPES | _BUSINESS_WORDS


def venue_before_type(t: Text, out: list[Hit]) -> None:
    """Venues named beside the word for their kind: "she worked at the marble arch pub", "a little cafe called the
    blue door", "he runs spice junction the takeaway", "at the jolly carter". Uncertain."""
    for h in range(2, t.n):
        if t.w[h] in _VENUE_TYPES and t.linked(h):
            _name_before_kind(t, h, out)
        elif t.w[h] == "jolly":
            _jolly_pub(t, h, out)
        elif t.w[h] == "the":
            _named_before_business(t, h, out)
            _the_name_then_kind(t, h, out)
        if t.w[h - 2: h] == ["called", "the"]:
            _called_the(t, h, out)


def _name_before_kind(t: Text, h: int, out: list[Hit]) -> None:
    """"at the marble arch pub": up to three words between "the" and the venue's kind."""
    k = h
    while k > 0 and h - k < 3 and t.linked(k) and t.w[k - 1].isalpha() and t.w[k - 1] not in stop_words() \
            and t.w[k - 1] not in _KIND_WORDS and t.w[k - 1] not in _VENUE_TYPES:
        k -= 1
    if k < h and k >= 2 and t.w[k - 1] == "the" and t.w[k - 2] in _BEFORE_PUB | {"called"} and \
            not (t.mode == "mixed" and not t.toks[k].text[:1].isupper() and is_common(t.w[k])):
        out.append(t.hit(k, h, "ORGANISATION", "cue", 0.45, uncertain=True))


def _jolly_pub(t: Text, h: int, out: list[Hit]) -> None:
    """"at the jolly carter", not "a jolly good night"."""
    if t.w[h - 1] == "the" and t.w[h - 2] in _BEFORE_PUB and h + 1 < t.n and t.linked(h + 1) and \
            t.w[h + 1].isalpha() and t.w[h + 1] not in stop_words() and \
            t.w[h + 1] not in ("good", "nice", "well", "decent", "big", "lucky", "glad"):
        out.append(t.hit(h - 1, h + 2, "ORGANISATION", "cue", 0.45, uncertain=True))


def _called_the(t: Text, h: int, out: list[Hit]) -> None:
    """"a cafe in deri called the blue door": a business said shortly before "called the <words>"."""
    if not t.w[h].isalpha() or t.w[h] in stop_words():
        return
    end = h
    while end < t.n and end - h < 3 and (end == h or t.linked(end)) and t.w[end].isalpha() and \
            t.w[end] not in stop_words():
        end += 1
    if any(w in _BUSINESS_KINDS for w in t.w[max(0, h - 6): h - 2]):
        out.append(t.hit(h - 1, end, "ORGANISATION", "cue", 0.45, uncertain=True))


# "in the larches the care home", "at the hive it's a youth club", "behind the junction which is the pub": a place
# named by ordinary words, then said what it is.
# (tokens drop a possessive-like 's: "it's" reads as "it")
_BRIDGES = (("the",), ("a",), ("which", "is", "the"), ("which", "is", "a"), ("which", "the"), ("it", "a"),
            ("it", "the"), ("that", "the"), ("that", "a"))
_APPOSED_KINDS = _BUSINESS_KINDS | frozenset({
    "home", "nursery", "bakery", "butchers", "butcher's", "factory", "farm", "hall", "centre", "church", "chapel",
    "mosque", "studio", "studios", "barbers", "barber's", "chippy", "bookies", "pharmacy", "chemist", "surgery",
    "warehouse", "depot", "hostel", "band", "nightclub", "club"})
_NOT_VENUE_NAME = frozenset({"end", "time", "moment", "start", "back", "front", "top", "bottom", "weekend", "day",
                             "night", "same", "other", "first", "last", "next", "whole", "rest", "middle", "side",
                             "way", "morning", "evening", "afternoon", "minute", "beginning", "local", "new", "old",
                             "park", "school", "station", "shops", "shop", "town", "beach", "field", "river", "canal",
                             "pub", "hospital", "estate", "village", "city", "flats", "office", "nick", "court", "gym",
                             "bus", "car", "van", "house", "street", "road", "door", "pictures", "police"})


def _the_name_then_kind(t: Text, h: int, out: list[Hit]) -> None:
    if t.w[h - 1] not in _BEFORE_PUB | _OWNING or h + 1 >= t.n or t.w[h + 1] in _NOT_VENUE_NAME:
        return
    end = h + 1
    while end < t.n and end - h <= 2 and (end == h + 1 or t.linked(end)) and t.w[end].isalpha() and \
            t.w[end] not in stop_words() and t.w[end] not in _APPOSED_KINDS and t.w[end] not in _KIND_WORDS:
        end += 1
    if end == h + 1:
        return
    for bridge in _BRIDGES:
        if tuple(t.w[end : end + len(bridge)]) == bridge:
            if any(w in _APPOSED_KINDS for w in t.w[end + len(bridge) : end + len(bridge) + 3]):
                out.append(t.hit(h, end, "ORGANISATION", "cue", 0.45, uncertain=True))
            return


def _appositive_business(t: Text, h: int) -> bool:
    """Token h is "the" and a business word follows within three words: "the takeaway", "the boat repair place"."""
    return any(w in _BUSINESS_KINDS for w in t.w[h + 1: h + 4])


def _named_before_business(t: Text, h: int, out: list[Hit]) -> None:
    """"he runs spice junction the takeaway near the park", "his dad had uphill marine the boat repair place": the
    words between an owning or working verb and "the <business>" name it."""
    if not _appositive_business(t, h):
        return
    k = h
    while k > 0 and h - k < 3 and t.w[k - 1].isalpha() and t.w[k - 1] not in stop_words() and \
            t.w[k - 1] not in _KIND_WORDS and t.w[k - 1] not in _OWNING:
        k -= 1
    if k < h and k > 0 and t.w[k - 1] in _OWNING:
        out.append(t.hit(k, h, "ORGANISATION", "cue", 0.45, uncertain=True))


_OWNING = frozenset({"runs", "ran", "owns", "owned", "had", "has", "at", "for", "with", "manages", "managed"})


def _institution_word(w: str) -> bool:
    return w[:1].isalpha() and (w in _KIND_WORDS or w not in stop_words()) and w not in DETERMINERS


def _org_word(t: Text, k: int, places: gazetteers.WordList) -> bool:
    w = t.w[k]
    if w in stop_words() or w in DETERMINERS or not w[:1].isalpha():
        return False
    if t.mode == "mixed":
        return t.toks[k].text[:1].isupper()
    return places.word(w) or is_oov(w) or gazetteers.given_names().sure_word(w) or w in ("royal", "city", "general")


# Initials said letter by letter after "at", "for" or "with" ("on the subs at b a e", "a course at n r c"): a firm or
# a college. National bodies and services that narrow nothing ("the d w p", "my g p", "a and e") stay readable; ranks
# and forces are the police lexicon's.
_NATIONAL_INITIALS = frozenset({
    "dwp", "gp", "bt", "hmrc", "nspcc", "bbc", "itv", "dvla", "nhs", "cps", "nca", "iopc", "sarc", "ceop", "mash",
    "cid", "psd", "uk", "usa", "tv", "pc", "dc", "ds", "di", "dci", "pcso", "sgt", "ps", "csi", "cctv", "anpr", "id",
    "ok", "dm", "dms", "pm", "am", "ip", "vpn", "gcse", "gcses", "ucas", "ba", "ma", "phd", "mp", "it", "hr", "ceo",
    "atm", "rta", "abh", "gbh", "vr", "ai", "pr", "pe", "re", "dj", "mc", "bsc", "msc", "dbs", "sen",
    "camhs", "sia", "rspca", "rnli", "ymca", "ywca", "bnp", "snp", "fbi", "cia", "un", "eu", "ss", "isva",
    "idva", "marac", "mappa", "ssp", "ctv", "bwv", "cad", "dna", "pnc", "rasso", "dvpo", "dvpn", "dash",
    "oic", "sio", "ppu", "moj", "npcc", "cait", "pcsos", "dcs", "dcis", "pcs", "dss", "dsu", "supt"})
_BEFORE_INITIALS = frozenset({"at", "for", "with", "from", "joined", "join"})


@lru_cache(maxsize=1)
def _force_initials() -> frozenset[str]:
    from pipeline.redact.gazetteers import forces

    return frozenset(a.replace(" ", "") for f in forces.FORCES for a in f.aliases if len(a) <= 9)


def spelled_initials(t: Text, out: list[Hit]) -> None:
    force_initials = _force_initials()  # built once, not per utterance
    for i in range(t.n - 2):
        if t.w[i] not in _BEFORE_INITIALS:
            continue
        j = i + 2 if t.w[i + 1] == "the" else i + 1
        k = j
        while k < t.n and len(t.w[k]) == 1 and t.w[k].isalpha() and (k == j or t.linked(k)):
            k += 1
        letters = "".join(t.w[j:k])
        if letters[:1] == "a" and (k - j < 3 or letters[1:] in _NATIONAL_INITIALS or letters[1:] in force_initials):
            continue  # "at a b", "with a p c s o": an article first
        if k - j < 2 or letters in _NATIONAL_INITIALS or letters in force_initials or letters[:1] == "i":
            continue  # "with i t": a subject
        out.append(t.hit(j, k, "ORGANISATION", "cue", 0.45, uncertain=True))
