"""Blocking (binning) analysis of the error of a correlated mean (Flyvbjerg & Petersen 1989).

Average neighbouring pairs of samples again and again: at block size B = 2^k the n/B block
means become less correlated, and the naive standard error of their mean,
s_B / sqrt(n/B), rises towards the true error of the mean until it levels off on a plateau
once B is several autocorrelation times. Each point carries its own uncertainty
s_B / sqrt(n/B) / sqrt(2 (n/B - 1)). The plateau is picked with the criterion of Lee, Needs
& Drummond (2011): the smallest B with B^3 > 2 n (err_B / err_1)^4, which balances the bias
of too-small blocks against the noise of too-few blocks. The implied autocorrelation time is
tau_int = (err_B / err_1)^2 / 2.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.estimators.series import as_series
from thermolearn.validation import check_positive_int

#: Fewest blocks a level may have for its error to be picked (error of the error <~ 13%).
DEFAULT_MIN_BLOCKS = 32


@dataclass(frozen=True, eq=False)
class BinningResult:
    """Outcome of a blocking analysis: the chosen error and the whole curve.

    Attributes
    ----------
    mean : mean of the series.
    stderr : standard error of the mean read off the plateau (units of the series).
    stderr_error : uncertainty of ``stderr``, stderr / sqrt(2 (n_blocks - 1)).
    block_size : block size B (samples) at which ``stderr`` was read.
    tau : implied integrated autocorrelation time (stderr / naive stderr)^2 / 2 (samples).
    converged : False when no level with >= min_blocks blocks met the plateau criterion
        (then ``stderr`` is the last such level's and likely too small).
    block_sizes, stderrs, stderr_errors, n_blocks : the curve, one entry per level
        B = 1, 2, 4, ... while at least 2 blocks remain.
    """

    mean: float
    stderr: float
    stderr_error: float
    block_size: int
    tau: float
    converged: bool
    block_sizes: np.ndarray
    stderrs: np.ndarray
    stderr_errors: np.ndarray
    n_blocks: np.ndarray

    def as_dict(self) -> dict:
        """JSON-friendly dict: floats, ints, bools and lists."""
        return {
            "mean": float(self.mean),
            "stderr": float(self.stderr),
            "stderr_error": float(self.stderr_error),
            "block_size": int(self.block_size),
            "tau": float(self.tau),
            "converged": bool(self.converged),
            "block_sizes": [int(b) for b in self.block_sizes],
            "stderrs": [float(s) for s in self.stderrs],
            "stderr_errors": [float(s) for s in self.stderr_errors],
            "n_blocks": [int(b) for b in self.n_blocks],
        }


def blocking_curve(x: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standard error of the mean against block size B = 1, 2, 4, ... (Flyvbjerg-Petersen).

    Returns ``(block_sizes, stderrs, stderr_errors, n_blocks)``. At each level the block means
    are averaged in pairs (an odd last block is dropped); a level is kept while >= 2 blocks remain.
    """
    blocks = as_series("x", x)
    sizes, errs, err_errs, counts = [], [], [], []
    size = 1
    while blocks.size >= 2:
        m = blocks.size
        se = float(np.std(blocks, ddof=1)) / math.sqrt(m)
        sizes.append(size)
        errs.append(se)
        err_errs.append(se / math.sqrt(2.0 * (m - 1)))
        counts.append(m)
        half = m // 2
        blocks = 0.5 * (blocks[0 : 2 * half : 2] + blocks[1 : 2 * half : 2])
        size *= 2
    return np.array(sizes), np.array(errs), np.array(err_errs), np.array(counts)


def binning_analysis(x: ArrayLike, *, min_blocks: int = DEFAULT_MIN_BLOCKS) -> BinningResult:
    """Blocking analysis of a 1D series: error of the mean from the plateau, plus the curve.

    ``x``: time series (n_samples,), n_samples >= ``min_blocks``. The plateau level is the
    smallest block size B with at least ``min_blocks`` blocks and B^3 > 2 n (err_B / err_1)^4.
    Warns (RuntimeWarning) and returns ``converged=False`` when no level qualifies.
    """
    min_blocks = check_positive_int("min_blocks", min_blocks, minimum=2)
    arr = as_series("x", x)
    n = arr.size
    if n < min_blocks:
        raise ValueError(f"x has {n} samples; a blocking analysis needs at least min_blocks = {min_blocks}")
    sizes, errs, err_errs, counts = blocking_curve(arr)
    mean = float(arr.mean())
    if errs[0] == 0.0:  # constant series: no fluctuations, no error
        return BinningResult(mean, 0.0, 0.0, 1, 0.5, True, sizes, errs, err_errs, counts)
    eligible = np.flatnonzero(counts >= min_blocks)
    ratio4 = (errs / errs[0]) ** 4
    passing = eligible[sizes[eligible].astype(float) ** 3 > 2.0 * n * ratio4[eligible]]
    converged = passing.size > 0
    k = int(passing[0]) if converged else int(eligible[-1])
    if not converged:
        warnings.warn(
            f"binning analysis found no plateau: the series ({n} samples) is too short for its "
            f"autocorrelation time (tau ~ {0.5 * (errs[k] / errs[0]) ** 2:.3g} at the largest usable "
            f"block size {sizes[k]}); the error bar is likely too small",
            RuntimeWarning,
            stacklevel=2,
        )
    return BinningResult(
        mean=mean,
        stderr=float(errs[k]),
        stderr_error=float(err_errs[k]),
        block_size=int(sizes[k]),
        tau=0.5 * float(errs[k] / errs[0]) ** 2,
        converged=converged,
        block_sizes=sizes,
        stderrs=errs,
        stderr_errors=err_errs,
        n_blocks=counts,
    )
