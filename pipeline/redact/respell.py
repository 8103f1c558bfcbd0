"""Names heard right without biasing the decoder: heard words that sound like a known name take its spelling.

Whisper hotwords bias every decoding step towards the names, on clips where nobody says them too ("Neither did I"
became "Needs a design"). Here the decoder runs unbiased; afterwards each short run of heard words is compared with
the recording's known names (and each part of them) and the force gazetteer's area words, by Metaphone code and by
spelling (jellyfish: Metaphone, Jaro-Winkler). A close enough run is rewritten to the name's spelling, so the
redaction layers, which already look for the known names and the forces, find and redact it.

What keeps ordinary speech intact (bench/name_hints.py measures it on clips with no names in them):
- the run must hold at least one word ordinary English does not use (`base.is_common`), or a part of the very name
  it becomes: "price" alone never becomes "Pryce", "Gareth Price" does (the given name anchors it);
- a run is at most one word longer or shorter than the name ("North Emptonshire" -> "Northamptonshire");
- both the phonetic codes and the spellings must be close (MIN_CODE, MIN_SPELLING), and the run about as long as
  the name;
- words already spelled as a name are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pipeline.redact.base import is_common, stop_words
from pipeline.types import Segment, Word

# Chosen on what tiny.en and base hear for the names of bench/name_hints.py (all restored at these values) against
# the Common Voice and Azure clips with no names (no word changed); see the bench's output in the module docstring.
MIN_CODE = 0.85
MIN_SPELLING = 0.78
# A name part shorter than this is too easily heard in ordinary speech ("Li", "Ann") to be restored from sound.
MIN_LETTERS = 4
# Force area words shorter than this ("Kent", "Avon") are ordinary place talk, not worth a guess.
MIN_AREA_LETTERS = 7

_LETTERS = re.compile(r"[^a-z]+")
_CORE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


@dataclass(frozen=True)
class Target:
    spelling: tuple[str, ...]  # as written: ("Gareth", "Pryce")
    letters: str  # "garethpryce"
    code: str


@dataclass(frozen=True)
class Respelling:
    segment: int
    heard: str
    name: str
    code_similarity: float
    spelling_similarity: float


def _letters(text: str) -> str:
    return _LETTERS.sub("", text.lower())


def _code(letters: str) -> str:
    import jellyfish

    return str(jellyfish.metaphone(letters))


def _similarity(a: str, b: str) -> float:
    import jellyfish

    return float(jellyfish.jaro_winkler_similarity(a, b))


def _target(parts: Sequence[str]) -> Target | None:
    letters = _letters("".join(parts))
    if len(letters) < MIN_LETTERS:
        return None
    return Target(tuple(parts), letters, _code(letters))


@lru_cache(maxsize=1)
def force_targets() -> tuple[Target, ...]:
    """The force gazetteer's area words ("Northamptonshire"), spelled as in the force's name."""
    from pipeline.redact.gazetteers.forces import FORCES

    out = []
    for force in FORCES:
        for area in force.areas:
            if len(_letters(area)) < MIN_AREA_LETTERS or is_common(area):
                continue
            spelled = re.search(re.escape(area), force.name, re.I)
            words = (spelled.group(0) if spelled else area.title()).split()
            target = _target(words)
            if target:
                out.append(target)
    return tuple(dict.fromkeys(out))


def targets(known_names: Iterable[str], *, forces: bool = True) -> list[Target]:
    """Every known name whole, and each of its parts that could be said alone; then the force areas."""
    out: list[Target] = []
    for name in known_names:
        parts = [p for p in re.split(r"\s+", name.strip()) if p]
        if not parts:
            continue
        candidates = [parts] if len(parts) > 1 else []
        candidates += [[p] for p in parts if p.lower() not in stop_words()]
        for cand in candidates:
            target = _target(cand)
            if target and target not in out:
                out.append(target)
    if forces:
        out += [t for t in force_targets() if t not in out]
    return out


def _exact(window: Sequence[Word], options: Sequence[Target]) -> Target | None:
    heard = "".join(_letters(w.text) for w in window)
    return next((t for t in options if heard == t.letters), None)


def _best(window: Sequence[Word], options: Sequence[Target]) -> tuple[Target, float, float] | None:
    return sounds_like([w.text for w in window], options)


def sounds_like(window: Sequence[str], options: Sequence[Target], *, cued: bool = False
                ) -> tuple[Target, float, float] | None:
    """The target these heard words sound like, with the code and spelling similarities. cued: the words around say
    a name of this kind is meant ("... police"), so ordinary words alone may be it ("mercy side" -> Merseyside)."""
    heard_words = [_letters(w) for w in window]
    if not all(heard_words):
        return None  # a run across a number or bare punctuation
    heard = "".join(heard_words)
    code = _code(heard)
    uncommon = cued or any(not is_common(w) for w in heard_words)
    best = None
    for target in options:
        if not len(target.spelling) - 1 <= len(window) <= len(target.spelling) + 1:
            continue
        # Ordinary words alone never turn into a name; a known part of this very name anchors the rest.
        anchored = len(target.spelling) > 1 and any(w in {_letters(p) for p in target.spelling} for w in heard_words)
        if not (uncommon or anchored) or not 0.75 <= len(heard) / len(target.letters) <= 1.34:
            continue
        if target.letters in heard:
            continue  # the name is there already, spelled right: the extra words are not part of it
        code_sim = _similarity(code, target.code)
        spell_sim = _similarity(heard, target.letters)
        if code_sim >= MIN_CODE and spell_sim >= MIN_SPELLING and (
            best is None or (code_sim + spell_sim) > best[1] + best[2]
        ):
            best = (target, code_sim, spell_sim)
    return best


def _replace(window: Sequence[Word], target: Target) -> list[Word]:
    first, last = window[0], window[-1]
    lead = _CORE.match(first.text).group(1)  # type: ignore[union-attr]
    tail = _CORE.match(last.text).group(3)  # type: ignore[union-attr]
    if len(window) == len(target.spelling):
        return [Word(start=w.start, end=w.end, text=(lead if i == 0 else _CORE.match(w.text).group(1))  # type: ignore[union-attr]
                     + part + (tail if i == len(window) - 1 else ""), probability=w.probability,
                     speaker=w.speaker, overlap=w.overlap)
                for i, (w, part) in enumerate(zip(window, target.spelling, strict=True))]
    return [Word(start=first.start, end=last.end, text=lead + " ".join(target.spelling) + tail,
                 probability=min(w.probability for w in window), speaker=first.speaker,
                 overlap=any(w.overlap for w in window))]


def respell(segments: Sequence[Segment], known_names: Iterable[str], *, forces: bool = True) -> list[Respelling]:
    """Rewrite, in place, runs of heard words that sound like a known name (or a force area) to its spelling; the
    segment's text follows its words. Returns what changed (for counts: never log the words)."""
    options = targets(known_names, forces=forces)
    if not options:
        return []
    longest = max(len(t.spelling) for t in options) + 1
    changes: list[Respelling] = []
    for seg in segments:
        words = list(seg.words)
        i, out, changed = 0, [], False
        while i < len(words):
            span = range(min(longest, len(words) - i), 0, -1)
            # Already spelled as a name: kept, unless a longer name heard wrongly starts with it ("Gareth Price").
            exact = next(((k, t) for k in span if (t := _exact(words[i:i + k], options))), None)
            hit = None
            for k in span:
                found = _best(words[i:i + k], options)
                if found and (hit is None or sum(found[1:]) > sum(hit[1][1:])):
                    hit = (k, found)
            if exact and (hit is None or len(hit[1][0].spelling) <= len(exact[1].spelling)):
                out += words[i:i + exact[0]]
                i += exact[0]
                continue
            if hit is None:
                out.append(words[i])
                i += 1
                continue
            k, (target, code_sim, spell_sim) = hit
            window = words[i:i + k]
            heard = "".join(w.text for w in window).strip()
            out += _replace(window, target)
            changes.append(Respelling(seg.id, heard, " ".join(target.spelling), round(code_sim, 3),
                                      round(spell_sim, 3)))
            changed = True
            i += k
        if changed:
            old = "".join(w.text for w in seg.words).strip()
            new = "".join(w.text for w in out).strip()
            seg.text = seg.text.replace(old, new, 1) if old and old in seg.text else new
            seg.words = out
    return changes
