"""Neural importance sampling: ln Z and observables from a trained q, reweighted to exactness.

With exact samples s_k ~ q and their exact log q (Nicoli et al., PRE 2020), the weights
w_k = exp(-beta E(s_k)) / q(s_k) give

    Z_hat = (1/N) sum_k w_k   (unbiased: E_q[w] = Z),   <O>_p ~ sum_k w_k O(s_k) / sum_k w_k,

whatever q is, as long as q > 0 wherever p > 0 (an autoregressive q with finite logits is).
The VAN bound F_q is biased by T KL(q || p); ln Z_hat is only biased at second order,
-Var(w) / (2 N Z^2). Errors by the delta method: stderr(ln Z_hat) = sd(w) / (mean(w) sqrt(N)),
stderr(<O>) = sqrt(sum_k w_k^2 (O_k - <O>)^2) / sum_k w_k. The effective sample size
ESS = (sum w)^2 / sum w^2 says how many exact samples the weighted ones are worth; below
``min_ess`` the estimate is flagged as not to be trusted (its error bar is then unreliable too).
The ESS can look fine while the largest weights have a tail so heavy that Var(w) is infinite and
the delta-method error bars read small (a reverse-KL q that misses part of p): the Pareto shape
k-hat of the weights (:mod:`thermolearn.estimators.importance_tails`) flags that too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from thermolearn.estimators.importance_tails import importance_tail_problem, pareto_k_hat
from thermolearn.models.ising import Ising
from thermolearn.neural.network import AutoregressiveNetwork
from thermolearn.neural.van import check_network_for, draw
from thermolearn.validation import check_positive_float, check_positive_int, check_temperature

DEFAULT_MIN_ESS = 100.0


@dataclass(frozen=True)
class NISResult:
    """ln Z +- stderr, the free energy F = -T ln Z (total) and observables (totals: energy E,
    <|M|>, <M^2>) with their errors, from ``n_samples`` weighted samples of q; ``ess`` the
    effective sample size, ``pareto_k`` the tail shape k-hat of the weights, ``warning`` a
    sentence when the ESS is below ``min_ess`` or k-hat above 0.5 (else None)."""

    temperature: float
    n_spins: int
    n_samples: int
    log_z: float
    log_z_stderr: float
    ess: float
    energy: float
    energy_stderr: float
    abs_magnetization: float
    abs_magnetization_stderr: float
    magnetization_sq: float
    magnetization_sq_stderr: float
    min_ess: float
    warning: str | None
    pareto_k: float = math.nan

    @property
    def reliable(self) -> bool:
        """Whether the estimate raised no warning (ESS and k-hat within bounds)."""
        return self.warning is None

    @property
    def free_energy(self) -> float:
        """Total free energy F = -T ln Z (units of J)."""
        return -self.temperature * self.log_z

    @property
    def free_energy_stderr(self) -> float:
        """Standard error of :attr:`free_energy`, T times that of ln Z (units of J)."""
        return self.temperature * self.log_z_stderr

    @property
    def ess_fraction(self) -> float:
        """Effective sample size as a fraction of the samples drawn, ESS / n."""
        return self.ess / self.n_samples

    def as_dict(self) -> dict[str, Any]:
        """The estimate as a JSON-ready dict: ln Z, F, ESS, observables with errors, k-hat and warning."""
        return {
            "log_z_nis": {"mean": self.log_z, "stderr": self.log_z_stderr},
            "free_energy_nis": {"mean": self.free_energy, "stderr": self.free_energy_stderr},
            "effective_sample_size": self.ess,
            "ess_fraction": self.ess_fraction,
            "n_samples": self.n_samples,
            "energy_nis": {"mean": self.energy, "stderr": self.energy_stderr},
            "abs_magnetization_nis": {"mean": self.abs_magnetization, "stderr": self.abs_magnetization_stderr},
            "magnetization_sq_nis": {"mean": self.magnetization_sq, "stderr": self.magnetization_sq_stderr},
            "pareto_k": self.pareto_k if math.isfinite(self.pareto_k) else None,
            "reliable": self.reliable,
            "warning": self.warning,
        }


def weighted_mean(log_w: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Self-normalised importance estimate of E_p[values] and its delta-method standard error."""
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    mean = float(w @ values)
    return mean, float(math.sqrt(float(w**2 @ (values - mean) ** 2)))


def importance_weights(
    network: AutoregressiveNetwork, model: Ising, temperature: float, states: np.ndarray
) -> np.ndarray:
    """log w = -E(s) / T - log q(s) of given states (float64)."""
    check_network_for(network, model)
    T = check_temperature(temperature)
    return -np.asarray(model.energy(states), dtype=np.float64) / T - network.log_prob(states)


def neural_importance_sampling(
    network: AutoregressiveNetwork,
    model: Ising,
    temperature: float,
    *,
    n_samples: int = 4096,
    min_ess: float = DEFAULT_MIN_ESS,
    seed: Any = 0,
) -> NISResult:
    """ln Z and observables of exp(-E/T) / Z from ``n_samples`` exact samples of ``network``,
    reweighted by p / q (unbiased Z; the estimate is exact however poor q is, only its error
    grows). Temperature T in energy units (k_B = 1). See the module docstring."""
    check_network_for(network, model)
    T = check_temperature(temperature)
    k = check_positive_int("n_samples", n_samples, minimum=2)
    min_ess = check_positive_float("min_ess", min_ess)
    states, log_q = draw(network, k, seed)
    e = np.asarray(model.energy(states), dtype=np.float64)
    log_w = -e / T - log_q
    log_z = float(logsumexp(log_w) - math.log(k))
    w = np.exp(log_w - log_w.max())
    ess = float(w.sum() ** 2 / (w**2).sum())
    log_z_se = float(w.std(ddof=1) / (w.mean() * math.sqrt(k)))
    m = states.sum(axis=1, dtype=np.int64).astype(np.float64)
    energy = weighted_mean(log_w, e)
    abs_m = weighted_mean(log_w, np.abs(m))
    m_sq = weighted_mean(log_w, m**2)
    k_hat = pareto_k_hat(log_w)
    warning = None
    if ess < min_ess:
        warning = (
            f"effective sample size {ess:.1f} of {k} samples is below {min_ess:g}: the importance weights are "
            "dominated by a few samples and neither the estimate nor its error bar can be trusted; "
            "train the network longer or draw more samples"
        )
    else:
        warning = importance_tail_problem(k_hat, k)
    return NISResult(
        temperature=T,
        n_spins=model.n_spins,
        n_samples=k,
        log_z=log_z,
        log_z_stderr=log_z_se,
        ess=ess,
        energy=energy[0],
        energy_stderr=energy[1],
        abs_magnetization=abs_m[0],
        abs_magnetization_stderr=abs_m[1],
        magnetization_sq=m_sq[0],
        magnetization_sq_stderr=m_sq[1],
        min_ess=min_ess,
        warning=warning,
        pareto_k=k_hat,
    )
