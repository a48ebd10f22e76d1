"""Posteriors to sample: an energy U(theta) = -log p(theta | data) with its data, and the exact answer.

U(theta) = -log p(theta) - sum_i log p(x_i | theta) (nats, T = 1). A :class:`Posterior` holds
the prior and the per-datum log-likelihood as pure JAX functions of (theta, datum, params), so
a minibatch of S data estimates the gradient as -grad log p(theta) - (N / S) sum_batch grad
log p(x_i | theta) (the estimator of stochastic-gradient Langevin dynamics).

- :func:`gaussian_posterior`: N(0, s^2 I) with no data, where every sampler's bias is closed-form.
- :func:`linear_regression_posterior`: the Bayesian linear regression of
  :class:`~thermolearn.variational.BayesianLinearRegression`, whose Gaussian posterior is exact.
- :func:`mixture_posterior`: Welling and Teh's (2011) two-parameter mixture, theta_1 ~ N(0, 10),
  theta_2 ~ N(0, 1), x_i ~ (1/2) N(theta_1, 2) + (1/2) N(theta_1 + theta_2, 2): a bimodal
  posterior whose two modes (near (0, 1) and (1, -1)) lie on either side of theta_2 = 0, the
  line fixed by the swap theta_1 <-> theta_1 + theta_2; their exact weights come from a 2D
  quadrature (:func:`mixture_quadrature`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int

POSTERIOR_NAMES = ("gaussian", "linear-regression", "mixture")


@dataclass(frozen=True, eq=False)
class Posterior:
    """A differentiable posterior energy and what is known about it exactly.

    ``log_prior(theta, params)`` and ``log_likelihood(theta, datum, params)`` are pure JAX
    functions (datum: one row of each array in ``data``); ``data`` arrays share their first
    axis (the N data; an empty tuple for a posterior without data). ``exact_mean`` /
    ``exact_cov`` are the exact moments where known (Gaussian posteriors), else None;
    ``exact_mode_weights`` the exact masses of the modes where the posterior is multimodal,
    split by ``mode_of`` (a NumPy function of samples (..., dim) -> mode index).
    """

    name: str
    dim: int
    log_prior: Callable[..., Any]
    log_likelihood: Callable[..., Any] | None
    data: tuple[np.ndarray, ...]
    params: tuple[float, ...]
    init: np.ndarray
    exact_mean: np.ndarray | None = None
    exact_cov: np.ndarray | None = None
    exact_mode_weights: np.ndarray | None = None
    mode_of: Callable[[np.ndarray], np.ndarray] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the named posteriors are cached and shared between callers (make_posterior): an array
        # changed in place by one caller would change every later caller's exact answers
        for arr in (*self.data, self.init, self.exact_mean, self.exact_cov, self.exact_mode_weights):
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @property
    def n_data(self) -> int:
        """Number of data points the posterior conditions on (0 for a data-free target)."""
        return int(self.data[0].shape[0]) if self.data else 0

    def energy(self, theta: np.ndarray) -> float:
        """U(theta) = -log p(theta | data) up to its constant (nats), evaluated once (JAX)."""
        import jax
        import jax.numpy as jnp

        with jax.enable_x64(True):
            data = tuple(jnp.asarray(d) for d in self.data)
            return float(full_energy(self, jnp.asarray(np.asarray(theta, dtype=np.float64)), data))


def full_energy(posterior: Posterior, theta: Any, data: tuple[Any, ...]) -> Any:
    """U(theta) over all the data (a JAX scalar); ``data`` are the posterior's arrays as JAX arrays."""
    import jax

    u = -posterior.log_prior(theta, posterior.params)
    log_likelihood = posterior.log_likelihood
    if log_likelihood is not None and data:
        per = jax.vmap(lambda *d: log_likelihood(theta, d, posterior.params))(*data)
        u = u - per.sum()
    return u


# ------------------------------------------------------------------------------ a Gaussian
def _gaussian_log_prior(theta: Any, params: tuple[float, ...]) -> Any:
    return -0.5 * (theta * theta).sum() / params[0]


def gaussian_posterior(variance: float = 1.0, dim: int = 1) -> Posterior:
    """N(0, s^2 I) in ``dim`` dimensions (s^2 = ``variance``), no data: U = |theta|^2 / (2 s^2)."""
    s2 = check_positive_float("variance", variance)
    d = check_positive_int("dim", dim)
    return Posterior(
        name="gaussian",
        dim=d,
        log_prior=_gaussian_log_prior,
        log_likelihood=None,
        data=(),
        params=(s2,),
        init=np.zeros(d),
        exact_mean=np.zeros(d),
        exact_cov=s2 * np.eye(d),
    )


# ------------------------------------------------------------------------------ linear regression
def _regression_log_prior(theta: Any, params: tuple[float, ...]) -> Any:
    return -0.5 * params[0] * (theta * theta).sum()


def _regression_log_likelihood(theta: Any, datum: tuple[Any, ...], params: tuple[float, ...]) -> Any:
    x, y = datum
    r = y - x @ theta
    return -0.5 * r * r / params[1]


def linear_regression_posterior(problem: Any = None, *, seed: int = 0) -> Posterior:
    """The posterior of a :class:`~thermolearn.variational.BayesianLinearRegression` (default: 20
    points, 2 features, noise 1, input correlation 0.5, drawn with ``seed``); exact mean and
    covariance from the regression's own :meth:`posterior`."""
    from thermolearn.variational.bayesian_regression import BayesianLinearRegression

    if problem is None:
        problem, _ = BayesianLinearRegression.synthetic(
            n_samples=20, n_features=2, noise_std=1.0, input_correlation=0.5, seed=seed
        )
    if not isinstance(problem, BayesianLinearRegression):
        raise TypeError(f"problem must be a BayesianLinearRegression, got {type(problem).__name__}")
    mean, cov = problem.posterior()
    return Posterior(
        name="linear-regression",
        dim=problem.n_features,
        log_prior=_regression_log_prior,
        log_likelihood=_regression_log_likelihood,
        data=(problem.X, problem.y),
        params=(problem.prior_precision, problem.noise_variance),
        init=np.zeros(problem.n_features),
        exact_mean=mean,
        exact_cov=cov,
        details={"prior_precision": problem.prior_precision, "noise_variance": problem.noise_variance},
    )


# ------------------------------------------------------------------------------ Welling-Teh mixture
#: prior variances of theta_1 and theta_2, the components' variance, and the true parameters
MIXTURE_PRIOR_VARIANCES = (10.0, 1.0)
MIXTURE_NOISE_VARIANCE = 2.0
MIXTURE_TRUE_THETA = (0.0, 1.0)


def _mixture_log_prior(theta: Any, params: tuple[float, ...]) -> Any:
    return -0.5 * (theta[0] ** 2 / params[0] + theta[1] ** 2 / params[1])


def _mixture_log_likelihood(theta: Any, datum: tuple[Any, ...], params: tuple[float, ...]) -> Any:
    import jax.numpy as jnp

    (x,) = datum
    v = params[2]
    a = -0.5 * (x - theta[0]) ** 2 / v
    b = -0.5 * (x - theta[0] - theta[1]) ** 2 / v
    return jnp.logaddexp(a, b) - math.log(2.0) - 0.5 * math.log(2.0 * math.pi * v)


def _mixture_mode(samples: np.ndarray) -> np.ndarray:
    """Mode 0: theta_2 > 0 (near (0, 1)); mode 1: theta_2 <= 0 (near (1, -1))."""
    return (np.asarray(samples)[..., 1] <= 0.0).astype(np.int64)


def mixture_data(n: int = 100, seed: int = 0) -> np.ndarray:
    """``n`` draws of x ~ (1/2) N(0, 2) + (1/2) N(1, 2) (Welling and Teh's theta = (0, 1))."""
    from thermolearn.randomness.seeds import numpy_generator

    n = check_positive_int("n", n)
    rng = numpy_generator(seed)
    centre = np.where(rng.random(n) < 0.5, MIXTURE_TRUE_THETA[0], sum(MIXTURE_TRUE_THETA))
    return centre + math.sqrt(MIXTURE_NOISE_VARIANCE) * rng.normal(size=n)


@dataclass(frozen=True)
class MixtureQuadrature:
    """The mixture posterior on a grid: normalised density, its mean, covariance and mode weights."""

    theta1: np.ndarray
    theta2: np.ndarray
    density: np.ndarray  # (len(theta1), len(theta2)), integrates to 1
    mean: np.ndarray
    cov: np.ndarray
    mode_weights: np.ndarray


def _mixture_log_density_grid(x: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    v = MIXTURE_NOISE_VARIANCE
    a1, a2 = np.meshgrid(t1, t2, indexing="ij")
    logp = -0.5 * (a1**2 / MIXTURE_PRIOR_VARIANCES[0] + a2**2 / MIXTURE_PRIOR_VARIANCES[1])
    for xi in x:  # one datum at a time: the grid stays the only large array
        logp += np.logaddexp(-0.5 * (xi - a1) ** 2 / v, -0.5 * (xi - a1 - a2) ** 2 / v)
    return logp


def _trapezoid_weights(t: np.ndarray) -> np.ndarray:
    w = np.zeros_like(t)
    h = np.diff(t)
    w[:-1] += 0.5 * h
    w[1:] += 0.5 * h
    return w


def mixture_quadrature(x: np.ndarray, *, points: int = 401) -> MixtureQuadrature:
    """The exact mixture posterior by quadrature on a ``points`` x ``points`` grid (trapezoid
    weights), over a box found from a coarse pass so that it holds all but ~e^-30 of the mass."""
    x = check_finite_array("x", x, ndim=1)
    points = check_positive_int("points", points, minimum=11)
    t1 = np.linspace(-6.0, 7.0, 131)
    t2 = np.linspace(-6.0, 6.0, 121)
    coarse = _mixture_log_density_grid(x, t1, t2)
    keep = coarse >= coarse.max() - 30.0
    i = np.flatnonzero(keep.any(axis=1))
    j = np.flatnonzero(keep.any(axis=0))
    pad1, pad2 = 2 * (t1[1] - t1[0]), 2 * (t2[1] - t2[0])
    t1 = np.linspace(t1[i[0]] - pad1, t1[i[-1]] + pad1, points)
    lo, hi = min(t2[j[0]] - pad2, -pad2), max(t2[j[-1]] + pad2, pad2)
    # theta_2 = 0 (the border between the modes) is a node, so each side is its own trapezoid rule
    n_low = max(int(round(points * -lo / (hi - lo))), 2)
    t2 = np.concatenate([np.linspace(lo, 0.0, n_low), np.linspace(0.0, hi, max(points - n_low + 1, 2))[1:]])
    zero = n_low - 1
    logp = _mixture_log_density_grid(x, t1, t2)
    w1 = _trapezoid_weights(t1)
    w2 = _trapezoid_weights(t2)
    p = np.exp(logp - logp.max()) * w1[:, None] * w2[None, :]
    p /= p.sum()
    a1, a2 = np.meshgrid(t1, t2, indexing="ij")
    mean = np.array([(p * a1).sum(), (p * a2).sum()])
    d1, d2 = a1 - mean[0], a2 - mean[1]
    cov = np.array([[(p * d1 * d1).sum(), (p * d1 * d2).sum()], [(p * d1 * d2).sum(), (p * d2 * d2).sum()]])
    upper_share = 0.5 * (t2[zero + 1] - t2[zero]) / w2[zero]  # the zero node's weight on the upper side
    upper = float(p[:, zero + 1 :].sum() + upper_share * p[:, zero].sum())
    density = p / (w1[:, None] * w2[None, :])
    return MixtureQuadrature(t1, t2, density, mean, cov, np.array([upper, 1.0 - upper]))


def mixture_posterior(n: int = 100, *, seed: int = 0, data: np.ndarray | None = None) -> Posterior:
    """Welling and Teh's bimodal posterior over (theta_1, theta_2) from ``n`` data drawn with
    ``seed`` (or the given ``data``); exact mode weights P(theta_2 > 0), P(theta_2 <= 0) by
    quadrature. Mean and covariance are known only by quadrature (``details``)."""
    x = mixture_data(n, seed) if data is None else check_finite_array("data", data, ndim=1)
    quad = mixture_quadrature(x)
    return Posterior(
        name="mixture",
        dim=2,
        log_prior=_mixture_log_prior,
        log_likelihood=_mixture_log_likelihood,
        data=(x,),
        params=(*MIXTURE_PRIOR_VARIANCES, MIXTURE_NOISE_VARIANCE),
        init=np.array(MIXTURE_TRUE_THETA, dtype=np.float64),
        exact_mode_weights=quad.mode_weights,
        mode_of=_mixture_mode,
        details={"quadrature_mean": quad.mean.tolist(), "quadrature_cov": quad.cov.tolist(), "quadrature": quad},
    )


def make_posterior(name: str, *, seed: int = 0) -> Posterior:
    """A posterior by its command-line name (one of :data:`POSTERIOR_NAMES`), data drawn with ``seed``."""
    if name not in POSTERIOR_NAMES:
        raise ValueError(f"unknown posterior {name!r}; choose one of {', '.join(POSTERIOR_NAMES)}")
    return _named_posterior(name, check_positive_int("seed", seed, minimum=0))


@functools.lru_cache(maxsize=8)
def _named_posterior(name: str, seed: int) -> Posterior:
    # cached: the mixture's quadrature is the slow part, and the same seed gives the same data
    if name == "gaussian":
        return gaussian_posterior()
    if name == "linear-regression":
        return linear_regression_posterior(seed=seed)
    return mixture_posterior(seed=seed)
