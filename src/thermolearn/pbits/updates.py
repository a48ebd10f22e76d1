"""Run a network of p-bits on any Ising model under one of four hardware update models.

A p-bit (Camsari et al. 2017) is a binary stochastic neuron: m_i = sgn(tanh(beta I_i) - u),
u uniform in (-1, 1), with input I_i = sum_j J_ij m_j + h_i (energy units; beta = I0 in the
invertible-logic papers). What a machine samples depends on when the p-bits update:

- ``sequential``: one p-bit at a time in index order, each reading the newest state (Gibbs):
  exactly p(m) = exp(-beta E(m)) / Z.
- ``chromatic``: every colour class of a graph colouring at once (:mod:`.coloring`), the
  classes in turn: exactly Gibbs, with a class's worth of parallel work per step.
- ``synchronous``: every p-bit at once from the previous state: a different chain, whose
  stationary law is exp(beta h.m) prod_i cosh(beta I_i(m)) (Peretto 1984), not Boltzmann.
- ``asynchronous``: continuous time, each p-bit on its own Poisson clock (rate 1: one sweep
  is one unit of time), reading neighbour values that were last broadcast; broadcasts come
  at rate ``eta`` = f_comm / f_pbit (networked FPGA machines). eta = inf is exact; small eta
  approaches synchronous behaviour.

:func:`run_pbits` runs many independent chains and returns, per chain, a histogram of the
readout p-bits' joint state or their state after every sweep (as integer codes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.validation import check_finite_float, check_positive_int

UPDATE_MODELS = ("sequential", "chromatic", "synchronous", "asynchronous")
"""The p-bit update models, in the order the CLI lists them."""
EXACT_UPDATE_MODELS = ("sequential", "chromatic")
"""Update models whose stationary distribution is exp(-beta E) / Z at every setting."""
RECORDS = ("histogram", "series")
MAX_READOUT_BITS = 62
MAX_HISTOGRAM_BITS = 20
#: tanh(x) rounds to +-1 in float64 beyond about 19.06: a p-bit whose |beta I| can get there
#: becomes deterministic in some states and the chain can lose ergodicity. Refuse before that.
MAX_BETA_INPUT = 18.0
#: codes buffered per kernel call (8 bytes each), bounding memory for long runs
_CHUNK_CODES = 1 << 20


@dataclass(frozen=True, eq=False)
class PBitRun:
    """What a p-bit run recorded.

    Attributes
    ----------
    update, beta, eta : the update model, the inverse temperature (I0) and, for asynchronous
        runs, f_comm / f_pbit (None otherwise).
    update_time : the mean duration of an asynchronous p-bit update (0: instant).
    n_sweeps, burn_in : recorded sweeps per chain, and the sweeps discarded before them.
    readout : the p-bits read (int64, shape (k,)); bit j of a code is readout[j] = +1.
    counts : (n_chains, 2^k) int64 histogram of codes, or None for a series.
    codes : (n_chains, n_sweeps) int64 code after every sweep, or None for a histogram.
    final_states : (n_chains, n) int8 states at the end.
    """

    update: str
    beta: float
    eta: float | None
    n_sweeps: int
    burn_in: int
    readout: np.ndarray
    counts: np.ndarray | None
    codes: np.ndarray | None
    final_states: np.ndarray
    update_time: float = 0.0

    @property
    def n_chains(self) -> int:
        """Number of independent chains run."""
        return int(self.final_states.shape[0])

    def frequencies(self) -> np.ndarray:
        """Per-chain empirical distribution of the readout, shape (n_chains, 2^k), rows sum to 1."""
        if self.counts is None:
            raise ValueError("this run recorded a series (record='series'); frequencies need record='histogram'")
        return self.counts / self.counts.sum(axis=1, keepdims=True)


def check_update(update: object) -> str:
    """``update`` if it names an update model; else ValueError listing them."""
    if update not in UPDATE_MODELS:
        raise ValueError(f"update must be one of {', '.join(UPDATE_MODELS)}, got {update!r}")
    return str(update)


def check_eta(eta: object) -> float:
    """eta = f_comm / f_pbit: a number > 0 or inf. eta = 0 never shows a p-bit its neighbours'
    new values, so the chain would not be ergodic."""
    if isinstance(eta, bool) or not isinstance(eta, int | float | np.integer | np.floating):
        raise TypeError(f"eta must be a number > 0 or inf (f_comm / f_pbit), got {eta!r}")
    value = float(eta)
    if math.isnan(value) or value <= 0:
        raise ValueError(
            f"eta must be > 0 or inf (f_comm / f_pbit); eta = {value} never delivers neighbour states, so the chain "
            "is not ergodic"
        )
    return value


def check_ergodic_beta(model: Ising, beta: object, *, name: str = "beta") -> float:
    """beta as a float, if it is finite, >= 0, and keeps every p-bit random in every state.

    A p-bit with |beta I| beyond :data:`MAX_BETA_INPUT` is deterministic in float64 (tanh rounds
    to +-1), so some moves become impossible and the chain may not be ergodic.
    """
    b = check_finite_float(name, beta)
    if b < 0:
        raise ValueError(f"{name} must be >= 0 (an inverse temperature, I0 for p-bits), got {b}")
    J = model.couplings
    reach = np.abs(model.fields) + np.asarray(abs(J).sum(axis=1)).ravel() if model.n_spins else np.zeros(0)
    worst = float(reach.max()) if reach.size else 0.0
    if b * worst > MAX_BETA_INPUT:
        raise ValueError(
            f"{name} = {b:g} makes some p-bits deterministic (|{name} I| up to {b * worst:.3g} > {MAX_BETA_INPUT:g}, "
            f"where tanh rounds to +-1), so the chain is not ergodic; use {name} <= {MAX_BETA_INPUT / worst:.4g}"
        )
    return b


def check_update_time(update_time: object) -> float:
    """tau, the mean time a p-bit update takes (units of 1 / f_pbit): a finite number >= 0."""
    tau = check_finite_float("update_time", update_time)
    if tau < 0:
        raise ValueError(f"update_time must be >= 0 (the mean duration of a p-bit update), got {tau}")
    return tau


def check_partitions(partitions: int | Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
    """One int64 partition label per p-bit (default: each p-bit its own partition); an int K
    cuts the p-bits, in index order, into K contiguous partitions of near-equal size."""
    if partitions is None:
        return np.arange(n, dtype=np.int64)
    if isinstance(partitions, int | np.integer) and not isinstance(partitions, bool):
        k = int(partitions)
        if not 1 <= k <= n:
            raise ValueError(f"partitions must be between 1 and the {n} p-bits (contiguous partitions), got {k}")
        return (np.arange(n, dtype=np.int64) * k) // n
    arr = np.asarray(partitions)
    if arr.shape != (n,) or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"partitions must be {n} integer labels, one per p-bit, got {partitions!r}")
    return arr.astype(np.int64)


def _check_readout(readout: Sequence[int] | np.ndarray | None, n: int, record: str) -> np.ndarray:
    if readout is None:
        out = np.arange(n, dtype=np.int64)
    else:
        arr = np.asarray(readout)
        if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"readout must be a 1D list of p-bit indices, got {readout!r}")
        out = arr.astype(np.int64)
        if out.size and (out.min() < 0 or out.max() >= n):
            raise ValueError(f"readout indices must be in 0..{n - 1}, got {out.tolist()}")
        if np.unique(out).size != out.size:
            raise ValueError(f"readout indices must be distinct, got {out.tolist()}")
    limit = MAX_HISTOGRAM_BITS if record == "histogram" else MAX_READOUT_BITS
    if out.size > limit:
        raise ValueError(
            f"readout has {out.size} p-bits; a {record} allows at most {limit} (pass readout=... with fewer p-bits)"
        )
    return out


def run_pbits(
    model: Ising,
    *,
    beta: float = 1.0,
    update: str = "sequential",
    n_sweeps: int = 1000,
    n_chains: int = 8,
    burn_in: int = 100,
    eta: float = 10.0,
    readout: Sequence[int] | np.ndarray | None = None,
    record: str = "histogram",
    initial: np.ndarray | None = None,
    seed: Any = None,
    progress: bool | None = None,
    update_time: float = 0.0,
    partitions: int | Sequence[int] | np.ndarray | None = None,
) -> PBitRun:
    """Run ``n_chains`` independent p-bit machines on ``model`` for ``burn_in + n_sweeps`` sweeps.

    A sweep updates every p-bit once (sequential, chromatic, synchronous) or is one unit of
    continuous time, n expected updates (asynchronous, broadcast rate ``eta``, used only
    there). ``record='histogram'`` counts the joint states of the ``readout`` p-bits (at most
    20; default all) after every sweep; ``'series'`` keeps their code after every sweep (at
    most 62 p-bits). Chains start from uniformly random states unless ``initial`` (shape
    (n_chains, n) or (n,)) is given.

    Asynchronous runs only: ``update_time`` tau >= 0 (in units of the mean time between a
    p-bit's clock ticks, 1 / f_pbit) makes each update take an exponential time of mean tau,
    its value appearing only at the end (ticks while busy are lost); ``partitions`` (one label
    per p-bit, e.g. the FPGA that holds it, or a count K of contiguous partitions) lets p-bits of one partition read each other at
    once, while other partitions' values arrive by the broadcasts at rate ``eta`` (default:
    every p-bit alone, so every neighbour is read from the broadcast copy).
    """
    check_ising_model(model)
    update = check_update(update)
    b = check_ergodic_beta(model, beta)
    sweeps = check_positive_int("n_sweeps", n_sweeps)
    chains = check_positive_int("n_chains", n_chains)
    burn = check_positive_int("burn_in", burn_in, minimum=0)
    rate = check_eta(eta) if update == "asynchronous" else None
    tau = check_update_time(update_time)
    if update != "asynchronous" and (tau > 0 or partitions is not None):
        raise ValueError(f"update_time and partitions apply to update='asynchronous' only, got update={update!r}")
    if record not in RECORDS:
        raise ValueError(f"record must be one of {', '.join(RECORDS)}, got {record!r}")
    n = model.n_spins
    if n == 0:
        raise ValueError("model has no p-bits (n_spins = 0); there is nothing to sample")
    out = _check_readout(readout, n, record)
    part = check_partitions(partitions, n)
    delayed = tau > 0 or partitions is not None
    rng = numpy_generator(seed)
    if initial is None:
        spins = np.where(rng.random((chains, n)) < 0.5, -1, 1).astype(np.int8)
    else:
        given = np.asarray(initial)
        if given.shape not in ((n,), (chains, n)):
            raise ValueError(
                f"initial must have shape ({n},) or ({chains}, {n}) (n_chains, n_spins), got {given.shape}"
            )
        if not np.all((given == 1) | (given == -1)):
            raise ValueError("initial must hold spins -1 and +1 only")
        spins = np.array(np.broadcast_to(given, (chains, n)), dtype=np.int8)
    seen = spins.copy()
    pending = np.zeros_like(spins)  # 0: idle; +-1: the value a busy p-bit will show
    # one index type for every model (scipy gives int32 or int64 by size): one compiled kernel, not two
    args = (model.indptr.astype(np.int64, copy=False), model.indices.astype(np.int64, copy=False), model.data,
            model.fields, b)  # fmt: skip
    if update == "chromatic":
        from thermolearn.pbits.coloring import chromatic_plan

        # the kernel works in colour order (classes contiguous); one random stream per block
        plan = chromatic_plan(model)
        spins = plan.to_positions(spins)
        gen = seed_chains(rng, chains * plan.n_blocks).reshape(chains, plan.n_blocks, 4)
        betas = np.array([b])
        tables = plan.thresholds(betas)
        positions = plan.position[out]
    elif update == "synchronous":
        gen = seed_chains(rng, chains * n).reshape(chains, n, 4)
    else:
        gen = seed_chains(rng, chains)

    def advance(count: int, codes: np.ndarray) -> None:
        from thermolearn.pbits import kernels

        if update == "sequential":
            kernels.sequential_sweeps(spins, gen, *args, count, out, codes)
        elif update == "chromatic":
            kernels.chromatic_run(plan, spins, gen, betas, count, tables=tables, readout=positions, codes=codes)
        elif update == "synchronous":
            kernels.synchronous_sweeps(spins, gen, *args, count, out, codes)
        elif delayed:
            done = math.inf if tau == 0 else 1.0 / tau
            kernels.asynchronous_delayed_sweeps(spins, seen, pending, gen, *args, rate, done, part, count, out, codes)
        else:
            kernels.asynchronous_sweeps(spins, seen, gen, *args, rate, count, out, codes)

    chunk = max(1, _CHUNK_CODES // chains)
    counts = np.zeros((chains, 1 << out.size), dtype=np.int64) if record == "histogram" else None
    series = np.empty((chains, sweeps), dtype=np.int64) if record == "series" else None
    with progress_bar(
        total=burn + sweeps, desc=f"p-bits ({update})", unit="sweep", progress=progress, worthwhile=n * sweeps > 10**7
    ) as bar:
        done = 0
        while done < burn:
            k = min(chunk, burn - done)
            advance(k, np.empty((chains, k), dtype=np.int64))
            done += k
            bar.update(k)
        done = 0
        while done < sweeps:
            k = min(chunk, sweeps - done)
            block = np.empty((chains, k), dtype=np.int64)
            advance(k, block)
            if series is not None:
                series[:, done : done + k] = block
            else:
                assert counts is not None
                for c in range(chains):
                    counts[c] += np.bincount(block[c], minlength=counts.shape[1])
            done += k
            bar.update(k)
    return PBitRun(
        update=update,
        beta=b,
        eta=rate,
        n_sweeps=sweeps,
        burn_in=burn,
        readout=out,
        counts=counts,
        codes=series,
        final_states=plan.to_labels(spins) if update == "chromatic" else spins,
        update_time=tau,
    )
