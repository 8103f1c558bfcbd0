"""Do known names given to Whisper as hotwords help it hear identifiers, and do they make it invent them?

Builds a synthetic interview (espeak-ng, two voices) whose answers contain names, a force and a place,
transcribes it with and without `hotwords`, and counts how many of the identifiers appear correctly. A
control recording with no names (the shared Azure clip) is transcribed with the same hotwords: any hint
name that shows up there is a hallucination.
Run from the repository root: python -m bench.name_hints [--models tiny.en base]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from bench.common import MODEL_CACHE, RESULTS, SHARED
from harness.synth import dialogue
from pipeline.asr import AsrOptions, transcribe
from pipeline.decode import decode_audio
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


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split())


def count_hits(text: str, names: list[str]) -> dict[str, bool]:
    t = words(text)
    return {n: all(part in t.split() for part in words(n).split()) for n in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--cache-dir", type=Path, default=MODEL_CACHE)
    parser.add_argument("--output", type=Path, default=RESULTS / "name_hints.json")
    args = parser.parse_args()
    interview, _ = dialogue(LINES)
    control = decode_audio(str(SHARED / "azure_en_general_test.wav"))
    hotwords = ", ".join(NAMES)
    rows = []
    for model in args.models:
        for hints in (None, hotwords):
            opts = AsrOptions(model_path=resolve_model(model, cache_dir=args.cache_dir), model_name=model,
                              cpu_threads=2, hotwords=hints)
            t = time.time()
            segs, _ = transcribe(interview, options=opts)
            elapsed = time.time() - t
            text = " ".join(s.text for s in segs)
            ctrl, _ = transcribe(control, options=opts)
            ctrl_text = " ".join(s.text for s in ctrl)
            hits = count_hits(text, NAMES)
            invented = [n for n, hit in count_hits(ctrl_text, NAMES).items() if hit] + [
                part for n in NAMES for part in words(n).split() if part in words(ctrl_text).split()
            ]
            rows.append({"model": model, "hotwords": bool(hints), "heard": sum(hits.values()), "of": len(NAMES),
                         "missed": [n for n, h in hits.items() if not h], "hallucinated_in_control": invented,
                         "seconds": round(elapsed, 2)})
    print(f"{'model':8} {'hotwords':8} {'heard':>6}  {'hallucinated (control)':24} missed")
    for r in rows:
        print(f"{r['model']:8} {('yes' if r['hotwords'] else 'no'):8} {r['heard']:>3}/{r['of']:<2}  "
              f"{(', '.join(r['hallucinated_in_control']) or 'none'):24} {', '.join(r['missed'])}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
