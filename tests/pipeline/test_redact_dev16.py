"""Issue 14, session 11 (dev16-dev18 and cross-validated misses): the Irish police, dates corrected as they are said,
and a word listed with people's names; each both ways."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(tagger=None)


def _found(det: Detector, text: str) -> list[tuple[str, str]]:
    return [(sp.text, sp.label) for sp in det.detect(text)]


@pytest.mark.parametrize(("text", "force"), [
    ("he lived in the south so it was the garda as well", "garda"),
    ("the gardai were brilliant with her", "gardai"),
])
def test_the_irish_police_is_a_force(rules: Detector, text: str, force: str) -> None:
    assert (force, "FORCE") in _found(rules, text)


@pytest.mark.parametrize(("text", "dates"), [
    ("they got him on the twelfth no the thirteenth of may at his work", ["twelfth", "thirteenth of may"]),
    ("we did the report on the twenty fourth no the twenty fifth of june",
     ["twenty fourth", "twenty fifth of june"]),
    ("it was on the third sorry the fourth of the sixth", ["third", "the fourth of the sixth"]),
])
def test_a_date_corrected_as_it_is_said(rules: Detector, text: str, dates: list[str]) -> None:
    assert [t for t, lab in _found(rules, text) if lab == "DATE"] == dates


@pytest.mark.parametrize("text", [
    "it was the first no it was the second time",
    "it was the first no the second time we'd called",
])
def test_a_corrected_count_is_no_date(rules: Detector, text: str) -> None:
    assert _found(rules, text) == []


@pytest.mark.parametrize(("text", "name"), [
    ("me and latoya and kelechi and storm have been mates since school", "storm"),
    ("i went with storm and kelechi to the cinema", "storm"),
])
def test_a_word_listed_with_names_is_a_name(rules: Detector, text: str, name: str) -> None:
    spans = [sp for sp in rules.detect(text) if sp.text == name]
    assert [sp.label for sp in spans] == ["PERSON"] and spans[0].uncertain


@pytest.mark.parametrize("text", [
    "i told kelechi and went home",
    "it was kelechi and mum who found it",
    "kelechi and work were all i thought about",
    "we had a storm and then the power went",
])
def test_a_word_beside_a_name_stays_a_word(rules: Detector, text: str) -> None:
    assert [t for t, lab in _found(rules, text) if lab == "PERSON"] in ([], ["kelechi"])


def test_a_name_said_twice_is_a_name_both_times(rules: Detector) -> None:
    doc = ["i want to talk about cat cat mcstravick she's given me her permission",
           "we had the cat and the dog in the house", "it was very very hard for sarah"]
    first, pets, hard = rules.detect_document(doc)
    cats = [sp for sp in first if sp.text == "cat"]
    assert len(cats) == 2 and all(sp.label == "PERSON" and sp.uncertain for sp in cats)
    assert pets == []  # the animal, after a determiner, stays a word
    assert [sp.text for sp in hard] == ["sarah"]  # "very very" repeats, but it is no name
    role = rules.detect_document(["my pastor pastor boakye said we should go", "i said pastor i have been praying"])
    assert [sp.text for spans in role for sp in spans] == ["boakye"]  # a role said twice is still the role
