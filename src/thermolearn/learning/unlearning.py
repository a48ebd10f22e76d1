"""Unlearning (Hopfield, Feinstein and Palmer 1983): "dreaming" away spurious memories.

Start the network in a random state, let it fall (zero-temperature asynchronous descent)
into whatever minimum it finds, and weaken that minimum: J <- J - (epsilon / N) s s^T with
the diagonal kept zero. Spurious minima (mixtures, spin-glass states) are reached from
random starts more often than the stored patterns, relative to their depth, so repeating
this removes them first and leaves the patterns with wider basins of attraction. Too much
unlearning erases the patterns too; epsilon ~ 0.01 and a few N iterations is the regime
the paper used.

:func:`attractor_statistics` and :func:`basin_radius` measure the effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thermolearn.models.hopfield import RETRIEVAL_THRESHOLD, Hopfield, corrupt, relax_async
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.validation import check_positive_float, check_positive_int


@dataclass
class UnlearningResult:
    """The network after unlearning and the states that were unlearned (n_iterations, N)."""

    network: Hopfield
    unlearned_states: np.ndarray
    epsilon: float

    @property
    def n_iterations(self) -> int:
        return int(self.unlearned_states.shape[0])


def unlearn(
    network: Hopfield,
    n_iterations: int,
    *,
    epsilon: float = 0.01,
    batch: int = 1,
    max_sweeps: int = 100,
    seed: int | np.random.Generator | None = 0,
) -> UnlearningResult:
    """Hopfield-Feinstein-Palmer unlearning: ``n_iterations`` times, relax a random state and
    subtract (epsilon / N) s s^T from J (zero diagonal kept). ``batch`` states are relaxed
    on the same couplings before their corrections are applied together (batch = 1 is the
    paper's sequential procedure; larger batches run in parallel threads)."""
    if not isinstance(network, Hopfield):
        raise TypeError(f"network must be a Hopfield network, got {type(network).__name__}")
    n_iterations = check_positive_int("n_iterations", n_iterations)
    eps = check_positive_float("epsilon", epsilon)
    batch = check_positive_int("batch", batch)
    rng = numpy_generator(seed)
    n = network.n_neurons
    J = np.array(network.couplings)
    b = network.biases
    reached = np.zeros((n_iterations, n), dtype=np.int8)
    done = 0
    while done < n_iterations:
        k = min(batch, n_iterations - done)
        starts = rng.choice(np.array([-1, 1], dtype=np.int8), size=(k, n))
        final, _, _ = relax_async(J, b, starts, max_sweeps=max_sweeps, seed=rng)
        x = final.astype(np.float64)
        J -= (eps / n) * (x.T @ x)
        np.fill_diagonal(J, 0.0)
        reached[done : done + k] = final
        done += k
    out = Hopfield(
        J,
        None if not np.any(b) else b,
        patterns=network.patterns,
        rule=f"{network.rule}+unlearning".lstrip("+"),
        image_shape=network.image_shape,
        name=network.name,
    )
    return UnlearningResult(network=out, unlearned_states=reached, epsilon=eps)


@dataclass
class AttractorStatistics:
    """Where random starts end: fractions of stored patterns (or their negatives), mixtures
    and other (spurious) states, each with a binomial standard error."""

    n_starts: int
    retrieved: float
    mixture: float
    spurious: float

    def stderr(self, fraction: float) -> float:
        return math.sqrt(max(fraction * (1.0 - fraction), 1.0 / self.n_starts) / self.n_starts)

    @property
    def not_retrieved(self) -> float:
        """Fraction ending anywhere but a stored pattern or its negative."""
        return self.mixture + self.spurious


def attractor_statistics(
    network: Hopfield,
    n_starts: int = 500,
    *,
    threshold: float = RETRIEVAL_THRESHOLD,
    seed: int | np.random.Generator | None = 0,
) -> AttractorStatistics:
    """Relax ``n_starts`` uniformly random states and classify where they end."""
    if network.patterns is None:
        raise ValueError("the network keeps no patterns; attractor statistics need them")
    n_starts = check_positive_int("n_starts", n_starts)
    rng = numpy_generator(seed)
    starts = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_starts, network.n_neurons))
    final = network.relax(starts, seed=rng)
    counts = {"pattern": 0, "negative": 0, "mixture": 0, "spurious": 0}
    for s in final:
        label = network.classify(s, threshold)[0]
        assert label is not None  # the network keeps patterns (checked above)
        counts[label] += 1
    return AttractorStatistics(
        n_starts,
        (counts["pattern"] + counts["negative"]) / n_starts,
        counts["mixture"] / n_starts,
        counts["spurious"] / n_starts,
    )


def basin_radius(
    network: Hopfield,
    *,
    fractions: np.ndarray | None = None,
    trials: int = 20,
    threshold: float = RETRIEVAL_THRESHOLD,
    seed: int | np.random.Generator | None = 0,
) -> tuple[float, float]:
    """Mean basin radius of the stored patterns and its standard error over patterns.

    A pattern's radius is the fraction of flipped units at which the probability of relaxing
    back (overlap >= ``threshold`` with it) first falls below 1/2, interpolated between the
    ``fractions`` tried (default 0, 0.025, ..., 0.5), each with ``trials`` random corruptions.
    A pattern that is not even a fixed point's neighbour has radius 0.
    """
    if network.patterns is None:
        raise ValueError("the network keeps no patterns; basin radii need them")
    grid = np.arange(0.0, 0.5001, 0.025) if fractions is None else np.asarray(fractions, dtype=np.float64)
    trials = check_positive_int("trials", trials)
    rng = numpy_generator(seed)
    xi = network.patterns
    success = np.zeros((len(xi), grid.size))
    for j, f in enumerate(grid):
        starts = np.concatenate(
            [corrupt(np.repeat(xi[mu : mu + 1], trials, axis=0), f, seed=rng) for mu in range(len(xi))]
        )
        final = network.relax(starts, seed=rng)
        m = (
            np.einsum("ki,ki->k", final.astype(np.float64), np.repeat(xi, trials, axis=0).astype(np.float64))
            / xi.shape[1]
        )
        success[:, j] = (m >= threshold).reshape(len(xi), trials).mean(axis=1)
    radii = np.empty(len(xi))
    for mu, curve in enumerate(success):
        below = np.flatnonzero(curve < 0.5)
        if below.size == 0:
            radii[mu] = grid[-1]
        elif below[0] == 0:
            radii[mu] = 0.0
        else:
            k = below[0]
            radii[mu] = grid[k - 1] + (grid[k] - grid[k - 1]) * (curve[k - 1] - 0.5) / (curve[k - 1] - curve[k])
    err = float(radii.std(ddof=1) / math.sqrt(len(radii))) if len(radii) > 1 else float("nan")
    return float(radii.mean()), err


__all__ = ["AttractorStatistics", "UnlearningResult", "attractor_statistics", "basin_radius", "unlearn"]
