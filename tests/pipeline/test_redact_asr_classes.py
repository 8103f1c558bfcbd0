"""The ASR-style miss and false-alarm classes of issue 14, each as the detector sees it in lower-case speech: clock
times and dates in words, long references, plates before an article, ages by context, home streets, firms, pubs and
venues, names that open an utterance, and the ordinary words around them that must stay."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, load_detector
from pipeline.redact import patterns as redact_patterns
from pipeline.redact.base import is_oov


@pytest.fixture(scope="module")
def det() -> Detector:
    return load_detector()


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(model=None)  # the list and pattern layers alone: the model can't paper over them


def _covered(spans, text: str, needle: str) -> bool:  # type: ignore[no-untyped-def]
    s = text.index(needle)
    return any(sp.start <= s and s + len(needle) <= sp.end for sp in spans)


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("he was released at eight thirty the next evening", "eight thirty", "TIME"),
    ("the interview started at nine fifteen and went on", "nine fifteen", "TIME"),
    ("we got there at about two oh five", "two oh five", "TIME"),
    ("the hearing was set for monday the eighth but it moved", "monday the eighth", "DATE"),
    ("she'd have been about fifteen or sixteen then", "fifteen", "AGE"),
    ("she'd have been about fifteen or sixteen then", "sixteen", "AGE"),
    ("the girls were between twelve and fourteen", "twelve", "AGE"),
    ("the girls were between twelve and fourteen", "fourteen", "AGE"),
    ("at sixteen you don't think about consequences", "sixteen", "AGE"),
    ("her little brother's only seven", "seven", "AGE"),
    ("he was in his forties and she was a child", "forties", "AGE"),
    ("they were all year nine in that group", "year nine", "AGE"),
])
def test_spoken_times_dates_and_ages(text: str, needle: str, label: str) -> None:
    hits = redact_patterns.find(text)
    s = text.index(needle)
    assert any(a <= s and s + len(needle) <= b and lab == label for a, b, lab, _ in hits), hits


@pytest.mark.parametrize("text", [
    "the age of consent is sixteen but that's not the point",
    "it was two or three days later",
    "he was two or three years older than her",
    "at ten we all went home",
    "we paid eight thirty pounds for it",
    "there were two or three of us on",
])
def test_numbers_that_are_no_age_or_time(text: str) -> None:
    assert [h for h in redact_patterns.find(text) if h[2] in ("AGE", "TIME")] == []


@pytest.mark.parametrize(("text", "needle"), [
    ("it was one three slash two four slash nine eight seven six five on the system",
     "one three slash two four slash nine eight seven six five"),
    ("his car was y r one seven x h g a grey astra", "y r one seven x h g"),
    ("they lived on back lane just off the main road", "back lane"),
    ("we met her at the family centre on cross green lane", "cross green lane"),
    ("i think he drove for uber so he was out all hours", "uber"),
    ("her mum's a carer for bluebird care", "bluebird care"),
    ("the manager at the golden swan gave us the cctv", "golden swan"),
    ("she worked in a pub called the old vic near the station", "old vic"),
    ("he had a job at b and q on the weekends", "b and q"),
    ("i went with precious because i couldn't face it", "precious"),
    ("hope didn't want her dad to know", "hope"),
    ("they called him big mo on the estate", "big"),
    ("thistlethwaite was his last name i think", "thistlethwaite"),
    ("my key worker patience sorted it all out", "patience"),
    ("i'd known hope since primary school", "hope"),
    ("thanks to joy i'm still here", "joy"),
    ("she lived with grace and the kids for a while", "grace"),
    ("we stayed at may house that night", "may"),
])
def test_found_without_the_model(rules: Detector, text: str, needle: str) -> None:
    spans = rules.detect(text)
    assert _covered(spans, text, needle), [(text[x.start:x.end], x.label) for x in spans]


@pytest.mark.parametrize("text", [
    "we lived on the main road near the shops",
    "she lives on the same street as him",
    "we had to liaise with them every week",
    "you just have to have faith that it'll work out",
    "i'll march straight in there and ask them",
    "on the first day they just did the law",
    "the second week was better because we did scenarios",
    "it took nineteen months to get to trial",
    "i was on lates that week",
    "it was flagged on the system as sextortion",
    "the plate came back on the p n c",
    "there's a bush outside the station where people smoke",
    "i knew will be a problem when he got bail",
    "we lived with hope that it would stop",
    "she came with faith in the system",
])
def test_ordinary_speech_stays(det: Detector, text: str) -> None:
    assert det.detect(text) == [], [(s.text, s.label, s.layers) for s in det.detect(text)]


def test_everyday_endings_on_common_words_are_not_out_of_vocabulary() -> None:
    for word in ("lates", "earlies", "prioritise", "chippy"):
        assert not is_oov(word), word
    # names keep their weight: a listed surname, and a firm named after one ("parkers")
    for word in ("okafor", "thistlethwaite", "parkers", "hollins"):
        assert is_oov(word), word
