"""Speaker diarisation with pyannote.audio, fully offline.

Default recipe: pyannote segmentation-3.0 + CAM++ embeddings + agglomerative (centroid) clustering.
VBx would need PLDA files that only come from the model hub. A user's own pyannote pipeline
directory (e.g. a local copy of community-1) can replace the recipe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline import torch_env
from pipeline.types import SAMPLE_RATE
from pipeline.weights import diarisation_weights

torch_env.prepare()

ProgressFn = Callable[[float], None]
# Share of the diarisation progress bar per pyannote step (bench/end_to_end.py: 25 s vs 28 s on 30 min).
SPAN = {"segmentation": (0.0, 0.45), "embeddings": (0.45, 1.0)}
# The window step when none is set: pyannote's own 0.1 (a window every second) up to half an hour, 0.2 beyond. DER
# is 27.7 vs 28.0 % on the shared set (bench/diarisation_eval.py) for 1.6x the diarisation time; on an hour, the
# coarser step lets diarisation finish early enough to hand ASR's last pieces to its thread: RTF 0.100 vs 0.118 on a
# 2-core AMD EPYC (bench/end_to_end.py, the 6-minute-per-hour bound of issue 15), the same words, the pyannote
# sample's DER 7.1 vs 5.6 %. Beyond 90 min twice the windows would also push peak memory past 2.5 GB.
FINE_STEP, COARSE_STEP, FINE_STEP_UP_TO_S = 0.1, 0.2, 30 * 60.0


@dataclass(frozen=True)
class DiariseOptions:
    cache_dir: Path
    device: str = "auto"
    pipeline_path: Path | None = None
    # None: chosen per recording by `step_for` from its duration.
    segmentation_step: float | None = None
    threshold: float = 0.7
    min_cluster_size: int = 12
    min_duration_off: float = 0.0
    embedding_batch_size: int = 32
    segmentation_batch_size: int = 32
    # CAM++ trunk run once per block of the file instead of once per overlapping window (see campplus).
    block_embeddings: bool = True
    embedding_block_s: float = 10.0
    embedding_context_s: float = 1.0
    # Embeddings the dendrogram is built on at most (pairwise distances are quadratic in it).
    max_linkage: int = 6000
    threads: int = 0


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


@dataclass
class Diarisation:
    turns: list[Turn]
    speakers: list[str]
    # speaker label -> its CAM++ centroid (the clustering's own, plain floats).
    centroids: dict[str, list[float]] = field(default_factory=dict)
    # speaker label -> the voiceprint the service keeps and matches (pipeline.voiceprint): CAM++ over the speaker's
    # own clean speech (speech_prints), or the centroid when the pipeline's embedding is not CAM++. A speaker with
    # too little clean speech has none.
    voiceprints: dict[str, list[float]] = field(default_factory=dict)


_pipelines: dict[DiariseOptions, object] = {}
_lock = threading.Lock()


def _device(name: str):  # type: ignore[no-untyped-def]
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _block_pipeline_class():  # type: ignore[no-untyped-def]
    from pyannote.audio.pipelines import SpeakerDiarization

    from pipeline.diarise.campplus import CamPlusPlus, embed_chunks

    class BlockEmbeddingDiarization(SpeakerDiarization):  # type: ignore[misc]
        """pyannote's pipeline with window embeddings pooled from one pass of the CAM++ trunk."""

        block_s: float = 10.0
        context_s: float = 1.0

        def get_embeddings(self, file, binary_segmentations, exclude_overlap=False, hook=None):  # type: ignore[no-untyped-def]
            model = self._embedding.model_
            if exclude_overlap or not isinstance(model, CamPlusPlus) or "waveform" not in file:
                return super().get_embeddings(file, binary_segmentations, exclude_overlap=exclude_overlap, hook=hook)
            if self.training and "embeddings" in file.get("training_cache/embeddings", {}):
                # Tuning re-clusters one file many times; powerset segmentation makes embeddings reusable.
                return file["training_cache/embeddings"]["embeddings"]
            window = binary_segmentations.sliding_window
            num_chunks = binary_segmentations.data.shape[0]

            def on_batch(done: int, total: int) -> None:
                if hook is not None:
                    hook("embeddings", None, total=total, completed=done)

            embeddings = embed_chunks(
                model,
                file["waveform"][0],
                chunk_starts_s=[window[c].start for c in range(num_chunks)],
                chunk_duration_s=window.duration,
                masks=binary_segmentations.data,
                block_s=self.block_s,
                context_s=self.context_s,
                on_batch=on_batch,
            )
            if self.training:
                file["training_cache/embeddings"] = {"embeddings": embeddings}
            return embeddings

    return BlockEmbeddingDiarization


def step_for(step: float | None, duration_s: float) -> float:
    if step is not None:
        return step
    return FINE_STEP if duration_s <= FINE_STEP_UP_TO_S else COARSE_STEP


def load_pipeline(options: DiariseOptions):  # type: ignore[no-untyped-def]
    if options.segmentation_step is None:
        options = replace(options, segmentation_step=COARSE_STEP)
    with _lock:
        if options in _pipelines:
            return _pipelines[options]
        import torch
        from pyannote.audio import Model, Pipeline
        from pyannote.audio.core.plda import PLDA
        from pyannote.audio.pipelines import SpeakerDiarization

        if options.threads:
            torch.set_num_threads(options.threads)
        if options.pipeline_path is not None:
            pipeline = Pipeline.from_pretrained(options.pipeline_path)
        else:
            from pipeline.diarise.campplus import CamPlusPlus
            from pipeline.diarise.clustering import BoundedAgglomerativeClustering

            paths = diarisation_weights(cache_dir=options.cache_dir)
            segmentation = Model.from_pretrained(paths["segmentation"].parent)
            embedding = CamPlusPlus(network_source=paths["embedding_network"], checkpoint=paths["embedding"])
            cls = _block_pipeline_class() if options.block_embeddings else SpeakerDiarization
            pipeline = cls(
                segmentation=segmentation,
                segmentation_step=options.segmentation_step,
                embedding=embedding,
                # pyannote 4 type-checks `plda` even for clustering that never uses it; an unloaded
                # instance satisfies the check without touching the hub.
                plda=PLDA.__new__(PLDA),
                clustering="AgglomerativeClustering",
                embedding_batch_size=options.embedding_batch_size,
                segmentation_batch_size=options.segmentation_batch_size,
            )
            pipeline.clustering = BoundedAgglomerativeClustering(metric="cosine")
            pipeline.clustering.max_linkage = options.max_linkage
            pipeline.block_s = options.embedding_block_s
            pipeline.context_s = options.embedding_context_s
            pipeline.instantiate(
                {
                    "segmentation": {"min_duration_off": options.min_duration_off},
                    "clustering": {
                        "method": "centroid",
                        "min_cluster_size": options.min_cluster_size,
                        "threshold": options.threshold,
                    },
                }
            )
        pipeline.to(_device(options.device))
        _pipelines[options] = pipeline
        return pipeline


def diarise(
    audio: np.ndarray,
    *,
    options: DiariseOptions,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    on_progress: ProgressFn | None = None,
) -> Diarisation:
    import torch

    options = replace(options, segmentation_step=step_for(options.segmentation_step, len(audio) / SAMPLE_RATE))
    pipeline = load_pipeline(options)
    waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).unsqueeze(0)

    def hook(step_name: str, step_artifact: object, file: object = None, total: int | None = None,
             completed: int | None = None) -> None:
        # Segmentation and embeddings take nearly all the time, in about equal parts.
        if on_progress and total and step_name in SPAN:
            lo, hi = SPAN[step_name]
            on_progress(lo + (hi - lo) * min(1.0, (completed or 0) / total))

    with torch.inference_mode():
        output = pipeline(
            {"waveform": waveform, "sample_rate": SAMPLE_RATE},
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            hook=hook,
        )
    annotation = getattr(output, "speaker_diarization", output)
    turns = [
        Turn(start=round(seg.start, 3), end=round(seg.end, 3), speaker=str(label))
        for seg, _, label in annotation.itertracks(yield_label=True)
        if seg.end > seg.start
    ]
    turns.sort(key=lambda t: (t.start, t.end))
    speakers = sorted({t.speaker for t in turns})
    centroids = _centroids(annotation, output, speakers)
    return Diarisation(turns=turns, speakers=speakers, centroids=centroids,
                       voiceprints=_voiceprints(pipeline, audio, turns, centroids))


def _voiceprints(pipeline: object, audio: np.ndarray, turns: list[Turn], centroids: dict[str, list[float]]
                 ) -> dict[str, list[float]]:
    """Clean-speech voiceprints (bench/voice_profile.py: they separate speakers better than the centroids)."""
    import torch

    from pipeline.diarise.campplus import CamPlusPlus
    from pipeline.diarise.speech_prints import slot_voiceprints

    model = getattr(getattr(pipeline, "_embedding", None), "model_", None)
    if not isinstance(model, CamPlusPlus):
        return dict(centroids)
    # Many small inputs: one thread. With two on two busy cores the threads spin at each layer's barrier, 120 s of
    # speech took 31.6 s instead of 3.6 s (measured beside other jobs, 2026-12-07).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return slot_voiceprints(model, audio, [(t.start, t.end, t.speaker) for t in turns])
    finally:
        torch.set_num_threads(threads)


def _centroids(annotation: object, output: object, speakers: list[str]) -> dict[str, list[float]]:
    """pyannote 4 returns one centroid per label, in `annotation.labels()` order; a user's own pipeline may not."""
    embeddings = getattr(output, "speaker_embeddings", None)
    if embeddings is None:
        return {}
    labels = annotation.labels()  # type: ignore[attr-defined]
    rows = np.asarray(embeddings, dtype=np.float64)
    if rows.ndim != 2 or len(rows) < len(labels):
        return {}
    return {str(label): [float(v) for v in rows[i]] for i, label in enumerate(labels)
            if str(label) in speakers and np.all(np.isfinite(rows[i])) and np.any(rows[i])}
