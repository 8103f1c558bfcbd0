"""Issue 14, dev5 (2026-12-07, session 8): ages without an age word, nicknames and unusual names after a relation,
named small services and venues, numbered roads, and the ordinary words beside them that must stay."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(model=None)  # the list, pattern and cue layers alone: the model can't paper over them


def _labels_over(det: Detector, lines: list[str], line: int, needle: str) -> list[str]:
    text = lines[line]
    s = text.index(needle)
    return [sp.label for sp in det.detect_document(lines)[line] if sp.start <= s and s + len(needle) <= sp.end]


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("i was nineteen when i moved out and 26 when I left him", "26", "AGE"),
    ("she was sixteen when it started and seventeen when it came out", "seventeen", "AGE"),
    ("her daughter aqsa was um fourteen", "fourteen", "AGE"),
    ("they target girls as young as eleven", "eleven", "AGE"),
    ("The complainant, a retired teacher, 67, came in on her own.", "67", "AGE"),
    ("she'd just had her sixteenth birthday when he posted them", "sixteenth", "AGE"),
    ("it was the night of his 18th birthday", "18th", "AGE"),
    ("we get a lot of sixteen year olds", "sixteen", "AGE"),
    ("Aisha, 16 at the time, didn't tell anyone", "16", "AGE"),
    ("her being fifteen made it a child image", "fifteen", "AGE"),
    ("the girl (15) was interviewed on video", "15", "AGE"),
    ("a 15yo girl sent one image", "15yo", "AGE"),
    ("she was in S3 at the time", "S3", "AGE"),
    ("she was in s three", "s three", "AGE"),
    ("she was in Year 9 when it started", "Year 9", "AGE"),
    ("it happens between the ages of thirteen and sixteen", "thirteen", "AGE"),
    ("it happens between the ages of thirteen and sixteen", "sixteen", "AGE"),
    ("kids twelve thirteen that sort of age", "twelve", "AGE"),
    ("she'd have been sixteen or so", "sixteen", "AGE"),
    ("she was a minor, just fifteen", "fifteen", "AGE"),
    ("he called himself rocky online", "rocky", "PERSON"),
    ("we had a thirteen year old from whitleigh star her name was", "star", "PERSON"),
    ("river's mum rang us the next morning", "river", "PERSON"),
    ("my ex partner kwesi everyone calls him big k", "big k", "PERSON"),
    ("it's my sister really i'm here for her our kel we call her", "kel", "PERSON"),
    ("my mate sioned saw it and she rang me crying", "sioned", "PERSON"),
    ("i'm a support worker at the birch centre in hanley", "birch centre", "ORGANISATION"),
    ("a lady from sahara women's project came with me", "sahara women's project", "ORGANISATION"),
    ("he owned a gym ironworks fitness on the industrial estate", "ironworks fitness", "ORGANISATION"),
    ("i work for arden survivors service we're a small charity", "arden survivors service", "ORGANISATION"),
    ("we were heading west on the a six four four when the call came", "a six four four", "LOCATION"),
    ("We were heading north on the A644 when the call came.", "A644", "LOCATION"),
    ("my pal messaged me a screenshot at like two in the morning", "two", "TIME"),
])
def test_found(rules: Detector, text: str, needle: str, label: str) -> None:
    assert label in _labels_over(rules, [text], 0, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("we had twelve when i started on the team", "twelve"),
    ("i got there at ten when he was already in custody", "ten"),
    ("there were fourteen images and twenty minutes of video", "fourteen"),
    ("they wanted a few bob off him first", "bob"),
    ("he said he'd send my pictures to everyone at church", "church"),
    ("It was 60 miles each way for her to give evidence.", "60 miles each way"),
    ("we referred her to the community centre and the victim service", "community centre"),
    ("we referred her to the community centre and the victim service", "victim service"),
    ("print it on the a4 paper in the office", "a4"),
    ("will mum be there when i give evidence", "will"),
    ("we had fourteen at the time", "fourteen"),
    ("there were two or so officers on", "two"),
    ("press p three on the remote", "p three"),
    ("we had twenty one officers on", "twenty one"),
    ("see page (12) of the report", "12"),
    ("the lad her name was on the list", "lad"),
])
def test_left_alone(rules: Detector, text: str, needle: str) -> None:
    assert _labels_over(rules, [text], 0, needle) == []


def test_an_unsure_name_that_is_no_word_travels_through_the_transcript(rules: Detector) -> None:
    lines = ["A man she'd met gaming online turned out to be Catalin Dobre, a lorry driver.",
             "Dobre said in interview he thought she was older.",
             "it's my sister really i'm here for her our kel we call her",
             "kel wouldn't leave the house for about a month"]
    assert _labels_over(rules, lines, 1, "Dobre") == ["PERSON"]
    assert _labels_over(rules, lines, 3, "kel") == ["PERSON"]
    # An unsure name that is an ordinary word does not travel: "star" stays a star elsewhere.
    star = ["we had a thirteen year old from whitleigh star her name was", "she was a star at school"]
    assert _labels_over(rules, star, 1, "star") == []
