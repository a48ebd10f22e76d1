"""Training RBMs by moment matching: contrastive divergence (CD-k), persistent CD, and PCD
with parallel-tempering chains.

The log-likelihood gradient of an RBM is a balance of two forces,

    d<log p(v)>_data / d theta = <-dE/d theta>_data - <-dE/d theta>_model,

the data's pull on the sufficient statistics (positive phase, exact given p(h | v)) and the
model's own preference (negative phase, an expectation under exp(-E) / Z that a sampler
estimates). :func:`train_rbm` computes the positive phase once and lets a *negative phase*
object supply the model's samples: :class:`ContrastiveDivergence` (k Gibbs sweeps started at
the data), :class:`PersistentCD` (chains that carry over between updates) or
:class:`TemperedPersistentCD` (persistent chains at a ladder of inverse temperatures with
replica swaps; the beta = 1 replica gives the samples).

Engines: ``engine="jax"`` runs updates inside compiled ``lax.scan`` loops of CHUNK
minibatches (and single compiled updates for an epoch's remainder), so a configuration
compiles two programs whatever the data size; it runs on a GPU where JAX has one.
``engine="sparse"`` (:mod:`thermolearn.learning.sparse_rbm_updates`, Numba, float32) runs CD
and PCD for Bernoulli RBMs on the CPU, where every product has a binary factor and costs in
proportion to its ones (or zeros, where they are rarer); ``"auto"`` (the default) picks it
when JAX computes on the CPU in float32 and the method is CD or PCD. The engines draw
different random numbers: their results agree in distribution, not number for number.
Reproducibility: epoch e shuffles with NumPy's generator seeded by (seed, e) and update i
of it draws its Gibbs noise from ``fold_in(fold_in(key(seed), e), i)`` (JAX) or from
SplitMix64 streams keyed by (seed, e, i, row) (sparse); the checkpoint holds every piece of
state (parameters, momentum, persistent chains), so a run killed after any epoch and
resumed ends with bit-identical parameters. The minibatches
of an epoch are ``n // batch_size`` disjoint slices of the shuffle; the remainder (fewer
than ``batch_size`` rows) sits out that epoch.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from thermolearn.exact.rbm_models import rbm_model_log_partition
from thermolearn.file_contents import FileContents
from thermolearn.learning.sparse_rbm_updates import MAX_UNITS as SPARSE_MAX_UNITS
from thermolearn.learning.sparse_rbm_updates import dense_rows, epoch_key, run_sparse_epoch
from thermolearn.models.rbm import (
    EXACT_MAX_UNITS,
    PARAM_NAMES,
    RBM,
    GaussianBernoulliRBM,
    check_parameter_memory,
    float_dtype,
    gibbs_step,
    model_from_arrays,
    uniforms,
)
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.resources import check_memory
from thermolearn.storage import load_arrays, save_arrays
from thermolearn.validation import check_finite_float, check_positive_float, check_positive_int

NEGATIVE_PHASE_METHODS = ("cd", "pcd", "pt")
ENGINES = ("auto", "jax", "sparse")
CHUNK = 25
"""Updates per compiled scan (the rest of an epoch runs one update per call)."""
LEARNING_RATE_SCHEDULES = ("constant", "linear", "exponential")
EXACT_AUTO_UNITS = 20
"""Exact log-likelihood is tracked per epoch by default when the summed layer has at most this many units."""


# ---------------------------------------------------------------------------- negative phases
class Positive(NamedTuple):
    """The positive phase of one minibatch: data v, p(h | v), a draw h and the visible input given h
    (h and a are None when the negative phase does not start from a hidden draw)."""

    v: jax.Array
    ph: jax.Array
    h: jax.Array | None
    a: jax.Array | None


@dataclass(frozen=True)
class ContrastiveDivergence:
    """CD-k: k block Gibbs sweeps started at the minibatch itself (Hinton 2002); no state."""

    k: int = 1
    name = "cd"
    n_pairs = 0

    def init(self, family, params, key, n_visible: int):
        return ()

    def uniform_shapes(self, batch: int, n_visible: int, n_hidden: int) -> list[tuple]:
        """Shapes of the uniforms one update consumes (drawn together by the caller)."""
        return [(batch, n_visible)] + [(batch, n_hidden), (batch, n_visible)] * (self.k - 1)

    def run(self, family, params, state, positive: Positive, u):
        """Advance the negative chains: ``(state, v_negative, p(h | v_negative) or None, swap
        attempts, swap acceptances)`` (the last two per neighbouring pair of a ladder)."""
        # the first sweep reuses the positive phase's hidden draw (that is CD's chain)
        v = family.sample_visible(params, positive.a, u[0])
        for i in range(1, self.k):
            v = gibbs_step(family, params, v, u[2 * i - 1], u[2 * i])[0]
        return state, v, None, _no_swaps(), _no_swaps()

    def describe(self) -> dict:
        return {"method": "cd", "k": self.k}


@dataclass(frozen=True)
class PersistentCD:
    """PCD-k (Tieleman 2008): ``n_chains`` chains advance k sweeps per update and persist."""

    k: int = 1
    n_chains: int = 100
    name = "pcd"
    n_pairs = 0

    def init(self, family, params, key, n_visible: int):
        # the chains persist as hidden states, so a sweep v ~ p(v|h), h ~ p(h|v) shares p(h|v)
        # with the negative statistics; h = 0 starts v at p(v | h = 0), the data's marginals
        # when b was set from the data
        return jnp.zeros((self.n_chains, params["hidden_bias"].shape[0]), dtype=params["weights"].dtype)

    def uniform_shapes(self, batch: int, n_visible: int, n_hidden: int) -> list[tuple]:
        return [(self.n_chains, n_visible), (self.n_chains, n_hidden)] * self.k

    def last_visible(self, family, params, state, u):
        """The chains' visible draw of the update's last sweep (the k - 1 sweeps before it run here)."""
        h = state
        for i in range(self.k - 1):
            v = family.sample_visible(params, family.visible_input(params, h), u[2 * i])
            h = (u[2 * i + 1] < jax.nn.sigmoid(family.hidden_input(params, v))).astype(v.dtype)
        return family.sample_visible(params, family.visible_input(params, h), u[2 * self.k - 2])

    def close(self, ph, u):
        """The new persistent state: h ~ p(h | v) of the last sweep."""
        return (u[2 * self.k - 1] < ph).astype(ph.dtype)

    def run(self, family, params, state, positive: Positive, u):
        v = self.last_visible(family, params, state, u)
        ph = jax.nn.sigmoid(family.hidden_input(params, v))
        return self.close(ph, u), v, ph, _no_swaps(), _no_swaps()

    def describe(self) -> dict:
        return {"method": "pcd", "k": self.k, "n_chains": self.n_chains}


@dataclass(frozen=True)
class TemperedPersistentCD:
    """PCD with parallel tempering (Desjardins et al. 2010): ``n_chains`` persistent chains at
    each inverse temperature of ``betas`` (betas[0] = 1 first, decreasing); after k Gibbs
    sweeps at its own beta, neighbours try to swap states (even pairs on even updates, odd on
    odd), accepted with min(1, exp(F_i(v_i) + F_j(v_j) - F_i(v_j) - F_j(v_i))) where F_b is the
    free energy of exp(-b E). The beta = 1 replica supplies the negative phase."""

    k: int = 1
    n_chains: int = 100
    betas: tuple[float, ...] = tuple(np.linspace(1.0, 0.0, 10).tolist())
    name = "pt"

    def __post_init__(self) -> None:
        b = tuple(float(x) for x in self.betas)
        if len(b) < 2 or b[0] != 1.0 or any(x <= y for x, y in zip(b, b[1:])) or b[-1] < 0:
            raise ValueError(f"betas must start at 1 and decrease strictly to a value >= 0 (at least 2), got {b}")
        object.__setattr__(self, "betas", b)

    @property
    def n_pairs(self) -> int:
        return len(self.betas) - 1

    def _ladder(self, dtype):
        return jnp.asarray(self.betas, dtype=dtype)[:, None, None]

    def init(self, family, params, key, n_visible: int):
        dt = params["weights"].dtype
        h0 = jnp.zeros((len(self.betas), self.n_chains, params["hidden_bias"].shape[0]), dtype=dt)
        a = family.visible_input(params, h0)
        v = family.sample_visible(params, a, uniforms(key, [a.shape], dt)[0], self._ladder(dt))
        return v, jnp.zeros((), dtype=jnp.int32)

    def uniform_shapes(self, batch: int, n_visible: int, n_hidden: int) -> list[tuple]:
        r, c = len(self.betas), self.n_chains
        return [(r, c, n_hidden), (r, c, n_visible)] * self.k + [(r - 1, c)]

    def run(self, family, params, state, positive: Positive, u):
        v, t = state
        ladder = self._ladder(v.dtype)
        for i in range(self.k):
            v = gibbs_step(family, params, v, u[2 * i], u[2 * i + 1], ladder)[0]
        b = ladder  # (R, 1, 1)
        x = family.hidden_input(params, v)
        f_own = family.free_energy(params, v, x, b)  # (R, C)
        f_up = family.free_energy(params, v[1:], x[1:], b[:-1])  # F_{beta_r}(v_{r+1})
        f_down = family.free_energy(params, v[:-1], x[:-1], b[1:])  # F_{beta_{r+1}}(v_r)
        log_accept = f_own[:-1] + f_own[1:] - f_up - f_down
        active = (jnp.arange(self.n_pairs) % 2 == t % 2)[:, None]
        swap = active & (jnp.log(u[-1]) < log_accept)
        none = jnp.zeros((1, swap.shape[1]), dtype=bool)
        lower = jnp.concatenate([swap, none])[:, :, None]  # replica r takes v_{r+1}
        upper = jnp.concatenate([none, swap])[:, :, None]  # replica r takes v_{r-1}
        v_next = jnp.concatenate([v[1:], v[-1:]])
        v_prev = jnp.concatenate([v[:1], v[:-1]])
        v = jnp.where(lower, v_next, jnp.where(upper, v_prev, v))
        attempts = active[:, 0].astype(jnp.float32) * swap.shape[1]
        return (v, t + 1), v[0], None, attempts, jnp.sum(swap, axis=1).astype(jnp.float32)

    def describe(self) -> dict:
        return {"method": "pt", "k": self.k, "n_chains": self.n_chains, "betas": list(self.betas)}


NegativePhase = ContrastiveDivergence | PersistentCD | TemperedPersistentCD


def _no_swaps():
    return jnp.zeros((0,), dtype=jnp.float32)


def make_negative_phase(
    method: str, *, k: int = 1, n_chains: int = 100, betas=None, family_tempers_to_uniform: bool = True
) -> NegativePhase:
    """The negative phase for ``method`` in {cd, pcd, pt}; ``betas`` default: 10 rungs from 1 down
    to 0 (binary units) or to 0.1 (Gaussian units, whose beta = 0 is improper)."""
    k = check_positive_int("k", k)
    if method == "cd":
        return ContrastiveDivergence(k)
    n_chains = check_positive_int("n_chains", n_chains)
    if method == "pcd":
        return PersistentCD(k, n_chains)
    if method == "pt":
        if betas is None:
            betas = np.linspace(1.0, 0.0 if family_tempers_to_uniform else 0.1, 10)
        betas = tuple(float(check_finite_float("betas", b)) for b in np.atleast_1d(betas))
        if not family_tempers_to_uniform and min(betas) <= 0:
            raise ValueError("betas must all be > 0 for a Gaussian-Bernoulli RBM (beta = 0 is improper)")
        return TemperedPersistentCD(k, n_chains, betas)
    raise ValueError(
        f"method must be one of {', '.join(NEGATIVE_PHASE_METHODS)} or a negative-phase object, got {method!r}"
    )


# ---------------------------------------------------------------------------- learning rates
@dataclass(frozen=True)
class LearningRate:
    """Learning rate per update: constant, or decaying linearly / exponentially from
    ``initial`` to ``final`` over ``total_steps`` updates (held at ``final`` after)."""

    kind: str
    initial: float
    final: float
    total_steps: int

    def __call__(self, step):
        if self.kind == "constant":
            return jnp.asarray(self.initial, dtype=jnp.float32)
        frac = jnp.clip(jnp.asarray(step, dtype=jnp.float32) / max(self.total_steps, 1), 0.0, 1.0)
        if self.kind == "linear":
            return self.initial + (self.final - self.initial) * frac
        return self.initial * (self.final / self.initial) ** frac

    def describe(self) -> dict:
        if self.kind == "constant":
            return {"kind": "constant", "initial": self.initial}
        return {"kind": self.kind, "initial": self.initial, "final": self.final, "total_steps": self.total_steps}


@dataclass(frozen=True)
class _CallableRate:
    fn: Callable

    def __call__(self, step):
        return jnp.asarray(self.fn(step), dtype=jnp.float32)

    def describe(self) -> dict:
        return {"kind": "callable", "name": getattr(self.fn, "__qualname__", type(self.fn).__name__)}


MAX_PARAMETER = 1e4
"""Training stops as diverged when a weight or bias grows beyond this size. Units are binary (or
real in units of sigma), so a unit's input is a sum of parameters; beyond about +-17 the float32
sigmoid is exactly 0 or 1, and with parameters of 1e4 every conditional is deterministic, the
gradient carries no information and the log-likelihood is meaningless, even though nothing has
overflowed yet (a learning rate of 1e6 gets there in one epoch)."""


# ---------------------------------------------------------------------------- results
@dataclass
class TrainingHistory:
    """Per-epoch record: reconstruction error (mean squared error per unit, E[v | h ~ p(h|v)]
    against v, averaged over the epoch's minibatches), exact log-likelihood in nats per image
    (NaN where not computed), training seconds, evaluation seconds, the learning rate at the
    epoch's last update, and the swap acceptance of each neighbouring pair (PT only)."""

    reconstruction_error: np.ndarray
    log_likelihood: np.ndarray
    seconds: np.ndarray
    eval_seconds: np.ndarray
    learning_rate: np.ndarray
    swap_acceptance: np.ndarray

    @classmethod
    def empty(cls, epochs: int, n_pairs: int) -> TrainingHistory:
        """A history of ``epochs`` rows, every entry NaN until its epoch is done."""
        check_memory(f"the history of {epochs} epochs", 8.0 * epochs * (6 + n_pairs), hint="choose fewer epochs")
        nan = np.full(epochs, np.nan)
        return cls(nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy(), np.full((epochs, n_pairs), np.nan))

    NAMES = ("reconstruction_error", "log_likelihood", "seconds", "eval_seconds", "learning_rate", "swap_acceptance")

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.NAMES}

    def as_dict(self) -> dict:
        """JSON-ready lists (NaN as None)."""

        def clean(a):
            return [clean(x) for x in a] if isinstance(a, list) else (None if not np.isfinite(a) else float(a))

        return {name: clean(np.asarray(arr).tolist()) for name, arr in self.arrays().items()}

    def resized(self, epochs: int) -> TrainingHistory:
        out = TrainingHistory.empty(epochs, self.swap_acceptance.shape[1])
        n = min(epochs, len(self.seconds))
        for name in self.NAMES:
            getattr(out, name)[:n] = getattr(self, name)[:n]
        return out


@dataclass
class TrainingState:
    """Everything besides the parameters that the next update needs: momentum, chains, counters."""

    velocity: dict
    chains: Any
    epoch: int
    step: int


@dataclass
class TrainingResult:
    """What :func:`train_rbm` returns."""

    model: RBM | GaussianBernoulliRBM
    history: TrainingHistory
    epochs_done: int
    resumed_from: int
    seconds: float
    state: TrainingState = field(repr=False)
    engine: str = "jax"
    """The engine that ran the updates ("jax" or "sparse")."""

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training seconds of the epochs this call ran (compilation included in the first)."""
        ran = self.history.seconds[self.resumed_from : self.epochs_done]
        return float(np.mean(ran)) if ran.size else float("nan")


# ---------------------------------------------------------------------------- the compiled epoch
@dataclass(frozen=True)
class _Spec:
    family: Any
    phase: Any
    batch_size: int
    n_batches: int
    momentum: float
    weight_decay: float
    rate: Any
    reconstruction: bool
    l1_penalty: float = 0.0


def _moment_difference(family, params, v_pos, ph_pos, v_neg, ph_neg) -> dict:
    """<-dE/dtheta>_data - <-dE/dtheta>_model; the weight term as one matrix product over the
    stacked phases, [x_pos; x_neg]^T [ph_pos / n_pos; -ph_neg / n_neg] (a larger product runs
    nearer the CPU's peak than two small ones)."""
    n_pos, n_neg = v_pos.shape[0], v_neg.shape[0]
    x = jnp.concatenate([family.weight_input(params, v_pos), family.weight_input(params, v_neg)])
    y = jnp.concatenate([ph_pos / n_pos, -ph_neg / n_neg])
    grad = {"weights": x.T @ y, "hidden_bias": jnp.mean(ph_pos, axis=0) - jnp.mean(ph_neg, axis=0)}
    grad["visible_bias"] = family.statistics_visible(params, v_pos) - family.statistics_visible(params, v_neg)
    return grad


def _update(spec: _Spec, params, velocity, chains, v0, key, step):
    family = spec.family
    n_visible, n_hidden = params["weights"].shape
    # only CD starts its chain from a hidden draw of the data (and the reconstruction error uses one)
    sample_positive = spec.reconstruction or isinstance(spec.phase, ContrastiveDivergence)
    shapes = spec.phase.uniform_shapes(spec.batch_size, n_visible, n_hidden)
    u = uniforms(key, ([(spec.batch_size, n_hidden)] if sample_positive else []) + shapes, v0.dtype)
    if isinstance(spec.phase, PersistentCD) and not sample_positive:
        # the chains' last visible draw does not depend on this minibatch, so p(h | v) of the
        # data and of the chains come from one stacked product
        v_neg = spec.phase.last_visible(family, params, chains, u)
        ph_all = jax.nn.sigmoid(family.hidden_input(params, jnp.concatenate([v0, v_neg])))
        ph, ph_neg = ph_all[: v0.shape[0]], ph_all[v0.shape[0] :]
        chains, attempts, accepts = spec.phase.close(ph_neg, u), _no_swaps(), _no_swaps()
        err = jnp.float32(jnp.nan)
    else:
        ph = jax.nn.sigmoid(family.hidden_input(params, v0))
        h = a = None
        if sample_positive:
            h = (u[0] < ph).astype(v0.dtype)
            a = family.visible_input(params, h)
            u = u[1:]
        err = jnp.mean((v0 - family.visible_mean(params, a)) ** 2) if spec.reconstruction else jnp.float32(jnp.nan)
        chains, v_neg, ph_neg, attempts, accepts = spec.phase.run(family, params, chains, Positive(v0, ph, h, a), u)
        if ph_neg is None:
            ph_neg = jax.nn.sigmoid(family.hidden_input(params, v_neg))
    difference = _moment_difference(family, params, v0, ph, v_neg, ph_neg)
    lr = spec.rate(step)
    new_params, new_velocity = dict(params), {}
    for name in PARAM_NAMES:
        grad = difference[name]
        if name == "weights" and spec.weight_decay:
            grad = grad - spec.weight_decay * params[name]
        if name == "weights" and spec.l1_penalty:
            # the subgradient of l1 |W|_1 (Mehta and Schwab 2014 train with it for sparse, local weights)
            grad = grad - spec.l1_penalty * jnp.sign(params[name])
        vel = spec.momentum * velocity[name] + lr.astype(grad.dtype) * grad
        new_velocity[name] = vel
        new_params[name] = params[name] + vel
    return new_params, new_velocity, chains, err, attempts, accepts, lr


@partial(jax.jit, static_argnums=0)
def _run_steps(spec: _Spec, params, velocity, chains, sums, batches, epoch_key, first_index, first_step):
    """len(batches) updates in one compiled scan; update i of an epoch draws its noise from
    fold_in(epoch_key, i), so how an epoch is cut into calls does not change any number."""
    dt = params["weights"].dtype

    def body(carry, inp):
        p, vel, ch, (err_sum, att_sum, acc_sum) = carry
        batch, i = inp
        key = jax.random.fold_in(epoch_key, i)
        p, vel, ch, err, att, acc, lr = _update(spec, p, vel, ch, batch.astype(dt), key, first_step + i - first_index)
        return (p, vel, ch, (err_sum + err, att_sum + att, acc_sum + acc)), lr

    idx = first_index + jnp.arange(batches.shape[0])
    (params, velocity, chains, sums), lrs = jax.lax.scan(body, (params, velocity, chains, sums), (batches, idx))
    return params, velocity, chains, sums, lrs[-1]


def _run_epoch(spec: _Spec, params, velocity, chains, data: np.ndarray, order: np.ndarray, epoch_key, first_step: int):
    """One epoch: CHUNK-update compiled scans, then single updates for the rest (two programs
    per configuration, whatever the data size)."""
    nb, bs = spec.n_batches, spec.batch_size
    dt = params["weights"].dtype
    sums = (
        jnp.zeros((), dtype=dt),
        jnp.zeros((spec.phase.n_pairs,), jnp.float32),
        jnp.zeros((spec.phase.n_pairs,), jnp.float32),
    )
    i, lr = 0, None
    while i < nb:
        n = CHUNK if nb - i >= CHUNK else 1
        batches = data[order[i * bs : (i + n) * bs]].reshape(n, bs, -1)
        params, velocity, chains, sums, lr = _run_steps(
            spec, params, velocity, chains, sums, batches, epoch_key, jnp.int32(i), jnp.int32(first_step + i)
        )
        i += n
    err_sum, att, acc = sums
    return params, velocity, chains, err_sum / nb, att, acc, lr


def _resolve_engine(engine: str, model, phase, batch_size: int, l1_penalty: float = 0.0) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    why = None
    if l1_penalty:
        why = "an L1 penalty"
    elif not isinstance(model, RBM):
        why = "a Gaussian-Bernoulli RBM"
    elif not isinstance(phase, (ContrastiveDivergence, PersistentCD)):
        why = f"method {phase.name!r}"
    elif max(model.n_visible, model.n_hidden, batch_size, getattr(phase, "n_chains", 0)) >= SPARSE_MAX_UNITS:
        why = f"layers or batches of {SPARSE_MAX_UNITS} or more"
    if engine == "sparse" and why is not None:
        raise ValueError(f"engine 'sparse' trains Bernoulli RBMs by CD or PCD; {why} needs engine='jax'")
    if engine == "auto":
        cpu32 = jax.default_backend() == "cpu" and float_dtype() == np.float32
        return "sparse" if why is None and cpu32 else "jax"
    return engine


def _run_sparse_epoch(
    spec: _Spec, params, velocity, chains, data: np.ndarray, dense: np.ndarray, order: np.ndarray, key, first_step: int
):
    """One epoch of the sparse engine, in place on NumPy arrays: (mean reconstruction error, last rate)."""
    nb, bs = spec.n_batches, spec.batch_size
    rates = _rates(spec.rate, first_step, nb)
    persistent = isinstance(spec.phase, PersistentCD)
    err = run_sparse_epoch(
        params,
        velocity,
        chains,
        data,
        order[: nb * bs],
        bs,
        rates,
        spec.momentum,
        spec.weight_decay,
        key,
        persistent=persistent,
        k=spec.phase.k,
        reconstruction=spec.reconstruction,
        dense=dense,
    )
    return err, rates[-1]


def _rates(rate, first_step: int, n: int) -> np.ndarray:
    """The learning rates of updates first_step, ..., first_step + n - 1 (float32)."""
    steps = jnp.arange(first_step, first_step + n)
    try:
        out = jax.vmap(rate)(steps)
    except Exception:  # a schedule JAX cannot trace (plain Python arithmetic) runs step by step
        out = [rate(int(s)) for s in range(first_step, first_step + n)]
    return np.broadcast_to(np.asarray(out, dtype=np.float32), (n,)).copy()


# ---------------------------------------------------------------------------- gradient helper
def moment_gradient(model: RBM | GaussianBernoulliRBM, data, negative_visible) -> dict[str, np.ndarray]:
    """<-dE/dtheta>_data - <-dE/dtheta>_negative with h replaced by p(h | v) on both sides: the
    log-likelihood gradient (nats per image per unit parameter) when ``negative_visible`` are
    exact model samples. Keys: weights, visible_bias, hidden_bias."""
    v = jnp.asarray(model.check_visible(data, "data"), dtype=float_dtype())
    vn = jnp.asarray(model.check_visible(negative_visible, "negative_visible"), dtype=float_dtype())
    out = _moment_gradient(model.family, model.jax_params(), v, vn)
    return {k: np.asarray(val, dtype=np.float64) for k, val in out.items()}


@partial(jax.jit, static_argnums=0)
def _moment_gradient(family, p, v, vn):
    pos = family.statistics(p, v, jax.nn.sigmoid(family.hidden_input(p, v)))
    neg = family.statistics(p, vn, jax.nn.sigmoid(family.hidden_input(p, vn)))
    return {k: pos[k] - neg[k] for k in PARAM_NAMES}


# ---------------------------------------------------------------------------- training
def train_rbm(
    model: RBM | GaussianBernoulliRBM,
    data: ArrayLike,
    *,
    epochs: int,
    method: str | NegativePhase = "cd",
    k: int = 1,
    batch_size: int = 100,
    learning_rate: float | Callable = 0.05,
    schedule: str = "constant",
    final_learning_rate: float | None = None,
    momentum: float = 0.5,
    weight_decay: float = 0.0,
    n_chains: int | None = None,
    betas: Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    exact_log_likelihood: bool | None = None,
    eval_data: ArrayLike | None = None,
    log_partition: Callable[[Any], float] | None = None,
    callback: Callable[[int, dict], None] | None = None,
    data_id: str | None = None,
    state: TrainingState | None = None,
    reconstruction: bool = True,
    engine: str = "auto",
    l1_penalty: float = 0.0,
) -> TrainingResult:
    """Fit ``model`` to the rows of ``data`` by stochastic ascent on the log-likelihood, the
    negative phase (model expectations) coming from ``method``: "cd" (CD-k), "pcd" (persistent
    chains, ``n_chains``, default ``batch_size``), "pt" (persistent chains at inverse
    temperatures ``betas``), or a negative-phase object.

    Update: velocity = momentum * velocity + lr(step) * (grad - weight_decay * W - l1_penalty *
    sign(W) [both on the weights only]); theta += velocity (``l1_penalty`` > 0 needs the JAX engine). ``learning_rate`` is a number (with ``schedule`` constant, linear or
    exponential decay to ``final_learning_rate``, default lr/100, over all updates of
    ``epochs``) or a callable step -> rate (an optax schedule). After each epoch: the exact
    log-likelihood of ``eval_data`` (default ``data``) in nats per image when
    ``exact_log_likelihood`` (default: when the summed layer has <= 20 units), a checkpoint
    (atomic; resumed from when it exists and was written with the same arguments), then
    ``callback(epoch, record)`` (an exception there stops training as a kill would).
    ``log_partition(model) -> log Z`` replaces the exact sum (default :func:`thermolearn.exact.rbm_model_log_partition`).
    ``state`` continues from a previous result's ``state`` (momentum, chains, counters).
    ``reconstruction=False`` skips the reconstruction error (one matrix product per update
    for PCD and PT; the history then holds NaN). ``engine``: "jax" (dense products, any
    device), "sparse" (Bernoulli RBMs by CD or PCD on the CPU in float32, products that skip
    the zeros of binary units; several times faster on sparse data such as MNIST) or "auto"
    (sparse where it applies and JAX computes on the CPU in float32, else jax).
    """
    if not isinstance(model, (RBM, GaussianBernoulliRBM)):
        raise TypeError(f"model must be an RBM or GaussianBernoulliRBM, got {type(model).__name__}")
    epochs, batch_size, momentum, weight_decay = _check_optimiser(epochs, batch_size, momentum, weight_decay)
    seed = check_int_seed(seed)  # checkpointed: training is reproducible from this int
    _check_continuation(checkpoint, state)
    # binary minibatches travel as bytes (4x less to copy); the compiled step casts them
    stored = model.check_visible(data, "data", np.uint8 if isinstance(model, RBM) else float_dtype())
    if len(stored) < batch_size:
        raise ValueError(f"batch_size ({batch_size}) is larger than the number of data rows ({len(stored)})")

    family = model.family
    phase = _negative_phase(method, k, batch_size if n_chains is None else n_chains, betas, family)
    l1_penalty = check_finite_float("l1_penalty", l1_penalty)
    if l1_penalty < 0:
        raise ValueError(f"l1_penalty must be >= 0, got {l1_penalty}")
    engine = _resolve_engine(engine, model, phase, batch_size, l1_penalty)
    # parameters, momentum, gradients and the checkpoint's copies; the minibatch and the chains
    check_parameter_memory(model.n_visible, model.n_hidden, copies=10.0)
    replicas = len(phase.betas) if isinstance(phase, TemperedPersistentCD) else 1
    model.check_chains_memory("training", batch_size + getattr(phase, "n_chains", 0) * replicas)
    n_batches = len(stored) // batch_size
    rate = _make_rate(learning_rate, schedule, final_learning_rate, epochs * n_batches)
    spec = _Spec(family, phase, batch_size, n_batches, momentum, weight_decay, rate, bool(reconstruction), l1_penalty)
    evaluation = _evaluation(model, stored, eval_data, exact_log_likelihood, log_partition)
    args = _run_arguments(model, spec, stored, seed, data_id, engine)

    root = jax.random.key(int(seed))
    carry, start, epoch_offset = _initial_carry(model, spec, root, state, checkpoint, args, epochs)
    dense = None
    if engine == "sparse":  # the kernels update writable float32 NumPy arrays in place
        _to_sparse_arrays(carry, phase)
        dense = dense_rows(stored)
    plan = _Plan(model, spec, engine, stored, dense, seed, root, epochs, epoch_offset, args, checkpoint, evaluation)

    t_total = time.perf_counter()
    current = model
    with progress_bar(total=epochs, initial=start, desc=f"rbm {phase.name}", unit="epoch", progress=progress) as bar:
        for epoch in range(start, epochs):
            current, err = _train_epoch(plan, carry, epoch)
            history = carry.history
            post = {"recon": f"{err:.4f}"} if reconstruction else {}
            if evaluation.exact:
                post["loglik"] = f"{history.log_likelihood[epoch]:.3f}"
            bar.set_postfix(post)
            bar.update(1)
            if callback is not None:
                callback(
                    epoch + 1,
                    {
                        "reconstruction_error": err,
                        "log_likelihood": float(history.log_likelihood[epoch]),
                        "seconds": float(history.seconds[epoch]),
                    },
                )
    if start >= epochs:
        current = _with_params(model, carry.params)
    out_state = TrainingState(carry.velocity, carry.chains, epoch_offset + epochs, carry.step)
    return TrainingResult(current, carry.history, epochs, start, time.perf_counter() - t_total, out_state, engine)


# ---------------------------------------------------------------------------- training steps
def _check_optimiser(epochs, batch_size, momentum, weight_decay) -> tuple[int, int, float, float]:
    """The checked epochs, batch size, momentum in [0, 1) and weight decay >= 0."""
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    momentum = check_finite_float("momentum", momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    weight_decay = check_finite_float("weight_decay", weight_decay)
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    return epochs, batch_size, momentum, weight_decay


def _check_continuation(checkpoint, state) -> None:
    """A run resumes from a file or continues from memory, never both; the file's folder must exist."""
    if checkpoint is not None and state is not None:
        raise ValueError("pass either checkpoint (resume from a file) or state (continue in memory), not both")
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")


def _negative_phase(method, k, n_chains, betas, family) -> NegativePhase:
    """The negative phase named by ``method``, or ``method`` itself when it is one."""
    if isinstance(method, str):
        return make_negative_phase(
            method, k=k, n_chains=n_chains, betas=betas, family_tempers_to_uniform=family.tempers_to_uniform
        )
    if isinstance(method, (ContrastiveDivergence, PersistentCD, TemperedPersistentCD)):
        return method
    raise TypeError(
        f"method must be one of {', '.join(NEGATIVE_PHASE_METHODS)} or a negative-phase object, got {method!r}"
    )


@dataclass(frozen=True)
class _Evaluation:
    """How each epoch is scored: the exact log-likelihood of ``data`` (when ``exact``) with log Z from ``partition``."""

    data: np.ndarray
    exact: bool
    partition: Callable[[Any], float]


def _evaluation(model, stored, eval_data, exact_log_likelihood, log_partition) -> _Evaluation:
    eval_x = stored if eval_data is None else model.check_visible(eval_data, "eval_data", stored.dtype)
    summed = model.n_hidden if isinstance(model, GaussianBernoulliRBM) else min(model.n_visible, model.n_hidden)
    if exact_log_likelihood is None:
        exact_log_likelihood = summed <= EXACT_AUTO_UNITS
    partition = log_partition if log_partition is not None else rbm_model_log_partition
    if exact_log_likelihood and log_partition is None and summed > EXACT_MAX_UNITS:
        raise ValueError(
            f"the exact log-likelihood sums 2^{summed} terms (at most 2^{EXACT_MAX_UNITS}); "
            "pass exact_log_likelihood=False (or a log_partition estimate)"
        )
    return _Evaluation(eval_x, exact_log_likelihood, partition)


def _run_arguments(model, spec: _Spec, stored: np.ndarray, seed, data_id, engine: str) -> dict:
    """Everything that fixes a run's numbers; a checkpoint resumes only under the same record."""
    return {
        "kind": model.kind,
        "n_visible": model.n_visible,
        "n_hidden": model.n_hidden,
        "negative_phase": spec.phase.describe(),
        "batch_size": spec.batch_size,
        "learning_rate": spec.rate.describe(),
        "momentum": spec.momentum,
        "weight_decay": spec.weight_decay,
        # only a penalised run names it, so the checkpoints of unpenalised runs keep their record
        **({"l1_penalty": spec.l1_penalty} if spec.l1_penalty else {}),
        "seed": int(seed),
        "n_data": int(len(stored)),
        "data_hash": _digest(stored),
        "data_id": data_id,
        "init_hash": _digest(*model.arrays().values()),
        "engine": engine,
    }


@dataclass
class _Carry:
    """What changes from epoch to epoch: parameters, momentum, chains, update counter, history."""

    params: dict
    velocity: dict
    chains: Any
    step: int
    history: TrainingHistory


def _initial_carry(model, spec: _Spec, root, state, checkpoint, args, epochs) -> tuple[_Carry, int, int]:
    """The run's starting point, (carry, first epoch, epoch offset): from ``state``, from the
    checkpoint when its file exists, or fresh (zero momentum, new chains)."""
    phase, family = spec.phase, spec.family
    params = model.jax_params()
    history = TrainingHistory.empty(epochs, phase.n_pairs)
    if state is not None:
        velocity, chains, start, step = state.velocity, state.chains, 0, state.step
        epoch_offset = state.epoch
        _check_state(velocity, chains, params, phase, family, root)
    else:
        velocity = {name: jnp.zeros_like(params[name]) for name in PARAM_NAMES}
        chains = phase.init(family, params, jax.random.fold_in(root, 2**31 - 1), model.n_visible)
        start, step, epoch_offset = 0, 0, 0
        if checkpoint is not None and Path(checkpoint).is_file():
            params, velocity, chains, start, history = _resume(
                checkpoint, model, args, epochs, velocity, chains, history
            )
            step = start * spec.n_batches
    return _Carry(params, velocity, chains, step, history), start, epoch_offset


def _to_sparse_arrays(carry: _Carry, phase) -> None:
    """Writable float32 NumPy copies of the parameters, momentum and persistent chains."""
    carry.params = {n: np.array(carry.params[n], dtype=np.float32) for n in PARAM_NAMES}
    carry.velocity = {n: np.array(carry.velocity[n], dtype=np.float32) for n in PARAM_NAMES}
    if isinstance(phase, PersistentCD):
        carry.chains = np.array(carry.chains, dtype=np.float32)


@dataclass(frozen=True)
class _Plan:
    """What stays fixed over a run's epochs."""

    model: Any
    spec: _Spec
    engine: str
    stored: np.ndarray
    dense: Any
    seed: Any
    root: Any
    epochs: int
    epoch_offset: int
    args: dict
    checkpoint: Any
    evaluation: _Evaluation


def _with_params(model, params: dict):
    return model.with_params(**{n: np.asarray(params[n], dtype=np.float64) for n in PARAM_NAMES})


def _train_epoch(plan: _Plan, carry: _Carry, epoch: int):
    """One epoch: shuffle, run its updates, refuse a divergence, record the history, score,
    checkpoint. Returns (the model after it, its mean reconstruction error)."""
    spec = plan.spec
    t0 = time.perf_counter()
    order = np.random.default_rng([int(plan.seed), plan.epoch_offset + epoch]).permutation(len(plan.stored))
    if plan.engine == "sparse":
        err, lr = _run_sparse_epoch(
            spec,
            carry.params,
            carry.velocity,
            carry.chains,
            plan.stored,
            plan.dense,
            order,
            epoch_key(plan.seed, plan.epoch_offset + epoch),
            carry.step,
        )
        att = acc = None
    else:
        key = jax.random.fold_in(plan.root, plan.epoch_offset + epoch)
        carry.params, carry.velocity, carry.chains, err, att, acc, lr = _run_epoch(
            spec, carry.params, carry.velocity, carry.chains, plan.stored, order, key, carry.step
        )
    err = float(err)  # waits for the epoch
    history = carry.history
    history.seconds[epoch] = time.perf_counter() - t0
    carry.step += spec.n_batches
    largest = max(float(jnp.max(jnp.abs(carry.params[n]))) for n in PARAM_NAMES)  # NaN if any is NaN
    if not largest <= MAX_PARAMETER or (spec.reconstruction and not np.isfinite(err)):
        what = "non-finite parameters" if not np.isfinite(largest) else f"a parameter of size {largest:.3g}"
        raise ValueError(
            f"training diverged in epoch {epoch + 1} ({what}; at most {MAX_PARAMETER:g} is allowed); "
            "lower the learning rate"
        )
    history.reconstruction_error[epoch] = err
    history.learning_rate[epoch] = float(lr)
    if spec.phase.n_pairs:
        att, acc = np.asarray(att, dtype=np.float64), np.asarray(acc, dtype=np.float64)
        history.swap_acceptance[epoch] = np.where(att > 0, acc / np.maximum(att, 1), np.nan)
    current = _with_params(plan.model, carry.params)
    t1 = time.perf_counter()
    evaluation = plan.evaluation
    if evaluation.exact:
        history.log_likelihood[epoch] = current.log_likelihood(evaluation.data, float(evaluation.partition(current)))
    history.eval_seconds[epoch] = time.perf_counter() - t1
    if plan.checkpoint is not None:
        _save_checkpoint(
            plan.checkpoint, current, plan.args, epoch + 1, plan.epochs, carry.velocity, carry.chains, history
        )
    return current, err


def _make_rate(learning_rate, schedule: str, final, total_steps: int):
    if callable(learning_rate):
        if schedule != "constant":
            raise ValueError("a callable learning_rate is its own schedule; leave schedule='constant'")
        return _CallableRate(learning_rate)
    lr = check_positive_float("learning_rate", learning_rate)
    if schedule not in LEARNING_RATE_SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(LEARNING_RATE_SCHEDULES)}, got {schedule!r}")
    if schedule == "constant":
        return LearningRate("constant", lr, lr, 0)  # no total: the same program for any data size
    fin = lr / 100.0 if final is None else check_positive_float("final_learning_rate", final)
    return LearningRate(schedule, lr, fin, total_steps)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _check_state(velocity, chains, params, phase, family, root) -> None:
    for name in PARAM_NAMES:
        if name not in velocity or velocity[name].shape != params[name].shape:
            raise ValueError("state does not belong to this model (velocity shapes differ)")
    ref = jax.eval_shape(lambda: phase.init(family, params, root, params["weights"].shape[0]))
    ref_tree: Any = jax.tree.structure(ref)  # jaxlib's PyTreeDef has no stub to say it compares
    same_tree = ref_tree == jax.tree.structure(chains)
    if not same_tree or any(a.shape != b.shape for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(chains))):
        raise ValueError("state's chains do not fit this negative phase (different method or n_chains)")


# ---------------------------------------------------------------------------- checkpoints
def _save_checkpoint(path, model, args, epoch, epochs, velocity, chains, history) -> None:
    arrays = dict(model.arrays())
    for name in PARAM_NAMES:
        arrays[f"train:velocity:{name}"] = np.asarray(velocity[name])
    for i, leaf in enumerate(jax.tree.leaves(chains)):
        arrays[f"train:chains:{i}"] = np.asarray(leaf)
    for name, arr in history.arrays().items():
        arrays[f"train:history:{name}"] = arr
    # exact parameters as computed (the model's float64 copy is exact too; this keeps dtypes)
    header = model.header(checkpoint={"epoch": int(epoch), "epochs": int(epochs), "args": args})
    save_arrays(path, arrays, header)


def _resume(path, model, args, epochs, velocity, chains, history):
    """Parameters, momentum, chains, epochs done and history from the checkpoint at ``path``.

    Everything is checked against this run before use (the compiled updates index it without
    bounds checks): the model's kind and shapes, the arguments, the epoch counters, momentum of
    the parameters' shapes and finite, chains of the negative phase's shapes, dtypes and values,
    history arrays as long as the run the checkpoint was written for. ``FileFormatError`` (a
    ``ValueError``) names the file.
    """
    arrays, header = load_arrays(path)
    contents = FileContents(path, arrays, header)
    saved = model_from_arrays(arrays, header, what=str(path))
    if "checkpoint" not in header:
        raise contents.fail(
            "is an RBM file but not a training checkpoint (no checkpoint record); use another --checkpoint path"
        )
    ck = contents.value("checkpoint", dict)
    if type(saved) is not type(model) or saved.weights.shape != model.weights.shape:
        raise contents.fail(
            f"holds a {saved.kind} RBM with weights {saved.weights.shape}, but the "
            f"model to train is a {model.kind} RBM with weights {model.weights.shape}; "
            "delete it or use the same model"
        )
    old = dict(contents.value("args", dict, within=ck, label="checkpoint entry 'args'"))
    old.setdefault("engine", "jax")  # checkpoints before 0.5 were all written by the JAX engine
    if old != args:
        diff = {k: {"checkpoint": old.get(k), "now": v} for k, v in args.items() if old.get(k) != v}
        raise contents.fail(
            f"was written with different training arguments {diff}; delete it or use the same arguments"
        )
    # the history arrays are as long as the run the checkpoint was written for; a decaying
    # schedule records its total number of updates in args, so a run can be extended (more
    # epochs) only under a constant or callable rate
    planned = contents.value("epochs", int, minimum=1, within=ck, label="checkpoint entry 'epochs'")
    done = contents.value("epoch", int, minimum=0, maximum=planned, within=ck, label="checkpoint entry 'epoch'")
    if done > epochs:
        raise contents.fail(f"is already at epoch {done}, beyond the {epochs} epochs asked for")
    dt = float_dtype()
    params = {name: jnp.asarray(saved.arrays()[name], dtype=dt) for name in saved.arrays()}
    velocity = {
        name: jnp.asarray(contents.array(f"train:velocity:{name}", shape=np.shape(velocity[name]), dtype=dt))
        for name in PARAM_NAMES
    }
    leaves, treedef = jax.tree.flatten(chains)
    chain_names = [f"train:chains:{i}" for i in range(len(leaves))]
    history_names = [f"train:history:{name}" for name in TrainingHistory.NAMES]
    velocity_names = [f"train:velocity:{name}" for name in PARAM_NAMES]
    contents.expect_names(
        velocity_names + chain_names + history_names, [n for n in arrays if not n.startswith("train:")]
    )
    new_leaves = [
        jnp.asarray(_checked_chain(contents, name, leaf, isinstance(model, RBM)))
        for name, leaf in zip(chain_names, leaves)
    ]
    n_pairs = history.swap_acceptance.shape[1]
    hist = TrainingHistory(
        **{
            name: contents.array(
                f"train:history:{name}",
                shape=(planned, n_pairs) if name == "swap_acceptance" else (planned,),
                dtype=np.float64,
                finite=False,  # NaN marks what was not computed (and epochs not yet run)
            )
            for name in TrainingHistory.NAMES
        }
    )
    if not np.all(np.isfinite(hist.seconds[:done]) & (hist.seconds[:done] >= 0)):
        raise contents.fail(f"array 'train:history:seconds' must hold the seconds (>= 0) of the {done} epochs done")
    return params, velocity, jax.tree.unflatten(treedef, new_leaves), done, hist.resized(epochs)


def _checked_chain(contents: FileContents, name: str, like: Any, binary_visible: bool) -> np.ndarray:
    """A persistent-chain leaf of the checkpoint, of ``like``'s shape and dtype and a state it can hold.

    PCD keeps hidden states and PT visible states of a Bernoulli RBM (both 0 or 1), PT also its
    update counter (an integer >= 0); a Gaussian RBM's visible states are any finite numbers.
    """
    like = np.asarray(like)
    if like.dtype.kind in "iu":
        counter = contents.array(name, kinds="iu", shape=like.shape, minimum=0, dtype=like.dtype)
        return counter.reshape(like.shape)  # ascontiguousarray makes a 0-d counter 1-d
    binary = like.ndim == 2 or binary_visible  # PCD leaves are hidden units: binary for any RBM
    return contents.array(name, kinds="f", shape=like.shape, values=(0, 1) if binary else None, dtype=like.dtype)
