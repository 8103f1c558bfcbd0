"""Issue 14, session 13: hours said with hedges or no cue, forces as Whisper hears them after "from"/"to", and the
faith a person belongs to (not an institution's kind)."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(tagger=None)


def _found(det: Detector, text: str) -> list[tuple[str, str]]:
    return [(sp.text, sp.label) for sp in det.detect(text)]


@pytest.mark.parametrize(("text", "hour"), [
    ("my husband found her crying at maybe two in the morning", "two"),
    ("it's early starts like four in the morning", "four"),
    ("he came to me like maybe half eleven and he was shaking", "half eleven"),
    ("he came down at about half 1 in the morning", "half 1"),
    ("they had someone out by 3.", "3"),
    ("it must have been after 11.", "11"),
    ("a mammy at the door at half nine of a saturday morning", "half nine"),
])
def test_an_hour_with_a_hedge_or_no_cue_is_a_time(rules: Detector, text: str, hour: str) -> None:
    assert (hour, "TIME") in _found(rules, text)


@pytest.mark.parametrize("text", [
    "half of them left before the end",
    "half one of the lads never even saw it",
    "i have 2 kids and she has 3.",
    "we had the two in the morning and that was it",
    "it took half an hour to get through",
])
def test_counts_and_halves_are_no_time(rules: Detector, text: str) -> None:
    assert not [lab for _, lab in _found(rules, text) if lab == "TIME"]


@pytest.mark.parametrize(("text", "force"), [
    ("we get most of our referrals from went police", "went police"),
    ("I went to Went Police. They were a bit frosty at first.", "Went Police"),
    ("I'm a detective constable with the PS and I, based in Newry.", "PS and I"),
])
def test_a_force_as_whisper_hears_it(rules: Detector, text: str, force: str) -> None:
    assert (force, "FORCE") in _found(rules, text)


@pytest.mark.parametrize("text", [
    "i went to the police the next day",
    "he talked to campus police about it",
    "it got passed to traffic police",
    "she went police station with her mum",
])
def test_police_that_names_no_force(rules: Detector, text: str) -> None:
    assert not [lab for _, lab in _found(rules, text) if lab == "FORCE"]


@pytest.mark.parametrize(("text", "faith"), [
    ("i say to her go home before i forget i am a christian woman", "christian"),
    ("i'm from a catholic family and his are protestant", "catholic"),
    ("i'm from a catholic family and his are protestant", "protestant"),
    ("she's yoruba originally", "yoruba"),
])
def test_the_faith_or_people_someone_belongs_to_is_a_group(rules: Detector, text: str, faith: str) -> None:
    assert (faith, "GROUP") in _found(rules, text)


@pytest.mark.parametrize("text", [
    "I'm the safeguarding lead at a catholic secondary in the town",
    "we meet in the methodist church hall on tuesdays",
])
def test_an_institutions_kind_is_no_group(text: str) -> None:
    lists_only = load_detector(model=None, tagger=None)  # the spaCy model may read a faith there on its own
    assert not [lab for _, lab in _found(lists_only, text) if lab == "GROUP"]


def test_christian_the_name_stays_a_name(rules: Detector) -> None:
    assert ("christian", "PERSON") in _found(rules, "my friend christian said he'd seen it")


@pytest.mark.parametrize(("text", "initials"), [
    ("my boyfriend was on the subs at b a e over on walney", "b a e"),
    ("i'm doing a course at n r c and i still do sundays at the pub", "n r c"),
    ("we both worked at the j l r plant", "j l r"),
])
def test_initials_said_after_at_or_for_name_an_employer(rules: Detector, text: str, initials: str) -> None:
    assert (initials, "ORGANISATION") in _found(rules, text)


@pytest.mark.parametrize("text", [
    "the officer is p c kittow with a p c s o egal",
    "we go out on the jobs with the o i c and we triage devices",
    "he works for b t now",
    "she was referred to the s a r c",
    "we sat at a b and c tables",
])
def test_ranks_roles_and_national_bodies_as_initials_are_no_employer(rules: Detector, text: str) -> None:
    assert not [lab for _, lab in _found(rules, text) if lab == "ORGANISATION"]
