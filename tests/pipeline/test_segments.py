"""The rules that rebuild Whisper's segments in time order and cut them to subtitle length (pipeline.segments)."""

from __future__ import annotations

import itertools

from pipeline.asr import _within
from pipeline.segments import MAX_SEGMENT_CHARS, MAX_SEGMENT_S, shape_segments
from pipeline.types import Segment, Word


def words(text: str, start: float, step: float = 0.4, gap: float = 0.05) -> list[Word]:
    out, t = [], start
    for token in text.split():
        out.append(Word(start=round(t, 3), end=round(t + step - gap, 3), text=f" {token}", probability=0.9))
        t += step
    return out


def seg(ws: list[Word], *, flags: list[str] | None = None, logprob: float = -0.2) -> Segment:
    return Segment(id=0, start=ws[0].start, end=ws[-1].end, text="".join(w.text for w in ws).strip(), words=ws,
                   avg_logprob=logprob, flags=flags or [])


def all_words(segments: list[Segment]) -> list[str]:
    return [w.text for s in segments for w in s.words]


def check_cues(segments: list[Segment]) -> None:
    for a, b in itertools.pairwise(segments):
        assert a.start < b.start and a.end <= b.start, (a, b)
    for s in segments:
        assert s.end - s.start <= MAX_SEGMENT_S and len(s.text) <= MAX_SEGMENT_CHARS, s
        assert s.text == "".join(w.text for w in s.words).strip()
    assert [s.id for s in segments] == list(range(len(segments)))


def test_recovered_speech_goes_into_its_place_in_a_long_segment() -> None:
    # The case: a first-pass segment 40.6-83.7 s whose words skip 71-79 s, and the recovered 71.1-78.7 s.
    first = words(" ".join(f"a{i}" for i in range(76)), 40.6) + words(" ".join(f"c{i}" for i in range(12)), 79.0)
    recovered = words(" ".join(f"b{i}." for i in range(19)), 71.1)
    out = shape_segments([seg(first), seg(recovered, flags=["recovered"], logprob=-0.5)])
    check_cues(out)
    order = all_words(out)
    assert order == [w.text for w in sorted(first + recovered, key=lambda w: w.start)]
    assert order.index(" b0.") == order.index(" a75") + 1 and order.index(" c0") == order.index(" b18.") + 1
    for s in out:  # each piece keeps its own decoding's flags and scores
        recovered_piece = s.words[0].text.startswith(" b")
        assert ("recovered" in s.flags) == recovered_piece
        assert s.avg_logprob == (-0.5 if recovered_piece else -0.2)


def test_a_sentence_end_or_a_pause_starts_a_new_segment() -> None:
    ws = words("Hello there. How are you? Fine", 0.0)
    ws += words("thanks", ws[-1].end + 1.2)
    out = shape_segments([seg(ws)])
    assert [s.text for s in out] == ["Hello there.", "How are you?", "Fine", "thanks"]
    check_cues(out)


def test_abbreviations_do_not_end_a_sentence() -> None:
    out = shape_segments([seg(words("I met Mr. Jones today.", 0.0))])
    assert [s.text for s in out] == ["I met Mr. Jones today."]


def test_a_long_run_is_cut_at_its_longest_pause_near_the_middle() -> None:
    ws = words("one two three four five six seven eight nine ten", 0.0, step=0.5)
    ws += words("eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen", ws[-1].end + 0.6, step=0.5)
    out = shape_segments([seg(ws)])
    assert [s.text for s in out] == ["one two three four five six seven eight nine ten",
                                     "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen"]
    check_cues(out)


def test_a_comma_beats_an_even_split() -> None:
    ws = words("we went down to the river, and then we walked all the way back home again", 0.0, step=0.45)
    out = shape_segments([seg(ws)])
    assert out[0].text == "we went down to the river,"
    check_cues(out)


def test_unbroken_speech_is_cut_to_cue_length_and_loses_nothing() -> None:
    ws = words(" ".join(f"word{i}" for i in range(120)), 3.0, step=0.3)
    out = shape_segments([seg(ws)])
    assert len(out) >= 36 / MAX_SEGMENT_S  # 36 s of speech
    assert all_words(out) == [w.text for w in ws]
    check_cues(out)
    long_text = words(" ".join("antidisestablishmentarianism" for _ in range(8)), 0.0, step=0.5)
    out = shape_segments([seg(long_text)])
    assert len(out) >= 3 and all(len(s.text) <= MAX_SEGMENT_CHARS for s in out)


def test_overlapping_words_of_two_decodings_do_not_overlap_as_cues() -> None:
    a = words("first part", 0.0)  # 0.0-0.75
    b = words("second part", 0.7)  # starts before a's last word ends
    out = shape_segments([seg(b, flags=["recovered"]), seg(a)])
    assert [s.text for s in out] == ["first part", "second part"]
    check_cues(out)
    assert out[0].words[-1].end <= out[1].start


def test_recovery_keeps_only_the_words_inside_the_gap() -> None:
    # The recovered audio is padded: its first and last words were already transcribed by the first pass.
    heard = seg(words("edge new words here edge", 9.6, step=0.5), flags=["recovered"])
    kept = _within(heard, 10.0, 11.8)
    assert kept is not None and kept.text == "new words here"
    assert (kept.start, kept.end) == (kept.words[0].start, kept.words[-1].end)
    assert _within(heard, 20.0, 22.0) is None


def test_the_second_pass_rechecks_unsure_segments_and_keeps_by_its_rule(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipeline.asr as asr

    sure = seg(words("all clear here", 0.0))
    unsure = seg([Word(start=0.0, end=0.4, text=" fuzzy", probability=0.5), *words("words", 0.5)])
    assert not asr._unsure(sure) and asr._unsure(unsure)
    assert asr._unsure(seg(words("clear words", 0.0), flags=["repetition"]))
    better = [seg([Word(start=0.0, end=0.4, text=" fuzzy", probability=0.9), *words("words", 0.5)])]
    shorter = [seg([Word(start=0.0, end=0.4, text=" words", probability=0.99)])]
    worse = [seg([Word(start=0.0, end=0.4, text=" fussy", probability=0.3), *words("words", 0.5)])]
    monkeypatch.setattr(asr, "RECHECK_RULE", "score")
    assert asr._keep_second(unsure, better)
    assert not asr._keep_second(unsure, shorter)  # scores higher by dropping a word
    assert not asr._keep_second(unsure, worse)
    assert not asr._keep_second(unsure, [])
    monkeypatch.setattr(asr, "RECHECK_RULE", "always")
    assert asr._keep_second(unsure, worse) and not asr._keep_second(unsure, [])


def test_spans_decoded_together_come_back_in_their_own_time() -> None:
    """Recovery and the second pass string their spans into one window; each word must land back in its span."""
    from types import SimpleNamespace

    import numpy as np

    from pipeline.asr import _decode_spans
    from pipeline.types import SAMPLE_RATE

    class Model:
        """Says one word in the middle of every stretch of non-silent audio it is given."""

        calls = 0

        def transcribe(self, audio, **_):  # type: ignore[no-untyped-def]
            self.calls += 1
            loud = np.flatnonzero(np.abs(audio) > 0)
            runs = np.split(loud, np.flatnonzero(np.diff(loud) > 1) + 1)
            words = [SimpleNamespace(start=r[0] / SAMPLE_RATE + 0.1, end=r[-1] / SAMPLE_RATE - 0.1,
                                     word=f" w{k}", probability=0.9) for k, r in enumerate(runs)]
            seg = SimpleNamespace(start=words[0].start, end=words[-1].end, text="".join(w.word for w in words),
                                  words=words, avg_logprob=-0.1, no_speech_prob=0.0, compression_ratio=1.0)
            return iter([seg]), None

    audio = np.zeros(60 * SAMPLE_RATE, dtype=np.float32)
    spans = [(3.0, 4.0), (10.0, 12.0), (40.0, 41.0)]
    for a, b in spans:
        audio[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)] = 0.1
    # Padded by 0.25 s, with 1 s between: 1.5 + 1 + 2.5 + 1 + 1.5 = 7.5 s, one window.
    model = Model()
    found = _decode_spans(model, audio, spans, {}, 0.25, "recovered")
    assert model.calls == 1 and [len(f) for f in found] == [1, 1, 1]
    for (a, b), segs in zip(spans, found, strict=True):
        (word,) = segs[0].words
        assert a <= word.start < word.end <= b and segs[0].flags == ["recovered"]


def test_untimed_repeats_stay_with_their_neighbour_and_pieces_get_their_own_flags() -> None:
    from pipeline.asr import _piece_flags

    ws = [*words("Hello.", 6.4), Word(start=8.76, end=8.76, text=" Hello.", probability=0.4)]
    ws += words("I didn't know you were there.", 9.0)
    # One batched window, flagged for a repeat as a whole.
    out = shape_segments([seg(ws, flags=["repetition", "recovered"])], _piece_flags)
    assert [s.text for s in out] == ["Hello. Hello.", "I didn't know you were there."]
    assert all(s.words[0].end > s.words[0].start for s in out)  # no segment of untimed words only
    assert out[1].flags == ["recovered"]


def test_a_span_skipped_in_a_shared_window_is_decoded_again_alone() -> None:
    """Whisper skips short speech strung between longer spans (the joined Common Voice file lost "Ruth is upset." so):
    a span that comes back without words is decoded again on its own."""
    from types import SimpleNamespace

    import numpy as np

    from pipeline.asr import _decode_spans
    from pipeline.types import SAMPLE_RATE

    class Model:
        """One word per stretch of non-silent audio, except that among several it skips those under 1.5 s."""

        calls = 0

        def transcribe(self, audio, **_):  # type: ignore[no-untyped-def]
            self.calls += 1
            loud = np.flatnonzero(np.abs(audio) > 0)
            runs = np.split(loud, np.flatnonzero(np.diff(loud) > 1) + 1)
            heard = [r for r in runs if len(runs) == 1 or len(r) >= 1.5 * SAMPLE_RATE]
            words = [SimpleNamespace(start=r[0] / SAMPLE_RATE + 0.1, end=r[-1] / SAMPLE_RATE - 0.1,
                                     word=f" w{k}", probability=0.9) for k, r in enumerate(heard)]
            if not words:
                return iter([]), None
            seg = SimpleNamespace(start=words[0].start, end=words[-1].end, text="".join(w.word for w in words),
                                  words=words, avg_logprob=-0.1, no_speech_prob=0.0, compression_ratio=1.0)
            return iter([seg]), None

    audio = np.zeros(60 * SAMPLE_RATE, dtype=np.float32)
    spans = [(3.0, 6.0), (10.0, 10.8), (20.0, 24.0), (30.0, 30.9)]
    for a, b in spans:
        audio[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)] = 0.1
    model = Model()
    found = _decode_spans(model, audio, spans, {}, 0.25, "recovered")
    assert model.calls == 3  # the shared window, then each short span alone
    for (a, b), segs in zip(spans, found, strict=True):
        (word,) = segs[0].words
        assert a <= word.start < word.end <= b
