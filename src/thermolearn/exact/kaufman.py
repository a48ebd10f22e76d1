"""Kaufman's exact partition function of the finite periodic 2D square-lattice Ising model.

For an ``rows x columns`` torus (``m`` rows of ``n`` spins, both periodic; zero field, coupling
J, K = J / T), Kaufman (1949), in the form given by Beale (1996), reads

    Z = 1/2 (2 sinh 2K)^{mn/2} (Z1 + Z2 + Z3 + Z4),
    Z1 = prod_{r=0}^{n-1} 2 cosh(m gamma_{2r+1} / 2),   Z2 = prod_r 2 sinh(m gamma_{2r+1} / 2),
    Z3 = prod_{r=0}^{n-1} 2 cosh(m gamma_{2r} / 2),     Z4 = prod_r 2 sinh(m gamma_{2r} / 2),

with cosh gamma_k = cosh 2K coth 2K - cos(pi k / n) (gamma_k > 0) for k >= 1 and the *signed*
gamma_0 = 2K + ln tanh K, negative above T_c, where Z4 < 0, and zero exactly at T_c.

Numerics (stable for every T > 0 and lattices of thousands of spins a side):

* gamma_k = ln(2c) + eta_k with c = cosh^2 2K / sinh 2K; the ln(2c) parts of all factors
  combine with the prefactor into N ln(2 cosh 2K) (the leading term of Onsager's free energy),
  which is differentiated analytically; the eta_k carry the rest.
* The four sectors are kept as signs and logarithms relative to sector 1 (Z_i / Z1), and their
  K-derivatives as differences of sums, so that nothing of size N^2 or e^N cancels.
* The factor 2 sinh(m gamma_0 / 2) of Z4, zero at T_c, is carried as a value scaled by
  e^{|m gamma_0 / 2|} with its derivatives (never as a logarithmic derivative), so nothing
  divides by zero at or near T_c.
* All derivatives are analytic: gamma_k' = c' / sinh gamma_k and gamma_k'' from
  (cosh gamma)'' = c''; (ln c)' = 4 tanh 2K - 2 coth 2K, (ln c)'' = 8 sech^2 2K + 4 csch^2 2K;
  gamma_0' = 2 + 2 / sinh 2K, gamma_0'' = -4 cosh 2K / sinh^2 2K. They are carried multiplied by
  K (first) and K^2 (second): U = -T K d ln Z/dK, C = K^2 d^2 ln Z/dK^2.
* The O(1/c) parts (cos theta_k / c) of gamma_k' and gamma_k'' are split off and summed exactly
  (sum of cos over odd k is 0, over even k is -1 or 0 with k = 0), which keeps C accurate at low
  and high temperature, where c is large.
* For K > 400 (T < J/400) the answer is the two ground states to double precision (ln Z =
  ln 2 + 2NK, U = -2NJ, C = 0); for K < 1e-100 the leading high-temperature series is used.

Accuracy (checked against brute force and 60-digit evaluation of the same formula): ln Z and U
to ~1e-15 relative everywhere; C to ~1e-14 relative for T >~ 0.5 J, and to an absolute
~1e-16 N K^2 e^{-4K} below, where C ~ 64 N K^2 e^{-8K} itself is tiny (relative 4e-8 at T = 0.2,
noise below T ~ 0.12).

``Ising.lattice((rows, columns))`` is the same model: sites numbered row-major, bonds to the
right and down neighbours with wrap-around. A side of length 2 counts the bond between its two
sites twice (as the periodic transfer matrix does), and Kaufman's formula agrees with that.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import NamedTuple

import numpy as np

from thermolearn.exact.thermodynamics import ExactThermodynamics
from thermolearn.resources import check_memory
from thermolearn.validation import check_positive_int, check_temperature

__all__ = ["kaufman"]

_LN2 = math.log(2.0)
BYTES_PER_MODE = 400
"""Peak memory per unit of the shorter side (2 n angles, about twenty arrays over them; measured 368)."""


def _check_coupling(J: object) -> float:
    if isinstance(J, bool) or not isinstance(J, Real):
        raise TypeError(f"J must be a finite real number (the nearest-neighbour coupling), got {J!r}")
    J = float(J)
    if not math.isfinite(J):
        raise ValueError(f"J must be a finite real number (the nearest-neighbour coupling), got {J}")
    return J


def _log1mexp(x):
    """ln(1 - e^{-x}) for x > 0, accurate for small and large x."""
    return np.log(-np.expm1(-x))


def _gamma_parts(theta: np.ndarray, log_c: float, x: float):
    """gamma, xi, zeta and r at the angles theta, for cosh gamma = X = c - cos theta (X > 1).

    r = c / sinh gamma gives gamma' = (ln c)' r. The parts that are O(1/c) are cos/c in both
    r - 1 = cos/c + xi and r (1 + X cos)/(X^2 - 1) = cos/c + zeta; xi and zeta (both O(1/c^2))
    come from closed forms without cancellation, so that the sums of cos over each set of k,
    known exactly, can be put in by hand: this keeps the K-derivatives accurate at very low and
    very high temperature, where c is large.
    """
    cos = np.cos(theta)
    sin2 = np.sin(theta) ** 2
    ic = math.exp(-log_c)  # 1 / c
    xr = 1.0 - cos * ic  # X / c
    if log_c < 150.0:
        s2k = math.sinh(x)
        delta = (s2k - 1.0) ** 2 / s2k + 2.0 * np.sin(0.5 * theta) ** 2  # X - 1 >= 0
        sh = np.sqrt(delta * (delta + 2.0))  # sinh gamma
        gam = np.log1p(delta + sh)
        X = 1.0 + delta
        rs = sh * ic  # sinh gamma / c
        w3 = (X * X + X * sh + sh * sh) / (X + sh) * ic * ic  # (X^3 - sh^3) / c^2
    else:  # c > e^150 (very low or very high temperature): logarithms only
        log_x = log_c + np.log1p(-cos * ic)  # ln X
        log_sh = log_x + 0.5 * np.log1p(-np.exp(-2.0 * log_x))
        gam = log_x + np.log1p(np.sqrt(-np.expm1(-2.0 * log_x)))
        rs = np.exp(log_sh - log_c)
        w3 = (xr * xr + xr * rs + rs * rs) / (xr + rs) * ic
    c_minus_sh = (2.0 * cos + sin2 * ic) * ic / (1.0 + rs)  # (c - sinh gamma) / c
    xi = (cos * c_minus_sh + ic * (1.0 + cos * cos) + cos * sin2 * ic * ic) * ic / ((1.0 + rs) * rs)
    zeta = ic * ic * (1.0 + cos * cos * xr * (1.0 + xr) + cos * w3) / rs**3
    return gam, xi, zeta, 1.0 / rs


class _Coupling(NamedTuple):
    """Functions of K = J / T shared by every mode: x = 2K, ln c with c = cosh^2 2K / sinh 2K,
    lam = ln(2c), K (ln c)' and K^2 (ln c)'', and the stable hyperbolic pieces they come from."""

    K: float
    e2: float  # e^{-2K}
    e4: float  # e^{-4K}
    t2: float  # tanh 2K
    sech2: float  # sech 2K
    k_csch2: float  # K / sinh 2K
    k_coth2: float  # K coth 2K
    k_cschk: float  # K / sinh K
    k_sechk: float  # K sech K
    x: float
    log_c: float
    lam: float
    kL1: float
    kL2: float


def _coupling(K: float) -> _Coupling:
    e2 = math.exp(-2.0 * K)
    e4 = e2 * e2
    t2 = math.tanh(2.0 * K)
    sech2 = 2.0 * e2 / (1.0 + e4)
    k_csch2 = 2.0 * K * e2 / -math.expm1(-4.0 * K)
    k_coth2 = K / t2
    k_cschk = 2.0 * K * math.exp(-K) / -math.expm1(-2.0 * K)
    k_sechk = 2.0 * K * math.exp(-K) / (1.0 + e2)
    # ln c, c = cosh^2 2K / sinh 2K >= 2; lam = ln(2c)
    x = 2.0 * K
    log_c = x + 2.0 * math.log1p(math.exp(-2.0 * x)) - _log1mexp(2.0 * x) - _LN2
    lam = log_c + _LN2
    kL1 = 4.0 * K * t2 - 2.0 * k_coth2  # K (ln c)'
    kL2 = 8.0 * (K * sech2) ** 2 + 4.0 * k_csch2**2  # K^2 (ln c)''
    return _Coupling(K, e2, e4, t2, sech2, k_csch2, k_coth2, k_cschk, k_sechk, x, log_c, lam, kL1, kL2)


class _Modes(NamedTuple):
    """The modes gamma_k, k = 1 .. 2n-1 (index k - 1), of an m x n torus: eta = gamma - lam,
    xi and zeta (the O(1/c^2) parts of the derivatives), y = (m/2) gamma with K y' and K^2 y'',
    and the stable forms of 1 - tanh y, coth y - 1, sech^2 y, csch^2 y, ln(2 cosh y) - y and
    ln(2 sinh y) - y."""

    ic: float  # 1 / c
    eta: np.ndarray
    xi: np.ndarray
    zeta: np.ndarray
    y1: np.ndarray
    y2: np.ndarray
    omt: np.ndarray
    cm1: np.ndarray
    sech_sq: np.ndarray
    csch_sq: np.ndarray
    l1p: np.ndarray
    l1m: np.ndarray


def _modes(m: int, n: int, cp: _Coupling) -> _Modes:
    theta = np.pi * np.arange(1, 2 * n) / n
    cos = np.cos(theta)
    ic = math.exp(-cp.log_c)  # 1 / c
    gam, xi, zeta, r = _gamma_parts(theta, cp.log_c, cp.x)
    rm1 = cos * ic + xi
    eta = gam - cp.lam
    eta2 = cp.kL2 * rm1 - cp.kL1 * cp.kL1 * (cos * ic + zeta)  # K^2 eta''
    g1 = cp.kL1 * r  # K gamma'
    g2 = cp.kL2 + eta2  # K^2 gamma''
    half_m = 0.5 * m
    y = half_m * gam
    y1 = half_m * g1
    y2 = half_m * g2
    ey = np.exp(-2.0 * y)
    omt = 2.0 * ey / (1.0 + ey)  # 1 - tanh y
    cm1 = 2.0 * ey / -np.expm1(-2.0 * y)  # coth y - 1
    sech_sq = 4.0 * ey / (1.0 + ey) ** 2
    csch_sq = 4.0 * ey / np.expm1(-2.0 * y) ** 2
    l1p = np.log1p(ey)  # ln(2 cosh y) - y
    l1m = _log1mexp(2.0 * y)  # ln(2 sinh y) - y
    return _Modes(ic, eta, xi, zeta, y1, y2, omt, cm1, sech_sq, csch_sq, l1p, l1m)


class _ZeroMode(NamedTuple):
    """The signed gamma_0 = 2K + ln tanh K: its sign s, y0 = (m/2) gamma_0 with K y0' and
    K^2 y0'', a0 = |gamma_0| - lam, s G1 = K(|gamma_0|' - L1), s G2 = K^2(|gamma_0|'' - L2),
    e0 = e^{-2|y0|} (1 at T_c), and, away from T_c, xi and zeta of the k = 0 angle (else None)."""

    s: float
    y0: float
    y0_1: float
    y0_2: float
    a0: float
    G1: float
    G2: float
    e0: float
    xi0: float | None
    ze0: float | None


def _zero_mode(m: int, cp: _Coupling) -> _ZeroMode:
    K, e2, e4, t2, sech2 = cp.K, cp.e2, cp.e4, cp.t2, cp.sech2
    half_m = 0.5 * m
    log_tanh_k = _log1mexp(2.0 * K) - math.log1p(e2)
    gamma0 = 2.0 * K + log_tanh_k
    s = 1.0 if gamma0 >= 0.0 else -1.0
    y0 = half_m * gamma0
    y0_1 = half_m * (2.0 * K + 2.0 * cp.k_csch2)  # (m/2) K gamma_0'
    y0_2 = half_m * (-4.0 * cp.k_csch2 * cp.k_coth2)  # (m/2) K^2 gamma_0''
    if s > 0:
        a0 = -2.0 * math.log1p(e4) + 2.0 * _log1mexp(2.0 * K)  # gamma_0 - lam
        G1 = 4.0 * K * 2.0 * e4 / (1.0 + e4) + 2.0 * K * 2.0 * e2 / -math.expm1(-2.0 * K)
        G2 = -8.0 * (K * sech2) ** 2 - 2.0 * cp.k_cschk**2  # K^2(g0'' - L2)
    else:
        a0 = -4.0 * K - 2.0 * math.log1p(e4) + 2.0 * math.log1p(e2)  # -gamma_0 - lam
        G1 = K * (2.0 - 2.0 * math.tanh(K) + 4.0 * t2)  # K(g0' + L1)
        G2 = 8.0 * (K * sech2) ** 2 - 2.0 * cp.k_sechk**2  # K^2(g0'' + L2)
    e0 = math.exp(-2.0 * abs(y0))
    if abs(gamma0) > 1.0:
        # away from T_c, |gamma_0| obeys cosh |gamma_0| = c - 1 (the k = 0 angle), so the
        # closed forms apply and the exact sum of cos over all even k (0) can be used: K(|g0|'
        # - L1) = K L1 (1/c + xi_0) etc., whose 1/c parts cancel against the even-k sums below
        _, xi0, ze0, _ = _gamma_parts(np.zeros(1), cp.log_c, cp.x)
        xi0, ze0 = float(xi0[0]), float(ze0[0])
    else:
        xi0 = ze0 = None
    return _ZeroMode(s, y0, y0_1, y0_2, a0, G1, G2, e0, xi0, ze0)


def _kaufman_k(m: int, n: int, K: float) -> tuple[float, float, float, float]:
    """ln Z, (a, b) with K d ln Z/dK = K a + b, and K^2 d^2 ln Z/dK^2, for the m x n torus.

    K = J / T > 0.
    ``n`` is the side that enters the angles pi k / n, ``m`` the one that multiplies gamma.
    """
    N = m * n
    cp = _coupling(K)
    md = _modes(m, n, cp)
    z0 = _zero_mode(m, cp)
    half_m = 0.5 * m
    odd = slice(0, None, 2)  # k = 1, 3, ..., 2n-1
    even = slice(1, None, 2)  # k = 2, 4, ..., 2n-2

    # ---- sector 1 (reference): l1 = sum_odd ln 2cosh y - (m/2) n lam --------------------------
    l1 = half_m * md.eta[odd].sum() + md.l1p[odd].sum()
    l1_1, l1_2, E1, E2 = _sector_one_derivatives(md, z0, cp, half_m)
    # ---- sectors 2, 3 and 4 relative to 1 (sector 4 scaled by e^{|y0|}) ----------------------
    log_r2, d2, d2p = _sector_two(md)
    odd_omt1 = (md.y1[odd] * md.omt[odd]).sum()
    odd_omt2 = (md.y2[odd] * md.omt[odd] - md.y1[odd] ** 2 * md.sech_sq[odd]).sum()
    deta = md.eta[even].sum() - md.eta[odd].sum()
    log_r3, d3, d3p = _sector_three(md, z0, half_m, deta, E1, E2, odd_omt1, odd_omt2)
    sigma, v4, z4_1, z4_2 = _sector_four(md, z0, half_m, deta, E1, E2, odd_omt1, odd_omt2)

    # ---- combine ------------------------------------------------------------------------------
    top = max(0.0, log_r2, log_r3, v4)
    w1 = math.exp(-top)
    w2 = math.exp(log_r2 - top)
    w3 = math.exp(log_r3 - top)
    w4 = math.exp(v4 - top)
    total = w1 + w2 + w3 + sigma * w4
    first = (w2 * d2 + w3 * d3 + w4 * z4_1) / total
    second = (w2 * (d2p + d2 * d2) + w3 * (d3p + d3 * d3) + w4 * z4_2) / total

    log_z = -_LN2 + N * (cp.x + math.log1p(cp.e4)) + l1 + top + math.log(total)
    # K d ln Z/dK = 2 N K tanh 2K + rest: the first part is returned without the factor K so
    # that U = -J (2 N tanh 2K) - T rest needs no round trip through K = J / T
    rest = l1_1 + first
    dd = N * 4.0 * (K * cp.sech2) ** 2 + l1_2 + second - first * first
    return log_z, 2.0 * N * cp.t2, rest, dd


def _sector_one_derivatives(md: _Modes, z0: _ZeroMode, cp: _Coupling, half_m: float):
    """(K l1', K^2 l1'', E1, E2) of the reference sector: E1 = sum_even K eta' - sum_odd K eta'
    with the k = 0 term K(|gamma_0|' - L1) included, E2 the same for K^2 eta''. Sums of cos
    over the odd k (0) and the even k >= 2 (-1) are put in exactly."""
    odd, even = slice(0, None, 2), slice(1, None, 2)
    kL1, kL2, ic = cp.kL1, cp.kL2, md.ic
    xi_o, xi_e = md.xi[odd].sum(), md.xi[even].sum()
    ze_o, ze_e = md.zeta[odd].sum(), md.zeta[even].sum()
    seta1_o = kL1 * xi_o
    seta2_o = kL2 * xi_o - kL1 * kL1 * ze_o
    if z0.xi0 is not None:
        E1 = kL1 * (xi_e + z0.xi0 - xi_o)
        E2 = kL2 * (xi_e + z0.xi0 - xi_o) - kL1 * kL1 * (ze_e + z0.ze0 - ze_o)
    else:
        E1 = kL1 * (xi_e - xi_o - ic) + z0.s * z0.G1
        E2 = kL2 * (xi_e - xi_o - ic) - kL1 * kL1 * (ze_e - ze_o - ic) + z0.s * z0.G2
    y1, y2, omt = md.y1[odd], md.y2[odd], md.omt[odd]
    l1_1 = half_m * seta1_o - (y1 * omt).sum()
    l1_2 = half_m * seta2_o - (y2 * omt - y1**2 * md.sech_sq[odd]).sum()
    return l1_1, l1_2, E1, E2


def _sector_two(md: _Modes) -> tuple[float, float, float]:
    """ln(Z2/Z1) = sum_odd ln tanh y and the two K-derivatives of it."""
    odd = slice(0, None, 2)
    y1, y2 = md.y1[odd], md.y2[odd]
    log_r2 = (md.l1m[odd] - md.l1p[odd]).sum()
    coth_m_tanh = md.cm1[odd] + md.omt[odd]
    d2 = (y1 * coth_m_tanh).sum()
    d2p = (y2 * coth_m_tanh - y1**2 * (md.csch_sq[odd] + md.sech_sq[odd])).sum()
    return log_r2, d2, d2p


def _sector_three(md: _Modes, z0: _ZeroMode, half_m, deta, E1, E2, odd_omt1, odd_omt2):
    """ln(Z3/Z1) and its K-derivatives (even k, with the k = 0 factor 2 cosh y0)."""
    odd, even = slice(0, None, 2), slice(1, None, 2)
    e0, s = z0.e0, z0.s
    t0 = 2.0 * e0 / (1.0 + e0)  # 1 - |tanh y0|
    log_r3 = half_m * (deta + z0.a0) + math.log1p(e0) + md.l1p[even].sum() - md.l1p[odd].sum()
    d3 = half_m * E1 - s * z0.y0_1 * t0 - (md.y1[even] * md.omt[even]).sum() + odd_omt1
    d3p = (
        half_m * E2
        - s * z0.y0_2 * t0
        + z0.y0_1**2 * 4.0 * e0 / (1.0 + e0) ** 2
        - (md.y2[even] * md.omt[even] - md.y1[even] ** 2 * md.sech_sq[even]).sum()
        + odd_omt2
    )
    return log_r3, d3, d3p


def _sector_four(md: _Modes, z0: _ZeroMode, half_m, deta, E1, E2, odd_omt1, odd_omt2):
    """Z4/Z1 = sigma e^{v4} (sigma = 2 sinh(y0) e^{-|y0|}, zero at T_c) and its K-derivatives
    scaled by e^{-v4}, so that nothing divides by the vanishing factor."""
    odd, even = slice(0, None, 2), slice(1, None, 2)
    e0, s, y0_1, y0_2 = z0.e0, z0.s, z0.y0_1, z0.y0_2
    sigma = s * -math.expm1(-2.0 * abs(z0.y0))
    v4 = half_m * (deta + z0.a0) + md.l1m[even].sum() - md.l1p[odd].sum()
    P1 = half_m * E1 + (md.y1[even] * md.cm1[even]).sum() + odd_omt1
    P2 = half_m * E2 + (md.y2[even] * md.cm1[even] - md.y1[even] ** 2 * md.csch_sq[even]).sum() + odd_omt2
    z4_1 = s * (1.0 - e0) * P1 + 2.0 * e0 * y0_1  # (Z4/Z1)' e^{-v4}
    z4_2 = (
        s * (1.0 - e0) * (P2 + P1 * P1) + 4.0 * e0 * P1 * y0_1 - 4.0 * s * e0 * y0_1**2 + 2.0 * e0 * y0_2
    )  # (Z4/Z1)'' e^{-v4}
    return sigma, v4, z4_1, z4_2


def kaufman(L: int, temperature: float, J: float = 1.0, *, columns: int | None = None) -> ExactThermodynamics:
    """Exact thermodynamics of the periodic ``L x L`` (or ``L x columns``) square-lattice Ising model.

    Zero field, nearest-neighbour coupling ``J``, energy E = -J sum_<ij> s_i s_j, the same
    model as ``Ising.lattice((L, columns), J)``. Returns totals: log Z, U = <E>, C = beta^2 Var E
    and M = 0 (zero field: exactly zero by the spin-flip symmetry).

    ``J < 0`` (antiferromagnet) is allowed when both sides are even (flipping one sublattice
    maps it onto |J|, with the same log Z, U and C); on an odd side it is frustrated and rejected.
    Sides must be >= 2 (a side of 2 doubles its bonds, as ``Ising.lattice`` does).
    """
    rows = check_positive_int("L", L, minimum=2)
    cols = rows if columns is None else check_positive_int("columns", columns, minimum=2)
    T = check_temperature(temperature)
    J = _check_coupling(J)
    n_spins = rows * cols
    extras = {"rows": rows, "columns": cols}
    if J < 0.0 and (rows % 2 or cols % 2):
        raise ValueError(
            f"J < 0 (antiferromagnet) needs both sides even, got {rows} x {cols}: on an odd periodic "
            "side the antiferromagnet is frustrated and Kaufman's solution does not apply; use J > 0 "
            "or even sides"
        )
    if J == 0.0:
        return ExactThermodynamics("kaufman", T, n_spins, n_spins * _LN2, 0.0, 0.0, 0.0, extras)
    K = abs(J) / T  # inf (no error) when T < |J| / 1.8e308
    if K > 400.0:
        # Z = 2 e^{2NK} (1 + N e^{-8K} + ...): the corrections are below 1e-1300, so the ground
        # states are the whole answer to double precision (and nothing overflows as T -> 0)
        return ExactThermodynamics(
            "kaufman", T, n_spins, math.log(2.0) + 2.0 * n_spins * K, -2.0 * n_spins * abs(J), 0.0, 0.0, extras
        )
    if K < 1e-100:
        # ln Z = N ln 2 + a2 K^2 + O(K^3): the derivatives below would underflow (K^2 < 1e-200).
        # a2 = sum over neighbour pairs of (bonds in the pair)^2 / 2; a side of 2 doubles its bonds
        a2 = sum(other * 2.0 if side == 2 else side * other / 2.0 for side, other in ((rows, cols), (cols, rows)))
        return ExactThermodynamics(
            "kaufman",
            T,
            n_spins,
            n_spins * math.log(2.0) + a2 * K * K,
            -2.0 * a2 * K * abs(J),
            2.0 * a2 * K * K,
            0.0,
            extras,
        )
    # the angles run over the shorter side (fewer terms; Z is symmetric under swapping the sides)
    m, n = max(rows, cols), min(rows, cols)
    check_memory(f"Kaufman's solution for a {rows} x {cols} lattice", BYTES_PER_MODE * float(n))
    log_z, a, b, dd = _kaufman_k(m, n, K)
    energy = -abs(J) * a - T * b  # U = -J d ln Z/dK = -(J/K) K d ln Z/dK
    # C = beta^2 Var E: the O(N K^2 e^{-4K}) terms above cancel to give it, so its relative error
    # grows like 1e-16 e^{4K} (1e-8 at T = 0.2 J; a 4x4 read 3e-45 for 1.3e-64 at T = 0.05 J and 0
    # at 0.1 J up to 0.6.12). Where the low-temperature series is exact to rounding it replaces them.
    series = _low_temperature_specific_heat(rows, cols, K)
    dd = series if series is not None else max(dd, 0.0)
    return ExactThermodynamics("kaufman", T, n_spins, float(log_z), float(energy), float(dd), 0.0, extras)


#: x = e^{-4K} at and below which the series replaces the sums: there its first omitted term is
#: below ~1e-15 of C (sides >= 3, ~20 x^2) or ~4e-9 (a side of 2, ~4 x), and the sums' own error
#: (~1e-16 / x) larger
_SERIES_X = 1e-8
_SERIES_X_SIDE_TWO = 1e-9


def _low_temperature_specific_heat(rows: int, cols: int, K: float) -> float | None:
    """C = beta^2 Var E of the periodic rows x cols lattice from the low-temperature expansion of
    ln Z in x = e^{-4K}, where it is exact to rounding (None elsewhere).

    ln Z = ln 2 + 2 N K + a2 x^2 + a3 x^3 + O(x^4) counts excitations above the two ground states
    (d^2 x^k / dK^2 = 16 k^2 x^k): one flipped spin breaks 4 bonds (a2 = N); with sides >= 3 a flipped
    neighbour pair breaks 6 (2N of them), and on a side of 3 every band of whole rings across the
    other side breaks 2 x 3 bonds (C (C - 1) / 2 classes); on a side of 2 such bands break 4 bonds and
    join a2. Checked against enumeration on every lattice up to 3 x 6 (tests/test_exact_kaufman.py)."""
    x = math.exp(-4.0 * K)
    n_spins = rows * cols
    if min(rows, cols) >= 3:
        if x > _SERIES_X:
            return None
        a3 = 2 * n_spins + (cols * (cols - 1) // 2 if rows == 3 else 0) + (rows * (rows - 1) // 2 if cols == 3 else 0)
        return K * K * x * x * (64.0 * n_spins + 144.0 * a3 * x)
    if x > _SERIES_X_SIDE_TWO:
        return None
    a2 = n_spins + (cols * (cols - 1) // 2 if rows == 2 else 0) + (rows * (rows - 1) // 2 if cols == 2 else 0)
    return K * K * x * x * 64.0 * a2
