"""Inverse Ising: recover couplings J and fields h from samples of p(s) = exp(-beta E(s)) / Z.

E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i with spins s_i in {-1, +1}. The data fix only
beta J and beta h; every fit takes the sampling ``temperature`` T and returns J and h in
energy units (multiplied back by T). Three estimators:

- exact maximum likelihood (n <= 16 spins): the log-likelihood is concave in (beta J, beta h)
  and its gradient is <s_i s_j>_data - <s_i s_j>_model with the model moments summed over all
  2^n states; the inverse Fisher information (the covariance of the sufficient statistics)
  gives asymptotic standard errors;
- pseudo-likelihood (any n): the sum over spins of log p(s_i | s_-i) =
  s_i phi_i - log(2 cosh phi_i), phi_i = beta (h_i + sum_j J_ij s_j), which needs no Z; consistent,
  with sandwich standard errors H^{-1} V H^{-1} / M;
- naive mean-field inversion: beta J = -(C^{-1}) off the diagonal, C the connected
  correlation matrix, beta h_i = atanh(m_i) - beta sum_j J_ij m_j (biased; a cheap baseline).

The data need not determine every parameter: a spin that never flips sends its field to
infinity and confounds its couplings J_0i with the other fields (s_0 J_0i = J_0i), and
perfectly separated data (a few distinct states of a strong ferromagnet) leave directions of
flat likelihood, along which the optimiser stops where the curvature is about its gradient
tolerance (~1e-8). A direction whose curvature per sample (an eigenvalue of the mean Hessian
or Fisher matrix; dimensionless, O(0.01-1) for identified fits) is below 1e-6 or at round-off
is taken as flat: the parameters that load on it get an infinite standard error and a
RuntimeWarning naming them, and their rows of ``covariance`` are NaN (infinite diagonal). The
finite rest of the covariance is the inverse restricted to the identified directions:
symmetric and positive semi-definite.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from thermolearn.models.ising import Ising
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.validation import (
    check_finite_float,
    check_positive_float,
    check_positive_int,
    check_spins,
    check_temperature,
)

MAX_ML_SPINS = 16
"""Largest system fitted by exact maximum likelihood (2^n states per likelihood evaluation)."""
_CHUNK = 1 << 13  # samples per block when accumulating per-sample gradients
_ROUNDOFF = 1e-10  # eigenvalues below this fraction of the largest are round-off, not curvature
# Curvature per sample below this is a flat direction: at complete separation the optimisers stop
# near 1e-8 (their gradient tolerances), while a spin flipping 5 times in 2000 samples still gives
# ~2e-3; 1e-6 would need a million samples for one unit of information.
_FLAT_CURVATURE = 1e-6
_LOADING = 1e-8  # a parameter whose squared weight on a flat direction exceeds this is not determined


@dataclass(frozen=True)
class InverseIsingResult:
    """Recovered couplings ``J`` (n, n; symmetric, zero diagonal) and fields ``h`` (n,) in
    energy units at the sampling temperature, with standard errors where the method gives
    them (same shapes; None otherwise). ``objective`` is the fitted mean log-likelihood or
    log-pseudo-likelihood per sample (nats, including the L2 penalty). ``covariance`` is the
    asymptotic covariance of the parameters ordered (h_i, then J_ij for i < j row by row), in
    energy units squared; ``n_samples`` is the (effective) sample count M. Parameters the data
    do not determine have infinite standard errors and NaN rows in ``covariance`` (see the
    module docstring)."""

    method: str
    couplings: np.ndarray
    fields: np.ndarray
    temperature: float
    n_samples: float
    objective: float
    converged: bool
    n_iterations: int
    couplings_stderr: np.ndarray | None = None
    fields_stderr: np.ndarray | None = None
    covariance: np.ndarray | None = None

    @property
    def n_spins(self) -> int:
        """Number of spins N of the inferred model."""
        return int(self.fields.size)

    @property
    def model(self) -> Ising:
        """The recovered model as an :class:`Ising` (sample it at ``temperature``)."""
        return Ising.from_dense(self.couplings, self.fields, name=f"inverse Ising ({self.method})")

    def coupling_error(self, truth: Ising | np.ndarray) -> float:
        """RMS error of the couplings J_ij (i < j) against a known model or coupling matrix."""
        J = truth.to_dense()[0] if isinstance(truth, Ising) else np.asarray(truth, dtype=np.float64)
        if J.shape != self.couplings.shape:
            raise ValueError(f"true couplings have shape {J.shape}, the fit has {self.couplings.shape}")
        iu = np.triu_indices(self.n_spins, k=1)
        return float(np.sqrt(np.mean((self.couplings[iu] - J[iu]) ** 2)))


# ---------------------------------------------------------------------- inputs and parameters
def _prepare(samples: ArrayLike, temperature: float, sample_weights: ArrayLike | None, l2: float) -> tuple:
    arr = np.asarray(samples)
    if arr.ndim != 2:
        raise ValueError(f"samples must have shape (n_samples, n_spins), got {arr.shape}")
    n = arr.shape[1]
    if n < 2:
        raise ValueError(f"inverse Ising needs at least 2 spins, got {n}")
    s = check_spins(arr, n, "samples")
    if sample_weights is None:
        if s.shape[0] < 2:
            raise ValueError(f"need at least 2 samples, got {s.shape[0]}")
        w = np.full(s.shape[0], 1.0 / s.shape[0])
        m_eff = float(s.shape[0])
    else:
        w = np.asarray(sample_weights, dtype=np.float64)
        if w.shape != (s.shape[0],):
            raise ValueError(f"sample_weights must have shape ({s.shape[0]},), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("sample_weights must be finite, >= 0 and not all zero")
        w = w / w.sum()
        m_eff = float(1.0 / np.sum(w**2))  # Kish's effective number of samples
    T = check_temperature(temperature)
    lam = check_finite_float("l2", l2)
    if lam < 0:
        raise ValueError(f"l2 must be >= 0, got {lam}")
    # repeated states are summed once, weighted: small systems then cost 2^n, not M, per step;
    # q keeps sum w_k^2 per distinct state, which the sandwich variance needs
    s, inverse = np.unique(s, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    q = np.bincount(inverse, weights=w**2, minlength=s.shape[0])
    w = np.bincount(inverse, weights=w, minlength=s.shape[0])
    return s, w, q, m_eff, T, lam


def _unpack(theta: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """theta = (h, J_ij for i < j) -> dense symmetric J, h."""
    iu = np.triu_indices(n, k=1)
    J = np.zeros((n, n))
    J[iu] = theta[n:]
    return J + J.T, theta[:n].copy()


def _errors(cov: np.ndarray, n: int, T: float) -> tuple[np.ndarray, np.ndarray]:
    # _identified_covariance leaves only round-off below zero on the diagonal (and inf where a
    # parameter is not determined); a genuinely negative variance would be a bug, not an error of 0
    diag = np.diag(cov)
    scale = float(np.max(np.abs(diag[np.isfinite(diag)]), initial=0.0))
    var = np.where(diag < -1e-9 * scale, np.inf, np.clip(diag, 0.0, None)) * T**2
    se_h = np.sqrt(var[:n])
    se_J, _ = _unpack(np.concatenate([np.zeros(n), np.sqrt(var[n:])]), n)
    return se_J, se_h


def _parameter_names(n: int) -> list[str]:
    """Names in the covariance order: h_i, then J_ij for i < j row by row."""
    iu = np.triu_indices(n, k=1)
    return [f"h_{i}" for i in range(n)] + [f"J_{i},{j}" for i, j in zip(*iu)]


def _identified_covariance(
    hessian: np.ndarray, middle: np.ndarray | None, n: int, method: str, stacklevel: int = 3
) -> np.ndarray:
    """H^+ V H^+ (``middle`` V; H^+ alone when V is None) with H^+ the inverse of the Hessian
    restricted to the directions the data determine, parameters (h, J_ij for i < j).

    ``hessian`` is the curvature per sample of the mean objective (dimensionless: the parameters
    are beta h, beta J). An eigenvalue below ``_FLAT_CURVATURE`` or at round-off is a flat
    direction, and every parameter with weight on it is not determined: infinite variance, NaN
    covariances, a RuntimeWarning naming them (``stacklevel`` points it at the user's call). The
    finite part is symmetric positive semi-definite."""
    H = 0.5 * (hessian + hessian.T)
    lam, U = np.linalg.eigh(H)
    top = float(lam[-1]) if lam.size else 0.0
    flat = lam <= max(_ROUNDOFF * top, _FLAT_CURVATURE)
    keep = ~flat
    B = (U[:, keep] / lam[keep]) @ U[:, keep].T
    cov = B if middle is None else B @ (0.5 * (middle + middle.T)) @ B
    cov = 0.5 * (cov + cov.T)
    undetermined = np.sum(U[:, flat] ** 2, axis=1) > _LOADING
    if undetermined.any():
        cov[undetermined, :] = np.nan
        cov[:, undetermined] = np.nan
        cov[undetermined, undetermined] = np.inf
        names = [name for name, bad in zip(_parameter_names(n), undetermined) if bad]
        shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
        warnings.warn(
            f"{method}: the samples do not determine {len(names)} of {undetermined.size} parameters ({shown}): "
            f"{int(flat.sum())} direction(s) of the objective are flat (curvature per sample below "
            f"{_FLAT_CURVATURE:g}: e.g. a spin that never flips, or perfectly separated states); their standard errors are "
            "reported as inf. More varied samples, or l2 > 0, determine them.",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    return cov


def _optimise(fun, x0: np.ndarray, tol: float, max_iter: int):
    # both entry points pass the user's values: tol = inf stopped at the start, J = 0 "converged"
    tol = check_positive_float("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    res = scipy.optimize.minimize(
        fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 30}
    )
    return res


# ---------------------------------------------------------------------- maximum likelihood
def _all_spins(n: int) -> np.ndarray:
    idx = np.arange(2**n, dtype=np.int64)[:, None]
    return np.where((idx >> np.arange(n)) & 1, 1.0, -1.0)


def maximum_likelihood(
    samples: np.ndarray,
    *,
    temperature: float = 1.0,
    sample_weights: np.ndarray | None = None,
    l2: float = 0.0,
    tol: float = 1e-9,
    max_iter: int = 2000,
) -> InverseIsingResult:
    """Exact maximum-likelihood J and h (energy units) from spin samples drawn at ``temperature``.

    Maximises (1/M) sum_k log p(s_k) - l2 |beta J|^2 over beta J, beta h, with log Z summed
    over all 2^n states (n <= 16). Standard errors: the inverse Fisher information (the
    covariance of s_i and s_i s_j under the fit, summed exactly) over M samples; infinite, with
    a RuntimeWarning, for parameters the samples do not determine.
    ``sample_weights`` weight the samples (e.g. exact probabilities of every state).
    """
    s, w, q, m_eff, T, lam = _prepare(samples, temperature, sample_weights, l2)
    n = s.shape[1]
    if n > MAX_ML_SPINS:
        raise ValueError(
            f"exact maximum likelihood is limited to n <= {MAX_ML_SPINS} spins (2^n states per step); these "
            f"samples have {n}. Use pseudo_likelihood for larger systems."
        )
    iu = np.triu_indices(n, k=1)
    x = s.astype(np.float64)
    data_stats = np.concatenate([w @ x, ((x * w[:, None]).T @ x)[iu]])
    states = _all_spins(n)
    # sufficient statistics of every state: s_i, then s_i s_j for i < j
    phi = np.concatenate([states, states[:, iu[0]] * states[:, iu[1]]], axis=1)

    def neg_ll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        log_w = phi @ theta
        log_z = logsumexp(log_w)
        p = np.exp(log_w - log_z)
        model_stats = p @ phi
        pen = np.concatenate([np.zeros(n), theta[n:]])
        f = log_z - theta @ data_stats + lam * pen @ pen
        return f, model_stats - data_stats + 2.0 * lam * pen

    res = _optimise(neg_ll, np.zeros(phi.shape[1]), tol, max_iter)
    theta = res.x
    log_w = phi @ theta
    p = np.exp(log_w - logsumexp(log_w))
    mean = p @ phi
    fisher = (phi * p[:, None]).T @ phi - np.outer(mean, mean)
    fisher[np.arange(n, fisher.shape[0]), np.arange(n, fisher.shape[0])] += 2.0 * lam
    cov = _identified_covariance(fisher, None, n, "maximum likelihood") / m_eff
    J, h = _unpack(theta, n)
    se_J, se_h = _errors(cov, n, T)
    return InverseIsingResult(
        method="maximum likelihood",
        couplings=J * T,
        fields=h * T,
        temperature=T,
        n_samples=m_eff,
        objective=-float(res.fun),
        converged=bool(res.success),
        n_iterations=int(res.nit),
        couplings_stderr=se_J,
        fields_stderr=se_h,
        covariance=cov * T**2,
    )


# ---------------------------------------------------------------------- pseudo-likelihood
def pseudo_likelihood(
    samples: np.ndarray,
    *,
    temperature: float = 1.0,
    sample_weights: np.ndarray | None = None,
    l2: float = 0.0,
    symmetric: bool = True,
    stderr: bool = False,
    tol: float = 1e-8,
    max_iter: int = 5000,
) -> InverseIsingResult:
    """Maximum pseudo-likelihood J and h (energy units) from spin samples drawn at ``temperature``.

    Maximises (1/M) sum_k sum_i [s_ki phi_ki - log(2 cosh phi_ki)] - l2 |beta J|^2 with
    phi_ki = beta (h_i + sum_j J_ij s_kj). ``symmetric=True`` fits one symmetric J (a proper
    M-estimator; ``stderr=True`` adds sandwich standard errors H^{-1} V H^{-1} / M, for
    independent samples, infinite with a RuntimeWarning for parameters the samples do not
    determine); ``symmetric=False`` fits each spin's logistic regression with its
    own row J_i. and returns (J + J^T) / 2.
    """
    s, w, q, m_eff, T, lam = _prepare(samples, temperature, sample_weights, l2)
    if not isinstance(symmetric, bool) or not isinstance(stderr, bool):
        raise TypeError("symmetric and stderr must be True or False")
    if stderr and not symmetric:
        raise ValueError("stderr=True needs symmetric=True (the sandwich is for the symmetric fit)")
    n = s.shape[1]
    x = s.astype(np.float64)
    iu = np.triu_indices(n, k=1)
    off = ~np.eye(n, dtype=bool)

    def neg_pl(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if symmetric:
            A, h = _unpack(theta, n)
        else:
            h = theta[:n]
            A = np.zeros((n, n))
            A[off] = theta[n:]
        field = x @ A.T + h  # phi_ki (A has a zero diagonal)
        # log(2 cosh z) = |z| + log1p(exp(-2|z|)) stays finite for any z
        az = np.abs(field)
        f = -(w @ (x * field - az - np.log1p(np.exp(-2.0 * az)))).sum()
        r = (np.tanh(field) - x) * w[:, None]  # d f / d phi_ki
        gA = r.T @ x
        gh = r.sum(axis=0)
        if symmetric:
            gJ = (gA + gA.T)[iu] + 2.0 * lam * theta[n:]
            f += lam * theta[n:] @ theta[n:]
        else:
            gJ = gA[off] + 2.0 * lam * theta[n:]
            f += lam * theta[n:] @ theta[n:]
        return float(f), np.concatenate([gh, gJ])

    n_pair = iu[0].size if symmetric else n * (n - 1)
    res = _optimise(neg_pl, np.zeros(n + n_pair), tol, max_iter)
    theta = res.x
    if symmetric:
        J, h = _unpack(theta, n)
    else:
        h = theta[:n].copy()
        A = np.zeros((n, n))
        A[off] = theta[n:]
        J = 0.5 * (A + A.T)
    se_J = se_h = cov = None
    if stderr:
        cov = _pl_sandwich(x, w, q, J, h, lam)
        se_J, se_h = _errors(cov, n, T)
        cov = cov * T**2
    return InverseIsingResult(
        method="pseudo-likelihood" + ("" if symmetric else " (asymmetric, symmetrised)"),
        couplings=J * T,
        fields=h * T,
        temperature=T,
        n_samples=m_eff,
        objective=-float(res.fun),
        converged=bool(res.success),
        n_iterations=int(res.nit),
        couplings_stderr=se_J,
        fields_stderr=se_h,
        covariance=cov,
    )


def _pl_sandwich(x: np.ndarray, w: np.ndarray, q: np.ndarray, J: np.ndarray, h: np.ndarray, lam: float) -> np.ndarray:
    """Asymptotic covariance H^{-1} V H^{-1} of the symmetric pseudo-likelihood fit, parameters
    (h, J_ij for i < j) in units of 1/T: H is the Hessian of the weighted mean objective and
    V = sum_k w_k^2 g_k g_k^T the variance of the weighted sum of per-sample gradients g_k
    (``q`` holds sum w_k^2 of the samples behind each distinct state). H^{-1} is taken on the
    directions the samples determine (see :func:`_identified_covariance`)."""
    n = x.shape[1]
    iu = np.triu_indices(n, k=1)
    p = n + iu[0].size
    pair = np.full((n, n), -1, dtype=np.int64)
    pair[iu] = np.arange(n, p)
    pair[(iu[1], iu[0])] = np.arange(n, p)
    # phi_i depends on h_i (coefficient 1) and on J_ij for j != i (coefficient s_j)
    index = np.empty((n, n), dtype=np.int64)
    for i in range(n):
        index[i, 0] = i
        index[i, 1:] = pair[i][np.arange(n) != i]
    H = np.zeros((p, p))
    V = np.zeros((p, p))
    for start in range(0, x.shape[0], _CHUNK):
        xs, ws, qs = x[start : start + _CHUNK], w[start : start + _CHUNK], q[start : start + _CHUNK]
        field = xs @ J.T + h
        t = np.tanh(field)
        curv = (1.0 - t**2) * ws[:, None]
        r = t - xs
        g = np.zeros((xs.shape[0], p))
        for i in range(n):
            feats = np.concatenate([np.ones((xs.shape[0], 1)), np.delete(xs, i, axis=1)], axis=1)
            H[np.ix_(index[i], index[i])] += (feats * curv[:, i : i + 1]).T @ feats
            g[:, index[i]] += feats * r[:, i : i + 1]
        V += (g * qs[:, None]).T @ g
    H[np.arange(n, p), np.arange(n, p)] += 2.0 * lam
    return _identified_covariance(H, V, n, "pseudo-likelihood", stacklevel=4)


# ---------------------------------------------------------------------- mean field
def mean_field_inversion(samples: np.ndarray, *, temperature: float = 1.0) -> InverseIsingResult:
    """Naive mean-field inversion: beta J = -(C^{-1}) off the diagonal, C_ij = <s_i s_j> - m_i m_j,
    and beta h_i = atanh(m_i) - sum_j beta J_ij m_j (energy units after multiplying by T).
    Exact only for weak couplings; a fast baseline."""
    s, w, _, m_eff, T, _ = _prepare(samples, temperature, None, 0.0)
    x = s.astype(np.float64)
    m = w @ x
    C = (x * w[:, None]).T @ x - np.outer(m, m)
    frozen = np.flatnonzero(np.diag(C) <= 1e-12)
    if frozen.size:
        raise ValueError(
            f"spins {frozen.tolist()[:5]} never change in the samples, so their couplings are not "
            "determined (the correlation matrix is singular); use pseudo_likelihood with l2 > 0"
        )
    try:
        P = np.linalg.inv(C)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the correlation matrix of the samples is singular; use pseudo_likelihood with l2 > 0"
        ) from None
    J = -P
    np.fill_diagonal(J, 0.0)
    J = 0.5 * (J + J.T)
    h = np.arctanh(np.clip(m, -1 + 1e-12, 1 - 1e-12)) - J @ m
    return InverseIsingResult(
        method="naive mean field",
        couplings=J * T,
        fields=h * T,
        temperature=T,
        n_samples=m_eff,
        objective=float("nan"),
        converged=True,
        n_iterations=0,
    )


def sample_exactly(
    model: Ising, n_samples: int, *, temperature: float = 1.0, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Independent samples (n_samples, n) int8 drawn exactly from exp(-E/T)/Z by enumerating
    every state (n <= 20): a reference data set for inverse Ising."""
    from thermolearn.exact.enumeration import probability_table, state_index_to_spins

    m = check_positive_int("n_samples", n_samples)
    p, _ = probability_table(model, check_temperature(temperature))
    rng = numpy_generator(seed)
    return state_index_to_spins(rng.choice(p.size, size=m, p=p), model.n_spins)
