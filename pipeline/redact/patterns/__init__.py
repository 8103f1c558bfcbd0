"""Pattern layer: identifiers with a shape (phones, emails, references, dates, ages...), written or spoken.

Works case-insensitively; speech-to-text gives "oh seven seven double four ...", "jessica dot harper at hotmail dot
co dot uk", "the third of march twenty twenty one" as often as digits and symbols.
"""

from __future__ import annotations

from pipeline.redact.patterns.cued import cued_and_addresses
from pipeline.redact.patterns.speech import spoken_forms
from pipeline.redact.patterns.words import _Words
from pipeline.redact.patterns.written import COUNT_NOUNS, ID_CUES, Hit, written

__all__ = ["COUNT_NOUNS", "ID_CUES", "Hit", "find", "spoken", "written"]


def spoken(text: str) -> list[Hit]:
    ws = _Words(text)
    return spoken_forms(ws) + cued_and_addresses(ws)


def find(text: str) -> list[Hit]:
    """Every pattern hit in `text` (overlaps allowed; the caller merges)."""
    return written(text) + spoken(text)
