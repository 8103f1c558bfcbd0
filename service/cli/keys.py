"""`anonscribe keys ...`: the master key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import die
from service.core.settings import get_settings

app = typer.Typer(help="Manage the master key.", no_args_is_help=True)


@app.command("init")
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
        die(f"{target} exists; refusing to overwrite a master key (everything it protects would be lost)")
    MasterKey.generate(target)
    typer.echo(json.dumps({"master_key_file": str(target), "mode": "0600"}))
