"""End-to-end speed, memory and quality of the service pipeline against a naive sequential baseline.

What is measured: decode -> ASR -> diarise -> align on one long recording (``--minutes``, default 30),
built from real speech in ../shared/data (azure_en_general_test, pyannote_sample, the 12 AMI clips,
fw_jfk, picovoice_falcon_test, repeated as needed, 0.5 s of silence between clips) and written once as
a 16-bit 16 kHz mono WAV to a temp file. Each side runs in its own fresh subprocess, which reports:

* load s: loading the models (not part of RTF);
* per-stage wall times and the total processing time; RTF = processing time / audio duration;
* peak RSS: the subprocess's own ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` right after the long run
  (models + audio + processing; the short quality runs come after);
* quality, on short files with references, through the same side's code path: WER (``jiwer`` after
  lower-casing and stripping punctuation) of the transcripts of azure_en_general_test.wav (read speech)
  and pyannote_sample.wav (a telephone conversation) against their .txt, and DER of the diarisation of
  pyannote_sample.wav against its RTTM (pyannote.metrics, collar 0 and 0.25, UEM = whole file).

Sides:

* naive: ``faster_whisper.decode_audio`` for ASR, ``WhisperModel.transcribe`` (sequential, beam 5,
  word timestamps, VAD filter, language en, otherwise faster-whisper's defaults), a second, separate
  decode for pyannote, the bare pyannote recipe of bench/diarisation_eval.py at segmentation_step 0.1
  (CAM++ trunk for every (chunk, speaker) pair), then ``pipeline.align.assign_speakers``;
* service: ``pipeline.run.run_pipeline(path, asr=o.asr, diarisation=o.diarisation, overlap=o.overlap)``
  with ``o = workers.options.pipeline_options(s)``,
  ``s = Settings(whisper_model=--model, cpu_threads=2, model_cache_dir=...)``:
  one decode, batched ASR and diarisation (the step the service picks for the duration: 0.1 up to 90 min, CAM++
  trunk once per 10 s block of the file) at the same
  time, one thread each; when diarisation is done, ASR decodes its remaining 10-minute pieces on both threads
  (``ASR_HANDOFF``). Its "asr" column is then ASR with diarisation running beside it, and "diarise" only
  what diarisation had left when ASR ended;
* no-handoff: the service with ``asr_handoff=False`` (ASR stays on its one thread after diarisation);
* in-turn: the same with ``overlap_stages=False``: ASR on 2 threads, then diarisation on 2 threads;
* experiment (``--no-experiment`` to skip): the service with ``diarisation_step`` set to
  ``--experiment-step`` (default 0.1, the step it uses up to 30 min: the cost of the finer step on a long file).

Goal: 1 hour in <= 6 minutes on 2 cores with base (service RTF <= 0.10) and >= 2x faster than naive.
The long run is done once per side (repeating a 20-minute naive run is not affordable); the 1-minute
load average is recorded before and after so a busy machine shows.

Run from the repository root: ``python -m bench.end_to_end`` (it builds on bench/diarisation_eval.py)
(about 25 minutes on 2 idle cores, the naive side takes most; 47 minutes when other jobs shared the cores) or
``--quick`` (5 minutes of audio, tiny.en). Writes bench/results/pipeline.json.

Longer than the ~400-line house rule: both sides (service and naive baseline) and their subprocess protocol live
in one file so the comparison is read in one place.
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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.common import MODEL_CACHE, RESULTS, ROOT, SHARED, concat_clips, module_command, peak_rss_mb, write_wav
from bench.diarisation_eval import build_recipe, load_rttm, score
from harness.textnorm import normalise
from pipeline import torch_env

torch_env.prepare()

SAMPLE_RATE = 16_000
GAP_S = 0.5
CLIPS = (
    "azure_en_general_test.wav",
    "pyannote_sample.wav",
    *(f"pyannote_ami_{s}.wav" for s in ("dev00", "dev01", *(f"trn{i:02d}" for i in range(10)))),
    "fw_jfk.flac",
    "picovoice_falcon_test.wav",
)
WER_FILE = "azure_en_general_test"
DER_FILE = "pyannote_sample"
GOAL_RTF = 0.10
GOAL_SPEEDUP = 2.0


def cpu_model() -> str:
    """CPU name and whether it has AVX-512 VNNI (CTranslate2's int8 kernels are much faster with it): RTF
    figures from different machines are not comparable without it."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    return f"{name}, {'avx512_vnni' if 'avx512_vnni' in flags else 'avx2' if 'avx2' in flags else 'no avx2'}"


def build_wav(path: Path, target_s: float) -> tuple[float, list[str]]:
    audio, used = concat_clips(CLIPS, target_s, gap_s=GAP_S)
    write_wav(path, audio)
    return len(audio) / SAMPLE_RATE, used


@dataclass
class SideResult:
    side: str
    description: str
    audio_s: float
    load_s: float
    stages_s: dict[str, float]
    process_s: float
    rtf: float
    peak_rss_mb: float
    segments: int
    words: int
    speakers: int
    wer: float
    wer_hyp: str
    wer_sample: float
    wer_sample_hyp: str
    der: dict[str, float] = field(default_factory=dict)
    der_speakers: int = 0


class Clock:
    """Wall time per stage; inside "diarise", embedding progress marks split segmentation / embeddings / rest."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.stages: dict[str, float] = {}
        self.current: str | None = None
        self.marks: dict[str, float] = {}

    def stage(self, name: str) -> None:
        now = time.perf_counter()
        if self.current is not None:
            self.stages[self.current] = self.stages.get(self.current, 0.0) + now - self.last
            self.marks[f"end {self.current}"] = now
        self.current, self.last = name, now
        self.marks[f"start {name}"] = now

    def embedding_mark(self, done: float | None = None, total: float | None = None) -> None:
        """Naive side: called on pyannote's embedding steps. Service side: diarisation progress, whose
        embeddings part starts at SPAN["embeddings"][0]."""
        from pipeline.diarise import SPAN

        if total and done is not None and done / total < SPAN["embeddings"][0] - 1e-9:
            return
        if self.current == "diarise":
            self.marks.setdefault("first embedding", time.perf_counter())
            self.marks["last embedding"] = time.perf_counter()

    def stop(self) -> float:
        self.stage("")
        m = self.marks
        if "first embedding" in m and "start diarise" in m:
            self.stages["diar: segmentation"] = m["first embedding"] - m["start diarise"]
            self.stages["diar: embeddings"] = m["last embedding"] - m["first embedding"]
            self.stages["diar: clustering+rest"] = m["end diarise"] - m["last embedding"]
        return time.perf_counter() - self.t0


def run_naive(path: str, whisper: Any, diariser: Any) -> tuple[list[Any], list[Any], dict[str, float], float]:
    import numpy as np
    import torch
    from faster_whisper import decode_audio as fw_decode_audio

    from pipeline.align import assign_speakers
    from pipeline.diarise import Turn
    from pipeline.types import Segment, Word

    clock = Clock()
    clock.stage("decode")
    audio = fw_decode_audio(path, sampling_rate=SAMPLE_RATE)
    clock.stage("asr")
    raw, _ = whisper.transcribe(audio, language="en", beam_size=5, word_timestamps=True, vad_filter=True)
    segments = [
        Segment(id=i, start=s.start, end=s.end, text=s.text.strip(),
                words=[Word(start=w.start, end=w.end, text=w.word, probability=w.probability) for w in s.words or []])
        for i, s in enumerate(raw)
    ]
    del audio
    clock.stage("decode")  # the separate decode for pyannote
    audio2 = fw_decode_audio(path, sampling_rate=SAMPLE_RATE)
    clock.stage("diarise")
    with torch.inference_mode():
        output = diariser({"waveform": torch.from_numpy(np.ascontiguousarray(audio2)).unsqueeze(0),
                           "sample_rate": SAMPLE_RATE},
                          hook=lambda name, *a, **k: clock.embedding_mark() if name == "embeddings" else None)
    annotation = getattr(output, "speaker_diarization", output)
    turns = [Turn(start=s.start, end=s.end, speaker=str(lab)) for s, _, lab in annotation.itertracks(yield_label=True)]
    clock.stage("align")
    segments = assign_speakers(segments, turns)
    total = clock.stop()
    return segments, [[t.start, t.end, t.speaker] for t in turns], clock.stages, total


def run_service(path: str, asr: Any, diarisation: Any,
                overlap: bool) -> tuple[list[Any], list[Any], dict[str, float], float]:
    from pipeline.run import run_pipeline

    clock = Clock()
    names = {"decoding": "decode", "transcribing": "asr", "diarising": "diarise", "aligning": "align"}
    transcript = run_pipeline(path, asr=asr, diarisation=diarisation, on_stage=lambda s: clock.stage(names.get(s, s)),
                              on_progress=None if overlap else clock.embedding_mark, overlap=overlap)
    total = clock.stop()
    turns = [[t["start"], t["end"], t["speaker"]] for t in transcript.speaker_turns]
    return transcript.segments, turns, clock.stages, total


def worker(side: str, wav: Path, audio_s: float, args: argparse.Namespace) -> dict[str, Any]:
    import jiwer
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if side == "naive":
        from faster_whisper import WhisperModel

        from pipeline.weights import resolve_model

        whisper = WhisperModel(str(resolve_model(args.model, cache_dir=args.cache_dir)), device="cpu",
                               compute_type="int8", cpu_threads=args.threads, local_files_only=True)
        diariser = build_recipe(step=0.1)

        def process(path: str) -> tuple[list[Any], list[Any], dict[str, float], float]:
            return run_naive(path, whisper, diariser)

        description = "fw decode x2, sequential beam 5, bare recipe step 0.1 (no de-dup)"
    else:
        from pipeline import diarise as diarise_module
        from pipeline.asr import load_model
        from service.core.settings import Settings
        from workers.options import pipeline_options

        # The service's own step (unset: chosen from the duration) unless this is the experiment.
        step = args.experiment_step if side == "experiment" else None
        settings = Settings(_env_file=None, whisper_model=args.model, cpu_threads=args.threads,
                            model_cache_dir=args.cache_dir, diarisation_step=step,
                            overlap_stages=side != "in-turn", asr_handoff=side != "no-handoff")
        asr, diarisation, overlap = pipeline_options(settings)
        load_model(asr)
        used_step = diarise_module.step_for(diarisation.segmentation_step, audio_s)
        diarise_module.load_pipeline(replace(diarisation, segmentation_step=used_step))  # loading is not timed
        description = (f"run_pipeline: 1 decode, batched {asr.batch_size}, "
                       f"step {used_step}, CAM++ trunk once per block, "
                       + (f"ASR ({asr.cpu_threads} thr) beside diarisation ({diarisation.threads} thr)"
                          + (", then ASR on both" if asr.workers >= 2 else "") if overlap
                          else f"ASR then diarisation ({asr.cpu_threads or 'all'} thr)"))

        def process(path: str) -> tuple[list[Any], list[Any], dict[str, float], float]:
            return run_service(path, asr, diarisation, overlap)

    load_s = time.perf_counter() - t0
    segments, turns, stages, total = process(str(wav))
    peak = peak_rss_mb()
    result: dict[str, Any] = {
        "side": side,
        "description": description,
        "audio_s": audio_s,
        "load_s": load_s,
        "stages_s": stages,
        "process_s": total,
        "rtf": total / audio_s,
        "peak_rss_mb": peak,
        "segments": len(segments),
        "words": sum(len(s.words) for s in segments),
        "speakers": len({t[2] for t in turns}),
    }
    segments, _, _, _ = process(str(SHARED / f"{WER_FILE}.wav"))
    reference = normalise((SHARED / f"{WER_FILE}.txt").read_text(encoding="utf-8-sig"))
    hypothesis = normalise(" ".join(s.text for s in segments))
    result["wer"] = float(jiwer.wer(reference, hypothesis))
    result["wer_hyp"] = hypothesis
    segments, turns, _, _ = process(str(SHARED / f"{DER_FILE}.wav"))
    result["der_turns"] = turns
    reference = normalise((SHARED / f"{DER_FILE}.txt").read_text(encoding="utf-8-sig"))
    hypothesis = normalise(" ".join(s.text for s in segments))
    result["wer_sample"] = float(jiwer.wer(reference, hypothesis))
    result["wer_sample_hyp"] = hypothesis
    return result


def spawn(side: str, wav: Path, audio_s: float, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="anonscribe-e2e-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = module_command("bench.end_to_end", "--worker", side, "--worker-wav", str(wav),
               "--worker-audio-s", str(audio_s), "--worker-out", str(out), "--model", args.model,
               "--threads", str(args.threads), "--cache-dir", str(args.cache_dir),
               "--experiment-step", str(args.experiment_step))
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"{side} worker failed with exit code {proc.returncode}")
        return json.loads(out.read_text())


def print_table(results: list[SideResult], audio_s: float, model: str) -> None:
    print(f"\nEnd to end on {audio_s:.1f} s ({audio_s / 60:.1f} min) of real speech, whisper {model}, 2 threads; "
          "times in s, RTF excludes model loading")
    header = (f"{'side':10s} {'load':>6s} {'decode':>7s} {'asr':>7s} {'diarise':>8s} {'align':>6s} {'total':>8s} "
              f"{'RTF':>7s} {'1 h in':>7s} {'peak MB':>8s} {'segs':>5s} {'words':>6s} {'spk':>4s} "
              f"{'WER az':>6s} {'WER sa':>6s} {'DER c0':>7s} {'c.25':>6s} {'spk':>4s}")
    print(header)
    print("-" * len(header))
    for r in results:
        st = r.stages_s
        print(
            f"{r.side:10s} {r.load_s:6.1f} {st.get('decode', 0):7.2f} {st.get('asr', 0):7.1f} "
            f"{st.get('diarise', 0):8.1f} {st.get('align', 0):6.2f} {r.process_s:8.1f} {r.rtf:7.4f} "
            f"{r.rtf * 60:5.1f} m {r.peak_rss_mb:8.0f} {r.segments:5d} {r.words:6d} {r.speakers:4d} "
            f"{100 * r.wer:5.1f}% {100 * r.wer_sample:5.1f}% {100 * r.der['0.0']:6.1f}% "
            f"{100 * r.der['0.25']:5.1f}% {r.der_speakers:4d}"
        )
    for r in results:
        st = r.stages_s
        split = " / ".join(f"{st[k]:.1f}" for k in ("diar: segmentation", "diar: embeddings", "diar: clustering+rest")
                           if k in st)
        split = f"diarise = segmentation / embeddings / clustering+rest: {split} s" if split else (
            "asr ran beside diarisation; diarise = what was left after ASR")
        print(f"  {r.side:10s} {r.description}; {split}")
    print(f"WER az = {WER_FILE}.wav (read speech), WER sa = {DER_FILE}.wav (telephone conversation), against "
          "their .txt, lower-cased, punctuation stripped;\n"
          f"DER on {DER_FILE}.wav (RTTM, UEM whole file; last spk = speakers found, reference 2); "
          "spk after words = speakers in the long run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=None, help="length of the long input (default 30)")
    parser.add_argument("--model", default=None, help="whisper model (default base)")
    parser.add_argument("--quick", action="store_true", help="5 minutes of audio with tiny.en (smoke run)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-experiment", action="store_true", help="skip the service-at-another-step side")
    parser.add_argument("--experiment-step", type=float, default=0.1)
    parser.add_argument("--sides", nargs="+", default=None,
                        choices=("service", "no-handoff", "in-turn", "experiment", "naive"))
    parser.add_argument("--cache-dir", type=Path, default=MODEL_CACHE)
    parser.add_argument("--output", type=Path, default=RESULTS / "pipeline.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-wav", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-audio-s", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.model = args.model or ("tiny.en" if args.quick else "base")
    minutes = args.minutes or (5.0 if args.quick else 30.0)

    if args.worker:
        result = worker(args.worker, args.worker_wav, args.worker_audio_s, args)
        args.worker_out.write_text(json.dumps(result))
        return 0

    sides = args.sides or ["service", "in-turn", *([] if args.no_experiment else ["experiment"]), "naive"]
    ref_turns = load_rttm(SHARED / f"{DER_FILE}.rttm")
    load_before = os.getloadavg()
    results: list[SideResult] = []
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="anonscribe-e2e-") as tmp:
        wav = Path(tmp) / "long.wav"
        audio_s, clips = build_wav(wav, minutes * 60)
        print(f"input: {audio_s:.1f} s from {len(clips)} clips ({wav.stat().st_size / 1e6:.0f} MB WAV); "
              f"model {args.model}; sides {sides}; CPU {cpu_model()}", flush=True)
        if load_before[0] > 0.5:
            print(f"note: 1-min load average is {load_before[0]:.2f}: other CPU users, timings may be noisy",
                  flush=True)
        for side in sides:
            t = time.perf_counter()
            print(f"running {side} ...", end=" ", flush=True)
            r = spawn(side, wav, audio_s, args)
            print(f"{time.perf_counter() - t:.0f} s (load average now {os.getloadavg()[0]:.2f})", flush=True)
            raw[side] = r
            durations = {DER_FILE: 30.0}
            sc = score({DER_FILE: r["der_turns"]}, {DER_FILE: ref_turns}, durations)
            results.append(SideResult(
                side=side, description=r["description"], audio_s=audio_s, load_s=r["load_s"],
                stages_s=r["stages_s"], process_s=r["process_s"], rtf=r["rtf"], peak_rss_mb=r["peak_rss_mb"],
                segments=r["segments"], words=r["words"], speakers=r["speakers"], wer=r["wer"], wer_hyp=r["wer_hyp"],
                wer_sample=r["wer_sample"], wer_sample_hyp=r["wer_sample_hyp"],
                der={k: v["der"] for k, v in sc.total.items()}, der_speakers=sc.files[0].found_speakers,
            ))
    print_table(results, audio_s, args.model)
    by = {r.side: r for r in results}
    ok = True
    if "service" in by:
        service = by["service"]
        parts = [f"service RTF {service.rtf:.4f} (1 h in {service.rtf * 60:.1f} min; goal <= {GOAL_RTF:.2f}: "
                 f"{'ok' if service.rtf <= GOAL_RTF else 'MISSED'})"]
        ok = service.rtf <= GOAL_RTF
        if "naive" in by:
            speedup = by["naive"].process_s / service.process_s
            ok &= speedup >= GOAL_SPEEDUP
            parts.append(f"speed-up naive/service {speedup:.2f}x (goal >= {GOAL_SPEEDUP:.0f}x: "
                         f"{'ok' if speedup >= GOAL_SPEEDUP else 'MISSED'})")
        if "no-handoff" in by:
            parts.append(f"handoff gain no-handoff/service {by['no-handoff'].process_s / service.process_s:.2f}x")
        if "in-turn" in by:
            parts.append(f"overlap gain in-turn/service {by['in-turn'].process_s / service.process_s:.2f}x")
        if "experiment" in by:
            exp = by["experiment"]
            parts.append(f"experiment RTF {exp.rtf:.4f} (1 h in {exp.rtf * 60:.1f} min), "
                         f"{service.process_s / exp.process_s:.2f}x faster than service")
        print("goal: " + "; ".join(parts))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "pipeline",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
                 "cpu": cpu_model()},
        "loadavg_1_5_15": {"before": load_before, "after": os.getloadavg()},
        "audio_s": audio_s,
        "clips": clips,
        "settings": {"model": args.model, "threads": args.threads, "experiment_step": args.experiment_step},
        "goal": {"rtf": GOAL_RTF, "speedup": GOAL_SPEEDUP, "pass": ok},
        "results": [asdict(r) for r in results],
        "der_turns": {side: r["der_turns"] for side, r in raw.items()},
    }
    args.output.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
