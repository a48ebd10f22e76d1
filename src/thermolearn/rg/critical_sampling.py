"""MCRG at the critical point: cluster-sampled configurations, blocked and measured as they come.

The periodic L^d Ising ferromagnet at its critical coupling (2D: Onsager's K_c = ln(1 + sqrt 2) / 2;
3D: K_c = 0.2216546, Ferrenberg, Xu and Landau 2018) is sampled by a cluster sampler driven
directly (Swendsen-Wang or Wolff, whose autocorrelation times at K_c are a few sweeps). After
burn-in, every ``sweeps_between`` sweeps each chain's configuration is blocked and its operator
totals recorded; configurations themselves are never stored, so L = 128 costs no memory. Bins of
consecutive samples of one chain (longer than the measured autocorrelation time of the nearest-
neighbour total) feed the bootstrap of :func:`thermolearn.rg.mcrg.mcrg_exponents`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.exact.critical_temperature import lattice_critical_temperature
from thermolearn.file_contents import FileContents
from thermolearn.models.ising import Ising
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.resources import check_memory
from thermolearn.rg.mcrg import MCRGResult, OperatorSeries, blocked_operator_series, check_mcrg_plan, mcrg_exponents
from thermolearn.samplers.registry import make_sampler
from thermolearn.samplers.state import ChainState
from thermolearn.storage import save_arrays
from thermolearn.validation import check_positive_float, check_positive_int

__all__ = ["MCRG_SAMPLERS", "critical_coupling", "run_mcrg", "sample_configurations"]

#: Cluster samplers that can drive an MCRG run (names of thermolearn.samplers.SAMPLERS).
MCRG_SAMPLERS = ("sw", "wolff")


def critical_coupling(dimension: int) -> float:
    """K_c = J / T_c of the nearest-neighbour ferromagnet on the d = 2 or 3 hypercubic lattice."""
    dimension = check_positive_int("dimension", dimension)
    t_c = lattice_critical_temperature(dimension) if dimension >= 2 else None
    if t_c is None:
        raise ValueError(f"dimension must be 2 or 3 (a critical point at T > 0 is known there), got {dimension}")
    return 1.0 / t_c


def run_mcrg(
    size: int,
    dimension: int = 2,
    *,
    blockings: int = 2,
    n_samples: int = 1000,
    b: int = 2,
    rule: str = "majority",
    even: Sequence[str] | None = None,
    odd: Sequence[str] | None = None,
    coupling: float | None = None,
    sampler: str = "sw",
    n_chains: int = 4,
    burn_in: int = 100,
    sweeps_between: int = 1,
    n_bootstrap: int = 200,
    seed: int = 0,
    progress: bool | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 200,
) -> MCRGResult:
    """Sample the L^d lattice at ``coupling`` (default K_c), block every configuration and
    return the MCRG exponents per level with bootstrap error bars.

    ``n_samples`` configurations in all, split over ``n_chains`` chains (each burned in for
    ``burn_in`` sweeps, then recorded every ``sweeps_between`` sweeps). The bootstrap bins are
    2 tau_int of the chains' nearest-neighbour totals (at least one sample). The result's
    ``extras`` hold the coupling, the sampler, sweeps and the autocorrelation time.
    ``checkpoint`` (a file) saves the chains, the sampler, the tie-break generator and the
    operator series every ``checkpoint_every`` sweeps; a killed run started again with the same
    arguments resumes from it and ends with the same numbers as a run never stopped (a checkpoint
    of another run, or one whose arrays do not fit this run, is refused)."""
    even_names, odd_names = check_mcrg_plan(
        size,
        dimension,
        b=b,
        blockings=blockings,
        even=even,
        odd=odd,
        n_samples=check_positive_int("n_samples", n_samples),
    )
    if sampler not in MCRG_SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(MCRG_SAMPLERS)}, got {sampler!r}")
    k = critical_coupling(dimension) if coupling is None else check_positive_float("coupling", coupling)
    n_chains = check_positive_int("n_chains", n_chains)
    burn_in = check_positive_int("burn_in", burn_in, minimum=0)
    sweeps_between = check_positive_int("sweeps_between", sweeps_between)
    seed = check_int_seed(seed)
    n_bootstrap = check_positive_int("n_bootstrap", n_bootstrap, minimum=2)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
    # operator totals (float64, kept per batch and stacked once) and the chains' spins, before any allocation
    n_ops = len(even_names) + len(odd_names)
    check_memory(
        f"MCRG of {n_samples} samples on a {size}^{dimension} lattice",
        3.0 * 8.0 * float(n_samples) * (blockings + 1) * n_ops
        + 8.0 * min(n_chains, n_samples) * float(size) ** dimension,
        hint="choose fewer samples or a smaller lattice",
    )
    n_chains = min(n_chains, n_samples)
    per_chain = math.ceil(n_samples / n_chains)

    model = Ising.lattice((size,) * dimension, 1.0)
    sweeper = make_sampler(sampler)
    chain_seed, tie_seed, boot_seed = np.random.SeedSequence(seed).spawn(3)
    state = ChainState.new(model, n_chains, chain_seed, "random")
    sweeper.reset(model, state)
    betas = np.full(n_chains, k)
    tie_rng = np.random.default_rng(tie_seed)
    shape = (n_chains,) + (size,) * dimension
    total_sweeps = burn_in + per_chain * sweeps_between
    levels = blockings + 1
    even_arr = np.zeros((per_chain, n_chains, levels, len(even_names)))
    odd_arr = np.zeros((per_chain, n_chains, levels, len(odd_names)))
    run_id = {
        "experiment": "mcrg",
        "size": size,
        "dimension": dimension,
        "blockings": blockings,
        "samples": n_samples,
        "b": b,
        "rule": rule,
        "even": list(even_names),
        "odd": list(odd_names),
        "coupling": k,
        "sampler": sampler,
        "chains": n_chains,
        "burn_in": burn_in,
        "sweeps_between": sweeps_between,
        "seed": seed,
    }
    done = 0
    if checkpoint is not None and Path(checkpoint).exists():
        done = _resume_mcrg(checkpoint, run_id, model, state, sweeper, tie_rng, even_arr, odd_arr, total_sweeps)
    last_saved = done
    with progress_bar(
        total_sweeps, desc=f"mcrg L={size} d={dimension}", progress=progress, unit="sweep", initial=done
    ) as bar:
        while done < total_sweeps:
            sweeper.sweep(model, state, betas, 1)
            done += 1
            bar.update(1)
            after = done - burn_in
            if after > 0 and after % sweeps_between == 0:
                part = blocked_operator_series(
                    state.spins.reshape(shape), b=b, blockings=blockings, rule=rule, even=even_names, odd=odd_names,
                    seed=tie_rng,
                )  # fmt: skip
                even_arr[after // sweeps_between - 1] = part.even
                odd_arr[after // sweeps_between - 1] = part.odd
            # the last save holds the whole series: a finished run started again only re-analyses it
            if checkpoint is not None and (done - last_saved >= checkpoint_every or done == total_sweeps):
                _save_mcrg(
                    checkpoint, run_id, state, sweeper, tie_rng, even_arr, odd_arr, done, burn_in, sweeps_between
                )
                last_saved = done
    # (per_chain, n_chains, ...) -> chain-major, so that a bin holds consecutive samples of one chain
    nn_series = even_arr[:, :, 0, 0].T.copy()  # (n_chains, per_chain)
    even_arr = even_arr.transpose(1, 0, 2, 3).reshape((n_chains * per_chain, levels, len(even_names)))
    odd_arr = odd_arr.transpose(1, 0, 2, 3).reshape((n_chains * per_chain, levels, len(odd_names)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a short run's tau is still the best bin guess
        tau = integrated_autocorrelation_time(nn_series).tau if per_chain >= 4 else 0.5
    # bins of 2 tau_int samples are nearly independent; at least 20 bins for the bootstrap
    bin_size = max(1, min(math.ceil(2.0 * tau), n_samples // 20))
    series = OperatorSeries(even_arr[:n_samples], odd_arr[:n_samples], even_names, odd_names, b, size, dimension, rule)
    result = mcrg_exponents(series, bin_size=bin_size, n_bootstrap=n_bootstrap, seed=boot_seed)
    result.extras.update(
        {
            "coupling": k,
            "sampler": sampler,
            "chains": n_chains,
            "burn_in": burn_in,
            "sweeps_between": sweeps_between,
            "tau_int_nn": float(tau),
        }
    )
    return result


CHECKPOINT_FORMAT = "thermolearn.mcrg-checkpoint"
CHECKPOINT_VERSION = 1
_MASK64 = (1 << 64) - 1


def _generator_words(rng: np.random.Generator) -> np.ndarray:
    """A PCG64 generator's state as six uint64 words (state and increment as two words each)."""
    st = rng.bit_generator.state
    if st["bit_generator"] != "PCG64":
        raise ValueError(f"the tie-break generator must be PCG64, got {st['bit_generator']}")
    s, inc = int(st["state"]["state"]), int(st["state"]["inc"])
    words = [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64, int(st["has_uint32"]), int(st["uinteger"])]
    return np.array(words, dtype=np.uint64)


def _set_generator_words(rng: np.random.Generator, words: np.ndarray) -> None:
    w = [int(x) for x in words]
    if w[3] & 1 == 0 or w[4] not in (0, 1) or w[5] > 0xFFFFFFFF:
        raise ValueError("not the state of a PCG64 generator (its increment must be odd)")
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4],
        "uinteger": w[5],
    }


def _save_mcrg(path, run_id, state, sweeper, tie_rng, even_arr, odd_arr, done, burn_in, sweeps_between) -> None:
    recorded = max(0, done - burn_in) // sweeps_between
    arrays = {f"chain_{k}": v for k, v in state.arrays().items()}
    arrays.update({f"sampler_{k}": v for k, v in sweeper.state().items()})
    arrays.update(tie_rng=_generator_words(tie_rng), even=even_arr[:recorded], odd=odd_arr[:recorded])
    header = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "run": run_id,
        "progress": {"sweeps_done": done},
    }
    save_arrays(path, arrays, header)


def _resume_mcrg(path, run_id, model, state, sweeper, tie_rng, even_arr, odd_arr, total_sweeps) -> int:
    """Load a checkpoint into the run's fresh chains, sampler, generator and series; returns the
    sweeps done. Every array is checked against the run first (shapes, spins, ranges), the chains'
    energies recomputed from their spins: a crafted or foreign checkpoint is refused."""
    contents = FileContents.read(path)
    contents.expect_format(CHECKPOINT_FORMAT, [CHECKPOINT_VERSION], what="MCRG checkpoint")
    contents.expect_run(run_id)
    progress = contents.value("progress", dict)
    done = int(contents.value("sweeps_done", int, minimum=0, maximum=total_sweeps, within=progress,
                              label="progress 'sweeps_done'"))  # fmt: skip
    burn_in, between = run_id["burn_in"], run_id["sweeps_between"]
    recorded = max(0, done - burn_in) // between
    n_chains, n_spins = state.n_chains, model.n_spins
    chains = ["chain_spins", "chain_rng", "chain_energy", "chain_magnetization"]
    contents.expect_names(
        chains + ["tie_rng", "even", "odd"], [name for name in contents.arrays if name.startswith("sampler_")]
    )
    arrays = {
        "spins": contents.array("chain_spins", kinds="i", shape=(n_chains, n_spins), values=(-1, 1), dtype=np.int8),
        "rng": contents.array("chain_rng", kinds="u", shape=(n_chains, 4), dtype=np.uint64),
        "energy": contents.array("chain_energy", shape=(n_chains,), dtype=np.float64),
        "magnetization": contents.array("chain_magnetization", shape=(n_chains,), dtype=np.float64),
    }
    even = contents.array("even", shape=(recorded,) + even_arr.shape[1:], dtype=np.float64)
    odd = contents.array("odd", shape=(recorded,) + odd_arr.shape[1:], dtype=np.float64)
    words = contents.array("tie_rng", kinds="u", shape=(6,), dtype=np.uint64)
    try:
        loaded = ChainState.from_arrays(arrays)
        loaded.check(model)
        _set_generator_words(tie_rng, words)
        sweeper.load_state(
            {k[8:]: v for k, v in contents.arrays.items() if k.startswith("sampler_")}, n_chains=n_chains
        )
    except (ValueError, TypeError) as exc:
        raise contents.fail(str(exc)) from None
    for name in ("spins", "rng", "energy", "magnetization"):
        getattr(state, name)[...] = getattr(loaded, name)
    even_arr[:recorded] = even
    odd_arr[:recorded] = odd
    return done


def sample_configurations(
    size: int,
    coupling: float,
    n_samples: int,
    *,
    dimension: int = 2,
    sampler: str = "sw",
    n_chains: int = 4,
    burn_in: int = 100,
    sweeps_between: int = 2,
    seed: int = 0,
    progress: bool | None = None,
) -> np.ndarray:
    """Configurations of the periodic L^d ferromagnet at reduced coupling K = J / T (J = 1):
    (n_samples, L, ..., L) int8, ``n_chains`` cluster-sampler chains each burned in for
    ``burn_in`` sweeps and recorded every ``sweeps_between`` sweeps, chain after chain (so
    consecutive rows are consecutive samples of one chain)."""
    size = check_positive_int("size", size, minimum=2)
    dimension = check_positive_int("dimension", dimension)
    if dimension not in (1, 2, 3):
        raise ValueError(f"dimension must be 1, 2 or 3, got {dimension}")
    k = check_positive_float("coupling", coupling)
    n_samples = check_positive_int("n_samples", n_samples)
    if sampler not in MCRG_SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(MCRG_SAMPLERS)}, got {sampler!r}")
    n_chains = min(check_positive_int("n_chains", n_chains), n_samples)
    burn_in = check_positive_int("burn_in", burn_in, minimum=0)
    sweeps_between = check_positive_int("sweeps_between", sweeps_between)
    seed = check_int_seed(seed)
    check_memory(
        f"{n_samples} configurations of a {size}^{dimension} lattice",
        2.0 * float(n_samples) * float(size) ** dimension + 8.0 * n_chains * float(size) ** dimension,
        hint="choose fewer samples or a smaller lattice",
    )
    per_chain = math.ceil(n_samples / n_chains)
    model = Ising.lattice((size,) * dimension, 1.0)
    sweeper = make_sampler(sampler)
    state = ChainState.new(model, n_chains, np.random.SeedSequence(seed), "random")
    sweeper.reset(model, state)
    betas = np.full(n_chains, k)
    out = np.empty((per_chain, n_chains, model.n_spins), dtype=np.int8)
    with progress_bar(
        burn_in + per_chain * sweeps_between, desc=f"sample L={size} K={k:.4f}", progress=progress, unit="sweep"
    ) as bar:
        for _ in range(burn_in):
            sweeper.sweep(model, state, betas, 1)
            bar.update(1)
        for t in range(per_chain):
            for _ in range(sweeps_between):
                sweeper.sweep(model, state, betas, 1)
                bar.update(1)
            out[t] = state.spins
    return np.ascontiguousarray(out.transpose(1, 0, 2).reshape((-1,) + (size,) * dimension)[:n_samples])
