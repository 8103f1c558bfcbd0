"""Known names: heard right with hotwords, with phonetic respelling, or neither, and what each does to other speech.

Builds a synthetic interview (espeak-ng, two voices) whose answers contain names, a force and a place, and counts
how many of the identifiers appear correctly under three schemes:

* ``none``: plain decoding;
* ``hotwords``: the names as Whisper `hotwords` (a decoding bias on every segment);
* ``respell``: plain decoding, then `pipeline.redact.respell` (heard words that sound like a known name or a force
  area take its spelling; no decoding bias);
* ``listen``: ``respell``, then `pipeline.name_pass.second_listen` (segments still unsure decoded again with the
  names as hotwords; a name taken only where the plain hearing sounds loosely like it), then respell again: what
  the service runs (`run_pipeline(respell_names=True)`).

The collateral damage is measured on clips where none of the names is spoken, given the same names: the shared
Azure clip and the Common Voice clips whose sentences name nobody (bench.asr_quality.CV_NAMES lists those that do).
Per scheme: pooled WER there (jiwer on harness.textnorm-normalised text: all errors / all reference words), how many
of those clips read differently from plain decoding, and any name part that appears there (invented).

Measured 2026-12-06 (--cv 20: 21 control clips, 296 words; 2 cores shared with other jobs), names heard of 5 /
control WER / control clips changed: tiny.en none 0 / 6.42 % / 0, hotwords 4 / 7.43 % / 5, respell 3 / 6.42 % / 0,
listen 3 / 6.42 % / 0; base none 1 / 7.09 % / 0, hotwords 5 / 7.09 % / 4, respell 3 / 7.09 % / 0, listen 5 / 7.09 % / 0.
No scheme put a name part into a control clip. The second listen's re-decoding cost 72.5 s beside 46.8 s of plain
decoding (tiny.en) and 57.0 s beside 70.3 s (base) on these clips, whose sentences are full of rare words.

Run from the repository root: python -m bench.name_hints [--models tiny.en base] [--cv 100]
(all 100 Common Voice clips: about 10 minutes per model on 2 idle cores). ``asr_seconds`` of respell and listen
are their cost on top of plain decoding. Writes bench/results/name_hints.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import time
from pathlib import Path

import numpy as np

from bench.asr_quality import CV_NAMES
from bench.common import MODEL_CACHE, RESULTS, SHARED
from harness.synth import dialogue
from harness.textnorm import normalise
from pipeline.asr import AsrOptions, transcribe
from pipeline.decode import decode_audio
from pipeline.name_pass import second_listen
from pipeline.redact.respell import respell
from pipeline.types import Segment
from pipeline.weights import resolve_model

NAMES = ["Harriet Okonkwo", "Gareth Pryce", "Jaspreet Kaur", "Northamptonshire Police", "Kettering"]
LINES = [
    ("A", "Can you tell me who dealt with your report?"),
    ("B", "It was Detective Sergeant Jaspreet Kaur from Northamptonshire Police."),
    ("A", "And where did it happen?"),
    ("B", "In Kettering. My friend Harriet Okonkwo came with me to the station."),
    ("A", "Did anyone else help?"),
    ("B", "Yes, an officer called Gareth Pryce phoned me the next day."),
]
SCHEMES = ("none", "hotwords", "respell", "listen")


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split())


def count_hits(text: str, names: list[str]) -> dict[str, bool]:
    t = words(text)
    return {n: all(part in t.split() for part in words(n).split()) for n in names}


def controls(limit: int) -> list[tuple[str, np.ndarray, str]]:
    """(name, audio, reference) of clips in which none of NAMES is spoken."""
    out = [("azure_en_general_test", decode_audio(str(SHARED / "azure_en_general_test.wav")),
            (SHARED / "azure_en_general_test.txt").read_text(encoding="utf-8-sig"))]
    cv = [p for p in sorted((SHARED / "commonvoice").glob("*.flac")) if p.stem not in CV_NAMES][:limit]
    for path in cv:
        out.append((path.stem, decode_audio(str(path)), path.with_suffix(".txt").read_text(encoding="utf-8-sig")))
    return out


def _text(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments)


def _respelled(segments: list[Segment]) -> tuple[str, int]:
    copied = copy.deepcopy(segments)
    n = len(respell(copied, NAMES))
    return _text(copied), n


def _listened(audio: np.ndarray, segments: list[Segment], options: AsrOptions) -> tuple[str, int]:
    copied = copy.deepcopy(segments)
    n = len(respell(copied, NAMES))
    n += second_listen(audio, copied, NAMES, options=options)
    n += len(respell(copied, NAMES))
    return _text(copied), n


def run_model(model: str, interview: np.ndarray, clips: list[tuple[str, np.ndarray, str]],
              cache_dir: Path) -> list[dict]:
    import jiwer

    plain_opts = AsrOptions(model_path=resolve_model(model, cache_dir=cache_dir), model_name=model, cpu_threads=2)
    hint_opts = AsrOptions(model_path=plain_opts.model_path, model_name=model, cpu_threads=2,
                           hotwords=", ".join(NAMES))
    texts: dict[str, dict[str, str]] = {s: {} for s in SCHEMES}
    changes: dict[str, int] = {s: 0 for s in SCHEMES}
    seconds: dict[str, float] = {s: 0.0 for s in SCHEMES}
    for name, audio in [("interview", interview), *((c[0], c[1]) for c in clips)]:
        t = time.perf_counter()
        plain = transcribe(audio, options=plain_opts)[0]
        seconds["none"] += time.perf_counter() - t
        t = time.perf_counter()
        texts["respell"][name], n = _respelled(plain)
        seconds["respell"] += time.perf_counter() - t
        changes["respell"] += n if name != "interview" else 0
        texts["none"][name] = _text(plain)
        t = time.perf_counter()
        texts["listen"][name], n = _listened(audio, plain, plain_opts)
        seconds["listen"] += time.perf_counter() - t
        changes["listen"] += n if name != "interview" else 0
        t = time.perf_counter()
        texts["hotwords"][name] = _text(transcribe(audio, options=hint_opts)[0])
        seconds["hotwords"] += time.perf_counter() - t
    rows = []
    parts = {p for n in NAMES for p in words(n).split()}
    for scheme in SCHEMES:
        hits = count_hits(texts[scheme]["interview"], NAMES)
        errors = ref_words = 0
        differ = []
        invented = []
        for name, _, ref in clips:
            hyp, ref_n = normalise(texts[scheme][name]), normalise(ref)
            out = jiwer.process_words(ref_n, hyp) if hyp else None
            ref_words += len(ref_n.split())
            errors += (out.substitutions + out.deletions + out.insertions) if out else len(ref_n.split())
            if hyp != normalise(texts["none"][name]):
                differ.append(name)
            invented += [p for p in parts if p in hyp.split() and p not in ref_n.split()]
        rows.append({"model": model, "scheme": scheme, "heard": sum(hits.values()), "of": len(NAMES),
                     "missed": [n for n, h in hits.items() if not h], "control_clips": len(clips),
                     "control_words": ref_words, "control_wer": round(errors / ref_words, 4),
                     "control_clips_changed": differ, "invented": sorted(set(invented)),
                     "respellings_on_control": changes[scheme], "asr_seconds": round(seconds[scheme], 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--cv", type=int, default=100, help="Common Voice clips without names to use (at most)")
    parser.add_argument("--cache-dir", type=Path, default=MODEL_CACHE)
    parser.add_argument("--output", type=Path, default=RESULTS / "name_hints.json")
    args = parser.parse_args()
    interview, _ = dialogue(LINES)
    clips = controls(args.cv)
    rows = []
    for model in args.models:
        rows += run_model(model, interview, clips, args.cache_dir)
    words_total = rows[0]["control_words"] if rows else 0
    print(f"control: {len(clips)} clips without the names, {words_total} reference words")
    print(f"{'model':8} {'scheme':9} {'heard':>6}  {'control WER':>11}  {'clips changed':>13}  invented  missed")
    for r in rows:
        print(f"{r['model']:8} {r['scheme']:9} {r['heard']:>3}/{r['of']:<2}  {r['control_wer']:>10.2%}  "
              f"{len(r['control_clips_changed']):>13}  {(', '.join(r['invented']) or 'none'):8}  "
              f"{', '.join(r['missed'])}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
