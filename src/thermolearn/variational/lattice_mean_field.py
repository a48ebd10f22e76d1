"""The homogeneous lattice in closed form: mean field and the Bethe approximation with coordination z.

On a lattice where every site has z neighbours with the same coupling J and field H, every
spin has the same mean m.

* Mean field (Weiss): m = tanh(beta (z J m + H)); in zero field ordered below T_c = z J
  (4 J on the square lattice, Onsager's exact value is 2.269 J). Variational free energy
  per spin f(m) = -z J m^2 / 2 - H m - T s(m), s(m) = H((1 + m)/2) (nats).
* Bethe (Bethe-Peierls, exact on the tree with z neighbours per site): a cavity field u
  solves u = (1/beta) atanh(tanh(beta J) tanh(beta (H + (z - 1) u))) and
  m = tanh(beta (H + z u)); ordered below T_c = 2 J / ln(z / (z - 2)) (2/ln 2 = 2.885 J for
  z = 4; none for the chain z = 2, where Bethe is exact).

Temperatures and fields in units of J (k_B = 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

from thermolearn.validation import check_finite_float, check_positive_int, check_temperature
from thermolearn.variational._common import clean, log2cosh, spin_entropy


def _check_coordination(z: object) -> int:
    return check_positive_int("coordination z", z, minimum=1)


def _check_coupling(J: object) -> float:
    J = check_finite_float("coupling J", J)
    if J <= 0:
        raise ValueError(f"the homogeneous closed forms are for a ferromagnet: coupling J must be > 0, got {J}")
    return J


def mean_field_critical_temperature(coordination: int, coupling: float = 1.0) -> float:
    """Mean-field (Weiss) critical temperature T_c = z J: where the slope of tanh(beta z J m) at 0 is 1."""
    return _check_coordination(coordination) * _check_coupling(coupling)


def bethe_critical_temperature(coordination: int, coupling: float = 1.0) -> float:
    """Bethe critical temperature T_c = 2 J / ln(z / (z - 2)), i.e. (z - 1) tanh(J / T_c) = 1;
    0 for z <= 2 (no transition on a chain)."""
    z = _check_coordination(coordination)
    J = _check_coupling(coupling)
    if z <= 2:
        return 0.0
    return 2.0 * J / math.log(z / (z - 2.0))


def mean_field_free_energy_per_spin(
    m: float, temperature: float, coordination: int, coupling: float = 1.0, field: float = 0.0
) -> float:
    """f(m) = -z J m^2 / 2 - H m - T s(m): the mean-field (variational) free energy per spin."""
    T = check_temperature(temperature)
    z, J, H = _check_coordination(coordination), _check_coupling(coupling), check_finite_float("field", field)
    return float(-0.5 * z * J * m * m - H * m - T * spin_entropy(m))


@dataclass(frozen=True)
class HomogeneousSolution:
    """One root of m = tanh(beta (z J m + H)) with its free energy per spin and stability
    (stable: f''(m) > 0, i.e. beta z J (1 - m^2) < 1)."""

    magnetization: float
    free_energy_per_spin: float
    stable: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "magnetization": clean(self.magnetization),
            "free_energy_per_spin": clean(self.free_energy_per_spin),
            "stable": self.stable,
        }


def mean_field_solutions(
    temperature: float, coordination: int, coupling: float = 1.0, field: float = 0.0
) -> tuple[HomogeneousSolution, ...]:
    """Every root of the Weiss equation m = tanh(beta (z J m + H)), sorted by m: one above T_c
    (or in a strong field), three below (-m*, 0, +m* in zero field; the middle one unstable)."""
    T = check_temperature(temperature)
    z, J, H = _check_coordination(coordination), _check_coupling(coupling), check_finite_float("field", field)
    beta = 1.0 / T

    def g(m: float) -> float:
        return math.tanh(beta * (z * J * m + H)) - m

    grid = np.linspace(-1.0, 1.0, 4001)
    values = np.tanh(beta * (z * J * grid + H)) - grid
    roots = []
    for k in range(grid.size - 1):
        a, b = values[k], values[k + 1]
        if a == 0.0:
            roots.append(float(grid[k]))
        elif a * b < 0.0:
            roots.append(brentq(g, grid[k], grid[k + 1], xtol=1e-15, rtol=1e-15))
    if values[-1] == 0.0:
        roots.append(1.0)
    if H == 0.0:  # the paramagnet is an exact root; symmetrise the ordered pair
        positive = [r for r in roots if r > 1e-9]
        roots = [0.0] + ([max(positive), -max(positive)] if positive else [])
    roots.sort()
    roots = [r for k, r in enumerate(roots) if k == 0 or r - roots[k - 1] > 1e-12]
    return tuple(
        HomogeneousSolution(
            magnetization=r,
            free_energy_per_spin=mean_field_free_energy_per_spin(r, T, z, J, H),
            stable=bool(beta * z * J * (1.0 - r * r) < 1.0),
        )
        for r in roots
    )


def mean_field_magnetization(
    temperatures: float | np.ndarray, coordination: int, coupling: float = 1.0, field: float = 0.0
) -> np.ndarray | float:
    """The stable mean-field magnetisation per spin against T: the branch aligned with the
    field, the positive ordered branch in zero field (0 above T_c = z J)."""
    T = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    sign = -1.0 if field < 0 else 1.0
    out = sign * np.array(
        [max(s.magnetization for s in mean_field_solutions(t, coordination, coupling, abs(field))) for t in T]
    )
    return float(out[0]) if np.ndim(temperatures) == 0 else out


def _cavity_field(beta: float, z: int, J: float, H: float) -> float:
    """The largest cavity field u of u = atanh(tanh(beta J) tanh(beta (H + (z - 1) u))) / beta (H >= 0)."""
    t = math.tanh(beta * J)

    def g(u: float) -> float:
        # atanh(tanh(beta J) tanh(beta c)) / beta, written without atanh(1) at low temperature
        c = H + (z - 1) * u
        return float(log2cosh(beta * (J + c)) - log2cosh(beta * (J - c))) / (2.0 * beta) - u

    if z == 1:
        return g(0.0)
    high = J  # |u| <= atanh(t) / beta = J, and g(J) < 0
    if g(high) >= 0.0:
        return high
    if H > 0.0:
        return brentq(g, 0.0, high, xtol=1e-15, rtol=1e-15)
    slope = (z - 1) * t  # g(u) ~ (slope - 1) u near 0
    if slope <= 1.0:
        return 0.0
    low = 1e-300
    u = high
    while u > low and g(u) < 0.0:  # find where g > 0 below the ordered root
        u *= 0.5
    if u <= low:
        return 0.0
    return brentq(g, u, high, xtol=1e-15, rtol=1e-15)


def bethe_magnetization(
    temperatures: float | np.ndarray, coordination: int, coupling: float = 1.0, field: float = 0.0
) -> np.ndarray | float:
    """Bethe magnetisation per spin m = tanh(beta (H + z u)) against T: the branch aligned with
    the field, the positive ordered branch in zero field (0 above the Bethe T_c)."""
    z, J, H = _check_coordination(coordination), _check_coupling(coupling), check_finite_float("field", field)
    T = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    sign = -1.0 if H < 0 else 1.0
    values = []
    for t in T:
        beta = 1.0 / check_temperature(float(t))
        u = _cavity_field(beta, z, J, abs(H))
        values.append(sign * math.tanh(beta * (abs(H) + z * u)))
    out = np.array(values)
    return float(out[0]) if np.ndim(temperatures) == 0 else out


def bethe_log_z_per_spin(temperature: float, coordination: int, coupling: float = 1.0, field: float = 0.0) -> float:
    """Bethe log Z per spin of the homogeneous lattice (the branch of :func:`bethe_magnetization`):
    (z/2) log Z_edge - (z - 1) log Z_site, Z_edge = sum_{s,s'} exp(beta (J s s' + c (s + s'))),
    c = H + (z - 1) u, Z_site = 2 cosh(beta (H + z u))."""
    z, J, H = _check_coordination(coordination), _check_coupling(coupling), check_finite_float("field", field)
    beta = 1.0 / check_temperature(temperature)
    u = math.copysign(_cavity_field(beta, z, J, abs(H)), H if H != 0 else 1.0)
    c = H + (z - 1) * u
    x = beta * np.array([J + 2 * c, -J, -J, J - 2 * c])
    log_edge = float(np.max(x) + math.log(np.sum(np.exp(x - np.max(x)))))
    log_site = float(log2cosh(beta * (H + z * u)))
    return 0.5 * z * log_edge - (z - 1) * log_site


def exact_lattice_magnetization(
    temperatures: float | np.ndarray, dimension: int, coupling: float = 1.0, field: float = 0.0
) -> np.ndarray | None:
    """The exact infinite-lattice magnetisation per spin where it is known in closed form:
    the chain (d = 1, any field) m = sinh(beta H) / sqrt(sinh^2(beta H) + exp(-4 beta J)), and
    Yang's spontaneous magnetisation of the square lattice (d = 2, H = 0). None otherwise."""
    J = _check_coupling(coupling)
    H = check_finite_float("field", field)
    T = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    if dimension == 1:
        out = _chain_magnetization(1.0 / T, J, H)
    elif dimension == 2 and H == 0.0:
        from thermolearn.exact import onsager

        out = np.asarray(onsager.spontaneous_magnetization(T, J), dtype=np.float64)
    else:
        return None
    return out


def _chain_magnetization(beta: np.ndarray, J: float, H: float) -> np.ndarray:
    """m = sinh(beta H) / sqrt(sinh^2(beta H) + e^(-4 beta J)) as sign(beta H) p / sqrt(1 + p^2),
    p = |sinh(beta H)| e^(2 beta J), which is 0 in zero field and +-1 (not inf / inf = NaN) when
    the field or the coupling beats the temperature."""
    y = np.abs(beta * H)
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.sinh(y) * np.exp(2.0 * beta * J)
    # where the product overflows or underflows (sinh y > 1e308, e^(2 beta J) > 1e308 or < 1e-308)
    # form p from its logarithm, ln sinh y = y + ln(1 - e^(-2y)) - ln 2 (ln sinh y itself for y < 1)
    redo = ~np.isfinite(p) | ((p == 0.0) & (y > 0.0))
    if np.any(redo):
        yr = y[redo]
        with np.errstate(divide="ignore", over="ignore"):
            log_sinh = np.where(
                yr < 1.0,
                np.log(np.sinh(np.minimum(yr, 1.0))),
                yr + np.log1p(-np.exp(-2.0 * np.maximum(yr, 1.0))) - math.log(2.0),
            )
            p[redo] = np.exp(log_sinh + 2.0 * beta[redo] * J)
    # p / sqrt(1 + p^2), written as 1 / sqrt(1 + p^-2) for p > 1 so that p = inf gives 1
    low, inv_high = np.minimum(p, 1.0), 1.0 / np.maximum(p, 1.0)
    magnitude = np.where(p <= 1.0, low / np.hypot(1.0, low), 1.0 / np.hypot(1.0, inv_high))
    return np.sign(beta * H) * magnitude
