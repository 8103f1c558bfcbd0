"""WER on the 100 Common Voice clips joined into one file, through `anonscribe transcribe` and per ASR setting.

Why this file: the clips one by one (bench/asr_quality.py) hide what goes wrong in a long recording: batched
decoding of 30 s windows dropping a sentence, recovered speech out of order, cues too long (issue 15 measured
22.7 % WER through the CLI here against 12.9 % for base on the clips one by one). The file is built by
`harness.joined_cv` into a temp dir (1 s of silence between clips, 10.7 minutes).

What is measured:
* cli: `python -m service.cli transcribe FILE --format txt` with the deployment's defaults (diarisation on, as a
  user runs it) in a subprocess; wall time includes model loading. `--cli-model` adds the CLI with other models.
* settings: `pipeline.asr.transcribe` with the options `workers.options.pipeline_options` builds (diarisation off,
  so ASR has all `--threads`) for each model x the first-pass settings of SETTINGS (batched / sequential; windows of
  VAD speech glued end to end as before, or of the recording cut at pauses; batched text only or with timestamp
  tokens; recovery spans retried alone or not) x second pass off / on (`--second-pass`), in this one process one
  after the other (model loads excluded), so time ratios are side by side. For each: pooled WER, ASR wall and CPU
  seconds, RTF, CPU time relative to the model's first row, sentences with no transcribed word, the longest segment
  (one cue in the WebVTT/SRT exports), and whether segments are strictly ordered without overlap.
* `--rules`: the second pass again with each keep-rule of `pipeline.asr.RECHECK_RULE`.

Run from the repo root: `nice python -m bench.joined_cv --models base` (about 15 minutes on 2 cores) or `--every 4`
for a quarter of the clips. Writes bench/results/joined_cv.json.
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


# The first-pass settings compared, per model: (label, batched, windows, timestamps, retry alone). "before" is the
# path up to issue 15 item 3: VAD's speech glued into 30 s windows, batched text only, skipped spans not retried.
SETTINGS: dict[str, tuple[str, bool, str, bool, bool]] = {
    "batched-before": ("batched, glued speech, text only, before", True, "speech", False, False),
    "batched-retry": ("batched, glued speech, text only", True, "speech", False, True),
    "batched-ts": ("batched, glued speech, timestamps", True, "speech", True, True),
    "batched-pauses": ("batched, pause windows, text only", True, "pauses", False, True),
    "batched-pauses-ts": ("batched, pause windows, timestamps", True, "pauses", True, True),
    "sequential-before": ("sequential, glued speech, before", False, "speech", True, False),
    "sequential-pauses": ("sequential, pause windows", False, "pauses", True, True),
}


def run_setting(joined: JoinedCv, *, model: str, setting: str, second_pass: bool, threads: int,
                rule: str | None = None) -> dict[str, Any]:
    import dataclasses

    import pipeline.asr as asr_mod
    from pipeline.decode import decode_audio
    from service.core.settings import Settings
    from workers.options import pipeline_options

    label, batched, windows, timestamps, retry = SETTINGS[setting]
    settings = Settings(whisper_model=model, batched=batched, second_pass=second_pass, diarise=False,
                        cpu_threads=threads, model_cache_dir=MODEL_CACHE)
    options = dataclasses.replace(pipeline_options(settings).asr, windows=windows, timestamps=timestamps)
    asr_mod.load_model(options)
    audio = decode_audio(str(joined.path))
    saved = asr_mod.RECHECK_RULE, asr_mod.RETRY_ALONE
    asr_mod.RECHECK_RULE, asr_mod.RETRY_ALONE = rule or saved[0], retry
    try:
        t, cpu = time.perf_counter(), time.process_time()
        segments, _ = asr_mod.transcribe(audio, options=options)
        asr_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    finally:
        asr_mod.RECHECK_RULE, asr_mod.RETRY_ALONE = saved
    ordered = all(a.start < b.start and a.end <= b.start for a, b in itertools.pairwise(segments))
    lost = untranscribed(joined.sentences, [(w.start, w.end) for s in segments for w in s.words])
    label = f"{model} {label}{' +2nd pass' if second_pass else ''}"
    return {"label": label + (f" ({rule})" if rule else ""), "model": model, "setting": setting, "batched": batched,
            "windows": windows, "timestamps": timestamps, "retry_alone": retry, "second_pass": second_pass,
            "rule": rule or (saved[0] if second_pass else None),
            "asr_s": round(asr_s, 1), "cpu_s": round(cpu_s, 1), "rtf": round(asr_s / joined.duration, 3),
            "rechecked": sum("second_pass" in s.flags for s in segments),
            "lost": [s.name for s in lost], "segments": len(segments), "ordered": ordered,
            "longest_s": round(max(s.end - s.start for s in segments), 2),
            **wer(joined.reference, " ".join(s.text for s in segments))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models", nargs="*", default=["tiny.en", "base"], help="no models (a bare --models): the CLI only"
    )
    parser.add_argument("--every", type=int, default=1, help="every n-th clip only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI runs")
    parser.add_argument("--cli-model", nargs="*", default=[], help="also run the CLI with these models")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS),
                        help="first-pass settings per model (default: all)")
    parser.add_argument("--second-pass", nargs="*", default=["batched-pauses-ts", "sequential-before",
                                                             "sequential-pauses"], choices=list(SETTINGS),
                        help="settings also run with the second pass")
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
            for setting in args.settings:
                passes = [(False, None)] + ([(True, None)] if setting in args.second_pass else [])
                passes += [(True, rule) for rule in args.rules]
                for second_pass, rule in passes:
                    rows.append(run_setting(joined, model=model, setting=setting, second_pass=second_pass,
                                            threads=args.threads, rule=rule))
                    print(f"  {rows[-1]['label']}: WER {100 * rows[-1]['wer']:.1f} %, {rows[-1]['asr_s']} s",
                          flush=True)
    # Times relative to the model's first setting run (the path before, with the default --settings).
    first = {}
    for r in rows:
        first.setdefault(r.get("model"), r.get("cpu_s"))
    print(f"\n{'configuration':<62} {'WER %':>6} {'sub':>4} {'del':>4} {'ins':>4} {'wall s':>7} {'RTF':>6} "
          f"{'cpu s':>6} {'x 1st':>6} {'rechk':>5} {'lost':>4} {'longest':>7} ordered")
    for r in rows:
        t = r.get("asr_s", r.get("wall_s"))
        ratio = f"{r['cpu_s'] / first[r['model']]:6.2f}" if "cpu_s" in r else "     -"
        print(f"{r['label']:<62} {100 * r['wer']:6.1f} {r['sub']:>4} {r['del']:>4} {r['ins']:>4} {t:7.1f} "
              f"{r['rtf']:6.3f} {r.get('cpu_s', '-'):>6} {ratio} {r.get('rechecked', '-'):>5} "
              f"{len(r['lost']) if 'lost' in r else '-':>4} {r.get('longest_s', '-'):>7} {r.get('ordered', '-')}")
    print(f"(x 1st: CPU seconds over the model's first row, which the load of a shared machine distorts less than "
          f"wall time; load average now {os.getloadavg()[0]:.2f})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"sentences": len(joined.sentences), "duration_s": joined.duration,
                                       "threads": args.threads, "rows": rows}, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
