"""How heavy the tail of importance weights is: the Pareto shape k-hat.

An importance estimate Z_hat = mean(w) of w = p~/q has the central-limit error bar
sd(w) / sqrt(n) only when Var(w) is finite. The largest weights of almost any q follow a
generalised Pareto tail with shape k; Var(w) is infinite for k >= 1/2 and the error bar then
reads small however many samples there are (a reverse-KL flow or VAN, which covers too little of
p, is the usual case). Following Vehtari, Simpson, Gelman, Yao and Gabry (JMLR 2024,
"Pareto smoothed importance sampling"), k is estimated from the M = min(n/5, 3 sqrt(n)) largest
weights by Zhang and Stephens' (Technometrics 2009) empirical-Bayes fit, shrunk slightly toward
1/2. Their thresholds: k-hat <= 0.5 the error bar holds; 0.5 < k-hat <= 0.7 the estimate
converges but slowly and its error bar is too small; above min(0.7, 1 - 1/log10 n) the
estimate itself cannot be trusted.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.validation import check_positive_int

#: k-hat above which Var(w) is infinite: the sd(w)/sqrt(n) error bar is too small
PARETO_K_INFINITE_VARIANCE = 0.5
#: k-hat above which the importance estimate itself is unreliable (for n >= 2200 samples)
PARETO_K_UNRELIABLE = 0.7
#: the fewest weights for which a tail can be fitted (the tail then holds 5 of them)
MIN_WEIGHTS = 25
# Zhang-Stephens prior: the grid of candidate scales and the weakly informative shrinkage of k
_PRIOR_SCALE = 3.0
_PRIOR_K_WEIGHT = 10.0


def pareto_k_threshold(n_samples: int) -> float:
    """The k-hat above which ``n_samples`` importance weights cannot give a reliable estimate:
    min(0.7, 1 - 1 / log10 n) (below about 2200 samples a smaller k already fails)."""
    n_samples = check_positive_int("n_samples", n_samples)
    return min(PARETO_K_UNRELIABLE, 1.0 - 1.0 / math.log10(max(n_samples, 11)))


def pareto_k_hat(log_weights: ArrayLike) -> float:
    """The generalised-Pareto shape k-hat of the largest importance weights (dimensionless;
    see the module docstring). ``log_weights``: log w of n >= MIN_WEIGHTS samples, finite or
    -inf (a sample q drew where p~ is 0). NaN when the tail cannot be fitted: fewer samples, or
    tail weights all equal (no tail to speak of)."""
    log_w = np.asarray(log_weights, dtype=np.float64).ravel()
    if np.any(np.isnan(log_w)) or np.any(log_w == np.inf):
        raise ValueError("log_weights must be finite numbers or -inf (zero weight)")
    n = log_w.size
    if n < MIN_WEIGHTS:
        return math.nan
    tail = int(min(n / 5.0, 3.0 * math.sqrt(n)))
    ordered = np.sort(log_w)
    top = ordered[-1]
    if top == -np.inf:
        return math.nan
    # exceedances over the (tail + 1)-th largest weight, scaled by the largest (no overflow)
    threshold = math.exp(ordered[-tail - 1] - top)
    excess = np.exp(ordered[-tail:] - top) - threshold
    if not excess[-1] > 0.0:
        return math.nan
    return _zhang_stephens_shape(excess)


def _zhang_stephens_shape(x: np.ndarray) -> float:
    """k of a generalised Pareto fitted to exceedances ``x`` (sorted ascending, x[-1] > 0).

    The profile likelihood in theta = -k / sigma (k the tail shape, sigma the scale) is averaged over a grid of theta with weights
    proportional to the likelihood (Zhang & Stephens 2009), then k is shrunk toward 1/2 with the
    weight of ten observations, as PSIS does: a tail of 10-100 points gives a noisy k otherwise."""
    n = x.size
    grid = 30 + int(math.sqrt(n))
    quartile = x[max(int(n / 4.0 + 0.5) - 1, 0)]
    if not quartile > 0.0:  # more than a quarter of the tail at the threshold: use the smallest positive
        quartile = float(np.min(x[x > 0]))
    theta = 1.0 / x[-1] + (1.0 - np.sqrt(grid / (np.arange(1, grid + 1) - 0.5))) / (_PRIOR_SCALE * quartile)
    k = np.mean(np.log1p(-theta[:, None] * x[None, :]), axis=1)
    log_like = n * (np.log(-theta / k) - k - 1.0)
    weights = 1.0 / np.sum(np.exp(log_like[None, :] - log_like[:, None]), axis=1)
    weights /= weights.sum()
    theta_hat = float(np.sum(theta * weights))
    # with theta = -k / sigma the maximum-likelihood k given theta is mean log(1 - theta x), and the
    # profile log-likelihood above is n (log(k / sigma) - k - 1) at sigma = -k / theta
    shape = float(np.mean(np.log1p(-theta_hat * x)))
    return (n * shape + _PRIOR_K_WEIGHT * 0.5) / (n + _PRIOR_K_WEIGHT)


#: what to do about a heavy tail, by where the weights come from
REMEDY_TRAINED_PROPOSAL = "q misses part of p: train it longer or with the forward KL, or draw many more samples"
REMEDY_ANNEALING = "the annealing is too fast for this model: use more intermediate temperatures"


def importance_tail_problem(k_hat: float, n_samples: int, remedy: str = REMEDY_TRAINED_PROPOSAL) -> str | None:
    """The sentence that says what a Pareto ``k_hat`` of ``n_samples`` weights means for an
    importance estimate and its error bar, ending with ``remedy``, or None when the error bar
    holds (k-hat <= 0.5, or no tail could be fitted)."""
    if not k_hat > PARETO_K_INFINITE_VARIANCE:
        return None
    limit = pareto_k_threshold(n_samples)
    if k_hat > limit:
        return (
            f"the importance weights have a Pareto tail k-hat = {k_hat:.2f} > {limit:.2f}: a few samples carry "
            f"the estimate, which cannot be trusted, nor its error bar ({remedy})"
        )
    return (
        f"the importance weights have a Pareto tail k-hat = {k_hat:.2f} > {PARETO_K_INFINITE_VARIANCE}: their "
        f"variance is infinite, so the error bar is too small (the estimate converges, slowly; {remedy})"
    )
