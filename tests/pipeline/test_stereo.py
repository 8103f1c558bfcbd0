"""Two-channel recordings: one person per channel is heard channel by channel (both voices in the transcript, each
its own speaker); one sound in both channels is mixed down as before."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest

from harness.textnorm import normalise
from pipeline.asr import AsrOptions
from pipeline.channels import channels_are_speakers, downmix, merge_channels
from pipeline.decode import decode_audio
from pipeline.run import run_pipeline
from pipeline.types import Segment, Word
from pipeline.weights import resolve_model
from tests.support.media import ffmpeg
from tests.support.paths import MODEL_CACHE, TEST_MODEL, shared

STEREO = "fw_stereo_diarization.wav"


def _references() -> dict[str, str]:
    lines = shared("fw_stereo_diarization.txt").read_text().strip().splitlines()
    return dict(line.split("\t", 1) for line in lines)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The same voice in both channels, in the ways stereo files carry it."""
    out = tmp_path_factory.mktemp("stereo")
    src = str(shared("azure_en_general_test.wav"))
    pans = {"duplicated": "c0=c0|c1=c0", "panned": "c0=0.9*c0|c1=0.3*c0", "hard_panned": "c0=c0|c1=0.03*c0"}
    found = {}
    for name, pan in pans.items():
        path = out / f"{name}.wav"
        ffmpeg("-t", "15", "-i", src, "-af", f"pan=stereo|{pan}", "-c:a", "pcm_s16le", str(path))
        found[name] = decode_audio(str(path), keep_stereo=True)
    mono = decode_audio(src)[: 16_000 * 15]
    # Two microphones on a table: the far one 2 ms later, 4 dB quieter, with its own noise.
    far = np.concatenate([np.zeros(32, np.float32), mono[:-32]]) * 0.63
    found["room_pair"] = np.stack([mono, far + np.random.default_rng(0).normal(0, 0.002, mono.size).astype(np.float32)])
    found["jfk"] = decode_audio(str(shared("fw_jfk.flac")), keep_stereo=True)
    return found


def test_one_person_per_channel_is_recognised() -> None:
    audio = decode_audio(str(shared(STEREO)), keep_stereo=True)
    assert audio.shape == (2, 80_000)
    assert channels_are_speakers(audio)
    # A call recorder: two different people, each channel with the other's voice leaking in 35 dB down.
    a = decode_audio(str(shared("azure_en_general_test.wav")))[: 16_000 * 20]
    b = decode_audio(str(shared("pyannote_sample.wav")))[: 16_000 * 20]
    assert channels_are_speakers(np.stack([a + 0.018 * b, b + 0.018 * a]))


@pytest.mark.parametrize("name", ["duplicated", "panned", "hard_panned", "room_pair", "jfk"])
def test_one_sound_in_both_channels_is_mixed_down(variants, name) -> None:  # type: ignore[no-untyped-def]
    audio = variants[name]
    assert audio.ndim == 2 and not channels_are_speakers(audio)
    assert downmix(audio).shape == (audio.shape[1],)


def test_mono_stays_mono() -> None:
    audio = decode_audio(str(shared("pyannote_sample.wav")), keep_stereo=True)
    assert audio.ndim == 1 and not channels_are_speakers(audio[None, :])


def test_channels_merge_in_time_order_with_overlap_flags() -> None:
    left = [Segment(id=0, start=0.0, end=3.0, text="a b", words=[Word(0.0, 1.0, "a", 0.9), Word(2.0, 3.0, "b", 0.9)])]
    right = [Segment(id=0, start=0.5, end=1.5, text="c", words=[Word(0.5, 1.5, "c", 0.9)]),
             Segment(id=1, start=4.0, end=5.0, text="d", words=[Word(4.0, 5.0, "d", 0.9)])]
    merged = merge_channels([left, right])
    assert [(s.id, s.speaker, s.text) for s in merged] == [(0, "CH1", "a b"), (1, "CH2", "c"), (2, "CH2", "d")]
    flags = {w.text: w.overlap for s in merged for w in s.words}
    assert flags == {"a": True, "b": False, "c": True, "d": False}
    assert all(w.speaker == s.speaker for s in merged for w in s.words)


@pytest.mark.slow
def test_both_channels_are_transcribed_as_two_speakers() -> None:
    asr = AsrOptions(model_path=resolve_model(TEST_MODEL, cache_dir=MODEL_CACHE), cpu_threads=2)
    transcript = run_pipeline(str(shared(STEREO)), asr=asr)
    refs = _references()
    by_speaker: dict[str, str] = {}
    for seg in transcript.segments:
        by_speaker[seg.speaker or ""] = f"{by_speaker.get(seg.speaker or '', '')} {seg.text}"
    assert sorted(by_speaker) == ["S1", "S2"] and len(transcript.speakers) == 2
    # Each channel's sentence comes out as one speaker's words (the right one was lost in the downmix before).
    for ref in refs.values():
        best = min(jiwer.wer(normalise(ref), normalise(hyp)) for hyp in by_speaker.values())
        assert best <= 0.35, (ref, by_speaker)
    assert {"horizon", "distant"} <= set(normalise(" ".join(by_speaker.values())).split())
    assert any(w.overlap for s in transcript.segments for w in s.words)
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
