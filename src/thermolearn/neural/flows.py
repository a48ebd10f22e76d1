"""Normalising flows for spin glasses (Hartnett and Mohseni 2020): a RealNVP on the continuous
Hubbard-Stratonovich relaxation of an Ising model, trained by forward or reverse KL.

The relaxation. With K = beta J + delta I positive definite (delta shifts the spectrum of beta J
above zero) the Gaussian integral exp(s.K s / 2) ∝ ∫ dx exp(-x.K^-1 x / 2 + s.x) turns the sum
over spins into a density over x in R^n,

    p~(x) = exp(-x.K^-1 x / 2) prod_i 2 cosh(x_i + beta h_i),
    ln Z = ln ∫ p~(x) dx - n delta / 2 - (n / 2) ln 2 pi - (1/2) ln det K,

whose joint with the spins has the conditionals x | s ~ N(K s, K) and independent spins
p(s_i = +1 | x) = sigmoid(2 (x_i + beta h_i)): its marginal over x is exactly exp(-beta E) / Z.
A flow q(x) for p~ therefore gives spins (draw x from q, then s from p(s | x)), an importance
estimate of ln Z, and the overlap distribution P(q) of its spin samples.

The flow: a learnable diagonal affine map of a standard normal, then affine coupling layers
(Dinh et al. 2017) with alternating halves of the coordinates held fixed, each scale and shift
computed by a one-hidden-layer tanh network of the fixed half (scales bounded by tanh). Trained
with Adam on either

* reverse KL, E_q[ln q(x) - ln p~(x)] (the energy alone; reparameterised gradients): mode-seeking,
  it can settle on one of the glass's states;
* forward KL, -E_data[ln q(x)] on x drawn from x | s for spin samples s of the Boltzmann
  distribution (parallel tempering, or exact samples of a small model): mass-covering.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thermolearn.estimators.importance_tails import importance_tail_problem, pareto_k_hat
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.randomness.seeds import check_int_seed, numpy_generator
from thermolearn.validation import check_positive_float, check_positive_int, check_temperature

MAX_SPINS = 512
KL_DIRECTIONS = ("reverse", "forward")


@dataclass(frozen=True)
class HSRelaxation:
    """The Hubbard-Stratonovich density of ``model`` at ``temperature``: K = beta J + delta I,
    its inverse and Cholesky factor, and the constant relating ln ∫ p~ to ln Z."""

    temperature: float
    delta: float
    K: np.ndarray = field(repr=False)
    K_inverse: np.ndarray = field(repr=False)
    cholesky: np.ndarray = field(repr=False)
    beta_fields: np.ndarray = field(repr=False)
    log_z_offset: float

    @property
    def n_spins(self) -> int:
        """Number of spins N (the size of the coupling matrix K)."""
        return int(self.K.shape[0])

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """ln p~(x) (unnormalised), float64, for x (n_samples, n)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        y = x + self.beta_fields
        ay = np.abs(y)
        log2cosh = ay + np.log1p(np.exp(-2.0 * ay))
        return -0.5 * np.einsum("bi,ij,bj->b", x, self.K_inverse, x) + log2cosh.sum(axis=1)

    def spins_given_x(self, x: np.ndarray, seed: Any = 0) -> np.ndarray:
        """Exact draws of s | x (int8): s_i = +1 with probability sigmoid(2 (x_i + beta h_i))."""
        from scipy.special import expit

        rng = numpy_generator(seed)
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return np.where(rng.random(x.shape) < expit(2.0 * (x + self.beta_fields)), 1, -1).astype(np.int8)

    def x_given_spins(self, spins: np.ndarray, seed: Any = 0) -> np.ndarray:
        """Exact draws of x | s ~ N(K s, K) (float64)."""
        rng = numpy_generator(seed)
        s = np.atleast_2d(np.asarray(spins, dtype=np.float64))
        return s @ self.K + rng.standard_normal(s.shape) @ self.cholesky.T


def hs_relaxation(model: Ising, temperature: float, *, margin: float = 0.1) -> HSRelaxation:
    """The relaxation of ``model`` at temperature T (k_B = 1): delta = margin - (the lowest
    eigenvalue of beta J) when that is below ``margin``, else 0, so K = beta J + delta I has its
    spectrum >= ``margin``."""
    check_ising_model(model)
    n = model.n_spins
    if n > MAX_SPINS:
        raise ValueError(f"the relaxation is dense (n x n): at most {MAX_SPINS} spins, got {n}")
    T = check_temperature(temperature)
    margin = check_positive_float("margin", margin)
    J, h = model.to_dense()
    bj = J / T
    lowest = float(np.linalg.eigvalsh(bj)[0]) if n else 0.0
    delta = max(0.0, margin - lowest)
    K = bj + delta * np.eye(n)
    chol = np.linalg.cholesky(K)
    logdet = 2.0 * float(np.log(np.diag(chol)).sum())
    offset = -n * delta / 2.0 - n / 2.0 * math.log(2.0 * math.pi) - 0.5 * logdet
    return HSRelaxation(T, delta, K, np.linalg.inv(K), chol, h / T, offset)


# ----------------------------------------------------------------------------- the flow
def _masks(n: int, layers: int) -> np.ndarray:
    """Alternating halves (even / odd coordinates, then shifted): each coordinate is transformed
    by half of the layers."""
    base = (np.arange(n) % 2).astype(np.float32)
    return np.stack([base if k % 2 == 0 else 1.0 - base for k in range(layers)])


def init_flow(n: int, layers: int, hidden: int, seed: int | np.random.Generator = 0) -> dict[str, np.ndarray]:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return {
        "log_scale": np.zeros(n, dtype=np.float32),
        "shift": np.zeros(n, dtype=np.float32),
        "w1": (rng.normal(size=(layers, hidden, n)) / math.sqrt(n)).astype(np.float32),
        "b1": np.zeros((layers, hidden), dtype=np.float32),
        "ws": np.zeros((layers, n, hidden), dtype=np.float32),
        "bs": np.zeros((layers, n), dtype=np.float32),
        "wt": np.zeros((layers, n, hidden), dtype=np.float32),
        "bt": np.zeros((layers, n), dtype=np.float32),
    }


def _forward(params: dict, masks: Any, z: Any, xp: Any) -> tuple[Any, Any]:
    """x = f(z) and ln |det df/dz| (per sample); ``xp`` is numpy or jax.numpy."""
    x = z * xp.exp(params["log_scale"]) + params["shift"]
    logdet = xp.sum(params["log_scale"]) * xp.ones(z.shape[0])
    for k in range(masks.shape[0]):
        m = masks[k]
        hid = xp.tanh((x * m) @ params["w1"][k].T + params["b1"][k])
        s = xp.tanh(hid @ params["ws"][k].T + params["bs"][k]) * (1.0 - m)
        t = (hid @ params["wt"][k].T + params["bt"][k]) * (1.0 - m)
        x = x * m + (1.0 - m) * (x * xp.exp(s) + t)
        logdet = logdet + xp.sum(s, axis=1)
    return x, logdet


def _inverse(params: dict, masks: Any, x: Any, xp: Any) -> tuple[Any, Any]:
    """z = f^-1(x) and ln |det df^-1/dx| (per sample)."""
    logdet = xp.zeros(x.shape[0])
    for k in reversed(range(masks.shape[0])):
        m = masks[k]
        hid = xp.tanh((x * m) @ params["w1"][k].T + params["b1"][k])
        s = xp.tanh(hid @ params["ws"][k].T + params["bs"][k]) * (1.0 - m)
        t = (hid @ params["wt"][k].T + params["bt"][k]) * (1.0 - m)
        x = x * m + (1.0 - m) * (x - t) * xp.exp(-s)
        logdet = logdet - xp.sum(s, axis=1)
    z = (x - params["shift"]) * xp.exp(-params["log_scale"])
    return z, logdet - xp.sum(params["log_scale"])


def _log_normal(z: Any, xp: Any) -> Any:
    return -0.5 * xp.sum(z * z, axis=1) - 0.5 * z.shape[1] * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class FlowResult:
    """A trained RealNVP q(x) for a relaxation: its parameters, the KL ``direction`` it was
    trained with and the loss of every step. :meth:`sample` gives x with exact ln q(x)."""

    relaxation: HSRelaxation
    direction: str
    params: dict[str, np.ndarray] = field(repr=False)
    layers: int
    history: np.ndarray = field(repr=False)

    def _params64(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.params.items()}

    def sample(self, n_samples: int, seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(x, ln q(x))`` of ``n_samples`` draws of the flow, float64."""
        k = check_positive_int("n_samples", n_samples)
        z = numpy_generator(seed).standard_normal((k, self.relaxation.n_spins))
        masks = _masks(self.relaxation.n_spins, self.layers).astype(np.float64)
        x, logdet = _forward(self._params64(), masks, z, np)
        return x, _log_normal(z, np) - logdet

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """ln q(x), float64."""
        masks = _masks(self.relaxation.n_spins, self.layers).astype(np.float64)
        z, logdet = _inverse(self._params64(), masks, np.atleast_2d(np.asarray(x, dtype=np.float64)), np)
        return _log_normal(z, np) + logdet

    def spins(self, n_samples: int, seed: Any = 0) -> np.ndarray:
        """Spin states (int8) drawn as x ~ q, then s ~ p(s | x)."""
        rng = numpy_generator(seed)
        x, _ = self.sample(n_samples, seed=rng)
        return self.relaxation.spins_given_x(x, seed=rng)

    def log_z(self, n_samples: int = 4096, seed: Any = 0) -> tuple[float, float, float]:
        """``(ln Z, stderr, ESS)`` of the Ising model by importance sampling of p~ with q.

        The error bar is the delta method's sd(w) / (mean(w) sqrt(n)); where the weights' Pareto
        tail k-hat exceeds 0.5 (their variance infinite: common for a reverse-KL flow, whose q
        covers too little of p) it is too small, and a RuntimeWarning says so; see
        :meth:`log_z_pareto_k`."""
        from scipy.special import logsumexp

        log_w = self._log_weights(n_samples, seed)
        w = np.exp(log_w - log_w.max())
        estimate = float(logsumexp(log_w) - math.log(n_samples)) + self.relaxation.log_z_offset
        problem = importance_tail_problem(pareto_k_hat(log_w), n_samples)
        if problem is not None:
            warnings.warn(f"flow ln Z: {problem}", RuntimeWarning, stacklevel=2)
        return estimate, float(w.std(ddof=1) / (w.mean() * math.sqrt(n_samples))), float(w.sum() ** 2 / (w**2).sum())

    def log_z_pareto_k(self, n_samples: int = 4096, seed: Any = 0) -> float:
        """The Pareto tail shape k-hat of the weights behind :meth:`log_z` (same samples for the
        same ``n_samples`` and ``seed``): <= 0.5 the error bar holds, above it is too small,
        above 0.7 the estimate itself is unreliable."""
        return pareto_k_hat(self._log_weights(n_samples, seed))

    def _log_weights(self, n_samples: int, seed: Any) -> np.ndarray:
        x, log_q = self.sample(n_samples, seed=seed)
        return self.relaxation.log_density(x) - log_q


def train_flow(
    relaxation: HSRelaxation,
    *,
    direction: str = "reverse",
    data: np.ndarray | None = None,
    layers: int = 6,
    hidden: int = 32,
    steps: int = 500,
    batch_size: int = 256,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> FlowResult:
    """Train a RealNVP on the relaxation by reverse KL (the density alone) or forward KL
    (``data``: spin samples of the Boltzmann distribution, turned into x by x | s ~ N(K s, K),
    fresh draws of x every step). Adam with a cosine-decayed step; float32."""
    import jax
    import jax.numpy as jnp
    import optax

    if direction not in KL_DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(KL_DIRECTIONS)}, got {direction!r}")
    n = relaxation.n_spins
    layers = check_positive_int("layers", layers, minimum=2)
    hidden = check_positive_int("hidden", hidden)
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch_size", batch_size, minimum=2)
    lr = check_positive_float("learning_rate", learning_rate)
    seed = check_int_seed(seed)
    rng = np.random.default_rng(seed)
    spins: Any = None
    if direction == "forward":
        if data is None:
            raise ValueError("forward KL needs data: spin samples of the Boltzmann distribution (n_samples, n)")
        given = np.asarray(data)
        if given.ndim != 2 or given.shape[1] != n or not np.all(np.abs(given) == 1):
            raise ValueError(f"data must be +-1 spin samples of shape (n_samples, {n})")
        spins = jnp.asarray(given, dtype=jnp.float32)
    masks = jnp.asarray(_masks(n, layers))
    K = jnp.asarray(relaxation.K, dtype=jnp.float32)
    chol = jnp.asarray(relaxation.cholesky, dtype=jnp.float32)
    K_inv = jnp.asarray(relaxation.K_inverse, dtype=jnp.float32)
    bh = jnp.asarray(relaxation.beta_fields, dtype=jnp.float32)
    params = {k: jnp.asarray(v) for k, v in init_flow(n, layers, hidden, rng).items()}
    # start near the Gaussian part of p~: the scale of x is about that of sqrt(diag K)
    params["log_scale"] = jnp.asarray(0.5 * np.log(np.diag(relaxation.K)), dtype=jnp.float32)
    optimizer = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=0.05))

    def log_p(x):
        y = x + bh
        ay = jnp.abs(y)
        return -0.5 * jnp.einsum("bi,ij,bj->b", x, K_inv, x) + jnp.sum(ay + jnp.log1p(jnp.exp(-2.0 * ay)), axis=1)

    def loss(p, key):
        if direction == "reverse":
            z = jax.random.normal(key, (batch, n))
            x, logdet = _forward(p, masks, z, jnp)
            return jnp.mean(_log_normal(z, jnp) - logdet - log_p(x))
        k1, k2 = jax.random.split(key)
        s = spins[jax.random.randint(k1, (batch,), 0, spins.shape[0])]
        x = s @ K + jax.random.normal(k2, (batch, n)) @ chol.T
        z, logdet = _inverse(p, masks, x, jnp)
        return -jnp.mean(_log_normal(z, jnp) + logdet)

    def step(carry, key):
        p, state = carry
        value, grads = jax.value_and_grad(loss)(p, key)
        updates, state = optimizer.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), value

    run = jax.jit(lambda p, keys: jax.lax.scan(step, (p, optimizer.init(p)), keys))
    (params, _), history = run(params, jax.random.split(jax.random.key(seed), steps))
    history = np.asarray(history, dtype=np.float64)
    if not np.all(np.isfinite(history)):
        raise ValueError("the flow's training loss became NaN or infinite; lower the learning rate")
    return FlowResult(relaxation, direction, {k: np.asarray(v) for k, v in params.items()}, layers, history)


def overlap_histogram(spins_a: np.ndarray, spins_b: np.ndarray, bins: int = 21) -> tuple[np.ndarray, np.ndarray]:
    """P(q) of q = s_a . s_b / n over paired samples: ``(bin centres, probabilities)`` on [-1, 1]."""
    a = np.asarray(spins_a, dtype=np.float64)
    b = np.asarray(spins_b, dtype=np.float64)
    q = np.einsum("ki,ki->k", a, b) / a.shape[1]
    counts, edges = np.histogram(q, bins=bins, range=(-1.0, 1.0))
    return 0.5 * (edges[1:] + edges[:-1]), counts / counts.sum()
