"""``sample``: run a sampler for burn-in and measurement sweeps and summarise the run.

The run records each chain's total energy and magnetisation after every ``thin`` sweeps
(and the states when asked), per-site spin sums in batches for <s_i> with batch-means
error bars, acceptance counts and wall time; it ends with autocorrelation-aware error
bars from :mod:`thermolearn.estimators`. With ``checkpoint=PATH`` the complete run state
is saved atomically every ``checkpoint_every`` sweeps, and a run restarted with the same
arguments resumes from it and ends with results identical to an uninterrupted run.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from tqdm import tqdm

from thermolearn.estimators.observables import IsingObservables, combine_chains, observables_from_series
from thermolearn.models.ising import Ising
from thermolearn.samplers.base import Sampler
from thermolearn.samplers.checkpoint import load_checkpoint, model_fingerprint, save_checkpoint
from thermolearn.samplers.registry import make_sampler
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_positive_int, check_temperature

DEFAULT_BATCHES = 32


@dataclass
class SampleResult:
    """A finished run. Series are totals with shape (n_chains, n_samples); chain c ran at
    ``chain_temperatures[c]``. Per-temperature summaries follow ``temperatures`` (sorted)."""

    sampler: str
    sampler_options: dict[str, Any]
    n_spins: int
    chain_temperatures: np.ndarray
    sweeps: int
    burn_in: int
    thin: int
    energy: np.ndarray
    magnetization: np.ndarray
    mean_spin: np.ndarray  # (n_temperatures, n_spins)
    mean_spin_stderr: np.ndarray  # (n_temperatures, n_spins)
    accepted: int
    attempted: int
    wall_time: float
    final_state: ChainState
    states: np.ndarray | None = None  # (n_chains, n_samples, n_spins) when recorded
    sampler_info: dict[str, Any] = field(default_factory=dict)
    _observables: list[IsingObservables] | None = field(default=None, repr=False)

    @property
    def temperatures(self) -> np.ndarray:
        return np.unique(self.chain_temperatures)

    @property
    def acceptance(self) -> float:
        """Accepted / attempted moves over the whole run (for cluster samplers: spins flipped
        per spin visited)."""
        return self.accepted / self.attempted if self.attempted else float("nan")

    @property
    def observables(self) -> list[IsingObservables]:
        """Energy, magnetisation, specific heat, susceptibility, Binder cumulant with error
        bars and tau_int, one entry per temperature (chains at one temperature pooled)."""
        if self._observables is None:
            out = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # short runs are flagged by .reliable
                for T in self.temperatures:
                    runs = [
                        observables_from_series(self.energy[c], self.magnetization[c], self.n_spins, float(T))
                        for c in np.flatnonzero(self.chain_temperatures == T)
                    ]
                    out.append(combine_chains(runs))
            self._observables = out
        return self._observables

    def at(self, temperature: float | None = None) -> IsingObservables:
        """The observables at one temperature (the only one, if the run had one)."""
        temps = self.temperatures
        if temperature is None:
            if len(temps) != 1:
                raise ValueError(f"this run has {len(temps)} temperatures; name one of {temps.tolist()}")
            return self.observables[0]
        k = int(np.argmin(np.abs(temps - temperature)))
        if not np.isclose(temps[k], temperature):
            raise ValueError(f"temperature {temperature} was not sampled; the run has {temps.tolist()}")
        return self.observables[k]


def _as_sampler(sampler: str | Sampler, options: dict[str, Any]) -> Sampler:
    if isinstance(sampler, Sampler):
        if options:
            raise ValueError("sampler options go to the sampler's constructor when a Sampler object is given")
        return sampler
    if isinstance(sampler, str):
        return make_sampler(sampler, **options)
    raise TypeError(f"sampler must be a name or a Sampler, got {type(sampler).__name__}")


def sample(
    model: Ising,
    sampler: str | Sampler = "metropolis",
    temperature: float | None = None,
    *,
    sweeps: int,
    burn_in: int = 0,
    n_chains: int = 1,
    thin: int = 1,
    seed: int = 0,
    initial: str | np.ndarray = "random",
    record_states: bool = False,
    n_batches: int = DEFAULT_BATCHES,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1000,
    progress: bool | None = None,
    **sampler_options: Any,
) -> SampleResult:
    """Sample exp(-E/T)/Z of ``model`` with ``sampler`` (k_B = 1): ``burn_in`` sweeps
    discarded, then ``sweeps`` sweeps recording every ``thin``-th, on ``n_chains``
    independent chains seeded from ``seed``.

    ``temperature`` is T > 0; samplers that fix their own temperatures (parallel
    tempering) take None. ``checkpoint=PATH`` saves the run every ``checkpoint_every``
    sweeps and resumes from PATH when it exists. ``progress`` shows a bar (default: when
    stderr is a terminal and the run is long).
    """
    if not isinstance(model, Ising):
        raise TypeError(f"model must be a thermolearn.Ising, got {type(model).__name__}")
    smp = _as_sampler(sampler, sampler_options)
    smp.check_model(model)
    sweeps = check_positive_int("sweeps", sweeps)
    burn_in = check_positive_int("burn_in", burn_in, minimum=0)
    n_chains = check_positive_int("n_chains", n_chains)
    thin = check_positive_int("thin", thin)
    n_batches = check_positive_int("n_batches", n_batches)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    if sweeps < thin:
        raise ValueError(f"sweeps ({sweeps}) must be at least thin ({thin}) to record one sample")
    chain_temps = smp.chain_temperatures(None if temperature is None else check_temperature(temperature), n_chains)
    betas = 1.0 / chain_temps
    n_slots = chain_temps.size
    n_samples = sweeps // thin
    n_batches = min(n_batches, n_samples)
    if checkpoint is not None and not isinstance(seed, (int, np.integer)):
        raise ValueError("a checkpointed run needs an integer seed, so a restart can check it is the same run")

    run_id = {
        "model": model_fingerprint(model),
        "sampler": smp.name,
        "options": smp.options(),
        "chain_temperatures": chain_temps.tolist(),
        "sweeps": sweeps,
        "burn_in": burn_in,
        "thin": thin,
        "n_chains": n_chains,
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
        "initial": initial if isinstance(initial, str) else "given",
        "record_states": bool(record_states),
        "n_batches": n_batches,
    }
    energy = np.zeros((n_slots, n_samples))
    magnetization = np.zeros((n_slots, n_samples))
    site_sums = np.zeros((n_slots, n_batches, model.n_spins))
    states = np.zeros((n_slots, n_samples, model.n_spins), dtype=np.int8) if record_states else None
    counters = {"sweeps_done": 0, "samples_done": 0, "accepted": 0, "attempted": 0, "wall_time": 0.0}

    saved = load_checkpoint(checkpoint, run_id) if checkpoint is not None else None
    if saved is not None:
        arrays, counters = saved
        state = ChainState.from_arrays({k[6:]: v for k, v in arrays.items() if k.startswith("chain_")})
        smp.load_state({k[8:]: v for k, v in arrays.items() if k.startswith("sampler_")})
        energy, magnetization, site_sums = arrays["energy"], arrays["magnetization"], arrays["site_sums"]
        if record_states:
            states = arrays["states"]
    else:
        state = ChainState.new(model, n_slots, seed, initial)
        smp.reset(model, state)

    def write_checkpoint() -> None:
        arrays = {f"chain_{k}": v for k, v in state.arrays().items()}
        arrays.update({f"sampler_{k}": v for k, v in smp.state().items()})
        arrays.update(energy=energy, magnetization=magnetization, site_sums=site_sums)
        if states is not None:
            arrays["states"] = states
        save_checkpoint(checkpoint, arrays, run_id, counters)

    total = burn_in + sweeps
    show = progress if progress is not None else (sys.stderr.isatty() and total * model.n_spins * n_slots > 5e7)
    batch_of = (np.arange(n_samples) * n_batches) // n_samples
    last_saved = counters["sweeps_done"]
    # kernels parallelise over chains; waking idle threads for one chain costs more than a small sweep
    threads_before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads_before, n_slots)))
    started = time.perf_counter()
    wall_before = counters["wall_time"]
    try:
        with tqdm(
            total=total,
            initial=counters["sweeps_done"],
            desc=f"{smp.name}",
            unit="sweep",
            disable=not show,
            file=sys.stderr,
            leave=False,
        ) as bar:
            while counters["sweeps_done"] < total:
                done = counters["sweeps_done"]
                # one sweep per call: how a run is cut (checkpoints, thinning, resumes) can never
                # change the order of floating-point operations inside a sampler
                step = 1
                stats = smp.sweep(model, state, betas, 1)
                if done >= burn_in and (done + 1 - burn_in) % thin == 0:
                    k = counters["samples_done"]
                    energy[:, k] = state.energy
                    magnetization[:, k] = state.magnetization
                    site_sums[:, batch_of[k], :] += state.spins
                    if states is not None:
                        states[:, k, :] = state.spins
                    counters["samples_done"] = k + 1
                counters["sweeps_done"] = done + step
                counters["accepted"] += int(np.sum(stats.accepted))
                counters["attempted"] += int(np.sum(stats.attempted))
                if done % 64 == 0 or done + 1 == total:
                    bar.n = done + 1
                    bar.refresh()
                if checkpoint is not None and (
                    counters["sweeps_done"] - last_saved >= checkpoint_every or counters["sweeps_done"] == total
                ):
                    counters["wall_time"] = wall_before + time.perf_counter() - started
                    write_checkpoint()
                    last_saved = counters["sweeps_done"]
    finally:
        numba.set_num_threads(threads_before)
    counters["wall_time"] = wall_before + time.perf_counter() - started
    mean_spin, mean_spin_stderr = _site_means(site_sums, batch_of, chain_temps)
    return SampleResult(
        sampler=smp.name,
        sampler_options=smp.options(),
        n_spins=model.n_spins,
        chain_temperatures=chain_temps,
        sweeps=sweeps,
        burn_in=burn_in,
        thin=thin,
        energy=energy,
        magnetization=magnetization,
        mean_spin=mean_spin,
        mean_spin_stderr=mean_spin_stderr,
        accepted=int(counters["accepted"]),
        attempted=int(counters["attempted"]),
        wall_time=float(counters["wall_time"]),
        final_state=state,
        states=states,
        sampler_info=smp.info(),
    )


def _site_means(site_sums: np.ndarray, batch_of: np.ndarray, chain_temps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """<s_i> per temperature with batch-means standard errors over every (chain, batch)."""
    counts = np.bincount(batch_of, minlength=site_sums.shape[1]).astype(float)
    batch_means = site_sums / counts[None, :, None]
    means, errs = [], []
    for T in np.unique(chain_temps):
        values = batch_means[chain_temps == T].reshape(-1, site_sums.shape[2])
        weights = np.tile(counts, int(np.sum(chain_temps == T)))
        mean = weights @ values / weights.sum()
        k = values.shape[0]
        err = values.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.full(values.shape[1], np.nan)
        means.append(mean)
        errs.append(err)
    return np.array(means), np.array(errs)
