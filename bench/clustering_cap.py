"""What capping the dendrogram at `max_linkage` embeddings changes on a long recording.

Agglomerative clustering in pyannote keeps every pairwise distance (quadratic memory). The service builds the
dendrogram on at most 6000 evenly spaced window embeddings and assigns the rest to the nearest centroid
(pipeline/diarise/clustering.py). This bench diarises one long recording built from the shared real speech
(default 30 min), computing segmentation and embeddings once, then clusters them exactly and with caps well
below its embedding count (so the subsampling ratio is like that of a 6-hour file at the 6000 cap), and reports
for each: the
disagreement with the exact result (DER with the exact output as reference, collar 0, optimal speaker mapping),
speaker count, clustering time and the clustering step's own peak memory (tracemalloc).

Run from the repository root: python -m bench.clustering_cap [--minutes 30]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from bench.common import MODEL_CACHE, RESULTS
from pipeline import torch_env

torch_env.prepare()


def main(argv: list[str] | None = None) -> int:
    import tempfile

    import torch
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from bench.end_to_end import build_wav
    from pipeline.decode import decode_audio
    from pipeline.diarise import DiariseOptions, load_pipeline

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--caps", type=int, nargs="+", default=[1000, 500, 250])
    parser.add_argument("--cache-dir", default=str(MODEL_CACHE))
    args = parser.parse_args(argv)
    torch.set_num_threads(2)

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "long.wav"
        audio_s, _ = build_wav(wav, args.minutes * 60)
        audio = decode_audio(str(wav))
    pipeline = load_pipeline(DiariseOptions(cache_dir=Path(args.cache_dir), threads=2))
    file = {"waveform": torch.from_numpy(audio).unsqueeze(0), "sample_rate": 16_000}
    pipeline.training = True  # pyannote then caches segmentation and embeddings in `file` for re-clustering
    with torch.inference_mode():
        prepared = pipeline.prepare_one(file)

    def run(cap: int) -> tuple[Annotation, float, float]:
        pipeline.clustering.max_linkage = cap
        tracemalloc.start()
        t = time.perf_counter()
        with torch.inference_mode():
            out = pipeline.apply(prepared)
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        return getattr(out, "speaker_diarization", out), elapsed, peak

    _, first_s, _ = run(10**9)  # exact; also fills the segmentation/embedding cache
    exact, exact_s, exact_mb = run(10**9)
    embeddings = prepared["training_cache/embeddings"]["embeddings"]
    # pyannote clusters only the (window, speaker) pairs with enough speech; this is the upper bound.
    pairs = int(np.prod(embeddings.shape[:2]))
    rows = [{"cap": "exact", "speakers": len(exact.labels()), "disagreement": 0.0, "cluster_s": exact_s,
             "peak_mb": exact_mb}]
    for cap in args.caps:
        hyp, s, mb = run(cap)
        der = DiarizationErrorRate(collar=0.0)(exact, hyp, uem=Segment(0, audio_s))
        rows.append({"cap": cap, "speakers": len(hyp.labels()), "disagreement": float(der), "cluster_s": s,
                     "peak_mb": mb})
    print(f"{audio_s / 60:.1f} min of real speech, {embeddings.shape[0]} windows, {pairs} window x local-speaker "
          f"embeddings at most (segmentation + embeddings {first_s - exact_s:.0f} s)")
    print(f"{'cap':>8} {'speakers':>8} {'vs exact':>9} {'cluster s':>9} {'peak MB':>8}")
    for r in rows:
        print(f"{r['cap']!s:>8} {r['speakers']:>8} {r['disagreement']:>8.1%} {r['cluster_s']:>9.1f} "
              f"{r['peak_mb']:>8.0f}")
    out = RESULTS / "clustering_cap.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"audio_s": audio_s, "windows": embeddings.shape[0], "pairs": pairs, "rows": rows},
                              indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
