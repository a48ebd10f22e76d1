"""Path-integral Monte Carlo of the transverse-field Ising model (Suzuki-Trotter), with exact Trotterised answers.

Z_M = Tr[(e^{-beta H_cl / M} e^{beta sum Gamma_i sx_i / M})^M] -> Z as M -> infinity, with errors O(1/M^2).
Z_M is a classical Ising model on M copies (slices) of the graph: couplings a J_ij and fields a h_i
inside a slice (a = beta / M) and K_i = -1/2 ln tanh(beta Gamma_i / M) between slices (periodic).

Estimators (the exact derivatives of ln Z_M, so their averages equal the Trotterised values at
each M, which :func:`trotter_exact` computes by the product formula):
- <sx_i>_M = coth(2 a_i) - C_i / sinh(2 a_i), a_i = beta Gamma_i / M, C_i = (1/M) sum_tau s[tau,i] s[tau+1,i];
- E_M = -d ln Z_M / d beta = <(1/M) sum_tau E_cl(s_tau)> - sum_i Gamma_i <sx_i>_M (totals, units of J);
- <sz_i sz_j>: the slice average over the bonds.
Error bars are autocorrelation-aware (:mod:`thermolearn.estimators`), chains pooled, and never
smaller than the spread of the chain means; a result whose error bars are likely too small is
marked ``reliable=False`` with a RuntimeWarning.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.estimators.autocorrelation import MIN_SAMPLES_PER_TAU, integrated_autocorrelation_time
from thermolearn.estimators.observables import Estimate, chains_disagree
from thermolearn.fixed_settings import FixedSettings
from thermolearn.models.ising import Ising
from thermolearn.quantum.hamiltonian import check_ising, check_transverse, diagonal_energies
from thermolearn.quantum.pimc_kernels import MIN_PARALLEL_WORK, dense_rows, trotter_sweeps
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.resources import check_memory
from thermolearn.samplers.parallel_tempering import csr_int64
from thermolearn.validation import check_beta, check_finite_array, check_positive_int, check_temperature

PIMC_SAMPLERS = ("worldline", "metropolis", "wolff", "sw")
# the product formula builds dense 2^N x 2^N transfer matrices
MAX_TROTTER_EXACT_SPINS = 11


def check_slices(slices: object) -> int:
    """The Trotter number M: an integer >= 1."""
    return check_positive_int("slices M (Trotter number)", slices)


def trotter_couplings(beta: float, gamma: np.ndarray, slices: int) -> np.ndarray:
    """K_i = -1/2 ln tanh(beta Gamma_i / M): the imaginary-time coupling of each site (dimensionless).

    ``beta`` > 0 (1/J), ``gamma`` the fields Gamma_i > 0 (units of J; one number or one per site),
    ``slices`` M >= 1."""
    beta = check_beta(beta)
    slices = check_slices(slices)
    g = check_finite_array("transverse field Gamma", gamma)
    if g.ndim > 1 or g.size == 0:
        raise ValueError(f"transverse field Gamma must be one number or one per site, got shape {g.shape}")
    if np.any(g <= 0.0):
        raise ValueError(
            "path-integral Monte Carlo needs Gamma > 0 on every site (K = -1/2 ln tanh(beta Gamma / M) is "
            f"infinite at Gamma = 0: such a spin is classical); got Gamma = {g[g <= 0.0].flat[0]:g} on some site"
        )
    x = beta * g / slices
    return -0.5 * np.log(np.tanh(x))


def _estimator_factors(beta: float, gamma: np.ndarray, slices: int) -> tuple[np.ndarray, np.ndarray]:
    """coth(2 a_i) and 1 / sinh(2 a_i), a_i = beta Gamma_i / M (so <sx_i> = coth - C_i / sinh)."""
    two_a = 2.0 * beta * gamma / slices
    # 1 / sinh(2a) = 2 e^{-2a} / (1 - e^{-4a}): sinh overflows (with a warning) past 2a ~ 710
    return 1.0 / np.tanh(two_a), 2.0 * np.exp(-two_a) / -np.expm1(-2.0 * two_a)


def _log_cosh(x: np.ndarray) -> np.ndarray:
    """ln cosh x without overflow: ln(e^x + e^-x) - ln 2."""
    return np.logaddexp(x, -x) - math.log(2.0)


@dataclass(frozen=True)
class TrotterExact:
    """Exact values of the M-slice Trotterised model (totals; sx and szsz are means per spin / per bond)."""

    slices: int
    temperature: float
    log_z: float
    energy: float
    sx: float
    szsz: float

    def as_dict(self) -> dict:
        """The exact Trotterised answer as a JSON-ready dict: ln Z, energy (units of J), <sx>, <szsz>."""
        return {
            "slices": self.slices,
            "temperature": self.temperature,
            "log_z": self.log_z,
            "energy": self.energy,
            "sx": self.sx,
            "szsz": self.szsz,
        }


def trotter_exact(ising: Ising, transverse: object, temperature: float, slices: int) -> TrotterExact:
    """ln Z_M, E_M, <sx>_M and <sz sz>_M of the Trotterised model by the product formula (N <= 11).

    T = D^1/2 X D^1/2 with D = diag(e^{-beta E_cl / M}) and X = prod_i e^{(beta Gamma_i / M) sx_i}; Z_M = Tr T^M
    from the eigenvalues of T, and the estimators' averages as traces of T^M (or T^(M-1) T_i) with
    the observable inserted. Each factor e^{a sx} = cosh a [[1, tanh a], [tanh a, 1]] is taken
    without its cosh a (which overflows for large a = beta Gamma / M), restored as N M ln cosh a
    in ln Z. Units of J; k_B = 1.
    """
    model = check_ising(ising)
    n = model.n_spins
    gamma = check_transverse(transverse, n)
    T = check_temperature(temperature)
    M = check_slices(slices)
    if n > MAX_TROTTER_EXACT_SPINS:
        raise ValueError(
            f"the exact Trotterised values need a dense 2^{n} x 2^{n} transfer matrix; they are limited to "
            f"N <= {MAX_TROTTER_EXACT_SPINS} spins (for larger N compare with 'exact_energy' instead)"
        )
    beta = 1.0 / T
    trotter_couplings(beta, gamma, M)  # refuses Gamma = 0 (no finite Trotter coupling)
    a = beta * gamma / M
    size = 2**n
    e_cl = diagonal_energies(model)
    k = np.arange(size)
    spins = (1 - 2 * ((k[:, None] >> np.arange(n)[None, :]) & 1)).astype(np.float64)
    # X = kron over sites (site 0 is the least significant bit, so it is the last factor)
    X = np.ones((1, 1))
    for i in reversed(range(n)):
        t = np.tanh(a[i])
        X = np.kron(X, np.array([[1.0, t], [t, 1.0]]))
    d = np.exp(-0.5 * beta * (e_cl - e_cl.min()) / M)  # shifted by E_min: Z is corrected below
    transfer = d[:, None] * X * d[None, :]
    lam, U = np.linalg.eigh(transfer)
    top = lam.max()
    r = lam / top
    weights_m = r**M
    z = weights_m.sum()
    log_z = M * math.log(top) + math.log(z) - beta * e_cl.min() + M * float(np.sum(_log_cosh(a)))
    # Tr[T^M O] / Z for diagonal O: sum_n r_n^M (U^T O U)_nn / sum r^M
    probs = U * U
    e_mean = float(weights_m @ (e_cl @ probs)) / z
    rows, cols, _ = model.edges()
    bonds = np.zeros(size)
    for i, j in zip(rows, cols):
        bonds += spins[:, i] * spins[:, j]
    zz = float(weights_m @ (bonds @ probs)) / z / max(1, rows.size)
    coth, csch = _estimator_factors(beta, gamma, M)
    sx = np.empty(n)
    weights_m1 = r ** (M - 1) / top  # T^(M-1) T_i, T_i = T (.) s_i s_i^T; divide by top once more
    for i in range(n):
        Ti = transfer * np.outer(spins[:, i], spins[:, i])
        c_i = float(np.sum(weights_m1 * np.sum(U * (Ti @ U), axis=0))) / z if M > 1 else 1.0
        sx[i] = coth[i] - c_i * csch[i]
    energy = e_mean - float(gamma @ sx)
    return TrotterExact(M, T, float(log_z), float(energy), float(sx.mean()), float(zz))


@dataclass
class PIMCResult:
    """Averages of one PIMC run with their error bars (totals; sx per spin, szsz per bond)."""

    temperature: float
    slices: int
    sweeps: int
    burn_in: int
    chains: int
    sampler: str
    energy: Estimate
    classical_energy: Estimate
    sx: Estimate
    szsz: Estimate
    tau_energy: float
    acceptance: float
    segment_flips_per_sweep: float
    seconds: float = 0.0
    #: False when some error bar is likely too small (a RuntimeWarning said which and why)
    reliable: bool = True
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The run as a JSON-ready dict: settings and the estimates (energy in units of J, <sx>, <szsz>) with errors."""
        return {
            "temperature": self.temperature,
            "slices": self.slices,
            "sweeps": self.sweeps,
            "burn_in": self.burn_in,
            "chains": self.chains,
            "sampler": self.sampler,
            "energy": self.energy.as_dict(),
            "classical_energy": self.classical_energy.as_dict(),
            "sx": self.sx.as_dict(),
            "szsz": self.szsz.as_dict(),
            "tau_energy": self.tau_energy,
            "acceptance": self.acceptance,
            "segment_flips_per_sweep": self.segment_flips_per_sweep,
            "seconds": self.seconds,
            "reliable": self.reliable,
            **self.extra,
        }


def _mapped_model(model: Ising, beta: float, gamma: np.ndarray, M: int) -> Ising:
    """The (d+1)-dimensional classical Ising model whose exp(-beta E) is the Trotter weight.

    Site tau * N + i; couplings J_ij / M in a slice, fields h_i / M, K_i / beta between slices.
    """
    import scipy.sparse as sp

    n = model.n_spins
    K = trotter_couplings(beta, gamma, M)
    J = model.couplings.tocoo()
    rows, cols, vals = [], [], []
    for tau in range(M):
        rows.append(J.row + tau * n)
        cols.append(J.col + tau * n)
        vals.append(J.data / M)
    if M > 1:
        site = np.arange(n)
        for tau in range(M):
            nxt = (tau + 1) % M
            # both directions; with M = 2 the two slices are bonded twice (the sum adds them)
            rows += [site + tau * n, site + nxt * n]
            cols += [site + nxt * n, site + tau * n]
            vals += [K / beta, K / beta]
    big = sp.coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * M, n * M))
    return Ising(big.tocsr(), np.tile(model.fields / M, M), name=f"Trotter M={M} of {model.name}")


class PIMCRun(FixedSettings):
    """A path-integral Monte Carlo run that can be advanced in blocks and saved / restored exactly.

    ``sampler``: 'worldline' (Metropolis on every (tau, i) plus heat-bath imaginary-time segment flips; any
    couplings), 'metropolis' (the local moves alone), or 'wolff' / 'sw' (the existing cluster samplers
    on the mapped (d+1)-dimensional model; couplings J >= 0 only). The settings and what is built
    from them (the Trotter couplings K, the estimator factors) are fixed at construction.
    """

    _fixed_settings = frozenset(
        {"model", "gamma", "temperature", "slices", "chains", "sampler", "beta", "K", "coth", "csch", "n_bonds"}
    )

    def __init__(
        self,
        ising: Ising,
        transverse: object,
        temperature: float,
        slices: int,
        *,
        chains: int = 4,
        seed: int | np.random.Generator = 0,
        sampler: str = "worldline",
    ) -> None:
        self.model = check_ising(ising)
        n = self.model.n_spins
        self.gamma = check_transverse(transverse, n)
        self.temperature = check_temperature(temperature)
        self.slices = check_slices(slices)
        self.chains = check_positive_int("chains", chains)
        if sampler not in PIMC_SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(PIMC_SAMPLERS)}; got {sampler!r}")
        self.sampler = sampler
        self.beta = 1.0 / self.temperature
        self.K = trotter_couplings(self.beta, self.gamma, self.slices)
        self.coth, self.csch = _estimator_factors(self.beta, self.gamma, self.slices)
        check_memory(
            f"PIMC with {self.chains} chains, {self.slices} slices and {n} spins",
            float(self.chains) * self.slices * n * 24.0 + 8.0 * self.model.couplings.nnz * 3,
        )
        self.indptr, self.indices, self.data = csr_int64(self.model)
        self.dense = dense_rows(self.model)
        rng = seed_chains(seed, self.chains + 1)
        gen = np.random.Generator(np.random.PCG64(rng[-1].tolist()))
        self.spins = gen.choice(np.array([-1, 1], dtype=np.int8), size=(self.chains, self.slices, n))
        self.rng = np.ascontiguousarray(rng[:-1])
        self.n_bonds = max(1, self.model.n_edges)
        self.series: dict[str, list[np.ndarray]] = {"energy": [], "classical_energy": [], "sx": [], "szsz": []}
        self.sweeps_done = 0
        self.accepted = np.zeros(2, dtype=np.int64)
        self._cluster: Any = None
        if sampler in ("wolff", "sw"):
            if not self.model.is_ferromagnetic:
                raise ValueError(
                    f"sampler {sampler!r} needs J >= 0 (cluster moves on the mapped model); use 'worldline' for "
                    "frustrated couplings"
                )
            from thermolearn.samplers.cluster import SwendsenWang, Wolff
            from thermolearn.samplers.state import ChainState

            self._mapped = _mapped_model(self.model, self.beta, self.gamma, self.slices)
            self._cluster = Wolff() if sampler == "wolff" else SwendsenWang()
            self._state = ChainState.new(
                self._mapped,
                self.chains,
                seed=int(self.rng[0, 0] % (2**62)),
                initial=self.spins.reshape(self.chains, -1),
            )

    def advance(self, n_sweeps: int, *, record: bool = True) -> None:
        """Run ``n_sweeps`` sweeps on every chain (recording each sweep's estimators when ``record``)."""
        n_sweeps = check_positive_int("sweeps", n_sweeps)
        n = self.model.n_spins
        a_steps = np.full(n_sweeps, self.beta / self.slices)
        k_steps = np.broadcast_to(self.K, (n_sweeps, n)).copy()
        ecl = np.zeros((self.chains, n_sweeps))
        tcorr = np.zeros((self.chains, n_sweeps, n))
        bonds = np.zeros((self.chains, n_sweeps))
        if self._cluster is None:
            acc = np.zeros((self.chains, 2), dtype=np.int64)
            trotter_sweeps.run(
                self.chains,
                self.spins,
                self.rng,
                self.indptr,
                self.indices,
                self.data,
                self.model.fields,
                a_steps,
                k_steps,
                self.sampler == "worldline",
                record,
                ecl,
                tcorr,
                bonds,
                acc,
                self.dense,
                work=self.chains * self.slices * n * n_sweeps,
                min_work=MIN_PARALLEL_WORK,
            )
            self.accepted += acc.sum(axis=0)
        else:
            betas = np.full(self.chains, self.beta)
            for t in range(n_sweeps):
                self._cluster.sweep(self._mapped, self._state, betas, 1)
                if record:
                    self._record_from_spins(
                        self._state.spins.reshape(self.chains, self.slices, n), t, ecl, tcorr, bonds
                    )
            self.spins = self._state.spins.reshape(self.chains, self.slices, n).copy()
        self.sweeps_done += n_sweeps
        if record:
            sx_site = self.coth[None, None, :] - tcorr * self.csch[None, None, :]
            self.series["classical_energy"].append(ecl)
            self.series["sx"].append(sx_site.mean(axis=2))
            self.series["energy"].append(ecl - sx_site @ self.gamma)
            self.series["szsz"].append(bonds / self.n_bonds)

    def _record_from_spins(self, s: np.ndarray, t: int, ecl: np.ndarray, tcorr: np.ndarray, bonds: np.ndarray) -> None:
        rows, cols, _ = self.model.edges()
        flat = s.reshape(-1, s.shape[2])
        e = np.asarray(self.model.energy(flat)).reshape(self.chains, self.slices)
        ecl[:, t] = e.mean(axis=1)
        tcorr[:, t, :] = (s * np.roll(s, -1, axis=1)).mean(axis=1)
        bonds[:, t] = (s[:, :, rows] * s[:, :, cols]).sum(axis=2).mean(axis=1)

    def _series(self, name: str) -> np.ndarray:
        parts = self.series[name]
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.chains, 0))

    def result(self, burn_in: int = 0, seconds: float = 0.0) -> PIMCResult:
        """Estimates from the recorded sweeps after the first ``burn_in`` (all chains pooled).

        Each error bar is the larger of the pooled autocorrelation-aware error and, with several
        chains, the spread of the chain means std(means) / sqrt(chains). The result is marked not
        ``reliable``, with one RuntimeWarning naming the quantities, where a series is too short
        for its autocorrelation time, the chain means scatter more than the pooled error allows
        (chi-square p < 1e-4, as :func:`~thermolearn.estimators.combine_chains` tests), or <sx>
        (M > 1) never fluctuated.
        """
        estimates: dict[str, Estimate] = {}
        tau = float("nan")
        too_short: list[str] = []
        disagree: list[str] = []
        recorded = self._series("energy").shape[1] - burn_in
        if recorded < 2:
            raise ValueError(f"need at least 2 recorded sweeps after burn-in, got {recorded}")
        for name in ("energy", "classical_energy", "sx", "szsz"):
            x = self._series(name)[:, burn_in:]
            act = integrated_autocorrelation_time(x, warn=False)  # one warning of our own, below
            stderr = act.stderr
            if not act.reliable:
                too_short.append(f"{name} (tau_int ~ {act.tau:.3g})")
            if self.chains > 1:
                # a slow mode that only some chains saw (the 3x3 ferromagnet in a field at T = 1:
                # rare, long visits to the reversed state) hides in the tail of the pooled rho(t)
                # that Sokal's window cuts, so the pooled error was 2-4x too small; only the spread
                # of the chain means shows it. Each chain mean has error stderr sqrt(chains) if the
                # pooled error is right: a larger scatter means it is not
                means = x.mean(axis=1)
                if chains_disagree(means, np.full(self.chains, stderr * math.sqrt(self.chains))):
                    disagree.append(name)
                stderr = max(stderr, float(np.std(means, ddof=1)) / math.sqrt(self.chains))
            estimates[name] = Estimate(float(x.mean()), float(stderr))
            if name == "energy":
                tau = float(act.tau)
        # with M > 1 each kink in imaginary time moves <sx> by ~ 1 / (M sinh 2a): at high temperature
        # kinks are rare and large, and a run that saw none reports stderr 0 for a mean that is off
        # (unless a kink would not show: 2 / (M sinh 2a) below the rounding of coth 2a, at large a)
        visible = np.any(2.0 * self.csch / self.slices > np.finfo(float).eps * self.coth)
        kinkless = self.slices > 1 and estimates["sx"].stderr == 0.0 and bool(visible)
        reasons = []
        if too_short:
            reasons.append(
                f"series too short for a reliable autocorrelation time ({', '.join(too_short)} sweeps from "
                f"{recorded} per chain; need >= {MIN_SAMPLES_PER_TAU:g} tau_int)"
            )
        if disagree:
            reasons.append(
                f"the means of the {self.chains} chains scatter more than the pooled error bars allow on "
                f"{', '.join(disagree)} (a slow mode some chains saw and others did not; those error bars are the "
                "spread of the chain means, itself uncertain with few chains)"
            )
        if kinkless:
            reasons.append(
                "sx never fluctuated (no kink in imaginary time was seen, so its error bar of 0 is not exact)"
            )
        if reasons:
            warnings.warn(
                "PIMC error bars are likely too small (result marked reliable=False): "
                + "; ".join(reasons)
                + "; run more sweeps or more chains",
                RuntimeWarning,
                stacklevel=2,
            )
        n = self.model.n_spins
        attempts = max(1, self.sweeps_done * self.chains * self.slices * n)
        return PIMCResult(
            temperature=self.temperature,
            slices=self.slices,
            sweeps=recorded,
            burn_in=burn_in,
            chains=self.chains,
            sampler=self.sampler,
            energy=estimates["energy"],
            classical_energy=estimates["classical_energy"],
            sx=estimates["sx"],
            szsz=estimates["szsz"],
            tau_energy=tau,
            acceptance=float(self.accepted[0]) / attempts,
            segment_flips_per_sweep=float(self.accepted[1]) / max(1, self.sweeps_done * self.chains),
            seconds=seconds,
            reliable=not reasons,
        )

    # ---------------------------------------------------------------- checkpoints
    def arrays(self) -> dict[str, np.ndarray]:
        """Everything a resume needs: spins, generator states, counters and the recorded series."""
        out = {"spins": self.spins, "rng": self.rng, "accepted": self.accepted}
        for name in self.series:
            out[f"series_{name}"] = self._series(name)
        return out

    def restore(self, arrays: dict[str, np.ndarray], sweeps_done: int) -> None:
        """Load :meth:`arrays` of a run with the same arguments (shapes checked by the caller's FileContents)."""
        if self._cluster is not None:
            raise ValueError("checkpoints are supported for the 'worldline' and 'metropolis' samplers")
        self.spins = np.ascontiguousarray(arrays["spins"], dtype=np.int8)
        self.rng = np.ascontiguousarray(arrays["rng"], dtype=np.uint64)
        self.accepted = np.asarray(arrays["accepted"], dtype=np.int64).copy()
        for name in self.series:
            self.series[name] = [np.asarray(arrays[f"series_{name}"], dtype=np.float64)]
        self.sweeps_done = int(sweeps_done)


def run_pimc(
    ising: Ising,
    transverse: object,
    temperature: float,
    slices: int,
    sweeps: int,
    *,
    burn_in: int | None = None,
    chains: int = 4,
    seed: int | np.random.Generator = 0,
    sampler: str = "worldline",
    progress: bool | None = False,
    block: int = 200,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1000,
) -> PIMCResult:
    """Path-integral Monte Carlo at temperature T with M slices: E_M, <sx>_M, <sz sz>_M with error bars.

    ``sweeps`` measured sweeps per chain after ``burn_in`` (default sweeps // 5) unrecorded ones;
    the sweeps run in blocks of ``block`` (the local fields are rebuilt at each block, so a run
    resumed from ``checkpoint``, saved every ``checkpoint_every`` sweeps at block boundaries, is
    bit-identical to one never stopped; the seed must then be an int). Totals in units of J; k_B = 1.
    """
    from thermolearn.progress import progress_bar
    from thermolearn.quantum.checkpoints import (
        PIMC_FORMAT,
        check_checkpoint_path,
        checked_chains,
        load_run,
        save_run,
    )

    sweeps = check_positive_int("sweeps", sweeps, minimum=2)
    burn = sweeps // 5 if burn_in is None else check_positive_int("burn_in", burn_in, minimum=0)
    block = check_positive_int("block", block)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    check_checkpoint_path(checkpoint)
    if checkpoint is not None:
        seed = check_int_seed(seed)
    run = PIMCRun(ising, transverse, temperature, slices, chains=chains, seed=seed, sampler=sampler)
    # four recorded series of one float per sweep and chain, plus one block of per-site time correlations
    check_memory(
        f"PIMC series of {sweeps} sweeps x {run.chains} chains",
        32.0 * sweeps * run.chains + 8.0 * block * run.chains * run.model.n_spins,
        hint="use fewer sweeps or chains",
    )
    if checkpoint is not None and run._cluster is not None:
        raise ValueError("checkpoints are supported for the 'worldline' and 'metropolis' samplers")
    total = burn + sweeps
    run_id = {
        "experiment": "pimc",
        "n_spins": run.model.n_spins,
        "couplings_hash": model_digest(run.model, run.gamma),
        "temperature": run.temperature,
        "slices": run.slices,
        "sweeps": sweeps,
        "burn_in": burn,
        "chains": run.chains,
        "sampler": sampler,
        "seed": seed if isinstance(seed, int) else None,
        "block": block,
    }
    done = 0
    if checkpoint is not None and Path(checkpoint).exists():
        contents, done = load_run(checkpoint, PIMC_FORMAT, run_id, total, what="PIMC checkpoint")
        spins, rng = checked_chains(contents, run.chains, run.slices, run.model.n_spins)
        recorded = max(0, done - burn)
        arrays = {"spins": spins, "rng": rng}
        arrays["accepted"] = contents.array("accepted", kinds="i", shape=(2,), minimum=0, dtype=np.int64)
        for name in run.series:
            arrays[f"series_{name}"] = contents.array(f"series_{name}", shape=(run.chains, recorded), dtype=np.float64)
        run.restore(arrays, done)
    start = time.perf_counter()
    last_saved = done
    with progress_bar(total, desc=f"pimc M={run.slices}", progress=progress, unit="sweep", initial=done) as bar:
        while done < total:
            # blocks never straddle the end of the burn-in, so the boundaries are the same on every resume
            limit = burn if done < burn else total
            step = min(block - (done % block) if done >= burn else block, limit - done)
            run.advance(step, record=done >= burn)
            done += step
            bar.update(step)
            if checkpoint is not None and (done - last_saved >= checkpoint_every or done == total):
                save_run(checkpoint, PIMC_FORMAT, run_id, run.arrays(), done)
                last_saved = done
    return run.result(0, time.perf_counter() - start)


def model_digest(model: Ising, gamma: np.ndarray) -> str:
    """A short digest of J, h and Gamma: a checkpoint of another model is refused."""
    import hashlib

    digest = hashlib.sha256()
    for arr in (model.indptr, model.indices, model.data, model.fields, gamma):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()[:16]


#: chi2 per degree of freedom above which a Trotter extrapolation warns that it fits poorly
_POOR_FIT_CHI2 = 4.0


@dataclass(frozen=True)
class Extrapolation:
    """Weighted least-squares fit E(M) = a + b / M^2: the M -> infinity value ``a`` with its error."""

    a: float
    a_stderr: float
    b: float
    b_stderr: float
    chi2_per_dof: float

    def as_dict(self) -> dict:
        """The fit a + b x as a JSON-ready dict: value a (the extrapolated limit), slope b, errors and chi^2 per dof."""
        return {
            "value": self.a,
            "stderr": self.a_stderr,
            "slope": self.b,
            "slope_stderr": self.b_stderr,
            "chi2_per_dof": self.chi2_per_dof,
        }


def extrapolate_trotter(slices: ArrayLike, values: ArrayLike, errors: ArrayLike | None = None) -> Extrapolation:
    """Fit values(M) = a + b / M^2 (the symmetric Trotter error is even in 1/M), weighted by 1/errors^2;
    where the points scatter more than their errors allow (chi2/dof > 1) the errors are scaled by
    sqrt(chi2/dof), and a poor fit (chi2/dof > 4) warns. Two points leave no degree of freedom:
    chi2/dof is NaN, and without ``errors`` so are the fit's errors (nothing measures the scatter).
    A value without a positive, finite error (a run whose energy never changed) cannot be weighted:
    the fit is then unweighted and its errors and chi2/dof are NaN."""
    M = check_finite_array("slices", slices, ndim=1)
    y = check_finite_array("values", values, ndim=1)
    if M.size < 2 or M.size != y.size:
        raise ValueError(f"the extrapolation needs at least two slice numbers with one value each, got {M.size}")
    if np.any(M < 1) or not np.array_equal(M, np.round(M)) or np.unique(M).size < 2:
        raise ValueError(f"slices must be Trotter numbers M >= 1 (integers, at least two different), got {M.tolist()}")
    if errors is not None:
        given = np.asarray(errors, dtype=float)
        if given.shape != y.shape:
            raise ValueError(f"errors must have one value per slice number ({y.size}), got shape {given.shape}")
        if not np.all(np.isfinite(given) & (given > 0)):
            # a zero error would weigh its point infinitely (the normal matrix overflowed to inf and
            # the fit's error read inf or 0): the line still goes through the values, its error is unknown
            fit = extrapolate_trotter(M, y)
            return Extrapolation(fit.a, math.nan, fit.b, math.nan, math.nan)
    sigma = np.ones_like(y) if errors is None else given
    A = np.column_stack([np.ones_like(M), 1.0 / M**2]) / sigma[:, None]
    coef, *_ = np.linalg.lstsq(A, y / sigma, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    resid = (y - (coef[0] + coef[1] / M**2)) / sigma
    dof = M.size - 2
    # two points fix a and b exactly: no residual is left to measure the scatter (chi2/dof undefined)
    chi2 = float(resid @ resid) / dof if dof > 0 else math.nan
    if errors is None:
        # unweighted: scale by the residual variance; with no residual the error is unknown, not 0
        cov = cov * chi2
    elif chi2 > 1.0:
        # the points scatter about a + b / M^2 more than their errors allow: the form (or M too small
        # for it: higher orders in 1/M^2) does not fit, and the fit's own errors would be too small
        # (chi2/dof = 120 gave E(M -> inf) 19 standard errors from exact diagonalisation)
        cov = cov * chi2
        if chi2 > _POOR_FIT_CHI2:
            warnings.warn(
                f"the Trotter extrapolation a + b / M^2 fits poorly (chi2/dof = {chi2:.3g}): its error is scaled "
                "by sqrt(chi2/dof); use larger slice numbers, where the 1/M^2 term dominates",
                RuntimeWarning,
                stacklevel=2,
            )
    return Extrapolation(float(coef[0]), float(np.sqrt(cov[0, 0])), float(coef[1]), float(np.sqrt(cov[1, 1])), chi2)
