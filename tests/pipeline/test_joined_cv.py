"""Common Voice sentences joined into one file (harness.joined_cv) through `anonscribe transcribe`: the cues come out
in time order, none overlapping, none longer than a subtitle, and no sentence is lost (issue 15: on this file a 43 s
cue was followed by a recovered cue inside it, and a short sentence was missing).

Every third clip (34 sentences, 3.5 minutes) with tiny.en keeps it near 30 s; bench/joined_cv.py runs all 100.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import jiwer
import pytest

from harness.joined_cv import Sentence, build_joined_cv, txt_words, untranscribed
from harness.textnorm import normalise
from pipeline.segments import MAX_SEGMENT_CHARS, MAX_SEGMENT_S
from service.library.exports.text import to_srt
from service.transcripts.render import to_vtt
from tests.support.paths import MODEL_CACHE, SHARED

# tiny.en batched scored 15.7 % pooled on the 100 clips one by one (README); joined, before issue 15, the service lost
# whole sentences. 25 % fails on lost or duplicated sentences (each is ~3 % of these words) but not on tiny's errors.
WER_BOUND = 0.25
_CUE_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)[.,](\d\d\d) --> (\d\d):(\d\d):(\d\d)[.,](\d\d\d)$", re.M)


def _cues(text: str) -> list[tuple[float, float]]:
    def secs(h: str, m: str, s: str, ms: str) -> float:
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [(secs(*m.groups()[:4]), secs(*m.groups()[4:])) for m in _CUE_TIME.finditer(text)]


@pytest.mark.slow
@pytest.mark.parametrize("second_pass", [False, True], ids=["first_pass", "second_pass"])
def test_joined_common_voice_cues_are_ordered_short_and_complete(tmp_path, second_pass: bool) -> None:  # type: ignore[no-untyped-def]
    # The second pass re-decodes and re-shapes segments: the same guarantees hold after it (on fewer clips: it is
    # slower, and tiny.en is unsure of many sentences).
    joined = build_joined_cv(SHARED, tmp_path, every=5 if second_pass else 3)
    out = tmp_path / "joined.json"
    env = {"ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE), "ANONSCRIBE_DATA_DIR": str(tmp_path / "d"),
           "ANONSCRIBE_SECOND_PASS": str(second_pass).lower(), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "service.cli", "transcribe", str(joined.path), "--model", "tiny.en",
                           "--no-diarise", "--format", "json", "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    segments = data["segments"]
    assert any("second_pass" in s["flags"] for s in segments) == second_pass

    words = [(w["start"], w["end"]) for s in segments for w in s["words"]]
    lost = untranscribed(joined.sentences, words)
    assert not lost, f"sentences with no transcribed word: {[s.name for s in lost]}"
    hypothesis = " ".join(s["text"] for s in segments)
    wer = jiwer.wer(normalise(joined.reference), normalise(hypothesis))
    assert wer <= WER_BOUND, wer

    for fmt, text in (("vtt", to_vtt(data)), ("srt", to_srt(data))):
        cues = _cues(text)
        assert len(cues) == len(segments) >= len(joined.sentences), fmt
        for (start, end), (next_start, _) in itertools.pairwise(cues):
            assert start < next_start and end <= next_start, (fmt, start, end, next_start)
        assert max(end - start for start, end in cues) <= MAX_SEGMENT_S, fmt
    assert max(len(s["text"]) for s in segments) <= MAX_SEGMENT_CHARS
    assert all(w["start"] >= s["start"] - 1e-3 and w["end"] <= s["end"] + 1e-3 for s in segments for w in s["words"])


# Six consecutive clips of the joined file. Before pause windows, `base` batched (the default) glued their speech into
# one 30 s window, skipped "Balance was the lyricist and also played Chapman Stick and some keyboards." inside it and
# stretched "government" over it (2 of its 12 words heard, WER 27.3 % on these clips); now every word is heard.
SKIPPED_IN_A_WINDOW = ["cv_en_england_19732443", "cv_en_england_19745476", "cv_en_england_20315440",
                       "cv_en_england_20315442", "cv_en_england_204777", "cv_en_england_20491390"]


@pytest.mark.slow
def test_no_sentence_of_a_shared_window_is_skipped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipeline.asr import transcribe
    from pipeline.decode import decode_audio
    from service.core.settings import Settings
    from workers.options import pipeline_options

    joined = build_joined_cv(SHARED, tmp_path, names=SKIPPED_IN_A_WINDOW)
    settings = Settings(whisper_model="base", diarise=False, cpu_threads=2, model_cache_dir=MODEL_CACHE)
    segments, _ = transcribe(decode_audio(str(joined.path)), options=pipeline_options(settings).asr)
    words = [w for s in segments for w in s.words]
    for sentence in joined.sentences:
        heard = normalise(" ".join(w.text for w in words if sentence.start <= (w.start + w.end) / 2 <= sentence.end))
        # Misheard words still count: what must not happen is a sentence losing most of its words.
        assert len(heard.split()) >= 0.75 * len(normalise(sentence.text).split()), (sentence.name, heard)
    assert jiwer.wer(normalise(joined.reference), normalise(" ".join(s.text for s in segments))) <= 0.15


def test_the_checks_find_lost_sentences_and_strip_txt_prefixes() -> None:
    sentences = [Sentence("a", 0.0, 4.0, "One."), Sentence("b", 5.0, 8.0, "Two."), Sentence("c", 9.0, 11.0, "Three.")]
    # A word straddling 4.5 s belongs to neither; one ending just inside "c" has its middle outside it.
    assert [s.name for s in untranscribed(sentences, [(1.0, 1.5), (4.2, 4.8), (8.5, 9.2)])] == ["b", "c"]
    assert untranscribed(sentences, [(3.0, 3.5), (6.0, 6.2), (10.6, 11.0)]) == []
    text = "[00:00:01] S1: Hello, there.\n\n[00:01:03] Participant: Yes: it is\n"
    assert normalise(txt_words(text)) == "hello there yes it is"
