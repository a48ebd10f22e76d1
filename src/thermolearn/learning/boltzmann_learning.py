"""Learning a Boltzmann machine: the Ackley-Hinton-Sejnowski rule.

The gradient of the mean log-likelihood (nats per data vector) of p(v) = sum_h exp(-E(v, h)) / Z
with E(x) = -1/2 x^T W x - b^T x is a difference of two sets of moments of x = (v, h):

    dL/dW_ij = <x_i x_j>_data - <x_i x_j>_model,   dL/db_i = <x_i>_data - <x_i>_model,

where the data (positive, clamped) phase fixes v to each data vector and draws h ~ p(h | v),
and the model (negative, free-running) phase draws x ~ p(x). Both phases are sampled by
Gibbs chains (persistent across updates when training), or any sampler of
:mod:`thermolearn.samplers` for the negative phase; for tiny machines (n <= 20 units) both
are summed exactly over every state, which is what the sampled gradient is checked against.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from thermolearn.estimators.autocorrelation import MIN_SAMPLES_PER_TAU, integrated_autocorrelation_time
from thermolearn.models.boltzmann import BoltzmannMachine, chain_generators, check_binary
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.samplers.base import Sampler
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_finite_float, check_positive_int

MAX_EXACT_UNITS = 20
"""Largest machine whose moments and log Z are summed over every state (2^n terms)."""
_CHUNK = 1 << 14  # states per block of the exact sums, so memory stays ~ MBs at n = 20
GRADIENT_METHODS = ("pcd", "exact")


@dataclass(frozen=True)
class BoltzmannGradient:
    """Gradient of the mean log-likelihood (nats per data vector) with respect to W and b.

    ``weights`` is symmetric with a zero diagonal and zero off the connectivity mask. The
    second moments <x_i x_j> of each phase are in ``data_moments`` and ``model_moments``
    (their diagonals are the means <x_i>, as x_i^2 = x_i). Sampled gradients carry standard
    errors; exact ones carry ``log_likelihood`` (mean nats per data vector) instead.
    """

    weights: np.ndarray
    biases: np.ndarray
    data_moments: np.ndarray
    model_moments: np.ndarray
    weights_stderr: np.ndarray | None = None
    biases_stderr: np.ndarray | None = None
    log_likelihood: float | None = None

    @property
    def exact(self) -> bool:
        """Whether the gradient is exact (enumerated), i.e. carries no sampling error bars."""
        return self.weights_stderr is None


@dataclass
class BoltzmannTrainingResult:
    """A trained machine and its history: ``log_likelihood[e]`` is the exact mean
    log-likelihood (nats per data vector) after epoch e (index 0: before training), or empty
    when the machine is too large to sum exactly."""

    machine: BoltzmannMachine
    log_likelihood: list[float] = field(default_factory=list)
    epochs: int = 0
    updates: int = 0


# ---------------------------------------------------------------------- exact sums
def _check_exact(machine: BoltzmannMachine) -> None:
    if not isinstance(machine, BoltzmannMachine):
        raise TypeError(f"machine must be a BoltzmannMachine, got {type(machine).__name__}")
    if machine.n_units > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact sums are limited to n_visible + n_hidden <= {MAX_EXACT_UNITS} units (2^n states); this machine "
            f"has {machine.n_units}. Use sampled_gradient / train(method='pcd') instead."
        )


def all_binary_states(n: int) -> np.ndarray:
    """Every binary state of n units, shape (2^n, n) int8; bit i of the row index is x_i."""
    idx = np.arange(2**n, dtype=np.int64)[:, None]
    return ((idx >> np.arange(n)) & 1).astype(np.int8)


def _state_block(n: int, start: int, stop: int) -> np.ndarray:
    idx = np.arange(start, stop, dtype=np.int64)[:, None]
    return ((idx >> np.arange(n)) & 1).astype(np.float64)


def _model_moments(machine: BoltzmannMachine) -> tuple[float, np.ndarray]:
    """log Z and <x x^T> under p(x) = exp(-E(x))/Z, summed over all 2^n states in blocks."""
    n = machine.n_units
    W, b = machine.weights, machine.biases
    total = 2**n
    log_w = np.empty(total)
    for start in range(0, total, _CHUNK):
        x = _state_block(n, start, min(start + _CHUNK, total))
        log_w[start : start + x.shape[0]] = 0.5 * np.einsum("ki,ki->k", x, x @ W) + x @ b
    log_z = float(logsumexp(log_w))
    second = np.zeros((n, n))
    for start in range(0, total, _CHUNK):
        stop = min(start + _CHUNK, total)
        x = _state_block(n, start, stop)
        p = np.exp(log_w[start:stop] - log_z)
        second += (x * p[:, None]).T @ x
    return log_z, second


def _clamped(machine: BoltzmannMachine, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per data vector: -F(v) = log sum_h exp(-E(v, h)), and the data-phase <x x^T> averaged over
    the data with h ~ p(h | v) summed exactly over all 2^n_hidden hidden states."""
    nv, nh, n = machine.n_visible, machine.n_hidden, machine.n_units
    W, b = machine.weights, machine.biases
    patterns, inverse, counts = np.unique(data, axis=0, return_inverse=True, return_counts=True)
    u = patterns.astype(np.float64)
    weights = counts / counts.sum()
    # -E(v, h) = c(v) + h . a(v) + q(h): the visible part, the field on the hiddens, hidden-hidden part
    c = 0.5 * np.einsum("ki,ki->k", u, u @ W[:nv, :nv]) + u @ b[:nv]
    a = u @ W[:nv, nv:] + b[nv:]
    H = all_binary_states(nh).astype(np.float64)
    q = 0.5 * np.einsum("hi,hi->h", H, H @ W[nv:, nv:])
    neg_free = np.empty(len(u))
    hbar = np.zeros((len(u), nh))
    hh_weight = np.zeros(H.shape[0])
    rows = max(1, _CHUNK * 16 // H.shape[0])
    for start in range(0, len(u), rows):
        sl = slice(start, start + rows)
        logits = c[sl, None] + a[sl] @ H.T + q[None, :]
        lse = logsumexp(logits, axis=1)
        neg_free[sl] = lse
        post = np.exp(logits - lse[:, None])
        hbar[sl] = post @ H
        hh_weight += weights[sl] @ post
    second = np.zeros((n, n))
    second[:nv, :nv] = (u * weights[:, None]).T @ u
    second[:nv, nv:] = (u * weights[:, None]).T @ hbar
    second[nv:, :nv] = second[:nv, nv:].T
    second[nv:, nv:] = (H * hh_weight[:, None]).T @ H
    return neg_free[inverse], second


def _check_data(machine: BoltzmannMachine, data: ArrayLike) -> np.ndarray:
    if not isinstance(machine, BoltzmannMachine):
        raise TypeError(f"machine must be a BoltzmannMachine, got {type(machine).__name__}")
    if machine.n_visible < 1:
        raise ValueError("the machine has no visible units, so there is nothing to fit data to")
    return check_binary(data, machine.n_visible, "data")


def exact_log_partition(machine: BoltzmannMachine) -> float:
    """log Z = log sum_x exp(-E(x)) over all 2^n states (n <= 20 units; nats)."""
    _check_exact(machine)
    return _model_moments(machine)[0]


def exact_free_energy(machine: BoltzmannMachine, visible: np.ndarray) -> np.ndarray:
    """Free energy F(v) = -log sum_h exp(-E(v, h)) of each visible vector (n_samples,), summed
    exactly over the 2^n_hidden hidden states (energy units)."""
    _check_exact(machine)
    v = _check_data(machine, visible)
    return -_clamped(machine, v)[0]


def exact_log_likelihood(machine: BoltzmannMachine, data: np.ndarray) -> float:
    """Mean log p(v) = -F(v) - log Z over the data vectors (nats per vector), exact."""
    _check_exact(machine)
    v = _check_data(machine, data)
    neg_free, _ = _clamped(machine, v)
    return float(np.mean(neg_free) - _model_moments(machine)[0])


def _gradient_from_moments(machine: BoltzmannMachine, data_m: np.ndarray, model_m: np.ndarray) -> tuple:
    diff = data_m - model_m
    gw = np.where(machine.connectivity, 0.5 * (diff + diff.T), 0.0)
    return gw, np.diag(diff).copy()


def exact_gradient(machine: BoltzmannMachine, data: np.ndarray) -> BoltzmannGradient:
    """The exact gradient of the mean log-likelihood (nats per vector): the clamped phase with
    p(h | v) summed over all hidden states, the free phase over all 2^n states."""
    _check_exact(machine)
    v = _check_data(machine, data)
    neg_free, data_m = _clamped(machine, v)
    log_z, model_m = _model_moments(machine)
    gw, gb = _gradient_from_moments(machine, data_m, model_m)
    return BoltzmannGradient(gw, gb, data_m, model_m, log_likelihood=float(np.mean(neg_free) - log_z))


# ---------------------------------------------------------------------- sampled phases
class _NegativeChains:
    """Free-running chains of the machine: its own Gibbs kernel, or any thermolearn Sampler
    run at T = 1 on the machine's Ising form (only the T = 1 slots are read)."""

    def __init__(
        self, machine: BoltzmannMachine, n_chains: int, sampler: Sampler | None, seed: int | np.random.Generator | None
    ) -> None:
        self.sampler = sampler
        rng = numpy_generator(seed)
        if sampler is None:
            self.states = rng.integers(0, 2, size=(n_chains, machine.n_units), dtype=np.int8)
            self.rng = chain_generators(rng, n_chains)
            return
        if not isinstance(sampler, Sampler):
            raise TypeError(f"sampler must be a thermolearn Sampler or None (Gibbs), got {type(sampler).__name__}")
        temps = sampler.chain_temperatures(None if sampler.needs_ladder else 1.0, n_chains)
        self.slots = np.flatnonzero(np.isclose(temps, 1.0))
        if self.slots.size == 0:
            raise ValueError(
                f"sampler {sampler.name!r} has no chain at T = 1; a Boltzmann machine is sampled at T = 1 "
                f"(its temperatures are {np.unique(temps).tolist()})"
            )
        self.betas = 1.0 / temps
        ising = machine.to_ising().ising
        sampler.check_model(ising)
        self.chain_state = ChainState.new(ising, temps.size, rng, "random")
        sampler.reset(ising, self.chain_state)
        self._ising = ising

    def set_machine(self, machine: BoltzmannMachine) -> None:
        if self.sampler is None:
            return
        ising = machine.to_ising().ising
        st = self.chain_state
        # the chains keep their spins; their running energies must follow the new couplings
        st.energy[:] = ising.energy(st.spins)  # in place: the samplers keep the chains' arrays
        self._ising = ising

    def advance(self, machine: BoltzmannMachine, n_sweeps: int) -> np.ndarray:
        """Advance every chain; return the T = 1 states as binary units (n_chains, n_units)."""
        if self.sampler is None:
            if n_sweeps:
                self.states = machine.gibbs(self.states, n_sweeps, seed=self.rng)
            return self.states
        if n_sweeps:
            self.sampler.sweep(self._ising, self.chain_state, self.betas, n_sweeps)
        return ((self.chain_state.spins[self.slots] + 1) // 2).astype(np.int8)


def _outer_products(x: np.ndarray) -> np.ndarray:
    """Per-row outer products x x^T, shape (rows, n, n)."""
    xf = x.astype(np.float64)
    return xf[:, :, None] * xf[:, None, :]


def _phase_statistics(
    advance, n_rows: int, n: int, burn_in: int, sweeps: int, keep_states: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-chain mean of x x^T over ``sweeps`` recorded sweeps after ``burn_in``, and with
    ``keep_states`` the recorded states themselves (sweeps, n_rows, n) for a time-series error."""
    advance(burn_in)
    acc = np.zeros((n_rows, n, n))
    trace = np.empty((sweeps, n_rows, n), dtype=np.int8) if keep_states else None
    for t in range(sweeps):
        x = advance(1)
        acc += _outer_products(x)
        if trace is not None:
            trace[t] = x
    return acc / sweeps, trace


def _chain_variance_of_mean(states: np.ndarray, first: int) -> tuple[np.ndarray, float, bool]:
    """Variance of the time average of x_i x_j along one chain, 2 tau_int sigma^2 / T per entry.

    ``states`` (T, n) is the recorded chain; units below ``first`` are clamped, so only entries
    with a unit >= ``first`` fluctuate (and not those with a clamped unit at 0: x_i x_j = 0).
    x_i x_j is binary with frequency k / T, so sigma^2 = p (1 - p) with Laplace's p = (k + 1) /
    (T + 2): a run that happened to stay constant (a unit that rarely flips) still gets an error,
    not 0. tau_int comes from :func:`~thermolearn.estimators.integrated_autocorrelation_time` and
    is never taken below 1/2 (independent draws), where a short or anti-correlated series would
    give less. Both choices err on the large side. Returns the (n, n) variances, the largest
    tau_int and whether every tau_int was reliable (a window found and T >= 50 tau_int)."""
    T, n = states.shape
    x = states.astype(np.float64)
    var = np.zeros((n, n))
    can_move = np.ones(n, dtype=bool)
    can_move[:first] = x[0, :first] != 0
    worst, reliable = 0.5, T >= MIN_SAMPLES_PER_TAU * 0.5
    for i in range(first, n):
        series = x * x[:, i : i + 1]  # x_i x_j for every j, one column each
        p = (series.sum(axis=0) + 1.0) / (T + 2.0)
        tau = np.full(n, 0.5)
        for j in np.flatnonzero(np.ptp(series, axis=0) > 0):
            act = integrated_autocorrelation_time(series[:, j], warn=False)
            tau[j] = max(act.tau, 0.5)
            reliable = reliable and act.reliable
        worst = max(worst, float(tau.max()))
        var[i, can_move] = (2.0 * tau * p * (1.0 - p) / T)[can_move]
    # entry (j, i) is the same series as (i, j); rows below ``first`` were not visited
    var[:first, first:] = var[first:, :first].T
    return var, worst, reliable


def sampled_gradient(
    machine: BoltzmannMachine,
    data: np.ndarray,
    *,
    positive_chains: int = 1,
    negative_chains: int = 64,
    burn_in: int = 50,
    sweeps: int = 100,
    sampler: Sampler | None = None,
    seed: int | np.random.Generator | None = 0,
) -> BoltzmannGradient:
    """The log-likelihood gradient (nats per vector) estimated by Gibbs sampling, with errors.

    Data phase: ``positive_chains`` chains per data vector with v clamped and h resampled,
    ``burn_in`` sweeps then ``sweeps`` recorded. Model phase: ``negative_chains`` free chains
    (own Gibbs kernel, or ``sampler`` on the Ising form at T = 1), the same sweep counts.
    Standard errors come from the spread of independent chains, so autocorrelation is
    included: the model phase from the chain means; the data phase from the replicas of each
    vector (``positive_chains >= 2``, an error about the exact clamped average on these data)
    or, with one chain per vector, from the spread over data vectors (larger: it also holds
    the data's own sampling spread). With a single data vector and a single chain there is no
    spread to use, so the data phase's error is that chain's own: 2 tau_int var / sweeps per
    entry, tau_int its integrated autocorrelation time (Sokal's window, at least 1/2); a
    RuntimeWarning says when ``sweeps`` is too short to estimate tau_int reliably (fewer than
    50 tau_int), since the error bars are then likely too small: use ``positive_chains >= 2``.
    """
    v = _check_data(machine, data)
    positive_chains = check_positive_int("positive_chains", positive_chains)
    negative_chains = check_positive_int("negative_chains", negative_chains, minimum=2)
    burn_in = check_positive_int("burn_in", burn_in, minimum=0)
    sweeps = check_positive_int("sweeps", sweeps)
    rng = numpy_generator(seed)
    n, nv, m = machine.n_units, machine.n_visible, v.shape[0]

    # data phase: chains grouped by data vector (m, positive_chains)
    pos = np.empty((m * positive_chains, n), dtype=np.int8)
    pos[:, :nv] = np.repeat(v, positive_chains, axis=0)
    pos[:, nv:] = rng.integers(0, 2, size=(pos.shape[0], machine.n_hidden), dtype=np.int8)
    pos_rng = chain_generators(rng, pos.shape[0])

    def advance_pos(k: int) -> np.ndarray:
        nonlocal pos
        if k and machine.n_hidden:
            pos = machine.gibbs(pos, k, clamp_visible=True, seed=pos_rng)
        return pos

    # one chain for one vector: nothing to take a spread over, so keep its series for tau_int
    lone = positive_chains == 1 and m == 1 and machine.n_hidden > 0
    t_pos, trace = _phase_statistics(advance_pos, pos.shape[0], n, burn_in, sweeps, keep_states=lone)
    t_pos = t_pos.reshape(m, positive_chains, n, n)
    data_m = t_pos.mean(axis=(0, 1))
    if positive_chains >= 2:
        var_pos = t_pos.var(axis=1, ddof=1).sum(axis=0) / positive_chains / m**2
    elif m > 1:
        var_pos = t_pos[:, 0].var(axis=0, ddof=1) / m
    elif trace is not None:
        var_pos, tau, reliable = _chain_variance_of_mean(trace[:, 0], nv)
        if not reliable:
            warnings.warn(
                f"sampled_gradient: one clamped chain for the one data vector, so the data phase's error comes "
                f"from that chain's autocorrelation time (tau_int up to {tau:.3g} sweeps), which {sweeps} recorded "
                f"sweeps cannot estimate reliably (need >= {MIN_SAMPLES_PER_TAU:g} tau_int): its error bars are likely "
                "too small; use positive_chains >= 2 or more sweeps",
                RuntimeWarning,
                stacklevel=2,
            )
    else:
        var_pos = np.zeros((n, n))  # no hidden units: the clamped phase is the data themselves, exact

    neg = _NegativeChains(machine, negative_chains, sampler, rng)
    t_neg, _ = _phase_statistics(
        lambda k: neg.advance(machine, k), negative_chains if sampler is None else neg.slots.size, n, burn_in, sweeps
    )
    model_m = t_neg.mean(axis=0)
    var_neg = t_neg.var(axis=0, ddof=1) / t_neg.shape[0]

    gw, gb = _gradient_from_moments(machine, data_m, model_m)
    err = np.sqrt(var_pos + var_neg)
    err_w = np.where(machine.connectivity, err, 0.0)
    return BoltzmannGradient(gw, gb, data_m, model_m, weights_stderr=err_w, biases_stderr=np.diag(err).copy())


# ---------------------------------------------------------------------- training
def train(
    machine: BoltzmannMachine,
    data: np.ndarray,
    *,
    method: str = "pcd",
    epochs: int = 10,
    learning_rate: float = 0.05,
    batch_size: int | None = None,
    sweeps: int = 1,
    n_chains: int = 100,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    sampler: Sampler | None = None,
    track_log_likelihood: bool | None = None,
    progress: bool | None = None,
    seed: int | np.random.Generator | None = 0,
) -> BoltzmannTrainingResult:
    """Fit W and b by gradient ascent on the mean log-likelihood (Ackley-Hinton-Sejnowski).

    ``method='pcd'``: each minibatch update runs ``sweeps`` Gibbs sweeps of persistent data
    chains (each data vector keeps its hidden state, visible units clamped) and of
    ``n_chains`` persistent free chains (own Gibbs kernel, or ``sampler`` on the Ising form at
    T = 1, e.g. parallel tempering). ``method='exact'``: full-batch exact gradients (n <= 20
    units). Updates: velocity = momentum * velocity + learning_rate * (gradient - weight_decay * W),
    W += velocity, couplings off the connectivity mask stay zero. With ``track_log_likelihood``
    (default: when n <= 16 units) the exact mean log-likelihood is recorded every epoch.
    """
    v = _check_data(machine, data)
    if method not in GRADIENT_METHODS:
        raise ValueError(f"method must be one of {', '.join(GRADIENT_METHODS)}, got {method!r}")
    epochs = check_positive_int("epochs", epochs, minimum=0)
    lr = check_finite_float("learning_rate", learning_rate)
    mom = check_finite_float("momentum", momentum)
    wd = check_finite_float("weight_decay", weight_decay)
    if lr <= 0 or not 0 <= mom < 1 or wd < 0:
        raise ValueError(f"need learning_rate > 0, 0 <= momentum < 1 and weight_decay >= 0; got {lr}, {mom}, {wd}")
    m = v.shape[0]
    batch = m if batch_size is None or method == "exact" else check_positive_int("batch_size", batch_size)
    batch = min(batch, m)
    sweeps = check_positive_int("sweeps", sweeps)
    n_chains = check_positive_int("n_chains", n_chains)
    if method == "exact":
        _check_exact(machine)
    track = machine.n_units <= 16 if track_log_likelihood is None else bool(track_log_likelihood)
    if track:
        _check_exact(machine)
    rng = numpy_generator(seed)

    n, nv = machine.n_units, machine.n_visible
    W, b = np.array(machine.weights), np.array(machine.biases)
    vel_w, vel_b = np.zeros_like(W), np.zeros_like(b)
    history = [exact_log_likelihood(machine, v)] if track else []
    if method == "pcd":
        pos = np.empty((m, n), dtype=np.int8)
        pos[:, :nv] = v
        pos[:, nv:] = rng.integers(0, 2, size=(m, machine.n_hidden), dtype=np.int8)
        pos_rng = chain_generators(rng, m)
        neg = _NegativeChains(machine, n_chains, sampler, rng)
    updates = 0
    worthwhile = epochs * m * n * n > 1e8
    current = machine
    for _ in progress_bar(
        iterable=range(epochs), desc="boltzmann", unit="epoch", progress=progress, worthwhile=worthwhile, leave=False
    ):
        order = rng.permutation(m)
        for start in range(0, m, batch):
            if method == "exact":
                grad = exact_gradient(current, v)
                gw, gb = grad.weights, grad.biases
            else:
                rows = order[start : start + batch]
                if machine.n_hidden:
                    # the clamped chains of this minibatch continue from their own last hidden state
                    sub = pos[rows]
                    sub_rng = np.ascontiguousarray(pos_rng[rows])
                    sub = current.gibbs(sub, sweeps, clamp_visible=True, seed=sub_rng)
                    pos[rows], pos_rng[rows] = sub, sub_rng
                data_m = _outer_products(pos[rows]).mean(axis=0)
                model_m = _outer_products(neg.advance(current, sweeps)).mean(axis=0)
                gw, gb = _gradient_from_moments(current, data_m, model_m)
            vel_w = mom * vel_w + lr * (gw - wd * W)
            vel_b = mom * vel_b + lr * gb
            W = np.where(machine.connectivity, W + vel_w, 0.0)
            W = 0.5 * (W + W.T)
            b = b + vel_b
            current = current.with_parameters(W, b)
            if method == "pcd":
                neg.set_machine(current)
            updates += 1
        if track:
            history.append(exact_log_likelihood(current, v))
    return BoltzmannTrainingResult(machine=current, log_likelihood=history, epochs=epochs, updates=updates)


def independent_log_likelihood(data: np.ndarray) -> float:
    """Mean log-likelihood (nats per vector) of the best model with independent units: each
    unit's empirical frequency. A model that learns correlations must do better."""
    v = check_binary(data, np.shape(data)[-1] if np.ndim(data) else 0, "data")
    p = v.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.where((p > 0) & (p < 1), p * np.log(p) + (1 - p) * np.log1p(-p), 0.0)
    return float(ent.sum())
