"""Issue 14, dev12-dev13 (session 10): ages in pairs and ranges without the usual cue, Scottish school years restated
as ages, a Northern Irish registration, and forces as Whisper mishears them; each also where it must not fire."""

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
])
def test_found(rules: Detector, text: str, needle: str, label: str) -> None:
    assert label in _labels_over(rules, text, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("he was older, 3 or 4 years at most", "3"),
    ("it was also two of them that did it", "two"),
    ("we had him and her three times in the end", "three"),
    ("she worked for MI5 for years", "MI5"),
    ("all between ten and eleven pounds a week", "ten"),
])
def test_not_an_identifier(rules: Detector, text: str, needle: str) -> None:
    assert not [lab for lab in _labels_over(rules, text, needle) if lab in ("AGE", "VEHICLE")]
