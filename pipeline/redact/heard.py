"""What Whisper writes for identifiers it only half heard.

Whisper spells what it can't place as codes and guesses: a plate "p n one nine x t k" comes out "BN19X-TK", a
reference "DMP140222", an email "dom.walshata.gmail.com", a surname "Hollyworth" (capitalised, in no word list). And
Whisper's text is cased, so a capitalised word in the middle of a sentence that no English word list knows is nearly
always a name it heard. These layers read those forms; they are generic (shape and vocabulary), not lists of names.

  codes        slashed figures ("47/21188/23", not a date) and a token mixing letters and digits ("BN19X-TK",
               "LC-4772-24", "N142", "1SV18KBX"): a plate, postcode or reference by its shape; sizes,
               ordinals, times and gadget names ("4G", "MP3", "10pm", "19th") stay
  forces       the words before "police" after "with/for/joined" ("I'm with my suicide police"), uncertain
  mail-like    a dotted run that ends in a mail or web domain ("walshata.gmail.com", "k jones at outlook.com")
  cased names  in mixed-case text, a capitalised out-of-vocabulary word that doesn't start a sentence ("Ryward"):
               uncertain, so it is reviewed first and never propagated
  cued names   an out-of-vocabulary word right after a name cue ("called", "my ex", a rank however misheard: "BS
               hollyworth")
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.redact.base import POLICE_TERMS, RANK_WORDS, TITLE_WORDS, is_common, is_oov, stop_words
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.text import NOT_NAME, Hit, Text

if TYPE_CHECKING:
    from pipeline.redact.respell import Target

# A run of letters and digits, joined by "-", "/" or ".", with at least one of each somewhere.
_CODE = re.compile(r"(?<![\w@.'/-])(?=[\w./-]*\d)(?=[\w./-]*[A-Za-z])[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*(?![\w@'])")
# Letter-digit tokens that are ordinary: ordinals, decades, times, sizes and units, devices and networks.
_NOT_CODE = re.compile(
    r"\d+(?:st|nd|rd|th|s|am|pm|a\.m|p\.m|k|m|g|gb|mb|tb|p|km|mph|ft|cm|mm|kg|lb|lbs|x|hrs?|mins?|yrs?|yo)"
    r"|(?:mp|ps|xbox|iphone|galaxy|s|a|covid|ipad|win|windows|pixel|note|series|a\.m|p\.m|y|t|f|h)-?\d{1,2}"
    r"|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?|\d+-?(?:year|years|yr|month|week|day|hour|minute)s?(?:-old)?"
    r"|[a-z]\d|\d[a-z]|a\d[a-z]|24/7|9/11|a\d+|m\d+|(?:19|20)\d\d[/-](?:19|20)?\d\d|(?:early|mid|late)-\d0s",
    re.IGNORECASE)
# All digits, slashed: a crime or log reference Whisper wrote as figures ("47/21188/23"); dates are left out below.
_SLASHED = re.compile(r"(?<![\w/-])\d{1,6}(?:[/-]\d{2,}){1,3}(?![\w/-])")
# Digits Whisper wrote one by one with commas ("3, 4, 5, 6, double or 6, 7, 8, 9"): a phone or reference read out.
_DIGIT_RUN = re.compile(r"(?<![\w,])\d{1,5}(?:(?:,\s*|\s+)(?:(?:double|triple|treble)\s+(?:or|oh|o)\b,?\s*)?"
                        r"\d{1,5}){4,}(?![\w])", re.IGNORECASE)
# Letters Whisper spelled with hyphens ("C-I-T-L-MV"), and a rank glued to what followed it ("DCO...").
_SPELLED = re.compile(r"(?<![\w-])[A-Z]{1,2}(?:-[A-Z]{1,2}){2,}(?![\w-])")
_GLUED_RANK = re.compile(r"(?<![\w-])(DCI|DSI|DC|DS|DI|PC|PS)(\w+)")
_PLATE = re.compile(r"[A-Z]{2}\d{2}[A-Z]{3}|[A-Z]\d{1,3}[A-Z]{3}|[A-Z]{3}\d{1,3}[A-Z]?", re.IGNORECASE)
_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}", re.IGNORECASE)
_MAIL_LIKE = re.compile(
    r"\b[\w.-]*\w(?:\.|\s+at\s+|\s+dot\s+|@)(?:[\w-]+(?:\.|\s+dot\s+))*"
    r"[\w-]*(?:g[\s-]?mail|hotmail|outlook|yahoo|icloud|live|btinternet|aol|proton(?:mail)?|sky|mail)"
    r"(?:(?:\.|\s+dot\s+)(?:com|co(?:\.|\s+dot\s+)uk|net|org)\b"
    # ... or no domain at all, but said "at" a mail provider: "jess harper at g mail"
    r"|(?<=at g mail)|(?<=at gmail)|(?<=at g-mail)|(?<=at hotmail)|(?<=at outlook)|(?<=at yahoo)|(?<=at icloud))",
    re.IGNORECASE)
# Words before a name ("called Ryward", "my ex Jordan", "a lad called Calum"); ranks and titles are added below.
_NAME_CUES = frozenset({"called", "named", "name's", "name", "i'm", "im", "ex", "boyfriend", "girlfriend", "partner",
                        "husband", "wife", "mate", "friend", "brother", "sister", "cousin", "colleague", "manager",
                        "teacher", "counsellor", "neighbour", "son", "daughter", "mr", "mrs", "miss", "ms", "dr"})
# Two capitals before a name look like a rank Whisper misheard ("BS Hollyworth" for DS, "PC", "DC", "BC").
_RANKISH = re.compile(r"[A-Z][A-Z]")


def find(text: str) -> list[Hit]:
    t = Text(text)
    out: list[Hit] = []
    if not t.n:
        return out
    _codes(text, out)
    _mail_like(text, out)
    _names(t, out)
    _ranks(t, out)
    _day_and_hour(text, out)
    _employer_force(t, out)
    _sound_alike_forces(t, out)
    _capitalised_words(t, out)
    return out


# Words Whisper capitalises mid-sentence that name no one: calendar, faiths and feasts, platforms and devices, family
# words said as names ("Mum"), and the law's and institutions' own words.
_ALWAYS_CAPITALISED = frozenset([
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "christmas", "easter",
    "eid", "ramadan", "diwali", "halloween", "god", "jesus", "christ", "bible", "quran", "allah", "christian",
    "muslim", "sikh", "hindu", "jewish", "catholic", "protestant", "english", "british", "welsh", "scottish",
    "irish", "european", "african", "asian", "snapchat", "instagram", "facebook", "whatsapp", "tiktok", "twitter",
    "google", "youtube", "onlyfans", "pornhub", "reddit", "telegram", "discord", "tinder", "hinge", "bumble",
    "grindr", "iphone", "android", "apple", "samsung", "messenger", "microsoft", "teams", "zoom", "skype", "xbox",
    "playstation", "netflix", "linkedin", "internet", "wifi", "bluetooth", "airdrop", "icloud", "dropbox", "gmail",
    "hotmail", "outlook", "amazon", "ebay", "paypal", "uber", "mum", "mam", "dad", "nan", "nana", "gran", "granny",
    "grandad", "grandma", "auntie", "aunty", "uncle", "sir", "madam", "miss", "mister", "act", "section", "court",
    "crown", "magistrates", "prosecution", "service", "law", "order", "protection", "online", "safety", "sexual",
    "offences", "justice", "criminal", "evidence", "office", "government", "parliament", "police", "constabulary",
    "force", "department", "unit", "team", "centre", "hospital", "school", "university", "college", "council",
    "trust", "victim", "support", "aid", "refuge", "helpline", "charity", "commissioner", "king", "queen", "okay",
    "ok", "tv", "uk", "nhs",
])


def _capitalised_words(t: Text, out: list[Hit]) -> None:
    """In cased Whisper text a lone capitalised word mid-sentence is a name Whisper heard, even when it is also an
    ordinary word ("It was Corner who sent it"): uncertain, for the reviewer. Words in titles ("Crown Court",
    "Online Safety Act") come in runs of capitals and are left to the other layers."""
    if t.mode != "mixed":
        return
    for i in range(t.n):
        w, tok = t.w[i], t.toks[i].text
        if not t.cap(i) or not w.isalpha() or len(w) < 3 or tok.isupper() or w in _ALWAYS_CAPITALISED or \
                w in stop_words() or w in RANK_WORDS or w in TITLE_WORDS or w in POLICE_TERMS or _groupish(w) or \
                w in NOT_NAME:
            continue
        if (i > 0 and t.upper_first(i - 1) and t.linked(i) and not sentence_start(t, i - 1)) or (
                i + 1 < t.n and t.upper_first(i + 1) and t.linked(i + 1)) or (
                i > 1 and t.w[i - 1] in ("of", "and", "for", "&") and t.upper_first(i - 2)):
            continue  # part of a run of capitals: a title or a name another layer reads whole ("College of Policing")
        if (i > 0 and t.w[i - 1] in _NOT_BEFORE_NAME) or re.fullmatch(r"[A-Z]{2,}s", tok) or _camel_words(tok) or (
                i + 1 < t.n and t.w[i + 1][:1].isdigit()):
            continue  # "the Mini plant", "six DCs", "Outcome 21"
        out.append(t.hit(i, i + 1, "PERSON", "cue", 0.4, uncertain=True))


_NOT_BEFORE_NAME = frozenset({"the", "a", "an", "this", "that", "these", "those", "my", "his", "her", "their", "our",
                              "your", "its", "some", "any", "every", "no"})


def sentence_start(t: Text, i: int) -> bool:
    return i == 0 or not t.cap(i)


def _groupish(w: str) -> bool:
    """Nationalities and peoples ("Polish", "Nigerian") are a GROUP label's business."""
    from pipeline.redact.lexicon.places import _GROUPS

    return w in _GROUPS or w.endswith(("ish", "ian", "ese", "ean"))


# Words around a force's area name: "joined diffed powis police", "i was with mercy side for nine years".
_BEFORE_FORCE = frozenset({"with", "for", "joined", "join", "from", "to", "in", "transferred", "at"})
_FUNCTION = frozenset({"the", "a", "an", "to", "for", "with", "at", "on", "by", "from", "it", "i", "he", "she", "we",
                       "they", "you", "was", "is", "were", "be", "been", "my", "his", "her", "their", "our", "your",
                       "that", "this", "in", "but", "so", "when", "then", "there", "not", "had", "have", "has"})
_AFTER_FORCE = frozenset({"police", "constabulary", "force", "cops", "coppers", "cid", "officers", "officer"})
_FACILITIES = frozenset({"centre", "center", "room", "hall", "park", "club", "shop", "school", "office", "house",
                         "church", "library", "unit", "ward", "estate", "court", "station", "garage", "pool"})


@lru_cache(maxsize=1)
def _force_sounds() -> tuple[Target, ...]:
    """Every force's area words and aliases of six letters or more ("merseyside", "dyfed powys", "leicestershire"):
    unlike respelling in the ASR stage, a cue here says a force is meant, so common area words count too."""
    from pipeline.redact.respell import _target

    out = []
    for force in forces.FORCES:
        for phrase in (*force.areas, *force.aliases):
            words = phrase.replace("-", " ").split()
            target = _target(words) if len("".join(words)) >= 6 and "&" not in phrase else None
            if target:
                out.append(target)
    return tuple(dict.fromkeys(out))


def _sound_alike_forces(t: Text, out: list[Hit]) -> None:
    """A force's area heard as other words ("mercy side", "lester sure", "diffed powis"): matched by sound and
    spelling against the gazetteer's area names (pipeline.redact.respell), only next to words that say a force."""
    from pipeline.redact.respell import sounds_like

    options = _force_sounds()
    taken = [(h.start, h.end) for h in out if h.label == "FORCE"]
    for i in range(1, t.n):
        if t.w[i - 1] not in _BEFORE_FORCE and not (i > 1 and t.w[i - 1] == "the" and t.w[i - 2] in _BEFORE_FORCE):
            continue
        for size in (3, 2, 1):
            end = i + size
            if end > t.n or not all(t.linked(k) for k in range(i + 1, end)):
                continue
            words = t.w[i:end]
            if any(w in _FUNCTION or w in POLICE_TERMS or w in _AFTER_FORCE or not w.isalpha() for w in words) or \
                    words[0] in stop_words() or words[-1] in ("and", "of"):
                continue
            after = t.w[end] if end < t.n else ""
            # a room or building in town after "at the"/"in the" ("the leisure centre", "the community room") is
            # not a force, unless a force word follows
            plain = t.w[i - 1] == "the" and words[-1] in _FACILITIES and all(is_common(w) for w in words)
            found = sounds_like(words, options, cued=after in _AFTER_FORCE or (size > 1 and not plain))
            if not found:
                continue
            s, e = t.toks[i].start, t.toks[end - 1].end
            if any(a < e and s < b for a, b in taken):
                break
            if after in ("police", "constabulary"):
                e = t.toks[end].end
            out.append(Hit(s, e, "FORCE", "cue", 0.5, uncertain=True))
            break


# "I'm with my suicide police" (Merseyside Police): the words before "police" after "with/for/joined" name a force,
# however misheard, unless they say what kind of police it is.
_FORCE_CUES = frozenset({"with", "for", "joined", "join", "in", "from", "to"})
_KIND_OF_POLICE = frozenset({"local", "traffic", "armed", "transport", "military", "riot", "secret", "plain",
                             "plainclothes", "community", "uniformed", "uniform", "british", "english", "scottish",
                             "welsh", "uk", "national", "neighbourhood", "response", "specialist", "special", "other",
                             "proper", "real", "actual", "same", "different", "whole", "every", "any", "no", "some",
                             "more", "fake", "undercover", "online", "cyber", "child", "family", "rural", "railway",
                             "campus", "university", "uni", "college", "school", "airport", "port", "ministry"})
# "referrals from went police": Gwent, as Whisper hears it (the one force's area heard as a word of every sentence)


def _employer_force(t: Text, out: list[Hit]) -> None:
    for i in range(2, t.n):
        if t.w[i] not in ("police", "constabulary") or not t.linked(i):
            continue
        for size in (1, 2):
            k = i - size
            cue = k - 1 if t.w[k - 1] not in ("my", "the", "our") else k - 2
            if cue < 0 or t.w[cue] not in _FORCE_CUES or not all(t.linked(x) for x in range(cue + 1, i + 1)):
                continue
            words = t.w[k:i]
            if words == ["went"] or all(w.isalpha() and w not in stop_words() and w not in _KIND_OF_POLICE and
                                        w not in POLICE_TERMS for w in words):
                out.append(t.hit(k, i + 1, "FORCE", "cue", 0.45, uncertain=True))
                break


# Whisper writes a rank it heard in capitals ("PC", "DCI"); what follows is the officer's name, however misheard
# ("I sent PC a name and PC more than"). Not after a determiner ("my PC": the computer) nor before a number.
_RANK_ABBREVIATIONS = frozenset({"PC", "DC", "DS", "DI", "DCI", "DSI", "PCSO", "PS", "Sgt", "Insp"})
_DETERMINER_BEFORE = frozenset({"a", "the", "my", "his", "her", "our", "your", "their", "this", "that", "new", "old",
                                "work", "home", "laptop", "desktop", "each", "every", "another", "one", "any"})


def _ranks(t: Text, out: list[Hit]) -> None:
    if t.mode != "mixed":
        return
    for i in range(t.n - 1):
        if t.toks[i].text not in _RANK_ABBREVIATIONS or not t.linked(i + 1):
            continue
        if (i and t.w[i - 1] in _DETERMINER_BEFORE) or not t.toks[i + 1].text[:1].isalpha():
            continue
        j = i + 2 if t.w[i + 1] in ("a", "an", "the") and i + 2 < t.n and t.linked(i + 2) else i + 1
        if t.w[j] in ("number", "numbers", "and", "or", "is", "was", "were", "who", "said", "to", "in", "on", "at"):
            continue  # "PC number 4471", "DC was there": no name follows
        out.append(t.hit(i + 1, j + 1, "OFFICER", "cue", 0.5, uncertain=True))  # the rank itself stays readable


_HOUR = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[1-9]|1[0-2])"
# "quarter past two" half heard ("what a past two"): past an hour, at the end of a clause or before "on"/"at night".
_PAST_HOUR = re.compile(rf"(?<!\bthe )(?<!\blast )(?<!\bfor )(?<!\bover )(?<!\bin )\b\w+ past {_HOUR}\b"
                        r"(?=\s*(?:[.,;!?]|$|on\b|at night|in the (?:morning|afternoon|evening)|that\b|when\b))",
                        re.IGNORECASE)
# A day of the month Whisper wrote as a bare figure at the end of a clause: "she came in on the 28."
_BARE_DAY = re.compile(r"\b(?:on|by|since|until|till) the (?:[1-9]|[12]\d|3[01])(?=\s*(?:[.,;!?]|$))", re.IGNORECASE)


# "half three" as Whisper hears it from a speaker who says "free" (th-fronting): nobody says "half free" otherwise.
_HALF_FREE = re.compile(r"\bhalf (?:free|tree)\b(?!-)", re.IGNORECASE)


# A clock time Whisper wrote as a bare figure after "at": "we met at 6 and", "till 11.30 at night".
_AT_HOUR = re.compile(r"(?<![£$\w])(?:at|till|until|from) (?:about |around )?(?:[1-9]|1[0-2])(?:[.:][0-5]\d)?"
                      r"(?=\s*(?:[.,;!?]|$|and\b(?! a half)|in the (?:morning|afternoon|evening|night)|at night"
                      r"|that\b|when\b|on\b|o'clock|ish\b))", re.IGNORECASE)


def _day_and_hour(text: str, out: list[Hit]) -> None:
    for m in _AT_HOUR.finditer(text):
        start = m.start() + len(m.group().split()[0]) + 1
        out.append(Hit(start, m.end(), "TIME", "pattern", 0.6))
    for m in _HALF_FREE.finditer(text):
        out.append(Hit(m.start(), m.end(), "TIME", "pattern", 0.6))
    for m in _PAST_HOUR.finditer(text):
        if m.group().split()[0].lower() not in ("the", "last", "for", "over", "in", "years", "months"):
            out.append(Hit(m.start(), m.end(), "TIME", "pattern", 0.6))
    for m in _BARE_DAY.finditer(text):
        out.append(Hit(m.start() + m.group().lower().index("the"), m.end(), "DATE", "pattern", 0.6))


def _codes(text: str, out: list[Hit]) -> None:
    for m in _SLASHED.finditer(text):
        if not _NOT_CODE.fullmatch(m.group()) and len(re.sub(r"\D", "", m.group())) >= 5:
            out.append(Hit(m.start(), m.end(), "ID", "pattern", 0.7))
    for m in _DIGIT_RUN.finditer(text):
        digits = re.findall(r"\d+", m.group())
        if sum(map(len, digits)) >= 7 and not all(re.fullmatch(r"(?:19|20)\d\d", d) for d in digits):
            out.append(Hit(m.start(), m.end(), "PHONE" if m.group().startswith("0") else "ID", "pattern", 0.65))
    for m in _SPELLED.finditer(text):
        if len(re.sub(r"-", "", m.group())) >= 4:
            out.append(Hit(m.start(), m.end(), "ID", "pattern", 0.65))
    for m in _GLUED_RANK.finditer(text):
        if re.fullmatch(r"I?s|SOs?|[\d_]+", m.group(2)) or re.fullmatch(r"[A-Z]+", m.group()):  # "PSNI"
            continue  # "DCs", "DCIs", "PCSOs", "PC1234" (a collar number: the written patterns)
        out.append(Hit(m.start(), m.end(), "OFFICER", "pattern", 0.6))
    for m in _CODE.finditer(text):
        s = m.group()
        bare = re.sub(r"[-/.]", "", s)
        digits = sum(c.isdigit() for c in bare)
        letters = len(bare) - digits
        short = len(bare) < 4 and not re.fullmatch(r"[a-z]\d[a-z]", bare, re.IGNORECASE)  # "r2a" is a fragment
        if short or _NOT_CODE.fullmatch(s) or (digits < 2 and letters < 2):
            continue
        if "." in s and not re.search(r"\d", s.split(".")[-1]) and letters > digits:
            continue  # "dom.walsh88.com": a web or mail name, read by the written patterns
        label = "VEHICLE" if _PLATE.fullmatch(bare) else "POSTCODE" if _POSTCODE.fullmatch(bare) else "ID"
        out.append(Hit(m.start(), m.end(), label, "pattern", 0.7))


def _mail_like(text: str, out: list[Hit]) -> None:
    for m in _MAIL_LIKE.finditer(text):
        out.append(Hit(m.start(), m.end(), "EMAIL", "pattern", 0.75))


def _ordinary(w: str) -> bool:
    return (w in stop_words() or w in NOT_NAME or w in forces.NOT_IDENTIFYING or w in POLICE_TERMS
            or w in RANK_WORDS or w in TITLE_WORDS)


def _camel_words(tok: str) -> bool:
    """Camel case ending in an everyday word ("ZapChat", "FaceTime"): an app or a brand, not a name ("McLean" is)."""
    parts = re.findall(r"[A-Z][a-z]+", tok)
    return (len(parts) == 2 and "".join(parts) == tok and is_common(parts[1].lower())
            and parts[0] not in ("Mc", "Mac", "De", "Di", "Da", "Le", "La", "Van", "Von", "Fitz"))


def _in_title(t: Text, i: int) -> bool:
    """After a capitalised everyday word: part of a title-cased name of a service ("the Revenge Porn Helpline"),
    which the organisation lists judge, not a person's name."""
    return i > 0 and t.linked(i) and t.toks[i - 1].text[:1].isupper() and is_common(t.w[i - 1]) \
        and t.w[i - 1] not in ("i",)


def _names(t: Text, out: list[Hit]) -> None:
    for i in range(t.n):
        w = t.w[i]
        if not w.isalpha() or len(w) < 3 or _ordinary(w):
            continue
        tok = t.toks[i].text
        cased = (t.cap(i) and is_oov(w) and not (tok.isupper() and len(tok) <= 5)  # "CPS", "MASH"
                 and not re.fullmatch(r"[A-Z]{2,}s", tok)  # "DCs", "PCSOs"
                 and not _camel_words(tok)
                 and not _in_title(t, i))
        prev = t.w[i - 1] if i else ""
        cued = i > 0 and t.linked(i) and not is_common(w) and (
            prev in _NAME_CUES or prev in RANK_WORDS or prev in TITLE_WORDS
            or (t.mode == "mixed" and _RANKISH.fullmatch(t.toks[i - 1].text) is not None))
        if cued and is_oov(w):
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.5, uncertain=True))
        elif cased:
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))
