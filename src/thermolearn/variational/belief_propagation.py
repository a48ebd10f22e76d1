"""The Bethe approximation by loopy belief propagation (sum-product on the pairwise Ising model).

Messages live on directed edges i -> j as cavity fields u_{i->j} (energy units): the field
spin j feels from i when j's own influence on i is removed,

    u_{i->j} = (1/beta) atanh( tanh(beta J_ij) tanh(beta c_{i\\j}) ),   c_{i\\j} = h_i + sum_{k in di \\ j} u_{k->i},

computed stably as (1/2beta)[log cosh(beta (J + c)) - log cosh(beta (J - c))]. At a fixed
point the beliefs b_i(s) ~ exp(beta H_i s), H_i = h_i + sum_k u_{k->i}, and the pair beliefs
b_ij(s_i, s_j) ~ exp(beta (J_ij s_i s_j + c_{i\\j} s_i + c_{j\\i} s_j)) give the Bethe free energy

    log Z_Bethe = -beta U_Bethe + sum_(ij) S(b_ij) - sum_i (d_i - 1) S(b_i),

which is exact on trees (graphs without loops) and an approximation (not a bound) on loopy
graphs. Updates are synchronous over all directed edges (vectorised NumPy), damped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

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
    log2cosh,
    spin_entropy,
)

INITS = ("zero", "up", "down", "random")
"""Named message initialisations: no field, every spin pushed up / down, random."""


@dataclass(frozen=True)
class _Graph:
    src: np.ndarray  # directed edge e = src[e] -> dst[e], CSR order
    dst: np.ndarray
    coupling: np.ndarray  # J on each directed edge
    reverse: np.ndarray  # index of dst[e] -> src[e]
    degree: np.ndarray


def _graph(model: Ising) -> _Graph:
    J = model.couplings
    n = model.n_spins
    degree = np.diff(J.indptr).astype(np.int64)
    src = np.repeat(np.arange(n, dtype=np.int64), degree)
    dst = np.asarray(J.indices, dtype=np.int64)
    keys = src * n + dst  # CSR with sorted indices: ascending
    reverse = np.searchsorted(keys, dst * n + src)
    return _Graph(src, dst, np.asarray(J.data, dtype=np.float64), reverse, degree)


def _message_update(beta: float, coupling: np.ndarray, cavity: np.ndarray) -> np.ndarray:
    return (log2cosh(beta * (coupling + cavity)) - log2cosh(beta * (coupling - cavity))) / (2.0 * beta)


@dataclass(frozen=True)
class BetheResult(SiteMagnetizations):
    """The Bethe approximation at one temperature, from one run of belief propagation.

    ``magnetizations`` are the node beliefs' means <s_i>; ``edges`` = (i, j) with i < j and
    ``edge_correlations`` the pair beliefs' <s_i s_j> (connected: ``connected_correlations``);
    ``log_z`` the Bethe log Z, ``energy`` U_Bethe and ``entropy`` S_Bethe (totals, k_B = 1);
    ``messages`` the cavity fields u_{i->j} on the directed edges in CSR order of J.
    Diagnostics: ``converged``, ``iterations``, ``residual`` = max |change of a message| (energy units).
    """

    temperature: float
    magnetizations: np.ndarray
    edges: tuple[np.ndarray, np.ndarray]
    edge_correlations: np.ndarray
    log_z: float
    energy: float
    entropy: float
    messages: np.ndarray
    converged: bool
    iterations: int
    residual: float
    tol: float
    init: str

    @property
    def connected_correlations(self) -> np.ndarray:
        """<s_i s_j> - <s_i><s_j> on each edge."""
        i, j = self.edges
        return self.edge_correlations - self.magnetizations[i] * self.magnetizations[j]

    def raise_if_not_converged(self) -> BetheResult:
        """This result if belief propagation converged; else ``ConvergenceError``."""
        if not self.converged:
            raise ConvergenceError(
                f"belief propagation did not converge at T = {self.temperature:g}: {self.iterations} iterations, "
                f"residual {self.residual:.3g} > tol {self.tol:.3g} (loopy BP can oscillate on frustrated or "
                "strongly coupled graphs; lower the damping or raise max_iter)"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict: Bethe ln Z and per-spin F, E, S, M, with convergence."""
        return {
            "temperature": self.temperature,
            "init": self.init,
            "log_z": clean(self.log_z),
            "free_energy_per_spin": clean(self.free_energy_per_spin),
            "energy_per_spin": clean(self.energy_per_spin),
            "entropy_per_spin": clean(self.entropy / self.n_spins),
            "magnetization_per_spin": clean(self.magnetization_per_spin),
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": clean(self.residual),
        }


def _initial_messages(graph: _Graph, init: str | np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)} or an array of messages, got {init!r}")
        if init == "zero":
            return np.zeros(graph.src.size), init
        if init == "up":
            return graph.coupling.copy(), init
        if init == "down":
            return -graph.coupling, init
        return rng.uniform(-1.0, 1.0, graph.src.size) * np.abs(graph.coupling), init
    u = np.asarray(init, dtype=np.float64)
    if u.shape != graph.src.shape or not np.all(np.isfinite(u)):
        raise ValueError(f"init messages must be a finite array of shape ({graph.src.size},) (one per directed edge)")
    return u.copy(), "array"


def belief_propagation(
    model: Ising,
    temperature: float,
    *,
    init: str | np.ndarray = "up",
    damping: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 5000,
    seed: int | np.random.Generator | None = 0,
) -> BetheResult:
    """Loopy belief propagation for the Bethe approximation of ``model`` at temperature T.

    Synchronous damped updates u <- (1 - a) u + a u_new of the cavity fields on every
    directed edge until max |u_new - u| < tol (energy units) or ``max_iter``. ``init``:
    "up"/"down" (u = +-J, the saturated state), "zero" (no field: a fixed point in zero
    field, the paramagnet), "random" (from ``seed``), or an array of messages. Returns the
    beliefs' magnetisations and edge correlations, the Bethe log Z, energy and entropy,
    and the diagnostics; exact on trees.
    """
    model = check_model(model)
    T = check_temperature(temperature)
    beta = 1.0 / T
    a = check_damping(damping)
    tol = check_tolerance(tol)
    max_iter = check_iterations(max_iter)
    rng = numpy_generator(seed)
    g = _graph(model)
    h = model.fields
    n = model.n_spins
    u, label = _initial_messages(g, init, rng)
    residual = 0.0
    iterations = 0
    if g.src.size:
        residual = np.inf
        for iterations in range(max_iter + 1):
            incoming = np.bincount(g.dst, weights=u, minlength=n)
            cavity = h[g.src] + incoming[g.src] - u[g.reverse]
            new = _message_update(beta, g.coupling, cavity)
            residual = float(np.max(np.abs(new - u)))
            if residual < tol or iterations == max_iter:
                break
            u += a * (new - u)
    return _bethe_result(model, T, g, u, residual, iterations, tol, label)


def _bethe_result(model, T, g, u, residual, iterations, tol, label) -> BetheResult:
    beta = 1.0 / T
    n = model.n_spins
    h = model.fields
    incoming = np.bincount(g.dst, weights=u, minlength=n) if u.size else np.zeros(n)
    H = h + incoming
    m = np.tanh(beta * H)
    node_entropy = spin_entropy(m)
    # one pair belief per undirected edge (i < j): states (++, +-, -+, --)
    upper = g.src < g.dst
    i, j, J = g.src[upper], g.dst[upper], g.coupling[upper]
    c_i = h[i] + incoming[i] - u[g.reverse[upper]]  # cavity field of i without j
    c_j = h[j] + incoming[j] - u[upper]  # cavity field of j without i
    si = np.array([1.0, 1.0, -1.0, -1.0])
    sj = np.array([1.0, -1.0, 1.0, -1.0])
    x = beta * (J[:, None] * si * sj + c_i[:, None] * si + c_j[:, None] * sj)
    log_norm = logsumexp(x, axis=1) if x.size else np.zeros(0)
    p = np.exp(x - log_norm[:, None])
    pair_entropy = log_norm - np.sum(p * x, axis=1)
    corr = p @ (si * sj)
    energy = float(-np.sum(J * corr) - np.sum(h * m))
    # S_Bethe = sum_edges S(b_ij) + sum_i (1 - d_i) S(b_i); at a fixed point b_ij marginalises to b_i
    entropy = float(np.sum(pair_entropy) + np.sum((1 - g.degree) * node_entropy))
    m.setflags(write=False)
    corr.setflags(write=False)
    u = u.copy()
    u.setflags(write=False)
    return BetheResult(
        temperature=T,
        magnetizations=m,
        edges=(i, j),
        edge_correlations=corr,
        log_z=entropy - beta * energy,
        energy=energy,
        entropy=entropy,
        messages=u,
        converged=bool(residual < tol),
        iterations=int(iterations),
        residual=float(residual),
        tol=tol,
        init=label,
    )


def bethe(
    model: Ising,
    temperature: float,
    *,
    inits: Sequence[str] = ("zero", "up", "down", "random"),
    damping: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 5000,
    seed: int | np.random.Generator | None = 0,
) -> BetheResult:
    """Belief propagation from several initialisations; the converged fixed point with the
    lowest Bethe free energy (largest log Z_Bethe), else the run with the smallest residual."""
    if isinstance(inits, str):
        inits = (inits,)
    if not inits:
        raise ValueError(f"give at least one init among {', '.join(INITS)}")
    rng = numpy_generator(seed)
    runs = [
        belief_propagation(model, temperature, init=k, damping=damping, tol=tol, max_iter=max_iter, seed=rng)
        for k in inits
    ]
    converged = [r for r in runs if r.converged]
    if converged:
        top = max(r.log_z for r in converged)
        # ties (the up/down pair in zero field) go to the first init listed
        return next(r for r in converged if r.log_z >= top - 1e-9 * max(1.0, abs(top)))
    return min(runs, key=lambda r: r.residual)
