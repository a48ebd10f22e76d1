"""What each p-bit update model samples, exactly, and how far a run is from it.

- Boltzmann, exp(-beta E(m)) / Z: the stationary law of sequential and chromatic updates
  (and of asynchronous ones with instant communication, eta = inf).
- Synchronous updates: every p-bit draws from the previous state m, so
  T(m -> m') = prod_i exp(beta m'_i I_i(m)) / (2 cosh(beta I_i(m))), and
  pi(m) T(m -> m') = exp(beta (h.m + h.m' + m'.J.m)) / const is symmetric: detailed balance
  holds for pi(m) ∝ exp(beta h.m) prod_i cosh(beta I_i(m)) (Peretto 1984). For a
  ferromagnetic pair without fields pi is uniform, whatever J: the bias is total.
- Asynchronous updates with broadcast rate eta: a continuous-time chain on the pair
  (m, seen) (4^n states), solved for its stationary vector; its marginal on m.

:func:`total_variation` measures a run against any of these, with a jackknife error bar over
independent chains.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from thermolearn.estimators.jackknife import jackknife
from thermolearn.estimators.observables import Estimate
from thermolearn.exact.enumeration import MAX_TABLE_SPINS, state_index_to_spins
from thermolearn.models.ising import Ising
from thermolearn.pbits.updates import PBitRun, check_eta, check_update
from thermolearn.validation import check_finite_float

MAX_ASYNCHRONOUS_SPINS = 7
"""Largest network whose asynchronous (m, seen) chain (4^n states) is solved exactly."""


def _all_states(model: Ising) -> np.ndarray:
    n = model.n_spins
    if n > MAX_TABLE_SPINS:
        raise ValueError(f"exact distributions are limited to n <= {MAX_TABLE_SPINS} p-bits; this model has {n}")
    return state_index_to_spins(np.arange(2**n), n).astype(np.float64)


def _normalised(log_w: np.ndarray) -> np.ndarray:
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def boltzmann_distribution(model: Ising, beta: float) -> np.ndarray:
    """p(m) = exp(-beta E(m)) / Z over all 2^n states (n <= 20), indexed as
    :func:`~thermolearn.exact.state_index_to_spins` (bit i set: m_i = +1); beta >= 0."""
    b = check_finite_beta(beta)
    return _normalised(-b * np.asarray(model.energy(_all_states(model).astype(np.int8))))


def synchronous_distribution(model: Ising, beta: float) -> np.ndarray:
    """The stationary law of synchronous p-bit updates, pi(m) ∝ exp(beta h.m) prod_i
    cosh(beta I_i(m)), I = J m + h (n <= 20; indexed like :func:`boltzmann_distribution`)."""
    b = check_finite_beta(beta)
    m = _all_states(model)
    inputs = (model.couplings @ m.T).T + model.fields
    # log cosh(x) = |x| + log1p(exp(-2|x|)) - log 2, stable for large |x|
    ax = np.abs(b * inputs)
    log_cosh = ax + np.log1p(np.exp(-2 * ax))
    return _normalised(b * (m @ model.fields) + log_cosh.sum(axis=1))


def asynchronous_distribution(model: Ising, beta: float, eta: float) -> np.ndarray:
    """The stationary law of asynchronous p-bits (Poisson clocks of rate 1, broadcasts of the
    state at rate ``eta``) marginalised on the p-bit state (n <= 7: the chain on (m, seen) has
    4^n states). eta = inf gives the Boltzmann distribution."""
    b = check_finite_beta(beta)
    rate = check_eta(eta)
    if math.isinf(rate):
        return boltzmann_distribution(model, b)
    n = model.n_spins
    if n > MAX_ASYNCHRONOUS_SPINS:
        raise ValueError(
            f"the exact asynchronous distribution is limited to n <= {MAX_ASYNCHRONOUS_SPINS} p-bits (4^n joint "
            f"states); this model has {n}"
        )
    m = _all_states(model)
    size = 2**n
    # P(m_i = +1 | seen = v) for every v and i
    p_up = 0.5 * (1 + np.tanh(b * ((model.couplings @ m.T).T + model.fields)))
    s_idx = np.repeat(np.arange(size), size)
    v_idx = np.tile(np.arange(size), size)
    joint = s_idx * size + v_idx  # joint state index: (m, seen)
    rows, cols, vals = [], [], []
    for i in range(n):
        bit = 1 << i
        up = p_up[v_idx, i]
        for target, prob in ((s_idx | bit, up), (s_idx & ~bit, 1 - up)):
            keep = target != s_idx  # staying put is no transition
            rows.append(joint[keep])
            cols.append((target * size + v_idx)[keep])
            vals.append(prob[keep])
    keep = v_idx != s_idx
    rows.append(joint[keep])
    cols.append((s_idx * size + s_idx)[keep])
    vals.append(np.full(int(keep.sum()), rate))
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    Q = sp.coo_array((v, (r, c)), shape=(size * size, size * size)).tocsr()
    Q = Q - sp.diags_array(np.asarray(Q.sum(axis=1)).ravel())
    # pi Q = 0 with sum(pi) = 1: replace one balance equation by the normalisation
    A = sp.lil_array(Q.T)
    A[0, :] = 1.0
    rhs = np.zeros(size * size)
    rhs[0] = 1.0
    pi = spla.spsolve(A.tocsc(), rhs)
    pi = np.clip(pi, 0.0, None)
    return pi.reshape(size, size).sum(axis=1) / pi.sum()


def stationary_distribution(model: Ising, beta: float, update: str, *, eta: float = 10.0) -> np.ndarray:
    """The exact stationary distribution of the p-bit chain of ``update`` on ``model``."""
    update = check_update(update)
    if update == "synchronous":
        return synchronous_distribution(model, beta)
    if update == "asynchronous":
        return asynchronous_distribution(model, beta, eta)
    return boltzmann_distribution(model, beta)


def check_finite_beta(beta: object) -> float:
    """beta as a float if it is finite and >= 0 (beta = 0: every state equally likely)."""
    b = check_finite_float("beta", beta)
    if b < 0:
        raise ValueError(f"beta must be >= 0 (an inverse temperature, I0 for p-bits), got {b}")
    return b


def tv_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance (1/2) sum |p - q| of two distributions on the same states."""
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def tv_noise_floor(run: PBitRun) -> float:
    """The TV distance an exact sampler would show with this run's sampling noise:
    (1/2) sum_s sqrt(2 / pi) sigma_s, with sigma_s the standard error of the pooled frequency
    of state s from the spread between independent chains (so autocorrelation is included)."""
    freq = run.frequencies()
    if run.n_chains < 2:
        raise ValueError("tv_noise_floor needs n_chains >= 2")
    sigma = freq.std(axis=0, ddof=1) / math.sqrt(run.n_chains)
    return 0.5 * math.sqrt(2 / math.pi) * float(sigma.sum())


def total_variation(run: PBitRun, reference: np.ndarray) -> Estimate:
    """TV distance between the pooled histogram of ``run`` and ``reference`` (2^k,), with a
    delete-one-chain jackknife error bar (chains are independent; needs >= 2 chains).

    The plain estimate is biased upwards by sampling noise (about sum_s sqrt(p_s / (2 pi N_eff))
    for N_eff effectively independent samples), so a sampler is exact to within this budget
    when the TV is of the order of that floor."""
    freq = run.frequencies()
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != freq.shape[1:]:
        raise ValueError(f"reference must have shape {freq.shape[1:]} (2^k readout states), got {ref.shape}")
    if run.n_chains < 2:
        raise ValueError("total_variation needs n_chains >= 2 for its error bar")
    result = jackknife(lambda mean: 0.5 * np.abs(mean - ref).sum(), freq, n_blocks=run.n_chains)
    return Estimate(float(result.raw), float(result.stderr))
