"""Police forces ("West Yorkshire Police", "the Met", "Notts"), departments and named operations."""

from __future__ import annotations

from functools import lru_cache

from pipeline.redact import gazetteers
from pipeline.redact.base import is_oov, sentence_initial, stop_words
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.text import DETERMINERS, Hit, Text, match_at, match_before, tuples


@lru_cache(maxsize=1)
def force_index() -> tuple[dict[tuple[str, ...], tuple[str, str]], int]:
    """Phrase -> (canonical force, "alias" | "area" | "nickname")."""
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    for force in forces.FORCES:
        for alias in force.aliases:
            if alias in ("the met", "met's", "the yard", "mps"):
                continue  # handled with case and context in force_names
            index[gazetteers.split_entry(alias)] = (force.name, "alias")
        for area in force.areas:
            key = gazetteers.split_entry(area)
            kind = "area" if key in gazetteers.places() else "nickname"  # "Notts", "Lincs": a force in police talk
            index.setdefault(key, (force.name, kind))
        index.setdefault(gazetteers.split_entry(force.name), (force.name, "alias"))
    return index, max(map(len, index))


_POLICE_AFTER = tuples(forces.POLICE_AFTER)
_POLICE_BEFORE = tuples(forces.POLICE_BEFORE)
_DEPARTMENTS = tuples(forces.DEPARTMENTS)

FORCE_WORDS = frozenset({"police", "constabulary", "police force", "police service"})

_OPERATION = frozenset({"operation", "op", "project"})


def force_names(t: Text, out: list[Hit]) -> None:
    index, longest = force_index()
    i = 0
    while i < t.n:
        w = t.w[i]
        # "the Met", "Met officers", "Met's": never "we met", "I met"; "the Met Office" is the weather.
        if w == "met" and t.w[i + 1 : i + 2] != ["office"]:
            prev = t.w[i - 1] if i else ""
            after = t.w[i + 1] if i + 1 < t.n else ""
            if prev == "the" or t.toks[i].possessive or (t.cap(i) and prev not in stop_words()) or (
                after in ("police", "officers", "officer", "cops") and prev not in stop_words()
            ):
                end = i + (2 if after == "police" else 1)
                out.append(t.hit(i, end, "FORCE", "gazetteer", 0.9))
                i = end
                continue
        if w == "yard" and i and t.w[i - 1] == "the" and t.upper_first(i):
            out.append(t.hit(i, i + 1, "FORCE", "gazetteer", 0.8))
        if t.toks[i].text == "MPS":
            out.append(t.hit(i, i + 1, "FORCE", "gazetteer", 0.8))
        matched = False
        for size in range(min(longest, t.n - i), 0, -1):
            key = tuple(t.w[i : i + size])
            if key not in index or not all(t.linked(k) for k in range(i + 1, i + size)):
                continue
            _, kind = index[key]
            end = i + size
            after = match_at(t.w, end, _POLICE_AFTER) if end < t.n and t.linked(end) else None
            before = match_before(t.w, i, _POLICE_BEFORE)
            if kind == "area" and not (after or before):
                break  # a place: the place layer takes it
            if after and " ".join(after) in FORCE_WORDS:
                end += len(after)
            out.append(Hit(t.toks[i].start, t.toks[end - 1].end, "FORCE", "gazetteer", 0.95 if kind != "area"
                           else 0.9))
            i = end
            matched = True
            break
        if not matched:
            i += 1


def operations(t: Text, out: list[Hit]) -> None:
    for i in range(t.n):
        if t.w[i] not in _OPERATION or i + 1 >= t.n or not t.linked(i + 1):
            continue
        j = i + 1
        w = t.w[j]
        capital_op = (t.upper_first(i) and not sentence_initial(t.text, t.toks, i)) or t.mode == "upper"
        if i and t.w[i - 1] in DETERMINERS and not capital_op and not t.upper_first(j):
            continue
        if t.mode == "mixed":
            if not t.toks[j].text[:1].isupper():
                continue
        elif w in stop_words() or w in _NOT_OPERATION or not w.isalpha():
            continue
        end = j + 1
        while end < t.n and end < j + 2 and t.linked(end) and (
            (t.mode == "mixed" and t.toks[end].text[:1].isupper()) or (t.mode != "mixed" and is_oov(t.w[end]))
        ):
            end += 1
        out.append(t.hit(i, end, "OPERATION", "gazetteer", 0.9))


_NOT_OPERATION = frozenset([
    "was", "is", "went", "got", "had", "has", "were", "started", "ran", "took", "ended", "failed", "room",
    "theatre", "itself", "worked", "works", "didn't", "did", "would", "will", "could", "should", "and", "but", "so",
    "on", "in", "at", "for", "to", "of", "with"
])


def departments(t: Text, out: list[Hit]) -> None:
    for i in range(t.n):
        dep = match_at(t.w, i, _DEPARTMENTS)
        if dep and all(t.linked(k) for k in range(i + 1, i + len(dep))):
            if dep == ("sapphire",) and t.mode == "mixed" and not t.upper_first(i):
                continue
            out.append(t.hit(i, i + len(dep), "ORGANISATION", "gazetteer", 0.85))
