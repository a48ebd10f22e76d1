"""Compiled sweeps for the mean-field and TAP fixed-point iterations on CSR couplings.

One sweep over all spins and all starting points (columns) at once, synchronous (Jacobi:
``out`` is a second array) or sequential (Gauss-Seidel: ``out`` is ``X`` itself):

    phi_i = h_i + sum_j J_ij x_j - onsager * x_i * sum_j J_ij^2 (1 - x_j^2)
    x_i  <- x_i + a_c (tanh(beta phi_i) - x_i)

with onsager = 0 for naive mean field and onsager = beta for TAP. The states are an (n, k)
row-major array so the k columns of a neighbour are read together.
"""

from __future__ import annotations

import math

import numpy as np

from thermolearn.kernel_cache import njit


@njit(cache=True, nogil=True)
def _sweep(indptr, indices, data, h, beta, onsager, X, out, step, active, order, prev):  # pragma: no cover - compiled
    n, k = X.shape
    res = np.zeros(k)
    turn = np.zeros(k)
    acc = np.empty(k)
    acc2 = np.zeros(k)
    tap = onsager != 0.0
    for idx in range(n):
        i = order[idx]
        for c in range(k):
            acc[c] = h[i]
        if tap:
            for c in range(k):
                acc2[c] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                w = data[p]
                w2 = w * w
                for c in range(k):
                    xj = X[j, c]
                    acc[c] += w * xj
                    acc2[c] += w2 * (1.0 - xj * xj)
        else:
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                w = data[p]
                for c in range(k):
                    acc[c] += w * X[j, c]
        for c in range(k):
            xi = X[i, c]
            if active[c]:
                new = math.tanh(beta * (acc[c] - onsager * xi * acc2[c]))
                d = new - xi
                if abs(d) > res[c]:
                    res[c] = abs(d)
                turn[c] += d * prev[i, c]
                prev[i, c] = d
                out[i, c] = xi + step[c] * d
            else:
                out[i, c] = xi
    return res, turn


@njit(cache=True, nogil=True)
def greedy_coloring(indptr, indices):  # pragma: no cover - compiled
    """Colour each site with the smallest colour unused by its lower-numbered neighbours, so no
    two neighbours share a colour (two colours on even periodic and open square lattices)."""
    n = indptr.size - 1
    color = np.full(n, -1, dtype=np.int64)
    mark = np.full(n + 1, -1, dtype=np.int64)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            c = color[indices[p]]
            if c >= 0:
                mark[c] = i
        c = 0
        while mark[c] == i:
            c += 1
        color[i] = c
    return color


def solve_tanh_equations(
    couplings,
    fields: np.ndarray,
    beta: float,
    start: np.ndarray,
    *,
    onsager: float,
    damping: float,
    tol: float,
    max_iter: int,
    sequential: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped parallel iteration of x = tanh(beta phi(x)) from each column of ``start`` (n, k).

    The step a of each column starts at ``damping``, halves when the proposed change turns
    back on the previous one (sum_i d_i(t) d_i(t-1) < 0: an oscillation) and creeps back
    (x 1.05) to ``damping`` otherwise. A
    column stops when its residual max_i |tanh(beta phi_i) - x_i| < tol. ``sequential``
    updates the spins in place one after another (Gauss-Seidel: each update sees the new
    neighbours; with damping 1 this is coordinate ascent on the bound). Returns the final
    states (n, k), the residual of each column at its final state, and its iterations.
    """
    X = np.ascontiguousarray(start, dtype=np.float64)
    n, k = X.shape
    out = X if sequential else np.empty_like(X)
    # writable C arrays whatever the model holds (read-only views of a lattice's matrix too): one
    # compiled version of each kernel instead of one per read-only / writable mix
    indptr = np.require(couplings.indptr, np.int64, ["C", "W"])
    indices = np.require(couplings.indices, np.int64, ["C", "W"])
    data = np.require(couplings.data, np.float64, ["C", "W"])
    h = np.require(fields, np.float64, ["C", "W"])
    if sequential:
        order = np.argsort(greedy_coloring(indptr, indices), kind="stable").astype(np.int64)
    else:
        order = np.arange(n, dtype=np.int64)
    step = np.full(k, float(damping))
    prev = np.zeros_like(X)
    residual = np.full(k, np.inf)
    iterations = np.zeros(k, dtype=np.int64)
    active = np.ones(k, dtype=np.bool_)
    for it in range(max_iter + 1):
        # one sweep measures the residual at X and writes the damped update into out
        res, turn = _sweep(indptr, indices, data, h, float(beta), float(onsager), X, out, step, active, order, prev)
        residual[active] = res[active]
        iterations[active] = it
        finished = active & (res < tol)
        if it == max_iter or not np.any(active & ~finished):
            break
        if not sequential:  # finished columns keep X (the point whose residual was measured)
            out[:, finished] = X[:, finished]
        active &= ~finished
        worse = active & (turn < 0.0)
        better = active & ~worse
        step[worse] = np.maximum(step[worse] * 0.5, 1e-3)
        step[better] = np.minimum(step[better] * 1.05, damping)
        if not sequential:
            X, out = out, X
    return X, residual, iterations
