"""The whole pipeline as one function: what the worker and `anonscribe transcribe` both call.

Audio is decoded once and shared by ASR and diarisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from workers.pipeline.asr import AsrOptions, ProgressFn, transcribe
from workers.pipeline.decode import decode_audio
from workers.pipeline.types import SAMPLE_RATE, SpeakerInfo, Transcript

StageFn = Callable[[str], None]


@dataclass(frozen=True)
class SpeakerHints:
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


def run_pipeline(
    source: BinaryIO | str | np.ndarray,
    *,
    asr: AsrOptions,
    diarisation: object | None = None,
    hints: SpeakerHints | None = None,
    on_stage: StageFn | None = None,
    on_progress: ProgressFn | None = None,
    expected_s: float | None = None,
    reference_cues: list[object] | None = None,
    known_names: list[str] | None = None,
    redact: bool = False,
) -> Transcript:
    """`diarisation` is a `DiariseOptions` (None: one speaker, S1). Progress is reported per stage."""
    stage = on_stage or (lambda _: None)
    stage("decoding")
    audio = source if isinstance(source, np.ndarray) else decode_audio(source, expected_s=expected_s)
    duration = len(audio) / SAMPLE_RATE
    stage("transcribing")
    segments, language = transcribe(audio, options=asr, on_progress=on_progress)
    if diarisation is None:
        for seg in segments:
            seg.speaker = "S1"
            for w in seg.words:
                w.speaker = "S1"
        talk = sum(s.end - s.start for s in segments)
        speaker_turns = [{"start": s.start, "end": s.end, "speaker": "S1"} for s in segments]
        speakers = [SpeakerInfo(slot="S1", role="Participant", talk_time=round(talk, 2),
                                questions=sum(s.text.count("?") for s in segments),
                                first_start=segments[0].start if segments else 0.0)]
    else:
        from workers.pipeline.align import assign_speakers, guess_roles, reconcile_with_voices, rename_to_slots
        from workers.pipeline.diarise import diarise

        stage("diarising")
        hints = hints or SpeakerHints()
        if reference_cues and not hints.num_speakers:
            # Everyone with a Teams voice spoke: a floor on the count (one account may hide two people).
            voices = len({c.voice for c in reference_cues})  # type: ignore[attr-defined]
            hints = SpeakerHints(
                min_speakers=max(hints.min_speakers or 1, voices),
                max_speakers=max(hints.max_speakers or voices, voices),
            )
        result = diarise(
            audio,
            options=diarisation,  # type: ignore[arg-type]
            num_speakers=hints.num_speakers,
            min_speakers=hints.min_speakers,
            max_speakers=hints.max_speakers,
            on_progress=(lambda f: on_progress(f * duration, duration)) if on_progress else None,
        )
        stage("aligning")
        turns = result.turns
        sources: dict[str, int] = {}
        if reference_cues:
            turns, sources = reconcile_with_voices(turns, reference_cues)
        segments = assign_speakers(segments, turns)
        mapping = rename_to_slots(segments, turns)
        speakers = guess_roles(segments)
        for sp in speakers:
            label = next((c for c, s in mapping.items() if s == sp.slot), None)
            sp.teams_voice = sources.get(label) if label else None
        speaker_turns = [{"start": t.start, "end": t.end, "speaker": mapping[t.speaker]} for t in turns]
    detected = None
    if redact:
        from dataclasses import asdict

        from workers.pipeline.redact import load_detector

        stage("redacting")
        names = list(known_names or [])
        if reference_cues:
            names += sorted({c.voice for c in reference_cues})  # type: ignore[attr-defined]
        detector = load_detector(known_names=names)
        detected = [[asdict(sp) for sp in spans] for spans in detector.detect_document([s.text for s in segments])]
    return Transcript(
        detected=detected,
        segments=segments,
        language=language,
        duration=round(duration, 3),
        model=asr.model_name or asr.model_path.name,
        speakers=speakers,
        speaker_turns=speaker_turns,
    )
