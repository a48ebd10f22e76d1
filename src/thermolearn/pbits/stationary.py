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
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.pbits.updates import PBitRun, check_eta, check_update
from thermolearn.validation import check_finite_array, check_finite_float

MAX_ASYNCHRONOUS_SPINS = 7
"""Largest network whose asynchronous (m, seen) chain (4^n states) is solved exactly."""


def _all_states(model: Ising) -> np.ndarray:
    n = check_ising_model(model).n_spins
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
    states = _all_states(model).astype(np.int8)  # checks the model first
    return _normalised(-b * np.asarray(model.energy(states)))


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


MAX_DELAYED_STATES = 1 << 12
"""Largest joint chain (m, seen, pending) solved exactly for finite update times or partitions
(a direct sparse solve: 20736 states, n = 4 with both, already takes minutes from fill-in)."""


def _stationary_vector(rows: list, cols: list, vals: list, size: int) -> np.ndarray:
    """pi with pi Q = 0, sum pi = 1, for the generator with off-diagonal rates (rows, cols, vals)."""
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    Q = sp.coo_array((v, (r, c)), shape=(size, size)).tocsr()
    Q = Q - sp.diags_array(np.asarray(Q.sum(axis=1)).ravel())
    # replace one balance equation by the normalisation
    A = sp.lil_array(Q.T)
    A[0, :] = 1.0
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = np.clip(spla.spsolve(A.tocsc(), rhs), 0.0, None)
    return pi / pi.sum()


def delayed_asynchronous_distribution(
    model: Ising, beta: float, eta: float, update_time: float, partitions: int | np.ndarray | None = None
) -> np.ndarray:
    """The stationary law (on m) of asynchronous p-bits with a finite update time and
    per-partition delays, the chain of :func:`~thermolearn.pbits.run_pbits` with
    ``update_time`` and ``partitions``.

    Continuous-time Markov chain on (m, seen, pending): an idle p-bit's clock (rate 1) draws
    its value from I_i = h_i + sum_j J_ij x_j, x_j = m_j for j in its partition and seen_j
    otherwise (m_j for all j when eta = inf), into pending; a busy p-bit completes at rate
    1 / update_time (m_i <- pending_i); broadcasts (seen <- m) at rate eta. With
    update_time = 0 the draw lands at once. 2^n x 2^n x 3^n states at most
    :data:`MAX_DELAYED_STATES`."""
    b = check_finite_beta(beta)
    rate = check_eta(eta)
    from thermolearn.pbits.updates import check_partitions, check_update_time

    tau = check_update_time(update_time)
    n = model.n_spins
    part = check_partitions(partitions, n)
    m = _all_states(model)
    A = 2**n
    V = 1 if math.isinf(rate) else A
    P = 1 if tau == 0 else 3**n
    size = A * V * P
    if size > MAX_DELAYED_STATES:
        raise ValueError(
            f"the exact delayed asynchronous chain has {size} states (2^n x 2^n x 3^n with n = {n}); the limit is "
            f"{MAX_DELAYED_STATES}"
        )
    a_idx, v_idx, q_idx = (x.ravel() for x in np.meshgrid(np.arange(A), np.arange(V), np.arange(P), indexing="ij"))

    def joint(a: np.ndarray, v: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (a * V + v) * P + q

    here = joint(a_idx, v_idx, q_idx)
    J = model.couplings.toarray()
    rows, cols, vals = [], [], []
    for i in range(n):
        bit, digit = 1 << i, 3**i
        same = (part == part[i]) | math.isinf(rate)
        # input of p-bit i in every joint state: own partition from m, the rest from seen
        own = m @ (J[i] * same)
        other = m @ (J[i] * ~same)
        field = model.fields[i] + own[a_idx] + (other[v_idx] if V > 1 else other[a_idx] * 0)
        up = 0.5 * (1 + np.tanh(b * field))
        d = (q_idx // digit) % 3 if P > 1 else np.zeros_like(q_idx)
        idle = d == 0
        for value, prob in ((1, up), (2, 1 - up)):
            if P == 1:
                target_a = a_idx | bit if value == 1 else a_idx & ~bit
                move = idle & (target_a != a_idx)
                rows.append(here[move])
                cols.append(joint(target_a, v_idx, q_idx)[move])
            else:
                move = idle
                rows.append(here[move])
                cols.append(joint(a_idx, v_idx, q_idx + value * digit)[move])
            vals.append(prob[move])
        if P > 1:
            busy = ~idle
            target_a = np.where(d == 1, a_idx | bit, a_idx & ~bit)
            rows.append(here[busy])
            cols.append(joint(target_a, v_idx, q_idx - d * digit)[busy])
            vals.append(np.full(int(busy.sum()), 1.0 / tau))
    if V > 1:
        stale = v_idx != a_idx
        rows.append(here[stale])
        cols.append(joint(a_idx, a_idx, q_idx)[stale])
        vals.append(np.full(int(stale.sum()), rate))
    pi = _stationary_vector(rows, cols, vals, size)
    return np.bincount(a_idx, weights=pi, minlength=A)


def asynchronous_distribution(model: Ising, beta: float, eta: float) -> np.ndarray:
    """The stationary law of asynchronous p-bits (Poisson clocks of rate 1, broadcasts of the
    state at rate ``eta``) marginalised on the p-bit state (n <= 7: the chain on (m, seen) has
    4^n states). eta = inf gives the Boltzmann distribution."""
    b = check_finite_beta(beta)
    rate = check_eta(eta)
    if math.isinf(rate):
        return boltzmann_distribution(model, b)
    n = check_ising_model(model).n_spins
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


def stationary_distribution(
    model: Ising,
    beta: float,
    update: str,
    *,
    eta: float = 10.0,
    update_time: float = 0.0,
    partitions: int | np.ndarray | None = None,
) -> np.ndarray:
    """The exact stationary distribution of the p-bit chain of ``update`` on ``model``
    (``update_time`` and ``partitions``: asynchronous only, as in :func:`run_pbits`)."""
    update = check_update(update)
    if update == "synchronous":
        return synchronous_distribution(model, beta)
    if update == "asynchronous":
        if update_time != 0 or partitions is not None:
            return delayed_asynchronous_distribution(model, beta, eta, update_time, partitions)
        return asynchronous_distribution(model, beta, eta)
    return boltzmann_distribution(model, beta)


def check_finite_beta(beta: object) -> float:
    """beta as a float if it is finite and >= 0 (beta = 0: every state equally likely)."""
    b = check_finite_float("beta", beta)
    if b < 0:
        raise ValueError(f"beta must be >= 0 (an inverse temperature, I0 for p-bits), got {b}")
    return b


def tv_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance (1/2) sum |p - q| of two distributions on the same states (in [0, 1]).

    Both must be 1D probability vectors of one length: finite, >= 0 and summing to 1 (to 1e-9);
    unequal lengths broadcast and unnormalised weights gave numbers outside [0, 1] without a word."""
    a, b = _distribution("p", p), _distribution("q", q)
    if a.shape != b.shape:
        raise ValueError(f"p and q must be distributions on the same states, got lengths {a.size} and {b.size}")
    return 0.5 * float(np.abs(a - b).sum())


def _distribution(name: str, value: np.ndarray) -> np.ndarray:
    arr = check_finite_array(name, value, ndim=1)
    if arr.size == 0 or np.any(arr < 0) or abs(float(arr.sum()) - 1.0) > 1e-9:
        raise ValueError(f"{name} must be a probability vector (values >= 0 summing to 1), got sum {arr.sum():.6g}")
    return arr


def _check_run(run: object) -> PBitRun:
    if not isinstance(run, PBitRun):
        raise TypeError(f"run must be a PBitRun (what run_pbits returns), got {type(run).__name__}")
    return run


def tv_noise_floor(run: PBitRun) -> float:
    """The TV distance an exact sampler would show with this run's sampling noise:
    (1/2) sum_s sqrt(2 / pi) sigma_s, with sigma_s the standard error of the pooled frequency
    of state s from the spread between independent chains (so autocorrelation is included)."""
    freq = _check_run(run).frequencies()
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
    freq = _check_run(run).frequencies()
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != freq.shape[1:]:
        raise ValueError(f"reference must have shape {freq.shape[1:]} (2^k readout states), got {ref.shape}")
    if run.n_chains < 2:
        raise ValueError("total_variation needs n_chains >= 2 for its error bar")
    result = jackknife(lambda mean: 0.5 * np.abs(mean - ref).sum(), freq, n_blocks=run.n_chains)
    return Estimate(float(result.raw), float(result.stderr))
