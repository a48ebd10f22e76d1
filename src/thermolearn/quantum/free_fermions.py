"""The 1D transverse-field Ising chain solved by free fermions (Jordan-Wigner).

H = -J sum_i sz_i sz_{i+1} - h sum_i sx_i (k_B = 1, energies are totals in units of J).
After a rotation and the Jordan-Wigner transformation H is quadratic in fermions. On the periodic
chain the boundary bond carries the fermion parity P = prod sx_i: the even sector (P = +1) has
antiperiodic fermions, k = (2n - 1) pi / N (Neveu-Schwarz), the odd sector (P = -1) periodic ones,
k = 2 pi n / N (Ramond). Modes k and -k pair with quasiparticle energy
eps_k = 2 sqrt(J^2 + h^2 - 2 J h cos k); the unpaired modes k = 0 and k = pi keep the signed energy
2 (h - J cos k), and each sector keeps only states of its own quasiparticle-number parity:
Z = Z_NS^even + Z_R^odd (summed mode by mode in log space, not as the equivalent but cancelling
(prod 2cosh +- prod 2sinh) / 2).
The open chain is solved by Lieb-Schultz-Mattis: eps_k are the singular values of A + B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, special

from thermolearn.resources import check_memory
from thermolearn.validation import check_finite_float, check_positive_int, check_temperatures


@dataclass(frozen=True)
class ChainSpectrum:
    """Quasiparticle energies of one fermion sector of the chain.

    ``energies``: one per mode (paired modes >= 0, the unpaired k = 0, pi modes signed, so the
    mode's vacuum energy is -energy/2); ``parity``: +1 or -1, the fermion parity the sector keeps
    (0 for the open chain, which keeps every state).
    """

    energies: np.ndarray
    parity: int


def _check_chain(n_spins: object, field: object, coupling: object) -> tuple[int, float, float]:
    n = check_positive_int("n_spins", n_spins, minimum=2)
    h = check_finite_float("field", field)
    J = check_finite_float("coupling", coupling)
    check_memory(f"free fermions on a chain of N = {n} spins", 8.0 * (4.0 * n * n + 16.0 * n), hint="use fewer spins")
    return n, h, J


def _check_periodic(periodic: object) -> bool:
    if not isinstance(periodic, bool | np.bool_):
        raise TypeError(f"periodic must be True or False, got {periodic!r}")
    return bool(periodic)


def chain_sectors(n_spins: int, field: float, coupling: float = 1.0, periodic: bool = True) -> list[ChainSpectrum]:
    """The fermion sectors of the chain with their mode energies (units of J).

    Periodic: [even parity (antiperiodic fermions), odd parity (periodic fermions)]; open: one
    sector with the Lieb-Schultz-Mattis energies and no parity constraint.
    """
    n, h, J = _check_chain(n_spins, field, coupling)
    if not _check_periodic(periodic):
        return [ChainSpectrum(_open_chain_energies(n, h, J), 0)]
    sectors = []
    for parity, offset in ((1, 0.5), (-1, 0.0)):
        k = 2.0 * np.pi * (np.arange(n) + offset) / n
        k = np.where(k > np.pi + 1e-12, k - 2.0 * np.pi, k)  # into (-pi, pi]
        paired = 2.0 * np.sqrt(np.maximum(J * J + h * h - 2.0 * J * h * np.cos(k), 0.0))
        unpaired = np.isclose(np.abs(k), 0.0, atol=1e-12) | np.isclose(np.abs(k), np.pi, atol=1e-12)
        # unpaired modes: H_k = 2 (h - J cos k) (n_k - 1/2), cos k exactly +-1
        signed = 2.0 * (h - J * np.where(np.abs(k) < 1.0, 1.0, -1.0))
        sectors.append(ChainSpectrum(np.where(unpaired, signed, paired), parity))
    return sectors


def _open_chain_energies(n: int, h: float, J: float) -> np.ndarray:
    # rotated chain -J sum sx sx - h sum sz -> c^+ A c + (c^+ B c^+ + h.c.)/2 - hN; the constant cancels tr A / 2
    A = np.diag(np.full(n, 2.0 * h))
    B = np.zeros((n, n))
    idx = np.arange(n - 1)
    A[idx, idx + 1] = A[idx + 1, idx] = -J
    B[idx, idx + 1] = -J
    B[idx + 1, idx] = J
    return np.linalg.svd(A + B, compute_uv=False)


def _sector_levels(sector: ChainSpectrum) -> tuple[float, list[float]]:
    """(vacuum energy, the two lowest energies the sector allows)."""
    eps = sector.energies
    vacuum = -0.5 * float(np.sum(eps))
    # moving a mode to its other state costs |eps|: from the vacuum (all n_k = 0) that lowers the
    # energy for negative unpaired eps; the lowest state puts each mode in its lower level
    lowest = -0.5 * float(np.sum(np.abs(eps)))
    costs = np.sort(np.abs(eps))
    if sector.parity == 0:
        return lowest, [lowest, lowest + float(costs[0])]
    # parity of the lowest state: each negative unpaired mode is occupied (odd)
    odd_occupied = int(np.sum(eps < 0)) % 2
    parity = -1 if odd_occupied else 1
    if parity == sector.parity:
        second = lowest + float(costs[0] + costs[1]) if costs.size > 1 else np.inf
        return vacuum, [lowest, second]
    second = lowest + float(costs[1]) if costs.size > 1 else np.inf
    return vacuum, [lowest + float(costs[0]), second]


def chain_low_levels(n_spins: int, field: float, coupling: float = 1.0, periodic: bool = True) -> np.ndarray:
    """The two lowest eigenvalues of the finite chain (with multiplicity), units of J."""
    levels: list[float] = []
    for sector in chain_sectors(n_spins, field, coupling, periodic):
        levels += _sector_levels(sector)[1]
    return np.sort(np.asarray(levels))[:2]


def chain_ground_energy(n_spins: int, field: float, coupling: float = 1.0, periodic: bool = True) -> float:
    """Ground-state energy (total) of H = -J sum sz_i sz_{i+1} - h sum sx_i on N spins.

    Periodic: the lower of the two parity sectors, each with its own fermion boundary condition
    and parity constraint (the true ground state of the finite spin chain). Units of J.
    """
    return float(chain_low_levels(n_spins, field, coupling, periodic)[0])


def chain_gap(n_spins: int, field: float, coupling: float = 1.0, periodic: bool = True) -> float:
    """E_1 - E_0 of the finite chain (units of J): in the ordered phase the exponentially small
    splitting of the two parity sectors, in the disordered phase about 2 |h - J|."""
    low = chain_low_levels(n_spins, field, coupling, periodic)
    return float(low[1] - low[0])


@dataclass(frozen=True)
class ChainThermodynamics:
    """ln Z, E = <H> and C = dE/dT of the chain at each temperature (totals, k_B = 1)."""

    temperatures: np.ndarray
    log_z: np.ndarray
    energy: np.ndarray
    specific_heat: np.ndarray

    def as_dict(self) -> dict:
        """The thermodynamics as a JSON-ready dict: temperatures, ln Z, energy and specific heat."""
        return {
            "temperatures": self.temperatures.tolist(),
            "log_z": self.log_z.tolist(),
            "energy": self.energy.tolist(),
            "specific_heat": self.specific_heat.tolist(),
        }


_Ensemble = tuple[np.ndarray, np.ndarray, np.ndarray]


def _mix(a: _Ensemble, b: _Ensemble) -> _Ensemble:
    """(ln Z, <E>, var E) of the union of two disjoint sets of states."""
    log_a, mean_a, var_a = a
    log_b, mean_b, var_b = b
    log_z = np.logaddexp(log_a, log_b)
    # weights from the difference alone sum to 1 to rounding, however large ln Z grows
    w_a = special.expit(log_a - log_b)
    w_b = special.expit(log_b - log_a)
    # every term is >= 0, so the variance keeps its relative accuracy however small it gets
    var = w_a * var_a + w_b * var_b + w_a * w_b * (mean_a - mean_b) ** 2
    return log_z, w_a * mean_a + w_b * mean_b, var


def _parity_ensembles(eps: np.ndarray, beta: np.ndarray) -> _Ensemble:
    """(ln Z, <E>, var E) over the Fock states of even [0] and odd [1] quasiparticle number, per beta.

    Built one mode at a time (the mode adds -eps/2 empty or +eps/2 occupied, the latter flipping
    the parity) rather than as (prod 2cosh +- prod 2sinh)/2: when the lowest state has the other
    parity that difference cancels to exp(-beta eps_min) and floating point loses it.
    """
    shape = (2, beta.size)
    log_z = np.zeros(shape)
    log_z[1] = -np.inf  # no modes: only the (even) vacuum
    mean = np.zeros(shape)
    var = np.zeros(shape)
    # the common part of ln Z is kept apart so the two parities differ by O(beta gap), not
    # O(beta E) numbers, and their relative weights keep full precision at low T
    offset = np.zeros(beta.size)
    for e in eps:
        half = 0.5 * float(e)
        empty = (log_z + beta * half, mean - half, var)
        occupied = (log_z[::-1] - beta * half, mean[::-1] + half, var[::-1])
        log_z, mean, var = _mix(empty, occupied)
        top = np.max(log_z, axis=0)
        offset += top
        log_z -= top
    return log_z + offset, mean, var


def chain_thermodynamics(
    n_spins: int, field: float, temperatures: ArrayLike, coupling: float = 1.0, periodic: bool = True
) -> ChainThermodynamics:
    """Exact ln Z, energy and specific heat of the finite chain at each temperature (totals).

    Periodic: each sector keeps the Fock states of its own parity, Z = Z_NS^even + Z_R^odd;
    open: every state, Z = prod 2 cosh(beta eps_k/2). Units: T and E in units of J, k_B = 1.
    """
    temps = check_temperatures(temperatures)
    beta = 1.0 / temps
    parts = []
    for sector in chain_sectors(n_spins, field, coupling, periodic):
        log_z, mean, var = _parity_ensembles(sector.energies, beta)
        if sector.parity == 0:
            parts.append(_mix((log_z[0], mean[0], var[0]), (log_z[1], mean[1], var[1])))
        else:
            keep = 0 if sector.parity == 1 else 1
            parts.append((log_z[keep], mean[keep], var[keep]))
    total = parts[0]
    for part in parts[1:]:
        total = _mix(total, part)
    log_z, energy, var = total
    # (beta sigma)^2 rather than beta^2 var: beta^2 alone overflows at tiny T where var is 0
    return ChainThermodynamics(temps, log_z, energy, np.square(beta * np.sqrt(var)))


def chain_log_partition(
    n_spins: int, field: float, temperatures: ArrayLike, coupling: float = 1.0, periodic: bool = True
) -> np.ndarray:
    """ln Z of the finite chain at each temperature (parity-projected when periodic)."""
    return chain_thermodynamics(n_spins, field, temperatures, coupling, periodic).log_z


def infinite_chain_ground_energy_per_spin(field: float, coupling: float = 1.0) -> float:
    """e_0 = lim E_0/N = -(2/pi)(|J| + |h|) E(m), m = 4|J h| / (|J| + |h|)^2 (units of J).

    E(m) is the complete elliptic integral of the second kind; -4/pi at h = J = 1.
    """
    h = abs(check_finite_float("field", field))
    J = abs(check_finite_float("coupling", coupling))
    total = J + h
    if total == 0.0:
        return 0.0
    return float(-2.0 / np.pi * total * special.ellipe(4.0 * J * h / (total * total)))


def infinite_chain_gap(field: float, coupling: float = 1.0) -> float:
    """The gap of the infinite chain, 2 |h - |J|| (zero at the critical point h = |J|), units of J."""
    h = abs(check_finite_float("field", field))
    J = abs(check_finite_float("coupling", coupling))
    return 2.0 * abs(h - J)


def infinite_chain_free_energy_per_spin(field: float, temperature: float, coupling: float = 1.0) -> float:
    """f = -T/pi int_0^pi ln(2 cosh(beta eps_k / 2)) dk, eps_k = 2 sqrt(J^2 + h^2 - 2 J h cos k) (units of J)."""
    h = abs(check_finite_float("field", field))
    J = abs(check_finite_float("coupling", coupling))
    T = check_temperatures([temperature], "temperature")[0]

    def integrand(k: float) -> float:
        x = np.sqrt(max(J * J + h * h - 2.0 * J * h * np.cos(k), 0.0)) / T
        return x + np.log1p(np.exp(-2.0 * x))

    value, _ = integrate.quad(integrand, 0.0, np.pi, epsabs=1e-13, epsrel=1e-13, limit=200)
    return float(-T * value / np.pi)
