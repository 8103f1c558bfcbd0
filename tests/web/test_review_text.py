"""How the review page cuts a segment: at its spans, then at its words (each with its time and Whisper's doubt),
without changing a character of the text; and what the review service tells it about doubts."""

from __future__ import annotations

from service.redaction.review import _review_segment
from service.web import review_text

RAW = {
    "start": 3.0, "end": 6.0, "text": "I met Ruth Okafor at noon.", "speaker": "S2",
    "flags": ["low_confidence", "recovered"],
    "words": [
        {"text": " I", "start": 3.0, "end": 3.2, "probability": 0.9, "overlap": False},
        {"text": " met", "start": 3.2, "end": 3.5, "probability": 0.31, "overlap": False},
        {"text": " Ruth", "start": 3.5, "end": 3.9, "probability": 0.8, "overlap": True},
        {"text": " Okafor", "start": 3.9, "end": 4.5, "probability": 0.42, "overlap": False},
        {"text": " at", "start": 4.5, "end": 4.7, "probability": 0.95, "overlap": False},
        {"text": " noon.", "start": 4.7, "end": 5.2, "probability": 0.99, "overlap": False},
    ],
}


def test_the_review_segment_carries_times_flags_and_word_probabilities() -> None:
    seg = _review_segment(4, RAW)
    assert (seg["id"], seg["start"], seg["end"]) == (4, 3.0, 6.0)
    # A word another voice talks over flags the segment: who said it is worth a listen.
    assert seg["flags"] == ["low_confidence", "recovered", "overlap"]
    assert seg["words"][1] == {"text": " met", "start": 3.2, "end": 3.5, "probability": 0.31}


def test_a_segment_is_cut_at_spans_and_words_without_changing_its_text() -> None:
    span = {"id": 7, "start": 6, "end": 17, "status": "pending", "uncertain": False, "label": "PERSON"}
    seg = review_text.segment(_review_segment(0, RAW), [span], speaker="Officer")
    assert "".join(r.text for p in seg.pieces for r in p.runs) == RAW["text"]
    assert [p.span["id"] if p.span else None for p in seg.pieces] == [None, 7, None]
    assert [(r.text, r.start) for r in seg.pieces[1].runs] == [("Ruth", 3.5), (" ", None), ("Okafor", 3.9)]
    low = [r.text for p in seg.pieces for r in p.runs if r.low]
    assert low == ["met", "Okafor"] and seg.low_words == 2 and seg.uncertain
    assert seg.flag_words == ["low confidence", "recovered", "overlapping speech"]


def test_a_confident_segment_is_not_uncertain_and_untimed_words_stay_plain_text() -> None:
    raw = {**RAW, "flags": [], "words": [dict(w, probability=0.9, overlap=False) for w in RAW["words"]]}
    raw["words"][2] = {"text": " Rute", "start": 3.5, "end": 3.9, "probability": 0.9}  # not in the text
    seg = review_text.segment(_review_segment(0, raw), [], speaker="Officer")
    assert not seg.uncertain and seg.flag_words == []
    assert "".join(r.text for p in seg.pieces for r in p.runs) == RAW["text"]
    assert [r.text for r in seg.pieces[0].runs if r.start is not None] == ["I", "met", "Okafor", "at", "noon."]
