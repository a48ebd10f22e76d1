"""The 1D transverse-field Ising chain solved by free fermions (Jordan-Wigner).

H = -J sum_i sz_i sz_{i+1} - h sum_i sx_i (k_B = 1, energies are totals in units of J).
After a rotation and the Jordan-Wigner transformation H is quadratic in fermions. On the periodic
chain the boundary bond carries the fermion parity P = prod sx_i: the even sector (P = +1) has
antiperiodic fermions, k = (2n - 1) pi / N (Neveu-Schwarz), the odd sector (P = -1) periodic ones,
k = 2 pi n / N (Ramond). Modes k and -k pair with quasiparticle energy
eps_k = 2 sqrt(J^2 + h^2 - 2 J h cos k); the unpaired modes k = 0 and k = pi keep the signed energy
2 (h - J cos k), and each sector keeps only states of its own parity:
Z = (Z_NS^+ + Z_NS^- + Z_R^+ - Z_R^-) / 2 with Z^+ = prod 2 cosh(beta eps/2), Z^- = prod 2 sinh(beta eps/2).
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
        return {
            "temperatures": self.temperatures.tolist(),
            "log_z": self.log_z.tolist(),
            "energy": self.energy.tolist(),
            "specific_heat": self.specific_heat.tolist(),
        }


def _product_terms(eps: np.ndarray, beta: float, kind: str) -> tuple[float, float, float, float]:
    """log|prod f(beta eps/2)|, its sign, and the first two beta-derivatives of ln|prod| (f = 2cosh | 2sinh)."""
    x = 0.5 * beta * eps
    half = 0.5 * eps
    if kind == "cosh":
        ax = np.abs(x)
        log_f = ax + np.log1p(np.exp(-2.0 * ax))  # ln 2cosh x, stable
        t = np.tanh(x)
        d1 = float(np.sum(half * t))
        d2 = float(np.sum(half * half * (1.0 - t * t)))
        return float(np.sum(log_f)), 1.0, d1, d2
    if np.any(eps == 0.0):
        return -np.inf, 0.0, 0.0, 0.0  # a zero mode makes prod 2 sinh vanish with all its derivatives
    ax = np.abs(x)
    log_f = ax + np.log(-np.expm1(-2.0 * ax))  # ln |2 sinh x|
    sign = float(np.prod(np.sign(x)))
    coth = 1.0 / np.tanh(x)
    d1 = float(np.sum(half * coth))
    d2 = float(np.sum(half * half * (1.0 - coth * coth)))
    return float(np.sum(log_f)), sign, d1, d2


def chain_thermodynamics(
    n_spins: int, field: float, temperatures: ArrayLike, coupling: float = 1.0, periodic: bool = True
) -> ChainThermodynamics:
    """Exact ln Z, energy and specific heat of the finite chain at each temperature (totals).

    Periodic: parity-projected, Z = (Z_NS^+ + Z_NS^- + Z_R^+ - Z_R^-)/2; open: prod 2 cosh(beta eps_k/2).
    Derivatives are analytic. Units: T and E in units of J, k_B = 1.
    """
    temps = check_temperatures(temperatures)
    sectors = chain_sectors(n_spins, field, coupling, periodic)
    log_z, energy, heat = [], [], []
    for T in temps:
        beta = 1.0 / T
        # each term: (weight sign, ln|term|, d ln|term|/d beta, d2 ln|term|/d beta2)
        terms = []
        for sector in sectors:
            if sector.parity == 0:
                terms.append((1.0, *_product_terms(sector.energies, beta, "cosh")))
                continue
            lc, sc, c1, c2 = _product_terms(sector.energies, beta, "cosh")
            ls, ss, s1, s2 = _product_terms(sector.energies, beta, "sinh")
            # the even sector keeps (1 + P)/2, the odd sector (1 - P)/2 of its Fock space
            terms.append((0.5, lc, sc, c1, c2))
            terms.append((0.5 * sector.parity, ls, ss, s1, s2))
        top = max(t[1] for t in terms if np.isfinite(t[1]))
        live = [(w * sign * np.exp(log_t - top), d1, d2) for w, log_t, sign, d1, d2 in terms if sign != 0.0]
        z = sum(v for v, _, _ in live)
        # d ln Z / d beta = <d1>; d2 ln Z / d beta2 = <d2> + <(d1 - <d1>)^2> over the (signed) term weights:
        # centring d1 first avoids the cancellation of <d1^2> - <d1>^2 at low T on long chains
        mean_d1 = sum(v * d1 for v, d1, _ in live) / z
        second = sum(v * (d2 + (d1 - mean_d1) ** 2) for v, d1, d2 in live) / z
        log_z.append(top + np.log(z))
        energy.append(-mean_d1)
        heat.append(beta * beta * second)
    return ChainThermodynamics(temps, np.asarray(log_z), np.asarray(energy), np.asarray(heat))


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
