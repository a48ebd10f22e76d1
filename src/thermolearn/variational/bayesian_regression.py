"""The same bound in machine learning: the ELBO of Bayesian linear regression, where the exact
posterior is known.

Model: weights w ~ N(0, alpha^-1 I) (d of them), data y = X w + noise, noise ~ N(0, sigma^2 I).
The posterior over the latent w is Gaussian, N(mu, Lambda^-1) with precision
Lambda = alpha I + X^T X / sigma^2 and mean mu = Lambda^-1 X^T y / sigma^2, and the evidence is
log p(y) = log N(y; 0, sigma^2 I + X X^T / alpha). For any q(w),

    ELBO(q) = E_q[log p(y | w)] + E_q[log p(w)] + H[q] = log p(y) - KL(q || p(w | y)) <= log p(y),

the Gibbs-Bogoliubov-Feynman inequality with -log p(y, w) as the energy and T = 1. A full
Gaussian q reaches the evidence (q = posterior); the mean-field (factorised) Gaussian
q(w) = prod_k N(m_k, s_k^2) has its optimum at m = mu, s_k^2 = 1 / Lambda_kk, and stays
below by (1/2)(sum_k log Lambda_kk - log det Lambda): it gets the mean right and the
uncertainty too small, as mean field does for spins. All quantities in nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.randomness.seeds import numpy_generator
from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int
from thermolearn.variational._common import check_iterations, check_tolerance, clean

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MeanFieldGaussianResult:
    """Coordinate-ascent (CAVI) fit of the factorised Gaussian q(w) = prod_k N(m_k, s_k^2).

    ``history[t]`` is the ELBO after sweep t (history[0]: the start); it never decreases.
    ``gap`` = log evidence - ELBO = KL(q || posterior) >= 0 (nats).
    """

    mean: np.ndarray
    variances: np.ndarray
    elbo: float
    log_evidence: float
    history: np.ndarray
    converged: bool
    iterations: int
    residual: float

    @property
    def gap(self) -> float:
        """log evidence - ELBO = KL(q || posterior) >= 0 (nats)."""
        return self.log_evidence - self.elbo

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict: ELBO, log evidence and their gap (nats), convergence, q's means and
        variances."""
        return {
            "elbo": clean(self.elbo),
            "log_evidence": clean(self.log_evidence),
            "gap": clean(self.gap),
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": clean(self.residual),
            "mean": self.mean.tolist(),
            "variances": self.variances.tolist(),
        }


@dataclass(frozen=True)
class BayesianLinearRegression:
    """Bayesian linear regression y = X w + noise with prior w ~ N(0, I / prior_precision)
    and Gaussian noise of variance ``noise_variance``; inputs ``X`` (n_samples, n_features)."""

    X: np.ndarray
    y: np.ndarray
    prior_precision: float = 1.0
    noise_variance: float = 1.0

    def __post_init__(self) -> None:
        X = check_finite_array("X", self.X, ndim=2)
        y = check_finite_array("y", self.y, ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have one entry per row of X ({X.shape[0]}), got {y.shape[0]}")
        if X.shape[1] < 1 or X.shape[0] < 1:
            raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "prior_precision", check_positive_float("prior_precision", self.prior_precision))
        object.__setattr__(self, "noise_variance", check_positive_float("noise_variance", self.noise_variance))

    @classmethod
    def synthetic(
        cls,
        n_samples: int = 30,
        n_features: int = 2,
        *,
        noise_std: float = 0.5,
        prior_precision: float = 1.0,
        input_correlation: float = 0.8,
        seed: int | np.random.Generator | None = 0,
    ) -> tuple[BayesianLinearRegression, np.ndarray]:
        """A data set drawn from the model itself: w from the prior, correlated Gaussian inputs
        (pairwise correlation ``input_correlation``, which makes the posterior correlated).
        Returns the regression problem and the true weights."""
        n = check_positive_int("n_samples", n_samples)
        d = check_positive_int("n_features", n_features)
        noise = check_positive_float("noise_std", noise_std)
        alpha = check_positive_float("prior_precision", prior_precision)
        rho = float(input_correlation)
        if not -1.0 / max(d - 1, 1) < rho < 1.0:
            raise ValueError(f"input_correlation must be in (-1/(d-1), 1) for a valid covariance, got {rho}")
        rng = numpy_generator(seed)
        cov = np.full((d, d), rho) + (1.0 - rho) * np.eye(d)
        X = rng.multivariate_normal(np.zeros(d), cov, size=n)
        w = rng.normal(0.0, 1.0 / math.sqrt(alpha), size=d)
        y = X @ w + rng.normal(0.0, noise, size=n)
        return cls(X, y, alpha, noise * noise), w

    @property
    def n_features(self) -> int:
        """Number of features (weights) of the regression."""
        return int(self.X.shape[1])

    @property
    def posterior_precision(self) -> np.ndarray:
        """Lambda = alpha I + X^T X / sigma^2."""
        return self.prior_precision * np.eye(self.n_features) + self.X.T @ self.X / self.noise_variance

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact posterior N(mu, Sigma): mean mu and covariance Sigma = Lambda^-1."""
        L = self.posterior_precision
        cov = np.linalg.inv(L)
        cov = 0.5 * (cov + cov.T)
        mean = np.linalg.solve(L, self.X.T @ self.y / self.noise_variance)
        return mean, cov

    def log_evidence(self) -> float:
        """log p(y) = log N(y; 0, sigma^2 I + X X^T / alpha) (nats), exactly."""
        n = self.y.size
        C = self.noise_variance * np.eye(n) + self.X @ self.X.T / self.prior_precision
        _, logdet = np.linalg.slogdet(C)
        return float(-0.5 * (n * LOG_2PI + logdet + self.y @ np.linalg.solve(C, self.y)))

    def elbo(self, mean: np.ndarray, cov: np.ndarray) -> float:
        """ELBO(q) = E_q[log p(y|w)] + E_q[log p(w)] + H[q] for the Gaussian q = N(mean, cov)
        (``cov`` a (d, d) matrix or a (d,) vector of variances), in closed form."""
        d = self.n_features
        m = check_finite_array("mean", mean, ndim=1)
        if m.shape != (d,):
            raise ValueError(f"mean must have shape ({d},), got {m.shape}")
        S = check_finite_array("cov", cov)
        S = np.diag(S) if S.ndim == 1 else S
        if S.shape != (d, d):
            raise ValueError(f"cov must have shape ({d}, {d}) or ({d},), got {S.shape}")
        try:
            chol = np.linalg.cholesky(0.5 * (S + S.T))
        except np.linalg.LinAlgError:
            raise ValueError("cov must be symmetric positive definite (variances > 0)") from None
        logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
        n = self.y.size
        s2, alpha = self.noise_variance, self.prior_precision
        resid = self.y - self.X @ m
        spread = resid @ resid + np.trace(self.X.T @ self.X @ S)  # E_q ||y - X w||^2
        expected_loglik = -0.5 * n * math.log(2 * math.pi * s2) - 0.5 * spread / s2
        expected_logprior = 0.5 * d * math.log(alpha / (2 * math.pi)) - 0.5 * alpha * (m @ m + np.trace(S))
        entropy = 0.5 * d * (LOG_2PI + 1.0) + 0.5 * logdet
        return float(expected_loglik + expected_logprior + entropy)

    def mean_field(
        self, *, init: np.ndarray | None = None, tol: float = 1e-12, max_iter: int = 1000
    ) -> MeanFieldGaussianResult:
        """Coordinate ascent on the factorised Gaussian: s_k^2 = 1 / Lambda_kk and
        m_k <- (b_k - sum_{j != k} Lambda_kj m_j) / Lambda_kk with b = X^T y / sigma^2, one
        coordinate at a time (each update maximises the ELBO in that factor). Starts at
        ``init`` (default zeros); stops when no mean moves by more than ``tol``."""
        tol = check_tolerance(tol)
        max_iter = check_iterations(max_iter)
        L = self.posterior_precision
        b = self.X.T @ self.y / self.noise_variance
        d = self.n_features
        m = np.zeros(d) if init is None else check_finite_array("init", init, ndim=1).copy()
        if m.shape != (d,):
            raise ValueError(f"init must have shape ({d},), got {m.shape}")
        var = 1.0 / np.diag(L)
        history = [self.elbo(m, var)]
        residual, it = np.inf, 0
        for it in range(1, max_iter + 1):  # noqa: B007 (it counts the sweeps made, read after the loop)
            residual = 0.0
            for k in range(d):
                new = (b[k] - L[k] @ m + L[k, k] * m[k]) / L[k, k]
                residual = max(residual, abs(new - m[k]))
                m[k] = new
            history.append(self.elbo(m, var))
            if residual < tol:
                break
        history_arr = np.array(history)
        history_arr.setflags(write=False)
        return MeanFieldGaussianResult(
            mean=m,
            variances=var,
            elbo=history[-1],
            log_evidence=self.log_evidence(),
            history=history_arr,
            converged=bool(residual < tol),
            iterations=it,
            residual=float(residual),
        )

    def mean_field_gap(self) -> float:
        """log p(y) - max ELBO over factorised Gaussians = (1/2)(sum_k log Lambda_kk - log det Lambda) >= 0."""
        L = self.posterior_precision
        return float(0.5 * (np.sum(np.log(np.diag(L))) - np.linalg.slogdet(L)[1]))
