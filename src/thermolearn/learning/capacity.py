"""The storage capacity experiment: retrieval overlap against the load alpha = P / N.

For each of ``n_sets`` independent sets of random patterns (each unit +-1 with probability
1/2), the loads are filled in order (the first P patterns of the set are stored at load
P / N), and each recalled pattern starts zero-temperature asynchronous dynamics *at the
pattern*; the final overlap m = xi . s / N measures how far the pattern itself is from a
stable state. Hebb's rule gives m ~ 0.967 just below alpha_c = 0.138 and a collapse above
(Amit, Gutfreund and Sompolinsky 1985); at finite N the drop is smeared and moves to
larger alpha.

The finite-size alpha_c is defined per pattern set as the load at which the fraction of
recalls that stay retrieved (final overlap >= 0.9) first falls below 1/2, linearly
interpolated between the two loads around the crossing; the estimate is the mean over the
independent sets with standard error std / sqrt(number of sets). Error bars on the curves
are likewise standard errors across sets.

A set without a crossing inside the load grid is censored, on one of two sides: right-censored
when its retrieval never falls below 1/2 (alpha_c lies above the last load: a lower bound) and
left-censored when it is already below 1/2 at the first load (alpha_c lies below the first
load: an upper bound). The mean over the sets that did cross is then biased (up when
left-censored sets are left out, down for right-censored ones): the result says so, warns,
and brackets the mean over all sets between the bounds.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from thermolearn.learning.hebbian import storkey_add
from thermolearn.models.hopfield import RETRIEVAL_THRESHOLD, relax_async
from thermolearn.progress import progress_bar
from thermolearn.resources import check_memory
from thermolearn.validation import check_positive_int

CAPACITY_RULES = ("hebbian", "projection", "storkey", "dense")
DEFAULT_RECALLS = 200
DENSE_RECALLS = 50
BYTES_PER_NEURON_PAIR = 40  # N x N float64 couplings and about four working copies
BYTES_PER_SET = 1024  # a spawned SeedSequence and a row of results per set
AGS_ALPHA_C = 0.138
"""Hebbian critical load in the limit N -> infinity (Amit, Gutfreund, Sompolinsky 1985)."""
AGS_OVERLAP_AT_ALPHA_C = 0.967
"""Retrieval overlap just below alpha_c in the same theory."""
DEFINITION = (
    "alpha_c: per independent pattern set, the load where the fraction of recalls ending with overlap >= "
    f"{RETRIEVAL_THRESHOLD} (zero-T asynchronous dynamics started at the pattern) first falls below 1/2, "
    "linearly interpolated between loads; mean and standard error over the sets"
)
COLLAPSE_LEVEL = 0.5
"""A set has collapsed at the first load where its retrieved fraction falls below this."""
Censoring = Literal["crossed", "left", "right"]


def default_loads(rule: str, n_neurons: int, degree: int = 3) -> np.ndarray:
    """The loads a sweep covers by default: past the expected collapse of each rule."""
    if rule == "hebbian":
        loads = np.arange(0.01, 0.2501, 0.01)
    elif rule == "storkey":
        loads = np.arange(0.02, 0.6001, 0.02)
    elif rule == "projection":
        loads = np.arange(0.05, 0.9501, 0.05)
    elif rule == "dense":
        # the signal-to-noise ratio of a unit's field at a pattern is N^(n-1) / (P (2n-3)!!)
        # (Krotov & Hopfield 2016), so loads scale as N^(n-2) / (2n-3)!!; cap the cost O(N^2 alpha)
        dfact = float(np.prod(np.arange(2 * degree - 3, 0, -2)))
        top = float(np.clip(0.3 * n_neurons ** (degree - 2) / dfact, 1.0, 10.0))
        loads = np.geomspace(top / 20, top, 12)
    else:
        raise ValueError(f"rule must be one of {', '.join(CAPACITY_RULES)}, got {rule!r}")
    return loads


@dataclass
class CapacityResult:
    """Curves over ``loads`` (alpha = P / N actually used, P = round(alpha N)): mean final
    overlap and the fraction of recalls retrieved, each with a standard error across the
    independent pattern sets; ``set_*`` arrays are per set (n_sets, n_loads)."""

    rule: str
    n_neurons: int
    loads: np.ndarray
    n_patterns: np.ndarray
    overlap: np.ndarray
    overlap_stderr: np.ndarray
    retrieval_fraction: np.ndarray
    retrieval_fraction_stderr: np.ndarray
    set_overlap: np.ndarray
    set_retrieval: np.ndarray
    set_alpha_c: np.ndarray
    alpha_c: float | None
    alpha_c_stderr: float | None
    seed: int
    seconds: float
    note: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sets(self) -> int:
        """Number of independent pattern sets averaged over."""
        return int(self.set_overlap.shape[0])

    @property
    def set_censoring(self) -> list[Censoring]:
        """Per set: 'crossed' (alpha_c inside the grid), 'left' (already collapsed at the first
        load: alpha_c < loads[0]) or 'right' (no collapse up to the last load: alpha_c > loads[-1])."""
        return [censoring(f, COLLAPSE_LEVEL) for f in self.set_retrieval]

    @property
    def left_censored(self) -> int:
        """Sets that had collapsed before the first load (each gives only an upper bound)."""
        return self.set_censoring.count("left")

    @property
    def right_censored(self) -> int:
        """Sets with no collapse within the loads (each gives only a lower bound)."""
        return self.set_censoring.count("right")

    @property
    def alpha_c_bounds(self) -> tuple[float | None, float | None]:
        """(lower, upper) bounds on the mean alpha_c over all sets when any set is censored,
        (None, None) when none is: see :func:`alpha_c_bounds` (upper None = unbounded)."""
        return alpha_c_bounds(self.loads, self.set_alpha_c, self.set_censoring)

    def as_dict(self) -> dict[str, Any]:
        """JSON form: ``{"alpha_c": {"mean", "stderr"}, "loads", "overlap", "overlap_stderr", ...}``.

        ``alpha_c.censored_sets`` counts the sets without a crossing inside the loads, split into
        ``left_censored_sets`` (collapsed before the first load) and ``right_censored_sets`` (no
        collapse up to the last load); ``lower_bound`` / ``upper_bound`` bracket the mean over all
        sets when any is censored (None otherwise; ``upper_bound`` None also when unbounded) and
        ``reliable`` is False when the mean leaves censored sets out."""
        sides = self.set_censoring
        left, right = sides.count("left"), sides.count("right")
        lower, upper = self.alpha_c_bounds
        return {
            "alpha_c": {
                "mean": self.alpha_c,
                "stderr": self.alpha_c_stderr,
                "per_set": _finite_list(self.set_alpha_c),
                "censored_sets": left + right,
                "left_censored_sets": left,
                "right_censored_sets": right,
                "definition": DEFINITION,
                "note": self.note,
                "lower_bound": lower,
                "upper_bound": upper,
                "reliable": bool(left + right == 0 or _rule_limit(self.rule, sides)),
            },
            "loads": self.loads.tolist(),
            "overlap": self.overlap.tolist(),
            "overlap_stderr": self.overlap_stderr.tolist(),
            "retrieval_fraction": self.retrieval_fraction.tolist(),
            "retrieval_fraction_stderr": self.retrieval_fraction_stderr.tolist(),
            "n_patterns": self.n_patterns.tolist(),
            "rule": self.rule,
            "n_neurons": self.n_neurons,
            "n_sets": self.n_sets,
            "seed": self.seed,
            "seconds": self.seconds,
            "options": self.options,
            "reference": {
                "alpha_c": AGS_ALPHA_C,
                "overlap_below_alpha_c": AGS_OVERLAP_AT_ALPHA_C,
                "source": "Amit, Gutfreund & Sompolinsky 1985 (Hebbian, N -> infinity)",
            },
        }


def _finite_list(x: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in x]


def crossing(loads: np.ndarray, values: np.ndarray, level: float) -> float:
    """The first load where ``values`` fall below ``level``, interpolated linearly; NaN if never
    (or if already below at the first load, where no bracket exists): :func:`censoring` tells
    the two apart."""
    below = np.flatnonzero(values < level)
    if below.size == 0 or below[0] == 0:
        return float("nan")
    k = int(below[0])
    v0, v1 = values[k - 1], values[k]
    return float(loads[k - 1] + (loads[k] - loads[k - 1]) * (v0 - level) / (v0 - v1))


def censoring(values: np.ndarray, level: float) -> Censoring:
    """Where the first drop of ``values`` below ``level`` lies relative to the grid: 'crossed'
    (between two loads), 'left' (already below at the first load: the crossing is below it, an
    upper bound) or 'right' (never below: the crossing is above the last load, a lower bound)."""
    below = np.flatnonzero(np.asarray(values) < level)
    if below.size == 0:
        return "right"
    return "left" if below[0] == 0 else "crossed"


def alpha_c_bounds(
    loads: np.ndarray, set_alpha_c: np.ndarray, sides: list[Censoring]
) -> tuple[float | None, float | None]:
    """Bounds on the mean alpha_c over all sets when some are censored: each censored set is
    replaced by the ends of its interval, (0, loads[0]) when left-censored and (loads[-1],
    infinity) when right-censored, so the mean lies in [lower, upper] (upper None when some set is
    right-censored: unbounded). (None, None) when every set crossed inside the grid."""
    if all(side == "crossed" for side in sides):
        return None, None
    lo = [
        0.0 if side == "left" else float(loads[-1]) if side == "right" else float(a)
        for a, side in zip(set_alpha_c, sides)
    ]
    hi = [
        float(loads[0]) if side == "left" else math.inf if side == "right" else float(a)
        for a, side in zip(set_alpha_c, sides)
    ]
    upper = float(np.mean(hi))
    return float(np.mean(lo)), (upper if math.isfinite(upper) else None)


def _rule_limit(rule: str, sides: list[Censoring]) -> bool:
    """The projection rule's own limit: every stored pattern is a fixed point for P < N, so a grid
    with no collapse in any set means alpha_c = 1 (a known value, not a censored measurement)."""
    return rule == "projection" and all(side == "right" for side in sides)


def _summarise(
    rule: str, used: np.ndarray, set_retrieval: np.ndarray
) -> tuple[np.ndarray, float | None, float | None, str | None]:
    """Per-set alpha_c, their mean and standard error, and a note on censored sets (warning
    when the mean leaves any out: it is then biased, in the direction the note gives)."""
    n_sets = set_retrieval.shape[0]
    set_alpha = np.array([crossing(used, f, COLLAPSE_LEVEL) for f in set_retrieval])
    sides: list[Censoring] = [censoring(f, COLLAPSE_LEVEL) for f in set_retrieval]
    if _rule_limit(rule, sides):
        # every pattern is a fixed point for P < N (field (1 - P_ii) xi_i): the rule's own limit
        return (
            set_alpha,
            1.0,
            0.0,
            "no collapse below the rule's limit P < N: every stored pattern is a fixed point, so alpha_c = 1",
        )
    finite = set_alpha[np.isfinite(set_alpha)]
    alpha_c = float(finite.mean()) if finite.size else None
    alpha_err = float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size >= 2 else None
    left, right = sides.count("left"), sides.count("right")
    if left + right == 0:
        return set_alpha, alpha_c, alpha_err, None
    parts = []
    if left:
        parts.append(
            f"{left} of {n_sets} sets had already collapsed at the first load alpha = {used[0]:.4g} "
            f"(their alpha_c < {used[0]:.4g})"
        )
    if right:
        parts.append(
            f"{right} of {n_sets} sets show no collapse between alpha = {used[0]:.4g} and {used[-1]:.4g} "
            f"(their alpha_c > {used[-1]:.4g})"
        )
    lower, upper = alpha_c_bounds(used, set_alpha, sides)
    bracket = f"the mean over all sets lies between {lower:.4g} and " + (
        f"{upper:.4g}" if upper is not None else "infinity"
    )
    if finite.size:
        direction = "up" if not right else "down" if not left else "in an unknown direction"
        estimate = (
            f"the estimate uses the other {finite.size} sets only and is biased {direction}, its error bar too small"
        )
    else:
        estimate = "no set crossed inside the loads, so there is no estimate"
    note = "; ".join(parts) + f": {estimate}; {bracket}; widen the loads"
    # stacklevel 3: the warning points at the caller of capacity_curve
    warnings.warn(f"capacity ({rule} rule): {note}", RuntimeWarning, stacklevel=3)
    return set_alpha, alpha_c, alpha_err, note


class _Projector:
    """The projection rule's J (projector onto the span of the patterns) grown one pattern at a
    time by Gram-Schmidt, twice for stability: O(N^2) per pattern instead of a new inverse."""

    def __init__(self, n: int) -> None:
        self.P = np.zeros((n, n))
        self.basis = np.zeros((n, n))
        self.rank = 0

    def add(self, patterns: np.ndarray) -> None:
        for x in patterns.astype(np.float64):
            r = x.copy()
            B = self.basis[: self.rank]
            for _ in range(2):
                r -= B.T @ (B @ r)
            norm = float(np.linalg.norm(r))
            if norm < 1e-8 * math.sqrt(x.size):
                raise ValueError(
                    "the projection rule needs linearly independent patterns; a drawn pattern lies in "
                    "the span of the earlier ones (lower the load)"
                )
            q = r / norm
            self.basis[self.rank] = q
            self.rank += 1
            self.P += np.outer(q, q)

    def couplings(self) -> np.ndarray:
        J = self.P.copy()
        np.fill_diagonal(J, 0.0)
        return J


def check_capacity_memory(n_neurons: int, n_sets: int) -> None:
    """Refuse (``ValueError`` with the estimate) a capacity run whose arrays cannot fit: the
    couplings of one rule and their working copies (N x N float64, about four of them, and the
    patterns), and one seed and row of results per set."""
    check_memory(
        f"a capacity run with {n_neurons} neurons and {n_sets} sets",
        BYTES_PER_NEURON_PAIR * float(n_neurons) ** 2 + BYTES_PER_SET * float(n_sets),
    )


def capacity_curve(
    n_neurons: int,
    rule: str = "hebbian",
    *,
    loads: np.ndarray | list[float] | None = None,
    n_sets: int = 8,
    max_recalls: int | None = None,
    degree: int = 3,
    max_sweeps: int = 200,
    seed: int = 0,
    progress: bool | None = None,
) -> CapacityResult:
    """Retrieval overlap against load alpha = P / N for random patterns stored by ``rule``
    ('hebbian', 'projection', 'storkey' or 'dense': the Krotov-Hopfield memory with F(x) =
    x^``degree``); at most ``max_recalls`` patterns are recalled per load and set (default 200,
    50 for 'dense', whose recall costs O(N P) per sweep).
    Dimensionless; see the module docstring for the definition of alpha_c."""
    n = check_positive_int("n_neurons", n_neurons, minimum=10)
    # an int: it seeds the pattern sets and is recorded as int(seed) (a list ran the whole job, then failed)
    seed = check_positive_int("seed", seed, minimum=0)
    if rule not in CAPACITY_RULES:
        raise ValueError(f"rule must be one of {', '.join(CAPACITY_RULES)}, got {rule!r}")
    n_sets = check_positive_int("n_sets", n_sets, minimum=2)
    check_capacity_memory(n, n_sets)
    max_sweeps = check_positive_int("max_sweeps", max_sweeps)
    max_recalls = check_positive_int(
        "max_recalls",
        max_recalls if max_recalls is not None else (DENSE_RECALLS if rule == "dense" else DEFAULT_RECALLS),
    )
    grid = default_loads(rule, n, degree) if loads is None else np.asarray(loads, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError("loads must be at least two finite numbers > 0")
    counts = np.maximum(1, np.round(np.sort(grid) * n).astype(np.int64))
    counts = np.unique(counts)
    if counts.size < 2:
        raise ValueError(f"the loads give fewer than two distinct pattern counts at N = {n}; widen them")
    if rule == "projection" and counts[-1] >= n:
        raise ValueError(
            f"the projection rule stores at most N - 1 patterns (load < 1); the largest load asks for "
            f"{counts[-1]} at N = {n}"
        )
    used = counts / n
    children = np.random.SeedSequence(seed).spawn(n_sets)
    set_overlap = np.zeros((n_sets, counts.size))
    set_retrieval = np.zeros((n_sets, counts.size))
    started = time.perf_counter()
    with progress_bar(
        total=n_sets * counts.size, desc=f"capacity {rule} N={n}", unit="load", progress=progress, leave=False
    ) as bar:
        for k, child in enumerate(children):
            rng = np.random.default_rng(child)
            xi = rng.choice(np.array([-1, 1], dtype=np.int8), size=(int(counts[-1]), n))
            recall_seeds = child.spawn(counts.size)
            state = _RuleState(rule, n, degree)
            for j, p in enumerate(counts):
                state.extend(xi[: int(p)])
                which = (
                    np.arange(p) if p <= max_recalls else np.sort(rng.choice(int(p), size=max_recalls, replace=False))
                )
                final = state.relax(xi[: int(p)], xi[which], max_sweeps, recall_seeds[j])
                m = np.einsum("ki,ki->k", final.astype(np.float64), xi[which].astype(np.float64)) / n
                set_overlap[k, j] = m.mean()
                set_retrieval[k, j] = np.mean(m >= RETRIEVAL_THRESHOLD)
                bar.update(1)
    seconds = time.perf_counter() - started
    root = math.sqrt(n_sets)
    set_alpha, alpha_c, alpha_err, note = _summarise(rule, used, set_retrieval)
    return CapacityResult(
        rule=rule,
        n_neurons=n,
        loads=used,
        n_patterns=counts,
        overlap=set_overlap.mean(axis=0),
        overlap_stderr=set_overlap.std(axis=0, ddof=1) / root,
        retrieval_fraction=set_retrieval.mean(axis=0),
        retrieval_fraction_stderr=set_retrieval.std(axis=0, ddof=1) / root,
        set_overlap=set_overlap,
        set_retrieval=set_retrieval,
        set_alpha_c=set_alpha,
        alpha_c=alpha_c,
        alpha_c_stderr=alpha_err,
        seed=int(seed),
        seconds=seconds,
        note=note,
        options={
            "n_sets": n_sets,
            "max_recalls": max_recalls,
            "max_sweeps": max_sweeps,
            **({"degree": degree} if rule == "dense" else {}),
        },
    )


class _RuleState:
    """Couplings of one rule grown as patterns are added (all rules here are incremental)."""

    def __init__(self, rule: str, n: int, degree: int) -> None:
        self.rule, self.n, self.degree = rule, n, degree
        self.stored = 0
        self.W = np.zeros((n, n))
        self.projector = _Projector(n) if rule == "projection" else None

    def extend(self, patterns: np.ndarray) -> None:
        new = patterns[self.stored :]
        self.stored = len(patterns)
        if self.rule == "hebbian":
            x = new.astype(np.float64)
            self.W += x.T @ x / self.n
        elif self.rule == "storkey":
            storkey_add(self.W, new)
        elif self.rule == "projection":
            assert self.projector is not None  # built in __init__ for this rule
            self.projector.add(new)

    def relax(self, patterns: np.ndarray, starts: np.ndarray, max_sweeps: int, seed) -> np.ndarray:
        if self.rule == "dense":
            from thermolearn.models.dense_memory import DenseAssociativeMemory

            memory = DenseAssociativeMemory(patterns, degree=self.degree)
            final, _, _ = memory.relax(starts, max_sweeps=max_sweeps, seed=seed)
            return final
        if self.rule == "projection":
            assert self.projector is not None  # built in __init__ for this rule
            J = self.projector.couplings()
        else:
            J = self.W.copy()
            np.fill_diagonal(J, 0.0)
        final, _, _ = relax_async(J, None, starts, max_sweeps=max_sweeps, seed=seed)
        return final
