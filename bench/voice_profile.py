"""Voice profiles: how well an enrolled voiceprint recognises the same speaker in another recording.

The shared AMI clips (../shared/data/pyannote_ami_*.wav, 30 s each, AMI speaker ids in the RTTMs) share speakers
across files: MEE009 and MEE012 in dev00/dev01; MEO069, MEE067, MEE068 in trn00/trn01/trn03; MEO086, FEE087, FEE088,
MEE089 in trn07/trn08; FEE083 in trn06/trn09; FEO066 in trn01/trn02. Three parts:

A. Reference speech (the RTTMs), many trials. Each speaker's clean speech in a file (its turns minus everybody
   else's: no overlap) is embedded with CAM++ (`pipeline.diarise.speech_prints`). Enrolment from one file (all its
   clean speech, or its first 4 / 8 s) is scored against test pieces of 2 / 4 / 8 s and all of the clean speech in
   another file: same speaker or not. Within one file, the first half of a speaker's speech against the second half
   is reported apart (optimistic: same room, same minute). The method is compared too: the length-weighted mean
   over pieces of at most 3 s (`PIECE_S`, the service's) or 10 s, or one embedding of all the speech joined.
B. Diarised, as the service does it (`pipeline.diarise.diarise`, default options, no speaker-count hints): each
   diarised speaker stands for the reference speaker whose clean speech it overlaps most if at least --purity of the
   clean speech it overlaps is theirs (`identify`).
   Its voiceprint is either the diariser's centroid (the service until 2026-12) or `slot_voiceprints` from its
   diarised turns (now). Every cross-file pair of slots is scored, and the service's decision
   (`pipeline.voiceprint.match_slots`) for each (enrolled slot, other file) is counted.
C. For each set of trials: score distributions, false-accept / false-reject over a sweep, the equal error rate, and
   the lowest threshold with no false accept; at the chosen threshold (`pipeline.voiceprint.DEFAULT_THRESHOLD`, or
   --threshold).

Measured 2026-12-07 (threshold 0.50): on the reference speech, enrolment from all of a file's clean speech against
all of another file's: same speaker 0.478-0.879 (n 10), different 0.433 at most (n 190), EER 0 %; against 2 / 4 / 8 s
pieces: 42 / 25 / 10 same-speaker and 725 / 426 / 168 different-speaker trials, false reject 26 / 8 / 0 %, no false
accept; 1,930 different-speaker trials in all, none above 0.433. Diarised slots: clean-speech prints scored different
speakers at most 0.447 (61 pairs), centroids 0.524 (1 false accept at 0.50); only 2 same-speaker pairs survive
diarisation errors there. Method: 3-s pieces averaged beat 10-s pieces and one joined embedding (different-speaker
maximum 0.433 vs 0.470 / 0.470, same-speaker minimum equal).

Run from the repository root: ``nice python -m bench.voice_profile`` (12 files of 30 s: about 4 minutes on 2 busy
cores, most of it diarisation; --reuse takes the diarisation from the last run's JSON). Torch runs one thread: two on
2 busy cores spin and ran 5-7x slower. Writes bench/results/voice_profile.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.common import MODEL_CACHE, RESULTS, SHARED
from pipeline import torch_env
from pipeline.voiceprint import (
    DEFAULT_THRESHOLD,
    cosine,
    equal_error_rate,
    error_rates,
    lowest_clean_threshold,
    match_slots,
)

torch_env.prepare()

from pipeline.diarise.speech_prints import (  # noqa: E402
    MIN_SPEECH_S,
    PIECE_S,
    Interval,
    clean_intervals,
    pieces,
    slot_voiceprints,
    speech_voiceprint,
)

FILES = ("dev00", "dev01", *(f"trn{i:02d}" for i in range(10)))
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
TEST_S = (2.0, 4.0, 8.0)
ENROL_S = (4.0, 8.0)
Turns = list[tuple[float, float, str]]


def reference(path: Path) -> Turns:
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            turns.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return turns


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def first_seconds(intervals: Sequence[Interval], seconds: float) -> list[Interval]:
    out, held = [], 0.0
    for s, e in intervals:
        take = min(e - s, seconds - held)
        if take <= 0:
            break
        out.append((s, s + take))
        held += take
    return out


def halves(intervals: Sequence[Interval]) -> tuple[list[Interval], list[Interval]]:
    total = sum(e - s for s, e in intervals)
    first = first_seconds(intervals, total / 2)
    cut = first[-1][1] if first else 0.0
    second = [(max(s, cut), e) for s, e in intervals if e > cut and e - max(s, cut) > 0]
    return first, second


def identify(turns: Turns, ref: Turns, purity: float) -> dict[str, tuple[str | None, float, float]]:
    """diarised label -> (reference speaker or None for a mixture, share of its speech, its speech in s).

    Only the reference's clean speech (one speaker talking) attributes a label: in trn09 FEE083 talks for all 30 s
    and MEE094 over her, so by plain overlap a cluster of MEE094's voice would count as "100 % FEE083". A label
    needs at least 1 s of such speech, --purity of it one speaker's."""
    clean = {spk: clean_intervals(ref, spk) for spk in {t[2] for t in ref}}
    out = {}
    for label in sorted({t[2] for t in turns}):
        mine = [(s, e) for s, e, lab in turns if lab == label]
        by: dict[str, float] = defaultdict(float)
        for s, e in mine:
            for spk, ivs in clean.items():
                by[spk] += sum(overlap((s, e), iv) for iv in ivs)
        total = sum(by.values())
        best = max(by, key=by.__getitem__) if total else None
        share = by[best] / total if best else 0.0
        ok = best is not None and share >= purity and by[best] >= 1.0
        out[label] = (best if ok else None, round(share, 3), round(sum(e - s for s, e in mine), 2))
    return out


def quartiles(values: Sequence[float]) -> str:
    if len(values) < 2:
        return f"n={len(values)} {list(values)}"
    q = statistics.quantiles(values, n=4)
    return (f"n={len(values):4d} min {min(values):.3f} q1 {q[0]:.3f} median {q[1]:.3f} q3 {q[2]:.3f} "
            f"max {max(values):.3f}")


def report(name: str, same: list[float], different: list[float], threshold: float, *, sweep: bool = False) -> dict:
    """Print one set of trials; returns its figures for the JSON."""
    out: dict = {"same_n": len(same), "different_n": len(different)}
    print(f"\n{name}\n  same      {quartiles(same)}\n  different {quartiles(different)}")
    if not same or not different:
        return out
    eer, at = equal_error_rate(same, different)
    clean = lowest_clean_threshold(different)
    chosen = error_rates(same, different, threshold=threshold)
    at_clean = error_rates(same, different, threshold=clean)
    print(f"  EER {eer:.1%} (at {at:.3f}); no false accept from {clean:.2f} (false reject there "
          f"{at_clean.false_reject:.1%}); at {threshold:.2f}: false accept {chosen.false_accept:.1%} "
          f"({round(chosen.false_accept * chosen.different)}/{chosen.different}), false reject "
          f"{chosen.false_reject:.1%} ({round(chosen.false_reject * chosen.same)}/{chosen.same})")
    out.update(eer=eer, eer_threshold=at, clean_threshold=clean, chosen=chosen.__dict__)
    if sweep:
        print("  threshold  false-accept        false-reject")
        rows = []
        for thr in sorted({*SWEEP, threshold}):
            r = error_rates(same, different, threshold=thr)
            rows.append(r.__dict__)
            mark = "  <- chosen" if thr == threshold else ""
            print(f"    {thr:.2f}     {r.false_accept:6.1%} ({round(r.false_accept * r.different):3d}/{r.different})"
                  f"   {r.false_reject:6.1%} ({round(r.false_reject * r.same):3d}/{r.same}){mark}")
        out["sweep"] = rows
    return out


def load_model():  # type: ignore[no-untyped-def]
    from pipeline.diarise.campplus import CamPlusPlus
    from pipeline.weights import diarisation_weights

    paths = diarisation_weights(cache_dir=MODEL_CACHE)
    return CamPlusPlus(network_source=paths["embedding_network"], checkpoint=paths["embedding"])


def reference_trials(audio: dict[str, np.ndarray], refs: dict[str, Turns], model, threshold: float) -> dict:  # type: ignore[no-untyped-def]
    """Part A: enrolments x test pieces from the reference speech."""
    clean = {(stem, spk): clean_intervals(ref, spk) for stem, ref in refs.items() for spk in {t[2] for t in ref}}
    clean = {k: v for k, v in clean.items() if sum(e - s for s, e in v) >= 2.0}
    print("clean speech per (file, speaker), s: " + ", ".join(
        f"{stem}/{spk} {sum(e - s for s, e in v):.1f}" for (stem, spk), v in sorted(clean.items())))

    def vp(stem: str, ivs: Sequence[Interval], piece_s: float = PIECE_S) -> list[float] | None:
        return speech_voiceprint(model, audio[stem], ivs, min_speech_s=MIN_SPEECH_S, max_speech_s=None,
                                 piece_s=piece_s)

    enrol: dict[tuple[str, str, str], list[float]] = {}
    for (stem, spk), ivs in clean.items():
        for label, piece_s, chosen in (("all", PIECE_S, ivs), ("all/10s", 10.0, ivs), ("all/joined", 1e9, ivs),
                                       *((f"{n:.0f}s", PIECE_S, first_seconds(ivs, n)) for n in ENROL_S)):
            if label.endswith("s") and label[0].isdigit() and sum(e - s for s, e in ivs) < float(label[:-1]):
                continue
            vector = vp(stem, chosen, piece_s)
            if vector is not None:
                enrol[(stem, spk, label)] = vector
    tests: dict[tuple[str, str, str], list[list[float]]] = defaultdict(list)
    for (stem, spk), ivs in clean.items():
        if (stem, spk, "all") in enrol:
            tests[(stem, spk, "all")].append(enrol[(stem, spk, "all")])
        for n in TEST_S:
            for piece in pieces(ivs, piece_s=n):
                vector = vp(stem, piece)
                if abs(sum(e - s for s, e in piece) - n) < 1e-3 and vector is not None:
                    tests[(stem, spk, f"{n:.0f}s")].append(vector)

    figures: dict = {}
    for enrol_label in ("all", "all/10s", "all/joined", *(f"{n:.0f}s" for n in ENROL_S)):
        for test_label in ("all", *(f"{n:.0f}s" for n in TEST_S)):
            if enrol_label != "all" and test_label not in ("all", "8s"):
                continue  # the enrolment comparison on long tests only
            same, different, same_pairs = [], [], []
            for (a_stem, a_spk, e_label), e_vec in enrol.items():
                if e_label != enrol_label:
                    continue
                for (b_stem, b_spk, t_label), vectors in tests.items():
                    if t_label != test_label or b_stem == a_stem:
                        continue
                    for t_vec in vectors:
                        score = cosine(e_vec, t_vec)
                        (same if a_spk == b_spk else different).append(score)
                        if a_spk == b_spk:
                            same_pairs.append((score, a_spk, a_stem, b_stem))
            name = f"A. reference speech, across files: enrol {enrol_label}, test {test_label}"
            figures[f"{enrol_label}|{test_label}"] = report(name, same, different, threshold,
                                                             sweep=enrol_label == "all" and test_label == "all")
            figures[f"{enrol_label}|{test_label}"].update(same=same, different=different)
            if enrol_label == "all" and test_label == "all":
                seconds = {k: sum(e - s for s, e in v) for k, v in clean.items()}
                for score, spk, a, b in sorted(same_pairs, reverse=True):
                    print(f"    same {score:.3f}  {spk:7s} {a} ({seconds[(a, spk)]:.1f} s) ~ {b} "
                          f"({seconds[(b, spk)]:.1f} s)")
    # Within one file: first half of a speaker's clean speech enrolled, second half (or another speaker) tested.
    same, different = [], []
    for (stem, spk), ivs in clean.items():
        first, _ = halves(ivs)
        e_vec = vp(stem, first)
        if e_vec is None:
            continue
        for (b_stem, b_spk), b_ivs in clean.items():
            if b_stem != stem:
                continue
            t_vec = vp(stem, halves(b_ivs)[1] if b_spk == spk else b_ivs)
            if t_vec is not None:
                (same if b_spk == spk else different).append(cosine(e_vec, t_vec))
    figures["within-file halves"] = report("A. reference speech, within one file (optimistic): first half enrolled, "
                                           "second half tested", same, different, threshold)
    return figures


def diarise_all(files: Sequence[str], audio: dict[str, np.ndarray]) -> dict[str, dict]:
    from pipeline.diarise import DiariseOptions, diarise

    options = DiariseOptions(cache_dir=MODEL_CACHE, threads=1, embedding_batch_size=16, segmentation_batch_size=16)
    out = {}
    for stem in files:
        t0 = time.perf_counter()
        result = diarise(audio[stem], options=options)
        out[stem] = {
            "turns": [(t.start, t.end, t.speaker) for t in result.turns],
            "centroids": result.centroids,
            "seconds": round(time.perf_counter() - t0, 2),
        }
    return out


def diarised_trials(runs: dict[str, dict], refs: dict[str, Turns], audio: dict[str, np.ndarray], model,  # type: ignore[no-untyped-def]
                    purity: float, threshold: float) -> dict:
    """Part B: the service's voiceprints of diarised slots, old (centroid) and new (clean speech)."""
    truth: dict[tuple[str, str], str | None] = {}
    mixtures = 0
    print("\ndiarised speakers -> reference speaker (share of its speech, speech s):")
    for stem, run in runs.items():
        for label, (spk, share, total) in identify(run["turns"], refs[stem], purity).items():
            print(f"  {stem} {label}: {spk or 'mixture'} ({share:.0%}, {total:.1f} s)")
            truth[(stem, label)] = spk
            mixtures += spk is None
    prints = {
        "centroid": {stem: run["centroids"] for stem, run in runs.items()},
        # What diarise() now returns, computed here from its turns (a reused run may predate the current method).
        "clean speech": {stem: slot_voiceprints(model, audio[stem], [tuple(t) for t in run["turns"]])
                         for stem, run in runs.items()},
    }
    figures: dict = {"mixtures": mixtures}
    for method, by_file in prints.items():
        same, different, pairs = [], [], []
        slots = [(stem, label, vec) for stem, voices in by_file.items() for label, vec in voices.items()
                 if truth.get((stem, label))]
        for a, b in combinations(slots, 2):
            if a[0] == b[0]:
                continue  # matching is across recordings
            score = cosine(a[2], b[2])
            is_same = truth[(a[0], a[1])] == truth[(b[0], b[1])]
            (same if is_same else different).append(score)
            pairs.append({"a": f"{a[0]}/{a[1]}", "b": f"{b[0]}/{b[1]}", "same": is_same, "score": score,
                          "ref": [truth[(a[0], a[1])], truth[(b[0], b[1])]]})
        fig = report(f"B. diarised slots ({method} voiceprints), across files", same, different, threshold,
                     sweep=True)
        for p in sorted((p for p in pairs if p["same"]), key=lambda p: -p["score"]):
            print(f"    same {p['score']:.3f}  {p['ref'][0]:7s} {p['a']:>12s} ~ {p['b']:<12s}")
        # The service's decision: enrol one file's pure slot, label the other files' slots.
        outcome: dict[str, int] = defaultdict(int)
        for stem, label, vec in slots:
            spk = truth[(stem, label)]
            for other, voices in by_file.items():
                if other == stem or not voices:
                    continue
                present = any(truth.get((other, lab)) == spk for lab in voices)
                matches = match_slots(voices, {"profile": vec}, threshold=threshold)
                if not matches:
                    outcome["missed" if present else "right (nobody)"] += 1
                    continue
                [slot] = matches
                who = truth.get((other, slot))
                outcome["right (slot)" if who == spk else "mixture slot" if who is None else "wrong slot"] += 1
        print(f"  service decisions at {threshold:.2f}, enrolled slot x other file: "
              + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
        fig.update(same=same, different=different, pairs=pairs, decisions=dict(outcome),
                   slots_without_print=sum(1 for (stem, lab), spk in truth.items()
                                           if spk and lab not in by_file[stem]))
        figures[method] = fig
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--purity", type=float, default=0.8)
    parser.add_argument("--files", nargs="*", default=list(FILES))
    parser.add_argument("--reuse", action="store_true", help="diarisation from the last run's JSON")
    parser.add_argument("--skip-diarised", action="store_true")
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()

    import torch

    from pipeline.decode import decode_audio

    torch.set_num_threads(1)  # 2 threads on 2 busy cores spin: 5-7x slower
    audio = {stem: decode_audio(str(SHARED / f"pyannote_ami_{stem}.wav")) for stem in args.files}
    refs = {stem: reference(SHARED / f"pyannote_ami_{stem}.rttm") for stem in args.files}
    model = load_model()
    t0 = time.perf_counter()
    out: dict = {"threshold": args.threshold, "purity": args.purity}
    if not args.skip_reference:
        out["reference"] = reference_trials(audio, refs, model, args.threshold)
        print(f"\n(part A: {time.perf_counter() - t0:.0f} s)")
    if not args.skip_diarised:
        previous = RESULTS / "voice_profile.json"
        if args.reuse and previous.exists():
            runs = json.loads(previous.read_text(encoding="utf-8"))["runs"]
        else:
            runs = diarise_all(args.files, audio)
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "voice_profile_runs.json").write_text(json.dumps(runs))  # in case the scoring fails
        out["diarised"] = diarised_trials(runs, refs, audio, model, args.purity, args.threshold)
        out["runs"] = runs  # turns and centroids per file: the diarisation is most of the run, kept to reuse
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "voice_profile.json"
    # A part skipped this time keeps the last run's figures.
    kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    path.write_text(json.dumps({**kept, **out}, indent=1))


if __name__ == "__main__":
    main()
