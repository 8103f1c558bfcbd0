"""Bounded-memory agglomerative clustering of window embeddings (pipeline/diarise/clustering.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import torch_env

torch_env.prepare()

from pipeline.diarise.clustering import BoundedAgglomerativeClustering  # noqa: E402


def speakers(rng: np.random.Generator, sizes: list[int], spread: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of len(sizes) speakers, in speaking order blocks as a long interview produces them."""
    centres = rng.standard_normal((len(sizes), 192))
    parts, truth = [], []
    for k, size in enumerate(sizes):
        parts.append(centres[k] + spread * rng.standard_normal((size, 192)))
        truth += [k] * size
    order = rng.permutation(sum(sizes))
    return np.vstack(parts)[order].astype(np.float32), np.array(truth)[order]


def make(max_linkage: int) -> BoundedAgglomerativeClustering:
    c = BoundedAgglomerativeClustering(metric="cosine")
    c.instantiate({"method": "centroid", "threshold": 0.7, "min_cluster_size": 12})
    c.max_linkage = max_linkage
    return c


def same_partition(a: np.ndarray, b: np.ndarray) -> float:
    """Share of items whose label agrees after mapping each predicted cluster to its majority truth."""
    agree = 0
    for k in np.unique(a):
        agree += np.bincount(b[a == k]).max()
    return agree / len(a)


def test_below_the_cap_it_is_pyannotes_clustering() -> None:
    rng = np.random.default_rng(1)
    x, _ = speakers(rng, [300, 200, 40])
    bounded = make(10_000).cluster(x.copy(), min_clusters=1, max_clusters=4)
    plain = make(10_000)
    plain_labels = super(BoundedAgglomerativeClustering, plain).cluster(x.copy(), min_clusters=1, max_clusters=4)
    assert np.array_equal(bounded, plain_labels)


@pytest.mark.parametrize("sizes", [[12_000, 7_000, 1_000], [18_000, 2_000]])
def test_above_the_cap_speakers_are_recovered(sizes: list[int]) -> None:
    rng = np.random.default_rng(2)
    x, truth = speakers(rng, sizes)
    labels = make(1500).cluster(x, min_clusters=1, max_clusters=4)
    assert len(labels) == len(x)
    assert len(np.unique(labels)) == len(sizes)  # a 5 % speaker survives subsampling
    assert same_partition(labels, truth) > 0.99


def test_speaker_count_hints_still_apply_above_the_cap() -> None:
    rng = np.random.default_rng(3)
    x, _ = speakers(rng, [6000, 4000, 3000])
    labels = make(1000).cluster(x, min_clusters=2, max_clusters=2)
    assert len(np.unique(labels)) == 2
