"""Serving the review page's player: decode the whole recording once, or only from where each range starts?

What is measured, for a 30 s clip and a synthetic 60-minute recording (the shared speech clip looped, in the
containers uploads arrive in: 16-bit WAV, AAC/M4A, 44.1 kHz stereo MP3, Opus/WebM), each read through the real
decrypting reader from a sealed local blob:
- whole: `decode_audio` of the full recording (what a once-per-session cache would pay on the first request) and
  the size of its 16-bit PCM (what the cache would then hold per recording);
- seek: time to the first 2 s chunk of `stream_pcm16` started at 5 s, 30 min and 58 min (what each range request
  pays; service/recordings/playback.py serves ranges this way).
The files are synthetic (public test speech) and live in a temp dir removed afterwards.

Run from the repository root: ``python -m bench.player_decode`` (needs ffmpeg). Writes
bench/results/player_decode.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import RESULTS, SHARED
from pipeline.decode import decode_audio, stream_pcm16
from service.core.crypto import MasterKey
from service.core.sealed import SealedStore
from service.core.storage import LocalBlobStore

CODECS = {
    "wav": ("-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"),
    "m4a": ("-ac", "1", "-c:a", "aac", "-b:a", "64k"),
    "mp3": ("-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k"),
    "webm": ("-ac", "1", "-c:a", "libopus", "-b:a", "32k"),
}


def make(out: Path, seconds: int, ext: str) -> Path:
    path = out / f"{seconds}s.{ext}"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i",
                    str(SHARED / "azure_en_general_test.wav"), "-t", str(seconds), *CODECS[ext], str(path)],
                   check=True)
    return path


def seal(store: SealedStore, path: Path) -> object:
    upload = store.begin(object_id="bench")
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            upload.write(chunk)
    upload.finish()
    return upload


def measure(store: SealedStore, path: Path, seconds: int) -> dict[str, object]:
    upload = seal(store, path)
    t = time.perf_counter()
    whole = decode_audio(upload.open_reader(object_id="bench"), expected_s=seconds)  # type: ignore[attr-defined]
    result: dict[str, object] = {"whole_decode_s": round(time.perf_counter() - t, 2),
                                 "pcm16_mb": round(whole.size * 2 / 1e6, 1)}
    del whole
    for at in (5.0, min(1800.0, seconds / 2), max(0.0, seconds - 120.0)):
        t = time.perf_counter()
        chunks = stream_pcm16(upload.open_reader(object_id="bench"), start_s=at,  # type: ignore[attr-defined]
                              min_samples=32_000)
        next(chunks)
        chunks.close()
        result[f"first_chunk_at_{int(at)}s_ms"] = round((time.perf_counter() - t) * 1000, 1)
    return result


def main() -> None:
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is needed")
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="player-bench-") as tmp:
        root = Path(tmp)
        store = SealedStore(LocalBlobStore(root / "blobs"), MasterKey.generate(root / "mk.json"),
                            segment_size=64 * 1024)
        for seconds in (30, 3600):
            for ext in CODECS:
                path = make(root, seconds, ext)
                results[f"{seconds}s.{ext}"] = measure(store, path, seconds)
                print(f"{seconds:>5}s {ext:<5} {results[f'{seconds}s.{ext}']}", flush=True)
                path.unlink()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "player_decode.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
