"""`anonscribe audit ...`: verify and export the tamper-evident audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import die
from service.core.settings import get_settings

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
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
            die("--anchor must be ID:HASH (an entry id and its 64-hex-digit hash)")
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


@app.command("export")
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
