"""Issue 14, dev12-dev15 (session 10): ages in pairs and ranges without the usual cue, after a word for people,
Scottish school years restated as ages, places named by ordinary words then said what they are, a Northern Irish
registration, and forces as Whisper mishears them; each also where it must not fire."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(model=None)  # the list, pattern and cue layers alone: the model can't paper over them


def _labels_over(det: Detector, text: str, needle: str) -> list[str]:
    s = text.index(needle)
    return [sp.label for sp in det.detect(text) if sp.start <= s and s + len(needle) <= sp.end]


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("him being nineteen and her fifteen there was never any question", "fifteen", "AGE"),
    ("she was in s three so what fourteen and a boy in her year", "fourteen", "AGE"),
    ("the officer said the boy was also thirteen so it will not", "thirteen", "AGE"),
    ("there were nine girls in the end all between fifteen and nineteen", "fifteen", "AGE"),
    ("there were nine girls in the end all between fifteen and nineteen", "nineteen", "AGE"),
    ("Her boyfriend was a bit older, 26 or 27.", "26", "AGE"),
    ("Her boyfriend was a bit older, 26 or 27.", "27", "AGE"),
    ("he was a bit older, 17 or 18 years old", "17", "AGE"),
    ("He was filming her in his van, a white Transit, AKZ 4471, for months.", "AKZ 4471", "VEHICLE"),
    ("my nan had rung south whales and had a go at them", "south whales", "FORCE"),
    ("i went to the p s and i at the station and honestly", "p s and i", "FORCE"),
    # dev15: ages after a word for people, and places named by ordinary words then said what they are
    ("there was a lad there a lad about nineteen who did the milking", "nineteen", "AGE"),
    ("it's nearly all boys now boys sixteen seventeen and it's organised", "seventeen", "AGE"),
    ("she's coaching the little ones kids nine ten", "nine", "AGE"),
    ("they found eleven women on his devices one of them only sixteen at the time", "sixteen", "AGE"),
    ("she's in the larches the care home at the top of the hill", "the larches", "ORGANISATION"),
    ("so i'm a youth worker at the hive it's a youth club on the estate", "the hive", "ORGANISATION"),
    ("we got him in the car park behind the junction which is the pub next door", "the junction", "ORGANISATION"),
])
def test_found(rules: Detector, text: str, needle: str, label: str) -> None:
    assert label in _labels_over(rules, text, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("he was older, 3 or 4 years at most", "3"),
    ("it was also two of them that did it", "two"),
    ("we had him and her three times in the end", "three"),
    ("she worked for MI5 for years", "MI5"),
    ("all between ten and eleven pounds a week", "ten"),
    ("the girls two doors down were lovely", "two"),
    ("we had the boys three times a week", "three"),
    ("the kids ten minutes later came back", "ten"),
    ("the lads twenty of them went in", "twenty"),
])
def test_not_an_identifier(rules: Detector, text: str, needle: str) -> None:
    assert not [lab for lab in _labels_over(rules, text, needle) if lab in ("AGE", "VEHICLE")]


@pytest.mark.parametrize(("text", "needle"), [
    ("at the end the pub closed early", "end"),
    ("we went to the park the youth club is there", "park"),
    ("she's at the school which is the big one", "school"),
])
def test_not_a_venue(rules: Detector, text: str, needle: str) -> None:
    assert "ORGANISATION" not in _labels_over(rules, text, needle)
