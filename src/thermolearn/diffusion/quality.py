"""Checks of sample quality that can fail.

* 2D data: the energy distance between model samples and fresh data, against the same
  statistic between two fresh data sets of the same size drawn ``n_reference`` times (its null
  distribution). The permutation p-value is (1 + #{reference >= statistic}) / (1 + n_reference),
  and the check passes when it exceeds ``level``: samples from the data's own law then fail
  with probability at most ``level`` (exactly, by exchangeability; 1/21 for 20 references at
  level 0.05).
* Images: a leave-one-out 1-nearest-neighbour two-sample test (Lopez-Paz & Oquab 2017; Xu et al.
  2018): pool n model samples and n held-out real images and classify each by the class of its
  nearest neighbour. Each class's accuracy is judged on its own, because their average hides
  failures: samples spread far from the data have real images as their neighbours (samples
  score 0) while real images find each other (real images score 1), averaging 1/2, the value
  of a perfect model. For indistinguishable sets both sit at chance, (n - 1)/(2n - 1) (a point's
  neighbour is one of the 2n - 1 others, n - 1 of its own class). The statistic is the larger
  distance of the two from chance, averaged over ``repeats`` random draws of the real images;
  its null distribution comes from the same procedure with the class labels shuffled over the
  pooled images (a permutation test: exact under exchangeability, whatever the data). The check
  fails when that p-value is at most ``level`` and the deviation exceeds ``margin`` (a
  tolerance for differences too small to matter). Also reported: the pooled accuracy and the
  same for two real sets (the older, averaged view), and the distance of samples to their
  nearest training image against that of held-out images (copying shows as a ratio well below 1).
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
    """The energy-distance two-sample test of samples against data: the statistic, its null reference, threshold and
    permutation p-value."""

    statistic: float
    reference: np.ndarray  # null distribution: the statistic for pairs of fresh data sets
    threshold: float  # the largest statistic that passes (tolerance times a reference value)
    passed: bool
    p_value: float  # (1 + #{reference >= statistic}) / (1 + n_reference)
    level: float = 0.05

    def as_dict(self) -> dict:
        """The result as a JSON-ready dict (the reference as its median)."""
        return {
            "test": "energy distance",
            "statistic": self.statistic,
            "threshold": self.threshold,
            "reference_median": float(np.median(self.reference)),
            "p_value": self.p_value,
            "level": self.level,
            "passed": self.passed,
        }


def _check_level(level: float, n_null: int, what: str) -> float:
    """``level`` as a float in (0, 1) that a p-value from ``n_null`` null statistics can reach."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    level = float(level)
    if 1.0 / (1 + n_null) > level:
        # the smallest p-value, 1/(1 + n_null), would pass: a check that cannot fail
        raise ValueError(
            f"{what} = {n_null} cannot reach level {level:g}: the smallest p-value is 1/(1 + {what}); "
            f"use {what} >= {math.ceil(1.0 / level - 1.0 - 1e-9)}"
        )
    return level


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
    pairs of other fresh sets, all of the same size as ``samples``. With ``tolerance`` 1 the
    check passes exactly when ``p_value > level``, so samples from the data's law fail with
    probability at most ``level``; ``n_reference`` must be at least 1/level - 1 for the check
    to be able to fail. ``tolerance`` scales the threshold (above 1: more lenient).
    """
    s = check_finite_array("samples", samples, ndim=2)
    n_reference = check_positive_int("n_reference", n_reference, minimum=2)
    level = _check_level(level, n_reference, "n_reference")
    n = len(s)
    if n < 2:
        raise ValueError(f"samples needs at least 2 rows for the energy distance, got {n}")
    base = np.random.SeedSequence(seed).generate_state(2 * n_reference + 1)
    stat = energy_distance(s, draw_fresh(n, int(base[0])))
    ref = np.array(
        [
            energy_distance(draw_fresh(n, int(base[1 + 2 * k])), draw_fresh(n, int(base[2 + 2 * k])))
            for k in range(n_reference)
        ]
    )
    p = float((1 + np.sum(ref >= stat)) / (1 + n_reference))
    # the fewest references >= the statistic that still give p > level; the threshold is the
    # reference value of that rank, so stat <= threshold exactly when p > level
    counts = np.arange(n_reference + 1)
    need = int(counts[(1 + counts) / (1 + n_reference) > level][0])
    threshold = float(np.sort(ref)[::-1][need - 1]) * tolerance
    passed = p > level if tolerance == 1.0 else stat <= threshold
    return TwoSampleResult(float(stat), ref, threshold, bool(passed), p, level)


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
    """The 1-NN two-sample test of samples against held-out real images (accuracies near chance pass), with a copy
    check: median NN distance to the training images, samples over held-out."""

    accuracy: float  # pooled 1-NN accuracy, samples vs held-out real images (mean over splits)
    reference_accuracy: float  # the same for two real sets (mean over splits)
    threshold: float  # chance + margin: class accuracies within chance +- margin pass even if significant
    passed: bool
    copy_ratio: float  # median NN distance to training images: samples / held-out
    # spread of the two means over the random splits (split noise only); NaN for one split
    accuracy_stderr: float = math.nan
    reference_stderr: float = math.nan
    repeats: int = 1
    sample_accuracy: float = math.nan  # fraction of samples whose nearest neighbour is a sample
    real_accuracy: float = math.nan  # fraction of real images whose nearest neighbour is real
    chance: float = 0.5  # both class accuracies' mean for indistinguishable sets, (n - 1)/(2n - 1)
    deviation: float = math.nan  # the statistic: max |class accuracy - chance|
    p_value: float = math.nan  # permutation p-value of the deviation
    level: float = 0.05
    permutations: int = 0

    def as_dict(self) -> dict:
        """The result as a JSON-ready dict."""
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
            "sample_accuracy": self.sample_accuracy,
            "real_accuracy": self.real_accuracy,
            "chance": self.chance,
            "deviation": self.deviation,
            "p_value": self.p_value,
            "level": self.level,
            "permutations": self.permutations,
        }


_NEIGHBOURS_KEPT = 64  # nearest others listed per point; a subset's neighbour is almost always among them
_HELD_OUT_POOL = 4  # the test draws its real images from at most this many times n held-out images


class _Neighbours:
    """Each point's nearest others in order (ties by index), to find nearest neighbours within subsets.

    The split and permutation draws of the test each ask for the nearest neighbour of every point
    of a subset of 2n pooled points among that subset; the first listed point in the subset is it.
    A subset holds at least 2/5 of the points (``_HELD_OUT_POOL``), so missing all 64 listed has
    probability below 1e-14 per point; such a point is computed directly.
    """

    def __init__(self, points: np.ndarray, chunk: int = 1024) -> None:
        self.points = points
        n = len(points)
        self.kept = min(n - 1, _NEIGHBOURS_KEPT)
        self.order = np.empty((n, self.kept), dtype=np.int64)
        for i in range(0, n, chunk):
            d = _sq_dists(points[i : i + chunk], points)
            d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf  # a point is not its own neighbour
            self.order[i : i + chunk] = np.argsort(d, axis=1, kind="stable")[:, : self.kept]

    def nearest_within(self, subset: np.ndarray) -> np.ndarray:
        """For each point of ``subset`` (indices), its nearest other point of ``subset``."""
        member = np.zeros(len(self.points), dtype=bool)
        member[subset] = True
        listed = self.order[subset]
        hit = member[listed]
        first = hit.argmax(axis=1)
        rows = np.arange(len(subset))
        nearest = listed[rows, first]
        for r in np.flatnonzero(~hit[rows, first]):
            others = np.sort(subset[subset != subset[r]])  # ascending, so ties go to the lowest index
            nearest[r] = others[np.argmin(_sq_dists(self.points[subset[r] : subset[r] + 1], self.points[others])[0])]
        return nearest


def _class_accuracies(neighbours: _Neighbours, first: np.ndarray, second: np.ndarray) -> tuple[float, float]:
    """Leave-one-out 1-NN accuracies of the two classes ``first`` and ``second`` (point indices)."""
    subset = np.concatenate([first, second])
    nearest = neighbours.nearest_within(subset)
    in_first = np.zeros(len(neighbours.points), dtype=bool)
    in_first[first] = True
    k = len(first)
    return float(np.mean(in_first[nearest[:k]])), float(np.mean(~in_first[nearest[k:]]))


def nearest_neighbour_check(
    samples: ArrayLike,
    held_out: ArrayLike,
    train: ArrayLike,
    *,
    margin: float = 0.1,
    repeats: int = 10,
    seed: int = 0,
    level: float = 0.05,
    permutations: int = 200,
) -> NearestNeighbourResult:
    """1-NN two-sample check for images (see the module doc).

    ``held_out`` must have at least twice as many rows as ``samples`` (n >= 2). The test draws
    its real images from a random pool of at most 4n held-out images; each of ``repeats`` splits
    takes n of them to pool with the samples (the class accuracies are averaged over the
    splits, so the verdict does not hang on one split) and n others for the real-vs-real
    reference. ``permutations`` shuffles of the labels over samples plus pool give the null
    distribution; the check fails when the p-value is <= ``level`` and a class accuracy is
    further than ``margin`` from chance. Samples from the data's own law therefore fail with
    probability at most ``level`` (less with a margin).
    """
    s = check_finite_array("samples", samples, ndim=2)
    h = check_finite_array("held_out", held_out, ndim=2)
    tr = check_finite_array("train", train, ndim=2)
    repeats = check_positive_int("repeats", repeats)
    permutations = check_positive_int("permutations", permutations)
    level = _check_level(level, permutations, "permutations")
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.floating)) or not 0 <= margin < 1:
        raise ValueError(f"margin must be a number in [0, 1) (accuracy tolerated off chance), got {margin!r}")
    n = len(s)
    if n < 2:
        raise ValueError(f"samples needs at least 2 rows (each class needs a neighbour of its own), got {n}")
    if len(h) < 2 * n:
        raise ValueError(f"held_out needs at least 2 x {n} rows (got {len(h)}); draw fewer samples")
    if s.shape[1] != h.shape[1] or tr.shape[1] != h.shape[1]:
        raise ValueError(f"samples, held_out and train need the same columns, got {s.shape}, {h.shape}, {tr.shape}")
    rng = numpy_generator(seed)
    pool = h[rng.permutation(len(h))[: min(len(h), _HELD_OUT_POOL * n)]]
    # shuffled so that distance ties are broken in an order that does not depend on the classes
    pooled = np.concatenate([s, pool])
    shuffle = rng.permutation(len(pooled))
    neighbours = _Neighbours(pooled[shuffle])
    where = np.empty(len(pooled), dtype=np.int64)
    where[shuffle] = np.arange(len(pooled))
    chance = (n - 1) / (2 * n - 1)

    def split_means(sample_idx: np.ndarray, real_idx: np.ndarray) -> tuple[float, float]:
        accs = np.array(
            [_class_accuracies(neighbours, sample_idx, rng.permutation(real_idx)[:n]) for _ in range(repeats)]
        )
        return float(accs[:, 0].mean()), float(accs[:, 1].mean())

    sample_idx, real_idx = where[:n], where[n:]
    per_class = np.empty((repeats, 2))
    acc, ref = np.empty(repeats), np.empty(repeats)
    for r in range(repeats):
        perm = rng.permutation(real_idx)
        real_a, real_b = perm[:n], perm[n : 2 * n]
        per_class[r] = _class_accuracies(neighbours, sample_idx, real_a)
        acc[r] = per_class[r].mean()  # equal class sizes: the pooled accuracy
        ref[r] = np.mean(_class_accuracies(neighbours, real_b, real_a))
    sample_acc, real_acc = per_class.mean(axis=0)
    deviation = max(abs(sample_acc - chance), abs(real_acc - chance))
    null = np.empty(permutations)
    for j in range(permutations):
        labels = rng.permutation(len(pooled))
        a, b = split_means(labels[:n], labels[n:])
        null[j] = max(abs(a - chance), abs(b - chance))
    # accuracies are multiples of 1/n averaged over splits: equal values may differ in the last bit
    p_value = float((1 + np.sum(null >= deviation - 1e-9)) / (1 + permutations))
    passed = p_value > level or deviation <= margin

    nn_s = np.sqrt(_sq_dists(s, tr).min(1))
    nn_h = np.sqrt(_sq_dists(h, tr).min(1))
    ratio = float(np.median(nn_s) / max(np.median(nn_h), 1e-12))

    def stderr(x: np.ndarray) -> float:
        # one split has no spread to measure: undefined, not zero
        return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan

    return NearestNeighbourResult(
        accuracy=float(acc.mean()),
        reference_accuracy=float(ref.mean()),
        threshold=chance + float(margin),
        passed=bool(passed),
        copy_ratio=ratio,
        accuracy_stderr=stderr(acc),
        reference_stderr=stderr(ref),
        repeats=repeats,
        sample_accuracy=float(sample_acc),
        real_accuracy=float(real_acc),
        chance=chance,
        deviation=float(deviation),
        p_value=p_value,
        level=level,
        permutations=permutations,
    )
