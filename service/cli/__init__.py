"""`anonscribe` command line: serve, worker, scheduler, migrate, transcribe, redact, and the users, keys,
retention, participants and audit groups.

One module per command group; this package is a composition root (`server` and `offline` wire the worker side).
Every command imports what it runs inside its function, so `anonscribe --help` stays fast.
"""

from __future__ import annotations

import os

import typer

from service.cli import audit, keys, offline, participants, retention, server, users
from service.core.private import restrict_umask

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
# ONNX Runtime telemetry off before anything can import it (see pipeline/__init__.py).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

app = typer.Typer(
    help="Speaker-labelled, anonymised transcripts of research interviews.", no_args_is_help=True
)
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(retention.app, name="retention")
app.add_typer(participants.app, name="participants")
app.add_typer(audit.app, name="audit")
for command in (server.serve, server.worker, server.scheduler, server.migrate, offline.transcribe, offline.redact):
    app.command()(command)


@app.callback()
def _owner_only() -> None:
    """Speaker-labelled, anonymised transcripts of research interviews."""
    # Before any command makes a file: the data dir's database, keys, blobs and schedule are owner-only.
    restrict_umask()
