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
import warnings
from collections.abc import Sequence

import numpy as np

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.exact.critical_temperature import lattice_critical_temperature
from thermolearn.models.ising import Ising
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.resources import check_memory
from thermolearn.rg.mcrg import MCRGResult, OperatorSeries, blocked_operator_series, check_mcrg_plan, mcrg_exponents
from thermolearn.samplers.registry import make_sampler
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_positive_float, check_positive_int

__all__ = ["MCRG_SAMPLERS", "critical_coupling", "run_mcrg"]

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
) -> MCRGResult:
    """Sample the L^d lattice at ``coupling`` (default K_c), block every configuration and
    return the MCRG exponents per level with bootstrap error bars.

    ``n_samples`` configurations in all, split over ``n_chains`` chains (each burned in for
    ``burn_in`` sweeps, then recorded every ``sweeps_between`` sweeps). The bootstrap bins are
    2 tau_int of the chains' nearest-neighbour totals (at least one sample). The result's
    ``extras`` hold the coupling, the sampler, sweeps and the autocorrelation time."""
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
    parts: list[OperatorSeries] = []
    with progress_bar(total_sweeps, desc=f"mcrg L={size} d={dimension}", progress=progress, unit="sweep") as bar:
        for _ in range(burn_in):
            sweeper.sweep(model, state, betas, 1)
            bar.update(1)
        for _ in range(per_chain):
            for _ in range(sweeps_between):
                sweeper.sweep(model, state, betas, 1)
                bar.update(1)
            parts.append(
                blocked_operator_series(
                    state.spins.reshape(shape),
                    b=b,
                    blockings=blockings,
                    rule=rule,
                    even=even_names,
                    odd=odd_names,
                    seed=tie_rng,
                )
            )
    # (per_chain, n_chains, ...) -> chain-major, so that a bin holds consecutive samples of one chain
    even_arr = np.stack([p.even for p in parts], axis=1).reshape((n_chains * per_chain,) + parts[0].even.shape[1:])
    odd_arr = np.stack([p.odd for p in parts], axis=1).reshape((n_chains * per_chain,) + parts[0].odd.shape[1:])
    nn_series = np.stack([p.even[:, 0, 0] for p in parts], axis=1)  # (n_chains, per_chain)
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
