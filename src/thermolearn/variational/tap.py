"""TAP: the Thouless-Anderson-Palmer (second-order Plefka) correction to naive mean field.

Expanding the Gibbs free energy at fixed magnetisations m to second order in beta gives

    log Z_TAP(m) = S(m) + beta (1/2 m^T J m + h^T m) + beta^2/2 sum_{i<j} J_ij^2 (1 - m_i^2)(1 - m_j^2),

whose stationary points solve m_i = tanh(beta (h_i + sum_j J_ij m_j - beta m_i sum_j J_ij^2 (1 - m_j^2))):
the mean field minus the Onsager reaction term (the field a spin induces on itself through
its neighbours). It is exact to order beta^2 at high temperature but is not a bound. The
energy follows from the envelope theorem: U = -1/2 m^T J m - h^T m - beta sum_{i<j} J_ij^2 (1 - m_i^2)(1 - m_j^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.derived_quantities import SiteMagnetizations
from thermolearn.models.ising import Ising
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


def _onsager_sum(model: Ising, m: np.ndarray) -> float:
    """sum_{i<j} J_ij^2 (1 - m_i^2)(1 - m_j^2)."""
    q = 1.0 - m * m
    J2 = model.couplings.multiply(model.couplings)
    return float(0.5 * q @ (J2 @ q))


def tap_log_z(model: Ising, temperature: float, magnetizations: np.ndarray) -> float:
    """The TAP (second-order Plefka) estimate log Z_TAP(m) at magnetisations m (not a bound)."""
    model = check_model(model)
    beta = 1.0 / check_temperature(temperature)
    m = np.asarray(magnetizations, dtype=np.float64)
    if m.shape != (model.n_spins,) or not np.all(np.abs(m) <= 1.0):
        raise ValueError(f"magnetizations must have shape ({model.n_spins},) with values in [-1, 1]")
    first = 0.5 * m @ (model.couplings @ m) + model.fields @ m
    return float(np.sum(spin_entropy(m)) + beta * first + 0.5 * beta**2 * _onsager_sum(model, m))


@dataclass(frozen=True)
class TAPResult(SiteMagnetizations):
    """A solution of the TAP equations at one temperature.

    ``log_z`` is the TAP estimate (second order in beta; an approximation, not a bound),
    ``energy`` the TAP energy (total), ``magnetizations`` the local means m_i. Diagnostics:
    ``converged``, ``iterations``, ``residual`` (the largest proposed change
    |tanh(beta phi_i) - m_i| in the last sweep).
    """

    temperature: float
    magnetizations: np.ndarray
    log_z: float
    energy: float
    converged: bool
    iterations: int
    residual: float
    tol: float

    def raise_if_not_converged(self) -> TAPResult:
        """This result if the TAP iteration converged; else ``ConvergenceError``."""
        if not self.converged:
            raise ConvergenceError(
                f"TAP did not converge at T = {self.temperature:g}: {self.iterations} iterations, "
                f"residual {self.residual:.3g} > tol {self.tol:.3g} (TAP iteration is fragile at low T; "
                "lower the damping or raise max_iter)"
            )
        return self

    def as_dict(self, *, magnetizations: bool = False) -> dict[str, Any]:
        """The result as a JSON-ready dict: TAP ln Z, per-spin F, E, M (units of J) and convergence."""
        out = {
            "temperature": self.temperature,
            "log_z": clean(self.log_z),
            "free_energy_per_spin": clean(self.free_energy_per_spin),
            "energy_per_spin": clean(self.energy_per_spin),
            "magnetization_per_spin": clean(self.magnetization_per_spin),
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": clean(self.residual),
        }
        if magnetizations:
            out["magnetizations"] = self.magnetizations.tolist()
        return out


def tap(
    model: Ising,
    temperature: float,
    *,
    init: np.ndarray | None = None,
    damping: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 5000,
    seed: int | np.random.Generator | None = 0,
) -> TAPResult:
    """Solve the TAP equations m_i = tanh(beta (h_i + sum_j J_ij m_j - beta m_i sum_j J_ij^2 (1 - m_j^2))).

    Damped sequential iteration (step ``damping``, halved on oscillation) from ``init``, by
    default the best naive mean-field solution (found with ``seed``), the usual continuation
    from mean field. Returns the TAP magnetisations, log Z_TAP, the TAP energy (k_B = 1,
    energy units of the couplings) and convergence diagnostics; non-convergence is reported,
    not hidden (see :meth:`TAPResult.raise_if_not_converged`).
    """
    model = check_model(model)
    T = check_temperature(temperature)
    beta = 1.0 / T
    a = check_damping(damping)
    tol = check_tolerance(tol)
    max_iter = check_iterations(max_iter)
    if init is None:
        from thermolearn.variational.mean_field import mean_field

        start = np.array(mean_field(model, T, seed=seed, stability=False).magnetizations)
    else:
        start = np.asarray(init, dtype=np.float64)
        if start.shape != (model.n_spins,) or not np.all(np.isfinite(start)) or np.any(np.abs(start) > 1.0):
            raise ValueError(f"init must have shape ({model.n_spins},) with values in [-1, 1]")
    X, residual, iterations = solve_tanh_equations(
        model.couplings,
        model.fields,
        beta,
        start[:, None],
        onsager=beta,
        damping=a,
        tol=tol,
        max_iter=max_iter,
        sequential=True,
    )
    m = X[:, 0].copy()
    m.setflags(write=False)
    energy = float(-0.5 * m @ (model.couplings @ m) - model.fields @ m - beta * _onsager_sum(model, m))
    return TAPResult(
        temperature=T,
        magnetizations=m,
        log_z=tap_log_z(model, T, m),
        energy=energy,
        converged=bool(residual[0] < tol),
        iterations=int(iterations[0]),
        residual=float(residual[0]),
        tol=tol,
    )
