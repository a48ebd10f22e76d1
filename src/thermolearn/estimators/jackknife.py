"""Delete-one-block jackknife: bias-corrected estimates and error bars of functions of means.

For a derived quantity theta = f(<a>, <b>, ...) (a ratio, a variance, a Binder cumulant),
split the series into K contiguous blocks, recompute theta_i with block i left out, and use

    bias     = (K - 1) (mean_i theta_i - theta)
    estimate = theta - bias                                  (removes the O(1/n) bias)
    stderr   = sqrt((K - 1) / K * sum_i (theta_i - mean_i theta_i)^2)

Blocks much longer than the integrated autocorrelation time make the block means nearly
independent, so the error bar is autocorrelation-aware; by default the block size is
chosen from tau_int (see :func:`choose_block_size`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.estimators.autocorrelation import DEFAULT_WINDOW_C, _integrated_time
from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int

#: Default block length in units of tau_int: adjacent block means then correlate by
#: about tau_int / block_size, i.e. the error bar is low by about 2.5%.
DEFAULT_BLOCK_FACTOR = 20.0
#: Fewest blocks for a usable error bar (relative error of the error ~ 1/sqrt(2 K)).
DEFAULT_MIN_BLOCKS = 20
#: Most blocks (bounds the number of calls of the function; more gains little).
DEFAULT_MAX_BLOCKS = 1000


@dataclass(frozen=True, eq=False)
class JackknifeResult:
    """Jackknife estimate of f(means).

    Attributes
    ----------
    estimate : bias-corrected estimate theta - bias (float, or array if f returns one).
    stderr : jackknife standard error (same shape as ``estimate``).
    bias : estimated bias of the plain estimate, (K - 1)(mean_i theta_i - theta).
    raw : the plain estimate theta = f(means of the samples used).
    n_blocks : number of blocks K.
    block_size : samples per block.
    n_used : samples used, K * block_size (the first n - n_used samples are dropped).
    """

    estimate: float | np.ndarray
    stderr: float | np.ndarray
    bias: float | np.ndarray
    raw: float | np.ndarray
    n_blocks: int
    block_size: int
    n_used: int

    def as_dict(self) -> dict:
        """JSON-friendly dict (floats or nested lists)."""

        def conv(v: float | np.ndarray) -> float | list:
            return np.asarray(v, dtype=float).tolist()

        return {
            "estimate": conv(self.estimate),
            "stderr": conv(self.stderr),
            "bias": conv(self.bias),
            "raw": conv(self.raw),
            "n_blocks": int(self.n_blocks),
            "block_size": int(self.block_size),
            "n_used": int(self.n_used),
        }


def choose_block_size(
    n_samples: int,
    tau: float,
    *,
    factor: float = DEFAULT_BLOCK_FACTOR,
    min_blocks: int = DEFAULT_MIN_BLOCKS,
    max_blocks: int = DEFAULT_MAX_BLOCKS,
    warn: bool = True,
) -> int:
    """Block size (samples) for a jackknife or binning of a series with autocorrelation time ``tau``.

    ceil(factor * tau), enlarged so that there are at most ``max_blocks`` blocks, and shrunk
    so that there are at least ``min_blocks`` (when n_samples allows); shrinking means the
    series is too short for blocks of ``factor`` tau, which gives a RuntimeWarning if ``warn``.
    """
    n = check_positive_int("n_samples", n_samples, minimum=2)
    tau = check_positive_float("tau", tau)
    factor = check_positive_float("factor", factor)
    min_blocks = check_positive_int("min_blocks", min_blocks, minimum=2)
    max_blocks = check_positive_int("max_blocks", max_blocks, minimum=2)
    if max_blocks < min_blocks:  # named as the pair: either one may be the one to change
        raise ValueError(f"min_blocks ({min_blocks}) must not exceed max_blocks ({max_blocks})")
    size = max(1, math.ceil(factor * tau))
    if n // size > max_blocks:
        size = math.ceil(n / max_blocks)
    if n // size < min_blocks:
        size = max(1, n // min_blocks)
        if warn:
            warnings.warn(
                f"series of {n} samples is too short for {min_blocks} blocks of {factor:g} tau_int "
                f"(tau_int ~ {tau:.3g}); using blocks of {size} samples, so the error bar is likely "
                f"too small: run about {math.ceil(factor * tau * min_blocks)} samples or more",
                RuntimeWarning,
                stacklevel=2,
            )
    return size


def jackknife(
    fn: Callable[..., float | np.ndarray],
    *series: ArrayLike,
    n_blocks: int | None = None,
    block_size: int | None = None,
    c: float = DEFAULT_WINDOW_C,
) -> JackknifeResult:
    """Delete-one-block jackknife of ``fn(mean(series_1), mean(series_2), ...)``.

    Each series has the sample axis first, shape (n_samples,) or (n_samples, ...), and all have
    the same n_samples; ``fn`` receives the means (a float, or an array of the trailing shape)
    and returns a number or an array. Give ``n_blocks`` (>= 2) or ``block_size`` (>= 1), or
    neither: then the block size comes from the largest tau_int among the series' components
    (Sokal window constant ``c``) via :func:`choose_block_size`. When n_samples is not a
    multiple of the block size, the first n mod block_size samples (nearest to the start of
    the run) are dropped.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function of the series' means, got {fn!r}")
    if not series:
        raise ValueError("jackknife needs at least one series")
    arrays = []
    for i, s in enumerate(series):
        arr = check_finite_array(f"series[{i}]", s)
        if arr.ndim == 0:
            raise ValueError(f"series[{i}] must have a sample axis first, shape (n_samples, ...), got a scalar")
        arrays.append(arr)
    n = arrays[0].shape[0]
    for i, arr in enumerate(arrays):
        if arr.shape[0] != n:
            raise ValueError(
                f"every series needs the same number of samples: series[0] has {n}, series[{i}] has {arr.shape[0]}"
            )
    if n < 2:
        raise ValueError(f"series have {n} sample(s); the jackknife needs at least 2")
    if n_blocks is not None and block_size is not None:
        raise ValueError("give n_blocks or block_size, not both")
    if n_blocks is not None:
        k = check_positive_int("n_blocks", n_blocks, minimum=2)
        if k > n:
            raise ValueError(f"n_blocks must be between 2 and n_samples = {n}, got {k}")
        b = n // k
    else:
        if block_size is None:
            c = check_positive_float("c", c)
            tau = max(_integrated_time(col[None, :], c).tau for arr in arrays for col in arr.reshape(n, -1).T)
            block_size = choose_block_size(n, tau)
        b = check_positive_int("block_size", block_size)
        if n // b < 2:
            raise ValueError(f"block_size must leave at least 2 blocks of the {n} samples, got {b}")
        k = n // b
    used = k * b
    start = n - used
    block_sums = [arr[start:].reshape((k, b) + arr.shape[1:]).sum(axis=1) for arr in arrays]
    totals = [bs.sum(axis=0) for bs in block_sums]
    full_means = [t / used for t in totals]
    loo_means = [(t - bs) / (used - b) for t, bs in zip(totals, block_sums)]

    theta = _evaluate(fn, full_means, "the full sample")
    thetas = np.stack([_evaluate(fn, [m[i] for m in loo_means], f"block {i} left out") for i in range(k)])
    if thetas.shape[1:] != theta.shape:
        raise ValueError(f"fn must return the same shape every time, got {theta.shape} and {thetas.shape[1:]}")
    theta_bar = thetas.mean(axis=0)
    bias = (k - 1) * (theta_bar - theta)
    stderr = np.sqrt((k - 1) / k * np.sum((thetas - theta_bar) ** 2, axis=0))

    def out(v: np.ndarray) -> float | np.ndarray:
        return float(v) if v.ndim == 0 else v

    return JackknifeResult(
        estimate=out(theta - bias),
        stderr=out(stderr),
        bias=out(bias),
        raw=out(theta),
        n_blocks=k,
        block_size=b,
        n_used=used,
    )


def _evaluate(fn: Callable[..., object], means: list, where: str) -> np.ndarray:
    value = np.asarray(fn(*means), dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"fn returned NaN or infinity on the means of {where}; it must be finite there")
    return value
