"""`anonscribe retention ...`: the retention sweeps, run now."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from service.cli.common import one_off_runtime

app = typer.Typer(help="Data retention sweeps.", no_args_is_help=True)


@app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")] = False,
) -> None:
    """Run every retention sweep now (what the scheduler does periodically); print what went as JSON."""
    from service.retention import service as retention

    runtime = one_off_runtime()
    try:
        report = retention.run(runtime=runtime, dry_run=dry_run)
    finally:
        runtime.close()
    typer.echo(json.dumps(report.as_dict(), indent=2))
