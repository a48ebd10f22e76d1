"""Parallel tempering (replica exchange): copies of the system at a ladder of temperatures
that sweep independently and swap configurations between neighbouring temperatures.

A run with a ladder T_0 < T_1 < ... < T_{K-1} holds K chain slots; slot k always stays at
T_k and the configurations move between slots. Every sweep, each slot is advanced by one
sweep of a base sampler (Metropolis by default) at its own temperature, and then swaps are
proposed between neighbouring slots (pairs (0,1), (2,3), ... and (1,2), (3,4), ...
alternately) and accepted with probability

    min(1, exp((beta_i - beta_j) (E_i - E_j))),

which satisfies detailed balance for the product of Boltzmann distributions, so each slot
samples exp(-E / T_k) / Z exactly while configurations from hot slots help cold ones across
barriers. ``n_chains`` independent runs use ``n_chains * K`` slots: slot c holds ladder
temperature ``c % K`` of run ``c // K``.

The swap decisions draw from one xoshiro generator per run that belongs to the sampler's
own state (:meth:`ParallelTempering.state`), seeded from the chains' generators in
:meth:`ParallelTempering.reset`; the chains' own generator rows never move, so a run that
is checkpointed and resumed is bit-identical to one that never stopped.

Helpers: :func:`geometric_ladder` and :func:`adapt_ladder`, which moves the intermediate
temperatures until the measured exchange acceptance is the same between every pair.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import prange
from numpy.typing import ArrayLike
from scipy.special import erfcinv

from thermolearn.kernel_cache import njit
from thermolearn.kernel_threads import ThreadClock, thread_count
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next_uniform, seed_chains
from thermolearn.resources import check_memory
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.rules import rule_decide
from thermolearn.samplers.single_spin import single_spin_chain
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_positive_float, check_positive_int, check_temperature, check_temperatures

FROM_NOWHERE = 0  # a replica that has visited neither end of the ladder yet
FROM_COLD = 1  # the end it visited last is the lowest temperature
FROM_HOT = 2  # the end it visited last is the highest temperature

_STATE_KEYS = (
    "exchange_rng",
    "exchange_accepted",
    "exchange_attempted",
    "replica",
    "direction",
    "flow_counts",
    "round_trips",
    "counters",
)


@njit(inline="always")
def _exchange_run(
    r,
    spins,
    energy,
    magnetization,
    betas,
    n_temps,
    parity,
    rng,
    accepted,
    attempted,
    replica,
    direction,
    flow_counts,
    round_trips,
):
    """Swap proposals between slots (i, i+1), i = parity, parity + 2, ... of run ``r``, then the
    flow bookkeeping (which end of the ladder each replica visited last)."""
    n = spins.shape[1]
    s0, s1, s2, s3 = rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3]
    base = r * n_temps
    for i in range(parity, n_temps - 1, 2):
        a = base + i
        b = a + 1
        delta = (betas[a] - betas[b]) * (energy[a] - energy[b])
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        attempted[r, i] += 1
        if delta >= 0.0 or u < math.exp(delta):
            accepted[r, i] += 1
            for k in range(n):
                t = spins[a, k]
                spins[a, k] = spins[b, k]
                spins[b, k] = t
            e = energy[a]
            energy[a] = energy[b]
            energy[b] = e
            m = magnetization[a]
            magnetization[a] = magnetization[b]
            magnetization[b] = m
            q = replica[a]
            replica[a] = replica[b]
            replica[b] = q
            d = direction[a]
            direction[a] = direction[b]
            direction[b] = d
    rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3] = s0, s1, s2, s3
    if direction[base] == FROM_HOT:
        round_trips[r] += 1
    direction[base] = FROM_COLD
    direction[base + n_temps - 1] = FROM_HOT
    for i in range(n_temps):
        d = direction[base + i]
        if d == FROM_COLD:
            flow_counts[r, i, 0] += 1
        elif d == FROM_HOT:
            flow_counts[r, i, 1] += 1


@njit(cache=True)
def _exchange_step(
    spins,
    energy,
    magnetization,
    betas,
    n_temps,
    parity,
    rng,
    accepted,
    attempted,
    replica,
    direction,
    flow_counts,
    round_trips,
):
    """One round of swap proposals in every run (after a base sweep of every slot)."""
    for r in range(spins.shape[0] // n_temps):
        _exchange_run(
            r,
            spins,
            energy,
            magnetization,
            betas,
            n_temps,
            parity,
            rng,
            accepted,
            attempted,
            replica,
            direction,
            flow_counts,
            round_trips,
        )


@njit(inline="always")
def _pt_run(
    decide,
    r,
    spins,
    rng,
    energy,
    magnetization,
    indptr,
    indices,
    data,
    h,
    betas,
    order,
    random_site,
    n_temps,
    n_sweeps,
    exchange_every,
    sweeps_done,
    rounds_done,
    ex_rng,
    ex_accepted,
    ex_attempted,
    replica,
    direction,
    flow_counts,
    round_trips,
    accepted,
):
    """Run ``r`` of a fused replica-exchange call: base sweeps of its slots alternating with
    swap rounds, exactly as the generic path does them."""
    done = sweeps_done
    rounds = rounds_done
    left = n_sweeps
    while left > 0:
        step = min(left, exchange_every - done % exchange_every)
        for k in range(n_temps):
            c = r * n_temps + k
            for _ in range(step):  # one sweep at a time, as the generic path: energies add up identically
                accepted[c] += single_spin_chain(
                    decide,
                    c,
                    spins,
                    rng,
                    energy,
                    magnetization,
                    indptr,
                    indices,
                    data,
                    h,
                    betas[c],
                    order,
                    random_site,
                    1,
                )
        done += step
        left -= step
        if done % exchange_every == 0:
            _exchange_run(
                r,
                spins,
                energy,
                magnetization,
                betas,
                n_temps,
                rounds % 2,
                ex_rng,
                ex_accepted,
                ex_attempted,
                replica,
                direction,
                flow_counts,
                round_trips,
            )
            rounds += 1


# Two kernels with their own names (Numba's cache tells functions apart by name, not by flags):
# the serial one for small calls, where starting threads would cost more than the work. Both
# are compiled per rule (:meth:`SpinFlipRule.compiled` binds ``rule_decide``).
def _pt_sweeps_serial(
    spins,
    rng,
    energy,
    magnetization,
    indptr,
    indices,
    data,
    h,
    betas,
    order,
    random_site,
    n_temps,
    n_sweeps,
    exchange_every,
    sweeps_done,
    rounds_done,
    ex_rng,
    ex_accepted,
    ex_attempted,
    replica,
    direction,
    flow_counts,
    round_trips,
    accepted,
):
    for r in range(spins.shape[0] // n_temps):
        _pt_run(
            rule_decide,
            r,
            spins,
            rng,
            energy,
            magnetization,
            indptr,
            indices,
            data,
            h,
            betas,
            order,
            random_site,
            n_temps,
            n_sweeps,
            exchange_every,
            sweeps_done,
            rounds_done,
            ex_rng,
            ex_accepted,
            ex_attempted,
            replica,
            direction,
            flow_counts,
            round_trips,
            accepted,
        )


def _pt_sweeps_parallel(
    spins,
    rng,
    energy,
    magnetization,
    indptr,
    indices,
    data,
    h,
    betas,
    order,
    random_site,
    n_temps,
    n_sweeps,
    exchange_every,
    sweeps_done,
    rounds_done,
    ex_rng,
    ex_accepted,
    ex_attempted,
    replica,
    direction,
    flow_counts,
    round_trips,
    accepted,
):
    for r in prange(spins.shape[0] // n_temps):
        _pt_run(
            rule_decide,
            r,
            spins,
            rng,
            energy,
            magnetization,
            indptr,
            indices,
            data,
            h,
            betas,
            order,
            random_site,
            n_temps,
            n_sweeps,
            exchange_every,
            sweeps_done,
            rounds_done,
            ex_rng,
            ex_accepted,
            ex_attempted,
            replica,
            direction,
            flow_counts,
            round_trips,
            accepted,
        )


def csr_int64(model: Ising) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of the couplings with int64 indices, read-only (so every
    model reaches the compiled kernels with one signature: one compilation, one cache entry)."""
    out = []
    for arr in (model.indptr, model.indices):
        if arr.dtype != np.int64:
            arr = arr.astype(np.int64)
            arr.setflags(write=False)
        out.append(arr)
    return out[0], out[1], model.data


def _ladder(temperatures: ArrayLike) -> np.ndarray:
    temps = np.sort(check_temperatures(temperatures, "temperatures"))
    if temps.size < 2:
        raise ValueError(f"parallel tempering needs at least two temperatures, got {temps.tolist()}")
    if np.any(np.diff(temps) <= 0):
        raise ValueError(f"parallel tempering temperatures must be distinct, got {temps.tolist()}")
    return temps


class ParallelTempering(Sampler):
    """Replica exchange over the ladder ``temperatures`` with a base sampler.

    Parameters
    ----------
    temperatures : the ladder, at least two distinct T > 0 (sorted ascending internally).
    base : the sampler that sweeps each slot at its temperature: a registered name
        ('metropolis', 'heatbath', ...) or a :class:`Sampler` object (not another
        parallel tempering).
    exchange_every : propose swaps after every ``exchange_every`` sweeps (default 1).
    base_options : options for the base sampler when ``base`` is a name, e.g.
        ``{"order": "checkerboard"}``.

    Use it through :func:`thermolearn.runs.sample` with ``temperature=None``:
    ``sample(model, ParallelTempering([...]), None, sweeps=..., n_chains=R)`` runs R
    independent replica-exchange runs and gives observables per ladder temperature.
    """

    name = "pt"
    needs_ladder = True
    sweep_blocks = True  # one base sweep per round, exchanges on the global sweep count
    #: With a base that declares a single-spin rule (Metropolis, heat bath, their subclasses),
    #: run whole calls in one compiled kernel for that rule (the same chains, bit for bit, as
    #: the generic path, without a round trip to Python per sweep).
    use_fused_kernel = True

    def __init__(
        self,
        temperatures: ArrayLike,
        base: str | Sampler = "metropolis",
        exchange_every: int = 1,
        base_options: dict[str, Any] | None = None,
    ) -> None:
        self.temperatures = _ladder(temperatures)
        self.temperatures.setflags(write=False)
        self.exchange_every = exchange_every  # checked by the property
        ladder_base = ValueError(
            "the base sampler of parallel tempering cannot be parallel tempering itself "
            "(nor any sampler that runs its own ladder of temperatures)"
        )
        if isinstance(base, Sampler):
            if base.needs_ladder:
                raise ladder_base
            if base_options:
                raise ValueError("base_options go to the base sampler's constructor when a Sampler object is given")
            self.base = base
        elif isinstance(base, str):
            from thermolearn.samplers.registry import SAMPLERS, make_sampler  # the registry imports this module

            if base in SAMPLERS and SAMPLERS[base].needs_ladder:
                raise ladder_base
            self.base = make_sampler(base, **(base_options or {}))
        else:
            raise TypeError(f"base must be a sampler name or a Sampler, got {type(base).__name__}")
        self._n_slots = -1
        self._clear(0)
        # one thread or the pool, by their running times (kernel_threads.ThreadClock): on a busy
        # machine short parallel calls wait for a descheduled thread (bench_under_load)
        self._clock = ThreadClock()

    @property
    def exchange_every(self) -> int:
        """Swaps are proposed after every this many sweeps (an int >= 1; takes effect at the next sweep)."""
        return self._exchange_every

    @exchange_every.setter
    def exchange_every(self, value: int) -> None:
        self._exchange_every = check_positive_int("exchange_every", value)

    @classmethod
    def example(cls) -> ParallelTempering:
        """Four temperatures from 1.2 to 3 (geometric) over Metropolis."""
        return cls(geometric_ladder(1.2, 3.0, 4))

    # ------------------------------------------------------------------ the Sampler interface
    @property
    def n_temperatures(self) -> int:
        """Number of temperatures in the ladder."""
        return int(self.temperatures.size)

    def options(self) -> dict:
        return {
            "temperatures": self.temperatures.tolist(),
            "base": self.base.name,
            "base_options": self.base.options(),
            "exchange_every": self.exchange_every,
        }

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        self.base.check_model(model)

    def chain_temperatures(self, temperature: float | None, n_chains: int) -> np.ndarray:
        """The ladder tiled ``n_chains`` times: slot c is at ``temperatures[c % K]`` of run c // K."""
        if temperature is not None:
            raise ValueError(
                "parallel tempering runs at its own ladder of temperatures; pass temperature=None "
                f"(the ladder is {self.temperatures.tolist()})"
            )
        n_chains = check_positive_int("n_chains", n_chains)
        return np.tile(self.temperatures, n_chains)

    def _clear(self, n_slots: int) -> None:
        k = self.n_temperatures
        n_runs = n_slots // k if n_slots > 0 else 0
        self._n_slots = n_slots
        self._rng = np.zeros((n_runs, 4), dtype=np.uint64)
        self._accepted = np.zeros((n_runs, k - 1), dtype=np.int64)
        self._attempted = np.zeros((n_runs, k - 1), dtype=np.int64)
        self._replica = np.arange(n_slots, dtype=np.int64)
        self._direction = np.zeros(n_slots, dtype=np.int64)
        self._flow = np.zeros((n_runs, k, 2), dtype=np.int64)
        self._round_trips = np.zeros(n_runs, dtype=np.int64)
        self._counters = np.zeros(2, dtype=np.int64)  # sweeps done, exchange rounds done

    def _check_slots(self, n_slots: int) -> None:
        if n_slots % self.n_temperatures:
            raise ValueError(
                f"parallel tempering with {self.n_temperatures} temperatures needs a multiple of "
                f"{self.n_temperatures} chain slots, got {n_slots}; build the chains with chain_temperatures"
            )

    def reset(self, model: Ising, state: ChainState) -> None:
        """Fresh counters and exchange generators for ``state``'s chains (one generator per
        run, seeded from the chains' own generator states, so the same seed gives the same run)."""
        self._check_slots(state.n_chains)
        self._clear(state.n_chains)
        entropy = [int(x) for x in state.rng[0]] + [state.n_chains, 0x5054]  # 'PT'
        self._rng = seed_chains(np.random.SeedSequence(entropy), state.n_chains // self.n_temperatures)
        self.base.reset(model, state)

    def state(self) -> dict[str, np.ndarray]:
        out = {
            "exchange_rng": self._rng,
            "exchange_accepted": self._accepted,
            "exchange_attempted": self._attempted,
            "replica": self._replica,
            "direction": self._direction,
            "flow_counts": self._flow,
            "round_trips": self._round_trips,
            "counters": self._counters,
        }
        out = {k: v.copy() for k, v in out.items()}
        out.update({f"base_{k}": v for k, v in self.base.state().items()})
        return out

    def load_state(self, arrays: dict[str, np.ndarray], n_chains: int | None = None) -> None:
        missing = [k for k in _STATE_KEYS if k not in arrays]
        if missing:
            raise ValueError(f"parallel tempering state lacks {', '.join(missing)}; it was not saved by this sampler")
        k = self.n_temperatures
        # the exchange kernel indexes these without bounds checks: every shape must follow
        # from the number of runs and the ladder, and the generators must be able to move
        rng = np.asarray(arrays["exchange_rng"])
        if rng.dtype != np.uint64 or rng.ndim != 2 or rng.shape[1] != 4 or not np.all(rng.any(axis=1)):
            raise ValueError(
                "parallel tempering exchange_rng must be non-zero uint64 generator states of shape (runs, 4)"
            )
        n_runs = int(rng.shape[0])
        if n_chains is not None and n_runs * k != n_chains:
            raise ValueError(
                f"parallel tempering state holds {n_runs} run(s) of {k} temperatures ({n_runs * k} slots), "
                f"but the chains have {n_chains} slots"
            )
        if np.asarray(arrays["exchange_accepted"]).shape != (n_runs, k - 1):
            raise ValueError(
                f"parallel tempering state is for a ladder of {np.asarray(arrays['exchange_accepted']).shape[-1] + 1} "
                f"temperatures, this sampler has {k}"
            )
        shapes = {
            "exchange_accepted": (n_runs, k - 1),
            "exchange_attempted": (n_runs, k - 1),
            "replica": (n_runs * k,),
            "direction": (n_runs * k,),
            "flow_counts": (n_runs, k, 2),
            "round_trips": (n_runs,),
            "counters": (2,),
        }
        checked = {}
        for key, shape in shapes.items():
            arr = np.asarray(arrays[key])
            if arr.dtype.kind not in "iu" or arr.shape != shape or (arr.size and arr.min() < 0):
                raise ValueError(f"parallel tempering {key} must be non-negative integers of shape {shape}")
            checked[key] = arr.astype(np.int64)
        if np.any(checked["exchange_accepted"] > checked["exchange_attempted"]):
            raise ValueError("parallel tempering exchange_accepted exceeds exchange_attempted")
        if np.any(checked["direction"] > FROM_HOT):
            raise ValueError(f"parallel tempering direction may hold only {FROM_NOWHERE}, {FROM_COLD}, {FROM_HOT}")
        self._n_slots = n_runs * k
        self._rng = np.ascontiguousarray(rng, dtype=np.uint64).copy()
        self._accepted = checked["exchange_accepted"]
        self._attempted = checked["exchange_attempted"]
        self._replica = checked["replica"]
        self._direction = checked["direction"]
        self._flow = checked["flow_counts"]
        self._round_trips = checked["round_trips"]
        self._counters = checked["counters"]
        self.base.load_state({key[5:]: v for key, v in arrays.items() if key.startswith("base_")}, n_chains)

    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        """``n_sweeps`` rounds of: a base sweep of every slot, then (every ``exchange_every``
        sweeps) swap proposals between neighbouring temperatures, even and odd pairs in turn.
        Returns the base sampler's move statistics; 0 sweeps change nothing."""
        n_sweeps = self._check_call(model, state, n_sweeps)  # the chains: in full on first sight, their layout after
        self._check_slots(state.n_chains)
        if self._n_slots != state.n_chains:
            self.reset(model, state)
        betas = as_betas(betas, state.n_chains)
        if n_sweeps == 0:
            return SweepStats(
                accepted=np.zeros(state.n_chains, dtype=np.int64), attempted=np.zeros(state.n_chains, dtype=np.int64)
            )
        if self.use_fused_kernel and self.base.rule is not None:
            return self._fused_sweep(model, state, betas, n_sweeps)
        accepted = np.zeros(state.n_chains, dtype=np.int64)
        attempted = np.zeros(state.n_chains, dtype=np.int64)
        for _ in range(n_sweeps):
            # one base sweep per call, so the running energies (and every swap decision) do not
            # depend on how a run is cut into calls
            stats = self.base.sweep(model, state, betas, 1)
            accepted += stats.accepted
            attempted += stats.attempted
            self._counters[0] += 1
            if self._counters[0] % self.exchange_every == 0:
                _exchange_step(
                    state.spins,
                    state.energy,
                    state.magnetization,
                    betas,
                    self.n_temperatures,
                    int(self._counters[1] % 2),
                    self._rng,
                    self._accepted,
                    self._attempted,
                    self._replica,
                    self._direction,
                    self._flow,
                    self._round_trips,
                )
                self._counters[1] += 1
        return SweepStats(accepted=accepted, attempted=attempted)

    def _fused_sweep(self, model: Ising, state: ChainState, betas: np.ndarray, n_sweeps: int) -> SweepStats:
        """Single-spin base: the whole call in one compiled kernel, runs in parallel threads."""
        base = self.base
        k = self.n_temperatures
        n_runs = state.n_chains // k
        work = n_sweeps * state.n_chains * (model.data.size + model.n_spins)
        assert base.rule is not None  # the fused kernel runs only for a base with a rule
        parallel_kernel = base.rule.compiled(_pt_sweeps_parallel, parallel=True)
        kernel = parallel_kernel if n_runs > 1 and work > 1_000_000 else base.rule.compiled(_pt_sweeps_serial)
        accepted = np.zeros(state.n_chains, dtype=np.int64)
        done, rounds = int(self._counters[0]), int(self._counters[1])
        indptr, indices, data = csr_int64(model)
        threads = thread_count(n_runs) if kernel is parallel_kernel else 1
        self._clock.run(
            threads,
            n_sweeps,
            kernel,
            state.spins,
            state.rng,
            state.energy,
            state.magnetization,
            indptr,
            indices,
            data,
            model.fields,
            betas,
            base.site_order(model),
            base.order == "random",
            k,
            n_sweeps,
            self.exchange_every,
            done,
            rounds,
            self._rng,
            self._accepted,
            self._attempted,
            self._replica,
            self._direction,
            self._flow,
            self._round_trips,
            accepted,
        )
        self._counters[0] = done + n_sweeps
        self._counters[1] = rounds + (done + n_sweeps) // self.exchange_every - done // self.exchange_every
        return SweepStats(accepted=accepted, attempted=np.full(state.n_chains, n_sweeps * model.n_spins))

    # ------------------------------------------------------------------ what it measured
    def exchange_acceptance(self) -> np.ndarray:
        """Accepted / proposed swaps between temperatures k and k+1, pooled over runs
        (NaN for a pair never proposed), shape (K - 1,)."""
        tried = self._attempted.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tried > 0, self._accepted.sum(axis=0) / np.maximum(tried, 1), np.nan)

    def flow_fraction(self) -> np.ndarray:
        """f(T_k): of the replicas at T_k that have visited an end of the ladder, the fraction
        whose last visit was to the lowest temperature (1 at T_min, 0 at T_max; a straight
        line in k when replicas diffuse freely along the ladder). NaN where none were seen."""
        counts = self._flow.sum(axis=0)
        total = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, counts[:, 0] / np.maximum(total, 1), np.nan)

    def info(self) -> dict:
        def clean(values: np.ndarray) -> list:
            return [None if not math.isfinite(v) else float(v) for v in values]

        return {
            "temperatures": self.temperatures.tolist(),
            "n_runs": int(self._rng.shape[0]),
            "sweeps": int(self._counters[0]),
            "exchange_rounds": int(self._counters[1]),
            "exchange_acceptance": clean(self.exchange_acceptance()),
            "exchange_accepted": self._accepted.sum(axis=0).tolist(),
            "exchange_attempted": self._attempted.sum(axis=0).tolist(),
            "round_trips": int(self._round_trips.sum()),
            "flow_fraction": clean(self.flow_fraction()),
        }


# ---------------------------------------------------------------------------- ladders
def geometric_ladder(t_min: float, t_max: float, n: int) -> np.ndarray:
    """``n`` temperatures from ``t_min`` to ``t_max`` (both included) with a constant ratio
    T_{k+1} / T_k: the usual first guess, exact when the specific heat is constant."""
    lo = check_temperature(t_min, "t_min")
    hi = check_temperature(t_max, "t_max")
    n = check_positive_int("n", n, minimum=2)
    check_memory(f"a ladder of {n} temperatures", 24.0 * n, hint="choose fewer temperatures")
    if hi <= lo:
        raise ValueError(f"t_max must be > t_min, got t_min = {lo}, t_max = {hi}")
    temps = lo * (hi / lo) ** (np.arange(n) / (n - 1))
    temps[0], temps[-1] = lo, hi
    return temps


class AdaptedLadder(NamedTuple):
    """The ladder :func:`adapt_ladder` settled on and the swap acceptance measured on it
    (pair k is between ``temperatures[k]`` and ``temperatures[k + 1]``)."""

    temperatures: np.ndarray
    acceptance: np.ndarray


def _respace(betas: np.ndarray, acceptance: np.ndarray, floor: float) -> np.ndarray:
    """Betas (descending, endpoints fixed) that share the thermodynamic length equally.

    For swaps between energy distributions of equal width sigma, the acceptance is
    erfc(|Delta beta| sigma / 2); so l_k = 2 erfcinv(A_k) measures the distance between
    neighbours in units of the energy fluctuations. Equal l_k means equal acceptance. The
    length is spread uniformly in beta within each interval and the new points cut the
    cumulative length into equal parts.
    """
    a = np.clip(acceptance, floor, 1.0 - floor)
    lengths = 2.0 * erfcinv(a)
    lengths = np.maximum(lengths, 1e-3 * max(float(lengths.mean()), 1e-12))
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    targets = np.linspace(0.0, cumulative[-1], betas.size)
    # cumulative length grows from the coldest (largest beta) to the hottest
    new = np.interp(targets, cumulative, betas)
    new[0], new[-1] = betas[0], betas[-1]
    return new


def adapt_ladder(
    model: Ising,
    temperatures: ArrayLike,
    *,
    iterations: int = 5,
    sweeps: int = 1000,
    burn_in: int = 200,
    n_runs: int = 1,
    base: str | Sampler = "metropolis",
    damping: float = 0.7,
    seed: int = 0,
) -> AdaptedLadder:
    """Move the intermediate temperatures of a ladder toward uniform swap acceptance.

    Each iteration runs parallel tempering for ``burn_in`` + ``sweeps`` sweeps on
    ``n_runs`` independent runs (the configurations carry over from one iteration to the
    next), measures the acceptance A_k of every neighbouring pair over the ``sweeps``
    sweeps, converts it to a distance l_k = 2 erfcinv(A_k) (exact for Gaussian energy
    distributions of equal width; after Rathore, Chopra and de Pablo, J. Chem. Phys. 122,
    024111 (2005)), and moves the inverse temperatures so every pair has the same distance,
    mixing ``damping`` of the new ladder with the old. The lowest and highest temperatures
    and the number of temperatures stay fixed. A last run measures the returned ladder.

    Returns :class:`AdaptedLadder` ``(temperatures, acceptance)``, temperatures ascending.
    """
    temps = _ladder(temperatures)
    iterations = check_positive_int("iterations", iterations, minimum=0)
    sweeps = check_positive_int("sweeps", sweeps)
    burn_in = check_positive_int("burn_in", burn_in, minimum=0)
    n_runs = check_positive_int("n_runs", n_runs)
    damping = check_positive_float("damping", damping)
    if damping > 1:
        raise ValueError(f"damping must be in (0, 1], got {damping}")
    pt = ParallelTempering(temps, base=base)
    pt.check_model(model)
    state = ChainState.new(model, n_runs * temps.size, seed)
    floor = 0.5 / (sweeps * n_runs)  # half a swap: what a pair that never (or always) swapped is credited
    acceptance = np.full(temps.size - 1, np.nan)
    saved: dict[str, np.ndarray] | None = None
    for it in range(iterations + 1):
        pt = ParallelTempering(temps, base=pt.base)
        if saved is None:
            pt.reset(model, state)
        else:
            pt.load_state(saved)  # the exchange generators and counters go on from the last iteration
        betas = 1.0 / pt.chain_temperatures(None, n_runs)
        if burn_in:
            pt.sweep(model, state, betas, burn_in)
        before_acc, before_att = pt._accepted.sum(axis=0), pt._attempted.sum(axis=0)
        pt.sweep(model, state, betas, sweeps)
        acc = pt._accepted.sum(axis=0) - before_acc
        att = pt._attempted.sum(axis=0) - before_att
        acceptance = acc / np.maximum(att, 1)
        saved = pt.state()
        if it == iterations:
            break
        betas_now = 1.0 / temps
        proposed = _respace(betas_now, acceptance, floor)
        mixed = (1.0 - damping) * betas_now + damping * proposed
        temps = 1.0 / mixed
        temps[0], temps[-1] = 1.0 / betas_now[0], 1.0 / betas_now[-1]
    return AdaptedLadder(temperatures=temps.copy(), acceptance=acceptance)
