"""Word alignment of a reviewer's edits and how redaction spans follow them (pure functions, no app)."""

from __future__ import annotations

import pytest

from service.transcripts import edits


def seg(text: str, t0: float = 10.0, speaker: str = "S1") -> dict:
    words, t = [], t0
    for tok in text.split():
        words.append({"start": round(t, 3), "end": round(t + 0.4, 3), "text": " " + tok, "probability": 0.8,
                      "speaker": speaker})
        t += 0.5
    return {"id": 0, "start": t0, "end": round(t, 3), "text": " " + text, "words": words, "speaker": speaker,
            "flags": []}


def doc(*texts: str) -> dict:
    segments = []
    for i, text in enumerate(texts):
        s = seg(text, t0=10.0 * i)
        s["id"] = i
        segments.append(s)
    return {"segments": segments, "speakers": [{"slot": "S1"}, {"slot": "S2"}], "language": "en", "duration": 60}


def test_unchanged_words_keep_their_timings_and_changed_words_are_interpolated() -> None:
    s = seg("I think the WEAR was high today")
    words, counts = edits.align_words(s["words"], "I think the WER was high today", start=s["start"], end=s["end"])
    assert counts == edits.WordCounts(kept=6, changed=1, inserted=0, deleted=0)
    assert [w["text"] for w in words] == [" I", " think", " the", " WER", " was", " high", " today"]
    for new, old in zip(words, s["words"], strict=True):
        if new["text"] != " WER":
            assert new == old  # timing, probability and speaker untouched
    wer = words[3]
    # A one-for-one replacement takes exactly the replaced word's time; no probability, marked edited.
    assert (wer["start"], wer["end"]) == (s["words"][3]["start"], s["words"][3]["end"])
    assert wer["edited"] is True and "probability" not in wer


def test_two_words_for_three_share_their_time_and_insertions_fill_the_gap() -> None:
    s = seg("Needs a design okay")
    words, counts = edits.align_words(s["words"], "Neither did I okay", start=s["start"], end=s["end"])
    assert (counts.kept, counts.changed) == (1, 3)
    lo, hi = s["words"][0]["start"], s["words"][2]["end"]
    assert words[0]["start"] == lo and words[2]["end"] == hi
    assert words[0]["end"] == words[1]["start"] <= words[1]["end"] == words[2]["start"]
    # Longer words take longer.
    assert words[0]["end"] - words[0]["start"] > words[2]["end"] - words[2]["start"]

    words, counts = edits.align_words(s["words"], "Needs a design, well okay", start=s["start"], end=s["end"])
    assert counts.changed == 1 and counts.inserted == 1  # "design" -> "design," counts as changed
    words, counts = edits.align_words(s["words"], "Needs a design well okay", start=s["start"], end=s["end"])
    assert counts == edits.WordCounts(kept=4, changed=0, inserted=1, deleted=0)
    well = next(w for w in words if w["text"] == " well")
    assert s["words"][2]["end"] <= well["start"] <= well["end"] <= s["words"][3]["start"]
    # A word at the very end: between the last kept word and the segment's end.
    words, _ = edits.align_words(s["words"], "Needs a design okay then", start=s["start"], end=s["end"] + 1)
    assert words[-1]["start"] == s["words"][-1]["end"] and words[-1]["end"] == s["end"] + 1

    words, counts = edits.align_words(s["words"], "Needs okay", start=s["start"], end=s["end"])
    assert counts.deleted == 2 and [w["text"] for w in words] == [" Needs", " okay"]
    assert all("edited" not in w for w in words)


def test_edit_text_split_merge_and_speaker() -> None:
    d = doc("Hello hello", "Oh hello I did not know you were there", "Neither did I")
    out, counts = edits.edit_text(d, 1, "  Oh,   hello. I didn't know\nyou were there ")
    assert out["segments"][1]["text"] == " Oh, hello. I didn't know you were there"
    assert out["segments"][1]["edited"] is True and counts == edits.WordCounts(kept=5, changed=3, deleted=1)
    assert d["segments"][1]["text"] == " Oh hello I did not know you were there"  # the input is not changed
    with pytest.raises(edits.EditError):
        edits.edit_text(d, 1, "   ")
    with pytest.raises(edits.EditError):
        edits.edit_text(d, 3, "x")

    out, cut = edits.split(d, 1, 2)
    assert [s["text"] for s in out["segments"]] == [" Hello hello", " Oh hello", " I did not know you were there",
                                                    " Neither did I"]
    assert [s["id"] for s in out["segments"]] == [0, 1, 2, 3]
    assert out["segments"][1]["end"] == d["segments"][1]["words"][1]["end"]
    assert out["segments"][2]["start"] == d["segments"][1]["words"][2]["start"]
    assert d["segments"][1]["text"][cut:].startswith("I did")
    for bad in (0, 9, -1):
        with pytest.raises(edits.EditError):
            edits.split(d, 1, bad)

    merged, _ = edits.merge(out, 1)
    assert merged["segments"][1]["text"] == d["segments"][1]["text"]
    assert len(merged["segments"][1]["words"]) == 9 and merged["segments"][1]["end"] == d["segments"][1]["end"]
    with pytest.raises(edits.EditError):
        edits.merge(out, 3)

    relabelled = edits.set_speaker(d, 2, "S2")
    assert relabelled["segments"][2]["speaker"] == "S2"
    assert {w["speaker"] for w in relabelled["segments"][2]["words"]} == {"S2"}


def test_spans_on_unchanged_text_move_and_spans_on_changed_text_go() -> None:
    old = " This is Diane in New Jersey and Sheila"
    new = " Well this is Diane in New Jersey and Sheila's"
    diane = {"segment": 0, "start": old.index("Diane"), "end": old.index("Diane") + 5, "status": "accepted"}
    jersey = {"segment": 0, "start": old.index("New Jersey"), "end": old.index("New Jersey") + 10}
    sheila = {"segment": 0, "start": old.index("Sheila"), "end": len(old)}
    kept, dropped = edits.remap_spans(old, new, [diane, jersey, sheila])
    assert dropped == 1  # "Sheila" got an "'s" typed against it: re-detected, not carried
    assert [new[k["start"]:k["end"]] for k in kept] == ["Diane", "New Jersey"]
    assert kept[0]["status"] == "accepted"
    # A name changed into another word: the span goes.
    kept, dropped = edits.remap_spans(old, old.replace("Diane", "Dianne"), [diane])
    assert (kept, dropped) == ([], 1)
    # "Mark" inside a new "Marking" is not the decided name any more.
    kept, _ = edits.remap_spans(" Mark said", " Marking said", [{"segment": 0, "start": 1, "end": 5}])
    assert kept == []


def test_spans_follow_split_and_merge() -> None:
    d = doc("first", "I met Mark Bellamy at Leeds station", "last")
    text = d["segments"][1]["text"]
    name = {"segment": 1, "start": text.index("Mark"), "end": text.index("Mark") + 12, "id": 7}
    leeds = {"segment": 1, "start": text.index("Leeds"), "end": text.index("Leeds") + 5, "id": 8}
    later = {"segment": 2, "start": 1, "end": 5, "id": 9}
    out, cut = edits.split(d, 1, 3)  # between "Mark" and "Bellamy"
    first, second = out["segments"][1]["text"], out["segments"][2]["text"]
    spans = edits.split_spans([name, leeds, later], index=1, cut=cut, old_text=text, first_text=first,
                              second_text=second)
    got = sorted((s["segment"], out["segments"][s["segment"]]["text"][s["start"]:s["end"]]) for s in spans)
    assert got == [(1, "Mark"), (2, "Bellamy"), (2, "Leeds"), (3, "last")]

    merged, shift = edits.merge(out, 1)
    spans = edits.merge_spans(spans, index=1, shift=shift)
    got = sorted((s["segment"], merged["segments"][s["segment"]]["text"][s["start"]:s["end"]]) for s in spans)
    assert got == [(1, "Bellamy"), (1, "Leeds"), (1, "Mark"), (2, "last")]


def test_redetection_runs_the_layers_on_changed_text_only_and_propagates_everywhere() -> None:
    from pipeline.redact import Span, load_detector

    detector = load_detector(known_names=())
    texts = ["I met Dawn Okafor at the station", "then Okafor rang back", "Sheila called too"]
    # Segment 0 was edited; 1 and 2 keep their stored spans (2: one a reviewer added by hand, layer "reviewer").
    sheila = Span(0, 6, "PERSON", "Sheila", ("reviewer",), 1.0, False)
    found = detector.detect_document(texts, known=[None, [], [sheila]])
    assert [s.text for s in found[0]] == ["Dawn Okafor"]
    # The typed name reaches the unchanged segment by propagation...
    assert [(s.text, "propagated" in s.layers) for s in found[1]] == [("Okafor", True)]
    # ... and an unchanged segment is not run through the layers: only what it had (in the layers' terms) stays.
    assert [(s.text, s.layers) for s in found[2]] == [("Sheila", ("known",))]
    alone = detector.detect_document(["Sheila called too"])
    assert [s.text for s in alone[0]] == ["Sheila"]  # the layers would have found it as well
    nothing = detector.detect_document(["Sheila called too"], known=[[]])
    assert nothing == [[]]  # given as having no spans: the layers do not run
