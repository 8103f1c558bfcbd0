"""Word-level speaker assignment: boundaries, splits, overlap, untimed words, roles, slots."""

from __future__ import annotations

from pipeline.align import assign_speakers, guess_roles, rename_to_slots
from pipeline.diarise import Turn
from pipeline.types import Segment, Word


def seg(words: list[tuple[float, float, str]], sid: int = 0) -> Segment:
    ws = [Word(start=s, end=e, text=f" {t}", probability=0.9) for s, e, t in words]
    return Segment(id=sid, start=ws[0].start, end=ws[-1].end, text="".join(w.text for w in ws).strip(), words=ws)


def test_segment_split_where_speaker_changes() -> None:
    # Whisper put a question and its answer in one segment; the diariser knows better.
    s = seg([(0.0, 0.4, "how"), (0.4, 0.8, "are"), (0.8, 1.2, "you?"), (1.5, 1.9, "fine"), (1.9, 2.3, "thanks")])
    turns = [Turn(0.0, 1.3, "X"), Turn(1.4, 2.5, "Y")]
    out = assign_speakers([s], turns)
    assert [(o.speaker, o.text) for o in out] == [("X", "how are you?"), ("Y", "fine thanks")]
    assert out[0].end == 1.2 and out[1].start == 1.5
    assert [o.id for o in out] == [0, 1]


def test_word_goes_to_turn_with_most_overlap_not_segment_majority() -> None:
    s = seg([(0.0, 0.5, "a"), (0.5, 1.0, "b"), (1.0, 1.5, "c"), (1.5, 2.0, "d")])
    # "c" straddles the boundary at 1.1: 0.1 s for X, 0.4 s for Y.
    turns = [Turn(0.0, 1.1, "X"), Turn(1.1, 3.0, "Y")]
    out = assign_speakers([s], turns)
    assert [(o.speaker, o.text) for o in out] == [("X", "a b"), ("Y", "c d")]


def test_words_in_gaps_take_nearest_turn_and_overlap_is_flagged() -> None:
    s = seg([(0.0, 0.5, "one"), (2.0, 2.4, "two"), (5.0, 5.5, "three"), (5.5, 6.0, "four")])
    turns = [Turn(0.0, 0.6, "X"), Turn(2.5, 4.0, "Y"), Turn(4.5, 7.0, "X"), Turn(5.4, 6.2, "Y")]
    out = assign_speakers([s], turns)
    words = [w for o in out for w in o.words]
    assert [w.speaker for w in words] == ["X", "Y", "X", "X"]
    assert [w.overlap for w in words] == [False, False, False, True]


def test_untimed_words_get_the_speaker_around_them() -> None:
    # Numbers and dates sometimes come back with zero-length timings.
    s = seg([(0.0, 0.5, "in"), (0.5, 0.5, "2019"), (0.6, 1.0, "then"), (3.0, 3.0, "2021")])
    turns = [Turn(0.0, 1.2, "X"), Turn(2.0, 4.0, "Y")]
    out = assign_speakers([s], turns)
    assert all(w.speaker == "X" for w in out[0].words)
    assert len(out) == 1 and out[0].text == "in 2019 then 2021"


def test_a_segment_with_no_length_takes_the_turn_at_its_instant() -> None:
    # Whisper sometimes gives a short segment no length at all (pyannote's sample, 8.30-8.30, "Hello."): it still
    # belongs to someone, the turn around that instant or, between turns, the nearest one.
    inside = seg([(8.3, 8.3, "Hello.")])
    between = seg([(5.0, 5.0, "Yes.")], sid=1)
    turns = [Turn(0.0, 4.0, "X"), Turn(5.6, 8.317, "Y"), Turn(8.317, 9.9, "X")]
    out = assign_speakers([inside, between], turns)
    assert [(o.text, o.speaker) for o in out] == [("Hello.", "Y"), ("Yes.", "Y")]


def test_no_segment_spans_two_speakers_randomised() -> None:
    import random

    rng = random.Random(3)
    turns, t = [], 0.0
    for i in range(40):
        d = rng.uniform(0.3, 4.0)
        turns.append(Turn(round(t, 3), round(t + d, 3), "XYZ"[i % 3]))
        t += d + rng.uniform(-0.2, 0.8)
    segments, w = [], 0.0
    for sid in range(30):
        words = []
        for _ in range(rng.randint(1, 15)):
            d = rng.uniform(0.1, 0.6)
            words.append((round(w, 3), round(w + d, 3), "w"))
            w += d + rng.uniform(0, 0.3)
        segments.append(seg(words, sid))
    out = assign_speakers(segments, turns)
    assert sum(len(o.words) for o in out) == sum(len(s.words) for s in segments)
    for o in out:
        assert {wd.speaker for wd in o.words} == {o.speaker}
        assert o.start <= o.end


def test_slots_in_order_of_first_speech_and_roles_guessed() -> None:
    segments = [
        Segment(0, 0.0, 2.0, "Could you tell me about your role?", speaker="SPK_1"),
        Segment(1, 2.5, 12.0, "I have been a detective for nine years and I work on these cases.", speaker="SPK_0"),
        Segment(2, 12.5, 14.0, "How did that start?", speaker="SPK_1"),
        Segment(3, 14.5, 30.0, "It started when a colleague asked me to help with a case.", speaker="SPK_0"),
        Segment(4, 30.5, 31.0, "Sorry, am I interrupting?", speaker="SPK_2"),
    ]
    mapping = rename_to_slots(segments, [Turn(0, 2, "SPK_1"), Turn(2.5, 12, "SPK_0"), Turn(30.5, 31, "SPK_2")])
    assert mapping == {"SPK_1": "S1", "SPK_0": "S2", "SPK_2": "S3"}
    roles = {sp.slot: sp.role for sp in guess_roles(segments)}
    assert roles == {"S1": "Interviewer", "S2": "Participant", "S3": "Other"}


def test_single_speaker_is_the_participant() -> None:
    segments = [Segment(0, 0.0, 5.0, "I will read my statement.", speaker="S1")]
    assert [(s.slot, s.role) for s in guess_roles(segments)] == [("S1", "Participant")]
