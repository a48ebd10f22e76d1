"""Annealed importance sampling (AIS) for the partition function of a Bernoulli-Bernoulli RBM,
and its reverse (RAISE) for a conservative test log-likelihood.

Target B: E(v, h) = -v^T W h - b.v - c.h, p_B(v) = exp(-F(v)) / Z_B with free energy
F(v) = -b.v - sum_j softplus(c_j + (v W)_j), M hidden units. Base A (Salakhutdinov & Murray
2008): an RBM with W_A = 0, hidden biases 0 and visible biases b_A (base rates of the data),
so p_A(v) = prod_i sigmoid(b_A_i)^v_i (1 - sigmoid(b_A_i))^(1 - v_i). The intermediate
distributions anneal the joint energy of both models' units, E_k(v, h_A, h_B) =
(1 - beta_k) E_A(v, h_A) + beta_k E_B(v, h_B); summing out both hidden layers,

    p*_k(v) = 2^M_A exp((1 - beta_k) b_A.v) exp(beta_k b.v) prod_j (1 + exp(beta_k (c_j + (v W)_j))).

The base's hidden units (W_A = 0, zero biases) give the same factor 2^M_A at every beta_k, so
it cancels from every ratio and this module drops it: f_k(v) = p*_k(v) / 2^M_A. At beta = 1,
f_K is exactly the target's exp(-F(v)), normalised by Z_B. At beta = 0 the target's hidden
units are free (each 1 + e^0 = 2), so f_0(v) = 2^M exp(b_A.v) and its normaliser is

    Z_0 = 2^M prod_i (1 + exp(b_A_i)),   log Z_0 = M log 2 + sum_i softplus(b_A_i)

(reported as ``log_z_base``); forgetting the 2^M is the classic error of M log 2 nats. The
transition at beta_k is one block-Gibbs sweep of the joint model at beta_k:
h ~ sigmoid(beta_k (c + v W)), then v ~ sigmoid((1 - beta_k) b_A + beta_k (b + W h)). Summed
over h this kernel on v is reversible with respect to f_k (p_k(v) T(v'|v) =
sum_h p_k(h) p_k(v|h) p_k(v'|h) is symmetric in v and v'), which is what RAISE needs.

Forward AIS. v_1 ~ p_A; for k = 1..K: log w += log f_k(v_k) - log f_{k-1}(v_k), then
v_{k+1} ~ T_k(v_k). Each weight is unbiased for Z_B / Z_0, so the mean weight is unbiased for
Z_B / Z_0 and log Z_hat = log Z_0 + log(mean w) satisfies E[log Z_hat] <= log Z_B (Jensen) and
P(log Z_hat > log Z_B + t) <= exp(-t) (Markov): a stochastic lower bound on log Z. The
log-likelihood mean(-F(v)) - log Z_hat is therefore optimistic: a stochastic upper bound on
the true average log p(v).

RAISE (Burda, Grosse & Salakhutdinov 2015). The forward chain itself (start at p_A, apply
T_1..T_K) is a generative model q(v) that tends to p_B as the schedule lengthens. For a test
image v, run the chain in reverse from v (v_K = v; for k = K..1: v_{k-1} ~ T_k(v_k), and
S += log f_k(v_{k-1}) - log f_{k-1}(v_{k-1})); by reversibility
q_hat(v) = exp(-F(v) - log Z_0 - S) is an unbiased estimate of q(v), so
E[log q_hat(v)] <= log q(v): a stochastic lower bound on the log-likelihood of the RAISE
model q (several runs per image are averaged inside the log, tightening it). It is a bound on
q's log-likelihood, not on p_B's: E_test[log q(v)] can sit on either side of E_test[log p_B(v)].
With a long schedule q is close to p_B and, when p_B fits the data better than the annealing
reaches, RAISE comes out below the truth, which is how Burda et al. found it in practice. With
a very short schedule q blends in the base rates and can even beat a weak p_B on test images
(we measured +0.15 nats with 50 steps on a briefly trained 20-hidden digits RBM, and -0.07
nats with the ``"fast"`` schedule); so use the long schedules for a conservative number, and
never base rates from the test images (q would then have seen them). Together: AIS
log-likelihood (optimistic) and RAISE (conservative) sandwich the true test log-likelihood.

Error bars. Forward AIS reports log(mean w) with the delta-method standard error
sd(w) / (sqrt(R) mean(w)) (R runs), Salakhutdinov & Murray's interval log(mean w +- 3 se),
the effective sample size (sum w)^2 / sum w^2 and the mean log weight E[log w] (a second,
looser lower bound). The delta method assumes the weights have a finite variance; a small
effective sample size is the warning that the error bar is not to be trusted.

Engine: the R runs are batched in JAX (float32 matrices, jit, lax.scan over the betas in
chunks); each step's log-weight increment is computed as
log1p(sigmoid(beta_lo x) expm1((beta_hi - beta_lo) x)), which keeps full relative precision
when beta steps are 1e-5, and the increments are summed in float64.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from thermolearn.estimators.importance_tails import REMEDY_ANNEALING, importance_tail_problem, pareto_k_hat
from thermolearn.exact.rbm_partition import (
    check_binary_data,
    check_rbm_parameters,
    rbm_free_energy,
    rbm_log_partition,
)
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import jax_key
from thermolearn.resources import check_memory
from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int

SALAKHUTDINOV_MURRAY = "salakhutdinov-murray"
"""The schedule of Salakhutdinov & Murray (2008): beta steps of 1e-3 to 0.5, 1e-4 to 0.9,
1e-5 to 1 (14,500 intermediate distributions)."""
FAST = "fast"
"""Ten times coarser than Salakhutdinov & Murray's: 1e-2 to 0.5, 1e-3 to 0.9, 1e-4 to 1 (1,450)."""
DEFAULT_SCHEDULE = SALAKHUTDINOV_MURRAY
LOG_LIKELIHOOD_METHODS = ("ais", "raise", "exact")

_CHUNK = 500
# Raw increments above this use the plain softplus difference (expm1 would overflow in float32).
_STABLE_LIMIT = 20.0


def piecewise_schedule(breakpoints: ArrayLike = (0.5, 0.9, 1.0), steps: ArrayLike = (1e-3, 1e-4, 1e-5)) -> np.ndarray:
    """Inverse temperatures from 0 to 1: uniform steps ``steps[i]`` up to ``breakpoints[i]``.

    The defaults are Salakhutdinov & Murray's schedule (14,501 betas, 14,500 transitions).
    """
    bp = check_finite_array("breakpoints", breakpoints, ndim=1)
    st = check_finite_array("steps", steps, ndim=1)
    if bp.size == 0 or bp.shape != st.shape:
        raise ValueError(
            f"breakpoints and steps must be non-empty 1D lists of the same length, got {bp.shape} and {st.shape}"
        )
    if bp[-1] != 1.0 or np.any(np.diff(bp) <= 0) or bp[0] <= 0:
        raise ValueError(f"breakpoints must increase strictly within (0, 1] and end at 1, got {bp.tolist()}")
    if np.any(st <= 0):
        raise ValueError(f"steps must all be > 0, got {st.tolist()}")
    pieces = [np.zeros(1)]
    start = 0.0
    for stop, step in zip(bp, st):
        n = max(1, int(round((stop - start) / step)))
        pieces.append(np.linspace(start, stop, n + 1)[1:])
        start = stop
    return np.concatenate(pieces)


def ais_schedule(schedule: int | ArrayLike = DEFAULT_SCHEDULE) -> np.ndarray:
    """The betas 0 = beta_0 < ... < beta_K = 1 for a schedule: a name or an array of betas.

    Names: ``"salakhutdinov-murray"`` (14,500 steps) and ``"fast"`` (1,450 steps). An integer K
    gives K uniform steps.
    """
    if isinstance(schedule, str):
        if schedule == SALAKHUTDINOV_MURRAY:
            return piecewise_schedule()
        if schedule == FAST:
            return piecewise_schedule(steps=(1e-2, 1e-3, 1e-4))
        raise ValueError(
            f"unknown AIS schedule {schedule!r}; allowed: {SALAKHUTDINOV_MURRAY!r}, {FAST!r}, "
            "an integer number of uniform steps, or an array of betas from 0 to 1"
        )
    if isinstance(schedule, (int, np.integer)) and not isinstance(schedule, bool):
        k = check_positive_int("schedule (number of steps)", int(schedule))
        check_memory(f"an AIS schedule of {k} steps", 16.0 * (k + 1), hint="choose fewer steps")
        return np.linspace(0.0, 1.0, k + 1)
    betas = check_finite_array("schedule", schedule, ndim=1)
    if betas.size < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) < 0):
        raise ValueError(
            "schedule must be a non-decreasing array of betas starting at 0 and ending at 1 "
            f"(at least 2 values), got {betas.size} values from {betas[:1]} to {betas[-1:]}"
        )
    return betas


def base_rate_visible_bias(data: ArrayLike, *, pseudocount: float = 1.0) -> np.ndarray:
    """Visible biases of the base-rate model: log-odds of each pixel's smoothed mean in ``data``.

    p_i = (sum_n v_ni + pseudocount) / (N + 2 pseudocount); b_A_i = log(p_i / (1 - p_i)).
    """
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(f"data must have shape (n_images, n_visible), got {arr.shape}")
    v = check_binary_data(arr, arr.shape[1])
    alpha = check_positive_float("pseudocount", pseudocount)
    p = (v.sum(axis=0) + alpha) / (v.shape[0] + 2.0 * alpha)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class AISResult:
    """log Z of an RBM by forward AIS (nats), with its error bar and diagnostics.

    ``log_z`` = log Z_0 + ``log_mean_weight`` is a stochastic lower bound on the true log Z
    (E[log_z] <= log Z). ``log_z_low``/``log_z_high`` are log(mean w -+ 3 se) + log Z_0,
    Salakhutdinov & Murray's interval; ``log_z_base`` is log Z_0 = M log 2 + sum_i softplus(b_A_i).
    """

    log_z: float
    log_z_stderr: float
    log_z_low: float
    log_z_high: float
    log_mean_weight: float
    mean_log_weight: float
    log_z_base: float
    effective_sample_size: float
    n_runs: int
    n_steps: int
    schedule: str
    seconds: float
    log_weights: np.ndarray = field(repr=False)
    #: the Pareto tail k-hat of the weights: above 0.5 ``log_z_stderr`` is too small, above
    #: min(0.7, 1 - 1/log10 n_runs) the estimate itself is unreliable (see :meth:`problem`)
    pareto_k: float = math.nan

    @property
    def problem(self) -> str | None:
        """What the weights' tail says about log Z and its error bar (None: the error bar holds)."""
        return importance_tail_problem(self.pareto_k, self.n_runs, REMEDY_ANNEALING)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the log weights as a list; an undefined or infinite number as null)."""
        clean = _finite_or_none
        return {
            "method": "ais",
            "log_z": {
                "mean": clean(self.log_z),
                "stderr": clean(self.log_z_stderr),
                "low_3sigma": clean(self.log_z_low),
                "high_3sigma": clean(self.log_z_high),
            },
            "log_mean_weight": self.log_mean_weight,
            "mean_log_weight": self.mean_log_weight,
            "log_z_base": self.log_z_base,
            "effective_sample_size": self.effective_sample_size,
            "n_runs": self.n_runs,
            "n_steps": self.n_steps,
            "schedule": self.schedule,
            "seconds": self.seconds,
            "pareto_k": clean(self.pareto_k),
            "warning": self.problem,
            "log_weights": [float(w) for w in self.log_weights],
        }


@dataclass(frozen=True)
class LogLikelihoodEstimate:
    """Average log p(v) of images under an RBM, in nats per image, with its standard error.

    ``bound`` says which side the estimate errs on: ``"exact"``, ``"optimistic"`` (AIS: a
    stochastic upper bound) or ``"conservative"`` (RAISE: a stochastic lower bound on the
    RAISE model's log-likelihood). ``log_z`` is the log Z used (AIS, exact) or implied
    (RAISE: mean(-F(v)) - mean); ``per_image`` holds the per-image values.
    """

    method: str
    mean: float
    stderr: float
    log_z: float
    log_z_stderr: float
    n_images: int
    bound: str
    seconds: float
    per_image: np.ndarray = field(repr=False)
    #: AIS only: the Pareto tail k-hat of the annealing weights behind log Z, and what it means
    #: for log Z's error bar (None: it holds)
    log_z_pareto_k: float = math.nan
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON record ``{"method", "log_z": {mean, stderr}, "log_likelihood": {mean, stderr}, "n_images"}``
        (an undefined or infinite number as null: one RAISE run on one image has no error bar)."""
        clean = _finite_or_none
        return {
            "method": self.method,
            "log_z": {"mean": clean(self.log_z), "stderr": clean(self.log_z_stderr)},
            "log_likelihood": {"mean": clean(self.mean), "stderr": clean(self.stderr)},
            "n_images": self.n_images,
            "bound": self.bound,
            "seconds": self.seconds,
            "log_z_pareto_k": clean(self.log_z_pareto_k),
            "warning": self.warning,
        }


def _log_f_difference(x: jax.Array, v_dot_db: jax.Array, beta_hi: jax.Array, beta_lo: jax.Array) -> jax.Array:
    # log f_hi(v) - log f_lo(v) with x = c + v W: the visible term plus, per hidden unit,
    # softplus(beta_hi x) - softplus(beta_lo x) = log1p(sigmoid(beta_lo x) expm1(d)), d = (beta_hi - beta_lo) x.
    d = (beta_hi - beta_lo) * x
    small = jnp.abs(d) < _STABLE_LIMIT
    stable = jnp.log1p(jax.nn.sigmoid(beta_lo * x) * jnp.expm1(jnp.where(small, d, 0.0)))
    plain = jax.nn.softplus(beta_hi * x) - jax.nn.softplus(beta_lo * x)
    return (beta_hi - beta_lo) * v_dot_db + jnp.sum(jnp.where(small, stable, plain), axis=-1)


def _gibbs(W, b, c, b_base, x, beta, key):
    # One block-Gibbs sweep of the joint model at beta, from v (through x = c + v W) to v'.
    # One uniform draw per step for both layers: each threefry call site costs compile time.
    m = x.shape[-1]
    u = jax.random.uniform(key, (x.shape[0], m + W.shape[0]), dtype=x.dtype)
    h = (u[:, :m] < jax.nn.sigmoid(beta * x)).astype(x.dtype)
    z = (1.0 - beta) * b_base + beta * (b + h @ W.T)
    v = (u[:, m:] < jax.nn.sigmoid(z)).astype(z.dtype)
    return v, v @ W + c


@jax.jit
def _forward_chunk(W, b, c, b_base, v, x, key, beta_hi, beta_lo, step):
    db = b - b_base

    def body(carry, xs):
        v, x = carry
        hi, lo, t = xs
        inc = _log_f_difference(x, v @ db, hi, lo)
        v, x = _gibbs(W, b, c, b_base, x, hi, jax.random.fold_in(key, t))
        return (v, x), inc

    (v, x), incs = jax.lax.scan(body, (v, x), (beta_hi, beta_lo, step))
    return v, x, incs


@jax.jit
def _reverse_chunk(W, b, c, b_base, v, x, key, beta_hi, beta_lo, step):
    db = b - b_base

    def body(carry, xs):
        v, x = carry
        hi, lo, t = xs
        v, x = _gibbs(W, b, c, b_base, x, hi, jax.random.fold_in(key, t))
        return (v, x), _log_f_difference(x, v @ db, hi, lo)

    (v, x), incs = jax.lax.scan(body, (v, x), (beta_hi, beta_lo, step))
    return v, x, incs


def _anneal(
    W, b, c, b_base, v0: np.ndarray, key, betas: np.ndarray, *, reverse: bool, progress: bool, description: str
) -> np.ndarray:
    # Sum of log f_hi - log f_lo over the schedule for each chain (float64), forward or reverse.
    n_steps = betas.size - 1
    if reverse:
        hi, lo = betas[:0:-1], betas[-2::-1]
    else:
        hi, lo = betas[1:], betas[:-1]
    chunk = min(_CHUNK, n_steps)
    n_chunks = -(-n_steps // chunk)
    pad = n_chunks * chunk - n_steps
    # Padding repeats the last beta: its increments are exactly 0 and its sweeps leave that
    # distribution invariant.
    hi = np.concatenate([hi, np.full(pad, hi[-1])]).astype(np.float32)
    lo = np.concatenate([lo, np.full(pad, hi[-1])]).astype(np.float32)
    steps = np.arange(n_chunks * chunk, dtype=np.uint32)
    f32 = np.float32
    W_j, b_j, c_j, base_j = (jnp.asarray(a, dtype=f32) for a in (W, b, c, b_base))
    v = jnp.asarray(v0, dtype=f32)
    x = v @ W_j + c_j
    total = np.zeros(v0.shape[0])
    chunk_fn = _reverse_chunk if reverse else _forward_chunk
    # progress=False must stay silent; True draws a bar only on a terminal
    with progress_bar(total=n_steps, desc=description, unit="beta", progress=bool(progress)) as bar:
        for i in range(n_chunks):
            sl = slice(i * chunk, (i + 1) * chunk)
            v, x, incs = chunk_fn(W_j, b_j, c_j, base_j, v, x, key, hi[sl], lo[sl], steps[sl])
            total += np.asarray(incs, dtype=np.float64).sum(axis=0)
            bar.update(min(chunk, n_steps - i * chunk))
    return total


def _check_chains_memory(what: str, n_chains: int, n_visible: int, n_hidden: int) -> None:
    """Refuse, before any allocation, chains whose annealing cannot fit in memory.

    An annealing chunk holds each chain's float32 visible and hidden inputs, the uniforms of a
    sweep and one increment per step of the chunk; XLA aborts the process (it does not raise)
    when such a buffer cannot be allocated, so the estimate must come first.
    """
    per_chain = 4.0 * (6 * (n_visible + n_hidden) + _CHUNK) + 16.0
    check_memory(f"{what} with {n_chains} chains (runs) of {n_visible} + {n_hidden} units", n_chains * per_chain)


def _schedule_name(schedule: object, betas: np.ndarray) -> str:
    return schedule if isinstance(schedule, str) else f"custom ({betas.size - 1} steps)"


def _base_bias(n_visible: int, data: ArrayLike | None, base_visible_bias: ArrayLike | None) -> np.ndarray:
    if data is not None and base_visible_bias is not None:
        raise ValueError("give either data (for base rates) or base_visible_bias, not both")
    if base_visible_bias is not None:
        bA = check_finite_array("base_visible_bias", base_visible_bias, ndim=1)
        if bA.shape != (n_visible,):
            raise ValueError(f"base_visible_bias must have shape ({n_visible},), got {bA.shape}")
        return bA
    if data is not None:
        return base_rate_visible_bias(check_binary_data(data, n_visible))
    return np.zeros(n_visible)


def ais_log_partition(
    weights: ArrayLike,
    visible_bias: ArrayLike,
    hidden_bias: ArrayLike,
    *,
    data: ArrayLike | None = None,
    base_visible_bias: ArrayLike | None = None,
    schedule: int | ArrayLike = DEFAULT_SCHEDULE,
    n_runs: int = 100,
    seed: Any = 0,
    progress: bool = False,
) -> AISResult:
    """log Z of a Bernoulli-Bernoulli RBM by forward AIS from a base-rate model (nats).

    The base's visible biases come from ``data`` (smoothed base rates), or are given as
    ``base_visible_bias``, or are 0 (uniform) when neither is given. The estimate is a
    stochastic lower bound on log Z: E[log_z] <= log Z.
    """
    W, b, c = check_rbm_parameters(weights, visible_bias, hidden_bias)
    n_runs = check_positive_int("n_runs", n_runs)
    _check_chains_memory("AIS", n_runs, W.shape[0], W.shape[1])
    betas = ais_schedule(schedule)
    bA = _base_bias(W.shape[0], data, base_visible_bias)
    key_init, key_chain = jax.random.split(jax_key(seed))
    start = time.perf_counter()
    p_base = jax.nn.sigmoid(jnp.asarray(bA, dtype=jnp.float32))
    v0 = np.asarray(jax.random.uniform(key_init, (n_runs, W.shape[0])) < p_base, dtype=np.float32)
    log_w = _anneal(W, b, c, bA, v0, key_chain, betas, reverse=False, progress=progress, description="AIS")
    return _summarise_weights(
        log_w, _log_z_base(bA, W.shape[1]), betas.size - 1, _schedule_name(schedule, betas), time.perf_counter() - start
    )


def _log_z_base(base_visible_bias: np.ndarray, n_hidden: int) -> float:
    # log Z_0: the base rates' product distribution times the 2^M states of the free hidden units.
    return float(n_hidden * math.log(2.0) + np.logaddexp(0.0, base_visible_bias).sum())


def _summarise_weights(log_w: np.ndarray, log_z_base: float, n_steps: int, schedule: str, seconds: float) -> AISResult:
    n = log_w.size
    top = float(log_w.max())
    w = np.exp(log_w - top)
    mean = float(w.mean())
    se = float(w.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    log_mean_weight = top + math.log(mean)

    def log_or_inf(x: float) -> float:
        return top + math.log(x) + log_z_base if x > 0 else -math.inf

    return AISResult(
        log_z=log_z_base + log_mean_weight,
        log_z_stderr=se / mean,
        log_z_low=log_or_inf(mean - 3.0 * se),
        log_z_high=log_or_inf(mean + 3.0 * se),
        log_mean_weight=log_mean_weight,
        mean_log_weight=log_z_base + float(log_w.mean()),
        log_z_base=log_z_base,
        effective_sample_size=float(w.sum() ** 2 / np.sum(w * w)),
        n_runs=n,
        n_steps=n_steps,
        schedule=schedule,
        seconds=seconds,
        log_weights=log_w,
        pareto_k=pareto_k_hat(log_w),
    )


def raise_log_likelihood(
    weights: ArrayLike,
    visible_bias: ArrayLike,
    hidden_bias: ArrayLike,
    data: ArrayLike,
    *,
    base_data: ArrayLike | None = None,
    base_visible_bias: ArrayLike | None = None,
    schedule: int | ArrayLike = DEFAULT_SCHEDULE,
    n_runs: int = 1,
    batch_size: int = 100,
    seed: Any = 0,
    progress: bool = False,
) -> LogLikelihoodEstimate:
    """Conservative average log-likelihood of ``data`` by reverse annealing (RAISE), nats per image.

    Each image starts ``n_runs`` reverse chains; the per-image estimate log mean q_hat is a
    stochastic lower bound on log q(v), the RAISE model's log-likelihood. The base rates must
    come from other images (``base_data``, e.g. the training set) or ``base_visible_bias``.
    """
    W, b, c = check_rbm_parameters(weights, visible_bias, hidden_bias)
    v = check_binary_data(data, W.shape[0])
    n_runs = check_positive_int("n_runs", n_runs)
    batch_size = check_positive_int("batch_size", batch_size)
    if base_data is None and base_visible_bias is None:
        raise ValueError(
            "RAISE needs a base model that has not seen the test images: pass base_data "
            "(e.g. the training images) or base_visible_bias"
        )
    # every image's chains are repeated up front (float64 states and sums); a batch anneals at once
    check_memory(f"RAISE with {v.shape[0]} images x {n_runs} runs", 8.0 * v.shape[0] * n_runs * (W.shape[0] + 2))
    _check_chains_memory("RAISE", min(batch_size, v.shape[0] * n_runs), W.shape[0], W.shape[1])
    bA = _base_bias(W.shape[0], base_data, base_visible_bias)
    betas = ais_schedule(schedule)
    key = jax_key(seed)
    start = time.perf_counter()
    chains = np.repeat(v, n_runs, axis=0)
    sums = np.empty(chains.shape[0])
    n_batches = -(-chains.shape[0] // batch_size)
    for i in range(n_batches):
        batch = chains[i * batch_size : (i + 1) * batch_size]
        n_real = batch.shape[0]
        if n_real < batch_size:  # pad so every batch has one shape (one compilation)
            batch = np.concatenate([batch, np.repeat(batch[:1], batch_size - n_real, axis=0)])
        s = _anneal(
            W,
            b,
            c,
            bA,
            batch,
            jax.random.fold_in(key, i),
            betas,
            reverse=True,
            progress=progress,
            description=f"RAISE {i + 1}/{n_batches}",
        )
        sums[i * batch_size : i * batch_size + n_real] = s[:n_real]
    neg_f = -rbm_free_energy(W, b, c, v)
    log_z_base = _log_z_base(bA, W.shape[1])
    per_chain = np.repeat(neg_f, n_runs) - log_z_base - sums
    per_image = logsumexp(per_chain.reshape(-1, n_runs), axis=1) - math.log(n_runs)
    mean, stderr = _mean_and_stderr(per_image)
    implied_log_z = neg_f - per_image
    log_z_stderr = _mean_and_stderr(implied_log_z)[1]
    if v.shape[0] == 1:
        # one image: no spread over images to measure, but the estimate is still random; its
        # error is that of log mean q_hat over the image's runs (delta method), inf with one run
        stderr = log_z_stderr = _log_mean_stderr(per_chain)
    return LogLikelihoodEstimate(
        method="raise",
        mean=mean,
        stderr=stderr,
        log_z=float(implied_log_z.mean()),
        log_z_stderr=log_z_stderr,
        n_images=v.shape[0],
        bound="conservative",
        seconds=time.perf_counter() - start,
        per_image=per_image,
    )


def rbm_log_likelihood(
    weights: ArrayLike,
    visible_bias: ArrayLike,
    hidden_bias: ArrayLike,
    data: ArrayLike,
    *,
    method: str = "ais",
    base_data: ArrayLike | None = None,
    base_visible_bias: ArrayLike | None = None,
    schedule: int | ArrayLike = DEFAULT_SCHEDULE,
    n_runs: int | None = None,
    seed: Any = 0,
    progress: bool = False,
    log_partition: AISResult | None = None,
) -> LogLikelihoodEstimate:
    """Average log p(v) = mean(-F(v)) - log Z of binary images under an RBM, nats per image.

    ``method``: ``"exact"`` (sum over the smaller layer), ``"ais"`` (optimistic: log Z by
    forward AIS, ``n_runs`` = 100 runs unless given, base rates from ``base_data`` or else from
    ``data`` itself, which is fine for forward AIS; an existing ``log_partition`` is reused) or
    ``"raise"`` (conservative: reverse AIS from each image, ``n_runs`` = 1 per image unless
    given, base from ``base_data`` or ``base_visible_bias``). The stderr combines the spread
    over images with log Z's error bar.
    """
    if method not in LOG_LIKELIHOOD_METHODS:
        raise ValueError(f"method must be one of {LOG_LIKELIHOOD_METHODS}, got {method!r}")
    W, b, c = check_rbm_parameters(weights, visible_bias, hidden_bias)
    v = check_binary_data(data, W.shape[0])
    start = time.perf_counter()
    if method == "raise":
        return raise_log_likelihood(
            W,
            b,
            c,
            v,
            base_data=base_data,
            base_visible_bias=base_visible_bias,
            schedule=schedule,
            n_runs=1 if n_runs is None else n_runs,
            seed=seed,
            progress=progress,
        )
    neg_f = -rbm_free_energy(W, b, c, v)
    tail: dict[str, Any] = {}
    if method == "exact":
        log_z, log_z_se, bound = rbm_log_partition(W, b, c), 0.0, "exact"
    else:
        if log_partition is None:
            log_partition = ais_log_partition(
                W,
                b,
                c,
                data=v if base_data is None and base_visible_bias is None else base_data,
                base_visible_bias=base_visible_bias,
                schedule=schedule,
                n_runs=100 if n_runs is None else n_runs,
                seed=seed,
                progress=progress,
            )
        log_z, log_z_se, bound = log_partition.log_z, log_partition.log_z_stderr, "optimistic"
        tail = {"log_z_pareto_k": log_partition.pareto_k, "warning": log_partition.problem}
    per_image = neg_f - log_z
    mean, se_data = _mean_and_stderr(per_image)
    return LogLikelihoodEstimate(
        method=method,
        mean=mean,
        stderr=math.sqrt(se_data**2 + log_z_se**2),
        log_z=float(log_z),
        log_z_stderr=float(log_z_se),
        n_images=v.shape[0],
        bound=bound,
        seconds=time.perf_counter() - start,
        per_image=per_image,
        **tail,
    )


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _log_mean_stderr(log_weights: np.ndarray) -> float:
    """Standard error of log mean(exp(log_weights)) by the delta method: std(w) / (sqrt(n) mean(w));
    inf for a single weight (nothing to measure the spread from)."""
    n = log_weights.size
    if n < 2:
        return math.inf
    w = np.exp(log_weights - np.max(log_weights))
    return float(w.std(ddof=1) / math.sqrt(n) / w.mean())


def _mean_and_stderr(values: np.ndarray) -> tuple[float, float]:
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, 0.0
    return mean, float(np.std(values, ddof=1) / math.sqrt(values.size))


__all__ = [
    "AISResult",
    "DEFAULT_SCHEDULE",
    "FAST",
    "LogLikelihoodEstimate",
    "LOG_LIKELIHOOD_METHODS",
    "SALAKHUTDINOV_MURRAY",
    "ais_log_partition",
    "ais_schedule",
    "base_rate_visible_bias",
    "piecewise_schedule",
    "raise_log_likelihood",
    "rbm_log_likelihood",
]
