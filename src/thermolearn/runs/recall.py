"""Recall in associative memories as runs: recall at T > 0 by a Markov chain, and the
restoration curve (corrupt every stored pattern, recall, count how often it comes back).

Zero-temperature recall is the network's own method (:meth:`Hopfield.recall`: deterministic
descent in the energy); recall at a temperature T > 0 samples exp(-E/T) (k_B = 1) with a
sampler, so it lives here, above the samplers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.models.hopfield import (
    CLASSES,
    RETRIEVAL_THRESHOLD,
    Hopfield,
    RecallResult,
    corrupt,
    make_result,
    overlaps_with,
)
from thermolearn.randomness.seeds import SeedLike, check_seed
from thermolearn.runs.sample import sample
from thermolearn.validation import check_positive_int, check_spins, check_temperature

RECALL_METHODS = ("async", "sync", "thermal")
MAX_RECALLS = 10_000_000
"""Most recalls (levels x patterns x trials) one :func:`restoration_curve` runs: each costs at
least tens of microseconds (thermal ones a run of the sampler), so more would take days."""


def recall(
    network: Any,
    initial: np.ndarray,
    *,
    method: str = "async",
    max_sweeps: int = 100,
    order: str = "random",
    seed: SeedLike = 0,
    temperature: float | None = None,
    sweeps: int = 200,
    burn_in: int = 0,
    sampler: str = "heatbath",
    threshold: float = RETRIEVAL_THRESHOLD,
) -> RecallResult:
    """Recall from ``initial`` (N,) by ``method``: 'async' and 'sync' are the network's own
    zero-temperature dynamics (:meth:`Hopfield.recall`), 'thermal' runs ``sampler`` at
    T = ``temperature`` (k_B = 1) for ``burn_in + sweeps`` sweeps (:func:`thermal_recall`)."""
    if method == "thermal":
        if temperature is None:
            raise ValueError("thermal recall needs a temperature T > 0")
        return thermal_recall(
            network,
            initial,
            temperature,
            sweeps=sweeps,
            burn_in=burn_in,
            sampler=sampler,
            seed=seed,
            threshold=threshold,
        )
    if method not in RECALL_METHODS:
        raise ValueError(f"method must be one of {', '.join(RECALL_METHODS)}, got {method!r}")
    if temperature is not None:
        raise ValueError(f"temperature applies only to method 'thermal', got method {method!r}")
    if method == "sync":
        return network.recall(initial, method="sync", max_sweeps=max_sweeps, threshold=threshold)
    return network.recall(initial, max_sweeps=max_sweeps, order=order, seed=seed, threshold=threshold)


def thermal_recall(
    network: Hopfield,
    initial: np.ndarray,
    temperature: float,
    *,
    sweeps: int = 200,
    burn_in: int = 0,
    sampler: str = "heatbath",
    seed: SeedLike = 0,
    threshold: float = RETRIEVAL_THRESHOLD,
) -> RecallResult:
    """Finite-temperature recall: a Boltzmann sampler of exp(-E/T) (k_B = 1) started at
    ``initial``; ``states`` holds every recorded sweep, ``mean_overlaps`` their average
    overlaps, and the classification is of the last state."""
    if not isinstance(network, Hopfield):
        raise TypeError(f"thermal recall needs a thermolearn.models.Hopfield network, got {type(network).__name__}")
    T = check_temperature(temperature)
    s0 = check_spins(initial, network.n_neurons, "initial")
    run = sample(
        network.to_ising().ising,
        sampler,
        T,
        sweeps=sweeps,
        burn_in=burn_in,
        seed=seed,
        initial=s0,
        record_states=True,
        progress=False,
    )
    assert run.states is not None  # record_states=True
    samples = run.states[0]
    energies = np.concatenate([[network.energy(s0[0])], run.energy[0]])
    mean_ov = overlaps_with(network.patterns, samples).mean(axis=0) if network.patterns is not None else None
    return make_result(
        "thermal",
        s0[0],
        samples[-1],
        energies,
        network.patterns,
        threshold,
        sweeps=int(burn_in + sweeps),
        converged=False,
        states=samples,
        temperature=T,
        mean_overlaps=mean_ov,
        extra={"sampler": run.sampler, "acceptance": run.acceptance},
    )


@dataclass
class RestorationResult:
    """Recall of corrupted stored patterns against the corruption level. ``restored``: the
    fraction of trials ending exactly at the original pattern; ``retrieved``: ending with
    overlap >= threshold with it; each with a binomial standard error. ``examples`` holds,
    per level, (original, corrupted, recalled) states of the first trial of each pattern."""

    levels: np.ndarray
    mode: str
    method: str
    trials: int
    restored: np.ndarray
    restored_stderr: np.ndarray
    retrieved: np.ndarray
    retrieved_stderr: np.ndarray
    mean_overlap: np.ndarray
    classes: list[dict[str, int]]
    examples: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    energy_traces: list[np.ndarray]

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict: per corruption level, restored and retrieved fractions with errors."""
        return {
            "levels": self.levels.tolist(),
            "mode": self.mode,
            "method": self.method,
            "trials": self.trials,
            "restored": self.restored.tolist(),
            "restored_stderr": self.restored_stderr.tolist(),
            "retrieved": self.retrieved.tolist(),
            "retrieved_stderr": self.retrieved_stderr.tolist(),
            "mean_overlap": self.mean_overlap.tolist(),
            "classes": self.classes,
        }


def restoration_curve(
    network: Any,
    levels: np.ndarray | list[float],
    *,
    mode: str = "flip",
    trials: int = 5,
    method: str = "async",
    temperature: float | None = None,
    sweeps: int = 100,
    seed: SeedLike = 0,
    threshold: float = RETRIEVAL_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> RestorationResult:
    """Corrupt every stored pattern of ``network`` (a :class:`Hopfield` or a dense memory) by each
    fraction in ``levels`` (``mode`` 'flip' or 'mask'), ``trials`` times, recall, and count how
    often the original comes back. ``progress(k)`` is called as recalls finish (k of them).

    The number of recalls (levels x patterns x trials) is checked against :data:`MAX_RECALLS`
    before any runs."""
    if method not in RECALL_METHODS:
        raise ValueError(f"method must be one of {', '.join(RECALL_METHODS)}, got {method!r}")
    if method == "thermal" and temperature is None:
        raise ValueError("thermal recall needs a temperature T > 0")
    if getattr(network, "patterns", None) is None:
        raise ValueError("the network keeps no patterns to corrupt; build it with learning.hebbian.store")
    trials = check_positive_int("trials", trials)
    grid = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if grid.ndim != 1 or grid.size == 0 or np.any(grid < 0) or np.any(grid > 1):
        raise ValueError(f"corruption levels must be fractions in [0, 1], got {levels}")
    xi = network.patterns
    total_recalls = grid.size * len(xi) * trials
    if total_recalls > MAX_RECALLS:
        raise ValueError(
            f"trials: {trials} trials x {len(xi)} patterns x {grid.size} levels = {total_recalls} recalls; at most "
            f"{MAX_RECALLS} per run (each recall takes tens of microseconds or more): choose fewer trials or levels"
        )
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking a count, or None, got {progress!r}")
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):  # a generator's stream goes on: one draw seeds the levels
        seed = int(seed.integers(2**63))
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    restored, retrieved, overlap, classes, examples, traces = [], [], [], [], [], []
    for f in grid:
        level_seed = seq.spawn(1)[0]
        rng = np.random.default_rng(level_seed)
        ok = hit = 0
        ov = 0.0
        counts = {c: 0 for c in CLASSES}
        ex_c, ex_r = [], []
        for mu in range(len(xi)):
            for t in range(trials):
                start = corrupt(xi[mu], float(f), mode=mode, seed=rng)
                run_seed = int(rng.integers(2**31))
                if method == "thermal":
                    assert temperature is not None  # checked on entry
                    res = thermal_recall(network, start, temperature, sweeps=sweeps, seed=run_seed, threshold=threshold)
                elif method == "sync":
                    res = network.recall(start, method="sync", seed=run_seed, threshold=threshold)
                else:
                    res = network.recall(start, seed=run_seed, threshold=threshold)
                m = float(res.final.astype(np.float64) @ xi[mu] / xi.shape[1])
                ok += bool(np.array_equal(res.final, xi[mu]))
                hit += m >= threshold
                ov += m
                if res.classification is not None:
                    counts[res.classification] += 1
                if t == 0:
                    ex_c.append(start)
                    ex_r.append(res.final)
                    if mu == 0:
                        traces.append(res.energies)
                if progress is not None:
                    progress(1)
        total = len(xi) * trials
        restored.append(ok / total)
        retrieved.append(hit / total)
        overlap.append(ov / total)
        classes.append(counts)
        examples.append((np.array(xi), np.array(ex_c), np.array(ex_r)))
    total = len(xi) * trials
    r, q = np.array(restored), np.array(retrieved)
    return RestorationResult(
        levels=grid,
        mode=mode,
        method=method,
        trials=trials,
        restored=r,
        restored_stderr=np.sqrt(r * (1 - r) / total),
        retrieved=q,
        retrieved_stderr=np.sqrt(q * (1 - q) / total),
        mean_overlap=np.array(overlap),
        classes=classes,
        examples=examples,
        energy_traces=traces,
    )
