"""Synthesised interviews (espeak-ng), built in the tests themselves: exact speakers and times known."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pipeline.decode import decode_audio

SR = 16_000
# Two clearly different voices: a low British male and a higher US female variant.
VOICES = {
    "A": ["-v", "en-gb", "-p", "30", "-s", "150"],
    "B": ["-v", "en-us+f3", "-p", "75", "-s", "165"],
    "C": ["-v", "en-gb-scotland", "-p", "50", "-s", "140"],
}


@dataclass(frozen=True)
class Utterance:
    speaker: str
    text: str
    start: float
    end: float


def speak(text: str, voice: str) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (scripts/test installs it)")
    wav = subprocess.run(["espeak-ng", *VOICES[voice], "--stdout", text], capture_output=True, check=True).stdout
    audio = decode_audio(io.BytesIO(wav))
    nz = np.flatnonzero(np.abs(audio) > 1e-3)
    return audio[nz[0] : nz[-1] + 1] if nz.size else audio


def dialogue(
    lines: list[tuple[str, str]], *, gap: float = 0.6, lead: float = 0.5
) -> tuple[np.ndarray, list[Utterance]]:
    parts = [np.zeros(int(lead * SR), dtype=np.float32)]
    t = lead
    utterances = []
    rng = np.random.default_rng(7)
    for speaker, text in lines:
        audio = speak(text, speaker)
        utterances.append(Utterance(speaker, text, round(t, 3), round(t + len(audio) / SR, 3)))
        parts.append(audio)
        t += len(audio) / SR
        pause = gap * (0.7 + 0.6 * rng.random())
        parts.append(np.zeros(int(pause * SR), dtype=np.float32))
        t += int(pause * SR) / SR
    audio = np.concatenate(parts)
    # A faint noise floor, as in any real room: pure digital silence is unlike any recording.
    audio = audio + rng.normal(0, 3e-4, audio.size).astype(np.float32)
    return audio.astype(np.float32), utterances


def write_wav(path: Path, audio: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


INTERVIEW = [
    ("A", "Thank you for agreeing to talk to me today. Could you start by telling me about your role?"),
    ("B", "Of course. I have worked in the public protection unit for about six years now."),
    ("A", "And how often do you deal with cases where intimate images are shared without consent?"),
    ("B", "Quite often, probably two or three new reports every week, and the number keeps going up."),
    ("A", "What happens when a victim first comes forward?"),
    ("B", "We take a statement, we secure the evidence, and we try to get the images taken down quickly."),
    ("A", "Is there anything that makes that process harder than it should be?"),
    ("B", "The platforms are slow to respond, and victims often feel they are not being believed."),
    ("A", "That is really helpful. Is there anything else you would like to add?"),
    ("B", "Only that better training for first responders would make a real difference."),
]
