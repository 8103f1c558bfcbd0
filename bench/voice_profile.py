"""Voice profiles: how well a diarisation centroid recognises the same speaker in another recording.

The shared AMI clips (../shared/data/pyannote_ami_*.wav, 30 s each, AMI speaker ids in the RTTMs) share speakers
across files: MEE009 and MEE012 in dev00/dev01; MEO069, MEE067, MEE068 in trn00/trn01/trn03; MEO086, FEE087, FEE088,
MEE089 in trn07/trn08; FEE083 in trn06/trn09; FEO066 in trn01/trn02. Each file is diarised exactly as the service
does it (`pipeline.diarise.diarise`, default options, no speaker-count hints), and each diarised speaker's centroid is
what the service stores as that slot's voiceprint. A diarised speaker stands for the reference speaker it overlaps
most, if at least --purity of its speech is that speaker's (otherwise it is a mixture, left out and counted).

Printed:
* every cross-file pair of centroids, same reference speaker or not, with its cosine score;
* the two score distributions (n, min, quartiles, max) and, for a sweep of thresholds, the false-accept rate
  (different-speaker pairs at or above it) and false-reject rate (same-speaker pairs below it);
* the service's decision (`pipeline.voiceprint.match_slots`) for every (enrolled speaker, other file) pair: the
  enrolled speaker's slot labelled (right), another slot labelled (wrong: a participant would be shown as the
  interviewer; or a mixed cluster), nothing labelled though the speaker talks there (missed; the heuristic then
  decides), nothing labelled and the speaker absent (right);
* at the chosen threshold (`pipeline.voiceprint.DEFAULT_THRESHOLD`, or --threshold).

Measured 2026-12-06 (2 cores shared with other jobs): 18 pure diarised speakers (purity 0.8; 5 mixtures left out),
same-speaker pairs 0.407-0.730 (n 6, median 0.458), different-speaker pairs -0.178-0.524 (n 65, median 0.159);
false-accept / false-reject 1.5 % / 0 % at 0.40, 1.5 % / 50 % at 0.45, 0 % / 66.7 % at 0.55 (chosen) and 0.60.

Run from the repository root: ``nice python -m bench.voice_profile`` (12 files of 30 s: about 2-4 minutes on 2 busy
cores). Writes bench/results/voice_profile.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

from bench.common import MODEL_CACHE, RESULTS, SHARED
from pipeline import torch_env
from pipeline.voiceprint import DEFAULT_THRESHOLD, cosine, error_rates, match_slots

torch_env.prepare()

FILES = ("dev00", "dev01", *(f"trn{i:02d}" for i in range(10)))
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def reference(path: Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            turns.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return turns


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def identify(turns: list[tuple[float, float, str]], ref: list[tuple[float, float, str]],
             purity: float) -> dict[str, tuple[str | None, float, float]]:
    """diarised label -> (reference speaker or None for a mixture, share of its speech, its speech in s)."""
    out = {}
    for label in sorted({t[2] for t in turns}):
        mine = [(s, e) for s, e, lab in turns if lab == label]
        total = sum(e - s for s, e in mine)
        by: dict[str, float] = defaultdict(float)
        for s, e in mine:
            for rs, re_, spk in ref:
                by[spk] += overlap((s, e), (rs, re_))
        best = max(by, key=by.__getitem__) if by else None
        share = by[best] / total if best and total else 0.0
        out[label] = (best if share >= purity else None, round(share, 3), round(total, 2))
    return out


def diarise_all(files: tuple[str, ...]) -> dict[str, dict]:
    from pipeline.decode import decode_audio
    from pipeline.diarise import DiariseOptions, diarise

    options = DiariseOptions(cache_dir=MODEL_CACHE, threads=2, embedding_batch_size=16, segmentation_batch_size=16)
    out = {}
    for stem in files:
        audio = decode_audio(str(SHARED / f"pyannote_ami_{stem}.wav"))
        t0 = time.perf_counter()
        result = diarise(audio, options=options)
        out[stem] = {
            "turns": [(t.start, t.end, t.speaker) for t in result.turns],
            "centroids": result.centroids,
            "seconds": round(time.perf_counter() - t0, 2),
        }
    return out


def quartiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"n={len(values)} {values}"
    q = statistics.quantiles(values, n=4)
    return (f"n={len(values):3d} min {min(values):.3f} q1 {q[0]:.3f} median {q[1]:.3f} q3 {q[2]:.3f} "
            f"max {max(values):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--purity", type=float, default=0.8)
    parser.add_argument("--files", nargs="*", default=list(FILES))
    args = parser.parse_args()

    runs = diarise_all(tuple(args.files))
    speakers: list[tuple[str, str, str, list[float]]] = []  # (file, slot label, reference speaker, centroid)
    print("diarised speakers -> reference speaker (share of its speech, speech s):")
    mixtures = 0
    for stem, run in runs.items():
        ids = identify(run["turns"], reference(SHARED / f"pyannote_ami_{stem}.rttm"), args.purity)
        for label, (spk, share, total) in ids.items():
            has = label in run["centroids"]
            print(f"  {stem} {label}: {spk or 'mixture'} ({share:.0%}, {total:.1f} s){'' if has else ' no centroid'}")
            if spk is None:
                mixtures += 1
            elif has:
                speakers.append((stem, label, spk, run["centroids"][label]))

    same, different, pairs = [], [], []
    for a, b in combinations(speakers, 2):
        if a[0] == b[0]:
            continue  # matching is across recordings
        score = cosine(a[3], b[3])
        (same if a[2] == b[2] else different).append(score)
        pairs.append({"a": f"{a[0]}/{a[1]}", "b": f"{b[0]}/{b[1]}", "same": a[2] == b[2], "ref": [a[2], b[2]],
                      "score": score})
    print("\nsame-speaker pairs (across files):")
    for p in sorted((p for p in pairs if p["same"]), key=lambda p: -p["score"]):
        print(f"  {p['score']:.3f}  {p['ref'][0]:7s} {p['a']:>12s} ~ {p['b']:<12s}")
    print("highest different-speaker pairs:")
    for p in sorted((p for p in pairs if not p["same"]), key=lambda p: -p["score"])[:8]:
        print(f"  {p['score']:.3f}  {p['ref'][0]:7s} {p['a']:>12s} ~ {p['ref'][1]:7s} {p['b']:<12s}")
    print(f"\nsame      {quartiles(same)}")
    print(f"different {quartiles(different)}")
    print("\nthreshold  false-accept  false-reject")
    sweep = []
    for thr in sorted({*SWEEP, args.threshold}):
        r = error_rates(same, different, threshold=thr)
        sweep.append(r.__dict__)
        mark = "  <- chosen" if thr == args.threshold else ""
        print(f"  {thr:.2f}     {r.false_accept:6.1%} ({round(r.false_accept * r.different)}/{r.different})"
              f"   {r.false_reject:6.1%} ({round(r.false_reject * r.same)}/{r.same}){mark}")

    # The service's decision: enrol one file's speaker, label the other files' slots.
    outcome: dict[str, int] = defaultdict(int)
    by_file: dict[str, dict[str, list[float]]] = {stem: run["centroids"] for stem, run in runs.items()}
    truth = {(s[0], s[1]): s[2] for s in speakers}
    for stem, _label, spk, centroid in speakers:
        for other, voices in by_file.items():
            if other == stem or not voices:
                continue
            present = any(truth.get((other, lab)) == spk for lab in voices)
            matches = match_slots(voices, {"profile": centroid}, threshold=args.threshold)
            if not matches:
                outcome["missed" if present else "right (nobody)"] += 1
            else:
                [slot] = matches
                who = truth.get((other, slot))
                outcome["right (slot)" if who == spk else "mixture slot" if who is None else "wrong slot"] += 1
    print(f"\nservice decisions at {args.threshold:.2f}, enrolled speaker x other file: "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
    chosen = error_rates(same, different, threshold=args.threshold)
    print(f"chosen threshold {args.threshold:.2f}: false-accept {chosen.false_accept:.1%} of {chosen.different} "
          f"different-speaker pairs, false-reject {chosen.false_reject:.1%} of {chosen.same} same-speaker pairs; "
          f"{mixtures} mixed clusters left out; diarisation {sum(r['seconds'] for r in runs.values()):.0f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "voice_profile.json").write_text(json.dumps({
        "threshold": args.threshold, "purity": args.purity, "same": same, "different": different, "pairs": pairs,
        "sweep": sweep, "decisions": dict(outcome), "mixtures": mixtures,
        # Turns and centroids per file: the diarisation is most of the run, kept to look at again.
        "runs": runs,
    }, indent=1))


if __name__ == "__main__":
    main()
