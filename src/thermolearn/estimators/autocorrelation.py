"""Autocorrelation of Markov-chain time series: rho(t), tau_int and the effective sample size.

Successive samples of a Markov chain are correlated. For a stationary series with variance
sigma^2 and normalised autocorrelation function rho(t) = C(t) / C(0), the variance of the
mean of n samples is (sigma^2 / n) * 2 tau_int, with the integrated autocorrelation time

    tau_int = 1/2 + sum_{t >= 1} rho(t)      (in units of the spacing between samples)

so independent samples have tau_int = 1/2, the effective sample size is n / (2 tau_int)
and the error of the mean is sqrt(2 tau_int sigma^2 / n). The noisy tail of the sum is cut
at Sokal's self-consistent window, the smallest W with W >= c tau_int(W) (c = 6 here);
the statistical error of the estimate is then about sqrt(2 (2W + 1) / n) tau_int
(Madras & Sokal 1988). Several chains of equal length, shape (n_chains, n_samples), are
pooled: one grand mean, the chain-averaged autocovariance, n = all samples together.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import scipy.fft
from numpy.typing import ArrayLike

from thermolearn.estimators.series import as_chains
from thermolearn.validation import check_positive_float, check_positive_int

#: Sokal's window constant c in W >= c tau_int(W). Larger c: less truncation bias, more noise.
DEFAULT_WINDOW_C = 6.0

#: A series shorter than this many tau_int (per chain) gives an unreliable tau_int estimate.
MIN_SAMPLES_PER_TAU = 50.0


@dataclass(frozen=True)
class AutocorrelationTime:
    """Integrated autocorrelation time of a series and what follows from it.

    Attributes
    ----------
    tau : integrated autocorrelation time tau_int (samples); 1/2 for independent samples.
    tau_stderr : Madras-Sokal statistical error of ``tau``, sqrt(2 (2W + 1) / n) tau.
    window : summation window W (samples); 0 for a constant series.
    ess : effective sample size n / (2 tau).
    mean : the mean of the series (all chains pooled).
    variance : the variance of the series, C(0) (normalised by n).
    stderr : error of the mean, sqrt(2 tau variance / n).
    n_samples : number of samples n, all chains together.
    n_chains : number of chains.
    reliable : False when no window satisfied W >= c tau before the series ran out, or
        the chains are shorter than 50 tau (then tau, and every error bar built on it, are
        likely underestimated).
    """

    tau: float
    tau_stderr: float
    window: int
    ess: float
    mean: float
    variance: float
    stderr: float
    n_samples: int
    n_chains: int
    reliable: bool

    def as_dict(self) -> dict:
        """JSON-friendly dict (floats, ints and bools)."""
        return asdict(self)


def autocorrelation_function(x: ArrayLike, max_lag: int | None = None) -> np.ndarray:
    """Normalised autocorrelation rho(t) = C(t) / C(0) for lags t = 0 .. max_lag (FFT, O(n log n)).

    ``x`` is one series (n_samples,) or chains (n_chains, n_samples); chains share one grand
    mean and their autocovariances are averaged. C(t) = (1/n) sum_i (x_i - xbar)(x_{i+t} - xbar),
    the standard positive-definite estimator. ``max_lag`` defaults to n_samples - 1. A constant
    series has no defined autocorrelation and is reported as uncorrelated: rho = (1, 0, 0, ...).
    """
    chains = as_chains("x", x)
    n = chains.shape[1]
    if max_lag is None:
        max_lag = n - 1
    max_lag = check_positive_int("max_lag", max_lag, minimum=0)
    if max_lag > n - 1:
        raise ValueError(f"max_lag must be <= n_samples - 1 = {n - 1}, got {max_lag}")
    return _rho(chains)[: max_lag + 1]


def integrated_autocorrelation_time(
    x: ArrayLike, *, c: float = DEFAULT_WINDOW_C, warn: bool = True
) -> AutocorrelationTime:
    """Integrated autocorrelation time tau_int = 1/2 + sum_{t=1}^{W} rho(t), Sokal's window.

    ``x``: a series (n_samples,) or equal-length chains (n_chains, n_samples). The window W is
    the smallest with W >= c tau_int(W). Returns tau, its Madras-Sokal error, the window, the
    effective sample size n / (2 tau) and the error of the mean sqrt(2 tau var / n). Warns
    (RuntimeWarning) when the series is too short for a reliable estimate, unless ``warn`` is
    False (for callers that gather the unreliable quantities into one warning of their own;
    ``result.reliable`` says it either way).
    """
    result = _integrated_time(as_chains("x", x), check_positive_float("c", c))
    if warn and not result.reliable:
        warnings.warn(
            f"series too short for a reliable autocorrelation time: tau_int ~ {result.tau:.3g} from "
            f"{result.n_samples // result.n_chains} samples per chain (need >= {MIN_SAMPLES_PER_TAU:g} tau_int "
            f"and a window W >= {c:g} tau_int); error bars are likely too small",
            RuntimeWarning,
            stacklevel=2,
        )
    return result


def effective_sample_size(x: ArrayLike, *, c: float = DEFAULT_WINDOW_C) -> float:
    """Effective number of independent samples n / (2 tau_int) of a series or chains."""
    return integrated_autocorrelation_time(x, c=c).ess


def error_of_mean(x: ArrayLike, *, c: float = DEFAULT_WINDOW_C) -> float:
    """Autocorrelation-aware standard error of the mean, sqrt(2 tau_int var / n) (units of x)."""
    return integrated_autocorrelation_time(x, c=c).stderr


# ---------------------------------------------------------------------------- internals
def _rho(chains: np.ndarray) -> np.ndarray:
    """Chain-averaged normalised autocorrelation of (n_chains, n_samples) about the grand mean."""
    n = chains.shape[1]
    if np.ptp(chains) == 0:
        rho = np.zeros(n)
        rho[0] = 1.0
        return rho
    y = chains - chains.mean()
    size = scipy.fft.next_fast_len(2 * n - 1, real=True)
    f = scipy.fft.rfft(y, n=size, axis=1)
    acov = scipy.fft.irfft(f.real**2 + f.imag**2, n=size, axis=1)[:, :n].mean(axis=0) / n
    return acov / acov[0]


def _integrated_time(chains: np.ndarray, c: float) -> AutocorrelationTime:
    """tau_int of validated chains, no warnings (callers decide what to say)."""
    k, n = chains.shape
    total = k * n
    mean = float(chains.mean())
    if np.ptp(chains) == 0:
        # Zero variance: nothing fluctuates, the mean has no statistical error.
        return AutocorrelationTime(0.5, 0.0, 0, float(total), mean, 0.0, 0.0, total, k, True)
    variance = float(np.mean((chains - mean) ** 2))
    rho = _rho(chains)
    taus = 0.5 + np.cumsum(rho[1:])  # taus[W - 1] = tau_int(W), W = 1 .. n - 1
    windows = np.arange(1, n)
    ok = windows >= c * taus
    found = bool(ok.any())
    w = int(windows[np.argmax(ok)]) if found else n - 1
    tau = float(taus[w - 1])
    if c * tau < 1.0:
        # Anti-correlated (rho(1) < 0, e.g. Metropolis far above T_c): Sokal's rule is meant for
        # positive correlations; once tau(W) <= 1/c it holds at once, and where tau(1) = 1/2 +
        # rho(1) <= 0 it cuts the sum at its first, negative term (tau ~ 0, an error bar 10-100x
        # too small). Sum the lags in pairs Gamma_k = rho(2k) + rho(2k + 1) while they stay
        # positive instead (Geyer 1992's initial positive sequence), tau = -1/2 + sum_k Gamma_k;
        # its truncation leaves tau up to about 20% low for rho(1) = -0.9.
        tau, w, found = _paired_time(rho)
        # Near rho(1) = -1 (ULA near its step limit, HMC with a half-period trajectory) that sum is
        # a small difference of O(1) terms and noise ends it early or late: tau at its floor, error
        # bars 15-60x too small, or 9x too large. The variance of batch means measures
        # n Var(mean) directly; where the two disagree by more than a factor 2 it is the one kept.
        batch = _batch_means_time(chains, variance)
        if batch is not None and not 0.5 * batch <= tau <= 2.0 * batch:
            tau = batch
    # tau_int >= 0 always (it is n Var(mean) / (2 var)); the floor keeps ess and errors finite
    # for a series that alternates exactly (rho(1) = -1).
    tau = max(tau, 0.5 / total)
    tau_stderr = tau * math.sqrt(2.0 * (2 * w + 1) / total)
    reliable = found and n >= MIN_SAMPLES_PER_TAU * tau
    return AutocorrelationTime(
        tau=tau,
        tau_stderr=tau_stderr,
        window=w,
        ess=total / (2.0 * tau),
        mean=mean,
        variance=variance,
        stderr=math.sqrt(2.0 * tau * variance / total),
        n_samples=total,
        n_chains=k,
        reliable=reliable,
    )


#: batches per chain of the batch-means check on anti-correlated series, each at least MIN_BATCH long
BATCHES = 32
MIN_BATCH = 8


def _batch_means_time(chains: np.ndarray, variance: float) -> float | None:
    """tau_int = N Var(mean) / (2 var) with Var(mean) from the spread of batch means (up to
    BATCHES per chain; None for series too short). Batches of an anti-correlated series are
    nearly independent once they span its correlation length; the finite batch makes this
    slightly high (AR(1), rho(1) = -0.975, batches of 125: +30%), never low."""
    k, n = chains.shape
    batches = min(BATCHES, n // MIN_BATCH)
    if batches < 2 or variance <= 0.0:
        return None
    size = n // batches
    means = chains[:, n - batches * size :].reshape(k, batches, size).mean(axis=2)
    var_mean = float(means.var(ddof=1)) / (k * batches)
    return n * k * var_mean / (2.0 * variance)


def _paired_time(rho: np.ndarray) -> tuple[float, int, bool]:
    """(tau_int, window, whether the sequence ended before the series did) from the initial
    positive sequence of the pair sums Gamma_k = rho(2k) + rho(2k + 1) (Geyer 1992): tau_int =
    -1/2 + sum of the Gamma_k before the first one <= 0, window the last lag summed."""
    pairs = rho[0 : 2 * (rho.size // 2) : 2] + rho[1 : 2 * (rho.size // 2) : 2]
    ends = np.flatnonzero(pairs <= 0.0)
    k = int(ends[0]) if ends.size else pairs.size
    return -0.5 + float(pairs[:k].sum()), max(2 * k - 1, 1), bool(ends.size)
