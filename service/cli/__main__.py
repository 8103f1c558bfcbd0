"""`python -m service.cli ...`: the same commands as the `anonscribe` console script."""

from service.cli import app

app()
