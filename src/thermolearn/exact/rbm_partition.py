"""Exact log Z of a Bernoulli-Bernoulli RBM by summing over its smaller layer.

E(v, h) = -v^T W h - b^T v - c^T h with v in {0,1}^n, h in {0,1}^m (k_B = 1, beta = 1). One
layer sums out in closed form, so with m <= MAX_SUMMED_UNITS hidden units

    log Z = logsumexp_h [ c.h + sum_i softplus(b_i + (W h)_i) ],

2^m terms of O(n) work each; when the visible layer is the smaller one the roles swap
(W -> W^T, b <-> c). The summed layer is split into a low block of k units, whose
contribution exp((W h_low)_i) is tabulated once, and the 2^(m-k) high states, four at a
time per thread. Each term's sum of softplus is computed as the log of a running product of the
factors 1 + exp(a_i) = 1 + u_i L_is (u from the high bits, L from the table): one
multiply-add per unit and state, no transcendental in the inner loop. The running product is
rescaled by a fixed power of ten every few factors (how many follows from bounds on the
factors), so it never overflows and costs one log per state. Units whose fields could leave
[-300, 300] take the slower softplus path, so nothing overflows for any finite parameters.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange
from numpy.typing import ArrayLike

from thermolearn.kernel_cache import bind_globals, njit
from thermolearn.validation import check_finite_array

MAX_SUMMED_UNITS = 25
"""Largest smaller layer summed exactly (2^25 terms: seconds on two cores for 784 visibles)."""

_SCALE = 1e150
_LOG_SCALE = math.log(_SCALE)
# A factor 1 + exp(a) with |a| <= _TAME_FIELD keeps u, L and their product finite and normal.
_TAME_FIELD = 300.0
# Factors multiplied between rescalings stay below exp(_GROUP_LOG_BUDGET) ~ 1e147, so the
# running product (<= _SCALE before the group) stays below ~1e297.
_GROUP_LOG_BUDGET = 340.0
_MAX_GROUP = 16
# Bytes of the tabulated low block: small enough to stay in a per-core cache.
_TABLE_BYTES = 2**21
# High states sharing one pass over the table (a power of two).
_HIGH_BLOCK = 4


def check_rbm_parameters(
    weights: ArrayLike, visible_bias: ArrayLike, hidden_bias: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (W, b, c) as float64 arrays, checking shapes (n, m), (n,), (m,) and finiteness."""
    W = check_finite_array("weights", weights, ndim=2)
    b = check_finite_array("visible_bias", visible_bias, ndim=1)
    c = check_finite_array("hidden_bias", hidden_bias, ndim=1)
    n, m = W.shape
    if n == 0 or m == 0:
        raise ValueError(f"weights must have shape (n_visible, n_hidden) with both >= 1, got {W.shape}")
    if b.shape != (n,):
        raise ValueError(f"visible_bias must have shape ({n},) to match weights {W.shape}, got {b.shape}")
    if c.shape != (m,):
        raise ValueError(f"hidden_bias must have shape ({m},) to match weights {W.shape}, got {c.shape}")
    return W, b, c


def check_binary_data(data: ArrayLike, n_visible: int, name: str = "data") -> np.ndarray:
    """Return binary images as a float64 array (n_images, n_visible) with values in {0, 1}."""
    arr = np.asarray(data)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of 0/1 numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_visible or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n_images, {n_visible}) with n_images >= 1, got {np.shape(data)}")
    arr = arr.astype(np.float64)
    if not np.all((arr == 0.0) | (arr == 1.0)):
        raise ValueError(f"{name} must contain only 0 and 1 (binarise it first) for a Bernoulli RBM")
    return arr


def rbm_free_energy(weights: ArrayLike, visible_bias: ArrayLike, hidden_bias: ArrayLike, data: ArrayLike) -> np.ndarray:
    """Free energy F(v) = -b.v - sum_j softplus(c_j + (v W)_j) of each row of ``data`` (nats).

    p(v) = exp(-F(v)) / Z; returns shape (n_images,).
    """
    W, b, c = check_rbm_parameters(weights, visible_bias, hidden_bias)
    v = check_binary_data(data, W.shape[0])
    return -(v @ b) - np.sum(np.logaddexp(0.0, v @ W + c), axis=1)


@njit(inline="always")
def _wild_terms(terms, hs, bias_wild, w_high_wild, log_table_wild):  # pragma: no cover - compiled
    """terms[s] += sum over the wild units i of softplus(a_i + log_table_wild[i, s]), a_i the unit's
    field from the high state ``hs`` (the slow, overflow-free path)."""
    n_high = w_high_wild.shape[1]
    for i in range(bias_wild.shape[0]):
        a = bias_wild[i]
        for j in range(n_high):
            if (hs >> j) & 1:
                a += w_high_wild[i, j]
        row = log_table_wild[i]
        for s in range(terms.shape[0]):
            x = a + row[s]
            terms[s] += max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@njit(inline="always")
def _no_wild_terms(terms, hs, bias_wild, w_high_wild, log_table_wild):  # pragma: no cover - compiled
    """No wild units (the usual case): nothing to add."""
    return


# what the kernel template calls; bind_globals rebinds it per kernel
wild_terms = _wild_terms


def _log_partition_template(  # pragma: no cover - compiled
    bias_tame,
    w_high_tame,
    table,
    group,
    bias_wild,
    w_high_wild,
    log_table_wild,
    c_low,
    c_high,
    n_block,
):
    # One term per high state: logsumexp over the low block of
    # c.h + sum_i log(1 + u_i L_is) (tame units) + sum_i softplus(.) (wild units).
    # n_block high states share each pass over the table (fewer loads per multiply).
    n_tame, n_low_states = table.shape
    n_high = c_high.shape[0]
    n_high_states = 1 << n_high
    out = np.empty(n_high_states)
    for blk in prange(n_high_states // n_block):
        u = np.empty((n_block, n_tame))
        for q in range(n_block):
            hs = blk * n_block + q
            for i in range(n_tame):
                a = bias_tame[i]
                for j in range(n_high):
                    if (hs >> j) & 1:
                        a += w_high_tame[i, j]
                u[q, i] = math.exp(a)
        prod = np.ones((n_block, n_low_states))
        n_rescaled = np.zeros((n_block, n_low_states))
        for i in range(n_tame):
            row = table[i]
            for q in range(n_block):
                uq = u[q, i]
                pq = prod[q]
                for s in range(n_low_states):
                    pq[s] *= 1.0 + uq * row[s]
            if (i + 1) % group == 0 or i == n_tame - 1:
                for q in range(n_block):
                    pq = prod[q]
                    kq = n_rescaled[q]
                    for s in range(n_low_states):
                        big = pq[s] > _SCALE
                        pq[s] = pq[s] * (1.0 / _SCALE) if big else pq[s]
                        kq[s] += 1.0 if big else 0.0
        terms = np.empty(n_low_states)
        for q in range(n_block):
            hs = blk * n_block + q
            ch = 0.0
            for j in range(n_high):
                if (hs >> j) & 1:
                    ch += c_high[j]
            for s in range(n_low_states):
                terms[s] = math.log(prod[q, s]) + n_rescaled[q, s] * _LOG_SCALE + c_low[s]
            wild_terms(terms, hs, bias_wild, w_high_wild, log_table_wild)
            top = -np.inf
            for s in range(n_low_states):
                top = max(top, terms[s])
            acc = 0.0
            for s in range(n_low_states):
                acc += math.exp(terms[s] - top)
            out[hs] = top + math.log(acc) + ch
    top = out.max()
    acc = 0.0
    for hs in range(n_high_states):
        acc += math.exp(out[hs] - top)
    return top + math.log(acc)


# Two kernels, each compiled on its first use: without wild units (the usual case) the kernel has
# no softplus path to compile (0.7 of its 4.5 CPU s cold).
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
_log_partition_kernel = njit(cache=True, parallel=True, fastmath=_FASTMATH)(
    bind_globals(_log_partition_template, "wild", wild_terms=_wild_terms)
)
_log_partition_kernel_tame = njit(cache=True, parallel=True, fastmath=_FASTMATH)(
    bind_globals(_log_partition_template, "tame", wild_terms=_no_wild_terms)
)


def _summed_layer_log_partition(W: np.ndarray, a_bias: np.ndarray, s_bias: np.ndarray) -> float:
    # log sum_{s in {0,1}^m} exp(s_bias.s + sum_i softplus(a_bias_i + (W s)_i)), W of shape (n, m).
    n, m = W.shape
    k = int(np.clip(math.floor(math.log2(max(_TABLE_BYTES / (8.0 * n), 1.0))), 1, 10))
    k = min(k, m)
    low = ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(np.float64)
    c_low = low @ s_bias[:k]
    c_high = np.ascontiguousarray(s_bias[k:])
    field_bound = np.abs(a_bias) + np.abs(W).sum(axis=1)
    tame = field_bound <= _TAME_FIELD
    wild = ~tame
    log_low = W[:, :k] @ low.T  # (n, 2^k): the low block's field on each unit
    if np.any(tame):
        factor_log_bound = float(np.logaddexp(0.0, field_bound[tame]).max())
        group = int(max(1, min(_MAX_GROUP, math.floor(_GROUP_LOG_BUDGET / factor_log_bound))))
    else:
        group = 1
    kernel = _log_partition_kernel if np.any(wild) else _log_partition_kernel_tame
    return float(
        kernel(
            np.ascontiguousarray(a_bias[tame]),
            np.ascontiguousarray(W[tame][:, k:]),
            np.ascontiguousarray(np.exp(log_low[tame])),
            group,
            np.ascontiguousarray(a_bias[wild]),
            np.ascontiguousarray(W[wild][:, k:]),
            np.ascontiguousarray(log_low[wild]),
            c_low,
            c_high,
            min(_HIGH_BLOCK, 1 << (m - k)),
        )
    )


def rbm_log_partition(weights: ArrayLike, visible_bias: ArrayLike, hidden_bias: ArrayLike) -> float:
    """Exact log Z = log sum_{v,h} exp(v^T W h + b.v + c.h) of a Bernoulli-Bernoulli RBM (nats).

    Sums over the smaller layer (at most ``MAX_SUMMED_UNITS`` = 25 units) with the other
    summed analytically. ``weights`` has shape (n_visible, n_hidden).
    """
    W, b, c = check_rbm_parameters(weights, visible_bias, hidden_bias)
    n, m = W.shape
    if min(n, m) > MAX_SUMMED_UNITS:
        raise ValueError(
            f"exact log Z sums over the smaller layer, limited to {MAX_SUMMED_UNITS} units "
            f"(2^{MAX_SUMMED_UNITS} terms); this RBM has {n} visible and {m} hidden units. "
            "Use annealed importance sampling (thermolearn.estimators.ais) instead."
        )
    if m <= n:
        return _summed_layer_log_partition(W, b, c)
    return _summed_layer_log_partition(np.ascontiguousarray(W.T), c, b)


def rbm_exact_log_likelihood(
    weights: ArrayLike, visible_bias: ArrayLike, hidden_bias: ArrayLike, data: ArrayLike
) -> tuple[float, float]:
    """Average log-likelihood log p(v) = -F(v) - log Z of binary images, exact (nats per image).

    Returns (mean, stderr), the standard error of the mean over the images (0 for one image).
    """
    W, b, c = check_rbm_parameters(weights, visible_bias, hidden_bias)
    log_p = -rbm_free_energy(W, b, c, data) - rbm_log_partition(W, b, c)
    return _mean_and_stderr(log_p)


def _mean_and_stderr(values: np.ndarray) -> tuple[float, float]:
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, 0.0
    return mean, float(np.std(values, ddof=1) / math.sqrt(values.size))
