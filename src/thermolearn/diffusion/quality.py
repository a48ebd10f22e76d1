"""Checks of sample quality that can fail.

* 2D data: the energy distance between model samples and fresh data, against the same
  statistic between two fresh data sets of the same size drawn many times (its null
  distribution). The check passes when the model's statistic is below the null's
  ``1 - level`` quantile times ``tolerance``.
* Images: a leave-one-out 1-nearest-neighbour two-sample test (Lopez-Paz & Oquab 2017): pool
  model samples and held-out real images and classify each by its nearest neighbour; an
  accuracy near 1/2 means the two sets cannot be told apart, near 1 that they differ. The
  reference is the same accuracy for two real sets; both are averaged over random splits of
  the held-out images. Also reported: the distance of samples
  to their nearest training image against that of held-out images (copying shows as a ratio
  well below 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.randomness.seeds import numpy_generator
from thermolearn.validation import check_finite_array, check_positive_int


def _pairwise_mean_distance(a: np.ndarray, b: np.ndarray, same: bool, chunk: int = 2048) -> float:
    total, count = 0.0, 0
    for i in range(0, len(a), chunk):
        block = a[i : i + chunk]
        d = np.sqrt(np.maximum(((block[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0))
        total += d.sum()
        count += d.size
    if same:
        count -= len(a)  # the zero diagonal
    return total / count


def energy_distance(x: ArrayLike, y: ArrayLike) -> float:
    """Unbiased energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Szekely & Rizzo); 0 iff equal laws."""
    x = check_finite_array("x", x, ndim=2)
    y = check_finite_array("y", y, ndim=2)
    if x.shape[1] != y.shape[1] or len(x) < 2 or len(y) < 2:
        raise ValueError(f"x and y need >= 2 rows each and the same columns, got {x.shape} and {y.shape}")
    return (
        2 * _pairwise_mean_distance(x, y, False)
        - _pairwise_mean_distance(x, x, True)
        - _pairwise_mean_distance(y, y, True)
    )


@dataclass
class TwoSampleResult:
    statistic: float
    reference: np.ndarray  # null distribution: the statistic for pairs of fresh data sets
    threshold: float
    passed: bool
    p_value: float  # fraction of reference statistics >= the model's (with +1 smoothing)

    def as_dict(self) -> dict:
        return {
            "test": "energy distance",
            "statistic": self.statistic,
            "threshold": self.threshold,
            "reference_median": float(np.median(self.reference)),
            "p_value": self.p_value,
            "passed": self.passed,
        }


def two_sample_check(
    samples: ArrayLike,
    draw_fresh: Callable[[int, int], np.ndarray],
    *,
    n_reference: int = 20,
    level: float = 0.05,
    tolerance: float = 1.0,
    seed: int = 0,
) -> TwoSampleResult:
    """Energy-distance check of ``samples`` against fresh data from ``draw_fresh(n, seed)``.

    The model's statistic uses one fresh set; the reference distribution uses ``n_reference``
    pairs of other fresh sets, all of the same size as ``samples``.
    """
    s = check_finite_array("samples", samples, ndim=2)
    n_reference = check_positive_int("n_reference", n_reference, minimum=2)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    n = len(s)
    base = np.random.SeedSequence(seed).generate_state(2 * n_reference + 1)
    stat = energy_distance(s, draw_fresh(n, int(base[0])))
    ref = np.array(
        [
            energy_distance(draw_fresh(n, int(base[1 + 2 * k])), draw_fresh(n, int(base[2 + 2 * k])))
            for k in range(n_reference)
        ]
    )
    threshold = float(np.quantile(ref, 1 - level)) * tolerance
    p = float((1 + np.sum(ref >= stat)) / (1 + n_reference))
    return TwoSampleResult(float(stat), ref, threshold, bool(stat <= threshold), p)


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0)


def one_nn_accuracy(x: ArrayLike, y: ArrayLike) -> float:
    """Leave-one-out 1-NN accuracy telling rows of ``x`` from rows of ``y`` (1/2: indistinguishable)."""
    x = check_finite_array("x", x, ndim=2)
    y = check_finite_array("y", y, ndim=2)
    pooled = np.concatenate([x, y])
    labels = np.r_[np.zeros(len(x)), np.ones(len(y))]
    d = _sq_dists(pooled, pooled)
    np.fill_diagonal(d, np.inf)
    return float(np.mean(labels[np.argmin(d, axis=1)] == labels))


@dataclass
class NearestNeighbourResult:
    accuracy: float  # 1-NN accuracy, samples vs held-out real images (mean over splits)
    reference_accuracy: float  # the same for two real sets (mean over splits)
    threshold: float
    passed: bool
    copy_ratio: float  # median NN distance to training images: samples / held-out
    accuracy_stderr: float = 0.0  # spread of the two means over the random splits (split noise only)
    reference_stderr: float = 0.0
    repeats: int = 1

    def as_dict(self) -> dict:
        return {
            "test": "1-NN two-sample accuracy",
            "accuracy": self.accuracy,
            "accuracy_stderr": self.accuracy_stderr,
            "reference_accuracy": self.reference_accuracy,
            "reference_stderr": self.reference_stderr,
            "threshold": self.threshold,
            "repeats": self.repeats,
            "passed": self.passed,
            "copy_ratio": self.copy_ratio,
        }


def nearest_neighbour_check(
    samples: ArrayLike, held_out: ArrayLike, train: ArrayLike, *, margin: float = 0.1, repeats: int = 10, seed: int = 0
) -> NearestNeighbourResult:
    """1-NN two-sample check for images (see the module doc); passes when accuracy <= reference + margin.

    ``held_out`` must have at least twice as many rows as ``samples``. Each of ``repeats``
    random splits takes two disjoint sets of held-out images the size of ``samples``: the
    first is compared with the samples, the second with the first for the reference. Both
    accuracies are averaged over the splits, so the verdict does not hang on one split.
    """
    s = check_finite_array("samples", samples, ndim=2)
    h = check_finite_array("held_out", held_out, ndim=2)
    tr = check_finite_array("train", train, ndim=2)
    repeats = check_positive_int("repeats", repeats)
    n = len(s)
    if len(h) < 2 * n:
        raise ValueError(f"held_out needs at least 2 x {n} rows (got {len(h)}); draw fewer samples")
    rng = numpy_generator(seed)
    acc, ref = np.empty(repeats), np.empty(repeats)
    for r in range(repeats):
        perm = rng.permutation(len(h))
        real_a, real_b = h[perm[:n]], h[perm[n : 2 * n]]
        acc[r] = one_nn_accuracy(s, real_a)
        ref[r] = one_nn_accuracy(real_b, real_a)
    nn_s = np.sqrt(_sq_dists(s, tr).min(1))
    nn_h = np.sqrt(_sq_dists(h, tr).min(1))
    ratio = float(np.median(nn_s) / max(np.median(nn_h), 1e-12))
    threshold = float(ref.mean()) + margin

    def stderr(x: np.ndarray) -> float:
        return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0

    return NearestNeighbourResult(
        float(acc.mean()),
        float(ref.mean()),
        threshold,
        bool(acc.mean() <= threshold),
        ratio,
        stderr(acc),
        stderr(ref),
        repeats,
    )
