"""What every redaction layer shares: the Span type, labels, tokens, and how a text is cased."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pipeline.redact import gazetteers
from pipeline.redact.gazetteers import forces

LABELS = ("PERSON", "OFFICER", "FORCE", "LOCATION", "ORGANISATION", "DATE", "TIME", "PHONE", "EMAIL", "URL",
          "HANDLE", "POSTCODE", "ID", "VEHICLE", "AGE", "OPERATION", "ADDRESS", "GROUP")
LAYERS = ("pattern", "gazetteer", "model", "known", "propagated", "cue", "tagger")


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the text given
    end: int
    label: str  # one of LABELS
    text: str
    layers: tuple[str, ...]  # which layers found it
    confidence: float  # 0..1
    uncertain: bool  # model-only, low-confidence or cue-based near-misses: reviewers see these first


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int  # end of the word without a possessive 's
    lower: str  # lower-cased, possessive removed, curly apostrophes straightened
    possessive: bool


# Words, numbers and words with an inner apostrophe ("o'clock", "kaur's", "o'connor"); hyphens and dots split.
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)
_POSSESSIVE = re.compile(r"['\u2019]s$", re.IGNORECASE)


_LAW_AFTER = re.compile(r"['\u2019]s\s+law\b", re.IGNORECASE)


def names_a_law(text: str, end: int) -> bool:
    """A name ending at `end` begins a law named after someone ("Clare's Law", "Sarah's Law"): a scheme, not a
    person, so no layer may redact it."""
    return bool(_LAW_AFTER.match(text, end))


def tokenize(text: str) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        pos = _POSSESSIVE.search(word)
        core = word[: pos.start()] if pos and len(word) > 2 else word
        out.append(Token(word, m.start(), m.start() + len(core), fold(core), bool(pos)))
    return out


def fold(word: str) -> str:
    """Lower case without accents ("Zoë" -> "zoe", "İstanbul" -> "istanbul"): lists and ASR spell names plainly."""
    low = word.lower().replace("\u2019", "'")
    if low.isascii():
        return low
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


def case_mode(text: str) -> str:
    """"mixed" when capitals carry meaning; "lower" (ASR without casing) and "upper" (ALL CAPS) when they don't."""
    has_lower = any(c.islower() for c in text)
    has_upper = any(c.isupper() for c in text)
    if has_lower and not has_upper:
        return "lower"
    if has_upper and not has_lower:
        return "upper"
    if not has_lower:
        return "lower"
    letters = [c for c in text if c.isalpha()]
    if sum(c.isupper() for c in letters) > 0.6 * len(letters):
        return "upper"  # ALL CAPS with a stray lower-case letter
    return "mixed"


def sentence_initial(text: str, tokens: list[Token], i: int) -> bool:
    if i == 0:
        return True
    gap = text[tokens[i - 1].end : tokens[i].start]
    return bool(re.search(r"[.!?:;\"\u201c]", gap)) or "\n" in gap


def joined(text: str, a: Token, b: Token) -> bool:
    """Two tokens belong to one phrase: only spaces or a hyphen between them (an apostrophe-s may end `a`)."""
    gap = text[a.end : b.start]
    return bool(re.fullmatch(r"(?:['\u2019]s)?[\s\-]{1,3}|['\u2019]s?\s+", gap)) or gap in ("-", " ")


# Words that never start or form a name, whatever the case (spaCy's stop list plus speech fillers).
@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    fillers = {"erm", "um", "uh", "er", "ah", "oh", "yeah", "yes", "no", "okay", "ok", "like", "right", "well",
               "so", "just", "really", "basically", "literally", "actually", "obviously", "honestly", "mean", "know",
               "sorry", "please", "thanks", "hello", "hi", "bye", "cos", "cause", "gonna", "wanna", "innit", "aye",
               "mate", "love", "babe", "hun", "said", "says", "told", "asked", "went", "came", "got", "get", "had",
               "has", "have", "was", "were", "is", "are", "be", "been", "did", "do", "does", "can", "could", "would",
               "should", "will", "shall", "might", "must", "then", "there", "here", "now", "when", "where", "what",
               "who", "why", "how", "which", "that", "this", "these", "those", "i", "i'm", "i'd", "i've", "i'll",
               "it's", "that's", "he's", "she's", "they're", "we're", "you're", "don't", "didn't", "can't",
               "wasn't", "isn't", "won't", "wouldn't", "couldn't", "shouldn't", "there's", "what's", "let's",
               "x", "s", "t", "d", "ll", "ve", "m", "re"}
    return frozenset(STOP_WORDS) | frozenset(fillers)


def is_common(word: str) -> bool:
    return word in gazetteers.common_words() or word in stop_words()


def is_oov(word: str) -> bool:
    """Out of vocabulary: an alphabetic word that ordinary English (or the policing terms below) doesn't use, nor
    makes from a common word with an everyday ending ("lates", "earlies", "prioritise", "bookies", "chippy")."""
    return word.isalpha() and len(word) >= 3 and not is_common(word) and word not in POLICE_TERMS and \
        not _derived(word)


# Endings speech adds to common words, and what the stem looked like before: "earlies" <- "early", "chippy" <- "chip".
_ENDINGS = (
    ("ies", ("y", "ie", "")), ("es", ("", "e")), ("s", ("",)), ("ised", ("", "e", "y", "ise", "ize")),
    ("ising", ("", "e", "y", "ise", "ize")),
    ("ise", ("", "e", "y")), ("ize", ("", "e", "y")), ("ie", ("",)), ("y", ("", "e")), ("ed", ("", "e")),
    ("ing", ("", "e")), ("er", ("", "e")), ("ness", ("",)), ("ly", ("",)), ("ship", ("",)), ("ment", ("",)),
    ("able", ("", "e")), ("ful", ("",)), ("less", ("",)),
)


@lru_cache(maxsize=65536)
def _derived(word: str) -> bool:
    from pipeline.redact import gazetteers as g

    if g.given_names().word(word) or g.surnames().word(word) or g.places().word(word):
        return False  # a listed name stays a name ("hollins", "jenkins")
    for end, stems in _ENDINGS:
        if not word.endswith(end) or len(word) - len(end) < 3:
            continue
        root = word[: -len(end)]
        for add in stems:
            stem = root + add
            if g.given_names().word(stem) or g.surnames().word(stem):
                continue  # "parkers" is the Parkers' firm, not a plural
            if (stem in gazetteers.common_words() or stem in gazetteers.rare_words()) and len(stem) >= 4:
                return True
            # a doubled consonant before the ending: "chippy" <- "chip", "bookie" <- "book"
            if len(root) > 3 and root[-1] == root[-2] and root[:-1] in gazetteers.common_words():
                return True
    return False


# Policing and speech terms that are out of the general vocabulary but identify no one.
POLICE_TERMS = frozenset([
    "anonymise", "anonymised", "anonymising", "anonymisation", "anonymize", "anonymized", "anonymizing",
    "pseudonymise", "pseudonymised", "pseudonymising", "interviewee", "interviewees", "transcriber", "tutorship",
    "anpr", "pnc", "pnd", "cps", "sarc", "isva", "idva", "abe", "mash", "dash", "marac", "mappa", "nfa", "rasso",
    "psd", "cid", "oic", "dci", "dsu", "dc", "ds", "di", "pc", "pcso", "sgt", "insp", "supt", "acc", "dcc", "bcu",
    "lpu", "npt", "ppu", "dau", "mit", "mcit", "cait", "ocg", "cse", "cce", "nca", "ceop", "iopc", "ipcc", "npcc",
    "hmicfrs", "bwv", "cctv", "dvpn", "dvpo", "swgfl", "tvp", "gmp", "wyp", "syp", "nyp", "wmp", "btp", "psni",
    "mdp", "cnc", "cad", "urn", "crn", "niche", "storm", "athena", "connect", "pronto", "airwave", "taser",
    "sextortion", "sextorted", "sextorting", "lates", "earlies", "nights", "bookies", "chippy", "offy", "offie",
    "screenshot", "screenshotted", "screenshotting", "screenshots", "snapchat", "instagram", "whatsapp", "tiktok",
    "onlyfans", "telegram", "facebook", "insta", "snap", "dm", "dms", "dmed", "inbox", "sexting", "nudes", "nude",
    "selfie", "selfies", "deepfake", "deepfakes", "catfish", "catfished", "catfishing", "erm", "um", "innit",
    "gonna", "wanna", "gotta", "dunno", "yeah", "yep", "nope", "aye", "ok", "okay", "cos", "coz", "tho", "lol",
    "omg", "corsa", "fiesta", "golf", "polo", "astra", "focus", "clio", "punto", "micra", "yaris", "qashqai",
    "juke", "transit", "bmw", "audi", "merc", "mercedes", "nissan", "toyota", "kia", "hyundai", "vw", "skoda",
    "peugeot", "citroen", "renault", "vauxhall", "beemer"
])

RANK_WORDS = frozenset(w for r in forces.RANKS for w in r.split())
TITLE_WORDS = frozenset(w.rstrip(".") for w in forces.TITLES)

NUMBER_WORDS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
