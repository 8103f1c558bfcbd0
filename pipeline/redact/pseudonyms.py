"""Study-wide pseudonyms: the same entity gets the same bracketed tag in every recording of a study.

The mapping (entity key -> tag) identifies people, so the service stores it encrypted; this module only computes it.
Keys are "kind:normalised text" ("person:mark bellamy", "force:metropolitan police service"); a person's full name
also registers its first name and surname, so "Mark", "Mark Bellamy", "Bellamy" and "MARK BELLAMY's" share one tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from pipeline.redact import gazetteers
from pipeline.redact.base import RANK_WORDS, TITLE_WORDS, Span, stop_words, tokenize
from pipeline.redact.gazetteers import forces

# Numbered tags by label; letters for forces and operations (there are few, and letters read as codes).
TAG_KIND = {"PERSON": "Person", "OFFICER": "Officer", "FORCE": "Force", "LOCATION": "Location",
            "ORGANISATION": "Organisation", "OPERATION": "Operation"}
LETTERED = frozenset({"Force", "Operation"})
UNTYPED = {"DATE": "Date", "TIME": "Time", "PHONE": "Phone", "EMAIL": "Email", "URL": "URL", "HANDLE": "Handle",
           "POSTCODE": "Postcode", "ID": "ID", "VEHICLE": "Vehicle", "AGE": "Age", "ADDRESS": "Address",
           "GROUP": "Group"}
_TAG = re.compile(r"^\[(\w+) (\d+|[A-Z]+)\]$")
_KEY_PREFIX = {"PERSON": "person", "OFFICER": "person", "FORCE": "force", "LOCATION": "location",
               "ORGANISATION": "organisation", "OPERATION": "operation"}


@lru_cache(maxsize=1)
def _force_names() -> dict[tuple[str, ...], str]:
    index: dict[tuple[str, ...], str] = {}
    for force in forces.FORCES:
        for phrase in (force.name, *force.aliases, *force.areas):
            index[gazetteers.split_entry(phrase.removeprefix("the "))] = force.name.lower()
    index[("met",)] = "metropolitan police service"
    index[("yard",)] = "metropolitan police service"
    return index


def normalise(text: str) -> list[str]:
    """Lower-case words without possessives, punctuation or curly quotes."""
    return [t.lower for t in tokenize(text)]


def person_words(text: str) -> list[str]:
    words = normalise(text)
    while words and (words[0] in RANK_WORDS or words[0] in TITLE_WORDS or words[0] in ("the", "my")):
        words = words[1:]
    return words


def entity_key(label: str, text: str) -> str:
    prefix = _KEY_PREFIX.get(label, label.lower())
    if prefix == "person":
        return "person:" + " ".join(person_words(text))
    words = normalise(text)
    if words and words[0] == "the":
        words = words[1:]
    if prefix == "force":
        while words and words[-1] in ("police", "constabulary", "force", "service", "officers", "cops"):
            if tuple(words) in _force_names():
                break
            words = words[:-1]
        canonical = _force_names().get(tuple(words))
        if canonical:
            return "force:" + canonical
    if prefix == "operation" and words and words[0] in ("operation", "op", "project"):
        words = words[1:]
    return f"{prefix}:" + " ".join(words)


def _letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _number(code: str) -> int:
    if code.isdigit():
        return int(code)
    n = 0
    for c in code:
        n = n * 26 + (ord(c) - 64)
    return n


class Pseudonymiser:
    """Consistent bracketed tags: "[Person 3]", "[Officer 2]", "[Force B]", "[Location 5]", "[Organisation 1]",
    "[Operation A]", and untyped "[Date]", "[Phone]", ... for identifiers that need no thread through the study."""

    def __init__(self, existing: Mapping[str, str] | None = None) -> None:
        self._map: dict[str, str] = dict(existing or {})
        self._count: dict[str, int] = {}
        for tag in self._map.values():
            m = _TAG.match(tag)
            if m:
                self._count[m.group(1)] = max(self._count.get(m.group(1), 0), _number(m.group(2)))

    def _new(self, kind: str) -> str:
        self._count[kind] = self._count.get(kind, 0) + 1
        n = self._count[kind]
        return f"[{kind} {_letters(n) if kind in LETTERED else n}]"

    def _surnames_of(self, tag: str) -> set[str]:
        return {k.split()[-1] for k, v in self._map.items() if v == tag and k.startswith("person:") and " " in k}

    def tag(self, span: Span) -> str:
        if span.label in UNTYPED or span.label not in TAG_KIND:
            return f"[{UNTYPED.get(span.label, span.label.title())}]"
        key = entity_key(span.label, span.text)
        if key.endswith(":"):
            return f"[{TAG_KIND[span.label]}]"
        if key in self._map:
            return self._map[key]
        kind = TAG_KIND[span.label]
        if not key.startswith("person:"):
            self._map[key] = self._new(kind)
            return self._map[key]
        words = key.removeprefix("person:").split()
        tag = None
        if len(words) > 1:
            first, last = words[0], words[-1]
            tag = self._map.get(f"person:{last}")  # a known surname is the stronger link
            by_first = self._map.get(f"person:{first}")
            if tag is None and by_first is not None and not (self._surnames_of(by_first) - {last}):
                tag = by_first  # "Mark" seen alone before "Mark Bellamy"; not if that Mark has another surname
        tag = tag or self._new(kind)
        self._map[key] = tag
        for w in words if len(words) > 1 else ():
            if w not in stop_words() and len(w) > 1:
                self._map.setdefault(f"person:{w}", tag)
        return tag

    def mapping(self) -> dict[str, str]:
        return dict(self._map)


TOMBSTONE_PREFIX = "retired:"


def is_tombstone(key: str) -> bool:
    return key.startswith(TOMBSTONE_PREFIX)


def tombstones(mapping: Mapping[str, str]) -> dict[str, str]:
    """The highest tag of each kind, under keys no entity can have: a map reduced to these names nobody, yet a
    Pseudonymiser built on it keeps counting where the old one stopped (tags are never reused for someone else)."""
    best: dict[str, tuple[int, str]] = {}
    for tag in mapping.values():
        m = _TAG.match(tag)
        if m:
            n = _number(m.group(2))
            if n > best.get(m.group(1), (0, ""))[0]:
                best[m.group(1)] = (n, tag)
    return {f"{TOMBSTONE_PREFIX}{kind}": tag for kind, (_, tag) in sorted(best.items())}
