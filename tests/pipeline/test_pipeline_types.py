"""What leaves the pipeline is plain Python: numpy scalars (a `numpy.bool` from comparing numpy floats) made every
recording with a word in overlapping speech fail at `json.dumps` once a newer numpy was installed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.align import assign_speakers
from pipeline.asr import AsrOptions
from pipeline.diarise import DiariseOptions, Turn
from pipeline.run import SpeakerHints, run_pipeline
from pipeline.types import Segment, SpeakerInfo, Transcript, Word, plain
from pipeline.weights import resolve_model
from tests.support.paths import MODEL_CACHE, TEST_MODEL, shared

PLAIN = (bool, int, float, str, type(None))


def _walk(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def assert_plain(data: object) -> None:
    odd = {type(v).__name__ for v in _walk(data) if type(v) not in PLAIN}
    assert not odd, odd
    json.dumps(data, allow_nan=False)


def test_numpy_scalars_become_plain_python() -> None:
    word = Word(start=np.float32(1.5), end=np.float64(2.0), text="hi", probability=np.float32(0.9),
                speaker="S1", overlap=np.bool_(True))
    assert type(word.overlap) is bool and type(word.start) is float and type(word.probability) is float
    seg = Segment(id=np.int64(3), start=np.float32(1), end=np.float32(2), text="hi", words=[word],
                  avg_logprob=np.float32(-0.2), flags=["overlap"])
    speaker = SpeakerInfo(slot="S1", role="Interviewer", talk_time=np.float32(3), questions=np.int32(2),
                          first_start=np.float64(0), teams_voice=np.int64(0))
    transcript = Transcript(segments=[seg], language="en", duration=np.float64(3), model="tiny.en",
                            speakers=[speaker], speaker_turns=[{"start": np.float32(1), "end": np.float32(2),
                                                                "speaker": np.str_("S1")}],
                            detected=[[{"start": np.int64(0), "end": np.int64(2), "score": np.float32(0.5)}]])
    assert_plain(transcript.to_dict())
    assert_plain(transcript.detected)
    assert plain({"a": np.arange(3), "b": (np.bool_(False),)}) == {"a": [0, 1, 2], "b": [False]}


def test_an_overlapped_word_gets_a_plain_bool() -> None:
    # Two speakers over the same word; numpy float times as pyannote gives them.
    turns = [Turn(np.float64(0.0), np.float64(2.0), "A"), Turn(np.float64(0.5), np.float64(2.0), "B")]
    seg = Segment(id=0, start=0.0, end=2.0, text="overlapped words",
                  words=[Word(start=0.6, end=1.0, text="overlapped", probability=0.9)])
    [out] = assign_speakers([seg], turns)
    assert out.words[0].overlap is True
    json.dumps([w.overlap for w in out.words])


@pytest.mark.slow
@pytest.mark.full_pipeline
def test_real_overlapping_speech_serialises() -> None:
    """The pyannote sample has 1.9 s of overlapped speech: diarised, aligned and redacted, all of it dumps."""
    asr = AsrOptions(model_path=resolve_model(TEST_MODEL, cache_dir=MODEL_CACHE), cpu_threads=2)
    transcript = run_pipeline(str(shared("pyannote_sample.wav")), asr=asr,
                              diarisation=DiariseOptions(cache_dir=MODEL_CACHE, threads=2),
                              hints=SpeakerHints(min_speakers=1, max_speakers=4), redact=True,
                              known_names=["Diane", "Sheila"])
    data = transcript.to_dict()
    assert any(w["overlap"] for s in data["segments"] for w in s["words"])  # the case that used to fail
    assert_plain(data)
    assert_plain(transcript.detected)
