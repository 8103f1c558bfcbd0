"""Overhead of the pipeline's ASR stage over bare faster-whisper, on real speech.

What is measured: wall time to turn ~5 minutes of real speech into a fully consumed list of segments,
by two paths that share one loaded model, one set of decoding options and one thread count:

* bare:     ``faster_whisper.decode_audio(<plaintext WAV path>)`` + ``WhisperModel.transcribe`` (or
            ``BatchedInferencePipeline.transcribe``), every segment consumed;
* pipeline: ``pipeline.run.run_pipeline(<DecryptingReader>, asr=AsrOptions(...))``, which
            decodes from a Tink-sealed segmented blob (the service's own ``SealedStore`` /
            ``LocalBlobStore`` / ``SealedUpload``) and builds the service's ``Segment`` objects.

How: the shared clips in ../shared/data are decoded and concatenated (0.5 s of silence between them)
until the target length is reached, written once as a 16-bit WAV to a temp file and sealed once into
a temp blob store. The model is loaded with ``pipeline.asr.load_model`` (the pipeline's own
cache) and each configuration gets an untimed warm-up on a short excerpt, so the timings are
decode + transcription only. Each path runs ``--repeats`` times, alternating which path goes first,
and the minimum is reported. Configurations: {tiny.en, base} x {batched (batch_size 8), sequential
(beam 5)}; both paths use int8, ``--cpu-threads`` threads, word timestamps and the VAD filter, and the
same Whisper options the pipeline passes (thresholds, and for sequential decoding
``condition_on_previous_text=False`` and ``hallucination_silence_threshold=2.0``).

Run from the repository root: ``python -m bench.asr_overhead`` (about 7 minutes on 2 idle cores with 3 repeats)
or ``--quick`` (~60 s of audio, tiny.en only). Writes bench/results/asr_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from bench.common import MODEL_CACHE, RESULTS, concat_clips, write_wav
from pipeline.asr import SEQUENTIAL_OPTIONS, AsrOptions, load_model, whisper_options
from pipeline.run import run_pipeline
from pipeline.types import SAMPLE_RATE
from pipeline.weights import resolve_model
from service.core.crypto import MasterKey
from service.core.sealed import SealedStore, SealedUpload
from service.core.settings import Settings
from service.core.storage import LocalBlobStore

GOAL_RATIO = 1.10
# Speech with references first, then the AMI meeting clips (30 s each).
CLIPS = (
    "azure_en_general_test.wav",
    "pyannote_sample.wav",
    "fw_jfk.flac",
    *(f"pyannote_ami_{s}.wav" for s in ("dev00", "dev01", *(f"trn{i:02d}" for i in range(10)))),
)
GAP_S = 0.5
WARMUP_S = 15.0


@dataclass
class Timing:
    wall_s: float
    cpu_s: float
    decode_s: float
    asr_s: float
    segments: int
    words: int
    text: str


@dataclass
class ConfigResult:
    model: str
    mode: str
    audio_s: float
    bare_wall_s: float
    pipeline_wall_s: float
    ratio: float
    bare_rtf: float
    pipeline_rtf: float
    bare_decode_s: float
    pipeline_decode_s: float
    bare_cpu_s: float
    pipeline_cpu_s: float
    cpu_ratio: float
    bare_runs_s: list[float]
    pipeline_runs_s: list[float]
    segments: int
    words: int
    same_text: bool


def build_audio(target_s: float) -> tuple[np.ndarray, list[str]]:
    """Concatenate shared clips (16 kHz mono float32) with short silences until `target_s` is reached."""
    return concat_clips(CLIPS, target_s, gap_s=GAP_S, skip_missing=True)


def seal_file(store: SealedStore, path: Path, object_id: str) -> SealedUpload:
    upload = store.begin(object_id=object_id)
    with open(path, "rb") as fh:
        while chunk := fh.read(256 * 1024):
            upload.write(chunk)
    upload.finish()
    return upload


def whisper_kwargs(options: AsrOptions) -> dict[str, Any]:
    """The options `pipeline.asr.transcribe` passes, so both paths decode identically."""
    kwargs = whisper_options(options)
    if not options.batched:
        kwargs.update(SEQUENTIAL_OPTIONS)
    return kwargs


def bare_transcribe(audio: np.ndarray, options: AsrOptions) -> tuple[int, int, str]:
    from faster_whisper import BatchedInferencePipeline

    model = load_model(options)  # the very instance the pipeline uses
    kwargs = whisper_kwargs(options)
    if options.batched:
        segments, _ = BatchedInferencePipeline(model).transcribe(audio, batch_size=options.batch_size, **kwargs)
    else:
        segments, _ = model.transcribe(audio, **kwargs)
    n_seg = n_words = 0
    texts = []
    for seg in segments:
        n_seg += 1
        n_words += len(seg.words or [])
        texts.append(seg.text.strip())
    return n_seg, n_words, " ".join(texts)


def run_bare(wav: Path, options: AsrOptions) -> Timing:
    from faster_whisper import decode_audio as fw_decode_audio

    c0 = time.process_time()
    t0 = time.perf_counter()
    audio = fw_decode_audio(str(wav), sampling_rate=SAMPLE_RATE)
    t1 = time.perf_counter()
    n_seg, n_words, text = bare_transcribe(audio, options)
    t2 = time.perf_counter()
    return Timing(
        wall_s=t2 - t0,
        cpu_s=time.process_time() - c0,
        decode_s=t1 - t0,
        asr_s=t2 - t1,
        segments=n_seg,
        words=n_words,
        text=text,
    )


def run_sealed(upload: SealedUpload, object_id: str, options: AsrOptions) -> Timing:
    marks: dict[str, float] = {}

    def on_stage(name: str) -> None:
        marks[name] = time.perf_counter()

    c0 = time.process_time()
    t0 = time.perf_counter()
    reader = upload.open_reader(object_id=object_id)
    try:
        transcript = run_pipeline(reader, asr=options, on_stage=on_stage)
    finally:
        reader.close()
    t2 = time.perf_counter()
    t1 = marks.get("transcribing", t0)
    return Timing(
        wall_s=t2 - t0,
        cpu_s=time.process_time() - c0,
        decode_s=t1 - t0,
        asr_s=t2 - t1,
        segments=len(transcript.segments),
        words=sum(len(s.words) for s in transcript.segments),
        text=" ".join(s.text for s in transcript.segments),
    )


def measure(
    model: str,
    mode: str,
    options: AsrOptions,
    *,
    wav: Path,
    upload: SealedUpload,
    object_id: str,
    audio_s: float,
    warmup_audio: np.ndarray,
    repeats: int,
    log: Callable[[str], None],
) -> ConfigResult:
    load_model(options)
    bare_transcribe(warmup_audio, options)  # untimed: first-call allocations, VAD session
    runs: dict[str, list[Timing]] = {"bare": [], "pipeline": []}
    paths: dict[str, Callable[[], Timing]] = {
        "bare": lambda: run_bare(wav, options),
        "pipeline": lambda: run_sealed(upload, object_id, options),
    }
    for rep in range(repeats):
        order = ("bare", "pipeline") if rep % 2 == 0 else ("pipeline", "bare")
        for name in order:
            timing = paths[name]()
            runs[name].append(timing)
            log(
                f"  {model:8s} {mode:10s} rep {rep + 1}/{repeats} {name:8s} "
                f"{timing.wall_s:7.2f} s wall, {timing.cpu_s:7.2f} s cpu (decode {timing.decode_s:5.2f} s, "
                f"{timing.segments} segments)"
            )
    bare = min(runs["bare"], key=lambda t: t.wall_s)
    pipe = min(runs["pipeline"], key=lambda t: t.wall_s)
    return ConfigResult(
        model=model,
        mode=mode,
        audio_s=round(audio_s, 2),
        bare_wall_s=round(bare.wall_s, 3),
        pipeline_wall_s=round(pipe.wall_s, 3),
        ratio=round(pipe.wall_s / bare.wall_s, 4),
        bare_rtf=round(bare.wall_s / audio_s, 4),
        pipeline_rtf=round(pipe.wall_s / audio_s, 4),
        bare_decode_s=round(min(t.decode_s for t in runs["bare"]), 3),
        pipeline_decode_s=round(min(t.decode_s for t in runs["pipeline"]), 3),
        bare_cpu_s=round(min(t.cpu_s for t in runs["bare"]), 3),
        pipeline_cpu_s=round(min(t.cpu_s for t in runs["pipeline"]), 3),
        cpu_ratio=round(min(t.cpu_s for t in runs["pipeline"]) / min(t.cpu_s for t in runs["bare"]), 4),
        bare_runs_s=[round(t.wall_s, 3) for t in runs["bare"]],
        pipeline_runs_s=[round(t.wall_s, 3) for t in runs["pipeline"]],
        segments=pipe.segments,
        words=pipe.words,
        same_text=all(t.text == runs["bare"][0].text for t in runs["bare"] + runs["pipeline"]),
    )


def print_table(results: list[ConfigResult], audio_s: float) -> None:
    header = (
        f"{'model':8s} {'mode':10s} {'bare s':>8s} {'pipe s':>8s} {'ratio':>6s} {'bare RTF':>9s} "
        f"{'pipe RTF':>9s} {'cpu ratio':>9s} {'dec bare':>9s} {'dec pipe':>9s} {'segs':>5s} {'same':>5s} goal"
    )
    print(f"\nASR overhead on {audio_s:.1f} s of real speech (wall time, min of repeats)")
    print(header)
    print("-" * len(header))
    for r in results:
        ok = "ok" if r.ratio <= GOAL_RATIO else "OVER"
        print(
            f"{r.model:8s} {r.mode:10s} {r.bare_wall_s:8.2f} {r.pipeline_wall_s:8.2f} {r.ratio:6.3f} "
            f"{r.bare_rtf:9.4f} {r.pipeline_rtf:9.4f} {r.cpu_ratio:9.3f} {r.bare_decode_s:9.3f} "
            f"{r.pipeline_decode_s:9.3f} {r.segments:5d} {('yes' if r.same_text else 'no'):>5s} {ok}"
        )
    print(f"goal: pipeline/bare <= {GOAL_RATIO:.2f}; RTF = wall time / audio seconds; cpu ratio = same on CPU time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~60 s of audio, tiny.en only (smoke run)")
    parser.add_argument("--seconds", type=float, default=None, help="audio length (default 300, quick 60)")
    parser.add_argument("--models", nargs="+", default=None, help="default: tiny.en base (quick: tiny.en)")
    parser.add_argument("--modes", nargs="+", choices=("batched", "sequential"), default=["batched", "sequential"])
    parser.add_argument("--repeats", type=int, default=3, help="runs per path (>= 2); the minimum is reported")
    parser.add_argument("--cpu-threads", type=int, default=2)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument(
        "--segment-bytes",
        type=int,
        default=Settings.model_fields["segment_bytes"].default,
        help="plaintext bytes per sealed segment (service default)",
    )
    parser.add_argument("--cache-dir", type=Path, default=MODEL_CACHE)
    parser.add_argument("--output", type=Path, default=RESULTS / "asr_overhead.json")
    args = parser.parse_args(argv)
    if args.repeats < 2:
        parser.error("--repeats must be at least 2")

    seconds = args.seconds or (60.0 if args.quick else 300.0)
    models = args.models or (["tiny.en"] if args.quick else ["tiny.en", "base"])

    def log(message: str) -> None:
        print(message, flush=True)

    load_before = os.getloadavg()
    audio, clips = build_audio(seconds)
    audio_s = len(audio) / SAMPLE_RATE
    log(f"audio: {audio_s:.1f} s from {len(clips)} clips; models {models}; modes {args.modes}")
    if load_before[0] > 0.5:
        log(f"note: 1-min load average is {load_before[0]:.2f}: recent or concurrent CPU use, timings may be noisy")
    results: list[ConfigResult] = []
    with tempfile.TemporaryDirectory(prefix="anonscribe-bench-") as tmp:
        tmpdir = Path(tmp)
        wav = tmpdir / "speech.wav"
        write_wav(wav, audio)
        master = MasterKey.generate(tmpdir / "keys" / "master-keyset.json")
        store = SealedStore(LocalBlobStore(tmpdir / "blobs"), master, segment_size=args.segment_bytes)
        object_id = uuid.uuid4().hex
        upload = seal_file(store, wav, object_id)
        log(f"sealed {wav.stat().st_size} plaintext bytes into blob {upload.blob_id}")
        warmup_audio = audio[: int(WARMUP_S * SAMPLE_RATE)]
        for model in models:
            path = resolve_model(model, cache_dir=args.cache_dir)
            for mode in args.modes:
                options = AsrOptions(
                    model_path=path,
                    model_name=model,
                    device="cpu",
                    compute_type=args.compute_type,
                    cpu_threads=args.cpu_threads,
                    language="en",
                    batched=mode == "batched",
                    batch_size=args.batch_size,
                    beam_size=args.beam_size,
                )
                results.append(
                    measure(
                        model,
                        mode,
                        options,
                        wav=wav,
                        upload=upload,
                        object_id=object_id,
                        audio_s=audio_s,
                        warmup_audio=warmup_audio,
                        repeats=args.repeats,
                        log=log,
                    )
                )
    print_table(results, audio_s)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "asr_overhead",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()},
        "audio_s": round(audio_s, 2),
        "clips": clips,
        "loadavg_1_5_15": {"before": load_before, "after": os.getloadavg()},
        "settings": {
            "cpu_threads": args.cpu_threads,
            "compute_type": args.compute_type,
            "batch_size": args.batch_size,
            "beam_size": args.beam_size,
            "segment_bytes": args.segment_bytes,
            "repeats": args.repeats,
            "word_timestamps": True,
            "vad_filter": True,
        },
        "goal_ratio": GOAL_RATIO,
        "results": [asdict(r) for r in results],
    }
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0 if all(r.ratio <= GOAL_RATIO for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
