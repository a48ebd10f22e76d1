"""Gaussian diffusion: the forward kernels and every closed form the bound needs.

Steps are numbered t = 1..T; arrays below have length T + 1 with index t (index 0 is the
data, alpha_bar_0 = 1). With alpha_t = 1 - beta_t and alpha_bar_t = prod_{s<=t} alpha_s:

* q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)            (forward kernel)
* q(x_t | x_0)     = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)  (t steps at once)
* q(x_{t-1} | x_t, x_0) = N(c0_t x_0 + ct_t x_t, beta_tilde_t I), t >= 2, with
  c0_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t),
  ct_t = sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t),
  beta_tilde_t = (1 - alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t)            (posterior)

Functions take JAX or NumPy arrays with the sample axis first and integer steps ``t`` of
shape ``(n,)``; they return JAX arrays.
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

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True, eq=False)
class GaussianDiffusion:
    """The forward process of a schedule ``betas`` (length T, beta_1 first)."""

    betas_in: np.ndarray

    if TYPE_CHECKING:
        # set in __post_init__ with object.__setattr__ (frozen); declared for the type checker only
        T: int = field(init=False)
        beta: np.ndarray = field(init=False)
        alpha: np.ndarray = field(init=False)
        alpha_bar: np.ndarray = field(init=False)
        one_minus_alpha_bar: np.ndarray = field(init=False)
        posterior_x0_coef: np.ndarray = field(init=False)
        posterior_xt_coef: np.ndarray = field(init=False)
        posterior_variance: np.ndarray = field(init=False)
        log_posterior_variance_clipped: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        b = np.asarray(self.betas_in, dtype=np.float64)
        if b.ndim != 1 or b.size < 2 or not np.all((b > 0) & (b < 1)):
            raise ValueError("betas must be a 1D array of at least 2 numbers in (0, 1)")
        T = b.size
        beta = np.concatenate([[0.0], b])
        alpha = 1.0 - beta
        abar = np.cumprod(alpha)
        one_minus_abar = -np.expm1(np.cumsum(np.log(alpha)))
        abar_prev = np.concatenate([[1.0], abar[:-1]])
        omab_prev = np.concatenate([[0.0], one_minus_abar[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            c0 = np.where(
                np.arange(T + 1) >= 1, np.sqrt(abar_prev) * beta / np.where(one_minus_abar > 0, one_minus_abar, 1), 0
            )
            ct = np.where(
                np.arange(T + 1) >= 1, np.sqrt(alpha) * omab_prev / np.where(one_minus_abar > 0, one_minus_abar, 1), 0
            )
            btilde = np.where(
                np.arange(T + 1) >= 1, omab_prev * beta / np.where(one_minus_abar > 0, one_minus_abar, 1), 0
            )
        c0[0] = ct[0] = btilde[0] = 0.0
        c0[1], ct[1], btilde[1] = 1.0, 0.0, 0.0  # q(x_0 | x_1, x_0) is a point mass at x_0
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "alpha_bar", abar)
        object.__setattr__(self, "one_minus_alpha_bar", one_minus_abar)
        object.__setattr__(self, "posterior_x0_coef", c0)
        object.__setattr__(self, "posterior_xt_coef", ct)
        object.__setattr__(self, "posterior_variance", btilde)
        # beta_tilde_1 = 0; the learned-variance interpolation uses beta_tilde_2 there (Nichol & Dhariwal)
        clipped = btilde.copy()
        clipped[1] = btilde[2]
        clipped[0] = clipped[1]
        object.__setattr__(self, "log_posterior_variance_clipped", np.log(clipped))

    @classmethod
    def from_schedule(cls, name: str, steps: int, *, beta_1: float | None = None) -> GaussianDiffusion:
        """The Gaussian process with the named beta schedule (:func:`beta_schedule`) of ``steps`` steps."""
        return cls(beta_schedule(name, steps, beta_1=beta_1))

    def _at(self, arr: np.ndarray, t) -> jnp.ndarray:
        return jnp.asarray(arr, dtype=jnp.float32)[jnp.asarray(t)][:, None]

    # forward process -----------------------------------------------------------------------
    def step_mean_var(self, x_prev: ArrayLike, t: ArrayLike) -> tuple[jax.Array, jax.Array]:
        """Mean and variance of q(x_t | x_{t-1})."""
        return jnp.sqrt(self._at(self.alpha, t)) * x_prev, self._at(self.beta, t)

    def step_sample(self, x_prev: ArrayLike, t: ArrayLike, noise: ArrayLike) -> jax.Array:
        """A draw x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) noise from q(x_t | x_{t-1}), given standard normal
        ``noise``."""
        mean, var = self.step_mean_var(x_prev, t)
        return mean + jnp.sqrt(var) * noise

    def marginal_mean_var(self, x0: ArrayLike, t: ArrayLike) -> tuple[jax.Array, jax.Array]:
        """Mean and variance of q(x_t | x_0)."""
        return jnp.sqrt(self._at(self.alpha_bar, t)) * x0, self._at(self.one_minus_alpha_bar, t)

    def marginal_sample(self, x0: ArrayLike, t: ArrayLike, noise: ArrayLike) -> jax.Array:
        """A draw x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise from q(x_t | x_0), given standard normal
        ``noise``."""
        mean, var = self.marginal_mean_var(x0, t)
        return mean + jnp.sqrt(var) * noise

    def posterior_mean_var(self, x_t: ArrayLike, x0: ArrayLike, t: ArrayLike) -> tuple[jax.Array, jax.Array]:
        """Mean and variance of q(x_{t-1} | x_t, x_0) (variance 0 at t = 1)."""
        mean = self._at(self.posterior_x0_coef, t) * x0 + self._at(self.posterior_xt_coef, t) * x_t
        return mean, self._at(self.posterior_variance, t)

    def predict_x0_from_eps(self, x_t: jax.Array, t: ArrayLike, eps: ArrayLike) -> jax.Array:
        """x_0 implied by x_t and predicted noise eps: (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
        return (x_t - jnp.sqrt(self._at(self.one_minus_alpha_bar, t)) * eps) / jnp.sqrt(self._at(self.alpha_bar, t))

    # entropies (nats per dimension) ----------------------------------------------------------
    def step_entropy(self) -> np.ndarray:
        """H_q(X_t | X_{t-1}) per dimension for t = 1..T (index t - 1)."""
        return 0.5 * (LOG_2PI + 1.0 + np.log(self.beta[1:]))

    def marginal_entropy(self) -> np.ndarray:
        """H_q(X_t | X_0) per dimension for t = 0..T (index t; -inf at t = 0)."""
        with np.errstate(divide="ignore"):
            return 0.5 * (LOG_2PI + 1.0 + np.log(self.one_minus_alpha_bar))

    def reverse_entropy_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The paper's bounds on the reverse step's entropy, per dimension, for t = 1..T.

        H_q(X_t|X_{t-1}) + H_q(X_{t-1}|X_0) - H_q(X_t|X_0) <= H_q(X_{t-1}|X_t) <= H_q(X_t|X_{t-1})
        (Sohl-Dickstein et al. 2015, Sec. 2.6); the lower bound is -inf at t = 1. The lower bound
        always holds (conditioning on x_0 cannot raise entropy); the upper bound assumes the
        entropy of x_t grows along the forward chain, true for data no wider than N(0, I) (e.g.
        standardised data) and false for data of variance > 1 per coordinate.
        """
        upper = self.step_entropy()
        h = self.marginal_entropy()
        lower = upper + h[:-1] - h[1:]
        return lower, upper


def gaussian_kl(mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike) -> jax.Array:
    """KL(N(mean1, var1) || N(mean2, var2)) for diagonal Gaussians, summed over the last axis (nats)."""
    mean1, var1, mean2, var2 = (jnp.asarray(a) for a in (mean1, var1, mean2, var2))
    kl = 0.5 * (jnp.log(var2) - jnp.log(var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1.0)
    return jnp.sum(jnp.broadcast_to(kl, jnp.broadcast_shapes(kl.shape, mean1.shape, mean2.shape)), axis=-1)


def gaussian_log_density(x: ArrayLike, mean: ArrayLike, var: ArrayLike) -> jax.Array:
    """log N(x; mean, var) for diagonal Gaussians, summed over the last axis (nats)."""
    x, mean, var = jnp.asarray(x), jnp.asarray(mean), jnp.asarray(var)
    lp = -0.5 * (LOG_2PI + jnp.log(var) + (x - mean) ** 2 / var)
    return jnp.sum(jnp.broadcast_to(lp, jnp.broadcast_shapes(lp.shape, x.shape, mean.shape)), axis=-1)
