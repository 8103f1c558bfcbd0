"""Known names restored from how they sound, without touching ordinary words (pipeline.redact.respell).

The heard texts are what tiny.en and base actually wrote for bench/name_hints.py's interview without hotwords."""

from __future__ import annotations

import pytest

from pipeline.redact import load_detector
from pipeline.redact.respell import respell, targets
from pipeline.types import Segment, Word

NAMES = ["Harriet Okonkwo", "Gareth Pryce", "Jaspreet Kaur", "Kettering"]


def segment(text: str, seg_id: int = 0) -> Segment:
    words, t = [], 0.0
    for token in text.split(" "):
        words.append(Word(start=t, end=t + 0.3, text=" " + token, probability=0.9, speaker="S2"))
        t += 0.3
    return Segment(id=seg_id, start=0.0, end=t, text=text, words=words, speaker="S2")


@pytest.mark.parametrize(("heard", "restored"), [
    ("we'd call from North Emptonshire Police.", "we'd call from Northamptonshire Police."),
    ("my friend Harriet O'Connor came with me", "my friend Harriet Okonkwo came with me"),
    ("an officer called Gareth Price phoned me", "an officer called Gareth Pryce phoned me"),
    ("It was Sargent Gaspreet Corp from", "It was Sargent Jaspreet Corp from"),
])
def test_names_heard_wrong_take_their_spelling(heard: str, restored: str) -> None:
    seg = segment(heard)
    changes = respell([seg], NAMES)
    assert seg.text == restored
    assert "".join(w.text for w in seg.words).strip() == restored
    assert len(changes) == 1 and changes[0].segment == 0
    # Word times still cover the same audio.
    assert seg.words[0].start == 0.0 and seg.words[-1].end == pytest.approx(0.3 * len(heard.split(" ")))


@pytest.mark.parametrize("text", [
    "The price of a pint went up again.",  # "price" alone is an ordinary word, never "Pryce"
    "Neither did I, and caring for him was hard.",
    "Harriet Okonkwo and Gareth Pryce were there.",  # already right: untouched
    "Northamptonshire Police. And then we left.",  # a right name never swallows the next word
    "I went to the core of the problem with Harry.",
    "It is 42 degrees.",
])
def test_ordinary_speech_is_left_alone(text: str) -> None:
    seg = segment(text)
    before = [(w.text, w.start, w.end) for w in seg.words]
    assert respell([seg], NAMES) == []
    assert seg.text == text and [(w.text, w.start, w.end) for w in seg.words] == before


def test_restored_names_reach_redaction() -> None:
    segments = [segment("an officer called Gareth Price phoned me"),
                segment("we'd call from North Emptonshire Police.", 1)]
    detector = load_detector(known_names=NAMES, model=None)
    before = detector.detect_document([s.text for s in segments])
    assert not any(sp.label == "PERSON" for sp in before[0])
    respell(segments, NAMES)
    after = detector.detect_document([s.text for s in segments])
    assert any(segments[0].text[sp.start:sp.end] == "Gareth Pryce" for sp in after[0]), after[0]
    assert any("Northamptonshire" in segments[1].text[sp.start:sp.end] for sp in after[1]), after[1]


def test_targets_cover_names_their_parts_and_long_force_areas() -> None:
    spelled = {" ".join(t.spelling) for t in targets(["Gareth Pryce", "Li"])}
    assert {"Gareth Pryce", "Gareth", "Pryce", "Northamptonshire"} <= spelled
    assert "Li" not in spelled and "Kent" not in spelled  # too short to guess from sound
    assert {" ".join(t.spelling) for t in targets([], forces=False)} == set()


# ---- the second, hinted listen (pipeline.name_pass), with the decoder replaced by what it would hear --------------


def _fake_decoder(monkeypatch: pytest.MonkeyPatch, hinted: str) -> list[str]:
    """The hinted decoder 'hears' `hinted` over the same times; returns the hotwords it was called with."""
    import numpy as np

    from pipeline import name_pass

    calls: list[str] = []

    def transcribe(audio: np.ndarray, *, options):  # type: ignore[no-untyped-def]
        calls.append(options.hotwords)
        # The segments start at 0 s, so the slice does too (up to PAD_S past the end): the same times.
        assert len(audio) <= int((len(hinted.split(" ")) * 0.3 + name_pass.PAD_S) * 16_000) + 1
        return [segment(hinted)], "en"

    monkeypatch.setattr(name_pass, "transcribe", transcribe)
    return calls


def _listen(seg: Segment) -> int:
    import numpy as np

    from pipeline.asr import AsrOptions
    from pipeline.name_pass import second_listen

    audio = np.zeros(16_000 * 10, dtype=np.float32)
    return second_listen(audio, [seg], NAMES, options=AsrOptions(model_path=None))  # type: ignore[arg-type]


def test_a_name_heard_on_the_second_listen_replaces_the_unsure_word(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_decoder(monkeypatch, "In Kettering, my friend came.")
    seg = segment("In caring, my friend came.")
    seg.words[1].probability = 0.3  # Whisper was unsure of "caring"
    assert _listen(seg) == 1
    assert seg.text == "In Kettering, my friend came." and calls == [", ".join(NAMES)]
    assert [w.text for w in seg.words] == [" In", " Kettering,", " my", " friend", " came."]


@pytest.mark.parametrize(("heard", "hinted"), [
    ("Neither did I.", "Needs a design."),  # sure of every word: no second listen at all
    ("In Zanzibar, my friend came.", "In Kettering, my friend came."),  # unsure, but sounds like no name
])
def test_no_second_listen_away_from_the_names(monkeypatch: pytest.MonkeyPatch, heard: str, hinted: str) -> None:
    calls = _fake_decoder(monkeypatch, hinted)
    seg = segment(heard)
    assert _listen(seg) == 0 and calls == [] and seg.text == heard


def test_the_hint_is_refused_where_the_plain_hearing_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Okonkwo" sounds close enough to ask again, but the hinted reading puts "Kettering" over it: refused.
    calls = _fake_decoder(monkeypatch, "my friend Kettering came")
    seg = segment("my friend Okonkwa came")
    assert _listen(seg) == 0 and len(calls) == 1 and seg.text == "my friend Okonkwa came"
