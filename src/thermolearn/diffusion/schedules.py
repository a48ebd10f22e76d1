"""Noise schedules beta_1..beta_T of the forward process.

* ``paper``: Sohl-Dickstein et al.'s baseline, beta_t = 1/(T - (t-1)(T-2)/(T-1)) (``1/linspace(T, 2, T)``
  in their reference code): each step erases about a constant fraction of what is left of the
  data, leaving a fraction ~1/T of its variance at the end; beta_1 is raised to ``beta_1``
  (their ``step1_beta``, default 1e-3) and every beta is kept in [1e-6, 1 - 1e-5].
* ``linear``: Ho et al. (2020), beta rising linearly from 1e-4 to 0.02 over 1000 steps, rescaled by
  1000/T for other T (Nichol & Dhariwal's rescaling) and capped at 0.5 (reached at T = 40): for
  fewer steps the rescaled betas would approach 1, and the noise-prediction mean, which divides
  by sqrt(1 - beta_t), would amplify every error.
* ``cosine``: Nichol & Dhariwal (2021), alpha_bar(t) = cos^2(pi/2 (t/T + s)/(1 + s)), s = 0.008,
  beta capped at 0.999.
* ``snr``: the log signal-to-noise ratio log(alpha_bar_t / (1 - alpha_bar_t)) falls linearly in t
  from logit(1 - beta_1) (beta_1 default ``SNR_DEFAULT_BETA_1`` = 1e-4) to ``SNR_FINAL_LOG`` (-5:
  alpha_bar_T = 0.0067, the data's variance shrunk 150-fold).
  The noise standard deviation then shrinks by a constant factor per step at the data end,
  so every scale of the data gets the same number of steps; with few steps this matters most
  for data concentrated near a curve (the Swiss roll), whose fine scales the linear schedule
  crosses in one jump.
* ``binomial``: the paper's binomial schedule beta_t = 1/(T - t + 1): the last step forgets all.
"""

from __future__ import annotations

import math

import numpy as np

from thermolearn.validation import check_positive_int

DIFFUSION_SCHEDULES = ("paper", "linear", "cosine", "snr", "binomial")
SNR_FINAL_LOG = -5.0
SNR_DEFAULT_BETA_1 = 1e-4
SNR_MAX_BETA_1 = 1.0 / (1.0 + math.exp(SNR_FINAL_LOG))
"""The snr schedule's log signal-to-noise ratio must fall from logit(1 - beta_1) to SNR_FINAL_LOG, so
beta_1 must stay below 1 / (1 + exp(SNR_FINAL_LOG)) = 0.99331 (at the limit every later beta is 0)."""
LINEAR_MAX_BETA = 0.5


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def check_beta_1(schedule: str, beta_1: float | None, *, name: str = "beta_1") -> float | None:
    """``beta_1`` as a float after checking it suits ``schedule`` (``name`` is the argument in messages).

    Every schedule needs 0 < beta_1 < 1; the snr schedule also needs beta_1 < ``SNR_MAX_BETA_1``
    (its log signal-to-noise ratio must start above the final one and fall).
    """
    if beta_1 is None:
        return None
    value = float(beta_1)
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {beta_1}")
    if schedule == "snr" and not value < SNR_MAX_BETA_1:
        raise ValueError(
            f"{name} = {beta_1} is too large for the snr schedule: its log signal-to-noise ratio "
            f"log((1 - beta_1)/beta_1) must start above the final {SNR_FINAL_LOG:g}, so {name} must be "
            f"< {SNR_MAX_BETA_1:.5f}"
        )
    return value


def beta_schedule(name: str, steps: int, *, beta_1: float | None = None) -> np.ndarray:
    """beta_1..beta_T as a float64 array of length ``steps`` (index k holds beta_{k+1}).

    ``beta_1`` overrides the first step's variance (the resolution of the last reverse step).
    """
    if name not in DIFFUSION_SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(DIFFUSION_SCHEDULES)}, got {name!r}")
    steps = check_positive_int("steps", steps, minimum=2)
    beta_1 = check_beta_1(name, beta_1)
    if name == "paper":
        baseline = 1.0 / np.linspace(steps, 2.0, steps)
        min_beta = np.full(steps, 1e-6)
        min_beta[0] += 1e-3 if beta_1 is None else beta_1
        sig = 1.0 / (1.0 + np.exp(-_logit(baseline)))
        betas = min_beta + sig * (1.0 - min_beta - 1e-5)
        if beta_1 is not None:
            betas[0] = beta_1
        return betas
    if name == "linear":
        scale = 1000.0 / steps
        betas = np.minimum(np.linspace(1e-4 * scale, 0.02 * scale, steps), LINEAR_MAX_BETA)
    elif name == "snr":
        first = SNR_DEFAULT_BETA_1 if beta_1 is None else beta_1
        log_snr = np.linspace(math.log1p(-first) - math.log(first), SNR_FINAL_LOG, steps)
        abar = 1.0 / (1.0 + np.exp(-log_snr))
        betas = 1.0 - abar / np.concatenate([[1.0], abar[:-1]])
        betas[0] = first  # exactly, not through the round trip
        return betas
    elif name == "cosine":
        s = 0.008
        t = np.arange(steps + 1) / steps
        abar = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        betas = 1.0 - abar[1:] / abar[:-1]
    else:  # binomial
        betas = 1.0 / (steps - np.arange(1, steps + 1) + 1.0)
        if beta_1 is not None:
            betas[0] = beta_1
        return betas
    betas = np.minimum(betas, 0.999)
    if beta_1 is not None:
        betas[0] = beta_1
    return betas
