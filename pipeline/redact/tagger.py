"""Speech tagger: a small learned token classifier for what the rules cannot see in lower-case speech.

The rules know names by lists and by cue words; a name in lower case that no list knows and no cue announces ("we
went up to crossgates", "she's at greggs now") slips past them. This layer reads each token with the words around
it: their word vectors (the spaCy model's static vectors, so "asda" sits near "tesco" though neither was in its
training data) and hashed features (neighbouring words, suffixes, what the lists say of the word). A one-hidden-layer
network (trained by scripts/train_speech_tagger.py on the tuned-on splits only, never a frozen one) gives each
token a probability per kind. Its spans are uncertain (a reviewer sees them first) and never propagate; but where the
interview names a word elsewhere, a lean the network's way at another use of it is enough there (`second_look`).

Inference is numpy only; the weights (speech_tagger.npz beside this file) are a few megabytes. Without a spaCy
model (no vectors) the layer is off.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

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
    is_common,
    is_oov,
    sentence_initial,
    stop_words,
    tokenize,
)
from pipeline.redact.lexicon.places import NOT_STREET

WEIGHTS = Path(__file__).parent / "speech_tagger.npz"
KINDS = ("O", "PERSON", "LOCATION", "ORGANISATION", "FORCE", "OTHER", "AGE")
# Gold labels folded into the kinds the network learns; the rules find the rest (numbers, codes, dates) reliably.
KIND_OF = {"PERSON": "PERSON", "OFFICER": "PERSON", "LOCATION": "LOCATION", "ADDRESS": "LOCATION",
           "ORGANISATION": "ORGANISATION", "GROUP": "ORGANISATION", "OPERATION": "ORGANISATION", "FORCE": "FORCE",
           "AGE": "AGE"}
# Ages are found by the rules only where a cue says so ("she was fifteen"); in speech an age often has none
# ("the lad danyal eighteen boxes at ..."), and only the words around tell it from a count.
EMIT = ("PERSON", "LOCATION", "ORGANISATION", "AGE")
_NOT_AGE = frozenset({"oh", "o", "zero", "nought"})
BUCKETS = 1 << 15
WINDOW = (-2, -1, 0, 1, 2)
VECTOR_DIM = 300
COMMON_THRESHOLD = 0.9
# Where the interview names a word elsewhere, the network need only lean that way (on the tuned splits, with a
# tagger that never saw them: 0.1 found 6 more of 3,847 at no cost in precision; 0.05 found 9, cost 0.06 points).
SECOND_LOOK = 0.1


@lru_cache(maxsize=1 << 18)
def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (BUCKETS - 1)


def _shape(tok: Token, text: str, toks: list[Token], i: int, mixed: bool) -> str:
    if not mixed:
        return "lower"
    first = tok.text[:1]
    if tok.text.isupper() and len(tok.text) > 1:
        return "upper"
    if first.isupper():
        return "cap-start" if sentence_initial(text, toks, i) else "cap"
    return "low"


@lru_cache(maxsize=1 << 16)
def _word_flags(w: str) -> tuple[str, ...]:
    names, surnames, places = gazetteers.given_names(), gazetteers.surnames(), gazetteers.places()
    flags = []
    if w in stop_words():
        flags.append("stop")
    elif is_common(w):
        flags.append("common")
    elif w in gazetteers.rare_words():
        flags.append("rare")
    if is_oov(w):
        flags.append("oov")
    if w in POLICE_TERMS:
        flags.append("police")
    if names.word(w):
        flags.append("given-amb" if (w,) in names.ambiguous else "given")
    if surnames.word(w):
        flags.append("surname-amb" if (w,) in surnames.ambiguous else "surname")
    if places.word(w):
        flags.append("place-amb" if (w,) in places.ambiguous else "place")
    if w in NUMBER_WORDS or w.isdigit():
        flags.append("number")
    if w in RANK_WORDS or w in TITLE_WORDS:
        flags.append("rank")
    if w in MONTHS:
        flags.append("month")
    return tuple(flags)


def token_features(text: str, toks: Sequence[Token]) -> list[list[int]]:
    """Hashed feature ids per token."""
    mixed = case_mode(text) == "mixed"
    toks = list(toks)
    words = [t.lower for t in toks]
    flags = [_word_flags(w) for w in words]
    # A word's identity only where it is an ordinary word: "met", "will", "street" matter; a name seen in training
    # must not teach the network that that one name is a name.
    ident = [w if is_common(w) or w in POLICE_TERMS else "<name-like>" for w in words]
    out = []
    for i, w in enumerate(words):
        feats = ["bias", f"style={mixed}", f"shape={_shape(toks[i], text, toks, i, mixed)}", f"suf3={w[-3:]}",
                 f"suf2={w[-2:]}", f"pre3={w[:3]}", f"len={min(len(w), 12)}", f"pos={min(i, 3)}"]
        feats.append(f"w0={ident[i]}")
        feats += [f"f0={f}" for f in flags[i]]
        if toks[i].possessive:
            feats.append("possessive")
        for d in (-3, -2, -1, 1, 2, 3):
            j = i + d
            if 0 <= j < len(words):
                feats.append(f"w{d}={ident[j]}")
                feats += [f"f{d}={f}" for f in flags[j]]
            else:
                feats.append(f"w{d}=<edge>")
        if i >= 2:
            feats.append(f"b-2={words[i - 2]}_{words[i - 1]}")
        if i + 2 < len(words):
            feats.append(f"b+2={words[i + 1]}_{words[i + 2]}")
        out.append([_hash(f) for f in feats])
    return out


def token_vectors(vectors: Any, strings: Any, toks: Sequence[Token]) -> np.ndarray:
    """Unit word vectors of each token's window, (n, len(WINDOW) * VECTOR_DIM); zeros where a word has none."""
    n = len(toks)
    base = np.zeros((n + 4, VECTOR_DIM), dtype=np.float32)
    for i, t in enumerate(toks):
        row = vectors.key2row.get(strings[t.lower], -1) if t.lower in strings else -1
        if row >= 0:
            v = np.asarray(vectors.data[row], dtype=np.float32)
            norm = float(np.linalg.norm(v))
            if norm > 0:
                base[i + 2] = v / norm
    return np.concatenate([base[2 + d : 2 + d + n] for d in WINDOW], axis=1)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """One BLAS thread for the tagger: its matrices are small, and on a busy machine (the worker transcribing
    beside it) extra BLAS threads only wait for cores, about four times slower (bench/redaction_eval.py figures)."""
    return ThreadpoolController()


@dataclass(frozen=True)
class Reading:
    """The network's reading of one utterance: its tokens and their (tokens, KINDS) probabilities."""

    toks: list[Token]
    probs: np.ndarray


@dataclass(frozen=True)
class TaggerHit:
    start: int
    end: int
    label: str
    confidence: float


class SpeechTagger:
    def __init__(self, weights: dict[str, np.ndarray], nlp: Any, threshold: float, common_threshold: float) -> None:
        self.embed, self.dense, self.bias = weights["embed"], weights["dense"], weights["bias"]
        self.out, self.out_bias = weights["out"], weights["out_bias"]
        self.vectors, self.strings = nlp.vocab.vectors, nlp.vocab.strings
        self.threshold = threshold
        self.common_threshold = common_threshold

    def probabilities(self, text: str, toks: Sequence[Token]) -> np.ndarray:
        """(tokens, KINDS) probabilities."""
        if not toks:
            return np.zeros((0, len(KINDS)), dtype=np.float32)
        with _blas().limit(limits=1, user_api="blas"):
            return self._probabilities(text, toks)

    def _probabilities(self, text: str, toks: Sequence[Token]) -> np.ndarray:
        hidden = token_vectors(self.vectors, self.strings, toks) @ self.dense + self.bias
        for i, ids in enumerate(token_features(text, toks)):
            hidden[i] += self.embed[ids].sum(axis=0)
        logits = np.maximum(hidden, 0) @ self.out + self.out_bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def read(self, text: str) -> Reading:
        toks = tokenize(text)
        return Reading(toks, self.probabilities(text, toks))

    def find(self, text: str, reading: Reading | None = None) -> list[TaggerHit]:
        reading = reading or self.read(text)
        toks, probs = reading.toks, reading.probs
        runs: list[tuple[list[int], str, float]] = []  # token indices, kind, lowest probability
        for i, tok in enumerate(toks):
            k = int(probs[i, 1:].argmax()) + 1
            label, p = KINDS[k], float(probs[i, k])
            if label not in EMIT or p < self.threshold or (tok.lower in stop_words() and label != "AGE"):
                continue
            if label != "AGE" and (len(tok.lower) == 1 or tok.lower in WEEKDAYS):
                continue  # a letter of a spelled rank or role ("p s", "d s l"), a day of the week
            if label == "AGE" and not _number(tok):
                continue  # the number itself, never the words around it ("year", "aged")
            if runs and runs[-1][1] == label and runs[-1][0][-1] == i - 1 and \
                    text[toks[i - 1].end : tok.start].strip(" -") == "":
                runs[-1] = ([*runs[-1][0], i], label, min(runs[-1][2], p))
            else:
                runs.append(([i], label, p))
        runs += _listed_ages(toks, runs)
        # A place or organisation that is one ordinary word ("the school", "at the gym", "the road") needs the
        # network to be sure: such a word is nearly always the thing itself. A person's name that is also a word
        # ("summer", "precious") does not: missing one leaks a participant. A word that only describes a street or a
        # place ("the main road", "the back lane", "the old one") names nothing.
        return [TaggerHit(toks[idx[0]].start, toks[idx[-1]].end, label, p) for idx, label, p in runs
                if (p >= self.common_threshold or len(idx) > 1 or label in ("PERSON", "AGE")
                    or not is_common(toks[idx[0]].lower)) and not all(toks[k].lower in NOT_STREET for k in idx)
                and not (label == "AGE" and _counts_something(toks, idx[0], idx[-1]))]

    def second_look(self, reading: Reading, named: dict[str, str], bar: float = SECOND_LOOK) -> list[TaggerHit]:
        """Words named elsewhere in the transcript (`named`: word -> kind) where the network, reading this use,
        leans that way but below its threshold: the interview already says the word is a name."""
        out = []
        for i, tok in enumerate(reading.toks):
            kind = named.get(tok.lower)
            if kind is None:
                continue
            p = float(reading.probs[i, KINDS.index(kind)])
            if bar <= p < self.threshold:
                out.append(TaggerHit(tok.start, tok.end, kind, p))
        return out


def _number(tok: Token) -> bool:
    return tok.lower not in _NOT_AGE and (tok.lower.isdigit() or tok.lower in NUMBER_WORDS)


def _listed_ages(toks: Sequence[Token], runs: list[tuple[list[int], str, float]]
                 ) -> list[tuple[list[int], str, float]]:
    """The number listed after an age is an age too ("her little sisters six and nine", "aged 14 or 15"): the
    network, sure of the first, may doubt the second."""
    taken = {i for idx, _, _ in runs for i in idx}
    out = []
    for idx, label, p in runs:
        j = idx[-1] + 1
        if label != "AGE" or j + 1 >= len(toks) or toks[j].lower not in ("and", "or") or not _number(toks[j + 1]):
            continue
        end = j + 1
        while end + 1 < len(toks) and _number(toks[end + 1]):
            end += 1
        if not taken & set(range(j + 1, end + 1)):
            out.append((list(range(j + 1, end + 1)), "AGE", p))
    return out


_UNITS = frozenset({"hours", "hour", "minutes", "mins", "days", "weeks", "months", "years", "year", "times", "quid",
                    "pounds", "grand", "percent", "per", "miles", "women", "men", "people", "girls", "boys", "kids",
                    "officers", "cases", "images", "pictures", "photos", "videos", "messages", "odd", "hundred",
                    "thousand"})


_QUANTITY_CUES = frozenset({"about", "around", "over", "nearly", "some", "maybe", "like", "roughly", "the", "those",
                            "these", "of", "had", "have", "has", "got", "with", "were", "are", "all", "only", "just",
                            "than", "and", "there's", "there", "another"})


def _counts_something(toks: Sequence[Token], first: int, last: int) -> bool:
    """"twenty four hours", "married 24 years", "about fourteen lads": a count or a length of time, not an age
    ("years old" and "year old" are the age; "danyal eighteen boxes at the club" is a name, an age and a verb)."""
    nxt = toks[last + 1].lower if last + 1 < len(toks) else ""
    after = toks[last + 2].lower if last + 2 < len(toks) else ""
    if nxt in _UNITS:
        return after != "old"
    if nxt in ("other", "more", "stone"):
        return True
    before = toks[first - 1].lower if first > 0 else ""
    return before in _QUANTITY_CUES and len(nxt) > 3 and nxt.endswith("s") and is_common(nxt) and \
        not nxt.endswith("ss") and not toks[last + 1].possessive


@lru_cache(maxsize=4)
def _weights(path: str) -> dict[str, np.ndarray]:
    """Read once per process (every detector shares them), stored half-precision, computed in single."""
    with np.load(path) as z:
        return {k: z[k].astype(np.float32) for k in z.files}


def load(nlp: Any, path: str | Path | None = None, threshold: float | None = None) -> SpeechTagger | None:
    """The tagger over `nlp`'s vectors, or None when there are no vectors or no weights."""
    path = Path(path) if path else WEIGHTS
    if nlp is None or not len(nlp.vocab.vectors) or not path.exists():
        return None
    weights = _weights(str(path))
    if threshold is None:
        threshold = float(weights.get("threshold", 0.5))
    return SpeechTagger(weights, nlp, threshold, float(weights.get("common_threshold", COMMON_THRESHOLD)))
