"""Peak memory of the whole pipeline (decode -> ASR -> diarise -> align -> redact) on a long recording.

Builds an N-hour 16 kHz WAV from the shared real-speech clips (repeated, 0.5 s gaps), seals it like an
upload, and runs the worker's pipeline on the decrypting reader in a child process while sampling
its RSS every 0.5 s. Goal: a 2-hour recording in <= 2.5 GB peak RSS.
Run from the repository root: python -m bench.long_memory --hours 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import psutil

from bench.common import MODEL_CACHE, RESULTS, ROOT, SHARED, module_command


def build_wav(path: Path, hours: float) -> float:
    from pipeline.decode import decode_audio

    clips = [decode_audio(str(p)) for p in sorted(SHARED.glob("*.wav")) if "stereo" not in p.name]
    gap = np.zeros(8000, dtype=np.float32)
    target = int(hours * 3600 * 16_000)
    written = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        while written < target:
            for clip in clips:
                chunk = np.concatenate([clip, gap])[: target - written]
                w.writeframes((np.clip(chunk, -1, 1) * 32767).astype("<i2").tobytes())
                written += chunk.size
                if written >= target:
                    break
    return written / 16_000


def child(wav: str, model: str, cache: str, stage_file: str) -> None:
    from pipeline.run import SpeakerHints, run_pipeline
    from service.core.crypto import MasterKey
    from service.core.sealed import SealedStore
    from service.core.settings import Settings
    from service.core.storage import LocalBlobStore
    from workers.options import pipeline_options

    tmp = Path(tempfile.mkdtemp())
    store = SealedStore(LocalBlobStore(tmp / "blobs"), MasterKey.generate(tmp / "mk.json"), segment_size=1 << 20)
    upload = store.begin(object_id="long")
    with open(wav, "rb") as fh:
        while chunk := fh.read(1 << 20):
            upload.write(chunk)
    upload.finish()
    settings = Settings(_env_file=None, whisper_model=model, cpu_threads=2, model_cache_dir=Path(cache))
    t = time.time()
    asr, diarisation, overlap = pipeline_options(settings)
    tr = run_pipeline(upload.open_reader(object_id="long"), asr=asr,
                      diarisation=diarisation, hints=SpeakerHints(min_speakers=1, max_speakers=4),
                      redact=True, on_stage=lambda name: Path(stage_file).write_text(name),
                      overlap=overlap)
    print(json.dumps({"seconds": time.time() - t, "segments": len(tr.segments), "speakers": len(tr.speakers)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--model", default="base")
    parser.add_argument("--cache-dir", default=str(MODEL_CACHE))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "long.wav"
        audio_s = build_wav(wav, args.hours)
        stage_file = Path(tmp) / "stage"
        stage_file.write_text("loading")
        proc = subprocess.Popen(module_command("bench.long_memory", "--child", str(wav), args.model, args.cache_dir,
                                               str(stage_file)),
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=ROOT)
        ps = psutil.Process(proc.pid)
        peak = 0
        by_stage: dict[str, int] = {}
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss
            except psutil.NoSuchProcess:
                break
            peak = max(peak, rss)
            stage = stage_file.read_text() or "?"
            by_stage[stage] = max(by_stage.get(stage, 0), rss)
            time.sleep(0.5)
        out = proc.stdout.read() if proc.stdout else ""
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    result.update({"audio_s": audio_s, "peak_rss_gb": round(peak / 1e9, 3), "model": args.model,
                   "peak_rss_gb_by_stage": {k: round(v / 1e9, 3) for k, v in by_stage.items()},
                   "rtf": round(result.get("seconds", 0) / audio_s, 4) if result else None})
    print(f"{args.hours:g} h ({audio_s:.0f} s), model {args.model}: peak RSS {peak / 1e9:.2f} GB "
          f"(goal <= 2.5 GB), wall {result.get('seconds', 0):.0f} s, RTF {result.get('rtf')}, "
          f"segments {result.get('segments')}, speakers {result.get('speakers')}")
    print("peak RSS by stage (GB): " + ", ".join(f"{k} {v / 1e9:.2f}" for k, v in by_stage.items()))
    out_path = RESULTS / "long_memory.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
