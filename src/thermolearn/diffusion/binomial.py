"""Binomial diffusion for binary data (Sohl-Dickstein et al. 2015, Sec. 2.1 and Table App.1).

Each bit is kept with probability 1 - beta_t/2 and flipped with probability beta_t/2 at step t:
q(x_t = 1 | x_{t-1}) = x_{t-1} (1 - beta_t) + beta_t / 2. With gamma_t = prod_{s<=t} (1 - beta_s):

* q(x_t = 1 | x_0) = 1/2 + gamma_t (x_0 - 1/2)                       (t steps at once)
* q(x_{t-1} = 1 | x_t, x_0) = q(x_t | x_{t-1}=1) q(x_{t-1}=1 | x_0) / q(x_t | x_0)   (posterior)

The equilibrium is independent fair coins; with the ``binomial`` schedule (beta_T = 1) x_T is
exactly that. Arrays have length T + 1 with index t; probabilities are of the value 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

from thermolearn.diffusion.schedules import beta_schedule

if TYPE_CHECKING:
    import jax
    from jax.typing import ArrayLike

_EPS = 1e-7


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """Entropy (nats) of a coin with probability ``p`` (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0))
    return h


@dataclass(frozen=True, eq=False)
class BinomialDiffusion:
    """The forward process of a schedule ``betas`` (length T, beta_1 first) on {0, 1}^d."""

    betas_in: np.ndarray

    if TYPE_CHECKING:
        # set in __post_init__ with object.__setattr__ (frozen); declared for the type checker only
        T: int = field(init=False)
        beta: np.ndarray = field(init=False)
        gamma: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        b = np.asarray(self.betas_in, dtype=np.float64)
        if b.ndim != 1 or b.size < 2 or not np.all((b > 0) & (b <= 1)):
            raise ValueError("betas must be a 1D array of at least 2 numbers in (0, 1]")
        beta = np.concatenate([[0.0], b])
        gamma = np.cumprod(1.0 - beta)
        object.__setattr__(self, "T", b.size)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "gamma", gamma)

    @classmethod
    def from_schedule(cls, name: str, steps: int, *, beta_1: float | None = None) -> BinomialDiffusion:
        """The binomial process with the named beta schedule (:func:`beta_schedule`) of ``steps`` steps."""
        return cls(beta_schedule(name, steps, beta_1=beta_1))

    def _at(self, arr, t):
        return jnp.asarray(arr, dtype=jnp.float32)[jnp.asarray(t)][:, None]

    def step_prob(self, x_prev: ArrayLike, t: ArrayLike) -> jax.Array:
        """q(x_t = 1 | x_{t-1})."""
        b = self._at(self.beta, t)
        return x_prev * (1.0 - b) + 0.5 * b

    def marginal_prob(self, x0: ArrayLike, t: ArrayLike) -> jax.Array:
        """q(x_t = 1 | x_0)."""
        return 0.5 + self._at(self.gamma, t) * (x0 - 0.5)

    def posterior_prob(self, x_t: jax.Array, x0: ArrayLike, t: ArrayLike) -> jax.Array:
        """q(x_{t-1} = 1 | x_t, x_0) (equal to x_0 at t = 1)."""
        b = self._at(self.beta, t)
        prior1 = 0.5 + self._at(self.gamma, jnp.asarray(t) - 1) * (x0 - 0.5)
        like1 = jnp.where(x_t > 0.5, 1.0 - 0.5 * b, 0.5 * b)  # q(x_t | x_{t-1} = 1)
        like0 = jnp.where(x_t > 0.5, 0.5 * b, 1.0 - 0.5 * b)  # q(x_t | x_{t-1} = 0)
        num = like1 * prior1
        return num / (num + like0 * (1.0 - prior1))

    # entropies (nats per dimension) ----------------------------------------------------------
    def step_entropy(self) -> np.ndarray:
        """H_q(X_t | X_{t-1}) per bit, t = 1..T."""
        return binary_entropy(0.5 * self.beta[1:])

    def marginal_entropy(self) -> np.ndarray:
        """H_q(X_t | X_0) per bit, t = 0..T (the same for x_0 = 0 and 1)."""
        return binary_entropy(0.5 * (1.0 - self.gamma))

    def reverse_entropy_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The paper's bounds on H_q(X_{t-1} | X_t) per bit for t = 1..T (see GaussianDiffusion)."""
        upper = self.step_entropy()
        h = self.marginal_entropy()
        return upper + h[:-1] - h[1:], upper


def bernoulli_kl(p: ArrayLike, q: ArrayLike) -> jax.Array:
    """KL(B(p) || B(q)) summed over the last axis (nats); probabilities are clipped to [1e-7, 1 - 1e-7]."""
    p = jnp.clip(jnp.asarray(p), 0.0, 1.0)
    qc = jnp.clip(jnp.asarray(q), _EPS, 1.0 - _EPS)
    t1 = jnp.where(p > 0, p * (jnp.log(jnp.maximum(p, _EPS)) - jnp.log(qc)), 0.0)
    t0 = jnp.where(p < 1, (1 - p) * (jnp.log(jnp.maximum(1 - p, _EPS)) - jnp.log1p(-qc)), 0.0)
    return jnp.sum(t1 + t0, axis=-1)


def bernoulli_log_prob(x: ArrayLike, p: ArrayLike) -> jax.Array:
    """log B(x; p) summed over the last axis (nats) for x in {0, 1}."""
    pc = jnp.clip(jnp.asarray(p), _EPS, 1.0 - _EPS)
    return jnp.sum(jnp.where(jnp.asarray(x) > 0.5, jnp.log(pc), jnp.log1p(-pc)), axis=-1)


LOG2 = math.log(2.0)
