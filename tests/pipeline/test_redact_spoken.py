"""Spoken forms (pipeline/redact/spoken.py) and names that are also words (pipeline/redact/wordnames.py), as the
detector sees them in lower-case ASR text; plus the guard that only confident, non-ordinary spans propagate."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector
from pipeline.redact.spoken import normalise, times_and_dates


@pytest.fixture(scope="module")
def det() -> Detector:
    return load_detector()


@pytest.mark.parametrize(("text", "canon", "spoken"), [
    ("i joined g m p after uni", "gmp", "g m p"),
    ("the reg was x h two four u f w and", "xh24ufw", "x h two four u f w"),
    ("the postcode was l s six one a b", "ls61ab", "l s six one a b"),
    ("ref n t slash two two slash four five one two seven i think", "nt/22/45127", "n t slash two two slash four "
     "five one two seven"),
    ("ring oh seven seven hundred nine hundred four six one now", "07700900461",
     "oh seven seven hundred nine hundred four six one"),
    ("on oh seven seven double nine one two three four five six", "07799123456",
     "oh seven seven double nine one two three four five six"),
])
def test_normaliser_rewrites_runs_and_maps_back(text: str, canon: str, spoken: str) -> None:
    c = normalise(text)
    at = c.text.index(canon)
    start, end = c.to_original(at, at + len(canon))
    assert text[start:end] == spoken


def test_normaliser_leaves_ordinary_speech_alone() -> None:
    for text in ("i had two or three of them", "we had a lot of jobs", "i think i was about twenty two",
                 "it was one of those nights"):
        c = normalise(text)
        assert c.text == text and not c.changed


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("we got the job at oh six hundred on a sunday", "oh six hundred", "TIME"),
    ("we got there about ten to midnight", "ten to midnight", "TIME"),
    ("she rang at about four a m", "four a m", "TIME"),
    ("the call came in at twenty two hundred", "twenty two hundred", "TIME"),
    ("it happened on the fourteenth i remember", "fourteenth", "DATE"),
    ("the second lot came on the third of the ninth", "the third of the ninth", "DATE"),
])
def test_times_and_partial_dates_in_words(text: str, needle: str, label: str) -> None:
    hits = times_and_dates(text)
    s = text.index(needle)
    assert any(a <= s and s + len(needle) <= b and lab == label for a, b, lab, _ in hits), hits


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("i was with g m p for eight years", "g m p", "FORCE"),
    ("so d c okafor rang me back", "okafor", "OFFICER"),
    ("his car was a y d one nine k x p black golf", "y d one nine k x p", "VEHICLE"),
    ("the postcode was l s six one a b", "l s six one a b", "POSTCODE"),
    ("the crime ref was n t slash two two slash four five one two seven", "four five one two seven", "ID"),
    ("my collar number's two two three one", "two two three one", "ID"),
    ("my sister will came with me to the station", "will", "PERSON"),
    ("we met at training school me and will", "will", "PERSON"),
    ("then there was rob my sergeant", "rob", "PERSON"),
])
def test_spoken_identifiers_are_found(det: Detector, text: str, needle: str, label: str) -> None:
    s = text.index(needle)
    e = s + len(needle)
    assert any(sp.start < e and s < sp.end and sp.label == label for sp in det.detect(text)), det.detect(text)


@pytest.mark.parametrize("text", [
    "i met him at a party", "we met up a few times after that", "i will say he taught me a lot",
    "mark my words it'll happen again", "i had to mark it as high risk on the system", "at dawn we went round",
    "she wanted to sue him", "they tried to rob the victim", "you may not believe this",
    "by the grace of god nobody saw them", "i hope they never do that again",
])
def test_ordinary_words_stay(det: Detector, text: str) -> None:
    assert det.detect(text) == []


def test_met_the_force_does_not_spread_to_met_the_verb(det: Detector) -> None:
    doc = ["i was seconded to the met for six months", "met officers had a team for it", "i met a few of them"]
    spans = det.detect_document(doc)
    assert [s.label for s in spans[0]] == ["FORCE"] and [s.label for s in spans[1]] == ["FORCE"]
    assert spans[2] == []


def test_a_name_that_is_a_word_spreads_only_where_it_names_someone(det: Detector) -> None:
    doc = ["my friend dawn told me to report it", "at dawn the next day we went round", "dawn said go to the police"]
    spans = det.detect_document(doc)
    assert [s.text for s in spans[0]] == ["dawn"]
    assert spans[1] == []
    assert [s.text for s in spans[2]] == ["dawn"]


def test_known_name_that_is_a_word_is_kept_in_its_ordinary_use() -> None:
    det = load_detector(known_names=("Grace Hepworth",))
    spans = det.detect_document(["her mum grace opened the door", "by the grace of god he hadn't posted them"])
    assert [s.text for s in spans[0]] == ["grace"] and spans[1] == []
