"""Monte Carlo renormalisation group (Swendsen 1979): RG eigenvalues from block-spin correlations.

Configurations sampled at coupling K are blocked n times (:mod:`thermolearn.rg.block_spins`);
on every level m the totals S_a^(m) of a set of operators are measured
(:mod:`thermolearn.rg.operators`). With K^(m) the couplings of the level-m Hamiltonian,
d<S_a^(m)>/dK_c^(m-1) = sum_b d<S_a^(m)>/dK_b^(m) T_bc, and both derivatives are connected
correlations:

    A_ac = <S_a^(m) S_c^(m-1)> - <S_a^(m)><S_c^(m-1)>,   B_ab = <S_a^(m) S_b^(m)> - <S_a^(m)><S_b^(m)>,

so the linearised RG matrix of the step m-1 -> m is T^(m) = B^-1 A. Its largest eigenvalue
lambda gives the exponent y = ln lambda / ln b: the even operators give the thermal y_T = 1/nu,
the odd ones the magnetic y_h (2D Ising: y_T = 1, y_h = 15/8). Error bars are a bootstrap over
bins of consecutive samples (so correlated samples are resampled together); the central value
is the estimate from all samples. Truncating the operator sets and blocking a finite lattice
bias the estimates; both shrink with more operators and more levels on a larger lattice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thermolearn.number_text import power_text
from thermolearn.randomness.seeds import SeedLike, numpy_generator
from thermolearn.rg.block_spins import BLOCKING_RULES, block_spins, check_configurations
from thermolearn.rg.operators import EVEN_OPERATORS, ODD_OPERATORS, operator_span, operator_values
from thermolearn.validation import check_positive_int

__all__ = [
    "MCRGLevel",
    "MCRGResult",
    "OperatorSeries",
    "SAMPLES_PER_OPERATOR",
    "blocked_operator_series",
    "check_mcrg_plan",
    "mcrg_exponents",
    "minimum_samples",
    "rg_matrix",
]

#: Samples needed per operator of the larger set for a stable RG matrix (and at least 200):
#: B^-1 A is a ratio of covariance estimates, whose noise grows as the matrix grows.
SAMPLES_PER_OPERATOR = 50
_MIN_BINS = 20


def minimum_samples(n_even: int, n_odd: int) -> int:
    """The fewest samples :func:`mcrg_exponents` accepts for these operator counts."""
    n_even = check_positive_int("n_even", n_even, minimum=0)
    n_odd = check_positive_int("n_odd", n_odd, minimum=0)
    return max(200, SAMPLES_PER_OPERATOR * max(n_even, n_odd))


def _operator_names(names: Sequence[str] | None, dimension: int, table: dict[int, tuple[str, ...]], what: str):
    if dimension not in table:
        raise ValueError(f"dimension must be 1, 2 or 3, got {dimension}")
    if names is None:
        return table[dimension]
    names = tuple(names)
    if not names:
        raise ValueError(f"{what} operators must name at least one operator of {', '.join(table[dimension])}")
    for name in names:
        if name not in table[dimension]:
            raise ValueError(
                f"{what} operator must be one of {', '.join(table[dimension])} in d = {dimension}, got {name!r}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"{what} operators repeat a name: {', '.join(names)}")
    return names


def check_mcrg_plan(
    size: int,
    dimension: int,
    *,
    b: int = 2,
    blockings: int = 2,
    even: Sequence[str] | None = None,
    odd: Sequence[str] | None = None,
    n_samples: int | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check an MCRG run before any sampling and return its (even, odd) operator names.

    Raises ``ValueError`` when b^blockings does not divide ``size``, when there is no blocking
    (an RG matrix relates two levels), when the last block lattice is too small for an operator
    (side < 2 x its span), or when ``n_samples`` is below :func:`minimum_samples`."""
    size = check_positive_int("size", size, minimum=2)
    dimension = check_positive_int("dimension", dimension)
    b = check_positive_int("b", b, minimum=2)
    blockings = check_positive_int("blockings", blockings, minimum=0)
    even_names = _operator_names(even, dimension, EVEN_OPERATORS, "even")
    odd_names = _operator_names(odd, dimension, ODD_OPERATORS, "odd")
    if blockings < 1:
        raise ValueError("blockings must be at least 1: the RG matrix relates the operators of two levels")
    side = size
    for level in range(1, blockings + 1):
        if side % b:
            raise ValueError(
                f"block size b = {b} does not divide the lattice side at level {level - 1} ({side}): L = {size} "
                f"must be a multiple of b^blockings = {power_text(b, blockings)}"
            )
        side //= b
    widest = max(even_names + odd_names, key=lambda n: operator_span(n, dimension))
    span = operator_span(widest, dimension)
    if side < 2 * span:
        most = 0
        s = size
        while s % b == 0 and s // b >= 2 * span:
            s //= b
            most += 1
        raise ValueError(
            f"blockings = {blockings} leaves a {side}-site side, too small for operator {widest!r} (needs a side "
            f">= {2 * span}): use at most {most} blocking(s) of L = {size}, a larger L, or drop that operator"
        )
    if n_samples is not None:
        need = minimum_samples(len(even_names), len(odd_names))
        if n_samples < need:
            raise ValueError(
                f"samples = {n_samples} is too few for a stable RG matrix of {max(len(even_names), len(odd_names))} "
                f"operators: need at least {need}"
            )
    return even_names, odd_names


@dataclass(frozen=True)
class OperatorSeries:
    """Operator totals per sample and level: ``even`` (n_samples, levels + 1, n_even) and ``odd``
    (n_samples, levels + 1, n_odd), level 0 the sampled lattice; ``b`` the block size."""

    even: np.ndarray
    odd: np.ndarray
    even_names: tuple[str, ...]
    odd_names: tuple[str, ...]
    b: int
    size: int
    dimension: int
    rule: str

    @property
    def n_samples(self) -> int:
        """Number of configurations measured."""
        return int(self.even.shape[0])

    @property
    def blockings(self) -> int:
        """Number of blocking steps (levels beyond the original lattice)."""
        return int(self.even.shape[1] - 1)

    @staticmethod
    def concatenate(parts: Sequence[OperatorSeries]) -> OperatorSeries:
        """Series of the same plan, samples one after another."""
        first = parts[0]
        return OperatorSeries(
            np.concatenate([p.even for p in parts]),
            np.concatenate([p.odd for p in parts]),
            first.even_names,
            first.odd_names,
            first.b,
            first.size,
            first.dimension,
            first.rule,
        )


def blocked_operator_series(
    configurations: np.ndarray,
    *,
    b: int = 2,
    blockings: int = 2,
    rule: str = "majority",
    even: Sequence[str] | None = None,
    odd: Sequence[str] | None = None,
    seed: SeedLike = 0,
) -> OperatorSeries:
    """Block ``configurations`` (n_samples, L, ..., L) ``blockings`` times by ``b`` and measure the
    operators on every level. ``seed`` draws the majority rule's tie-breaks."""
    arr = check_configurations(configurations)
    if rule not in BLOCKING_RULES:
        raise ValueError(f"rule must be one of {', '.join(BLOCKING_RULES)}, got {rule!r}")
    d = arr.ndim - 1
    even_names, odd_names = check_mcrg_plan(arr.shape[1], d, b=b, blockings=blockings, even=even, odd=odd)
    rng = numpy_generator(seed)
    evens, odds = [], []
    level = arr
    for m in range(blockings + 1):
        if m:
            level = block_spins(level, b, rule, rng)
        evens.append(operator_values(level, even_names))
        odds.append(operator_values(level, odd_names))
    return OperatorSeries(
        np.stack(evens, axis=1), np.stack(odds, axis=1), even_names, odd_names, b, arr.shape[1], d, rule
    )


def rg_matrix(series: np.ndarray, level: int, weights: np.ndarray | None = None) -> np.ndarray:
    """T = B^-1 A of the step level-1 -> level from operator totals (n_samples, levels + 1, n_ops),
    with optional sample weights (the bootstrap's counts)."""
    upper = series[:, level, :]
    lower = series[:, level - 1, :]
    w = np.ones(series.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    # centred on the plain means first, so the covariances are not small differences of large totals
    upper = upper - upper.mean(axis=0)
    lower = lower - lower.mean(axis=0)
    mu_u = w @ upper / total
    mu_l = w @ lower / total
    a = (upper * w[:, None]).T @ lower / total - np.outer(mu_u, mu_l)
    bmat = (upper * w[:, None]).T @ upper / total - np.outer(mu_u, mu_u)
    return np.linalg.solve(bmat, a)


def _leading_exponent(t: np.ndarray, b: int) -> tuple[float, np.ndarray]:
    eig = np.linalg.eigvals(t)
    order = np.argsort(-eig.real)
    eig = eig[order]
    lam = float(eig[0].real)
    return (math.log(lam) / math.log(b) if lam > 0 else math.nan), eig


@dataclass(frozen=True)
class MCRGLevel:
    """Exponents from the RG matrix of the step level-1 -> level: estimate and bootstrap error.
    ``even_eigenvalues``/``odd_eigenvalues``: the eigenvalues of T, largest real part first."""

    level: int
    y_t: tuple[float, float]
    y_h: tuple[float, float]
    even_eigenvalues: np.ndarray
    odd_eigenvalues: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """The level as a JSON-ready dict: exponents y_t, y_h, nu = 1 / y_t with errors and the eigenvalues."""
        return {
            "level": self.level,
            "y_t": {"mean": _json(self.y_t[0]), "stderr": _json(self.y_t[1])},
            "y_h": {"mean": _json(self.y_h[0]), "stderr": _json(self.y_h[1])},
            "nu": {
                "mean": _json(1.0 / self.y_t[0]) if self.y_t[0] else None,
                "stderr": _json(self.y_t[1] / self.y_t[0] ** 2) if self.y_t[0] else None,
            },
            "even_eigenvalues": [_json(float(x.real)) for x in self.even_eigenvalues],
            "odd_eigenvalues": [_json(float(x.real)) for x in self.odd_eigenvalues],
        }


def _json(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class MCRGResult:
    """MCRG exponents per blocking level (``levels[m-1]`` is the step m-1 -> m) and the plan."""

    levels: list[MCRGLevel]
    size: int
    dimension: int
    b: int
    rule: str
    n_samples: int
    even_operators: tuple[str, ...]
    odd_operators: tuple[str, ...]
    bin_size: int
    n_bootstrap: int
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON record of ``thermolearn rg mcrg``."""
        return {
            "levels": [level.as_dict() for level in self.levels],
            "size": self.size,
            "dimension": self.dimension,
            "b": self.b,
            "rule": self.rule,
            "blockings": len(self.levels),
            "samples": self.n_samples,
            "even_operators": list(self.even_operators),
            "odd_operators": list(self.odd_operators),
            "bin_size": self.bin_size,
            "bootstrap": self.n_bootstrap,
            **self.extras,
        }


def mcrg_exponents(
    series: OperatorSeries, *, bin_size: int = 1, n_bootstrap: int = 200, seed: SeedLike = 0
) -> MCRGResult:
    """y_T and y_h on every level from operator series, with bootstrap error bars.

    Samples are grouped in bins of ``bin_size`` consecutive samples (choose it above the
    autocorrelation time of the sampler) and ``n_bootstrap`` resamplings of the bins give the
    standard error; at least 20 bins and :func:`minimum_samples` samples are needed."""
    bin_size = check_positive_int("bin_size", bin_size)
    n_bootstrap = check_positive_int("n_bootstrap", n_bootstrap, minimum=2)
    n = series.n_samples
    need = minimum_samples(len(series.even_names), len(series.odd_names))
    if n < need:
        raise ValueError(
            f"samples = {n} is too few for a stable RG matrix of "
            f"{max(len(series.even_names), len(series.odd_names))} operators: need at least {need}"
        )
    n_bins = n // bin_size
    if n_bins < _MIN_BINS:
        raise ValueError(
            f"bin_size = {bin_size} leaves {n_bins} bins of {n} samples: the bootstrap needs at least {_MIN_BINS} "
            f"(at least {_MIN_BINS * bin_size} samples, or a smaller bin_size)"
        )
    used = n_bins * bin_size
    even, odd = series.even[:used], series.odd[:used]
    rng = numpy_generator(seed)
    weights = np.repeat(rng.multinomial(n_bins, np.full(n_bins, 1.0 / n_bins), size=n_bootstrap), bin_size, axis=1)
    levels = []
    for m in range(1, series.blockings + 1):
        y_t, eig_even = _leading_exponent(rg_matrix(even, m), series.b)
        y_h, eig_odd = _leading_exponent(rg_matrix(odd, m), series.b)
        boot_t = np.array([_leading_exponent(rg_matrix(even, m, w), series.b)[0] for w in weights])
        boot_h = np.array([_leading_exponent(rg_matrix(odd, m, w), series.b)[0] for w in weights])
        levels.append(
            MCRGLevel(
                level=m,
                y_t=(y_t, float(np.nanstd(boot_t, ddof=1))),
                y_h=(y_h, float(np.nanstd(boot_h, ddof=1))),
                even_eigenvalues=eig_even,
                odd_eigenvalues=eig_odd,
            )
        )
    return MCRGResult(
        levels=levels,
        size=series.size,
        dimension=series.dimension,
        b=series.b,
        rule=series.rule,
        n_samples=used,
        even_operators=series.even_names,
        odd_operators=series.odd_names,
        bin_size=bin_size,
        n_bootstrap=n_bootstrap,
    )
