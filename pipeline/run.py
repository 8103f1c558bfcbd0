"""The whole pipeline as one function: what the worker and `anonscribe transcribe` both call.

Audio is decoded once and shared by ASR and diarisation, which can run at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from pipeline.asr import AsrOptions, ProgressFn, transcribe
from pipeline.channels import channels_are_speakers, downmix, merge_channels
from pipeline.decode import decode_audio
from pipeline.pieces import HandOff
from pipeline.types import SAMPLE_RATE, Segment, SpeakerInfo, Transcript

if TYPE_CHECKING:
    from pipeline.diarise import Diarisation

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
    overlap: bool = False,
    respell_names: bool = False,
) -> Transcript:
    """`diarisation` is a `DiariseOptions` (None: one speaker, S1). Progress is reported per stage.

    overlap: diarise in a second thread while transcribing (give each stage its share of the CPU threads
    in its options); the stages are then reported as "transcribing" until ASR ends, then "diarising".
    respell_names: heard words that sound like a known name or a force take its spelling before redaction
    (pipeline.redact.respell), and segments still unsure get a second, hinted listen (pipeline.name_pass), instead
    of biasing every segment's decoding with hotwords.
    """
    stage = on_stage or (lambda _: None)
    voices: dict[str, list[float]] = {}
    stage("decoding")
    audio = source if isinstance(source, np.ndarray) else decode_audio(source, expected_s=expected_s, keep_stereo=True)
    if audio.ndim == 2 and not channels_are_speakers(audio):
        audio = downmix(audio)
    duration = audio.shape[-1] / SAMPLE_RATE
    hints = hints or SpeakerHints()
    if reference_cues and not hints.num_speakers:
        # Everyone with a Teams voice spoke: a floor on the count (one account may hide two people).
        voices = len({c.voice for c in reference_cues})  # type: ignore[attr-defined]
        hints = SpeakerHints(
            min_speakers=max(hints.min_speakers or 1, voices),
            max_speakers=max(hints.max_speakers or voices, voices),
        )
    if audio.ndim == 2:
        # One person per channel: each channel heard on its own, the channel names the speaker.
        segments, language = _per_channel(audio, asr=asr, stage=stage, on_progress=on_progress)
        diarisation = None
    elif diarisation is not None and overlap:
        segments, language, result = _overlapped(audio, asr=asr, diarisation=diarisation, hints=hints,
                                                 stage=stage, on_progress=on_progress)
    else:
        stage("transcribing")
        segments, language = transcribe(audio, options=asr, on_progress=on_progress)
        if diarisation is not None:
            stage("diarising")
            result = _diarise(audio, diarisation, hints,
                              (lambda f: on_progress(f * duration, duration)) if on_progress else None)
    if audio.ndim == 2:
        from pipeline.align import guess_roles, rename_to_slots
        from pipeline.diarise import Turn

        stage("aligning")
        turns = [Turn(s.start, s.end, s.speaker or "") for s in segments]
        mapping = rename_to_slots(segments, turns)
        speakers = guess_roles(segments)
        speaker_turns = [{"start": t.start, "end": t.end, "speaker": mapping[t.speaker]} for t in turns]
    elif diarisation is None:
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
        from pipeline.align import assign_speakers, guess_roles, reconcile_with_voices, rename_to_slots

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
        voices = {mapping[label]: c for label, c in result.voiceprints.items() if label in mapping}
    detected = None
    names = list(known_names or [])
    if reference_cues:
        names += sorted({c.voice for c in reference_cues})  # type: ignore[attr-defined]
    if respell_names:
        from pipeline.name_pass import second_listen
        from pipeline.redact.respell import respell

        respell(segments, names)
        if names and audio.ndim == 1:
            second_listen(audio, segments, names, options=asr)
            respell(segments, names)
    if redact:
        from dataclasses import asdict

        from pipeline.redact import load_detector

        stage("redacting")
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
        voices=voices,
    )


def _per_channel(audio: np.ndarray, *, asr: AsrOptions, stage: StageFn,
                 on_progress: ProgressFn | None) -> tuple[list[Segment], str]:
    stage("transcribing")
    channels, duration = audio.shape[0], audio.shape[1] / SAMPLE_RATE
    per_channel, languages = [], []
    for index in range(channels):
        def progress(done: float, _total: float, index: int = index) -> None:
            if on_progress:
                on_progress((index * duration + done) / channels, duration)

        segments, language = transcribe(np.ascontiguousarray(audio[index]), options=asr, on_progress=progress)
        per_channel.append(segments)
        languages.append(language)
    return merge_channels(per_channel), languages[0]


def _diarise(audio: np.ndarray, options: object, hints: SpeakerHints,
             on_fraction: Callable[[float], None] | None) -> Diarisation:
    from pipeline.diarise import diarise

    return diarise(
        audio,
        options=options,  # type: ignore[arg-type]
        num_speakers=hints.num_speakers,
        min_speakers=hints.min_speakers,
        max_speakers=hints.max_speakers,
        on_progress=on_fraction,
    )


class _Stopped(Exception):
    """Raised inside the diarisation thread when the job stopped (failed, cancelled or lease lost)."""


def _overlapped(audio: np.ndarray, *, asr: AsrOptions, diarisation: object, hints: SpeakerHints, stage: StageFn,
                on_progress: ProgressFn | None) -> tuple[list[Segment], str, Diarisation]:
    """ASR here, diarisation in a thread. Both spend most of their time in native code that releases the GIL,
    and neither scales linearly with threads: one thread each beats two threads each in turn (bench/end_to_end.py).
    Progress callbacks (which may raise to cancel) are only called from this thread."""
    duration = len(audio) / SAMPLE_RATE
    stop = threading.Event()
    box: dict[str, object] = {"fraction": 0.0}

    def on_fraction(fraction: float) -> None:
        box["fraction"] = fraction
        if stop.is_set():
            raise _Stopped

    handoff = HandOff() if asr.workers >= 2 else None

    def run() -> None:
        try:
            box["result"] = _diarise(audio, diarisation, hints, on_fraction)
        except BaseException as exc:  # handed to the calling thread, which re-raises it
            box["error"] = exc
            return
        if handoff is not None:
            handoff.lend()  # this thread, its CPU and its freed memory now decode ASR's remaining pieces

    worker = threading.Thread(target=run, name="diarise", daemon=True)
    worker.start()
    try:
        stage("transcribing")
        try:
            segments, language = transcribe(audio, options=asr, on_progress=on_progress, handoff=handoff)
        finally:
            if handoff is not None:
                handoff.close()  # a thread still diarising will not wait for pieces
        if worker.is_alive():
            stage("diarising")
        while worker.is_alive():
            worker.join(timeout=0.5)
            if on_progress:
                on_progress(float(box["fraction"]) * duration, duration)  # type: ignore[arg-type]
    except BaseException:
        stop.set()
        worker.join()
        raise
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return segments, language, box["result"]  # type: ignore[return-value]
