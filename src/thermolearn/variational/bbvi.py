"""Black-box (stochastic) variational inference: a lower bound on log Z from the energy alone.

For any distribution q over spin states the evidence lower bound (the Gibbs-Bogoliubov-
Feynman bound) is

    ELBO(q) = E_q[-beta E(s) - log q(s)] <= log Z,   with equality iff q = p = exp(-beta E)/Z,

and its gap is KL(q || p). Black-box VI needs only the energy E(s) of sampled states: the
score-function (REINFORCE) gradient grad ELBO = E_q[(f(s) - b) grad log q(s)], f = -beta E - log q,
with the leave-one-out batch mean as control variate b (unbiased, far lower variance), and Adam
(optax) on a cosine-decayed step. Two families of q, both sampled exactly:

* ``"product"``: independent spins, q(s) = prod_i exp(a_i s_i) / (2 cosh a_i), m_i = tanh(a_i);
  its optimum is the naive mean-field optimum.
* ``"autoregressive"``: q(s) = prod_i q(s_i | s_<i) with logistic conditionals of logit
  l_i = a_i + sum_{j<i} W_ij s_j; it contains the product family (W = 0) and can hold
  correlations and several modes, so it beats mean field on frustrated models.

The whole optimisation is one compiled ``lax.scan`` in JAX (float32, keys from ``seed``); for an
:class:`Ising` target the energy is evaluated inside it, and a Python energy function is called
from it through ``jax.pure_callback``. The final ELBO is re-estimated in float64 on ``n_eval``
fresh samples, with the exact energies, and its standard error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from thermolearn.estimators.importance_tails import importance_tail_problem, pareto_k_hat
from thermolearn.models.ising import Ising
from thermolearn.randomness.seeds import jax_key
from thermolearn.resources import check_memory
from thermolearn.validation import check_positive_float, check_positive_int, check_temperature
from thermolearn.variational._common import clean

#: bytes per (sample, spin) that drawing and scoring samples may hold at once (float32 states,
#: conditionals and the families' per-spin passes), with a margin: the memory check's estimate
_BYTES_PER_SAMPLE_SPIN = 64

FAMILIES = ("product", "autoregressive")
MAX_SPINS = {"product": 4096, "autoregressive": 512}
"""Largest models each family accepts (the autoregressive one has n^2 / 2 weights)."""


# ----------------------------------------------------------------------------- families (JAX)
def _log2cosh_jnp(x):
    ax = jnp.abs(x)
    return ax + jnp.log1p(jnp.exp(-2.0 * ax))


def _logits(family: str, params: dict, s):
    """Logits l (n_samples, n): q(s_i = +1 | ...) = sigmoid(2 l_i)."""
    if family == "product":
        return jnp.broadcast_to(params["a"], s.shape)
    W = jnp.tril(params["W"], k=-1)  # strictly lower: spin i sees only s_j, j < i
    return params["a"] + s @ W.T


def _log_prob(family: str, params: dict, s):
    logits = _logits(family, params, s)
    return jnp.sum(s * logits - _log2cosh_jnp(logits), axis=1)


def _sample(family: str, params: dict, key, n_samples: int):
    n = params["a"].shape[0]
    u = jax.random.uniform(key, (n_samples, n))
    if family == "product":
        return jnp.where(u < jax.nn.sigmoid(2.0 * params["a"]), 1.0, -1.0)
    W = jnp.tril(params["W"], k=-1)

    def body(s, i):
        logit = params["a"][i] + s @ W[i]
        column = jnp.where(u[:, i] < jax.nn.sigmoid(2.0 * logit), 1.0, -1.0)
        return s.at[:, i].set(column), None

    s, _ = jax.lax.scan(body, jnp.zeros((n_samples, n)), jnp.arange(n))
    return s


def _optimizer(learning_rate: float, steps: int):
    schedule = optax.cosine_decay_schedule(learning_rate, max(steps, 1), alpha=0.02)
    return optax.adam(schedule)


@partial(jax.jit, static_argnames=("family", "n_samples"))
def _draw(params, key, *, family: str, n_samples: int):
    s = _sample(family, params, key, n_samples)
    return s, _log_prob(family, params, s)


@partial(jax.jit, static_argnames=("family", "n_samples", "steps", "learning_rate", "callback"))
def _train(
    params,
    key,
    beta,
    edge_i,
    edge_j,
    weights,
    fields,
    *,
    family: str,
    n_samples: int,
    steps: int,
    learning_rate: float,
    callback,
):
    """All optimisation steps in one compiled scan. The energy is the Ising energy of the
    given edges and fields, or (``callback`` not None) a host call to a Python energy function."""
    opt = _optimizer(learning_rate, steps)

    def energy(s):
        if callback is None:
            return -(s[:, edge_i] * s[:, edge_j]) @ weights - s @ fields
        return jax.pure_callback(callback, jax.ShapeDtypeStruct((n_samples,), jnp.float32), s)

    def step(carry, k):
        p, state = carry
        s = _sample(family, p, k, n_samples)
        f = jax.lax.stop_gradient(-beta * energy(s) - _log_prob(family, p, s))
        baseline = (jnp.sum(f) - f) / (n_samples - 1)  # leave-one-out control variate: unbiased
        advantage = f - baseline

        def surrogate(q):
            return -jnp.mean(advantage * _log_prob(family, q, s))

        grads = jax.grad(surrogate)(p)
        updates, state = opt.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), jnp.mean(f)

    (params, _), history = jax.lax.scan(step, (params, opt.init(params)), jax.random.split(key, steps))
    return params, history


FAST_COMPILE_WORK = 5e7
"""Below this many (steps x samples x spins x conditionals) the loop is compiled with XLA's
cheap optimisation level: small fits then spend well under half the time compiling."""
_COMPILED: dict = {}


def _compiled_train(args: tuple, *, family: str, n_samples: int, steps: int, learning_rate: float, callback):
    """The compiled training loop for these shapes and settings (cached)."""
    n = args[0]["a"].shape[0]
    shapes = tuple((tuple(a.shape), str(a.dtype)) for a in jax.tree_util.tree_leaves(args))
    work = steps * n_samples * n * (n if family == "autoregressive" else 1)
    fast = work < FAST_COMPILE_WORK
    key = (family, n_samples, steps, learning_rate, callback, shapes, fast)
    if key not in _COMPILED:
        if len(_COMPILED) > 32:
            _COMPILED.clear()
        lowered = _train.lower(
            *args, family=family, n_samples=n_samples, steps=steps, learning_rate=learning_rate, callback=callback
        )
        options: dict[str, Any] = (
            {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True} if fast else {}
        )
        try:
            _COMPILED[key] = lowered.compile(compiler_options=options)
        except Exception:  # pragma: no cover - an XLA build without these options: compile as usual
            _COMPILED[key] = lowered.compile()
    return _COMPILED[key]


def _log_prob_numpy(family: str, params: dict, s: np.ndarray) -> np.ndarray:
    """log q(s) in float64 (for the final estimate)."""
    a = np.asarray(params["a"], dtype=np.float64)
    if family == "product":
        logits = np.broadcast_to(a, s.shape)
    else:
        logits = a + s @ np.tril(np.asarray(params["W"], dtype=np.float64), k=-1).T
    al = np.abs(logits)
    return np.sum(s * logits - (al + np.log1p(np.exp(-2.0 * al))), axis=1)


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class BBVIResult:
    """A fitted variational distribution q and its Monte Carlo lower bound on log Z.

    ``elbo`` +- ``elbo_stderr``: E_q[-beta E - log q] on ``n_eval`` fresh samples (a stochastic
    lower bound: its expectation is <= log Z). ``log_z_importance`` +- its stderr: the
    importance-sampling estimate log mean exp(-beta E - log q) (tighter; consistent, biased low
    for finite samples); ``log_z_importance_pareto_k``: the Pareto tail k-hat of its weights
    (above 0.5 its error bar is too small, above 0.7 the estimate is unreliable). ``energy`` +- ``energy_stderr``: E_q[E] (total, energy units);
    ``magnetization_per_spin``: E_q[sum_i s_i] / n. ``history``: the ELBO estimate of every
    training batch. ``converged``: the mean ELBO of the last tenth of the steps is within
    three standard errors of the tenth before (``drift`` and ``drift_stderr``).
    """

    family: str
    temperature: float
    n_spins: int
    elbo: float
    elbo_stderr: float
    log_z_importance: float
    log_z_importance_stderr: float
    energy: float
    energy_stderr: float
    magnetization_per_spin: float
    magnetization_stderr: float
    history: np.ndarray
    params: dict[str, np.ndarray] = field(repr=False)
    steps: int
    converged: bool
    drift: float
    drift_stderr: float
    log_z_importance_pareto_k: float = math.nan
    n_eval: int = 0

    @property
    def log_z_importance_problem(self) -> str | None:
        """What the weights' Pareto tail says about ``log_z_importance`` (None: its error bar holds)."""
        return importance_tail_problem(self.log_z_importance_pareto_k, self.n_eval)

    @property
    def log_z(self) -> float:
        """The lower bound on log Z (the ELBO)."""
        return self.elbo

    @property
    def free_energy_per_spin(self) -> float:
        """-T ELBO / n: an upper bound on the free energy per spin (up to its error bar)."""
        return -self.temperature * self.elbo / self.n_spins

    @property
    def energy_per_spin(self) -> float:
        """Energy per spin <E>_q / N under the fitted q (units of J)."""
        return self.energy / self.n_spins

    @property
    def entropy(self) -> float:
        """Entropy of q (nats), estimated as ELBO + beta E_q[E]."""
        return self.elbo + self.energy / self.temperature

    def sample(self, n_samples: int, seed: int = 0) -> np.ndarray:
        """Exact samples from q, int8 spins of shape (n_samples, n_spins)."""
        k = check_positive_int("n_samples", n_samples)
        params = {key: jnp.asarray(v, dtype=jnp.float32) for key, v in self.params.items()}
        s, _ = _draw(params, jax_key(seed), family=self.family, n_samples=k)
        return np.asarray(s).astype(np.int8)

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict: ELBO, importance-sampled ln Z and per-spin observables with errors."""
        return {
            "family": self.family,
            "temperature": self.temperature,
            "n_spins": self.n_spins,
            "elbo": clean(self.elbo),
            "elbo_stderr": clean(self.elbo_stderr),
            "log_z_importance": clean(self.log_z_importance),
            "log_z_importance_stderr": clean(self.log_z_importance_stderr),
            "log_z_importance_pareto_k": clean(self.log_z_importance_pareto_k),
            "energy_per_spin": clean(self.energy_per_spin),
            "energy_per_spin_stderr": clean(self.energy_stderr / self.n_spins),
            "magnetization_per_spin": clean(self.magnetization_per_spin),
            "magnetization_stderr": clean(self.magnetization_stderr),
            "steps": self.steps,
            "converged": self.converged,
            "drift": clean(self.drift),
            "drift_stderr": clean(self.drift_stderr),
        }


def _energy_function(target: Ising | Callable, n_spins: int | None) -> tuple[Callable[[np.ndarray], Any], int]:
    if isinstance(target, Ising):
        if n_spins is not None and n_spins != target.n_spins:
            raise ValueError(f"n_spins = {n_spins} does not match the model's {target.n_spins} spins")
        return target.energy, target.n_spins
    if not callable(target):
        raise TypeError(f"target must be a thermolearn.Ising or a callable energy(states), got {type(target).__name__}")
    if n_spins is None:
        raise ValueError("give n_spins with a callable energy function")
    return target, check_positive_int("n_spins", n_spins)


@lru_cache(maxsize=16)
def _host_energy(energy: Callable) -> Callable:
    """The host-side energy called from the compiled loop; one wrapper per energy function,
    so repeated fits of the same function reuse the compiled loop."""

    def callback(states):
        return np.asarray(energy(np.asarray(states).astype(np.int8)), dtype=np.float32)

    return callback


def _energies(energy: Callable, states: np.ndarray) -> np.ndarray:
    e = np.asarray(energy(states), dtype=np.float64)
    if e.shape != (states.shape[0],):
        raise ValueError(
            f"the energy function must return one energy per state, shape ({states.shape[0]},), got {e.shape}"
        )
    if not np.all(np.isfinite(e)):
        raise ValueError("the energy function returned NaN or infinity")
    return e


def black_box_vi(
    target: Ising | Callable[[np.ndarray], np.ndarray],
    temperature: float,
    *,
    family: str = "product",
    n_spins: int | None = None,
    steps: int = 1000,
    batch_size: int = 128,
    learning_rate: float = 0.05,
    n_eval: int = 4096,
    seed: Any = 0,
) -> BBVIResult:
    """Fit q from ``family`` to p = exp(-beta E)/Z by maximising the ELBO with score-function gradients.

    ``target`` is an :class:`Ising` model or any energy function mapping int8 spin states
    (n_samples, n_spins) to energies (n_samples,) (give ``n_spins``): nothing but energies of
    sampled states is used. ``steps`` Adam steps of ``batch_size`` exact samples each, with a
    leave-one-out control variate; then the ELBO, an importance-sampling log Z, E_q[E] and
    E_q[m] with standard errors from ``n_eval`` fresh samples. ``seed``: an int or a
    ``jax.random`` key. Temperature T in energy units (k_B = 1).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    energy, n = _energy_function(target, n_spins)
    if n > MAX_SPINS[family]:
        raise ValueError(
            f"black-box VI with the {family} family is limited to {MAX_SPINS[family]} spins (score-function "
            f"gradients get too noisy and the family too large); this model has {n}. Methods that fit: "
            "mean_field, tap, bethe (thermolearn.variational)"
        )
    T = check_temperature(temperature)
    beta = 1.0 / T
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch_size", batch_size, minimum=2)
    lr = check_positive_float("learning_rate", learning_rate)
    n_eval = check_positive_int("n_eval", n_eval, minimum=2)
    # XLA aborts the whole process when an allocation fails (n_eval = 10^9 did): refuse first
    for what, count in (("batch_size", batch), ("n_eval", n_eval)):
        check_memory(
            f"black-box VI with {what} = {count} samples of {n} spins",
            float(count) * n * _BYTES_PER_SAMPLE_SPIN,
            hint=f"choose a smaller {what}",
        )
    key = jax_key(seed)

    key, init_key, train_key = jax.random.split(key, 3)
    params = _initial_params(family, n, init_key)
    graph, callback = _energy_inputs(target, energy, batch, n)
    args = (params, train_key, jnp.float32(beta), *graph)
    train = _compiled_train(args, family=family, n_samples=batch, steps=steps, learning_rate=lr, callback=callback)
    params, history_jax = train(*args)
    history = np.asarray(history_jax, dtype=np.float64)
    if not np.all(np.isfinite(history)):
        raise ValueError(
            "black-box VI produced a non-finite ELBO estimate (an energy was NaN or infinite, "
            "or the learning rate is too large)"
        )

    key, sub = jax.random.split(key)
    return _evaluate(family, T, energy, params, history, steps, sub, n_eval)


def _initial_params(family: str, n: int, key) -> dict[str, jax.Array]:
    """Near-uniform q: small random logits a, and (autoregressive) no conditional couplings W."""
    params = {"a": 0.01 * jax.random.normal(key, (n,), dtype=jnp.float32)}
    if family == "autoregressive":
        params["W"] = jnp.zeros((n, n), dtype=jnp.float32)
    return params


def _energy_inputs(target, energy: Callable, batch: int, n: int) -> tuple[tuple, Callable | None]:
    """What the compiled loop needs to compute energies, ``(graph, host callback)``: an Ising
    model's edges and fields (computed in JAX, no callback), or an empty graph and the user's
    energy function, checked once here and then called from inside the loop."""
    if isinstance(target, Ising):
        ei, ej, w = target.edges()
        graph = (
            jnp.asarray(ei, dtype=jnp.int32),
            jnp.asarray(ej, dtype=jnp.int32),
            jnp.asarray(w, dtype=jnp.float32),
            jnp.asarray(target.fields, dtype=jnp.float32),
        )
        return graph, None
    probe = np.where(np.random.default_rng(0).random((batch, n)) < 0.5, -1, 1).astype(np.int8)
    _energies(energy, probe)
    try:
        callback = _host_energy(energy)
    except TypeError:  # an unhashable callable: no reuse of the compiled loop
        callback = _host_energy.__wrapped__(energy)
    empty = jnp.zeros(0, dtype=jnp.int32)
    return (empty, empty, jnp.zeros(0, dtype=jnp.float32), jnp.zeros(n, dtype=jnp.float32)), callback


def _convergence(history: np.ndarray, steps: int) -> tuple[float, float, bool]:
    """(drift, its stderr, converged): the mean ELBO of the last tenth of the steps minus that of
    the tenth before; converged when within three standard errors."""
    window = max(steps // 10, 1)
    last, before = history[-window:], history[-2 * window : -window] if steps >= 2 * window else history[:0]
    if before.size >= 2 and last.size >= 2:
        drift = float(last.mean() - before.mean())
        drift_se = float(math.sqrt(last.var(ddof=1) / last.size + before.var(ddof=1) / before.size))
        return drift, drift_se, abs(drift) <= 3.0 * drift_se + 1e-12
    return float("nan"), float("nan"), False


def _evaluate(
    family: str, T: float, energy: Callable, params, history: np.ndarray, steps: int, key, n_eval: int
) -> BBVIResult:
    """The fitted q scored on ``n_eval`` fresh exact samples: ELBO, importance-sampling log Z,
    E_q[E] and E_q[m], each with its standard error."""
    from scipy.special import logsumexp

    beta = 1.0 / T
    s, _ = _draw(params, key, family=family, n_samples=n_eval)
    states = np.asarray(s).astype(np.int8)
    final = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    x = states.astype(np.float64)
    e = _energies(energy, states)
    f = -beta * e - _log_prob_numpy(family, final, x)
    root = math.sqrt(n_eval)
    log_w = logsumexp(f) - math.log(n_eval)
    w = np.exp(f - f.max())
    mags = x.mean(axis=1)
    drift, drift_se, converged = _convergence(history, steps)
    history.setflags(write=False)
    return BBVIResult(
        family=family,
        temperature=T,
        n_spins=x.shape[1],
        elbo=float(f.mean()),
        elbo_stderr=float(f.std(ddof=1) / root),
        log_z_importance=float(log_w),
        log_z_importance_stderr=float(w.std(ddof=1) / (w.mean() * root)),
        energy=float(e.mean()),
        energy_stderr=float(e.std(ddof=1) / root),
        magnetization_per_spin=float(mags.mean()),
        magnetization_stderr=float(mags.std(ddof=1) / root),
        history=history,
        params=final,
        steps=steps,
        converged=bool(converged),
        drift=drift,
        drift_stderr=drift_se,
        log_z_importance_pareto_k=pareto_k_hat(f),
        n_eval=n_eval,
    )
