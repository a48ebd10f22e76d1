"""Naive mean field: the best product distribution and the Gibbs-Bogoliubov-Feynman bound.

The trial distribution is q(s) = prod_i (1 + m_i s_i) / 2 (independent spins with means m_i).
The Gibbs-Bogoliubov-Feynman inequality, which machine learning calls the evidence lower
bound (ELBO), gives for every m

    log Z >= log Z_MF(m) = S(m) - beta <E>_q,   <E>_q = -1/2 m^T J m - h^T m,
    S(m) = sum_i H((1 + m_i) / 2)   (nats),

and its stationary points are the self-consistent equations m_i = tanh(beta (sum_j J_ij m_j + h_i)).
Free energies are F = -T log Z (energy units of the couplings, k_B = 1). The equations are
solved by damped parallel iteration (one sparse matrix product per step) from several
starts; every distinct fixed point is reported with its bound and its stability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse.linalg as spla

from thermolearn.derived_quantities import SiteMagnetizations
from thermolearn.models.ising import Ising
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.validation import check_temperature
from thermolearn.variational._common import (
    ConvergenceError,
    check_damping,
    check_iterations,
    check_model,
    check_tolerance,
    clean,
    spin_entropy,
)
from thermolearn.variational._kernels import solve_tanh_equations

START_KINDS = ("zero", "up", "down")
"""Named starting points: the paramagnet m = 0 and the two saturated states m = +-1."""
DENSE_STABILITY_LIMIT = 500
"""Largest n whose stability margin is an exact dense eigenvalue (decided by bounds above)."""


def _check_magnetizations(model: Ising, m: object, name: str = "magnetizations") -> np.ndarray:
    arr = np.asarray(m, dtype=np.float64)
    if arr.shape != (model.n_spins,):
        raise ValueError(f"{name} must have shape ({model.n_spins},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1.0):
        raise ValueError(f"{name} must be finite and in [-1, 1] (means of +-1 spins)")
    return arr


def variational_energy(model: Ising, magnetizations: np.ndarray) -> float:
    """<E>_q = -1/2 m^T J m - h^T m: the mean energy (total, energy units) of the product
    distribution with spin means m (independent spins make <s_i s_j> = m_i m_j)."""
    model = check_model(model)
    m = _check_magnetizations(model, magnetizations)
    return float(-0.5 * m @ (model.couplings @ m) - model.fields @ m)


def variational_log_z(model: Ising, temperature: float, magnetizations: np.ndarray) -> float:
    """The mean-field bound log Z_MF(m) = S(m) - beta <E>_q <= log Z, valid for any m in [-1, 1]^n."""
    model = check_model(model)
    beta = 1.0 / check_temperature(temperature)
    m = _check_magnetizations(model, magnetizations)
    return float(np.sum(spin_entropy(m)) - beta * variational_energy(model, m))


def stability_margin(model: Ising, temperature: float, magnetizations: np.ndarray) -> float:
    """1 - lambda_max(beta D^1/2 J D^1/2) with D = diag(1 - m_i^2).

    Positive: the Hessian diag(1 / (1 - m^2)) - beta J of the mean-field free energy is
    positive definite (same inertia), so m is a local minimum of F_MF (a stable solution);
    negative: a saddle or maximum, like the paramagnet m = 0 of a ferromagnet below T_c = z J.
    Exact (dense top eigenvalue) up to 500 spins. Above, a bound that decides the sign: the
    Gershgorin row-sum bound when it proves stability (exact for uniform lattice states),
    else the best Rayleigh quotient of a short power iteration when it proves instability,
    else sparse Lanczos; NaN if even that fails.
    """
    model = check_model(model)
    beta = 1.0 / check_temperature(temperature)
    m = _check_magnetizations(model, magnetizations)
    d = np.sqrt(np.clip(1.0 - m * m, 0.0, 1.0))
    n = model.n_spins
    if model.n_edges == 0 or not np.any(d):
        return 1.0
    J = model.couplings
    if n <= DENSE_STABILITY_LIMIT:
        A = beta * (d[:, None] * J.toarray() * d[None, :])
        top = scipy.linalg.eigh(A, eigvals_only=True, subset_by_index=[n - 1, n - 1])
        return float(1.0 - top[-1])

    def matvec(v: np.ndarray) -> np.ndarray:
        return beta * d * (J @ (d * np.ravel(v)))

    gershgorin = float(np.max(beta * d * (abs(J) @ d)))
    if gershgorin < 1.0:
        return 1.0 - gershgorin
    # power iteration on A + g I (all eigenvalues >= 0) from the uniform and the state-shaped vectors
    best = -np.inf
    for v in (np.ones(n), m.copy(), np.sign(J @ m + 1e-300)):
        norm = np.linalg.norm(v)
        if norm == 0:
            continue
        v = v / norm
        for _ in range(30):
            w = matvec(v)
            best = max(best, float(v @ w))
            if best > 1.0:  # a Rayleigh quotient above 1 proves instability
                return 1.0 - best
            w = w + gershgorin * v
            v = w / np.linalg.norm(w)
    op = spla.LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    try:
        top = spla.eigsh(op, k=1, which="LA", tol=1e-6, maxiter=2000, return_eigenvectors=False)
    except spla.ArpackNoConvergence as exc:  # pragma: no cover - rare
        return float(1.0 - np.max(exc.eigenvalues)) if len(exc.eigenvalues) else float("nan")
    return float(1.0 - max(float(np.max(top)), best))


@dataclass(frozen=True)
class MeanFieldFixedPoint(SiteMagnetizations):
    """One solution of m_i = tanh(beta (sum_j J_ij m_j + h_i)) and its mean-field bound.

    ``log_z`` is the bound S - beta <E>_q (<= the true log Z); ``energy`` is <E>_q and
    ``entropy`` S(m) (totals). ``stable`` says whether it is a local minimum of the
    mean-field free energy (``stability_margin`` > 0); ``starts`` names the starting points
    that reached it. ``converged``/``iterations``/``residual`` are the solver's diagnostics
    (residual: the largest proposed change |tanh(beta phi_i) - m_i| in the last sweep).
    """

    temperature: float
    magnetizations: np.ndarray
    log_z: float
    energy: float
    entropy: float
    converged: bool
    iterations: int
    residual: float
    stability_margin: float
    starts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def stable(self) -> bool | None:
        """True for a local minimum of F_MF, False for a saddle, None if undecided."""
        return None if not np.isfinite(self.stability_margin) else bool(self.stability_margin > 0.0)

    @property
    def is_paramagnetic(self) -> bool:
        """Whether every magnetisation m_i is zero (|m_i| < 1e-8)."""
        return bool(np.max(np.abs(self.magnetizations), initial=0.0) < 1e-8)

    def as_dict(self, *, magnetizations: bool = False) -> dict[str, Any]:
        """The fixed point as a JSON-ready dict: ln Z, per-spin F, E, S, M (units of J), stability and convergence."""
        out = {
            "temperature": self.temperature,
            "log_z": clean(self.log_z),
            "free_energy_per_spin": clean(self.free_energy_per_spin),
            "energy_per_spin": clean(self.energy_per_spin),
            "entropy_per_spin": clean(self.entropy / self.n_spins),
            "magnetization_per_spin": clean(self.magnetization_per_spin),
            "paramagnetic": self.is_paramagnetic,
            "stable": self.stable,
            "stability_margin": clean(self.stability_margin),
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": clean(self.residual),
            "starts": list(self.starts),
        }
        if magnetizations:
            out["magnetizations"] = self.magnetizations.tolist()
        return out


@dataclass(frozen=True)
class MeanFieldResult:
    """All distinct mean-field fixed points found at one temperature, best bound first.

    ``fixed_points`` holds the converged, distinct solutions; ``unconverged`` the end
    points of starts that hit ``max_iter`` (still valid bounds, but not solutions).
    :attr:`best` is the converged fixed point with the largest bound log Z_MF (the
    tightest lower bound, the lowest mean-field free energy), or the best unconverged end
    point if nothing converged; its numbers are also exposed directly (``log_z``, ...).
    """

    temperature: float
    fixed_points: tuple[MeanFieldFixedPoint, ...]
    unconverged: tuple[MeanFieldFixedPoint, ...]
    tol: float

    @property
    def best(self) -> MeanFieldFixedPoint:
        """The fixed point of largest ln Z (lowest mean-field F) among the converged ones, else among the
        unconverged."""
        return max(self.fixed_points or self.unconverged, key=lambda p: p.log_z)

    @property
    def converged(self) -> bool:
        """Whether the best fixed point converged."""
        return self.best.converged

    @property
    def n_spins(self) -> int:
        """Number of spins N."""
        return self.best.n_spins

    @property
    def log_z(self) -> float:
        """Mean-field ln Z of the best fixed point (a lower bound on the exact one)."""
        return self.best.log_z

    @property
    def magnetizations(self) -> np.ndarray:
        """Per-site magnetisations m_i of the best fixed point."""
        return self.best.magnetizations

    @property
    def free_energy_per_spin(self) -> float:
        """Mean-field free energy per spin of the best fixed point (units of J)."""
        return self.best.free_energy_per_spin

    @property
    def energy_per_spin(self) -> float:
        """Energy per spin of the best fixed point (units of J)."""
        return self.best.energy_per_spin

    @property
    def magnetization_per_spin(self) -> float:
        """Magnetisation per spin of the best fixed point."""
        return self.best.magnetization_per_spin

    def raise_if_not_converged(self) -> MeanFieldResult:
        """Return self, or raise :class:`ConvergenceError` naming iterations and residual."""
        b = self.best
        if not b.converged:
            raise ConvergenceError(
                f"mean field did not converge at T = {self.temperature:g}: {b.iterations} iterations, "
                f"residual {b.residual:.3g} > tol {self.tol:.3g}; raise max_iter or lower damping"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict: the best fixed point and all others found."""
        return {
            "temperature": self.temperature,
            "n_spins": self.n_spins,
            "converged": self.converged,
            "best": self.best.as_dict(),
            "fixed_points": [p.as_dict() for p in self.fixed_points],
            "unconverged": [p.as_dict() for p in self.unconverged],
        }


def _starting_points(
    n: int, starts: Sequence[str], n_random: int, init: np.ndarray | None, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    columns, labels = [], []
    for kind in starts:
        if kind not in START_KINDS:
            raise ValueError(f"mean-field starts must be among {', '.join(START_KINDS)}, got {kind!r}")
        columns.append(np.full(n, {"zero": 0.0, "up": 1.0, "down": -1.0}[kind]))
        labels.append(kind)
    for r in range(n_random):
        columns.append(rng.uniform(-1.0, 1.0, size=n))
        labels.append(f"random {r}")
    if init is not None:
        arr = np.atleast_2d(np.asarray(init, dtype=np.float64))
        if arr.ndim != 2 or arr.shape[1] != n:
            raise ValueError(f"init must have shape ({n},) or (k, {n}), got {np.shape(init)}")
        if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1.0):
            raise ValueError("init magnetisations must be finite and in [-1, 1]")
        for r, row in enumerate(arr):
            columns.append(row)
            labels.append(f"init {r}")
    if not columns:
        raise ValueError("give at least one starting point (starts, n_random or init)")
    return np.stack(columns, axis=1), labels


def mean_field(
    model: Ising,
    temperature: float,
    *,
    starts: Sequence[str] = START_KINDS,
    n_random: int | None = None,
    init: np.ndarray | None = None,
    damping: float | None = None,
    schedule: str = "sequential",
    tol: float = 1e-10,
    max_iter: int = 5000,
    seed: int | np.random.Generator | None = 0,
    stability: bool = True,
) -> MeanFieldResult:
    """Solve the naive mean-field equations m_i = tanh(beta (sum_j J_ij m_j + h_i)) of any model.

    Damped iteration m_i <- m_i + a (tanh(beta phi_i) - m_i), phi_i = sum_j J_ij m_j + h_i, with
    the step a halved when an update turns back on the previous one (an oscillation).
    ``schedule="sequential"`` updates the spins in place, one colour class of a graph
    colouring after another (Gauss-Seidel; with the default a = 1 each update maximises the
    bound in m_i, so the bound never decreases); ``"parallel"`` updates all spins at once
    from the old state (Jacobi; default a = 0.5).

    Starts: ``starts`` among "zero" (paramagnet), "up", "down"; ``n_random`` uniform random
    starts drawn from ``seed`` (default 3 up to 1000 spins, none above: on big lattices random
    starts only coarsen slowly into domains); and any rows of ``init``. All starts run
    together in one compiled sweep over the CSR couplings per iteration; in zero field the
    "down" start is not run but mirrored from "up" (the equations are odd in m).

    Returns every distinct fixed point with its bound log Z_MF <= log Z, energy, entropy and
    stability (``stability=False`` skips the eigenvalue test), and the end points of starts
    that did not converge, with iterations and residual. Temperature T in energy units (k_B = 1).
    """
    model = check_model(model)
    T = check_temperature(temperature)
    beta = 1.0 / T
    if schedule not in ("sequential", "parallel"):
        raise ValueError(f"schedule must be 'sequential' or 'parallel', got {schedule!r}")
    a = check_damping((1.0 if schedule == "sequential" else 0.5) if damping is None else damping)
    tol = check_tolerance(tol)
    max_iter = check_iterations(max_iter)
    if n_random is None:
        n_random = 3 if model.n_spins <= 1000 else 0
    if isinstance(n_random, bool) or not isinstance(n_random, (int, np.integer)) or n_random < 0:
        raise ValueError(f"n_random must be an integer >= 0, got {n_random!r}")
    if isinstance(starts, str):
        starts = (starts,)
    rng = numpy_generator(seed)
    n = model.n_spins
    M0, labels = _starting_points(n, starts, int(n_random), init, rng)
    M0, mirror = _drop_mirrored_start(model, M0, labels)
    M, residual, iterations = solve_tanh_equations(
        model.couplings,
        model.fields,
        beta,
        M0,
        onsager=0.0,
        damping=a,
        tol=tol,
        max_iter=max_iter,
        sequential=schedule == "sequential",
    )
    if mirror is not None:
        M, residual, iterations = _restore_mirrored_start(M, residual, iterations, mirror)

    points = [_fixed_point(model, T, M, residual, iterations, labels, g, tol, stability) for g in _group_starts(M, tol)]
    points.sort(key=lambda p: -p.log_z)
    for p in points:
        p.magnetizations.setflags(write=False)
    return MeanFieldResult(
        temperature=T,
        fixed_points=tuple(p for p in points if p.converged),
        unconverged=tuple(p for p in points if not p.converged),
        tol=tol,
    )


def _drop_mirrored_start(model: Ising, M0: np.ndarray, labels: list[str]) -> tuple[np.ndarray, tuple[int, int] | None]:
    """In zero field the equations are odd in m, so the "down" start is the mirror image of
    "up": drop its column (returned as (up, down) label indices) instead of iterating it."""
    if np.any(model.fields) or "up" not in labels or "down" not in labels:
        return M0, None
    mirror = (labels.index("up"), labels.index("down"))
    keep = [k for k in range(len(labels)) if k != mirror[1]]
    return M0[:, keep], mirror


def _restore_mirrored_start(
    M: np.ndarray, residual: np.ndarray, iterations: np.ndarray, mirror: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Put the "down" start back as -m of the "up" start, with the same residual and iterations."""
    up = mirror[0] if mirror[0] < mirror[1] else mirror[0] - 1
    M = np.insert(M, mirror[1], -M[:, up], axis=1)
    residual = np.insert(residual, mirror[1], residual[up])
    iterations = np.insert(iterations, mirror[1], iterations[up])
    return M, residual, iterations


def _group_starts(M: np.ndarray, tol: float) -> list[list[int]]:
    """The starts (columns of M) grouped by the point they reached (max-norm closer than 100 tol)."""
    same = max(1e-6, 100.0 * tol)
    groups: list[list[int]] = []
    for k in range(M.shape[1]):
        for g in groups:
            if np.max(np.abs(M[:, k] - M[:, g[0]]), initial=0.0) < same:
                g.append(k)
                break
        else:
            groups.append([k])
    return groups


def _fixed_point(
    model: Ising,
    T: float,
    M: np.ndarray,
    residual: np.ndarray,
    iterations: np.ndarray,
    labels: list[str],
    group: list[int],
    tol: float,
    stability: bool,
) -> MeanFieldFixedPoint:
    """One point reached by the starts of ``group`` (represented by its smallest residual):
    its bound log Z_MF = S - beta E, energy, entropy and (optionally) stability margin."""
    beta = 1.0 / T
    k = min(group, key=lambda c: residual[c])
    m = M[:, k]
    energy = variational_energy(model, m)
    entropy = float(np.sum(spin_entropy(m)))
    margin = stability_margin(model, T, m) if stability else float("nan")
    return MeanFieldFixedPoint(
        temperature=T,
        magnetizations=m.copy(),
        log_z=entropy - beta * energy,
        energy=energy,
        entropy=entropy,
        converged=bool(residual[k] < tol),
        iterations=int(iterations[k]),
        residual=float(residual[k]),
        stability_margin=margin,
        starts=tuple(labels[c] for c in group),
    )
