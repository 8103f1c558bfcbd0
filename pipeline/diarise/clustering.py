"""Agglomerative clustering of window embeddings in bounded memory.

pyannote's agglomerative clustering builds the full pairwise distance matrix of every active
(window, speaker) embedding: N(N-1)/2 doubles. With a 10 s window every 2 s, a two-speaker interview
yields ~1.5 per window, so ~5 500 for 2 hours (120 MB) but ~16 000 for 6 hours, the upload limit
(1 GB, and quadratic time). Consecutive windows overlap by 80 %, so neighbouring embeddings are
near copies: above `max_linkage` the dendrogram is built on an evenly spaced subset (cluster sizes
scaled to match) and every embedding then joins the cluster with the nearest centroid. Below the
cap nothing changes.
"""

from __future__ import annotations

import math

import numpy as np
from pyannote.audio.pipelines.clustering import AgglomerativeClustering
from scipy.spatial.distance import cdist

DEFAULT_MAX_LINKAGE = 6000  # 18 M distances, 144 MB


class BoundedAgglomerativeClustering(AgglomerativeClustering):  # type: ignore[misc]
    max_linkage: int = DEFAULT_MAX_LINKAGE

    def cluster(
        self,
        embeddings: np.ndarray,
        min_clusters: int | None = None,
        max_clusters: int | None = None,
        num_clusters: int | None = None,
    ) -> np.ndarray:
        n = embeddings.shape[0]
        if n <= self.max_linkage:
            return super().cluster(embeddings, min_clusters=min_clusters, max_clusters=max_clusters,
                                   num_clusters=num_clusters)
        sample = np.unique(np.linspace(0, n - 1, self.max_linkage).round().astype(int))
        full_min_size = self.min_cluster_size
        # A speaker's share of the embeddings, not their count, is what survives subsampling.
        self.min_cluster_size = max(1, math.ceil(full_min_size * len(sample) / n))
        try:
            labels = super().cluster(embeddings[sample].copy(), min_clusters=min_clusters,
                                     max_clusters=max_clusters, num_clusters=num_clusters)
        finally:
            self.min_cluster_size = full_min_size
        centroids = np.vstack([embeddings[sample][labels == k].mean(axis=0) for k in np.unique(labels)])
        out = np.empty(n, dtype=labels.dtype)
        for start in range(0, n, 8192):  # a distance block at a time
            block = embeddings[start: start + 8192]
            out[start: start + len(block)] = np.argmin(cdist(block, centroids, metric=self.metric), axis=1)
        return out
