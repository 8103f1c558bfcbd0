"""`anonscribe participants ...`: a participant's withdrawal, with its receipt."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import die, one_off_runtime

app = typer.Typer(help="Participant withdrawal.", no_args_is_help=True)


class ReceiptFormat(StrEnum):
    json = "json"
    txt = "txt"
    pdf = "pdf"


@app.command("withdraw")
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
        die("--format pdf needs --output FILE")
    runtime = one_off_runtime()
    try:
        receipt = withdrawal.withdraw(
            runtime=runtime, participant_code=code, actor_id=None, override_reason=override_reason, via="cli"
        )
    except withdrawal.InvalidParticipantCode:
        die(f"{code!r} is not a participant code (letters, digits, '-' or '_', up to 32)")
    except withdrawal.ParticipantNotFound:
        die(f"no data for participant code {code}", code=3)
    except withdrawal.PastDeadline as exc:
        die(f"the withdrawal deadline ({exc.deadline.isoformat()}) has passed; the data may already be in analysis. "
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
