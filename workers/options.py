"""Settings → pipeline options: what `run_pipeline` is given, built the same way by the worker, `anonscribe
transcribe` and the benchmarks (so a benchmark measures what production runs)."""

from __future__ import annotations

import dataclasses
import os
from typing import NamedTuple

from pipeline.asr import AsrOptions
from pipeline.run import SpeakerHints
from pipeline.teams import parse_teams_transcript, voice_names
from pipeline.weights import resolve_model
from service.core.settings import Settings
from service.recordings.models import Recording


def overlap_stages(settings: Settings) -> bool:
    """Whether ASR and diarisation run at the same time (each on its share of the CPU threads)."""
    return settings.overlap_stages and settings.diarise and _threads(settings) >= 2


def _threads(settings: Settings) -> int:
    return settings.cpu_threads or os.cpu_count() or 1


def stage_threads(settings: Settings) -> tuple[int, int]:
    """CPU threads for ASR and for diarisation (0: the library default)."""
    if not overlap_stages(settings):
        return settings.cpu_threads, settings.cpu_threads
    total = _threads(settings)
    return total - total // 2, total // 2


class PipelineOptions(NamedTuple):
    asr: AsrOptions
    diarisation: object | None  # DiariseOptions, or None with diarisation off
    overlap: bool


def pipeline_options(settings: Settings) -> PipelineOptions:
    """Options for `run_pipeline`, built together: the stages' thread counts depend on whether they overlap."""
    return PipelineOptions(_asr_options(settings), _diarise_options(settings), overlap_stages(settings))


def _asr_options(settings: Settings) -> AsrOptions:
    return AsrOptions(
        model_path=resolve_model(settings.whisper_model, cache_dir=settings.resolved_model_cache_dir),
        model_name=settings.whisper_model,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=stage_threads(settings)[0],
        language=settings.language,
        batched=settings.batched,
        batch_size=settings.batch_size,
        beam_size=settings.beam_size,
        second_pass=settings.second_pass,
        workers=2 if overlap_stages(settings) and settings.asr_handoff else 1,
    )


def _diarise_options(settings: Settings) -> object | None:
    if not settings.diarise:
        return None
    from pipeline.diarise import DiariseOptions

    return DiariseOptions(
        cache_dir=settings.resolved_model_cache_dir,
        device=settings.device,
        pipeline_path=settings.diarisation_pipeline,
        segmentation_step=settings.diarisation_step,
        threshold=settings.diarisation_threshold,
        embedding_batch_size=settings.diarisation_batch_size,
        segmentation_batch_size=settings.diarisation_batch_size,
        threads=stage_threads(settings)[1],
    )


def speaker_hints(settings: Settings, recording: Recording) -> SpeakerHints:
    if recording.num_speakers:
        return SpeakerHints(num_speakers=recording.num_speakers)
    return SpeakerHints(
        min_speakers=recording.min_speakers or settings.default_min_speakers,
        max_speakers=recording.max_speakers or settings.default_max_speakers,
    )


def with_name_hints(
    settings: Settings, asr: AsrOptions, *, known_names: list[str], teams_text: bytes | None
) -> AsrOptions:
    """The names given at upload and the Teams transcript's voices as Whisper hotwords (when the admin opted in)."""
    if not settings.asr_name_hints:
        return asr
    names = list(known_names)
    if teams_text:
        names += voice_names(parse_teams_transcript(teams_text))
    if not names:
        return asr
    return dataclasses.replace(asr, hotwords=", ".join(dict.fromkeys(names)))
