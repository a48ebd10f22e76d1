"""Simulated quantum annealing (SQA): path-integral Monte Carlo with the transverse field swept down.

Each read is M Trotter slices of the classical model (k_B = 1, energies in units of J) at a fixed
temperature T = 1/beta (default 16 / (M beta_cold), see :func:`default_temperature`), or with beta
rising linearly from 1/T_start to 1/T_end; Gamma falls linearly from ``gamma_range[0]`` to ``gamma_range[1]`` over the
sweeps, so the imaginary-time coupling K = -1/2 ln tanh(beta Gamma / M) grows and the slices lock
into one classical state. A sweep is a Metropolis pass over all M N spins plus imaginary-time
segment flips (:mod:`thermolearn.quantum.pimc_kernels`); the work of one SQA sweep is M single-spin
sweeps of simulated annealing. Each read reports its best slice after a zero-temperature quench.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.fixed_settings import FixedSettings
from thermolearn.models.ising import Ising
from thermolearn.quantum.hamiltonian import check_ising
from thermolearn.quantum.pimc import check_slices, model_digest
from thermolearn.quantum.pimc_kernels import MIN_PARALLEL_WORK, dense_rows, greedy_quench, trotter_sweeps
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.resources import check_memory
from thermolearn.samplers.parallel_tempering import csr_int64
from thermolearn.samplers.schedules import default_beta_range
from thermolearn.validation import check_finite_float, check_positive_int, check_temperature

DEFAULT_SLICES = 8
DEFAULT_SWEEPS = 1000


def default_gamma_range(model: Ising) -> tuple[float, float]:
    """(Gamma_start, Gamma_end): 3 and 0.001 times the RMS local field of a random state, sqrt(mean_i (h_i^2 + sum_j J_ij^2)).

    At the start the transverse field dominates every local field (slices decorrelated); at the end
    K is large and the world lines are straight.
    """
    J = model.couplings
    rms = float(np.sqrt(np.mean(np.asarray(J.multiply(J).sum(axis=1)).ravel() + model.fields**2)))
    scale = rms if rms > 0 else 1.0
    return 3.0 * scale, 1e-3 * scale


# M T = SLICE_TEMPERATURE / beta_cold: each slice runs at 1/16 of simulated annealing's final inverse
# temperature. Chosen on SK N = 1000 and Gset G1 at equal work (800-1600 sweeps, M = 4, 8, 16): of
# M T = 4, 8, 16, 32, 64 / beta_cold, 16 gave the lowest mean energies for every M.
SLICE_TEMPERATURE = 16.0


def default_temperature(model: Ising, slices: int = DEFAULT_SLICES) -> float:
    """T = 16 / (M beta_cold), beta_cold the cold end of classical annealing's default range (units of J).

    The slice temperature M T, not T, sets how freely a slice moves (its classical energy enters
    with beta / M), so T falls as 1 / M.
    """
    return SLICE_TEMPERATURE / (check_slices(slices) * default_beta_range(model)[1])


@dataclass
class SQAResult:
    """The reads of :func:`simulated_quantum_annealing`: quenched best-slice ``states`` and ``energies``."""

    best_state: np.ndarray
    best_energy: float
    energies: np.ndarray
    states: np.ndarray
    seconds: float
    sweeps: int
    slices: int
    temperature: float
    gamma_range: tuple[float, float]
    temperature_range: tuple[float, float] | None = None

    @property
    def reads(self) -> int:
        """Number of independent reads (annealing runs)."""
        return int(self.energies.size)

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: settings, best and mean energy (units of J), best state."""
        return {
            "algorithm": "sqa",
            "sweeps": self.sweeps,
            "slices": self.slices,
            "reads": self.reads,
            "temperature": self.temperature,
            "temperature_range": None if self.temperature_range is None else list(self.temperature_range),
            "gamma_range": [float(g) for g in self.gamma_range],
            "best_energy": float(self.best_energy),
            "mean_energy": float(np.mean(self.energies)),
            "best_state": self.best_state.astype(int).tolist(),
            "energies": [float(e) for e in self.energies],
            "seconds": float(self.seconds),
            "spin_updates_per_read": int(self.sweeps) * int(self.slices) * int(self.states.shape[1]),
        }


class SQARun(FixedSettings):
    """An SQA run advanced in blocks of sweeps, saved and restored exactly (for checkpoints). Its
    settings, and the schedules and couplings built from them, are fixed at construction."""

    _fixed_settings = frozenset(
        {"model", "sweeps", "reads", "slices", "gamma_range", "temperature_range", "temperature", "segments"}
    )

    def __init__(
        self,
        ising: Ising,
        sweeps: int = DEFAULT_SWEEPS,
        reads: int = 8,
        *,
        slices: int = DEFAULT_SLICES,
        gamma_range: tuple[float, float] | None = None,
        temperature: float | tuple[float, float] | None = None,
        segments: bool = True,
        seed: int | np.random.Generator = 0,
    ) -> None:
        self.model = check_ising(ising)
        n = self.model.n_spins
        self.sweeps = check_positive_int("sweeps", sweeps)
        self.reads = check_positive_int("reads", reads)
        self.slices = check_slices(slices)
        if gamma_range is None:
            gamma_range = default_gamma_range(self.model)
        if not isinstance(gamma_range, tuple | list) or len(gamma_range) != 2:
            raise ValueError(f"gamma_range must be (Gamma_start, Gamma_end), got {gamma_range!r}")
        g0 = check_finite_float("Gamma_start", gamma_range[0])
        g1 = check_finite_float("Gamma_end", gamma_range[1])
        if not g0 >= g1 > 0:
            raise ValueError(f"gamma_range must satisfy Gamma_start >= Gamma_end > 0, got ({g0}, {g1})")
        self.gamma_range = (g0, g1)
        if temperature is None:
            temperature = default_temperature(self.model, self.slices)
        if isinstance(temperature, tuple | list):
            if len(temperature) != 2:
                raise ValueError(f"temperature must be T or (T_start, T_end), got {temperature!r}")
            t0 = check_temperature(temperature[0], "T_start")
            t1 = check_temperature(temperature[1], "T_end")
            if t1 > t0:
                raise ValueError(f"temperature (T_start, T_end) must cool (T_end <= T_start), got ({t0}, {t1})")
            self.temperature_range = (t0, t1)
        else:
            t = check_temperature(temperature)
            self.temperature_range = (t, t)
        # the final temperature: where the world lines lock
        self.temperature = self.temperature_range[1]
        self.segments = bool(segments)
        check_memory(
            f"SQA with {self.reads} reads, {self.slices} slices and {n} spins",
            float(self.reads) * self.slices * n * 10.0 + 8.0 * self.model.couplings.nnz * 3,
            hint="use fewer reads or slices",
        )
        self.indptr, self.indices, self.data = csr_int64(self.model)
        self.dense = dense_rows(self.model)
        rng = seed_chains(seed, self.reads + 1)
        gen = np.random.Generator(np.random.PCG64(rng[-1].tolist()))
        self.spins = gen.choice(np.array([-1, 1], dtype=np.int8), size=(self.reads, self.slices, n))
        self.rng = np.ascontiguousarray(rng[:-1])
        self.step = 0
        self.seconds = 0.0

    def gamma(self, steps: np.ndarray) -> np.ndarray:
        """Gamma at each sweep index: linear from Gamma_start (sweep 0) to Gamma_end (last sweep)."""
        g0, g1 = self.gamma_range
        frac = steps / max(1, self.sweeps - 1)
        return g0 + (g1 - g0) * frac

    def betas(self, steps: np.ndarray) -> np.ndarray:
        """beta at each sweep index: linear from 1/T_start to 1/T_end (constant for one temperature)."""
        b0, b1 = 1.0 / self.temperature_range[0], 1.0 / self.temperature_range[1]
        return b0 + (b1 - b0) * steps / max(1, self.sweeps - 1)

    def advance(self, n_steps: int) -> int:
        """Run the next ``n_steps`` sweeps of the schedule (fewer at its end); returns the sweeps run."""
        n_steps = min(check_positive_int("n_steps", n_steps), self.sweeps - self.step)
        if n_steps <= 0:
            return 0
        n = self.model.n_spins
        start = time.perf_counter()
        steps = np.arange(self.step, self.step + n_steps, dtype=np.float64)
        gammas = self.gamma(steps)
        betas = self.betas(steps)
        k = -0.5 * np.log(np.tanh(betas * gammas / self.slices))
        k_steps = np.repeat(k[:, None], n, axis=1)
        a_steps = betas / self.slices
        empty = np.zeros((1, 1))
        trotter_sweeps.run(
            self.reads,
            self.spins,
            self.rng,
            self.indptr,
            self.indices,
            self.data,
            self.model.fields,
            a_steps,
            k_steps,
            self.segments,
            False,
            empty,
            np.zeros((1, 1, 1)),
            empty,
            np.zeros((self.reads, 2), dtype=np.int64),
            self.dense,
            work=self.reads * self.slices * n * n_steps,
            min_work=MIN_PARALLEL_WORK,
        )
        self.step += n_steps
        self.seconds += time.perf_counter() - start
        return n_steps

    @property
    def finished(self) -> bool:
        """Whether all ``sweeps`` sweeps have run."""
        return self.step >= self.sweeps

    def result(self) -> SQAResult:
        """Each read's best slice, quenched to a local minimum, and the best read."""
        n = self.model.n_spins
        start = time.perf_counter()
        flat = self.spins.reshape(-1, n).copy()
        energies = np.asarray(self.model.energy(flat)).reshape(self.reads, self.slices)
        best_slice = np.argmin(energies, axis=1)
        states = np.ascontiguousarray(self.spins[np.arange(self.reads), best_slice])
        greedy_quench(states, self.indptr, self.indices, self.data, self.model.fields, 10_000)
        final = np.atleast_1d(np.asarray(self.model.energy(states), dtype=np.float64))
        best = int(np.argmin(final))
        return SQAResult(
            best_state=states[best].copy(),
            best_energy=float(final[best]),
            energies=final,
            states=states,
            seconds=self.seconds + time.perf_counter() - start,
            sweeps=self.sweeps,
            slices=self.slices,
            temperature=self.temperature,
            gamma_range=self.gamma_range,
            temperature_range=self.temperature_range,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The run's state for a checkpoint: spins and the per-chain RNG states."""
        return {"spins": self.spins, "rng": self.rng}

    def restore(self, arrays: dict[str, np.ndarray], step: int) -> None:
        """Restore the state :meth:`arrays` saved, ``step`` sweeps into the run."""
        self.spins = np.ascontiguousarray(arrays["spins"], dtype=np.int8)
        self.rng = np.ascontiguousarray(arrays["rng"], dtype=np.uint64)
        self.step = int(step)


def simulated_quantum_annealing(
    ising: Ising,
    sweeps: int = DEFAULT_SWEEPS,
    reads: int = 8,
    *,
    slices: int = DEFAULT_SLICES,
    gamma_range: tuple[float, float] | None = None,
    temperature: float | tuple[float, float] | None = None,
    segments: bool = True,
    seed: int | np.random.Generator = 0,
    progress: bool | None = False,
    block: int = 100,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
) -> SQAResult:
    """Low-energy states of ``ising`` by simulated quantum annealing (energies are totals, units of J).

    Gamma falls linearly over ``sweeps`` with ``slices`` Trotter slices at temperature T (default
    :func:`default_temperature`), or with beta rising linearly when ``temperature`` is
    ``(T_start, T_end)``; every read ends with its best slice quenched. With ``checkpoint`` the run is saved every ``checkpoint_every`` sweeps (at multiples of ``block``)
    and a killed run resumes bit-identically (the seed must be an int).
    """
    from thermolearn.progress import progress_bar
    from thermolearn.quantum.checkpoints import SQA_FORMAT, check_checkpoint_path, checked_chains, load_run, save_run

    block = check_positive_int("block", block)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    check_checkpoint_path(checkpoint)
    if checkpoint is not None:
        seed = check_int_seed(seed)
    run = SQARun(
        ising,
        sweeps,
        reads,
        slices=slices,
        gamma_range=gamma_range,
        temperature=temperature,
        segments=segments,
        seed=seed,
    )
    run_id = {
        "experiment": "sqa",
        "n_spins": run.model.n_spins,
        "couplings_hash": model_digest(run.model, np.zeros(1)),
        "sweeps": run.sweeps,
        "reads": run.reads,
        "slices": run.slices,
        "gamma_range": list(run.gamma_range),
        "temperature": list(run.temperature_range),
        "segments": run.segments,
        "seed": seed if isinstance(seed, int) else None,
        "block": block,
    }
    if checkpoint is not None and Path(checkpoint).exists():
        contents, done = load_run(checkpoint, SQA_FORMAT, run_id, run.sweeps, what="SQA checkpoint")
        spins, rng = checked_chains(contents, run.reads, run.slices, run.model.n_spins)
        run.restore({"spins": spins, "rng": rng}, done)
    last_saved = run.step
    with progress_bar(run.sweeps, desc=f"sqa M={run.slices}", progress=progress, unit="sweep", initial=run.step) as bar:
        while not run.finished:
            done = run.advance(block - run.step % block)
            bar.update(done)
            if checkpoint is not None and (run.step - last_saved >= checkpoint_every or run.finished):
                save_run(checkpoint, SQA_FORMAT, run_id, run.arrays(), run.step)
                last_saved = run.step
    return run.result()
