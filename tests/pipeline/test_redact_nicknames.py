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


def test_an_everyday_word_of_a_full_name_travels(rules: Detector) -> None:
    # session 12 (dev23): "dove" is found with her surname once; her later bare uses are her too, the birds are not
    doc = ["so the case i've brought is a girl called dove dove pritchard-ellis she's sixteen",
           "no her mam just liked doves she keeps them in a loft",
           "and what happened to dove",
           "she's a lovely kid dove she sent the inspector a feather in a card after",
           "a white dove landed on the shed"]
    found = [[sp for sp in spans if sp.label == "PERSON"] for spans in rules.detect_document(doc)]
    assert [sp.text for sp in found[2]] == ["dove"] and found[2][0].uncertain  # borrowed evidence: reviewed
    assert "dove" in [sp.text for sp in found[3]]
    assert found[1] == [] and found[4] == []  # "doves", "a white dove"


def test_an_unsure_name_lends_only_the_first_name_said_twice(rules: Detector) -> None:
    doc = ["so the victim in this one was victory victory ezeonwuka she was twenty",
           "the hard bit with victory was the family",
           "it felt like a small victory when he was charged"]
    found = [[sp.text for sp in spans if sp.label == "PERSON"] for spans in rules.detect_document(doc)]
    assert "victory" in found[1]
    assert found[2] == []  # "a small victory": the word


def test_an_institution_read_as_a_person_lends_no_words(rules: Detector) -> None:
    doc = ["he's still at south devon college which she's not happy about",
           "she stopped going to college after it"]
    assert [sp.text for sp in rules.detect_document(doc)[1] if sp.label == "PERSON"] == []


def test_an_officers_everyday_surname_travels_from_the_rank(rules: Detector) -> None:
    doc = ["the officer in the case was d c partridge and she was brilliant",
           "and partridge still sends her a card every christmas",
           "we had a partridge in the garden once"]
    found = [[(sp.text, sp.label) for sp in spans if sp.label in ("PERSON", "OFFICER")]
             for spans in rules.detect_document(doc)]
    assert ("partridge", "OFFICER") in found[0]
    assert found[1] == [("partridge", "OFFICER")]  # unsure, from the rank elsewhere
    assert found[2] == []  # "a partridge": the bird


def test_a_word_the_interviewer_echoes_is_a_name_there_and_elsewhere(rules: Detector) -> None:
    # session 12 (dev24, dev26, dev27): an odd word checked back by the interviewer names someone or somewhere
    doc = ["i'm from stannington but i live out at slack now it's above colden on the tops",
           "is that slack as in",
           "yeah slack like loose",
           "the rope had a bit of slack in it"]
    found = [[(sp.text, sp.label, sp.uncertain) for sp in spans if sp.text == "slack"]
             for spans in rules.detect_document(doc)]
    assert found[0] == [("slack", "LOCATION", True)]  # said after "at": a place, for review
    assert found[1] == [("slack", "LOCATION", True)] and found[2] == [("slack", "LOCATION", True)]
    assert found[3] == []  # "a bit of slack": the word


def test_an_echoed_name_keeps_its_label_and_its_the(rules: Detector) -> None:
    doc = ["my brother shovel got it out of him", "shovel as in", "i need a shovel for the garden",
           "we meet at the signal box on a tuesday", "the signal box as in", "the signal box was shut on monday"]
    spans = rules.detect_document(doc)
    assert ("shovel", "PERSON") in [(sp.text, sp.label) for sp in spans[1]]
    assert [sp.text for sp in spans[2]] == []  # "a shovel"
    assert "signal box" in [sp.text for sp in spans[4]] and "signal box" in [sp.text for sp in spans[5]]


@pytest.mark.parametrize("text", [
    "what was the police response like",
    "i was like what are you on about",
    "it took like ten months to get charged",
    "that sounds like it made a difference",
    "wherever you like",
])
def test_an_ordinary_like_is_no_echo(rules: Detector, text: str) -> None:
    assert rules.detect_document([text, text]) == [[], []]


def test_a_person_named_like_an_institution_is_an_organisation(rules: Detector) -> None:
    spans = rules.detect("he's still at south devon college which she's not happy about")
    assert [sp.label for sp in spans if "college" in sp.text] == ["ORGANISATION"]
    assert [sp.label for sp in rules.detect("my friend dove pritchard-ellis came with me")
            if "dove" in sp.text] == ["PERSON"]
