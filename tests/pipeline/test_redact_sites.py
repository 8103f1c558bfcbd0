"""Lower-case streets, pubs and named buildings without a house number, and the ordinary words next to them that
must stay ("her dad works for", "the number was withheld", "on my way")."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def det() -> Detector:
    return load_detector(model=None)


@pytest.mark.parametrize(("text", "needle"), [
    ("she lived on mill lane in pontefract with her nan", "mill lane"),
    ("his flat was on cedar drive just off the main road", "cedar drive"),
    ("they used to meet in the red lion on a friday", "red lion"),
    ("he drank in the kings arms most nights", "kings arms"),
    ("the handover was at the white hart inn car park", "white hart inn"),
    ("we interviewed her at brook house which is the refuge", "brook house"),
    ("p c number four four seven one took the first call", "four four seven one"),
    ("i told may it wasn't her fault", "may"),
])
def test_found(det: Detector, text: str, needle: str) -> None:
    s = text.index(needle)
    spans = det.detect(text)
    assert any(sp.start <= s and s + len(needle) <= sp.end for sp in spans), [(text[x.start:x.end], x.label)
                                                                              for x in spans]


@pytest.mark.parametrize("text", [
    "he was on his way to the station",
    "we stayed in close contact with her",
    "she lives close to the school",
    "i'm on my way home now",
    "we went to the house on the corner",
    "it went on the way it always does",
    "he went down the road to the shop",
    "we went in the back way",
    "the meeting was in the city centre",
    "she works at a nursery part time",
    "the arms deal was nothing to do with us",
    "she may have been scared to say anything",
])
def test_ordinary_speech_untouched(det: Detector, text: str) -> None:
    assert det.detect(text) == [], [(text[x.start:x.end], x.label) for x in det.detect(text)]


def test_verbs_and_nouns_after_cues_neither_tagged_nor_spread() -> None:
    lines = ["her dad works for parkers removals i think", "he works for himself he's a plasterer",
             "p c number four four seven one took the first call", "the number was withheld so we couldn't trace it"]
    spans = load_detector(model=None).detect_document(lines)
    words = {line[s.start:s.end] for line, found in zip(lines, spans, strict=True) for s in found}
    assert not words & {"works", "number"}, words


def test_known_word_names_in_their_ordinary_use() -> None:
    """A recording's known "Rob" and "May" don't make the verb and the modal into names."""
    lines = ["rob was the one who rang it in", "they'd rob anyone for a few quid", "he went out to rob houses",
             "lads who rob cars round there", "that may well be true", "i told may it was fine"]
    found = load_detector(known_names=("Rob Hartley", "May Collins"), model=None).detect_document(lines)
    tagged = [[line[s.start:s.end] for s in spans] for line, spans in zip(lines, found, strict=True)]
    assert tagged == [["rob"], [], [], [], [], ["may"]], tagged
