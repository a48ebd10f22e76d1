"""The log-likelihood lower bound on held-out data, term by term, in bits.

For each held-out x_0 the bound (Sohl-Dickstein et al. 2015, Eq. 14; Ho et al. 2020, Eq. 5) is

    log p(x_0) >= E_q[log p(x_0|x_1)] - sum_{t=2}^T E_q[KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t))]
                  - KL(q(x_T|x_0) || p(x_T)).

Every KL is in closed form; the expectation over x_t ~ q(x_t|x_0) uses one fresh draw per
sample and step (``draws`` averages several), so each sample's bound is an unbiased estimate
and the mean over n held-out samples carries a standard error. Convention (the paper's Table
1): the log-likelihood bound K, higher is better, in bits; for 2D points per sample in the
standardised coordinates (unit variance per coordinate), for images per pixel.

Quantised images (``levels`` grey levels, each value the centre (2k + 1)/levels - 1 of a bin of
width 2/levels) are discrete, and a density evaluated at the bin centres bounds nothing about
their probability: a model can put a narrow peak on every centre and score above the data's
own log probability. The bound therefore follows Theis et al. (2016): for u uniform in the bin
(-1/levels, 1/levels) per pixel,

    log P(x) = log E_u[p(x + u)] + d log(2/levels) >= E_u[log p(x + u)] + d log(2/levels),

where P(x) is the model's probability of the bin (its density integrated over it). Each draw
uses a fresh u (seeded, like the x_t), so the per-sample bound is an unbiased estimate of a
lower bound on log P(x), and its mean over data of -H(data) at most. Binary images are scored
exactly as discrete data.

``null_bits`` is the paper's L_null: the log likelihood under the isotropic standard Gaussian
N(0, I) (continuous data) or independent fair coins (binary), so ``bound - null`` is the
paper's right-hand column ``K - L_null``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from thermolearn.diffusion.model import DiffusionModel
from thermolearn.randomness.seeds import SeedLike, jax_key
from thermolearn.validation import check_positive_int

LN2 = math.log(2.0)

PAPER_SWISS_ROLL_BITS = 2.35
"""Sohl-Dickstein et al. (2015), Table 1: K on held-out Swiss-roll data, 40 steps, bits (per 2D sample)."""
PAPER_SWISS_ROLL_GAIN_BITS = 6.45
"""The same table's K - L_null for the Swiss roll (improvement over the standard Gaussian)."""


@dataclass
class BoundResult:
    """Per-sample bounds and the mean of each term, in bits (per pixel when ``per_dim``)."""

    bits: np.ndarray  # (n,) per-sample bound
    per_dim: bool
    prior_bits: float  # mean of -KL(q(x_T|x_0) || p(x_T))
    kl_bits: np.ndarray  # (T-1,) mean of -KL at t = 2..T
    reconstruction_bits: float  # mean of log p(x_0|x_1)
    offset_bits: float = 0.0  # log(bin width) for quantised images, per pixel or sample
    null_bits: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of data rows the bound was evaluated on."""
        return int(self.bits.size)

    @property
    def mean(self) -> float:
        """The mean bound on log p(x) over the data rows (bits; per dimension when ``per_dim``)."""
        return float(np.mean(self.bits))

    @property
    def stderr(self) -> float:
        """Standard error of :attr:`mean` over the rows (bits); NaN for one row."""
        return float(np.std(self.bits, ddof=1) / math.sqrt(self.n)) if self.n > 1 else float("nan")

    def as_dict(self) -> dict:
        """A JSON-ready dict; a standard error that is undefined (one sample) is ``None``."""
        stderr = self.stderr
        return {
            "bound_bits": {"mean": self.mean, "stderr": stderr if math.isfinite(stderr) else None},
            "per_dim": self.per_dim,
            "n": self.n,
            "terms_bits": {
                "prior": self.prior_bits,
                "kl": [float(v) for v in self.kl_bits],
                "reconstruction": self.reconstruction_bits,
                "discretisation": self.offset_bits,
            },
            "null_bits": self.null_bits,
            **self.extra,
        }


def log_likelihood_bound(
    model: DiffusionModel,
    data: ArrayLike,
    *,
    seed: SeedLike | jax.Array = 0,
    batch_size: int = 500,
    draws: int = 1,
    per_dim: bool | None = None,
    levels: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> BoundResult:
    """The bound on each row of ``data`` (held-out, model coordinates), term by term (see module doc).

    ``per_dim`` (default: True for images, i.e. when the model has an image shape) divides by
    the dimension. ``levels`` marks ``data`` as quantised images whose values are bin centres
    (2k + 1)/levels - 1: each draw then scores x + u with u uniform in the bin (-1/levels,
    1/levels) per pixel and adds log(2/levels) per pixel, a bound on the log probability of the
    discrete image (see the module doc; Gaussian diffusion only). ``progress(k)`` is called with
    the number of samples done after each batch.
    """
    if not isinstance(model, DiffusionModel):
        raise TypeError(f"model must be a DiffusionModel, got {type(model).__name__}")
    x = np.asarray(data, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != model.dim or len(x) == 0:
        raise ValueError(f"data must have shape (n, {model.dim}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("data contains NaN or infinity")
    if model.config.process == "binomial" and not np.all((x == 0) | (x == 1)):
        raise ValueError("binomial diffusion scores binary data: every value must be 0 or 1")
    batch_size = check_positive_int("batch_size", batch_size)
    draws = check_positive_int("draws", draws)
    if levels is not None:
        levels = _check_levels(model, x, levels)
    if per_dim is None:
        per_dim = model.config.image_shape is not None
    d = model.dim
    key = jax_key(seed)
    prior, kl, rec = [], [], []
    for start in range(0, len(x), batch_size):
        xb = jnp.asarray(x[start : start + batch_size])
        acc = None
        for r in range(draws):
            k = jax.random.fold_in(key, start * draws + r)
            # the bound's own draws keep key k (continuous data score as before); the
            # dequantisation noise comes from a key derived from it
            xr = xb if levels is None else _dequantised(xb, levels, jax.random.fold_in(k, _DEQUANTISE_STREAM))
            terms = [np.asarray(a, dtype=np.float64) for a in model.bound_terms(xr, k)]
            acc = terms if acc is None else [a + b for a, b in zip(acc, terms)]
        assert acc is not None  # draws >= 1
        prior.append(acc[0] / draws)
        kl.append(acc[1] / draws)
        rec.append(acc[2] / draws)
        if progress is not None:
            progress(min(start + batch_size, len(x)))
    prior_n, kl_n, rec_n = np.concatenate(prior), np.concatenate(kl), np.concatenate(rec)
    nats = rec_n - prior_n - kl_n.sum(axis=1)
    offset = d * math.log(2.0 / levels) if levels else 0.0
    scale = 1.0 / (LN2 * (d if per_dim else 1))
    if model.config.process == "gaussian":
        # N(0, I) scored like the model: E_u[log N(x + u)] exactly, Var(u) = (1/levels)^2 / 3 per pixel
        spread = d / (3.0 * levels**2) if levels else 0.0
        null = -0.5 * (d * math.log(2 * math.pi) + (x.astype(np.float64) ** 2).sum(axis=1) + spread) + offset
    else:
        null = np.full(len(x), -d * LN2)
    return BoundResult(
        bits=(nats + offset) * scale,
        per_dim=bool(per_dim),
        prior_bits=float(-prior_n.mean() * scale),
        kl_bits=-kl_n.mean(axis=0) * scale,
        reconstruction_bits=float(rec_n.mean() * scale),
        offset_bits=float(offset * scale),
        null_bits=float(null.mean() * scale),
    )


_DEQUANTISE_STREAM = 0x6465_7175  # folded into a draw's key for its dequantisation noise
_GRID_TOLERANCE = 1e-3  # in units of one grey level: float32 centres are far closer


def _check_levels(model: DiffusionModel, x: np.ndarray, levels) -> int:
    """``levels`` as an int, after checking the model is Gaussian and ``x`` holds bin centres."""
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ValueError(f"levels must be an integer >= 2 (grey levels of quantised images), got {levels!r}")
    levels = int(levels)
    if model.config.process != "gaussian":
        raise ValueError(
            "levels is for Gaussian diffusion of quantised grey images; binomial diffusion scores "
            "binary images as discrete data already: leave levels out"
        )
    k = (x.astype(np.float64) + 1.0) * levels / 2.0 - 0.5  # grey level k sits at (2k + 1)/levels - 1
    wrong = (np.abs(k - np.round(k)) > _GRID_TOLERANCE) | (k < -_GRID_TOLERANCE) | (k > levels - 1 + _GRID_TOLERANCE)
    if np.any(wrong):
        bad = float(x.ravel()[np.flatnonzero(wrong.ravel())[0]])
        raise ValueError(
            f"with levels = {levels} every value must be a bin centre (2k + 1)/{levels} - 1, k = 0..{levels - 1} "
            f"(the bound adds its own uniform noise across the bin), got {bad:.6g}; give the quantised "
            "images, not dequantised ones, or leave levels out for continuous data"
        )
    return levels


@jax.jit
def _dequantised_jit(x, half_width, key):
    return x + jax.random.uniform(key, x.shape, dtype=x.dtype, minval=-half_width, maxval=half_width)


def _dequantised(x, levels: int, key):
    """``x`` plus uniform noise across each pixel's bin (-1/levels, 1/levels)."""
    return _dequantised_jit(x, jnp.float32(1.0 / levels), key)


def entropy_bounds_bits(model: DiffusionModel) -> tuple[np.ndarray, np.ndarray]:
    """The paper's lower and upper bounds on H_q(X_{t-1}|X_t), t = 1..T, in bits per dimension."""
    lo, hi = model.process.reverse_entropy_bounds()
    return lo / LN2, hi / LN2
