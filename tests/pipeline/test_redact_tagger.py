"""Issue 14, session 10: the speech tagger, a learned layer for lower-case names the rules cannot see.

The lines below use names that appear in no training split (checked when they were written): what the tagger finds
here it finds from the words around and the word vectors, not from having seen the name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.redact import Detector, load_detector
from pipeline.redact import model as redact_model
from pipeline.redact import tagger as speech_tagger
from pipeline.redact.base import tokenize
from scripts import train_speech_tagger


@pytest.fixture(scope="module")
def without() -> Detector:
    return load_detector(tagger=None)


@pytest.fixture(scope="module")
def full() -> Detector:
    return load_detector()


def test_shipped_weights_load_with_the_model() -> None:
    det = load_detector()
    assert det.tagger is not None
    assert 0 < det.tagger.threshold < det.tagger.common_threshold <= 1
    assert load_detector(model=None).tagger is None  # no vectors, no tagger: the other layers still run


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("he works at siemens on the line", "siemens", "ORGANISATION"),
    ("he was working at heinz for a bit", "heinz", "ORGANISATION"),
    ("then willow saw it first", "willow", "PERSON"),  # "my friend willow": the rules find it (naming.py)
])
def test_tagger_finds_what_the_rules_miss(without: Detector, full: Detector, text: str, needle: str,
                                          label: str) -> None:
    s = text.index(needle)
    assert not [sp for sp in without.detect(text) if sp.start <= s < sp.end]
    hits = [sp for sp in full.detect(text) if sp.start <= s and s + len(needle) <= sp.end]
    assert [sp.label for sp in hits] == [label]
    assert hits[0].layers == ("tagger",) and hits[0].uncertain  # a reviewer sees it first


@pytest.mark.parametrize("text", [
    "we spoke to her at the gym",
    "the kids were at the school gates",
    "we sat under the willow in the park",
    "i met him at a party in the summer",
])
def test_ordinary_lines_stay_clean(full: Detector, text: str) -> None:
    assert full.detect(text) == []


def test_a_tagged_name_does_not_travel(full: Detector) -> None:
    first, second = full.detect_document(["my friend willow saw it first", "we sat under the willow in the park"])
    assert [sp.text for sp in first] == ["willow"]
    assert second == []


class _Fixed(speech_tagger.SpeechTagger):
    """The tagger's span logic over chosen probabilities."""

    def __init__(self, probs: dict[str, tuple[str, float]]) -> None:
        self.threshold, self.common_threshold, self.probs = 0.4, 0.9, probs

    def probabilities(self, text, toks):  # type: ignore[no-untyped-def]
        out = np.zeros((len(toks), len(speech_tagger.KINDS)), dtype=np.float32)
        for i, t in enumerate(toks):
            kind, p = self.probs.get(t.lower, ("O", 1.0))
            out[i, speech_tagger.KINDS.index(kind)] = p
            if kind != "O":
                out[i, 0] = 1 - p
        return out


def test_one_ordinary_word_as_a_place_needs_a_sure_network() -> None:
    text = "we went to the gym near summer hill with summer"
    unsure = _Fixed({"gym": ("ORGANISATION", 0.8), "hill": ("LOCATION", 0.6)})
    assert unsure.find(text) == []  # "gym" and "hill" alone are words...
    sure = _Fixed({"gym": ("ORGANISATION", 0.95)})
    assert [(text[h.start:h.end], h.label) for h in sure.find(text)] == [("gym", "ORGANISATION")]
    # ... two ordinary words together can name a place; a person's name that is a word is never held back
    joined = _Fixed({"summer": ("PERSON", 0.5), "hill": ("LOCATION", 0.6)})
    found = [(text[h.start:h.end], h.label) for h in joined.find(text)]
    assert found == [("summer", "PERSON"), ("summer", "PERSON")]
    place = _Fixed({"summer": ("LOCATION", 0.6), "hill": ("LOCATION", 0.6)})
    assert [(text[h.start:h.end], h.label) for h in place.find(text)] == [("summer hill", "LOCATION")]


def test_features_never_name_a_word_the_lists_do_not_know() -> None:
    # A name from the training data must not be learned as that one name: an unknown word's identity is hashed as
    # "name-like", so two unknown names differ only in the features of their shape (suffix, prefix, length).
    one, two = "my friend zorvatha saw it first", "my friend quillabey saw it first"
    feats_one = set(speech_tagger.token_features(one, tokenize(one))[2])
    feats_two = set(speech_tagger.token_features(two, tokenize(two))[2])
    shape_one = {speech_tagger._hash(f) for f in ("suf3=tha", "suf2=ha", "pre3=zor", "len=8")}
    shape_two = {speech_tagger._hash(f) for f in ("suf3=bey", "suf2=ey", "pre3=qui", "len=9")}
    assert shape_one <= feats_one and shape_two <= feats_two
    assert feats_one - shape_one == feats_two - shape_two
    # an ordinary word keeps its identity: "met" the verb is learned as "met"
    met = "i met him at a party"
    assert speech_tagger._hash("w0=met") in speech_tagger.token_features(met, tokenize(met))[1]


def test_no_weights_no_tagger(tmp_path: Path) -> None:
    nlp = redact_model.load_nlp("auto")
    assert speech_tagger.load(None) is None
    assert speech_tagger.load(nlp, tmp_path / "missing.npz") is None


def test_training_writes_weights_the_tagger_loads(tmp_path: Path) -> None:
    records = [json.loads(line) for line in
               (train_speech_tagger.ASR["dev11"]).read_text(encoding="utf-8").splitlines()[:120]]
    weights = train_speech_tagger.train(records, hidden=8, epochs=1, seed=1)
    assert weights["embed"].shape == (speech_tagger.BUCKETS, 8)
    assert weights["dense"].shape == (len(speech_tagger.WINDOW) * speech_tagger.VECTOR_DIM, 8)
    path = tmp_path / "t.npz"
    np.savez_compressed(path, threshold=np.float32(0.4), **weights)
    tagger = speech_tagger.load(redact_model.load_nlp("auto"), path)
    assert tagger is not None and tagger.threshold == pytest.approx(0.4)
    probs = tagger.probabilities("she works at the mill", tokenize("she works at the mill"))
    assert probs.shape == (5, len(speech_tagger.KINDS))
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    # the same data and seed give the same weights
    again = train_speech_tagger.train(records, hidden=8, epochs=1, seed=1)
    assert all(np.array_equal(weights[k], again[k]) for k in weights)


def test_training_never_reads_a_frozen_split() -> None:
    records = train_speech_tagger.tuned_records(set())
    assert records and not [r for r in records if "frozen" in r.get("split", "") or r.get("split") == "whisper"]
    left = train_speech_tagger.tuned_records({"dev11"})
    assert not [r for r in left if r.get("split") == "dev11"]


def test_an_age_is_the_number_and_never_a_count() -> None:
    text = "the lad was nineteen and up for twenty four hours and aged twenty two years old"
    ages = _Fixed({"nineteen": ("AGE", 0.8), "was": ("AGE", 0.7), "twenty": ("AGE", 0.8), "four": ("AGE", 0.8),
                   "two": ("AGE", 0.8), "aged": ("AGE", 0.9)})
    found = [(text[h.start:h.end], h.label) for h in ages.find(text)]
    # "was" and "aged" are never the age; "twenty four hours" is a length of time; "twenty two years old" is an age
    assert found == [("nineteen", "AGE"), ("twenty two", "AGE")]
    counts = "we found about fourteen lads with it and one was sixteen stone but danyal fourteen boxes"
    ages = _Fixed({"fourteen": ("AGE", 0.8), "sixteen": ("AGE", 0.8)})
    # "about fourteen lads" counts them, "sixteen stone" weighs; after a name the plural word is a verb
    assert [(h.start, h.label) for h in ages.find(counts)] == [(counts.rindex("fourteen"), "AGE")]


@pytest.mark.parametrize(("text", "age"), [
    ("and the lad zebedee eighteen boxes at the club on a thursday", "eighteen"),
    ("her and her little sisters six and nine were all in the house", "nine"),
])
def test_tagger_reads_an_age_with_no_cue(without: Detector, full: Detector, text: str, age: str) -> None:
    s = text.index(age)
    assert not [sp for sp in without.detect(text) if sp.start <= s < sp.end]
    hits = [sp for sp in full.detect(text) if sp.start <= s < sp.end]
    assert [sp.label for sp in hits] == ["AGE"] and hits[0].uncertain


def test_tagger_uses_one_blas_thread(full: Detector, monkeypatch: pytest.MonkeyPatch) -> None:
    # Extra BLAS threads only wait for cores on a busy worker; the limit holds while the network runs, not after.
    from threadpoolctl import threadpool_info

    seen: list[list[int]] = []
    real = speech_tagger.token_vectors

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
        return real(*args, **kwargs)

    monkeypatch.setattr(speech_tagger, "token_vectors", spy)
    assert full.tagger is not None
    full.tagger.probabilities("my friend willow saw it", tokenize("my friend willow saw it"))
    assert seen and all(n == 1 for n in seen[0])


def test_a_letter_or_a_weekday_is_no_name() -> None:
    text = "my sergeant p s bolitho came on the thursday"
    tagged = _Fixed({"p": ("PERSON", 0.8), "s": ("PERSON", 0.6), "bolitho": ("PERSON", 0.9),
                     "thursday": ("PERSON", 0.7)})
    assert [(text[h.start:h.end], h.label) for h in tagged.find(text)] == [("bolitho", "PERSON")]


@pytest.mark.parametrize(("text", "first", "listed"), [
    ("her little sisters six and nine were in", "six", ["nine"]),
    ("the boys were 14 or 15 at the time", "14", ["15"]),
    ("the twins twenty and twenty one now", "twenty", ["twenty one"]),
    ("she was six and a half stone", "six", []),  # not a number after "and"
    ("she was six and nobody noticed", "six", []),
])
def test_a_number_listed_after_an_age_is_an_age(text: str, first: str, listed: list[str]) -> None:
    toks = tokenize(text)
    i = next(k for k, t in enumerate(toks) if t.lower == first)
    runs = speech_tagger._listed_ages(toks, [([i], "AGE", 0.9)])
    assert [text[toks[idx[0]].start : toks[idx[-1]].end] for idx, _, _ in runs] == listed
    assert speech_tagger._listed_ages(toks, [([i], "LOCATION", 0.9)]) == []  # only an age lends itself
