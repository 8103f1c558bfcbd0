"""Redaction stage: find every identifier in transcript text, and replace each with a consistent pseudonym.

Layers (redact what any layer finds; over-redaction is preferred to a leak):
  pattern     phones, emails, URLs, handles, postcodes, NI/NHS numbers, registrations, collar numbers, references,
              dates, times, ages, addresses, written or spoken (patterns/); spelled letters and digit words are
              also rewritten to written form and run through the pattern and gazetteer layers again (spoken.py)
  gazetteer   police forces and nicknames, ranks/titles before names, places, given names, operations, teams
              (lexicon/, gazetteers/)
  model       spaCy NER on (truecased) text (model.py)
  known       names entered for the recording or the study, all their parts
  word names  names that are also words ("will", "mark", "dawn"): kept or dropped by the words around (wordnames.py)
  cue         capitalised or unknown words after "called", "lives in", "... Police" (uncertain: reviewed first;
              lexicon/)
  unknown     in lower-case speech, a word no English list knows (common or rare words, gazetteers): a name Whisper
              spelled as it heard it ("kwabena asamoah", "thurcroft"); uncertain, never propagated (lexicon/names.py)
  heard       what Whisper writes for what it half heard: letter-digit codes, mail-like dotted runs, capitalised
              out-of-vocabulary words mid-sentence, unknown words after name cues (heard.py)
  tagger      a small learned token classifier over word vectors and the words around (tagger.py): lower-case names
              no list or cue knows ("he works at heinz"); uncertain, never propagated
  propagated  a string surely redacted anywhere in a transcript is redacted everywhere in it (never a single
              ordinary word: "the met" does not make "i met" a force)
Pure text code: nothing here touches the database, the network or keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipeline.redact import heard as redact_heard
from pipeline.redact import lexicon as redact_lexicon
from pipeline.redact import model as redact_model
from pipeline.redact import naming, wordnames
from pipeline.redact import patterns as redact_patterns
from pipeline.redact import spoken as redact_spoken
from pipeline.redact import tagger as redact_tagger
from pipeline.redact.base import (
    LABELS,
    LAYERS,
    RANK_WORDS,
    TITLE_WORDS,
    Span,
    Token,
    case_mode,
    is_common,
    names_a_law,
    sentence_initial,
    stop_words,
    tokenize,
)
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.organisations import ORG_SUFFIX
from pipeline.redact.lexicon.text import NOT_NAME
from pipeline.redact.pseudonyms import Pseudonymiser, entity_key, person_words

__all__ = ["LABELS", "LAYERS", "Detector", "Pseudonymiser", "Span", "entity_key", "load_detector", "redact_lines",
           "redact_text"]

# When layers disagree on a label, the most specific wins (an email is not a person, a force is not a place).
_LABEL_RANK = {label: i for i, label in enumerate((
    "EMAIL", "URL", "PHONE", "POSTCODE", "VEHICLE", "HANDLE", "ID", "ADDRESS", "DATE", "TIME", "AGE", "FORCE",
    "OPERATION", "OFFICER", "PERSON", "ORGANISATION", "LOCATION", "GROUP"))}
# ... but a label from a trusted layer beats one from a guessing layer.
_LAYER_TRUST = {"known": 0, "pattern": 1, "gazetteer": 2, "propagated": 3, "cue": 4, "model": 4, "tagger": 5}
_PROPAGATE = frozenset({"PERSON", "OFFICER", "FORCE", "LOCATION", "ORGANISATION", "OPERATION", "HANDLE", "EMAIL",
                        "URL", "PHONE", "ID", "VEHICLE", "POSTCODE", "ADDRESS"})
_PERSONS = frozenset({"PERSON", "OFFICER"})


@dataclass(frozen=True)
class _Cand:
    start: int
    end: int
    label: str
    layer: str
    confidence: float
    uncertain: bool


def _clean_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and not text[start].isalnum() and text[start] not in "@+#(":
        start += 1
    while end > start and not text[end - 1].isalnum() and text[end - 1] not in ")/":
        end -= 1
    return start, end


def _resolve(text: str, cands: Iterable[_Cand]) -> list[Span]:
    """Merge overlapping candidates into one span each: union of extents, best label, all layers."""
    items = []
    for c in cands:
        s, e = _clean_bounds(text, c.start, c.end)
        if e > s:
            items.append(replace(c, start=s, end=e))
    items.sort(key=lambda c: (c.start, -c.end))
    spans: list[Span] = []
    group: list[_Cand] = []
    group_end = -1

    def flush() -> None:
        if not group:
            return
        start, end = min(c.start for c in group), max(c.end for c in group)
        best = min(group, key=lambda c: (_LAYER_TRUST[c.layer] + (1 if c.uncertain else 0),
                                         _LABEL_RANK[c.label], -c.confidence))
        label = best.label
        if label == "PERSON" and any(c.label == "OFFICER" for c in group):
            label = "OFFICER"
        layers = tuple(sorted({c.layer for c in group}, key=LAYERS.index))
        conf = min(1.0, max(c.confidence for c in group) + 0.05 * (len(layers) - 1))
        uncertain = all(c.uncertain for c in group) or conf < 0.5
        spans.append(Span(start, end, label, text[start:end], layers, round(conf, 3), uncertain))

    for c in items:
        if c.start >= group_end:
            flush()
            group, group_end = [c], c.end
        else:
            group.append(c)
            group_end = max(group_end, c.end)
    flush()
    return spans


class _Phrases:
    """Case-insensitive token-sequence matcher for known names and propagated strings (possessives included)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, ...], tuple[str, float, bool]] = {}
        self.longest = 0

    def add(self, words: Sequence[str], label: str, confidence: float, uncertain: bool) -> None:
        key = tuple(w.lower() for w in words if w)
        if not key:
            return
        old = self.entries.get(key)
        # Keep the surest reading of a string; between equally sure ones, the more specific label.
        more_specific = old is not None and old[2] == uncertain and _LABEL_RANK[label] < _LABEL_RANK[old[0]]
        if old is None or (old[2] and not uncertain) or more_specific:
            self.entries[key] = (label, confidence, uncertain)
        self.longest = max(self.longest, len(key))

    def find(self, text: str, layer: str) -> list[_Cand]:
        if not self.entries:
            return []
        toks = tokenize(text)
        words = [t.lower for t in toks]
        mixed = case_mode(text) == "mixed"
        out = []
        i = 0
        while i < len(toks):
            for size in range(min(self.longest, len(toks) - i), 0, -1):
                hit = self.entries.get(tuple(words[i : i + size]))
                if hit is None:
                    continue
                if size > 1 and any(re.search(r"[.,;:!?]", text[toks[k - 1].end : toks[k].start])
                                    for k in range(i + 1, i + size)):
                    continue
                label, conf, uncertain = hit
                ordinary = wordnames.ordinary_word(words[i])
                if layer == "propagated" and size == 1 and (uncertain or ordinary) and (
                        not toks[i].text[:1].isupper() if mixed else ordinary):
                    continue  # an ordinary word that is also a name ("the Met", "March", "Will") travels only to
                    # its capitalised uses in cased text, never in lower-case text: "I met him" stays
                out.append(_Cand(toks[i].start, toks[i + size - 1].end, label, layer, conf, uncertain))
                i += size - 1
                break
            i += 1
        return out


def _name_parts(text: str) -> list[list[str]]:
    """The full name and each part that could be said alone: "DS Mark Bellamy's" -> mark bellamy, mark, bellamy."""
    words = person_words(text)
    out = [words] if words else []
    if len(words) > 1:
        out += [[w] for w in words if len(w) > 1 and w not in stop_words() and w not in RANK_WORDS]
    return out


class Detector:
    """Finds identifiers in transcript text. Build once (see load_detector) and reuse: the model loads once."""

    def __init__(self, *, known_names: Sequence[str] = (), model: str | None = "auto",
                 tagger: str | None = "auto") -> None:
        self.known_names = tuple(n for n in known_names if n and n.strip())
        self.model_name = model
        self.nlp = redact_model.load_nlp(model)
        self.tagger = None if tagger is None else \
            redact_tagger.load(self.nlp, None if tagger == "auto" else tagger)
        self._known = _Phrases()
        for name in self.known_names:
            for i, words in enumerate(_name_parts(name)):
                ordinary = len(words) == 1 and is_common(words[0])
                self._known.add(words, "PERSON", 1.0 if i == 0 else 0.95, uncertain=ordinary)

    def detect(self, text: str) -> list[Span]:
        """Identifiers in one utterance (with propagation inside it)."""
        return self.detect_document([text])[0]

    def detect_document(
        self, texts: Sequence[str], *, known: Sequence[Sequence[Span] | None] | None = None
    ) -> list[list[Span]]:
        """Identifiers in every utterance of one transcript: what is redacted anywhere is redacted everywhere.

        `known`: per utterance, the spans already found in it (a reviewer's corrected transcript: its unchanged
        utterances), or None where the layers must run. Only those utterances go through the layers and the model;
        the others take part in propagation with the spans given, which keeps re-detecting one edited utterance of
        a long interview cheap."""
        texts = list(texts)
        todo = [i for i in range(len(texts)) if known is None or known[i] is None]
        model_hits = dict(zip(todo, redact_model.find_all(self.nlp, [texts[i] for i in todo]), strict=True))
        first: list[list[Span]] = []
        readings: dict[int, redact_tagger.Reading] = {}
        for i, text in enumerate(texts):
            if i not in model_hits:
                first.append([_known_span(sp) for sp in (known[i] or ())])  # type: ignore[index]
                continue
            if self.tagger is not None:
                readings[i] = self.tagger.read(text)
            cands = self._layers(text, readings.get(i))
            cands += [_Cand(h.start, h.end, "OFFICER" if h.officer else h.label, "model", 0.55, True)
                      for h in model_hits[i]]
            spans = _resolve(text, cands)
            stutter = _said_twice(tokenize(text), spans)
            first.append(_resolve(text, cands + stutter) if stutter else spans)
        # Propagation: every redacted string (and each part of a name) everywhere in the transcript.
        phrases = _Phrases()
        nicknames: set[str] = set()
        for text, spans in zip(texts, first, strict=True):
            for sp in spans:
                if sp.label in _PERSONS and not set(sp.layers) <= {"model", "tagger"}:
                    nicknames.update(_word_parts(sp, text[: sp.start]))
                if sp.label in _PERSONS and sp.uncertain and not set(sp.layers) <= {"model", "tagger"}:
                    # An unsure name's parts that are no English word ("Catalin Dobre" -> "dobre", "our kel" -> kel)
                    # travel too, still unsure: they can't turn ordinary words into names.
                    for part in (w for words in _name_parts(sp.text) if len(words) == 1 for w in words):
                        if part.isalpha() and len(part) >= 3 and not is_common(part) and part not in stop_words():
                            phrases.add([part], sp.label, sp.confidence * 0.9, uncertain=True)
                if sp.label not in _PROPAGATE or sp.uncertain:
                    continue  # only what a layer was sure of travels through the transcript
                one = tokenize(sp.text)
                if len(one) == 1 and wordnames.ordinary_word(one[0].lower) and not sp.text[:1].isupper():
                    continue  # nor does a single ordinary word ("met", "will"): each use needs its own evidence
                if sp.label in _PERSONS:
                    for i, words in enumerate(_name_parts(sp.text)):
                        ordinary = len(words) == 1 and (is_common(words[0]) or (i > 0 and len(words[0]) < 3))
                        phrases.add(words, sp.label, sp.confidence * (1 if i == 0 else 0.9),
                                    uncertain=sp.uncertain or ordinary)
                else:
                    words = [t.lower for t in tokenize(sp.text)]
                    if words and words[0] == "the" and not (len(words) == 2 and is_common(words[1])):
                        words = words[1:]  # "the Harehills team" -> "harehills"; "the met" stays whole
                    if words and not (len(words) == 1 and words[0] in stop_words()):
                        phrases.add(words, sp.label, sp.confidence, sp.uncertain)
        echoes = _echoed(texts, first)
        named = _named_words(first) if readings else {}
        result = []
        for i, (text, spans) in enumerate(zip(texts, first, strict=True)):
            # Evidence from elsewhere in the transcript, except on a span that is already sure of itself (it is
            # usually the very span the string came from).
            extra = [c for c in phrases.find(text, "propagated")
                     if not any(c.start < s.end and s.start < c.end and not s.uncertain and s.label == c.label
                                for s in spans)]
            toks = tokenize(text)
            extra += [c for c in _nickname_uses(toks, nicknames) + _listed_with_names(text, toks, spans)
                      if not any(c.start < s.end and s.start < c.end and s.label in _PERSONS for s in spans)]
            extra += [c for c in _echo_uses(toks, echoes)
                      if not any(c.start < s.end and s.start < c.end for s in spans)]
            if i in readings and named and self.tagger is not None:
                extra += [_Cand(h.start, h.end, h.label, "tagger", round(0.5 * h.confidence, 3), True)
                          for h in self.tagger.second_look(readings[i], named)
                          if not any(h.start < s.end and s.start < h.end for s in spans)]
            cands = [_Cand(s.start, s.end, s.label, lay, s.confidence, s.uncertain) for s in spans for lay in s.layers]
            result.append([_institution(s) for s in _resolve(text, cands + extra)
                           if _identifying(s, text) and not _word_not_name(s, toks, text)])
        return _officers_everywhere(result)

    def _layers(self, text: str, reading: redact_tagger.Reading | None = None) -> list[_Cand]:
        cands = [_Cand(s, e, lab, "pattern", c, c < 0.6) for s, e, lab, c in redact_patterns.find(text)]
        cands += [_Cand(s, e, lab, "pattern", c, c < 0.6) for s, e, lab, c in redact_spoken.times_and_dates(text)]
        cands += [_Cand(h.start, h.end, h.label, h.layer, h.confidence, h.uncertain) for h in redact_lexicon.find(text)]
        cands += self._known.find(text, "known")
        cands += [_Cand(h.start, h.end, h.label, h.layer, h.confidence, h.uncertain) for h in redact_heard.find(text)]
        if self.tagger is not None:  # what the network reads as a name: always for review, never propagated
            cands += [_Cand(h.start, h.end, h.label, "tagger", round(0.5 * h.confidence, 3), True)
                      for h in self.tagger.find(text, reading)]
        toks = tokenize(text)
        # lower case: capitals can't tell "will" the name from "will" the word, the context does; cased: the capital
        # Whisper gave it mid-sentence, or the context at a sentence start
        named = wordnames.find([t.lower for t in toks]) if case_mode(text) != "mixed" else \
            wordnames.find_cased(text, toks)
        cands += [_Cand(toks[k].start, toks[k].end, "PERSON", "gazetteer" if sure else "cue", 0.7 if sure else 0.45,
                        not sure) for k, sure in named]
        # "muppet is actually called ashraf", "his friend muppet ran the group": what the speaker says is a name
        cands += [_Cand(toks[k].start, toks[k].end, "PERSON", "cue", 0.45, True) for k in naming.named_words(toks)]
        canon = redact_spoken.normalise(text)
        if canon.changed:  # spelled letters and digit words: the same layers on the written form, mapped back
            spoken = [(s, e, lab, "pattern", c, c < 0.6) for s, e, lab, c in redact_patterns.find(canon.text)]
            spoken += [(h.start, h.end, h.label, h.layer, h.confidence, h.uncertain)
                       for h in redact_lexicon.find(canon.text)]
            # All of them: a rewritten run also changes what its neighbours mean ("dc okafor": an officer).
            cands += [_Cand(*canon.to_original(s, e), lab, layer, conf, unsure)
                      for s, e, lab, layer, conf, unsure in spoken]
        return cands


_DETERMINERS = frozenset({"a", "an", "the", "some", "any", "this", "that", "these", "those", "no", "every", "each",
                          "his", "her", "their", "my", "your", "our", "its", "of", "another"})
# "quite scrappy about it": a word a degree word qualifies describes; it names no one.
_DEGREE = frozenset({"quite", "very", "too", "really", "pretty", "most", "more", "less", "rather", "fairly",
                     "extremely", "dead", "bit"})
_PERSON_NOUNS = frozenset({"lad", "boy", "girl", "man", "woman", "kid", "bloke", "fella", "guy", "lass", "lassie",
                           "cousin", "brother", "sister", "mate", "pal", "friend", "son", "daughter", "other"})


# Words for what someone is, said before their name: "my pastor pastor boakye" repeats the role, not the name.
_CALLINGS = frozenset({"pastor", "imam", "vicar", "reverend", "rabbi", "priest", "minister", "coach", "boss",
                       "manager", "officer", "detective", "sergeant", "constable", "inspector", "teacher",
                       "headteacher", "head"})


def _person_or_role(w: str) -> bool:
    """A word for a person, a relation or a role ("lad", "mum", "pastor", "pc"): never a name of its own."""
    return w in _PERSON_NOUNS or w in _CALLINGS or w in _NOT_LISTED or w in TITLE_WORDS or w in RANK_WORDS


def _nickname(text: str) -> bool:
    """A name that is one everyday word ("pickle", "tank"), found by a cue ("a lad called pickle"). Names that are
    also words of every sentence ("will", "may") have their own reading (wordnames); a word for a person or a role
    ("man", "pastor") is never a nickname to carry."""
    toks = tokenize(text)
    w = toks[0].lower if len(toks) == 1 else ""
    return bool(w) and is_common(w) and w not in wordnames.WORD_NAMES and w not in stop_words() and len(w) >= 3 and \
        not _person_or_role(w)


def _word_parts(span: Span, before_text: str) -> set[str]:
    """The everyday words a found name is made of ("pickle"; "dove" and "pope" of "dove pritchard-pope"), each to be
    looked for again in the rest of the interview."""
    if _nickname(span.text) and (span.label == "PERSON" or not span.uncertain):
        return {span.text.lower()}  # a nickname, or an officer's surname after a rank ("d c partridge")
    words = person_words(span.text)
    if len(set(words)) < 2 or any(w in NOT_NAME for w in words):
        return set()  # something else's name misread as a person's ("south devon college")
    if span.uncertain:
        # Unsure, only the first name said twice as the speaker finds it ("victory victory ezeonwuka"): an unsure
        # span's edges may be a verb or a noun ("tell", "house").
        before = re.findall(r"[\w'-]+", before_text[-40:].lower())
        twice = (before and before[-1] == words[0]) or words[0] == words[1]
        return {words[0]} if twice and _nickname(words[0]) else set()
    return {w for w in words if _nickname(w)}


def _nickname_uses(toks: Sequence[Token], nicknames: set[str]) -> list[_Cand]:
    """Other uses of a nickname in the same interview ("pickle says he got it off snowy"), unsure, except where a
    determiner makes it the thing itself ("a pot noodle", "the tank")."""
    out = []
    for k, t in enumerate(toks):
        if t.lower not in nicknames or (k > 0 and toks[k - 1].lower in _DETERMINERS | _DEGREE) or \
                (k > 1 and toks[k - 2].lower in ("a", "an", "the") and toks[k - 1].lower not in _PERSON_NOUNS):
            continue
        out.append(_Cand(t.start, t.end, "PERSON", "propagated", 0.4, True))
    return out


# "sorry is that summit as in", "whisk like for eggs", "the signal box as in": the interviewer checks an odd word the
# speaker used as a name (of a person, a place or a firm), so it is one.
_ECHO = re.compile(r"^(?:(?:sorry|so|and|wait|oh)\s+)?(?:(?:is|was)\s+(?:that|it)\s+|did you say\s+)?"
                   r"(?P<x>[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,2}?)\s*[,?]?\s+"
                   r"(?:as\s+in\b|like\s+(?:the|a|an|for|on|in)\b)", re.IGNORECASE)
_PLACE_BEFORE = frozenset({"in", "at", "from", "to", "near", "round", "towards", "outside", "up", "down", "over"})


def _echoed(texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> dict[tuple[str, ...], tuple[str, bool]]:
    """Words the interviewer echoed to check them, with the label they carry elsewhere in the interview (a place if
    said after "in"/"at", a person otherwise) and whether "the" belongs to the name ("the signal box as in")."""
    out: dict[tuple[str, ...], tuple[str, bool]] = {}
    for text in texts:
        m = _ECHO.match(text.strip())
        if not m or len(text.split()) > 8:
            continue
        words = [w.lower() for w in m.group("x").split()]
        the = words[0] == "the"
        words = words[1:] if the else words
        if not words or any(w in stop_words() or _person_or_role(w) for w in words) or \
                (len(words) == 1 and (len(words[0]) < 2 or words[0] in wordnames.WORD_NAMES)):
            continue
        out[tuple(words)] = (_label_elsewhere(words, texts, spans), the)
    return out


def _label_elsewhere(words: list[str], texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> str:
    place = False
    for text, found in zip(texts, spans, strict=True):
        toks = tokenize(text)
        for k in range(len(toks) - len(words) + 1):
            if [t.lower for t in toks[k : k + len(words)]] != words:
                continue
            for sp in found:
                if sp.start <= toks[k].start < sp.end and sp.label != "AGE":
                    return sp.label
            back = k - 1 if k > 0 and toks[k - 1].lower != "the" else k - 2
            place = place or (back >= 0 and toks[back].lower in _PLACE_BEFORE)
    return "LOCATION" if place else "PERSON"


def _echo_uses(toks: Sequence[Token], echoes: dict[tuple[str, ...], tuple[str, bool]]) -> list[_Cand]:
    """Each use of an echoed name, unsure, except where a determiner makes it the thing ("a whisk") and the echo
    did not keep "the" with it."""
    out = []
    words = [t.lower for t in toks]
    for phrase, (label, the) in echoes.items():
        n = len(phrase)
        for k in range(len(toks) - n + 1):
            if tuple(words[k : k + n]) != phrase:
                continue
            prev = words[k - 1] if k > 0 else ""
            echo_line = k <= 3 and words[k + n : k + n + 1] in (["as"], ["like"])
            if prev in _DETERMINERS and not (the and prev == "the") and not (echo_line and prev == "that"):
                continue
            out.append(_Cand(toks[k].start, toks[k + n - 1].end, label, "cue", 0.4, True))
    return out


# After the last of a list of people: what a subject does next ("latoya and kelechi and storm have been mates").
_AFTER_LISTED = frozenset({"have", "has", "had", "were", "was", "are", "is", "got", "said", "says", "sent", "came",
                           "went", "both", "all", "who", "too", "as", "and", "used", "would", "did", "do"})
# Before the first of a list of people: "with storm and kelechi", "me and storm and latoya".
_BEFORE_LISTED = frozenset({"with", "to", "and", "between", "like", "from", "for", "me", "him", "her", "them", "us"})
_NOT_LISTED = frozenset({"mum", "mam", "dad", "mom", "nan", "gran", "grandad", "kids", "children", "family", "friends",
                         "mates", "police", "school", "work", "home", "everyone", "everybody", "people", "others",
                         "parents", "brother", "sister", "son", "daughter", "boyfriend", "girlfriend", "husband",
                         "wife", "partner", "teacher", "teachers", "staff", "officers", "social", "services"})


_NAMED_KINDS = {"PERSON": "PERSON", "OFFICER": "PERSON", "LOCATION": "LOCATION", "ORGANISATION": "ORGANISATION"}


def _named_words(docs: Sequence[Sequence[Span]]) -> dict[str, str]:
    """Each word the transcript names (a person's name, a one-word place or organisation) with what it names: where
    the speech tagger leans that way at another use of the word, it is taken there too."""
    out: dict[str, str] = {}
    for spans in docs:
        for sp in spans:
            kind = _NAMED_KINDS.get(sp.label)
            if kind is None:
                continue
            words = [t.lower for t in tokenize(sp.text)]
            if kind != "PERSON" and len(words) > 1:
                continue
            for w in words:
                if w.isalpha() and len(w) >= 3 and w not in stop_words() and w not in RANK_WORDS:
                    out.setdefault(w, kind)
    return out


def _said_twice(toks: Sequence[Token], spans: Sequence[Span]) -> list[_Cand]:
    """A name said twice as the speaker finds it ("cat cat mcstravick", "p c prudence prudence okorafor"): the words
    before a found name that repeat the word before it are the name too, even where they are everyday words."""
    out = []
    for sp in spans:
        if sp.label not in _PERSONS or set(sp.layers) <= {"model", "tagger"}:
            continue
        k = next((j for j, t in enumerate(toks) if t.start == sp.start), None)
        if k is None or k < 2:
            continue
        a, b = toks[k - 2], toks[k - 1]
        if a.lower == b.lower and a.lower.isalpha() and a.lower not in stop_words() and not _person_or_role(a.lower):
            out += [_Cand(t.start, t.end, sp.label, "cue", 0.45, True) for t in (a, b)]
    return out


def _listed_with_names(text: str, toks: Sequence[Token], spans: Sequence[Span]) -> list[_Cand]:
    """A word listed with people's names is a name too ("latoya and kelechi and storm have been mates", "with storm
    and kelechi"): unsure, and only where the words around are what a list of people has around it."""
    named = {k for k, t in enumerate(toks)
             for sp in spans if sp.label in _PERSONS and sp.start <= t.start < sp.end}
    out = []
    n = len(toks)
    for k, t in enumerate(toks):
        w = t.lower
        if k in named or not w.isalpha() or len(w) < 3 or w in stop_words() or w in _NOT_LISTED or \
                w in RANK_WORDS or w.endswith(("ing", "ed", "ly")):
            continue
        after = toks[k + 1].lower if k + 1 < n else ""
        before = toks[k - 1].lower if k > 0 else ""
        last = k >= 2 and before in ("and", "or") and k - 2 in named and (after in _AFTER_LISTED or k + 1 == n)
        first = k + 2 < n and after in ("and", "or") and k + 2 in named and (k == 0 or before in _BEFORE_LISTED)
        if last or first:
            out.append(_Cand(t.start, t.end, "PERSON", "cue", 0.4, True))
    return out


def _known_span(span: Span) -> Span:
    """A span found before (stored, or added by a reviewer: a layer of its own) in the layers' terms."""
    layers = tuple(lay for lay in span.layers if lay in _LAYER_TRUST) or ("known",)
    return replace(span, layers=layers)


def _identifying(span: Span, text: str) -> bool:
    """Apps and national bodies ("Action Fraud", "Snapchat") stay readable unless a sure layer matched them; so do
    the laws named after people ("Clare's Law": neither Clare nor Law, a Lanarkshire village, is meant)."""
    if "known" in span.layers or "pattern" in span.layers:
        return True
    low = span.text.lower()
    if low == "law" and re.search(r"['\u2019]s\s+$", text[: span.start]):
        return False
    if span.label in _PERSONS and names_a_law(text, span.end):
        return False  # a layer that reads only the words around (the tagger, the model) may think otherwise
    return low not in forces.NOT_IDENTIFYING and low.removeprefix("the ") not in forces.NOT_IDENTIFYING


def _word_not_name(span: Span, toks: Sequence[Token], text: str) -> bool:
    """A one-word person span on a name that is also a word, where the words around make it the word ("i will say",
    "at dawn", "to sue him")."""
    if span.label not in _PERSONS:
        return False
    idx = [k for k, t in enumerate(toks) if span.start <= t.start < span.end]
    if len(idx) == 1 and idx[0] > 0 and case_mode(text) == "mixed" and toks[idx[0]].text[:1].islower() and \
            toks[idx[0] - 1].lower in ("the", "a", "an") and "known" not in span.layers and \
            is_common(toks[idx[0]].lower):
        return True  # "out to the marina": Whisper would have capitalised a name
    if len(idx) != 1 or not wordnames.ordinary_word(toks[idx[0]].lower):
        return False
    k = idx[0]
    if case_mode(text) == "mixed" and toks[k].text[:1].isupper() and not sentence_initial(text, list(toks), k):
        return False  # "got with Sky": Whisper capitalised it mid-sentence, so it heard a name
    return wordnames.ordinary_use([t.lower for t in toks], idx[0])


# The words an organisation's name ends in (the lexicon's suffixes: "college", "centre", "trust", ...), and a forum or
# club.
_INSTITUTION_ENDS = frozenset(suffix[-1] for suffix in ORG_SUFFIX) | {"forum", "club"}


def _institution(span: Span) -> Span:
    """A "person" whose name ends in "college" or "centre" is a place of work or study ("South Devon College", "Clonard
    Youth Forum"): its pseudonym should say so."""
    words = span.text.lower().split()
    if span.label == "PERSON" and len(words) > 1 and words[-1] in _INSTITUTION_ENDS:
        return replace(span, label="ORGANISATION")
    return span


def _officers_everywhere(docs: list[list[Span]]) -> list[list[Span]]:
    """A person named as an officer anywhere in the transcript is an officer everywhere ("Bellamy", "Mark")."""
    officer_words: set[str] = set()
    for spans in docs:
        for sp in spans:
            if sp.label == "OFFICER":
                officer_words.update(person_words(sp.text))
    if not officer_words:
        return docs
    out = []
    for spans in docs:
        out.append([replace(sp, label="OFFICER") if sp.label == "PERSON" and person_words(sp.text)
                    and set(person_words(sp.text)) <= officer_words else sp for sp in spans])
    return out


_DETECTORS: dict[tuple[tuple[str, ...], str | None, str | None], Detector] = {}


def load_detector(*, known_names: Sequence[str] = (), model: str | None = "auto",
                  tagger: str | None = "auto") -> Detector:
    """A Detector; the spaCy model behind it is loaded once per process and shared."""
    key = (tuple(known_names), model, tagger)
    if key not in _DETECTORS:
        if len(_DETECTORS) > 32:
            _DETECTORS.clear()
        _DETECTORS[key] = Detector(known_names=known_names, model=model, tagger=tagger)
    return _DETECTORS[key]


def redact_text(text: str, spans: Sequence[Span], pseudonymiser: Pseudonymiser) -> tuple[str, list[tuple[Span, str]]]:
    """Replace each span by its tag (overlapping spans: the first, longest one wins)."""
    chosen: list[Span] = []
    for sp in sorted(spans, key=lambda s: (s.start, -s.end)):
        if chosen and sp.start < chosen[-1].end:
            continue
        chosen.append(sp)
    out, pos, done = [], 0, []
    for sp in chosen:
        tag = pseudonymiser.tag(sp)
        out.append(text[pos : sp.start])
        out.append(tag)
        pos = sp.end
        done.append((sp, tag))
    out.append(text[pos:])
    return "".join(out), done


# A transcript line's prefix: an optional "[00:01:06] " time stamp (as `anonscribe transcribe` writes TXT), then an
# optional "Interviewer: ", "OFFICER: ", "P2: " speaker label (letters, digits, spaces; up to 20 characters).
_SPEAKER = re.compile(r"^(?:\[(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?\]\s*)?(?:([A-Za-z0-9][A-Za-z0-9 ]{0,19}): )?")


def redact_lines(lines: Iterable[str], *, fmt: str = "text", known_names: Sequence[str] = (),
                 model: str | None = "auto", detector: Detector | None = None) -> Iterator[str]:
    """The `anonscribe redact` command: one utterance per line, the whole input being one transcript.

    fmt="text" yields the redacted lines; fmt="jsonl" yields one JSON object per line with "text" (redacted) and
    "spans" (start/end offsets into the input line, label, replacement). A "[HH:MM:SS]" time stamp stays as it is;
    so does a speaker prefix, unless it itself contains an identifier (then it is redacted too: a label must never
    leak a name).
    """
    if fmt not in ("text", "jsonl"):
        raise ValueError(f"unknown format {fmt!r} (text or jsonl)")
    raw = [line.rstrip("\r\n") for line in lines]
    bodies, offsets, prefix_spans = [], [], []
    detector = detector or load_detector(known_names=known_names, model=model)
    for line in raw:
        m = _SPEAKER.match(line)  # always matches (both parts are optional)
        assert m is not None
        offsets.append(m.end())
        bodies.append(line[m.end() :])
        who = m.group(1)
        prefix_spans.append([replace(s, start=s.start + m.start(1), end=s.end + m.start(1))
                             for s in detector.detect(who)] if who and not _role_word(who) else [])
    pseudo = Pseudonymiser()
    for line, _body, off, pre, spans in zip(raw, bodies, offsets, prefix_spans, detector.detect_document(bodies),
                                           strict=True):
        shifted = [replace(s, start=s.start + off, end=s.end + off) for s in spans]
        redacted, done = redact_text(line, [*pre, *shifted], pseudo)
        if fmt == "text":
            yield redacted
        else:
            yield json.dumps({"text": redacted, "spans": [
                {"start": s.start, "end": s.end, "label": s.label, "replacement": tag} for s, tag in done]},
                ensure_ascii=False)


_ROLE_WORDS = frozenset({"interviewer", "participant", "officer", "victim", "researcher", "speaker", "respondent",
                         "interviewee", "survivor", "police", "p", "r", "i", "q", "a", "int", "resp", "unknown"})


def _role_word(prefix: str) -> bool:
    words = re.findall(r"[a-z]+", prefix.lower())
    return bool(words) and all(w in _ROLE_WORDS or w in forces.NOT_IDENTIFYING for w in words)


def spans_to_json(spans: Sequence[Span]) -> list[dict[str, Any]]:
    """Spans as plain dicts for storage (text left out: the service keeps ranges, never identifying strings)."""
    return [{"start": s.start, "end": s.end, "label": s.label, "layers": list(s.layers),
             "confidence": s.confidence, "uncertain": s.uncertain} for s in spans]
