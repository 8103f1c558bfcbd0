"""`anonscribe` command line: serve, worker, scheduler, transcribe, users, keys."""

from __future__ import annotations

import json
import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.auth.models import Role
from service.core.private import restrict_umask, secure_data_dir
from service.core.settings import get_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
# ONNX Runtime telemetry off before anything can import it (see pipeline/__init__.py).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

app = typer.Typer(
    help="Speaker-labelled, anonymised transcripts of research interviews.", no_args_is_help=True
)
users_app = typer.Typer(help="Manage users and API tokens.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage the master key.", no_args_is_help=True)
retention_app = typer.Typer(help="Data retention sweeps.", no_args_is_help=True)
participants_app = typer.Typer(help="Participant withdrawal.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(retention_app, name="retention")
app.add_typer(participants_app, name="participants")
app.add_typer(audit_app, name="audit")


@app.callback()
def _owner_only() -> None:
    """Speaker-labelled, anonymised transcripts of research interviews."""
    # Before any command makes a file: the data dir's database, keys, blobs and schedule are owner-only.
    restrict_umask()


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _die(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


class TranscriptFormat(StrEnum):
    json = "json"
    txt = "txt"
    vtt = "vtt"
    rttm = "rttm"


class CohortOption(StrEnum):
    police = "police"
    victim = "victim"
    other = "other"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API (and, on the embedded default, the worker) in this process."""
    import uvicorn

    from service.app import create_app
    from service.core.crypto import MasterKeyError
    from service.core.runtime import load_master_key
    from service.forwarded import UVICORN_OPTIONS

    _logging()
    settings = get_settings()
    secure_data_dir(settings)
    try:
        load_master_key(settings, create_if_missing=settings.resolved_queue == "inline")
    except MasterKeyError as exc:
        _die(str(exc))
    typer.echo(f"data dir: {settings.data_dir.resolve()}  queue: {settings.resolved_queue}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False, **UVICORN_OPTIONS)


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(help="Jobs at once in this process (1 = one model in memory).")
    ] = 1,
) -> None:
    """Run a Celery worker (ANONSCRIBE_BROKER_URL must point at Redis)."""
    _logging()
    settings = get_settings()
    if not settings.broker_url:
        _die("`anonscribe worker` needs ANONSCRIBE_BROKER_URL (e.g. redis://localhost:6379/0)")
    from workers.celery_app import app as celery_app

    pool = "solo" if concurrency == 1 else "threads"
    celery_app.worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-Q",
            "anonscribe",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def scheduler() -> None:
    """Run Celery beat: periodic sweeps (job reaper, retention)."""
    _logging()
    settings = get_settings()
    if not settings.broker_url:
        _die("`anonscribe scheduler` needs ANONSCRIBE_BROKER_URL")
    from workers.celery_app import app as celery_app

    schedule = settings.data_dir / "celerybeat-schedule"
    secure_data_dir(settings)
    celery_app.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


@app.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head) and create the blob bucket or directory."""
    from service.core.db import run_migrations
    from service.core.storage import StorageError, make_blob_store

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    typer.echo("database is at the latest schema")
    try:
        store = make_blob_store(settings)
        store.prepare()
    except StorageError as exc:
        _die(str(exc))
    typer.echo(f"blob storage is ready ({store.describe()})")


@app.command()
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
        _die(f"no such file: {file}")
    if num_speakers and (min_speakers or max_speakers):
        _die("give --num-speakers or --min-speakers/--max-speakers, not both")
    if min_speakers and max_speakers and min_speakers > max_speakers:
        _die("--min-speakers is greater than --max-speakers")
    settings = get_settings()
    updates: dict[str, object] = {"diarise": diarise}
    if model:
        updates["whisper_model"] = model
    settings = settings.model_copy(update=updates)
    try:
        options, diarisation, overlap = pipeline_options(settings)
    except ModelUnavailable as exc:
        _die(str(exc))
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
            )
        except DecodeError as exc:
            _die(f"{file}: {exc}")
        except ModelUnavailable as exc:
            _die(str(exc))
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


@app.command()
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
            _die(f"no such file: {file}")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            _die(f"{file} is not UTF-8 text")
    for line in redact_lines(lines, fmt=format.value, known_names=known_name or ()):
        sys.stdout.write(line + "\n")


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="Login name (not a participant's name).")],
    role: Annotated[Role, typer.Option(help="admin, uploader, reviewer or researcher.")],
) -> None:
    """Create a user and print their API token (shown once, as the last word)."""
    from service.auth import service as auth_service
    from service.core.db import make_engine, make_session_factory, run_migrations, session_scope

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            user, token = auth_service.create_user(db_session=s, name=name, role=role)
            role_name = user.role
    except auth_service.UserExists:
        _die(f"a user named {name!r} already exists")
    except auth_service.InvalidUserName as exc:
        _die(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"created {role_name} {name}; API token (shown once): {token}")


@keys_app.command("init")
def keys_init(
    path: Annotated[
        Path | None, typer.Option(help="Where to write the keyset (default: the configured file).")
    ] = None,
) -> None:
    """Write a new master key-encryption keyset (Tink AEAD, mode 0600). Never overwrites."""
    from service.core.crypto import MasterKey

    settings = get_settings()
    target = path or settings.resolved_master_key_file
    if target.exists():
        _die(f"{target} exists; refusing to overwrite a master key (everything it protects would be lost)")
    MasterKey.generate(target)
    typer.echo(json.dumps({"master_key_file": str(target), "mode": "0600"}))


def _runtime():  # type: ignore[no-untyped-def]
    """The deployment's runtime for one-off commands: migrated DB, existing master key (never a new one)."""
    from service.core.crypto import MasterKeyError
    from service.core.db import run_migrations
    from service.core.runtime import build_runtime

    settings = get_settings()
    secure_data_dir(settings)
    run_migrations(settings.resolved_database_url)
    try:
        return build_runtime(settings)
    except MasterKeyError as exc:
        _die(str(exc))


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")] = False,
) -> None:
    """Run every retention sweep now (what the scheduler does periodically); print what went as JSON."""
    from service.retention import service as retention

    runtime = _runtime()
    try:
        report = retention.run(runtime=runtime, dry_run=dry_run)
    finally:
        runtime.close()
    typer.echo(json.dumps(report.as_dict(), indent=2))


class ReceiptFormat(StrEnum):
    json = "json"
    txt = "txt"
    pdf = "pdf"


@participants_app.command("withdraw")
def participants_withdraw(
    code: Annotated[str, typer.Argument(help="The participant code, e.g. P07.")],
    override_reason: Annotated[
        str | None, typer.Option(help="Required past the withdrawal deadline; sealed, never logged in clear.")
    ] = None,
    format: Annotated[ReceiptFormat, typer.Option("--format", "-f")] = ReceiptFormat.txt,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the receipt here.")] = None,
) -> None:
    """Delete everything of a participant code and print the withdrawal receipt."""
    from service.retention import receipt as printable
    from service.retention import withdrawal

    if format == ReceiptFormat.pdf and output is None:
        _die("--format pdf needs --output FILE")
    runtime = _runtime()
    try:
        receipt = withdrawal.withdraw(
            runtime=runtime, participant_code=code, actor_id=None, override_reason=override_reason, via="cli"
        )
    except withdrawal.InvalidParticipantCode:
        _die(f"{code!r} is not a participant code (letters, digits, '-' or '_', up to 32)")
    except withdrawal.ParticipantNotFound:
        _die(f"no data for participant code {code}", code=3)
    except withdrawal.PastDeadline as exc:
        _die(f"the withdrawal deadline ({exc.deadline.isoformat()}) has passed; the data may already be in analysis. "
             "To withdraw anyway, pass --override-reason.", code=4)
    finally:
        runtime.close()
    if format == ReceiptFormat.pdf:
        data = printable.to_pdf(receipt)
    elif format == ReceiptFormat.json:
        data = json.dumps({**receipt.__dict__, "issued_at": receipt.issued_at.isoformat(),
                           "nothing_left": receipt.nothing_left}, indent=2).encode() + b"\n"
    else:
        data = printable.to_text(receipt).encode()
    if output:
        output.write_bytes(data)
        typer.echo(f"receipt {receipt.receipt_id} written to {output}")
    else:
        sys.stdout.write(data.decode())


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None, typer.Option(help="ID:HASH of an entry recorded elsewhere earlier: also detects truncation.")
    ] = None,
) -> None:
    """Walk the hash chain; report the first broken entry (exit 1) or the head to write down (exit 0)."""
    from service.audit import service as audit
    from service.core.db import make_engine, make_session_factory, session_scope

    pinned = None
    if anchor:
        event_id, _, digest = anchor.partition(":")
        if not event_id.isdigit() or len(digest) != 64:
            _die("--anchor must be ID:HASH (an entry id and its 64-hex-digit hash)")
        pinned = (int(event_id), digest.lower())
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            verdict = audit.verify(db_session=s, anchor=pinned)
    finally:
        engine.dispose()
    if verdict.ok:
        typer.echo(f"ok: {verdict.count} entries, chain intact; head {verdict.count}:{verdict.head_hash}")
        return
    typer.secho(
        f"BROKEN at entry {verdict.first_bad_id}: {verdict.reason} ({verdict.count} entries verified before it)",
        err=True, fg=typer.colors.RED,
    )
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    after_id: Annotated[int, typer.Option(min=0, help="Only entries after this id.")] = 0,
) -> None:
    """Write the audit log as JSON lines, oldest first (each with its hash, so the copy can be verified)."""
    from service.audit import service as audit
    from service.core.db import make_engine, make_session_factory, session_scope

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    n = 0
    try:
        with session_scope(make_session_factory(engine)) as s:
            for event in audit.iter_events(db_session=s, after_id=after_id):
                out.write(json.dumps(audit.as_dict(event), sort_keys=True) + "\n")
                n += 1
            # Exporting the log is itself recorded (who can see who did what matters to an ethics board).
            audit.record(db_session=s, action="audit.export", details={"entries": n, "after_id": after_id})
    finally:
        if output:
            out.close()
        engine.dispose()
    if output:
        typer.echo(f"{n} entries written to {output}")

