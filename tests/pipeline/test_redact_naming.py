"""Issue 14, session 13: what the speaker says is a name ("muppet is actually called ashraf", "his friend muppet ran
the group"), and the speech tagger's second look at a word the interview names elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.redact import Detector, load_detector, naming
from pipeline.redact import tagger as speech_tagger
from pipeline.redact.base import tokenize


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(tagger=None)


def _named(text: str) -> list[str]:
    toks = tokenize(text)
    return [toks[k].lower for k in naming.named_words(toks)]


@pytest.mark.parametrize(("text", "name"), [
    ("his friend wobble ran the group and wobble is actually called hamid", "wobble"),
    ("pantry is what they called him at the yard", "pantry"),
    ("her daughter brought her in and saucer is a nickname as well", "saucer"),
    ("a lad in the flats who went by the name gravel online", "gravel"),
    ("a lad who goes by kettle on snapchat", "kettle"),
    ("he's known as ladle round here", "ladle"),
    ("yeah barrel's my boss he runs the yard", "barrel"),
    ("my gaffer biscuit was canny about it", "biscuit"),
    ("my pal teaspoon seen it first", "teaspoon"),
    ("his nickname was trolley", "trolley"),
    ("my wee sister thimble that's what we all call her cos she was tiny", "thimble"),
    ("a boy in her class teacake he's called that cos he's round", "teacake"),
    ("so rhubarb is my cousin well rahul but everyone says rhubarb", "rhubarb"),
])
def test_what_the_speaker_says_is_a_name(rules: Detector, text: str, name: str) -> None:
    assert name in _named(text)
    spans = [sp for sp in rules.detect(text) if name in sp.text.lower()]
    assert spans and all(sp.label == "PERSON" and sp.uncertain for sp in spans)  # a reviewer confirms it


@pytest.mark.parametrize("text", [
    "they called her fat because of the pictures",
    "he called me, crying, at two in the morning",
    "she called him back the next day",
    "they called me a liar to my face",
    "my friend group was all in the chat",
    "he came in wanting to know by what right his son's phone had been seized",
    "he's called oven cos he's always on the sunbeds haha real name's desmond",
    "my friend really helped me through it",
    "that's what they called it at the time",
    "the name was on the list",
    "the shop on the corner that's what we call it round here",
    "a d c called scrim jaw which i thought was a nickname until i saw it on an email",
    "everyone says sorry but nobody does anything",
])
def test_ordinary_talk_of_calling_and_friends_names_no_one(text: str) -> None:
    assert not set(_named(text)) - {"oven"}


def test_a_found_nickname_travels_but_not_after_a_degree_word(rules: Detector) -> None:
    doc = ["his friend wobble ran the group", "then wobble sent it to everyone", "the shelf was a bit wobble"]
    found = [[sp.text for sp in spans if sp.label == "PERSON"] for spans in rules.detect_document(doc)]
    assert found[0] == ["wobble"] and found[1] == ["wobble"] and found[2] == []


class _Leaning(speech_tagger.SpeechTagger):
    """A network that reads "pebble" as a person: sure in one line, leaning in another, not at all in a third."""

    def __init__(self, base: speech_tagger.SpeechTagger) -> None:
        self.__dict__.update(base.__dict__)

    def _probabilities(self, text: str, toks: list) -> np.ndarray:
        probs = np.zeros((len(toks), len(speech_tagger.KINDS)), dtype=np.float32)
        probs[:, 0] = 1.0
        for i, t in enumerate(toks):
            if t.lower == "pebble":
                lean = 0.95 if "sure" in text else (0.3 if "leaning" in text else 0.05)
                probs[i, 0], probs[i, speech_tagger.KINDS.index("PERSON")] = 1 - lean, lean
        return probs


def test_the_tagger_looks_again_at_a_word_the_interview_names() -> None:
    base = load_detector()
    assert base.tagger is not None
    det = load_detector(tagger=None)
    det = type(det).__new__(type(det))
    det.__dict__.update(load_detector(tagger=None).__dict__)
    det.tagger = _Leaning(base.tagger)
    doc = ["sure enough pebble had it", "the leaning one pebble had it first", "and pebble never said a word"]
    found = [[(sp.text, sp.layers) for sp in spans if sp.label == "PERSON"] for spans in det.detect_document(doc)]
    assert found[0] == [("pebble", ("tagger",))]
    assert found[1] == [("pebble", ("tagger",))]  # 0.3: below the threshold, but the interview names it
    assert found[2] == []  # 0.05: the network does not lean that way here
    alone = det.detect_document(["the leaning one pebble had it first"])
    assert [sp for sp in alone[0] if sp.label == "PERSON"] == []  # nothing names it elsewhere: no second look
    assert all(sp.uncertain for spans in det.detect_document(doc) for sp in spans)
