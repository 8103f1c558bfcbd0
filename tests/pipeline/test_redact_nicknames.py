"""Issue 14, session 11 (dev16-dev18): nicknames that are everyday words ("a boy they call biscuit", "everyone calls
him tank") and their later uses in the same interview; the phone call and the judgement stay readable."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(tagger=None)


def _persons(det: Detector, text: str) -> list[str]:
    return [sp.text for sp in det.detect(text) if sp.label == "PERSON"]


@pytest.mark.parametrize(("text", "name"), [
    ("he sent it to two mates and a boy they call crumpet because he's always eating", "crumpet"),
    ("his pal they call dodger sent them on", "dodger"),
    ("it went round ally and a boy they cry neep", "neep"),
    ("everyone calls him moose at work", "moose"),
    ("we call her button the whole family does", "button"),
])
def test_a_nickname_after_call_is_a_person(rules: Detector, text: str, name: str) -> None:
    spans = [sp for sp in rules.detect(text) if sp.text == name]
    assert [sp.label for sp in spans] == ["PERSON"] and spans[0].uncertain  # a reviewer confirms a nickname


@pytest.mark.parametrize("text", [
    "they call her lazy because she never gets up",
    "i'll call him tomorrow about it",
    "i had to call her mum and tell her",
    "you have to call him sir in there",
    "i'm going to call him and ask",
    "we call her back every time she rings",
    "they call it sexting but it's abuse",
])
def test_a_call_or_a_judgement_is_not_a_name(rules: Detector, text: str) -> None:
    assert _persons(rules, text) == []


def test_a_nickname_travels_where_it_names_someone(rules: Detector) -> None:
    doc = ["noodle had the video and so did a lad called pickle nobody knows why",
           "i had a pot noodle and a pickle sandwich in the car at three in the morning",
           "pickle says he got it off snowy and he only ever sent it to the pickle jar",
           "noodle and pickle got cautions in the end"]
    found = [[sp.text for sp in spans if sp.label == "PERSON"] for spans in rules.detect_document(doc)]
    assert "pickle" in found[0]
    assert found[1] == []  # "a pickle sandwich": the thing itself
    assert found[2] == ["pickle"]  # the first "pickle", not "the pickle jar"
    assert "pickle" in found[3]
    spans = rules.detect_document(doc)[3]
    assert all(sp.uncertain for sp in spans if sp.text == "pickle")  # borrowed evidence: a reviewer confirms it


def test_a_word_name_does_not_travel_as_a_nickname(rules: Detector) -> None:
    # "will" and "may" have their own reading (each use needs its own evidence), however they were introduced
    doc = ["my mate's called will", "i will say it was hard", "it may be that he knew"]
    spans = rules.detect_document(doc)
    assert spans[1] == [] and spans[2] == []
