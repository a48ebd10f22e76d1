"""A dimod BQM as a thermolearn Ising problem, and samples back as a dimod SampleSet.

dimod writes E = sum_i a_i x_i + sum_{i<j} b_ij x_i x_j + offset over SPIN (x = +-1) or
BINARY (x = 0, 1) variables of any hashable label; thermolearn's Ising model is
E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i over spins 0..n-1. The conversion is
:func:`thermolearn.models.ising_from_bqm` (energies preserved exactly, offset included); this
module keeps the labels, the offset and the caller's vartype beside it, and turns int8 spin
rows back into a SampleSet in the caller's vartype.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

try:
    import dimod
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("thermolearn.dimod needs the optional package dimod: pip install 'thermolearn[dimod]'") from None

from thermolearn.models.dimod_bridge import ising_from_bqm
from thermolearn.models.ising import Ising

#: seeds are drawn below this when the caller gives none (dwave-samplers' range)
SEED_LIMIT = 2**32


@dataclass(frozen=True)
class SpinProblem:
    """A BQM in thermolearn's terms: the ``model`` (None when the BQM has no variables), the
    ``offset`` to add to its energies, the BQM variable of each spin (``labels``) and the
    caller's ``vartype`` (the SampleSet comes back in it)."""

    model: Ising | None
    offset: float
    labels: tuple[Any, ...]
    vartype: dimod.Vartype

    @property
    def n_spins(self) -> int:
        return len(self.labels)


def spin_problem(bqm: Any) -> SpinProblem:
    """The :class:`SpinProblem` of ``bqm`` (a ``dimod.BinaryQuadraticModel`` of either vartype)."""
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise TypeError(f"bqm must be a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
    if bqm.num_variables == 0:
        return SpinProblem(None, float(bqm.offset), (), bqm.vartype)
    form = ising_from_bqm(bqm)
    return SpinProblem(form.ising, float(form.offset), tuple(form.labels), bqm.vartype)


def check_dimod_seed(seed: object) -> int:
    """``seed`` as an int in [0, 2^32) (dwave-samplers' range); None draws one from fresh
    entropy, so that ``info['seed']`` can reproduce the call."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed must be None or an integer in [0, 2^32), got {seed!r}")
    if not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2^32), got {seed}")
    return int(seed)


def check_reads(name: str, value: object, default: int) -> int:
    """A positive read count (``default`` for None)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def initial_spins(
    sampler: dimod.Initialized,
    bqm: Any,
    problem: SpinProblem,
    num_reads: int | None,
    initial_states: Any,
    initial_states_generator: str,
    seed: int,
) -> tuple[int, np.ndarray | None]:
    """The number of reads and the starting spins (reads, n) in ``problem.labels`` order, or
    None for thermolearn's own random start, by dimod's rules (``initial_states`` in either
    vartype; fewer rows than ``num_reads`` expanded by ``initial_states_generator``)."""
    if initial_states is None and initial_states_generator == "random":
        return check_reads("num_reads", num_reads, 1), None
    spin_bqm = bqm if bqm.vartype is dimod.SPIN else bqm.change_vartype(dimod.SPIN, inplace=False)
    parsed = sampler.parse_initial_states(
        spin_bqm,
        initial_states=initial_states,
        initial_states_generator=initial_states_generator,  # type: ignore[arg-type]  # checked by dimod
        num_reads=num_reads,
        seed=seed,
    )
    given = parsed.initial_states
    column = {label: k for k, label in enumerate(given.variables)}
    order = [column[label] for label in problem.labels]
    spins = np.ascontiguousarray(given.record.sample[:, order], dtype=np.int8)
    return int(parsed.num_reads), spins


def to_sampleset(
    problem: SpinProblem,
    spins: np.ndarray,
    energies: np.ndarray | None,
    info: dict[str, Any],
    started_ns: int,
    sampling_ns: tuple[int, int],
    num_occurrences: np.ndarray | None = None,
) -> dimod.SampleSet:
    """The SampleSet of int8 spin rows (reads, n) in ``problem.labels`` order, with their Ising
    ``energies`` (plus the offset; recomputed when None) in the caller's vartype, and ``info``
    plus ``timing`` in nanoseconds (preprocessing, sampling, postprocessing: dwave-samplers' keys)."""
    post = time.perf_counter_ns()
    reads = spins.shape[0]
    if problem.model is None:
        total = np.full(reads, problem.offset)
    else:
        e = problem.model.energy(spins) if energies is None else energies
        total = np.atleast_1d(np.asarray(e, dtype=np.float64)) + problem.offset
    vectors: dict[str, Any] = {"energy": total}
    if num_occurrences is not None:
        vectors["num_occurrences"] = num_occurrences
    sampleset = dimod.SampleSet.from_samples(
        (spins, list(problem.labels)), vartype=dimod.SPIN, info=dict(info), **vectors
    )
    if problem.vartype is not dimod.SPIN:
        sampleset.change_vartype(problem.vartype, inplace=True)
    sampleset.info["timing"] = {
        "preprocessing_ns": sampling_ns[0] - started_ns,
        "sampling_ns": sampling_ns[1] - sampling_ns[0],
        "postprocessing_ns": time.perf_counter_ns() - post,
    }
    return sampleset


def sweep_betas(
    beta_range: Any,
    num_sweeps: int | None,
    num_sweeps_per_beta: int,
    beta_schedule_type: str,
    beta_schedule: Any,
    model: Ising,
) -> tuple[np.ndarray, tuple[float, float]]:
    """One beta per sweep by dwave-samplers' rules: ``num_sweeps / num_sweeps_per_beta``
    betas 'linear' or 'geometric' over ``beta_range`` (hot, cold; default
    :func:`thermolearn.samplers.schedules.default_beta_range`), each held for
    ``num_sweeps_per_beta`` sweeps, or the given ``beta_schedule`` for 'custom'."""
    from thermolearn.samplers.schedules import check_beta_range, custom_schedule, default_beta_range

    per_beta = check_reads("num_sweeps_per_beta", num_sweeps_per_beta, 1)
    if beta_schedule_type == "custom":
        if beta_schedule is None:
            raise ValueError("beta_schedule_type='custom' needs a beta_schedule (one beta per step)")
        betas = custom_schedule(beta_schedule)
        if num_sweeps is not None and num_sweeps != betas.size * per_beta:
            raise ValueError(
                f"num_sweeps = {num_sweeps} disagrees with the custom beta_schedule "
                f"({betas.size} betas x num_sweeps_per_beta {per_beta}); leave it out"
            )
        if beta_range is not None:
            raise ValueError("beta_range applies to 'linear' and 'geometric' schedules; leave it out for 'custom'")
    elif beta_schedule_type in ("linear", "geometric"):
        if beta_schedule is not None:
            raise ValueError(f"beta_schedule is for beta_schedule_type='custom', not {beta_schedule_type!r}")
        sweeps = check_reads("num_sweeps", num_sweeps, 1000)
        steps, rest = divmod(sweeps, per_beta)
        if rest:
            raise ValueError(f"num_sweeps = {sweeps} must be a multiple of num_sweeps_per_beta = {per_beta}")
        hot, cold = default_beta_range(model) if beta_range is None else check_beta_range(tuple(beta_range))
        if steps == 1:
            betas = np.array([cold])
        elif beta_schedule_type == "linear":
            betas = np.linspace(hot, cold, steps)
        else:
            betas = np.geomspace(hot, cold, steps)
    else:
        raise ValueError(f"beta_schedule_type must be 'linear', 'geometric' or 'custom', got {beta_schedule_type!r}")
    betas = np.repeat(np.asarray(betas, dtype=np.float64), per_beta)
    return betas, (float(betas[0]), float(betas[-1]))
