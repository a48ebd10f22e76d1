"""An independent, deliberately naive reference: sum exp(-beta E) over every state in NumPy.

Used by tests to check the compiled enumeration, the transfer matrices and Kaufman's
formula. Only for n <= 20 spins.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp


def all_states(n: int) -> np.ndarray:
    """Every spin state of n spins, shape (2^n, n); bit i of the row index set means s_i = +1."""
    idx = np.arange(2**n)[:, None]
    return np.where((idx >> np.arange(n)) & 1, 1, -1).astype(np.int8)


def brute_force(model, temperature: float) -> dict:
    """log Z, <E>, C = beta^2 Var E, <M>, <M^2>, <s_i>, <s_i s_j> by direct summation."""
    assert model.n_spins <= 20
    beta = 1.0 / temperature
    s = all_states(model.n_spins)
    e = model.energy(s)
    logw = -beta * e
    log_z = logsumexp(logw)
    p = np.exp(logw - log_z)
    mean_e = p @ e
    # Var E about the ground energy: p @ (e - mean_e)^2 would carry the rounding of mean_e
    # (~1e-16 |E|) squared, which swamps a variance of e^-160 at low temperature
    d = e - e.min()
    var_e = p @ (d - p @ d) ** 2
    m = s.sum(axis=1).astype(float)
    x = s.astype(float)
    return {
        "log_z": float(log_z),
        "energy": float(mean_e),
        "specific_heat": float(beta**2 * var_e),
        "magnetization": float(p @ m),
        "magnetization_sq": float(p @ m**2),
        "abs_magnetization": float(p @ np.abs(m)),
        "mean_spins": p @ x,
        "correlations": (x * p[:, None]).T @ x,
        "probabilities": p,
    }
