"""Simulated annealing and a parallel-tempering optimiser: low-energy states of any Ising model.

:func:`anneal` runs ``reads`` independent reads. With ``algorithm='sa'`` each read is a
single-spin chain whose inverse temperature follows a schedule (one beta per sweep, from
:mod:`thermolearn.samplers.schedules`), hot to cold, and ends with a zero-temperature
quench, so every read ends in a local minimum (no single flip lowers its energy). With
``algorithm='pt'`` each read is a replica-exchange run over a ladder of temperatures
between the same ends, and reports the lowest-energy state it saw, quenched.

For samplers that declare a single-spin rule (``sampler.rule``, a
:class:`~thermolearn.samplers.rules.SpinFlipRule`: Metropolis, heat bath and their
subclasses) the work runs in one compiled kernel per call, compiled for that rule, that
keeps every spin's local field phi_i = h_i + sum_j J_ij s_j up to date: a rejected flip
costs O(1) and an accepted one updates its neighbours' fields, which for dense models
(Sherrington-Kirkpatrick) is much cheaper than recomputing phi_i at every proposal. The
kernel draws the same random numbers and makes the same decisions as
``sampler.sweep(model, state, beta, 1)`` sweep after sweep (exactly, where the couplings
are integers; up to rounding of phi otherwise), with one exception: for Metropolis the
annealers make every flip that costs nothing, as dwave-samplers does, where the sampler makes
it with probability 0.9 (:data:`~thermolearn.samplers.rules.ANNEALING_RULES`). Any other
:class:`Sampler` is driven sweep by sweep through its own ``sweep``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike

from thermolearn.kernel_threads import thread_count, thread_limit
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.randomness.xoshiro import next_uniform, seed_chains
from thermolearn.resources import check_memory
from thermolearn.samplers.base import Sampler
from thermolearn.samplers.parallel_tempering import _ladder, csr_int64, geometric_ladder
from thermolearn.samplers.rules import ALWAYS_FREE_METROPOLIS, NonErgodicWarning, annealing_rule, rule_decide
from thermolearn.samplers.schedules import check_beta_range, default_beta_range, make_schedule
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_positive_int

ALGORITHMS = ("sa", "pt")
DEFAULT_SWEEPS = 1000
# memory of one read (or one replica of parallel tempering): int8 spins, the int64 draws of the
# hot start, and the float64 copies (8 bytes a spin each) that computing the exact energies of
# the starting and final states makes; plus its generator state (4 x uint64), energy and
# magnetisation
BYTES_PER_READ_SPIN = 40
BYTES_PER_READ = 128
BYTES_PER_REPLICA_SPIN = 40
BYTES_PER_REPLICA = 128
DEFAULT_PT_TEMPERATURES = 16
#: the hottest replica of the default parallel-tempering ladder: a typical flip from a random
#: state accepted 15% of the time (simulated annealing starts at 50%). A replica-exchange read
#: keeps its whole ladder for the whole run, and one as hot as annealing's start spends its hot
#: replicas where nothing is decided: at equal sweeps, hot ends at 10-20% found lower energies
#: than 50% on Gset G1, G14, G22, G39, G43 and 2D/3D Edwards-Anderson glasses; no value won
#: everywhere, and 15% was within about two standard errors of the better of 10% and 20% on each
#: (docs/benchmarks.md)
PT_HOT_ACCEPTANCE = 0.15
DENSE_FILL = 0.25  # fraction of coupled pairs above which fields are updated from a dense J
DENSE_MAX_SPINS = 4096  # 4096^2 doubles = 134 MB


@dataclass(frozen=True)
class AnnealResult:
    """The reads of :func:`anneal`: final ``states`` (reads, n_spins) int8 and their
    ``energies`` (reads,), the lowest of them (``best_state``, ``best_energy``), and the
    wall time in ``seconds``."""

    best_state: np.ndarray
    best_energy: float
    energies: np.ndarray
    states: np.ndarray
    seconds: float
    algorithm: str = "sa"
    sweeps: int = 0
    beta_range: tuple[float, float] | None = None

    @property
    def reads(self) -> int:
        """Number of independent reads (annealing runs)."""
        return int(self.energies.size)

    def fraction_at_best(self, tolerance: float = 1e-9) -> float:
        """The fraction of reads whose energy is within ``tolerance`` (relative, at least
        absolute 1e-9) of the best."""
        tol = max(1e-9, tolerance * abs(self.best_energy))
        return float(np.mean(self.energies <= self.best_energy + tol))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly record: best energy and state, every read's energy, timing, settings."""
        return {
            "algorithm": self.algorithm,
            "sweeps": int(self.sweeps),
            "reads": self.reads,
            "beta_range": None if self.beta_range is None else [float(b) for b in self.beta_range],
            "best_energy": float(self.best_energy),
            "best_state": self.best_state.astype(int).tolist(),
            "energies": [float(e) for e in self.energies],
            "seconds": float(self.seconds),
        }


# ---------------------------------------------------------------------------- kernels
@njit(inline="always")
def _fill_fields(s, phi, indptr, indices, data, h):
    for i in range(s.size):
        acc = h[i]
        for p in range(indptr[i], indptr[i + 1]):
            acc += data[p] * s[indices[p]]
        phi[i] = acc


@njit(inline="always")
def _flip_update(phi, i, twice, indptr, indices, data, dense):
    """phi_j += J_ji (s_new - s_old) = twice * J_ji for every neighbour j of the flipped spin i:
    a contiguous (vectorised) row of the dense matrix when one is given, else the CSR row."""
    if dense.shape[0] > 0:
        row = dense[i]
        for j in range(phi.size):
            phi[j] += twice * row[j]
    else:
        for p in range(indptr[i], indptr[i + 1]):
            phi[indices[p]] += twice * data[p]


@njit(inline="always")
def _field_sweeps(decide, s, phi, indptr, indices, data, dense, beta, order, random_site, n_sweeps, s0, s1, s2, s3):
    """``n_sweeps`` single-spin sweeps of one chain at ``beta`` by the rule's ``decide`` with
    local fields kept up to date; returns the energy change, the number of flips and the
    generator state."""
    n = s.size
    e_change = 0.0
    flips = 0
    for _ in range(n_sweeps):
        for k in range(n):
            if random_site:
                u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                i = min(int(u * n), n - 1)
            else:
                i = order[k]
            si = s[i]
            flip, de, s0, s1, s2, s3 = decide(si, phi[i], beta, s0, s1, s2, s3)
            if flip:
                s[i] = -si
                _flip_update(phi, i, -2.0 * si, indptr, indices, data, dense)
                e_change += de
                flips += 1
    return e_change, flips, s0, s1, s2, s3


@njit(inline="always")
def _quench(s, phi, indptr, indices, data, dense, h, max_sweeps):
    """Zero-temperature sweeps (flip only if that lowers the energy) until a sweep flips
    nothing: a local minimum. Fields are recomputed first so rounding cannot accumulate."""
    _fill_fields(s, phi, indptr, indices, data, h)
    for q in range(max_sweeps):
        flips = 0
        for i in range(s.size):
            si = s[i]
            if si * phi[i] < 0.0:
                s[i] = -si
                _flip_update(phi, i, -2.0 * si, indptr, indices, data, dense)
                flips += 1
        if flips == 0:
            return q + 1
    return max_sweeps


def _anneal_reads(spins, rng, indptr, indices, data, dense, h, betas, order, random_site, max_quench):
    """Every read (in parallel): sweeps at ``betas[t]`` for t = 0, 1, ..., then the quench.
    Compiled per rule (:meth:`SpinFlipRule.compiled` binds ``rule_decide``)."""
    n_reads, n = spins.shape
    quench_sweeps = np.zeros(n_reads, dtype=np.int64)
    for r in prange(n_reads):
        s = spins[r]
        phi = np.empty(n)
        _fill_fields(s, phi, indptr, indices, data, h)
        s0, s1, s2, s3 = rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3]
        for t in range(betas.size):
            _, _, s0, s1, s2, s3 = _field_sweeps(
                rule_decide, s, phi, indptr, indices, data, dense, betas[t], order, random_site, 1, s0, s1, s2, s3
            )
        rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3] = s0, s1, s2, s3
        quench_sweeps[r] = _quench(s, phi, indptr, indices, data, dense, h, max_quench)
    return quench_sweeps


def _pt_minimise(
    spins,
    rng,
    energy,
    indptr,
    indices,
    data,
    dense,
    h,
    betas,
    order,
    random_site,
    n_sweeps,
    ex_rng,
    best_spins,
    best_energy,
    ex_accepted,
    ex_attempted,
):
    """Replica exchange as an optimiser: run r owns rows r*K .. r*K + K - 1 of ``spins``
    (replicas); ``slot[k]`` says which replica sits at ``betas[k]``. Every sweep: one sweep of
    every replica at its temperature, swap proposals between neighbours (even and odd pairs
    in turn), and the lowest energy seen so far is kept with its state. Compiled per rule."""
    n_slots, n = spins.shape
    K = betas.size
    n_runs = n_slots // K
    for r in prange(n_runs):
        phi = np.empty((K, n))
        e = np.empty(K)
        slot = np.arange(K)
        for k in range(K):
            _fill_fields(spins[r * K + k], phi[k], indptr, indices, data, h)
            e[k] = energy[r * K + k]
        best = best_energy[r]
        x0, x1, x2, x3 = ex_rng[r, 0], ex_rng[r, 1], ex_rng[r, 2], ex_rng[r, 3]
        for t in range(n_sweeps):
            for k in range(K):
                q = slot[k]
                c = r * K + q
                s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
                de, _, s0, s1, s2, s3 = _field_sweeps(
                    rule_decide,
                    spins[c],
                    phi[q],
                    indptr,
                    indices,
                    data,
                    dense,
                    betas[k],
                    order,
                    random_site,
                    1,
                    s0,
                    s1,
                    s2,
                    s3,
                )
                rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3
                e[q] += de
            for i in range(t % 2, K - 1, 2):
                a = slot[i]
                b = slot[i + 1]
                delta = (betas[i] - betas[i + 1]) * (e[a] - e[b])
                u, x0, x1, x2, x3 = next_uniform(x0, x1, x2, x3)
                ex_attempted[r, i] += 1
                if delta >= 0.0 or u < math.exp(delta):
                    ex_accepted[r, i] += 1
                    slot[i] = b
                    slot[i + 1] = a
            for q in range(K):
                if e[q] < best:
                    best = e[q]
                    best_spins[r, :] = spins[r * K + q]
        ex_rng[r, 0], ex_rng[r, 1], ex_rng[r, 2], ex_rng[r, 3] = x0, x1, x2, x3
        best_energy[r] = best
        for q in range(K):
            energy[r * K + q] = e[q]


# ---------------------------------------------------------------------------- the public function
def _single_spin_rule(sampler: str | Sampler) -> tuple[Sampler, bool]:
    """The sampler object, and whether the local-field kernel can run it."""
    if isinstance(sampler, str):
        from thermolearn.samplers.registry import make_sampler

        sampler = make_sampler(sampler)
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be a sampler name or a Sampler, got {type(sampler).__name__}")
    if sampler.zero_temperature:
        raise ValueError(
            "annealing needs a finite-temperature sampler ('metropolis' or 'heatbath'); "
            "the zero-temperature quench runs at the end of every read anyway"
        )
    if sampler.needs_ladder:
        raise ValueError("for a parallel-tempering optimiser use algorithm='pt' with sampler='metropolis'")
    return sampler, sampler.rule is not None


def anneal(
    model: Ising,
    sweeps: int | None = None,
    reads: int = 32,
    *,
    schedule: str | object = "geometric",
    beta_range: tuple[float, float] | None = None,
    sampler: str | Sampler = "metropolis",
    seed: int | np.random.Generator | None = 0,
    initial: str | np.ndarray = "random",
    algorithm: str = "sa",
    temperatures: int | ArrayLike = DEFAULT_PT_TEMPERATURES,
    max_quench_sweeps: int = 10_000,
    progress: Callable[[int], None] | None = None,
    interrupt: Callable[[], bool] | None = None,
) -> AnnealResult:
    """Low-energy states of ``model`` from ``reads`` independent annealing runs.

    Parameters
    ----------
    sweeps : sweeps per read (default 1000, or the length of a schedule array). For
        ``algorithm='pt'`` each sweep updates every replica of the ladder once.
    reads : independent reads (runs).
    schedule : 'geometric' (constant ratio of beta per sweep), 'linear', or an array of
        betas, one per sweep (``algorithm='sa'`` only).
    beta_range : ``(beta_hot, beta_cold)``; default :func:`default_beta_range` of the
        couplings (a typical flip accepted half the time at the start, the smallest flip
        rarely at the end; for ``algorithm='pt'`` the hottest replica accepts a typical flip
        15% of the time, ``PT_HOT_ACCEPTANCE``).
    sampler : 'metropolis', 'heatbath', or a :class:`Sampler` (driven sweep by sweep).
    seed : int or numpy Generator; the same seed gives the same reads.
    initial : 'random', 'up', or starting states (n_spins,) or (reads, n_spins).
    algorithm : 'sa' (simulated annealing) or 'pt' (replica exchange over a geometric
        ladder between the ends of ``beta_range``; each read reports the lowest-energy state
        it saw).
    temperatures : for 'pt', the number of ladder temperatures or the ladder itself.
    max_quench_sweeps : cap on the final zero-temperature quench of each read.
    progress : called with the number of reads just finished, as groups of reads finish (the
        reads are then run in groups; each read's result is the same either way).
    interrupt : called with no arguments as groups of reads finish (as for ``progress``);
        when it returns True the run stops and the result holds the reads finished so far
        (at least one group). dwave-samplers' ``interrupt_function``. With a ``Sampler``
        object driven sweep by sweep the reads run together and cannot be cut short.

    The memory of the reads (and of the ladder) is checked before anything is allocated.
    Every read ends with a zero-temperature quench, so its state is a local minimum.
    Returns an :class:`AnnealResult`; energies are recomputed exactly from the final states.
    """
    started = time.perf_counter()
    check_ising_model(model)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    reads = check_positive_int("reads", reads)
    max_quench = check_positive_int("max_quench_sweeps", max_quench_sweeps)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking a count, or None, got {progress!r}")
    if interrupt is not None and not callable(interrupt):
        raise TypeError(
            f"interrupt must be a callable taking no arguments (True stops the run), or None, got {interrupt!r}"
        )
    n = model.n_spins
    # each read holds its spins and generator, and the final energies work in float64 copies
    check_memory(f"annealing {reads} reads of {n} spins", reads * (BYTES_PER_READ_SPIN * n + BYTES_PER_READ))
    smp, fast = _single_spin_rule(sampler)
    with warnings.catch_warnings():
        # an optimiser keeps the lowest states it meets, and every read ends in a quench: a sweep
        # that cannot reach every state is no bias here
        warnings.simplefilter("ignore", NonErgodicWarning)
        smp.check_model(model)
    if beta_range is not None:
        beta_range = check_beta_range(beta_range)
    if algorithm == "sa":
        if sweeps is None and isinstance(schedule, str):
            sweeps = DEFAULT_SWEEPS
        if isinstance(sweeps, (int, np.integer)) and not isinstance(sweeps, bool):
            check_memory(f"an annealing schedule of {sweeps} sweeps", 8.0 * float(sweeps))
        betas = make_schedule(schedule, sweeps, beta_range, model)
        used_range = (float(betas[0]), float(betas[-1]))
        states = _anneal_sa(model, betas, reads, smp, fast, seed, initial, max_quench, progress, interrupt)
        n_sweeps = int(betas.size)
    else:
        if not isinstance(schedule, str):
            raise ValueError(
                "a schedule array applies to algorithm='sa'; parallel tempering uses a ladder (temperatures=...)"
            )
        n_sweeps = check_positive_int("sweeps", DEFAULT_SWEEPS if sweeps is None else sweeps)
        if not fast:
            raise ValueError("algorithm='pt' runs Metropolis or heat-bath replicas: sampler='metropolis' or 'heatbath'")
        hot, cold = (
            beta_range if beta_range is not None else default_beta_range(model, hot_acceptance=PT_HOT_ACCEPTANCE)
        )
        if isinstance(temperatures, (int, np.integer)) and not isinstance(temperatures, bool):
            K = check_positive_int("temperatures", temperatures, minimum=2)
            _check_ladder_memory(reads, K, n)
            ladder = geometric_ladder(1.0 / max(hot, cold), 1.0 / min(hot, cold), K)
        else:
            ladder = _ladder(temperatures)
            _check_ladder_memory(reads, ladder.size, n)
        used_range = (1.0 / float(ladder[-1]), 1.0 / float(ladder[0]))
        states = _anneal_pt(model, ladder, n_sweeps, reads, smp, seed, initial, max_quench, progress, interrupt)
    energies = np.atleast_1d(model.energy(states)).astype(np.float64)
    best = int(np.argmin(energies))
    return AnnealResult(
        best_state=states[best].copy(),
        best_energy=float(energies[best]),
        energies=energies,
        states=states,
        seconds=time.perf_counter() - started,
        algorithm=algorithm,
        sweeps=n_sweeps,
        beta_range=used_range,
    )


def _check_ladder_memory(reads: int, K: int, n: int) -> None:
    """Refuse a parallel-tempering run whose replicas (K per read) cannot fit."""
    check_memory(
        f"parallel tempering with a ladder of {K} temperatures for {reads} reads of {n} spins",
        float(reads) * K * (BYTES_PER_REPLICA_SPIN * n + BYTES_PER_REPLICA),
    )


def _groups(reads: int, progress: Callable[[int], None] | None, interrupt: object = None) -> list[tuple[int, int]]:
    """Ranges of reads run by one kernel call: all at once without ``progress`` or ``interrupt``,
    else about a hundredth of them, and never fewer than the threads, so that a group still fills them."""
    if progress is None and interrupt is None:
        return [(0, reads)]
    size = max(numba.get_num_threads(), -(-reads // 100))
    return [(a, min(a + size, reads)) for a in range(0, reads, size)]


def _dense_couplings(model: Ising) -> np.ndarray:
    """The dense J for models with at least a quarter of all pairs coupled (and at most
    DENSE_MAX_SPINS spins), where a flip's field updates run as one contiguous row; else an
    empty (0, 0) array, and the kernels walk CSR rows."""
    n = model.n_spins
    if n <= DENSE_MAX_SPINS and model.data.size >= DENSE_FILL * n * (n - 1):
        return np.ascontiguousarray(model.couplings.toarray())
    return np.zeros((0, 0))


def _initial_chains(model: Ising, n_chains: int, seed, initial, repeat: int = 1) -> ChainState:
    if isinstance(initial, str):
        return ChainState.new(model, n_chains, seed, initial)
    arr = np.asarray(initial)
    if arr.ndim == 2 and repeat > 1:
        arr = np.repeat(arr, repeat, axis=0)
    return ChainState.new(model, n_chains, seed, arr)


def _anneal_sa(
    model: Ising,
    betas: np.ndarray,
    reads: int,
    smp: Sampler,
    fast: bool,
    seed,
    initial,
    max_quench: int,
    progress: Callable[[int], None] | None = None,
    interrupt: Callable[[], bool] | None = None,
) -> np.ndarray:
    state = _initial_chains(model, reads, seed, initial)
    if fast:
        assert smp.rule is not None  # fast means the sampler has a rule
        rule = annealing_rule(smp.rule)
        csr, dense, order = csr_int64(model), _dense_couplings(model), smp.site_order(model)
        # every read owns its row of spins and of generator state, so groups of rows give the
        # same reads as one call
        for a, b in _groups(reads, progress, interrupt):
            threads = thread_count(b - a)
            with thread_limit(threads):
                rule.compiled(_anneal_reads, parallel=True)(
                    state.spins[a:b],
                    state.rng[a:b],
                    *csr,
                    dense,
                    model.fields,
                    betas,
                    order,
                    smp.order == "random",
                    max_quench,
                )
            if progress is not None:
                progress(b - a)
            if interrupt is not None and b < reads and interrupt():
                return state.spins[:b]  # the reads finished, each as it would be in a whole run
        return state.spins
    smp.reset(model, state)
    for beta in betas:
        smp.sweep(model, state, beta, 1)
    spins = _quench_states(model, state.spins, max_quench)
    if progress is not None:
        progress(reads)
    return spins


def _quench_states(model: Ising, spins: np.ndarray, max_quench: int) -> np.ndarray:
    """Zero-temperature quench of each row to a local minimum (in place)."""
    no_rng = np.zeros((spins.shape[0], 4), dtype=np.uint64)  # zero sweeps at finite temperature draw nothing
    threads = thread_count(spins.shape[0])
    with thread_limit(threads):
        # the annealers' own kernel (the quench draws nothing): no second compile
        ALWAYS_FREE_METROPOLIS.compiled(_anneal_reads, parallel=True)(
            spins,
            no_rng,
            *csr_int64(model),
            _dense_couplings(model),
            model.fields,
            np.zeros(0),
            np.arange(model.n_spins, dtype=np.int64),
            False,
            max_quench,
        )
    return spins


def _anneal_pt(
    model: Ising,
    ladder: np.ndarray,
    n_sweeps: int,
    reads: int,
    smp: Sampler,
    seed,
    initial,
    max_quench: int,
    progress: Callable[[int], None] | None = None,
    interrupt: Callable[[], bool] | None = None,
) -> np.ndarray:
    K = ladder.size
    state = _initial_chains(model, reads * K, seed, initial, repeat=K)
    ex_rng = seed_chains(np.random.SeedSequence([int(x) for x in state.rng[0]] + [reads * K, 0x5054]), reads)
    energy = state.energy.copy()
    best_energy = np.full(reads, np.inf)
    best_spins = state.spins[::K].copy()
    for r in range(reads):  # the best of the starting states
        k = int(np.argmin(energy[r * K : (r + 1) * K]))
        best_energy[r] = energy[r * K + k]
        best_spins[r] = state.spins[r * K + k]
    accepted = np.zeros((reads, K - 1), dtype=np.int64)
    attempted = np.zeros((reads, K - 1), dtype=np.int64)
    assert smp.rule is not None  # the PT optimiser runs only single-spin samplers with a rule
    rule = annealing_rule(smp.rule)
    csr, dense, order = csr_int64(model), _dense_couplings(model), smp.site_order(model)
    # run r owns rows r*K .. r*K + K - 1 and row r of the per-run arrays: groups of runs give
    # the same runs as one call
    for a, b in _groups(reads, progress, interrupt):
        threads = thread_count(b - a)
        with thread_limit(threads):
            rule.compiled(_pt_minimise, parallel=True)(
                state.spins[a * K : b * K],
                state.rng[a * K : b * K],
                energy[a * K : b * K],
                *csr,
                dense,
                model.fields,
                1.0 / ladder,
                order,
                smp.order == "random",
                n_sweeps,
                ex_rng[a:b],
                best_spins[a:b],
                best_energy[a:b],
                accepted[a:b],
                attempted[a:b],
            )
        if progress is not None:
            progress(b - a)
        if interrupt is not None and b < reads and interrupt():
            return _quench_states(model, best_spins[:b], max_quench)
    return _quench_states(model, best_spins, max_quench)
