"""A second listen for names, only where the first pass was unsure, and only if the audio agrees.

After plain decoding and phonetic respelling (pipeline.redact.respell), a segment where a run of words that holds a
word ordinary English does not use, or one Whisper was unsure of, sounds loosely like a known name is decoded again
with the known names as hotwords. The
hinted reading replaces a run of heard words only where it put a known name (or part of one) that the first pass did
not have, and only if what the first pass heard in that time sounds loosely like it (`LOOSE_CODE`, `LOOSE_SPELLING`):
the hint proposes, the unbiased hearing must not contradict it. Everything else in the segment stays as first heard,
so a hotword cannot rewrite ordinary words ("Neither did I" -> "Needs a design") anywhere.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np

from pipeline.asr import AsrOptions, transcribe
from pipeline.redact.base import is_common
from pipeline.redact.respell import Target, _code, _letters, _similarity, targets
from pipeline.types import SAMPLE_RATE, Segment, Word

# Looser than respelling's own thresholds: here the hinted decoder already heard the name in this audio.
LOOSE_CODE = 0.7
LOOSE_SPELLING = 0.6
UNSURE_PROBABILITY = 0.5
PAD_S = 0.3


def unsure(seg: Segment) -> bool:
    return any(
        (w.probability < UNSURE_PROBABILITY or (len(_letters(w.text)) >= 3 and not is_common(_letters(w.text))))
        for w in seg.words
    )


def near_a_name(seg: Segment, options: Sequence[Target]) -> bool:
    """Some run of heard words with an unsure word in it sounds loosely like a name: only then is a second listen
    worth its cost (most unsure segments of an interview have nothing to do with the names)."""
    words = seg.words
    for i in range(len(words)):
        for target in options:
            k = len(target.spelling)
            for size in {max(1, k - 1), k, k + 1}:
                window = words[i:i + size]
                if len(window) < size or not unsure(dataclasses.replace(seg, words=list(window))):
                    continue
                heard = "".join(_letters(w.text) for w in window)
                if heard and (_similarity(_code(heard), target.code) >= LOOSE_CODE
                              and _similarity(heard, target.letters) >= LOOSE_SPELLING):
                    return True
    return False


def _name_runs(words: Sequence[Word], names: set[str]) -> list[tuple[int, int]]:
    """(i, j) runs of hinted words that are known name parts."""
    runs, i = [], 0
    while i < len(words):
        if _letters(words[i].text) in names:
            j = i
            while j + 1 < len(words) and _letters(words[j + 1].text) in names:
                j += 1
            runs.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return runs


def second_listen(audio: np.ndarray, segments: list[Segment], known_names: Sequence[str], *,
                  options: AsrOptions) -> int:
    """Rewrite, in place, names the hinted decoder heard in unsure segments; returns how many runs changed."""
    wanted = targets(known_names, forces=False)
    parts = {t.letters for t in wanted if len(t.spelling) == 1}
    if not parts:
        return 0
    hinted_opts = dataclasses.replace(options, hotwords=", ".join(known_names), batched=False)
    changed = 0
    for seg in segments:
        if not seg.words or not unsure(seg) or not near_a_name(seg, wanted):
            continue
        heard_parts = {_letters(w.text) for w in seg.words}
        lo = max(0, int((seg.start - PAD_S) * SAMPLE_RATE))
        hi = min(len(audio), int((seg.end + PAD_S) * SAMPLE_RATE))
        hinted, _ = transcribe(np.ascontiguousarray(audio[lo:hi]), options=hinted_opts)
        offset = lo / SAMPLE_RATE
        hinted_words = [dataclasses.replace(w, start=w.start + offset, end=w.end + offset)
                        for s in hinted for w in s.words]
        for i, j in reversed(_name_runs(hinted_words, parts)):
            run = hinted_words[i:j]
            if all(_letters(w.text) in heard_parts for w in run):
                continue  # the first pass had these already
            start, end = run[0].start, run[-1].end
            # The first-pass words the name would replace: those centred in its time, no more than one extra, and
            # among them one the first pass was unsure of (where a name went unheard, not where words were clear).
            mid = [k for k, w in enumerate(seg.words) if start <= (w.start + w.end) / 2 <= end]
            if not mid or len(mid) > len(run) + 1 or not unsure(dataclasses.replace(seg, words=[
                    seg.words[k] for k in mid])):
                continue
            first, last = mid[0], mid[-1]
            heard = "".join(_letters(w.text) for w in seg.words[first:last + 1])
            said = "".join(_letters(w.text) for w in run)
            if (_similarity(_code(heard), _code(said)) < LOOSE_CODE
                    or _similarity(heard, said) < LOOSE_SPELLING):
                continue  # the unbiased hearing disagrees: a hotword must not put a name there
            lead = re.match(r"^\W*", seg.words[first].text).group(0)  # type: ignore[union-attr]
            tail = re.search(r"\W*$", seg.words[last].text).group(0)  # type: ignore[union-attr]
            text = lead + " ".join(_letters_spelled(w.text) for w in run) + tail
            old = "".join(w.text for w in seg.words[first:last + 1]).strip()
            new_word = Word(start=seg.words[first].start, end=seg.words[last].end, text=text,
                            probability=min(w.probability for w in run), speaker=seg.words[first].speaker,
                            overlap=any(w.overlap for w in seg.words[first:last + 1]))
            seg.words = [*seg.words[:first], new_word, *seg.words[last + 1:]]
            seg.text = seg.text.replace(old, text.strip(), 1) if old in seg.text else "".join(
                w.text for w in seg.words).strip()
            changed += 1
    return changed


def _letters_spelled(text: str) -> str:
    return re.sub(r"^\W+|\W+$", "", text)
