"""Without the server: transcribe a file, redact text (the same pipeline functions the worker runs)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import die
from service.core.settings import get_settings


class TranscriptFormat(StrEnum):
    json = "json"
    txt = "txt"
    vtt = "vtt"
    rttm = "rttm"


class CohortOption(StrEnum):
    police = "police"
    victim = "victim"
    other = "other"


def transcribe(
    file: Annotated[Path, typer.Argument(help="Audio or video file.")],
    model: Annotated[str | None, typer.Option(help="tiny.en, base, or a CTranslate2 Whisper directory.")] = None,
    format: Annotated[TranscriptFormat, typer.Option("--format", "-f")] = TranscriptFormat.txt,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    num_speakers: Annotated[int | None, typer.Option(min=1, max=10, help="Exact number of speakers.")] = None,
    min_speakers: Annotated[int | None, typer.Option(min=1, max=10)] = None,
    max_speakers: Annotated[int | None, typer.Option(min=1, max=10)] = None,
    diarise: Annotated[bool, typer.Option("--diarise/--no-diarise", help="Label speakers.")] = True,
    cohort: Annotated[CohortOption, typer.Option(help="Shows the participant as Officer/Victim.")] = CohortOption.other,
    redact: Annotated[bool, typer.Option("--redact", help="Print the redacted transcript (no review, no study map).")]
    = False,
    known_name: Annotated[list[str] | None, typer.Option("--known-name", "-k", help="A name to redact.")] = None,
) -> None:
    """Transcribe one file offline, without the server (same pipeline functions)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from pipeline.decode import DecodeError
    from pipeline.run import SpeakerHints, run_pipeline
    from pipeline.weights import ModelUnavailable
    from service.speakers import service as speakers
    from service.speakers.models import SpeakerSlot
    from service.transcripts import render
    from workers.options import pipeline_options

    if not file.is_file():
        die(f"no such file: {file}")
    if num_speakers and (min_speakers or max_speakers):
        die("give --num-speakers or --min-speakers/--max-speakers, not both")
    if min_speakers and max_speakers and min_speakers > max_speakers:
        die("--min-speakers is greater than --max-speakers")
    settings = get_settings()
    updates: dict[str, object] = {"diarise": diarise}
    if model:
        updates["whisper_model"] = model
    settings = settings.model_copy(update=updates)
    try:
        options, diarisation, overlap = pipeline_options(settings)
    except ModelUnavailable as exc:
        die(str(exc))
    hints = SpeakerHints(
        num_speakers=num_speakers,
        min_speakers=None if num_speakers else (min_speakers or settings.default_min_speakers),
        max_speakers=None if num_speakers else (max_speakers or settings.default_max_speakers),
    )
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), transient=True, disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("decoding", total=1.0)

        def stage(name: str) -> None:
            progress.update(task, description=name, completed=0)

        try:
            transcript = run_pipeline(
                str(file), asr=options, diarisation=diarisation, hints=hints, on_stage=stage,
                on_progress=lambda done, total: progress.update(task, completed=done / total if total else 1),
                overlap=overlap, redact=redact, known_names=list(known_name or ()),
                respell_names=settings.name_respelling,
            )
        except DecodeError as exc:
            die(f"{file}: {exc}")
        except ModelUnavailable as exc:
            die(str(exc))
    data = transcript.to_dict()
    slots = [SpeakerSlot(slot=sp["slot"], role=sp["role"], merged_into=None) for sp in data["speakers"]]
    data = speakers.apply(data, slots, cohort=cohort.value)
    if redact:
        from service.redaction.anonymise import redact_detected

        data = redact_detected(data, transcript.detected or [])
    text = render.to_rttm(data, uri=file.stem) if format == TranscriptFormat.rttm else render.RENDERERS[
        format.value](data)
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


class RedactFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"


def redact(
    file: Annotated[str, typer.Argument(help="Text file, one utterance per line ('-' for stdin).")] = "-",
    format: Annotated[RedactFormat, typer.Option("--format", "-f")] = RedactFormat.text,
    known_name: Annotated[list[str] | None, typer.Option("--known-name", "-k", help="A name to redact.")] = None,
) -> None:
    """Redact plain text offline: identifiers become consistent tags ([Person 1], [Force A], [Date], ...)."""
    from pipeline.redact import redact_lines

    if file == "-":
        lines = sys.stdin.read().splitlines()
    else:
        path = Path(file)
        if not path.is_file():
            die(f"no such file: {file}")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            die(f"{file} is not UTF-8 text")
    for line in redact_lines(lines, fmt=format.value, known_names=known_name or ()):
        sys.stdout.write(line + "\n")
