"""Clustering window embeddings into speakers.

Average-linkage agglomerative clustering on cosine distance (scikit-learn's
``AgglomerativeClustering``), cut at the distance threshold. Clusters with too little
speech, and the smallest ones beyond the most speakers allowed, are folded into their
nearest neighbour; with too few clusters the clustering is run again for the fewest
allowed. (A given count is both bounds, so an outlier cluster is folded away rather than
kept at the cost of a real speaker: on the development conversations this gives a lower
DER than clustering straight into the given count.) Finally every window, including those
too short to take part in the clustering, goes to the speaker whose centroid it is
closest to.
"""

from __future__ import annotations

import numpy as np

from earful.diarize.options import DiarizeOptions
from earful.errors import DependencyMissingError

#: Above this many windows, consecutive windows are averaged in groups before clustering
#: (which costs memory quadratic in its points: 3000 points is about 36 MB).
MAX_POINTS = 3000


def _normalise(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)
    return out


def _centroids(emb: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return _normalise(np.stack([emb[labels == c].mean(axis=0) for c in range(k)]))


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(labels, return_inverse=True)
    out: np.ndarray = inverse.astype(np.int64)
    return out


def _agglomerate(points: np.ndarray, threshold: float | None = None,
                 n_clusters: int | None = None) -> np.ndarray:
    """Average-linkage clusters of ``points`` on cosine distance: merging stops at the
    distance ``threshold``, or at ``n_clusters`` clusters."""
    try:
        from sklearn.cluster import AgglomerativeClustering
    except ImportError as e:
        raise DependencyMissingError("scikit-learn", "diarize", "speaker clustering") from e
    model = AgglomerativeClustering(n_clusters=n_clusters, metric="cosine", linkage="average",
                                    distance_threshold=threshold,
                                    compute_full_tree=threshold is not None)
    return _relabel(model.fit_predict(points))


def _fold_small(emb: np.ndarray, labels: np.ndarray, seconds_per_point: float,
                min_seconds: float, lo: int, hi: int) -> np.ndarray:
    """Merge the smallest cluster into its nearest neighbour while there are more than
    ``hi`` clusters, or while it has less than ``min_seconds`` of speech and more than
    ``lo`` clusters remain."""
    while True:
        k = int(labels.max()) + 1
        if k <= max(lo, 1):
            return labels
        sizes = np.bincount(labels, minlength=k) * seconds_per_point
        small = int(np.argmin(sizes))
        if k <= hi and sizes[small] >= min_seconds:
            return labels
        cents = _centroids(emb, labels, k)
        sims = cents @ cents[small]
        sims[small] = -np.inf
        labels = _relabel(np.where(labels == small, int(np.argmax(sims)), labels))


def cluster_windows(emb: np.ndarray, durations: np.ndarray, opts: DiarizeOptions) -> np.ndarray:
    """A speaker index (0..k-1) for every window.

    Args:
        emb: (n, d) L2-normalised embeddings.
        durations: Each window's length in seconds; windows shorter than half of
            ``opts.window`` are left out of the clustering and given the nearest speaker.
        opts: Speaker counts, threshold and the smallest cluster.
    """
    n = emb.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    lo, hi = opts.speaker_range()
    usable = np.flatnonzero(durations >= opts.window / 2)
    if usable.size < 2:
        usable = np.arange(n)
    points = emb[usable]
    group = int(np.ceil(points.shape[0] / MAX_POINTS))
    if group > 1:  # average runs of consecutive windows: one speaker mostly holds the floor
        cut = points.shape[0] // group * group
        points = _normalise(points[:cut].reshape(-1, group, points.shape[1]).mean(axis=1))
    lo, hi = min(lo, points.shape[0]), min(hi, points.shape[0])
    if points.shape[0] == 1:
        labels = np.zeros(1, np.int64)
    else:
        # Cut at the threshold, fold away clusters with too little speech (and any beyond
        # ``hi``); too few clusters: cluster again into ``lo``.
        labels = _agglomerate(points, threshold=opts.threshold)
        labels = _fold_small(points, labels, opts.step * group, opts.min_cluster_seconds,
                             lo, hi)
        if int(labels.max()) + 1 < lo:
            labels = _agglomerate(points, n_clusters=lo)
    k = int(labels.max()) + 1
    cents = _centroids(points, labels, k)
    # Every window to its nearest speaker: refines the clusters and places the windows
    # that were left out of it.
    out: np.ndarray = np.argmax(emb @ cents.T, axis=1).astype(np.int64)
    return out
