"""The 100 Common Voice clips of ../shared/data/commonvoice joined into one recording with 1 s pauses.

One file with 99 voices, read sentences and known sentence times: what issue 15 measured the service on (lost and
out-of-order speech showed up there, not on the clips one by one). Built into a directory the caller owns (a test's
tmp_path, a bench's temp dir), never into the repository: the audio is the shared data's, not ours.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.types import SAMPLE_RATE

GAP_S = 1.0


@dataclass(frozen=True)
class Sentence:
    name: str
    start: float  # where the clip sits in the joined file (its own leading/trailing silence included)
    end: float
    text: str


@dataclass(frozen=True)
class JoinedCv:
    path: Path
    duration: float
    sentences: list[Sentence]

    @property
    def reference(self) -> str:
        return " ".join(s.text for s in self.sentences)


def cv_clips(data_dir: Path) -> list[Path]:
    """The Common Voice clips in name order (the order they are joined in)."""
    clips = sorted((data_dir / "commonvoice").glob("*.flac"))
    if not clips:
        raise FileNotFoundError(f"no Common Voice clips in {data_dir / 'commonvoice'}")
    return clips


def build_joined_cv(data_dir: Path, out_dir: Path, *, every: int = 1, limit: int | None = None,
                    gap_s: float = GAP_S, names: list[str] | None = None) -> JoinedCv:
    """Every `every`-th clip (at most `limit` of them; or the clips `names`, in that order) joined with `gap_s` of
    silence between, written as 16-bit 16 kHz mono WAV into `out_dir`; the references and each sentence's span in
    the joined file."""
    from pipeline.decode import decode_audio

    if names is not None:
        clips = [data_dir / "commonvoice" / f"{name}.flac" for name in names]
    else:
        clips = cv_clips(data_dir)[::every][:limit]
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    sentences: list[Sentence] = []
    cursor = 0
    for i, clip in enumerate(clips):
        if i:
            parts.append(gap)
            cursor += len(gap)
        audio = decode_audio(str(clip))
        parts.append(audio)
        text = clip.with_suffix(".txt").read_text(encoding="utf-8-sig").strip()
        sentences.append(Sentence(clip.stem, round(cursor / SAMPLE_RATE, 3),
                                  round((cursor + len(audio)) / SAMPLE_RATE, 3), text))
        cursor += len(audio)
    joined = np.concatenate(parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"joined_cv_{len(clips)}.wav"
    pcm = (np.clip(joined, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    return JoinedCv(path, round(len(joined) / SAMPLE_RATE, 3), sentences)


def untranscribed(sentences: list[Sentence], word_times: list[tuple[float, float]]) -> list[Sentence]:
    """The sentences with no transcribed word (by its middle) inside their span: speech that was lost."""
    mids = sorted((s + e) / 2 for s, e in word_times)
    import bisect

    return [s for s in sentences if bisect.bisect_left(mids, s.start) == bisect.bisect_right(mids, s.end)]


def txt_words(txt: str) -> str:
    """The words of a TXT export, without its "[00:01:02] Speaker: " turn prefixes."""
    import re

    return " ".join(re.sub(r"^\[[0-9:]+\] (?:[^:\n]{1,40}: )?", "", line) for line in txt.splitlines() if line)
