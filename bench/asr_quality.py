"""Word error rate of the Whisper ladder through the service's own ASR path, with speed and memory beside it.

What is measured: every clip in ../shared/data with a human reference (the Azure read passage, JFK, pyannote's
phone-call sample, and the two-channel faster-whisper clip, each channel on its own as the service hears a
one-speaker-per-channel recording) and the 100 Common Voice clips in ../shared/data/commonvoice (99 speakers,
several accents, read sentences), for every model of the ladder x batched / sequential x hotwords off / on.
`fw_multilingual` is left out: its reference is model output.

Hotwords on: each clip gets the names a researcher would give at upload (pyannote sample: Diane, Sheila; a Common
Voice sentence: its people and places). A clip with no names gets names that are NOT spoken ("Diane, Sheila,
Okafor"): its WER change is the damage hotwords do where they cannot help.

How: each configuration runs in a fresh subprocess (`--worker`), so its peak RSS is its own. Options come from
`workers.options.pipeline_options(Settings(...))` and `with_name_hints`, exactly as the worker builds them (diarisation
off, so ASR has all `--threads`; in production with diarisation on, the two stages share them), and every clip goes
through `pipeline.asr.transcribe`. WER is jiwer's on lower-cased text without punctuation; pooled WER is all errors
over all reference words of a group. RTF is transcription time over audio time, model load excluded (reported apart).

Run from the repo root: `python -m bench.asr_quality` (all clips; ~25 min on 2 idle cores) or `--quick` (4 reference
clips, 10 Common Voice clips). Writes bench/results/asr_quality[_quick].json and prints pooled and per-clip tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, SHARED
from harness.textnorm import normalise

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = SHARED
CV = DATA / "commonvoice"
MODELS = ("tiny.en", "base")
DECOY_NAMES = ["Diane", "Sheila", "Okafor"]

# The people and places of each Common Voice sentence that has any, as a researcher would list them at upload.
CV_NAMES = {
    "cv_en_australia_19172268": ["Frank Rutherford"],
    "cv_en_australia_19678886": ["Hancock"],
    "cv_en_australia_22959173": ["Dennis", "Columbus"],
    "cv_en_canada_17767698": ["Ruth"],
    "cv_en_england_18045098": ["Beaver"],
    "cv_en_england_18709478": ["Czink"],
    "cv_en_england_18990243": ["Mary", "Waterford Valley"],
    "cv_en_england_19598503": ["Valencia Creek", "Avon River"],
    "cv_en_england_20315440": ["Kashta"],
    "cv_en_indian_18969456": ["Dublin"],
    "cv_en_indian_19105945": ["Jordan", "Ferris"],
    "cv_en_indian_19175551": ["Tokyo"],
    "cv_en_indian_19649568": ["Takahashi"],
    "cv_en_indian_19960287": ["Manalapan"],
    "cv_en_indian_20874222": ["Madagascar"],
    "cv_en_us_18846044": ["Caesar", "Fabius"],
    "cv_en_us_18933160": ["Leonardo"],
    "cv_en_us_18954056": ["Saint Mary"],
    "cv_en_us_19462004": ["Sarasa"],
    "cv_en_us_19552037": ["Cowper Stone", "Stanage End"],
    "cv_en_us_19691296": ["Jaspers"],
    "cv_en_us_20288523": ["May", "Ken"],
    "cv_en_us_20893631": ["Stoke-on-Trent", "Newcastle-under-Lyme"],
    "cv_en_us_21375097": ["Jones"],
    "cv_en_us_22734212": ["Brighton"],
    "cv_en_us_23776096": ["Kungsleden"],
}


@dataclass(frozen=True)
class Clip:
    name: str
    path: str
    references: list[str]  # one per channel transcribed on its own, else one
    names: list[str]  # spoken names; empty: the clip gets DECOY_NAMES with hotwords on
    group: str  # "reference" or "commonvoice"
    accent: str = ""


def clips(*, quick: bool) -> list[Clip]:
    # fw_jfk is stereo too, but one sound twice: the service mixes it down. fw_stereo_diarization has one voice per
    # channel (pipeline.channels.channels_are_speakers says so), and the service transcribes each on its own.

    def read(name: str) -> str:
        return (DATA / name).read_text(encoding="utf-8-sig").strip()

    stereo = dict(line.split("\t", 1) for line in read("fw_stereo_diarization.txt").splitlines())
    out = [
        Clip("azure_en_general_test", str(DATA / "azure_en_general_test.wav"), [read("azure_en_general_test.txt")],
             [], "reference"),
        Clip("fw_jfk", str(DATA / "fw_jfk.flac"), [read("fw_jfk.txt")], [], "reference"),
        Clip("pyannote_sample", str(DATA / "pyannote_sample.wav"), [read("pyannote_sample.txt")],
             ["Diane", "Sheila"], "reference"),
        Clip("fw_stereo_diarization", str(DATA / "fw_stereo_diarization.wav"), [stereo["left"], stereo["right"]],
             [], "reference"),
    ]
    cv = sorted(CV.glob("*.flac"))
    if quick:
        cv = cv[::10]
    for path in cv:
        accent = path.stem.split("_")[2]
        out.append(Clip(path.stem, str(path), [path.with_suffix(".txt").read_text(encoding="utf-8-sig").strip()],
                        CV_NAMES.get(path.stem, []), "commonvoice", accent))
    return out


@dataclass(frozen=True)
class Config:
    model: str
    batched: bool
    hotwords: bool
    # "pauses": the service's first pass; "speech": the one before issue 15 item 3 (VAD's speech glued into windows,
    # batched text only, skipped recovery spans not retried alone), to compare (`--windows`).
    windows: str = "pauses"

    @property
    def label(self) -> str:
        mode = "batched" if self.batched else "sequential"
        before = " (before)" if self.windows == "speech" else ""
        return f"{self.model} {mode} hotwords {'on' if self.hotwords else 'off'}{before}"


# ---------------------------------------------------------------------------------------------------------------
# Worker: one configuration, all clips, in its own process.


def run_worker(config: Config, clip_list: list[Clip], *, threads: int, cache_dir: Path) -> dict[str, Any]:
    import dataclasses

    import jiwer
    import numpy as np

    import pipeline.asr
    from pipeline.asr import load_model, transcribe
    from pipeline.decode import decode_audio
    from pipeline.types import SAMPLE_RATE
    from service.core.settings import Settings
    from workers.options import pipeline_options, with_name_hints

    settings = Settings(whisper_model=config.model, batched=config.batched, diarise=False, cpu_threads=threads,
                        model_cache_dir=cache_dir, asr_name_hints=True)
    asr = pipeline_options(settings).asr
    if config.windows == "speech":
        asr = dataclasses.replace(asr, windows="speech", timestamps=False)
        pipeline.asr.RETRY_ALONE = False
    t0 = time.perf_counter()
    load_model(asr)
    load_s = time.perf_counter() - t0
    rows = []
    for clip in clip_list:
        audio = decode_audio(clip.path, keep_stereo=len(clip.references) > 1)
        channels = list(audio) if audio.ndim == 2 else [audio]
        options = asr
        if config.hotwords:
            options = with_name_hints(settings, asr, known_names=clip.names or DECOY_NAMES, teams_text=None)
        t = time.perf_counter()
        hypotheses = [" ".join(s.text for s in transcribe(np.ascontiguousarray(ch), options=options)[0])
                      for ch in channels]
        asr_s = time.perf_counter() - t
        hits = subs = dels = ins = 0
        for ref, hyp in zip(clip.references, hypotheses, strict=True):
            ref_n, hyp_n = normalise(ref), normalise(hyp)
            out = jiwer.process_words(ref_n, hyp_n) if hyp_n else None
            if out is None:  # nothing heard: every reference word deleted
                dels += len(ref_n.split())
                continue
            hits, subs, dels, ins = hits + out.hits, subs + out.substitutions, dels + out.deletions, \
                ins + out.insertions
        n = hits + subs + dels
        heard = normalise(" ".join(hypotheses)).split()
        rows.append({
            "clip": clip.name, "group": clip.group, "accent": clip.accent, "names": bool(clip.names),
            "audio_s": round(len(channels[0]) / SAMPLE_RATE * len(channels), 3), "asr_s": round(asr_s, 3),
            "ref_words": n, "errors": subs + dels + ins, "sub": subs, "del": dels, "ins": ins,
            "wer": round((subs + dels + ins) / n, 4) if n else 0.0,
            # Hint names that came out although nobody says them (decoy clips only).
            "decoys_heard": 0 if clip.names or not config.hotwords else sum(
                heard.count(normalise(d)) for d in DECOY_NAMES),
        })
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"config": asdict(config), "label": config.label, "load_s": round(load_s, 2), "peak_rss_bytes": peak,
            "threads": threads, "clips": rows}


# ---------------------------------------------------------------------------------------------------------------
# Parent: one subprocess per configuration, then the tables.


def pooled(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = sum(r["ref_words"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    audio = sum(r["audio_s"] for r in rows)
    return {"clips": len(rows), "ref_words": n, "errors": errors, "wer": round(errors / n, 4) if n else None,
            "audio_s": round(audio, 1), "rtf": round(sum(r["asr_s"] for r in rows) / audio, 3) if audio else None}


GROUPS = {
    "reference": lambda r: r["group"] == "reference",
    "commonvoice": lambda r: r["group"] == "commonvoice",
    "cv_england": lambda r: r["accent"] == "england",
    "with_names": lambda r: r["names"],
    "no_names": lambda r: not r["names"],
    "all": lambda r: True,
}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    return {group: pooled([r for r in result["clips"] if keep(r)]) for group, keep in GROUPS.items()}


def run_config(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.asr_quality", "--worker", json.dumps(asdict(config)),
           "--threads", str(args.threads), "--cache-dir", str(args.cache_dir)]
    if args.quick:
        cmd.append("--quick")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode:
        raise SystemExit(f"{config.label} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pct(x: float | None) -> str:
    return "  -  " if x is None else f"{100 * x:5.1f}"


def report(results: list[dict[str, Any]]) -> None:
    print(f"\n{'configuration':<45} {'refs':>5} {'CV':>5} {'CVeng':>5} {'names':>5} {'none':>5} {'all':>5} "
          f"{'RTF':>6} {'load s':>6} {'peak RSS':>9} decoys")
    for res in results:
        s = res["summary"]
        decoys = sum(r["decoys_heard"] for r in res["clips"])
        print(f"{res['label']:<45} {pct(s['reference']['wer'])} {pct(s['commonvoice']['wer'])} "
              f"{pct(s['cv_england']['wer'])} {pct(s['with_names']['wer'])} {pct(s['no_names']['wer'])} "
              f"{pct(s['all']['wer'])} {s['all']['rtf']:6.3f} {res['load_s']:6.1f} "
              f"{res['peak_rss_bytes'] / 2**20:6.0f} MB {decoys:>5}")
    print("(WER %, pooled; names/none: clips with / without spoken names; decoys: unspoken hint names written)")
    labels = [res["label"].replace(" hotwords ", " hw ").replace("sequential", "seq").replace("batched", "bat")
              for res in results]
    print(f"\nper-clip WER %\n{'clip':<30} {'words':>5} " + " ".join(f"{lab:>18}" for lab in labels))
    for i, row in enumerate(results[0]["clips"]):
        cells = " ".join(f"{pct(res['clips'][i]['wer']):>18}" for res in results)
        print(f"{row['clip']:<30} {row['ref_words']:>5} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 reference clips + every 10th Common Voice clip")
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        help="ladder rungs: tiny.en, base, or a CTranslate2 directory")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".pytest_cache" / "models")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--windows", nargs="+", default=["pauses"], choices=["pauses", "speech"],
                        help="first pass: the service's (pauses) and/or the one before issue 15 item 3 (speech)")
    parser.add_argument("--modes", nargs="+", default=["batched", "sequential"], choices=["batched", "sequential"])
    parser.add_argument("--hotwords", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    clip_list = clips(quick=args.quick)
    if args.worker:
        print(json.dumps(run_worker(Config(**json.loads(args.worker)), clip_list, threads=args.threads,
                                    cache_dir=args.cache_dir)))
        return
    configs = [Config(m, mode == "batched", h == "on", w) for m in args.models for mode in args.modes
               for h in args.hotwords for w in args.windows]
    print(f"{len(clip_list)} clips ({sum(c.group == 'commonvoice' for c in clip_list)} Common Voice), "
          f"{len(configs)} configurations, {args.threads} threads; load average {os.getloadavg()[0]:.2f}",
          flush=True)
    results = []
    started = time.time()
    for config in configs:
        t = time.time()
        res = run_config(config, args)
        res["summary"] = summarise(res)
        res["wall_s"] = round(time.time() - t, 1)
        results.append(res)
        print(f"  {config.label}: WER {pct(res['summary']['all']['wer'])} %, {res['wall_s']} s", flush=True)
    report(results)
    output = args.output or ROOT / "bench" / "results" / f"asr_quality{'_quick' if args.quick else ''}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_after": os.getloadavg()},
        "quick": args.quick, "threads": args.threads, "wall_s": round(time.time() - started, 1),
        "results": results,
    }, indent=1))
    print(f"\nwrote {output}")


if __name__ == "__main__":
    main()
