"""Text normalisation for WER: lower case, no punctuation, single spaces."""

from __future__ import annotations

import re


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())
