"""Parallel tempering with two replicas per temperature and Houdayer cluster moves (Houdayer 2001).

At each temperature T_k of a ladder two replicas a, b of one instance (zero field) are updated by
Metropolis sweeps; then, where ``houdayer`` is on, a Houdayer move: the sites where the replicas
disagree (q_i = s^a_i s^b_i = -1) form clusters on the coupling graph; one site of that set is
picked uniformly, its cluster grown, and the cluster flipped in both replicas (when more than half
the sites disagree, the sites where they agree are used instead: the same move seen from the
replica pair (a, -b), so clusters stay small when the replicas are nearly a global flip apart). E_a + E_b is
unchanged (the bonds across the cluster's boundary change sign in one replica exactly where they
change in the other), the set of disagreeing sites and so the move's probability are the same
after the flip, and so the move is rejection-free and leaves exp(-beta (E_a + E_b)) invariant at
any temperature (it helps most in 2D, where those clusters do not percolate at low T). Finally
neighbouring temperatures exchange configurations (per replica) with probability
min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1}))).

Each sweep records both replicas' energies (totals) and the overlap q = (1/N) sum_i s^a_i s^b_i at
every temperature, so thermal averages and their autocorrelation-aware errors follow from the
series (:mod:`thermolearn.estimators`). :func:`equilibration_check` is the logarithmic-binning test:
the last two windows [n/4, n/2) and [n/2, n) of a series agree within their errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.estimators.autocorrelation import error_of_mean
from thermolearn.kernel_cache import njit
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.randomness.xoshiro import next_uniform, seed_chains
from thermolearn.resources import check_memory
from thermolearn.samplers.parallel_tempering import csr_int64
from thermolearn.samplers.rules import metropolis_decide
from thermolearn.validation import check_positive_float, check_positive_int, check_temperatures


@njit(cache=True)
def _metropolis_sweep(s, e, beta, indptr, indices, data, s0, s1, s2, s3):
    """One sequential Metropolis sweep of one replica (zero field); returns E and the generator."""
    for i in range(s.size):
        phi = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            phi += data[p] * s[indices[p]]
        flip, de, s0, s1, s2, s3 = metropolis_decide(s[i], phi, beta, s0, s1, s2, s3)
        if flip:
            s[i] = -s[i]
            e += de
    return e, s0, s1, s2, s3


@njit(cache=True)
def _houdayer_move(a, b, ea, eb, indptr, indices, data, mark, stack, s0, s1, s2, s3):
    """One Houdayer cluster move between replicas ``a`` and ``b``; returns both energies, the
    cluster size (0 when the replicas agree or disagree everywhere) and the generator.

    The cluster is grown in the smaller of the two sets, the sites where the replicas disagree
    (q_i = -1) or those where they agree (q_i = +1): flipping a cluster of either set in both
    replicas keeps E_a + E_b (across its boundary q_j = -q_i, so the two replicas' bond changes
    cancel) and keeps every q_i, so the set chosen, its size and the cluster's probability are the
    same after the move: rejection-free either way. Using the smaller set keeps the clusters from
    filling the lattice when the replicas are close to q = -1 (a global flip apart), where the
    disagreeing sites percolate (Houdayer's clusters otherwise fill 3D lattices at low T)."""
    n = a.size
    n_minus = 0
    for i in range(n):
        if a[i] != b[i]:
            n_minus += 1
    use_disagree = 2 * n_minus <= n  # q_i is unchanged by the move, so the choice is too
    m = n_minus if use_disagree else n - n_minus
    if m == 0:  # the replicas agree (or disagree) everywhere: the cluster would be a global flip
        return ea, eb, 0, s0, s1, s2, s3
    u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    pick = min(int(u * m), m - 1)  # the pick-th site of the chosen set, uniformly
    seed_site = -1
    for i in range(n):
        if (a[i] != b[i]) == use_disagree:
            if pick == 0:
                seed_site = i
                break
            pick -= 1
    for i in range(n):
        mark[i] = 0
    top = 0
    stack[top] = seed_site
    top += 1
    mark[seed_site] = 1
    size = 0
    while top > 0:
        top -= 1
        i = stack[top]
        size += 1
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if mark[j] == 0 and (a[j] != b[j]) == use_disagree:
                mark[j] = 1
                stack[top] = j
                top += 1
    # energy change of each replica from the bonds leaving the cluster (computed before flipping)
    dea = 0.0
    deb = 0.0
    for i in range(n):
        if mark[i] == 1:
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if mark[j] == 0:
                    dea += 2.0 * data[p] * a[i] * a[j]
                    deb += 2.0 * data[p] * b[i] * b[j]
    for i in range(n):
        if mark[i] == 1:
            a[i] = -a[i]
            b[i] = -b[i]
    return ea + dea, eb + deb, size, s0, s1, s2, s3


@njit(cache=True)
def _pt_houdayer(
    spins, energies, rng, betas, houdayer, indptr, indices, data, n_sweeps, e_out, q_out, counts, best_e, best_spins
):
    """``n_sweeps`` rounds of (Metropolis sweeps, Houdayer moves, exchanges) over the ladder.

    spins (K, 2, N) int8, energies (K, 2), rng (4,) uint64; records e_out (n_sweeps, K, 2),
    q_out (n_sweeps, K); counts[k] += accepted exchanges between k and k+1 (both replicas),
    counts[K - 1 + k] += Houdayer cluster sizes at k; best_e (1,) and best_spins (N,) int8 keep the
    lowest recorded energy and its state (a copy only when a record is beaten: O(N) rarely)."""
    n_t = spins.shape[0]
    n = spins.shape[2]
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    mark = np.zeros(n, dtype=np.int8)
    stack = np.empty(n, dtype=np.int64)
    for t in range(n_sweeps):
        for k in range(n_t):
            for r in range(2):
                energies[k, r], s0, s1, s2, s3 = _metropolis_sweep(
                    spins[k, r], energies[k, r], betas[k], indptr, indices, data, s0, s1, s2, s3
                )
            if houdayer[k]:
                energies[k, 0], energies[k, 1], size, s0, s1, s2, s3 = _houdayer_move(
                    spins[k, 0], spins[k, 1], energies[k, 0], energies[k, 1], indptr, indices, data, mark, stack,
                    s0, s1, s2, s3,
                )  # fmt: skip
                counts[n_t - 1 + k] += size
        for r in range(2):
            for k in range(n_t - 1):
                x = (betas[k] - betas[k + 1]) * (energies[k, r] - energies[k + 1, r])
                accept = x >= 0.0
                if not accept:
                    u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                    accept = u < math.exp(x)
                if accept:
                    # element loops, not slice copies: those compile Numba's generic broadcasting
                    # assignment (seconds of a cold start) for the same machine code
                    for i in range(n):
                        x = spins[k, r, i]
                        spins[k, r, i] = spins[k + 1, r, i]
                        spins[k + 1, r, i] = x
                    e = energies[k, r]
                    energies[k, r] = energies[k + 1, r]
                    energies[k + 1, r] = e
                    counts[k] += 1
        for k in range(n_t):
            e_out[t, k, 0] = energies[k, 0]
            e_out[t, k, 1] = energies[k, 1]
            for r in range(2):
                if energies[k, r] < best_e[0]:
                    best_e[0] = energies[k, r]
                    for i in range(n):
                        best_spins[i] = spins[k, r, i]
            acc = 0
            for i in range(n):
                acc += spins[k, 0, i] * spins[k, 1, i]
            q_out[t, k] = acc / n
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3


@dataclass(frozen=True)
class TemperingRun:
    """Series of a two-replica tempering run: ``energies`` (sweeps, K, 2) totals, ``overlaps``
    (sweeps, K), the ladder ``temperatures`` (K,), exchange acceptance per neighbouring pair (K - 1,)
    and the mean Houdayer cluster size per temperature (K,, 0 where the move is off), the final
    ``spins`` (K, 2, N), and the lowest recorded energy ``best_energy`` (= ``energies.min()``) with a
    state ``best_spins`` (N,) that has it: the run as a ground-state search."""

    temperatures: np.ndarray
    energies: np.ndarray
    overlaps: np.ndarray
    exchange_acceptance: np.ndarray
    mean_cluster_size: np.ndarray
    spins: np.ndarray
    best_energy: float
    best_spins: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: temperatures, exchange acceptance, mean cluster size, sweeps."""
        return {
            "temperatures": self.temperatures.tolist(),
            "exchange_acceptance": self.exchange_acceptance.tolist(),
            "mean_cluster_size": self.mean_cluster_size.tolist(),
            "sweeps": int(self.energies.shape[0]),
        }


def tempering_with_houdayer(
    model: Ising,
    temperatures: ArrayLike,
    sweeps: int,
    *,
    houdayer: bool | ArrayLike = True,
    seed: int = 0,
) -> TemperingRun:
    """Two replicas per temperature of ``model`` (zero field), ``sweeps`` rounds of Metropolis
    sweeps, Houdayer moves (at every temperature, or where the boolean array ``houdayer`` says)
    and replica exchange. ``temperatures`` are sorted cold to hot internally (k_B = 1)."""
    check_ising_model(model)
    if np.any(model.fields != 0):
        raise ValueError(
            "Houdayer moves need zero fields (flipping a cluster in both replicas keeps E_a + E_b only when "
            "h = 0); this model has a field"
        )
    temps = np.sort(check_temperatures(temperatures))  # cold first: betas decreasing
    k = temps.size
    sweeps = check_positive_int("sweeps", sweeps)
    seed = check_int_seed(seed)
    if isinstance(houdayer, (bool, np.bool_)):
        mask = np.full(k, bool(houdayer))
    else:
        mask = np.asarray(houdayer, dtype=bool).ravel()
        if mask.shape != (k,):
            raise ValueError(f"houdayer must be True, False or one flag per temperature ({k}), got shape {mask.shape}")
    n = model.n_spins
    # the recorded series: two energies and one overlap (float64) per temperature and sweep
    check_memory(
        f"tempering series of {sweeps} sweeps x {k} temperatures",
        24.0 * sweeps * k + 4.0 * k * n,
        hint="choose fewer sweeps or temperatures",
    )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x40]))
    spins = (2 * rng.integers(0, 2, size=(k, 2, n), dtype=np.int8) - 1).astype(np.int8)
    energies = np.asarray(model.energy(spins.reshape(-1, n)), dtype=np.float64).reshape(k, 2)
    state = seed_chains(np.random.SeedSequence([seed, 0x41]), 1)[0].copy()
    indptr, indices, data = csr_int64(model)
    e_out = np.empty((sweeps, k, 2))
    q_out = np.empty((sweeps, k))
    counts = np.zeros(2 * k - 1, dtype=np.int64)
    best_e = np.array([np.inf])
    best_spins = np.empty(n, dtype=np.int8)
    _pt_houdayer(
        spins, energies, state, 1.0 / temps, mask, indptr, indices, data, sweeps, e_out, q_out, counts, best_e,
        best_spins,
    )  # fmt: skip
    return TemperingRun(
        temperatures=temps,
        energies=e_out,
        overlaps=q_out,
        exchange_acceptance=counts[: k - 1] / (2.0 * sweeps),
        mean_cluster_size=counts[k - 1 :] / float(sweeps),
        spins=spins,
        best_energy=float(best_e[0]),
        best_spins=best_spins,
    )


@dataclass(frozen=True)
class EquilibrationCheck:
    """The logarithmic-binning test of one series: means of the windows [n/4, n/2) and [n/2, n)
    with their autocorrelation-aware errors, and whether they agree within ``z_max`` errors."""

    earlier: tuple[float, float]
    last: tuple[float, float]
    z: float
    equilibrated: bool


def equilibration_check(series: ArrayLike, z_max: float = 3.0) -> EquilibrationCheck:
    """Do the last two logarithmic windows of ``series`` agree? (A drift between them means the run
    was not yet in equilibrium at n/4.)"""
    z_max = check_positive_float("z_max", z_max)
    x = np.asarray(series, dtype=np.float64).ravel()
    if x.size < 16:
        raise ValueError(f"the equilibration test needs at least 16 measurements, got {x.size}")
    n = x.size
    a = x[n // 4 : n // 2]
    b = x[n // 2 :]
    ea = error_of_mean(a) if np.ptp(a) > 0 else 0.0
    eb = error_of_mean(b) if np.ptp(b) > 0 else 0.0
    diff = float(b.mean() - a.mean())
    err = math.hypot(ea, eb)
    z = 0.0 if diff == 0 else (math.inf if err == 0 else diff / err)
    return EquilibrationCheck((float(a.mean()), ea), (float(b.mean()), eb), z, abs(z) <= z_max)
