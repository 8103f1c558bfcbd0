"""The whole pipeline as one function: what the worker and `anonscribe transcribe` both call."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from workers.pipeline.asr import AsrOptions, ProgressFn, transcribe
from workers.pipeline.decode import decode_audio
from workers.pipeline.types import SAMPLE_RATE, Transcript

StageFn = Callable[[str], None]


def run_pipeline(
    source: BinaryIO | str | np.ndarray,
    *,
    asr: AsrOptions,
    on_stage: StageFn | None = None,
    on_progress: ProgressFn | None = None,
) -> Transcript:
    if on_stage:
        on_stage("decoding")
    audio = source if isinstance(source, np.ndarray) else decode_audio(source)
    if on_stage:
        on_stage("transcribing")
    segments, language = transcribe(audio, options=asr, on_progress=on_progress)
    return Transcript(
        segments=segments,
        language=language,
        duration=round(len(audio) / SAMPLE_RATE, 3),
        model=asr.model_name or asr.model_path.name,
    )
