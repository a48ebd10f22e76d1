"""Neural MCMC: independence Metropolis-Hastings with a trained q as the proposal, mixed with local moves.

A proposal s' drawn from q whatever the current state s is accepted with probability

    A(s -> s') = min(1, p(s') q(s) / (p(s) q(s'))) = min(1, exp(-beta (E' - E) + log q(s) - log q(s'))),

which satisfies detailed balance for p = exp(-beta E) / Z exactly, for any q with full support;
how good q is decides only the acceptance rate and the autocorrelation time. Interleaved local
Metropolis sweeps (also exact) let the chain move where q has too little mass. Each sweep is
``local_sweeps`` single-spin Metropolis sweeps followed by ``proposals`` global proposals per
chain; the proposals are drawn from each chain's own generator (``ChainState.rng``) and log q is
evaluated in float64 by the same code that samples, so the chains are reproducible and the
Hastings ratio is the ratio of the probabilities actually used.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.estimators.observables import chains_disagree
from thermolearn.fixed_settings import FixedSettings
from thermolearn.models.ising import Ising
from thermolearn.neural.network import AutoregressiveNetwork
from thermolearn.neural.van import check_network_for
from thermolearn.progress import progress_bar
from thermolearn.randomness.xoshiro import uniforms
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.single_spin import Metropolis
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_positive_int, check_temperature


class NeuralMCMC(FixedSettings, Sampler):
    """Independence Metropolis-Hastings with the network's q as the proposal, after
    ``local_sweeps`` single-spin Metropolis sweeps, ``proposals`` global moves per sweep, on
    the chains at beta >= ``min_beta`` (the others make only the local sweeps).

    Samples exp(-beta E) / Z exactly at any beta (the network's training temperature only
    sets how often a proposal is accepted) for models of the network's size. As the base of
    :class:`~thermolearn.samplers.ParallelTempering` with ``min_beta`` near the network's
    training beta, it adds a learned global move at the cold end of the ladder only."""

    name = "neural"
    sweep_blocks = True  # each sweep draws the same numbers whether sweeps are called one by one or in blocks
    _fixed_settings = frozenset({"network", "local_sweeps", "proposals", "min_beta"})  # checked once, here

    def __init__(
        self, network: AutoregressiveNetwork, *, local_sweeps: int = 1, proposals: int = 1, min_beta: float = 0.0
    ) -> None:
        if not isinstance(network, AutoregressiveNetwork):
            raise TypeError(f"network must be a thermolearn.neural MADE or PixelCNN, got {type(network).__name__}")
        if isinstance(local_sweeps, bool) or not isinstance(local_sweeps, (int, np.integer)) or local_sweeps < 0:
            raise ValueError(f"local_sweeps must be an integer >= 0, got {local_sweeps!r}")
        self.network = network
        self.local_sweeps = int(local_sweeps)
        self.proposals = check_positive_int("proposals", proposals)
        if isinstance(min_beta, bool) or not isinstance(min_beta, (int, float)) or not 0.0 <= min_beta < math.inf:
            raise ValueError(f"min_beta must be a finite number >= 0, got {min_beta!r}")
        self.min_beta = float(min_beta)
        self._local = Metropolis()
        self._checked_for: Ising | None = None  # the model the network was last checked against
        self.global_accepted = 0
        self.global_attempted = 0

    @classmethod
    def example(cls) -> NeuralMCMC:
        from thermolearn.neural.made import MADE, MADEConfig, init_params

        config = MADEConfig(16, 0, 0)
        return cls(MADE(config, init_params(config)))

    def options(self) -> dict:
        return {
            "network": self.network.config.as_dict(),
            "local_sweeps": self.local_sweeps,
            "proposals": self.proposals,
            "min_beta": self.min_beta,
        }

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        check_network_for(self.network, model)

    def reset(self, model: Ising, state: ChainState) -> None:
        self.global_accepted = 0
        self.global_attempted = 0

    def info(self) -> dict:
        rate = self.global_accepted / self.global_attempted if self.global_attempted else None
        return {
            "global_accepted": self.global_accepted,
            "global_attempted": self.global_attempted,
            "global_acceptance": rate,
        }

    def _global_moves(self, model: Ising, state: ChainState, betas: np.ndarray) -> np.ndarray:
        """One proposal from q for every chain at beta >= min_beta; returns which were accepted."""
        accept = np.zeros(state.n_chains, dtype=bool)
        chains = np.flatnonzero(betas >= self.min_beta)
        if chains.size == 0:
            return accept
        width = self.network.uniforms_per_sample
        u = np.empty((chains.size, width + 1))
        for k, c in enumerate(chains):
            u[k] = uniforms(state.rng[c], width + 1)
        proposal = self.network.sample_from_uniforms(u[:, :width])
        e_new = np.asarray(model.energy(proposal), dtype=np.float64)
        log_q_new = self.network.log_prob(proposal)
        log_q_old = self.network.log_prob(state.spins[chains])
        log_ratio = -betas[chains] * (e_new - state.energy[chains]) + log_q_old - log_q_new
        ok = np.log(np.maximum(u[:, width], 1e-300)) < log_ratio
        moved = chains[ok]
        if moved.size:
            state.spins[moved] = proposal[ok]
            state.energy[moved] = e_new[ok]
            state.magnetization[moved] = proposal[ok].sum(axis=1, dtype=np.int64).astype(np.float64)
        accept[chains] = ok
        return accept

    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        n_sweeps = self._check_call(model, state, n_sweeps)  # the chains (in full on first sight), n_sweeps >= 0
        if model is not self._checked_for:  # the network's size against the model's, once per model
            self.check_model(model)
            self._checked_for = model
        b = as_betas(betas, state.n_chains)
        accepted = np.zeros(state.n_chains, dtype=np.int64)
        attempted = np.zeros(state.n_chains, dtype=np.int64)
        for _ in range(n_sweeps):
            if self.local_sweeps:
                st = self._local.sweep(model, state, b, self.local_sweeps)
                accepted += np.asarray(st.accepted, dtype=np.int64)
                attempted += np.asarray(st.attempted, dtype=np.int64)
            proposing = b >= self.min_beta
            for _ in range(self.proposals):
                acc = self._global_moves(model, state, b)
                accepted += acc
                attempted += proposing
                self.global_accepted += int(acc.sum())
                self.global_attempted += int(proposing.sum())
        return SweepStats(accepted, attempted)


@dataclass(frozen=True)
class NeuralMCMCResult:
    """A neural MCMC run: the acceptance rate of the global (network) moves and of all moves,
    tau_int of the energy (sweeps) and E, <|M|> (totals) with autocorrelation-aware errors (at
    least the spread of the chain means; ``reliable`` False, with a RuntimeWarning, where they are
    likely too small); the series of E and M of every chain and the overlaps of chain pairs (0, 1),
    (2, 3), ... per sweep."""

    temperature: float
    n_chains: int
    n_sweeps: int
    global_acceptance: float
    acceptance: float
    tau_energy: float
    tau_abs_magnetization: float
    energy: float
    energy_stderr: float
    abs_magnetization: float
    abs_magnetization_stderr: float
    energies: np.ndarray
    magnetizations: np.ndarray
    overlaps: np.ndarray
    #: False when an error bar is likely too small (a RuntimeWarning said why)
    reliable: bool = True

    def overlap_distribution(self, bins: int = 21) -> tuple[np.ndarray, np.ndarray]:
        """P(q) of the overlaps q = s_a . s_b / n between pairs of independent chains:
        ``(bin centres, probabilities)`` on [-1, 1]."""
        counts, edges = np.histogram(self.overlaps, bins=bins, range=(-1.0, 1.0))
        return 0.5 * (edges[1:] + edges[:-1]), counts / max(counts.sum(), 1)

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: acceptance, tau_int and energy and <|M|> (totals, units of J) with errors."""
        return {
            "temperature": self.temperature,
            "n_chains": self.n_chains,
            "n_sweeps": self.n_sweeps,
            "acceptance": self.global_acceptance,
            "acceptance_all_moves": self.acceptance,
            "tau_int_energy": self.tau_energy,
            "tau_int_abs_magnetization": self.tau_abs_magnetization,
            "energy_mcmc": {"mean": self.energy, "stderr": self.energy_stderr},
            "abs_magnetization_mcmc": {"mean": self.abs_magnetization, "stderr": self.abs_magnetization_stderr},
            "reliable": self.reliable,
        }


def neural_mcmc(
    network: AutoregressiveNetwork,
    model: Ising,
    temperature: float,
    *,
    n_chains: int = 8,
    n_sweeps: int = 1000,
    burn_in: int = 100,
    local_sweeps: int = 1,
    proposals: int = 1,
    seed: Any = 0,
    progress: bool | None = None,
) -> NeuralMCMCResult:
    """Run :class:`NeuralMCMC` chains on ``model`` at temperature T (energy units) and measure
    the acceptance rate of the network's proposals, tau_int and E, <|M|> with their errors
    (``n_sweeps`` recorded sweeps of ``n_chains`` chains after ``burn_in`` unrecorded ones)."""
    T = check_temperature(temperature)
    chains = check_positive_int("n_chains", n_chains)
    sweeps = check_positive_int("n_sweeps", n_sweeps, minimum=4)
    if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or burn_in < 0:
        raise ValueError(f"burn_in must be an integer >= 0, got {burn_in!r}")
    sampler = NeuralMCMC(network, local_sweeps=local_sweeps, proposals=proposals)
    sampler.check_model(model)
    state = ChainState.new(model, chains, seed=seed)
    sampler.reset(model, state)
    betas = np.full(chains, 1.0 / T)
    if burn_in:
        sampler.sweep(model, state, betas, int(burn_in))
    sampler.reset(model, state)
    energies = np.empty((chains, sweeps))
    mags = np.empty((chains, sweeps))
    pairs = chains // 2
    overlaps = np.empty((pairs, sweeps))
    accepted = attempted = 0
    with progress_bar(
        total=sweeps, desc="neural mcmc", unit="sweep", progress=progress, worthwhile=sweeps > 200
    ) as bar:
        for k in range(sweeps):
            st = sampler.sweep(model, state, betas, 1)
            accepted += int(np.sum(st.accepted))
            attempted += int(np.sum(st.attempted))
            energies[:, k] = state.energy
            mags[:, k] = state.magnetization
            if pairs:
                a = state.spins[0 : 2 * pairs : 2].astype(np.float64)
                overlaps[:, k] = np.einsum("ki,ki->k", a, state.spins[1 : 2 * pairs : 2]) / model.n_spins
            bar.update()
    tau_e, energy, energy_stderr, energy_ok = _chain_estimate(energies)
    tau_m, abs_m, abs_m_stderr, abs_m_ok = _chain_estimate(np.abs(mags))
    doubtful = [name for name, ok in (("E", energy_ok), ("<|M|>", abs_m_ok)) if not ok]
    if doubtful:
        # one warning for the run (0.6.10 silenced the estimator's own: a poor network's run was
        # 5-8 standard errors from the exact <E> without a word)
        warnings.warn(
            f"neural MCMC: the error bars of {' and '.join(doubtful)} are likely too small (the series are too "
            f"short for their autocorrelation time, or the {chains} chains disagree beyond their errors); the "
            "result is marked reliable=False: run more sweeps or chains, or train the network further",
            RuntimeWarning,
            stacklevel=2,
        )
    info = sampler.info()
    return NeuralMCMCResult(
        temperature=T,
        n_chains=chains,
        n_sweeps=sweeps,
        global_acceptance=float(info["global_acceptance"]),
        acceptance=accepted / attempted if attempted else math.nan,
        tau_energy=tau_e,
        tau_abs_magnetization=tau_m,
        energy=energy,
        energy_stderr=energy_stderr,
        abs_magnetization=abs_m,
        abs_magnetization_stderr=abs_m_stderr,
        energies=energies,
        magnetizations=mags,
        overlaps=overlaps,
        reliable=not doubtful,
    )


def _chain_estimate(x: np.ndarray) -> tuple[float, float, float, bool]:
    """(tau_int, mean, stderr, reliable) of the series of several chains, ``x`` (chains, sweeps):
    the autocorrelation-aware error of the pooled mean, at least the spread of the chain means
    (chains stuck apart each look precise); not reliable where the series is too short for its
    tau_int or the chain means disagree beyond their errors."""
    if np.ptp(x) == 0:  # nothing fluctuated: the mean has no statistical error
        return 0.5, float(x.mean()), 0.0, True
    act = integrated_autocorrelation_time(x, warn=False)
    stderr, ok = float(act.stderr), bool(act.reliable)
    k = x.shape[0]
    if k > 1:
        means = x.mean(axis=1)
        # each chain's mean has error stderr sqrt(k) if the pooled error is right
        if chains_disagree(means, np.full(k, stderr * math.sqrt(k))):
            ok = False
        stderr = max(stderr, float(np.std(means, ddof=1)) / math.sqrt(k))
    return float(act.tau), float(x.mean()), stderr, ok
