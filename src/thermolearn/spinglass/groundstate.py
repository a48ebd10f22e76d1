"""Ground-state search on instances whose ground state is known exactly.

For each disorder sample the exact ground-state energy E_0 comes from enumeration (Gray-code order,
exact for N <= ``MAX_EXACT_SPINS``); one run of the algorithm with a
budget of S sweeps reports its lowest energy, and a hit is E_best = E_0 (to rounding). The hit
probability over samples is given with its binomial standard error and a Wilson score interval.

Budgets (sweeps S): ``'sa'`` one simulated-annealing read of S sweeps (then a quench);
``'pt'`` one parallel-tempering read, S sweeps of each of its ``ladder`` replicas; ``'pt-houdayer'``
parallel tempering with two replicas at each of ``ladder`` temperatures and a Houdayer cluster move
between them after every round, S rounds (S sweeps of each of its 2 x ``ladder`` replicas); ``'pa'`` one
population of ``population`` replicas annealed in S / ``sweeps_per_step`` steps of beta with
``sweeps_per_step`` Metropolis sweeps each (S sweeps per replica), lowest energy at any step.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import thermolearn.storage as storage
from thermolearn.estimators.proportions import wilson_interval
from thermolearn.exact.ground_state import enumerate_ground_state
from thermolearn.file_contents import FileContents
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.samplers.annealing import anneal
from thermolearn.samplers.schedules import default_beta_range
from thermolearn.spinglass.ensembles import DisorderEnsemble
from thermolearn.spinglass.houdayer import tempering_with_houdayer
from thermolearn.spinglass.population_annealing import (
    MIN_POPULATION,
    anneal_population,
    check_population_memory,
    linear_beta_schedule,
)
from thermolearn.validation import check_positive_int

ALGORITHMS = ("sa", "pt", "pa", "pt-houdayer")  # seeds follow this order: append only
#: the largest instance whose ground state a study enumerates (2^25 states by Gray code: a fraction of
#: a second for a lattice, a few seconds for SK; :func:`enumerate_ground_state` itself goes to 30)
MAX_EXACT_SPINS = 26
DEFAULT_LADDER = 8
DEFAULT_POPULATION = 64
DEFAULT_SWEEPS_PER_STEP = 4


def exact_ground_energy(model: Ising) -> float:
    """The exact ground-state energy (total) of ``model`` by Gray-code enumeration of its states
    (N <= :data:`MAX_EXACT_SPINS`; :func:`thermolearn.exact.ground_state.enumerate_ground_state`)."""
    if check_ising_model(model).n_spins > MAX_EXACT_SPINS:
        raise ValueError(
            f"exact ground states are enumerated up to {MAX_EXACT_SPINS} spins; this model has {model.n_spins}"
        )
    return enumerate_ground_state(model)[0]


def is_hit(best_energy: float, ground_energy: float) -> bool:
    """Whether ``best_energy`` is the ground-state energy up to rounding (1e-9 relative, 1e-9 absolute)."""
    return bool(best_energy <= ground_energy + 1e-9 * max(1.0, abs(ground_energy)))


def _algorithm_seed(instance_seed: int, algorithm: str) -> int:
    """The run seed of an instance: its own stream, apart from the stream that drew its couplings."""
    word = np.random.SeedSequence([instance_seed, ALGORITHMS.index(algorithm) + 1]).generate_state(1, np.uint64)[0]
    return int(word >> np.uint64(1))


def search_ground_state(
    model: Ising,
    algorithm: str,
    sweeps: int,
    seed: int,
    *,
    ladder: int = DEFAULT_LADDER,
    population: int = DEFAULT_POPULATION,
    sweeps_per_step: int = DEFAULT_SWEEPS_PER_STEP,
) -> tuple[float, np.ndarray]:
    """The lowest energy (total) and its state found by one run of ``algorithm`` with ``sweeps`` sweeps."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    sweeps = check_positive_int("sweeps", sweeps)
    if algorithm == "sa":
        res = anneal(model, sweeps, reads=1, algorithm="sa", seed=seed)
        return res.best_energy, res.best_state
    if algorithm == "pt":
        ladder = check_positive_int("ladder", ladder, minimum=2)
        res = anneal(model, sweeps, reads=1, algorithm="pt", temperatures=ladder, seed=seed)
        return res.best_energy, res.best_state
    if algorithm == "pt-houdayer":
        ladder = check_positive_int("ladder", ladder, minimum=2)
        # the same span of temperatures as 'pt': from where a typical flip is accepted half the time
        # down to where it practically never is
        beta_hot, beta_cold = default_beta_range(model)
        pt = tempering_with_houdayer(model, np.geomspace(1.0 / beta_cold, 1.0 / beta_hot, ladder), sweeps, seed=seed)
        return pt.best_energy, pt.best_spins
    population = check_positive_int("population", population, minimum=MIN_POPULATION)
    sweeps_per_step = check_positive_int("sweeps_per_step", sweeps_per_step)
    if sweeps < sweeps_per_step:
        raise ValueError(f"sweeps must be at least sweeps_per_step = {sweeps_per_step} for 'pa', got {sweeps}")
    check_population_memory(population, model.n_spins)
    beta_cold = default_beta_range(model)[1]
    betas = linear_beta_schedule(beta_cold, sweeps // sweeps_per_step)
    run, _ = anneal_population(model, betas, population, sweeps_per_step, np.random.SeedSequence(seed))
    return run.min_energy, run.min_state


@dataclass(frozen=True)
class GroundStateStudy:
    """Per-sample results and their averages for one algorithm and budget.

    ``samples``: dicts with ``seed`` (the instance seed), ``best_energy``, ``exact_ground_energy``
    (None beyond enumeration) and ``hit`` (None without an exact energy); ``hit_probability`` and
    ``mean_energy_per_spin`` are (mean, stderr) over samples (stderr None for one sample),
    ``wilson`` the 95% interval of the hit probability.
    """

    ensemble: DisorderEnsemble
    algorithm: str
    sweeps: int
    samples: tuple[dict[str, Any], ...]
    hit_probability: tuple[float, float] | None
    wilson: tuple[float, float] | None
    mean_energy_per_spin: tuple[float, float | None]
    resumed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The study as a JSON-ready dict: per-sample results and the hit probability with its Wilson interval."""
        return {
            "ensemble": self.ensemble.describe(),
            "n_spins": self.ensemble.n_spins,
            "algorithm": self.algorithm,
            "sweeps": self.sweeps,
            "samples": [dict(s) for s in self.samples],
            "hit_probability": None
            if self.hit_probability is None
            else {
                "mean": self.hit_probability[0],
                "stderr": self.hit_probability[1],
                "wilson_95": list(self.wilson) if self.wilson is not None else None,
            },
            "mean_energy_per_spin": {"mean": self.mean_energy_per_spin[0], "stderr": self.mean_energy_per_spin[1]},
            "resumed": self.resumed,
        }


#: ``map_samples(function, jobs)`` -> ``(k, (function(parameters, seed), seconds))`` in any order
SampleMap = Callable[[Callable[[dict, int], Any], list[tuple[int, dict, int]]], Iterable[tuple[int, tuple[Any, float]]]]


def sample_job(parameters: dict, seed: int) -> tuple[float, float | None]:
    """One sample of a study: (the best energy of one search, the exact E_0 or None). A job of
    :func:`ground_state_study`'s ``map_samples`` (module-level, so worker processes can run it;
    ``seed`` is unused: the instance's own seed drives the search)."""
    ensemble: DisorderEnsemble = parameters["ensemble"]
    k, algorithm = parameters["k"], parameters["algorithm"]
    model = ensemble.model(k)
    best, _ = search_ground_state(
        model, algorithm, parameters["sweeps"], _algorithm_seed(ensemble.seeds[k], algorithm),
        ladder=parameters["ladder"], population=parameters["population"],
        sweeps_per_step=parameters["sweeps_per_step"],
    )  # fmt: skip
    if not parameters["enumerable"]:
        return float(best), None
    known = parameters.get("known_ground_energy")
    return float(best), (exact_ground_energy(model) if known is None else float(known))


def _here(jobs: list[tuple[int, dict, int]]) -> Iterator[tuple[int, tuple[Any, float]]]:
    for k, parameters, seed in jobs:
        start = time.perf_counter()
        result = sample_job(parameters, seed)
        yield k, (result, time.perf_counter() - start)


def ground_state_study(
    ensemble: DisorderEnsemble,
    algorithm: str,
    sweeps: int,
    *,
    exact: bool = True,
    ladder: int = DEFAULT_LADDER,
    population: int = DEFAULT_POPULATION,
    sweeps_per_step: int = DEFAULT_SWEEPS_PER_STEP,
    progress: Callable[[int], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
    map_samples: SampleMap | None = None,
    known_ground_energies: Sequence[float] | None = None,
) -> GroundStateStudy:
    """Run ``algorithm`` once per disorder sample with ``sweeps`` sweeps; compare with the exact
    ground state where the instance is small enough (N <= ``MAX_EXACT_SPINS``) and ``exact``.

    ``known_ground_energies``: the exact E_0 of every sample when already known (from another study
    of the same ensemble, as :func:`hit_curve` passes them on), instead of enumerating again.

    ``map_samples(function, jobs)`` runs the samples elsewhere (worker processes, a Dask cluster):
    it gets the module-level :func:`sample_job` and the jobs ``(k, parameters, 0)`` and yields
    ``(k, (result, seconds))`` in any order (``thermolearn.runs.sweep.as_finished`` on an
    executor does); results do not depend on where a sample ran (its seed is its instance's).

    ``checkpoint`` (a .npz file) keeps the samples done (written after the first sample, then at
    most once a second, and at the end); a killed study started again with the same arguments
    resumes after them, with the same results as a study never stopped (each sample's run depends
    on its own seed only). A checkpoint of another study, or one that fails its checks, is refused.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    sweeps = check_positive_int("sweeps", sweeps)
    enumerable = exact and ensemble.n_spins <= MAX_EXACT_SPINS
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
    run_id = _run_id(ensemble, algorithm, sweeps, enumerable, ladder, population, sweeps_per_step)
    best_list: list[float] = []
    exact_list: list[float] = []
    if checkpoint is not None and Path(checkpoint).exists():
        best_list, exact_list = _resume_checkpoint(checkpoint, run_id, ensemble.n_samples, enumerable)
        if progress is not None and best_list:
            progress(len(best_list))
    resumed = len(best_list)
    last_save = time.monotonic()
    settings = {"ensemble": ensemble, "algorithm": algorithm, "sweeps": sweeps, "ladder": ladder}
    settings |= {"population": population, "sweeps_per_step": sweeps_per_step, "enumerable": enumerable}
    if known_ground_energies is not None and len(known_ground_energies) != ensemble.n_samples:
        raise ValueError(
            f"known_ground_energies must give one energy per sample ({ensemble.n_samples}), "
            f"got {len(known_ground_energies)}"
        )
    known = list(known_ground_energies) if known_ground_energies is not None else [None] * ensemble.n_samples
    jobs = [(k, {**settings, "k": k, "known_ground_energy": known[k]}, 0) for k in range(resumed, ensemble.n_samples)]
    results = map_samples(sample_job, jobs) if map_samples is not None else _here(jobs)
    finished: dict[int, tuple[float, float | None]] = {}
    for k, (result, _) in results:
        finished[k] = result
        while len(best_list) in finished:  # samples join the record (and the checkpoint) in order
            best, e0 = finished.pop(len(best_list))
            best_list.append(best)
            if enumerable:
                exact_list.append(float(e0))  # type: ignore[arg-type]
            now = time.monotonic()
            done = len(best_list)
            if checkpoint is not None and (done == resumed + 1 or done == ensemble.n_samples or now - last_save >= 1.0):
                _save_checkpoint(checkpoint, run_id, best_list, exact_list)
                last_save = now
        if progress is not None:
            progress(1)
    rows = []
    for k, best in enumerate(best_list):
        e0 = exact_list[k] if enumerable else None
        rows.append(
            {
                "seed": ensemble.seeds[k],
                "best_energy": best,
                "exact_ground_energy": e0,
                "hit": None if e0 is None else is_hit(best, e0),
            }
        )
    k = len(rows)
    e = np.array(best_list) / ensemble.n_spins
    e_err = float(e.std(ddof=1) / math.sqrt(k)) if k > 1 else None  # no spread from one sample
    hit_p = wilson = None
    if enumerable:
        hits = sum(bool(r["hit"]) for r in rows)
        p = hits / k
        hit_p = (p, math.sqrt(p * (1 - p) / k))
        wilson = wilson_interval(hits, k)
    return GroundStateStudy(
        ensemble, algorithm, sweeps, tuple(rows), hit_p, wilson, (float(e.mean()), e_err), resumed=resumed
    )


CHECKPOINT_FORMAT = "thermolearn.groundstate-checkpoint"
CHECKPOINT_VERSION = 1


def _run_id(
    ensemble: DisorderEnsemble,
    algorithm: str,
    sweeps: int,
    enumerable: bool,
    ladder: int,
    population: int,
    sweeps_per_step: int,
) -> dict[str, Any]:
    """What makes two studies the same: the instances (their seeds, by digest) and the search."""
    digest = hashlib.sha256(np.array(ensemble.seeds, dtype=np.uint64).tobytes()).hexdigest()[:24]
    return {
        "kind": ensemble.kind,
        "shape": list(ensemble.shape),
        "couplings": ensemble.couplings,
        "n_samples": ensemble.n_samples,
        "seeds_sha256": digest,
        "algorithm": algorithm,
        "sweeps": sweeps,
        "exact": enumerable,
        "ladder": int(ladder) if algorithm in ("pt", "pt-houdayer") else None,
        "population": int(population) if algorithm == "pa" else None,
        "sweeps_per_step": int(sweeps_per_step) if algorithm == "pa" else None,
    }


def _save_checkpoint(path: str | os.PathLike, run_id: dict, best: list[float], exact: list[float]) -> None:
    """The samples done so far, atomically."""
    arrays = {"best_energy": np.array(best, dtype=np.float64), "exact_ground_energy": np.array(exact, dtype=np.float64)}
    header = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "run": run_id,
              "progress": {"samples_done": len(best)}}  # fmt: skip
    storage.save_arrays(path, arrays, header)


def _resume_checkpoint(
    path: str | os.PathLike, run_id: dict, n_samples: int, enumerable: bool
) -> tuple[list[float], list[float]]:
    """The samples done by the study that wrote ``path``, checked against this study."""
    contents = FileContents.read(path)
    contents.expect_format(CHECKPOINT_FORMAT, [CHECKPOINT_VERSION], what="ground-state checkpoint")
    contents.expect_run(run_id)
    progress = contents.value("progress", dict)
    done = int(contents.value("samples_done", int, minimum=0, maximum=n_samples, within=progress,
                              label="progress 'samples_done'"))  # fmt: skip
    contents.expect_names(["best_energy", "exact_ground_energy"])
    best = contents.array("best_energy", shape=(done,), dtype=np.float64)
    exact = contents.array("exact_ground_energy", shape=(done if enumerable else 0,), dtype=np.float64)
    if enumerable and np.any(best < exact - 1e-9 * np.maximum(1.0, np.abs(exact))):
        # no search goes below the exact ground state: the file was not written by this study
        raise contents.fail("a best energy lies below its exact ground-state energy")
    return [float(x) for x in best], [float(x) for x in exact]


def hit_curve(
    ensemble: DisorderEnsemble,
    algorithm: str,
    sweeps: Sequence[int],
    **options: Any,
) -> list[GroundStateStudy]:
    """The hit probability against the budget: one :func:`ground_state_study` per entry of ``sweeps``
    (the exact ground states enumerated once, in the first)."""
    budgets = [check_positive_int("sweeps", s) for s in sweeps]
    if not budgets:
        raise ValueError("sweeps must list at least one budget")
    studies = [ground_state_study(ensemble, algorithm, budgets[0], **options)]
    exact = [row["exact_ground_energy"] for row in studies[0].samples]
    if all(e is not None for e in exact):
        options = {**options, "known_ground_energies": exact}
    studies += [ground_state_study(ensemble, algorithm, s, **options) for s in budgets[1:]]
    return studies
