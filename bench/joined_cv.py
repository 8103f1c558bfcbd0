"""WER on the 100 Common Voice clips joined into one file, through `anonscribe transcribe` and per ASR setting.

Why this file: the clips one by one (bench/asr_quality.py) hide what goes wrong in a long recording: batched
decoding of 30 s windows dropping a sentence, recovered speech out of order, cues too long (issue 15 measured
22.7 % WER through the CLI here against 12.9 % for base on the clips one by one). The file is built by
`harness.joined_cv` into a temp dir (1 s of silence between clips, 10.7 minutes).

What is measured:
* cli: `python -m service.cli transcribe FILE --format txt` with the deployment's defaults (diarisation on, as a
  user runs it) in a subprocess; wall time includes model loading. `--cli-model` adds the CLI with other models.
* settings: `pipeline.asr.transcribe` with the options `workers.options.pipeline_options` builds (diarisation off,
  so ASR has all `--threads`) for each model x batched / sequential x second pass off / on, in this one process
  one after the other (model loads excluded), so time ratios are side by side. For each: pooled WER, ASR seconds
  and RTF, the time relative to the same model's first pass alone, sentences with no transcribed word, the longest
  segment (one cue in the WebVTT/SRT exports), and whether segments are strictly ordered without overlap.
* `--rules`: the second pass again with each keep-rule of `pipeline.asr.RECHECK_RULE`.

Run from the repo root: `nice python -m bench.joined_cv` (about 15 minutes on 2 idle cores) or `--every 4` for a
quarter of the clips. Writes bench/results/joined_cv.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import MODEL_CACHE, RESULTS, ROOT, SHARED
from harness.joined_cv import JoinedCv, build_joined_cv, txt_words, untranscribed
from harness.textnorm import normalise

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def wer(reference: str, hypothesis: str) -> dict[str, Any]:
    import jiwer

    out = jiwer.process_words(normalise(reference), normalise(hypothesis))
    n = out.hits + out.substitutions + out.deletions
    errors = out.substitutions + out.deletions + out.insertions
    return {"wer": round(errors / n, 4), "sub": out.substitutions, "del": out.deletions, "ins": out.insertions,
            "ref_words": n}


def run_cli(joined: JoinedCv, work: Path, *, model: str | None) -> dict[str, Any]:
    env = {**os.environ, "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE), "ANONSCRIBE_DATA_DIR": str(work / "d"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "service.cli", "transcribe", str(joined.path), "--format", "txt"]
    if model:
        cmd += ["--model", model]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"CLI failed:\n{proc.stderr[-3000:]}")
    return {"label": f"cli defaults{' --model ' + model if model else ''}", "wall_s": round(wall, 1),
            "rtf": round(wall / joined.duration, 3), **wer(joined.reference, txt_words(proc.stdout))}


def run_setting(joined: JoinedCv, *, model: str, batched: bool, second_pass: bool, threads: int,
                rule: str | None = None) -> dict[str, Any]:
    import pipeline.asr as asr_mod
    from pipeline.decode import decode_audio
    from service.core.settings import Settings
    from workers.options import pipeline_options

    settings = Settings(whisper_model=model, batched=batched, second_pass=second_pass, diarise=False,
                        cpu_threads=threads, model_cache_dir=MODEL_CACHE)
    options = pipeline_options(settings).asr
    asr_mod.load_model(options)
    audio = decode_audio(str(joined.path))
    saved = asr_mod.RECHECK_RULE
    if rule:
        asr_mod.RECHECK_RULE = rule
    try:
        t = time.perf_counter()
        segments, _ = asr_mod.transcribe(audio, options=options)
        asr_s = time.perf_counter() - t
    finally:
        asr_mod.RECHECK_RULE = saved
    ordered = all(a.start < b.start and a.end <= b.start for a, b in itertools.pairwise(segments))
    lost = untranscribed(joined.sentences, [(w.start, w.end) for s in segments for w in s.words])
    label = f"{model} {'batched' if batched else 'sequential'}{' +2nd pass' if second_pass else ''}"
    return {"label": label + (f" ({rule})" if rule else ""), "model": model, "batched": batched,
            "second_pass": second_pass, "rule": rule or (saved if second_pass else None),
            "asr_s": round(asr_s, 1), "rtf": round(asr_s / joined.duration, 3),
            "rechecked": sum("second_pass" in s.flags for s in segments),
            "lost": [s.name for s in lost], "segments": len(segments), "ordered": ordered,
            "longest_s": round(max(s.end - s.start for s in segments), 2),
            **wer(joined.reference, " ".join(s.text for s in segments))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=["tiny.en", "base"], help="none: the CLI only")
    parser.add_argument("--every", type=int, default=1, help="every n-th clip only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI runs")
    parser.add_argument("--cli-model", nargs="*", default=[], help="also run the CLI with these models")
    parser.add_argument("--no-second-pass", action="store_true")
    parser.add_argument("--rules", nargs="*", default=[], help="second-pass keep rules to compare, e.g. score")
    parser.add_argument("--output", type=Path, default=RESULTS / "joined_cv.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="joined_cv_") as tmp:
        joined = build_joined_cv(SHARED, Path(tmp), every=args.every)
        print(f"{len(joined.sentences)} sentences, {joined.duration / 60:.1f} min, {args.threads} threads; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        rows: list[dict[str, Any]] = []
        if not args.no_cli:
            for model in [None, *args.cli_model]:
                rows.append(run_cli(joined, Path(tmp), model=model))
                print(f"  {rows[-1]['label']}: WER {100 * rows[-1]['wer']:.1f} %, {rows[-1]['wall_s']} s", flush=True)
        for model in args.models:
            for batched in (True, False):
                passes = [(False, None)] + ([] if args.no_second_pass else [(True, None)])
                passes += [(True, rule) for rule in args.rules]
                for second_pass, rule in passes:
                    rows.append(run_setting(joined, model=model, batched=batched, second_pass=second_pass,
                                            threads=args.threads, rule=rule))
                    print(f"  {rows[-1]['label']}: WER {100 * rows[-1]['wer']:.1f} %, {rows[-1]['asr_s']} s",
                          flush=True)
    first = {(r.get("model"), r.get("batched")): r["asr_s"] for r in rows if "asr_s" in r and not r["second_pass"]}
    print(f"\n{'configuration':<40} {'WER %':>6} {'sub':>4} {'del':>4} {'ins':>4} {'time s':>7} {'RTF':>6} "
          f"{'x 1st':>6} {'rechk':>5} {'lost':>4} {'longest':>7} ordered")
    for r in rows:
        t = r.get("asr_s", r.get("wall_s"))
        ratio = f"{t / first[(r['model'], r['batched'])]:6.2f}" if "asr_s" in r else "     -"
        print(f"{r['label']:<40} {100 * r['wer']:6.1f} {r['sub']:>4} {r['del']:>4} {r['ins']:>4} {t:7.1f} "
              f"{r['rtf']:6.3f} {ratio} {r.get('rechecked', '-'):>5} {len(r['lost']) if 'lost' in r else '-':>4} "
              f"{r.get('longest_s', '-'):>7} {r.get('ordered', '-')}")
    print(f"(x 1st: time over the same model and mode without the second pass; load average now "
          f"{os.getloadavg()[0]:.2f})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"sentences": len(joined.sentences), "duration_s": joined.duration,
                                       "threads": args.threads, "rows": rows}, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
