"""Exact transfer-matrix solutions: the 1D Ising chain and 2D square-lattice strips.

A strip of ``length`` rows, each of ``width`` spins, is a chain of row states a, b, ...
(2^width of them). With X_ab = -(E_row(a)/2 + E_row(b)/2 + E_between(a, b)) the transfer
matrix T_ab = exp(beta X_ab) is symmetric, and

    Z = Tr T^L                      (periodic along the strip),
    Z = u^T T^(L-1) u,  u_a = exp(-beta E_row(a) / 2)   (open along the strip).

Derivatives are analytic, never finite differences: with x = beta (generator G = X) or
x = beta h (generator G_ab = (M_a + M_b)/2, M the row magnetisation), T = exp(x G)
entrywise, so T' = G∘T and T'' = G∘G∘T; d log Z/d beta = -<E>, d^2 log Z/d beta^2 = Var E,
d log Z/d(beta h) = <M>, d^2 log Z/d(beta h)^2 = Var M. Three exact engines:

- periodic strips: Z, Z', Z'' in the eigenbasis of T (Z' = L sum lambda_i^(L-1) B_ii,
  Z'' adds L sum_ij B_ij^2 times the divided differences of lambda^(L-1), taken from
  log|lambda| and signs with expm1 for nearly degenerate pairs), each generator centred
  on its mean per row so that the variance is not a difference of large numbers;
- the moment semiring: every (log weight, mean, variance) of a set of paths is combined
  with log-sum-exp and the law of total variance, so only nonnegative terms are added and
  nothing under- or overflows. Used for open strips (vector propagation, O(L n^2)), for
  the chain (matrix powers by squaring, O(log N)) and for frustrated periodic strips
  (odd length with an antiferromagnetic coupling along the strip, where +lambda^L and
  -lambda^L nearly cancel) of up to 256 row states;
- wider frustrated periodic strips: T^L and its derivatives by BLAS repeated squaring.

Units: k_B = 1, energies in units of the couplings, totals (not per spin).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from thermolearn.exact.thermodynamics import ExactThermodynamics
from thermolearn.kernel_cache import njit
from thermolearn.validation import check_finite_float, check_positive_int, check_temperature

if TYPE_CHECKING:  # pragma: no cover
    from thermolearn.models import Ising

__all__ = ["MAX_STRIP_WIDTH", "chain", "solve_lattice", "strip"]

#: Widest strip accepted: 2^12 = 4096 row states (dense 4096 x 4096 matrices).
MAX_STRIP_WIDTH = 12

_TINY_LOG = math.log(1e-300)  # log|mu| used for an exactly zero eigenvalue


# ----------------------------------------------------------------------------- argument checks
def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_couplings(couplings: object) -> tuple[float, float]:
    if isinstance(couplings, (tuple, list, np.ndarray)):
        values = tuple(couplings)
        if len(values) != 2:
            raise ValueError(f"couplings must be one J or a pair (J_along, J_across), got {len(values)} values")
        return check_finite_float("J_along", values[0]), check_finite_float("J_across", values[1])
    j = check_finite_float("couplings", couplings)
    return j, j


def _check_width(width: int) -> int:
    if width > MAX_STRIP_WIDTH:
        raise ValueError(
            f"strip width {width} is above the transfer-matrix limit of {MAX_STRIP_WIDTH} spins "
            f"(2^{width} row states); use Monte Carlo (thermolearn samplers) for wider lattices, "
            f"or Kaufman's exact solution for the periodic square lattice without field"
        )
    return width


# ----------------------------------------------------------------------------- row structure
def _row_problem(width: int, j_along: float, j_across: float, field: float, periodic_across: bool):
    """Per-step generators for rows of ``width`` spins.

    Returns (X, xu, G, gu): X_ab = -(E_row(a)/2 + E_row(b)/2 - J_along a.b) (the beta
    generator of T), xu_a = -E_row(a)/2 (of the end vectors), G_ab = (M_a + M_b)/2 and
    gu_a = M_a/2 (the beta*h generators). Row state index bit c set <=> spin c = +1, so
    site (r, c) of ``Ising.lattice((length, width))`` is bit c of row r.
    """
    idx = np.arange(2**width)
    s = np.where((idx[:, None] >> np.arange(width)) & 1, 1.0, -1.0)
    if periodic_across and width >= 2:
        left = np.arange(width)
        right = (left + 1) % width  # width 2: two bonds between the pair, as Ising.lattice
    else:
        left = np.arange(width - 1)
        right = left + 1
    bond_sum = (s[:, left] * s[:, right]).sum(axis=1)
    mag = s.sum(axis=1)
    e_row = -j_across * bond_sum - field * mag
    overlap = s @ s.T
    x = j_along * overlap - 0.5 * (e_row[:, None] + e_row[None, :])
    g = 0.5 * (mag[:, None] + mag[None, :])
    return x, -0.5 * e_row, g, 0.5 * mag


# ----------------------------------------------------------------------------- open boundaries
@njit(cache=True)
def _moment_propagate(log_t, gens, log_u, gus, n_steps):  # pragma: no cover - compiled
    """Open boundaries: log(u^T T^n u) and per generator the mean and variance of its sum.

    State i carries (log weight, mean, variance) of all paths ending in row state i; a step
    is a mixture over the previous state (log-sum-exp, law of total variance), so every
    term added is nonnegative and nothing under- or overflows.
    """
    n = log_u.shape[0]
    n_gen = gens.shape[0]
    lf = log_u.copy()
    mf = gus.copy()
    vf = np.zeros((n_gen, n))
    ln = np.empty(n)
    mn = np.empty((n_gen, n))
    vn = np.empty((n_gen, n))
    w = np.empty(n)
    for _ in range(n_steps):
        for i in range(n):
            top = -np.inf
            for j in range(n):
                a = log_t[i, j] + lf[j]
                if a > top:
                    top = a
            total = 0.0
            for j in range(n):
                e = math.exp(log_t[i, j] + lf[j] - top)
                w[j] = e
                total += e
            ln[i] = top + math.log(total)
            for g in range(n_gen):
                mean = 0.0
                for j in range(n):
                    if w[j] > 0.0:
                        mean += w[j] * (mf[g, j] + gens[g, i, j])
                mean /= total
                var = 0.0
                for j in range(n):
                    if w[j] > 0.0:
                        d = mf[g, j] + gens[g, i, j] - mean
                        var += w[j] * (vf[g, j] + d * d)
                mn[g, i] = mean
                vn[g, i] = var / total
        lf[:] = ln
        mf[:, :] = mn
        vf[:, :] = vn
    # close with the end vector u
    top = -np.inf
    for i in range(n):
        if lf[i] + log_u[i] > top:
            top = lf[i] + log_u[i]
    total = 0.0
    for i in range(n):
        e = math.exp(lf[i] + log_u[i] - top)
        w[i] = e
        total += e
    means = np.zeros(n_gen)
    variances = np.zeros(n_gen)
    for g in range(n_gen):
        mean = 0.0
        for i in range(n):
            mean += w[i] * (mf[g, i] + gus[g, i])
        mean /= total
        var = 0.0
        for i in range(n):
            d = mf[g, i] + gus[g, i] - mean
            var += w[i] * (vf[g, i] + d * d)
        means[g] = mean
        variances[g] = var / total
    return top + math.log(total), means, variances


def _open_solution(x, xu, generators, beta: float, length: int):
    """log Z and (d log Z, d^2 log Z) per generator for Z = u^T T^(L-1) u, in O(L n^2)."""
    gens = np.stack([np.ascontiguousarray(g) for g, _gu in generators])
    gus = np.stack([gu for _g, gu in generators])
    log_z, means, variances = _moment_propagate(np.ascontiguousarray(beta * x), gens, beta * xu, gus, length - 1)
    return log_z, list(zip(means.tolist(), variances.tolist()))


# ----------------------------------------------------------------------------- periodic boundaries
def _power_divided_differences(logs: np.ndarray, signs: np.ndarray, m: int) -> np.ndarray:
    """D_ij = sum_{k=0}^{m-1} mu_i^k mu_j^(m-1-k) = (mu_i^m - mu_j^m)/(mu_i - mu_j), mu = sign e^log.

    Same-sign pairs use expm1 of the log difference (exact for nearly degenerate pairs);
    opposite-sign pairs have |mu_i - mu_j| = |mu_i| + |mu_j| and are taken directly.
    """
    li, lj = logs[:, None], logs[None, :]
    si, sj = signs[:, None], signs[None, :]
    hi = np.maximum(li, lj)
    d = np.minimum(li, lj) - hi
    em1 = np.expm1(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(d == 0.0, float(m), np.expm1(m * d) / np.where(d == 0.0, 1.0, em1))
    sign_pow = si ** ((m - 1) % 2)
    same = sign_pow * np.exp((m - 1) * hi) * ratio
    pi = si ** (m % 2) * np.exp(m * li)
    pj = sj ** (m % 2) * np.exp(m * lj)
    with np.errstate(invalid="ignore", divide="ignore"):
        opposite = (pi - pj) / (si * np.exp(li) - sj * np.exp(lj))
    return np.where(si == sj, same, opposite)


def _sum_of_powers(logs: np.ndarray, signs: np.ndarray, power: int) -> float:
    """sum_i mu_i^power, the Perron root mu = 1 last; a nearly cancelling -|mu|^L uses expm1."""
    terms = signs ** (power % 2) * np.exp(power * logs)
    top = logs.size - 1
    low = int(np.argmin(terms))
    if terms[low] < 0.0:
        head = -math.expm1(power * float(logs[low]))  # 1 - |mu|^L, exact near cancellation
        rest = [float(terms[k]) for k in range(terms.size) if k not in (top, low)]
    else:
        head = 1.0
        rest = [float(terms[k]) for k in range(terms.size) if k != top]
    return math.fsum([head, *rest])


def _spectrum(t: np.ndarray):
    """Eigen-decomposition of the symmetric positive matrix t: (lam_max, log|mu|, sign, V)."""
    lam, vecs = np.linalg.eigh(t)
    lam_max = float(lam[-1])
    mu = lam / lam_max
    signs = np.where(mu < 0.0, -1.0, 1.0)
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(mu))
    logs = np.clip(logs, _TINY_LOG, 0.0)  # rounding cannot lift |mu| above the Perron root
    logs[-1] = 0.0
    return lam_max, logs, signs, vecs


@njit(cache=True)
def _moment_product(lp, mp, vp, lq_t, mq_t, vq_t):  # pragma: no cover - compiled
    """Product of two path ensembles in the (log weight, mean, variance) semiring.

    Element (i, j) describes all paths from state i to state j: log of their summed weight
    and, per generator g, the weighted mean and variance of the path's summed g. Joining
    P (i -> k) with Q (k -> j) is a mixture over k: log-sum-exp for the weight, the law of
    total variance for the moments, so that every term added is nonnegative. ``*_t`` hold
    Q transposed (contiguous over k).
    """
    n = lp.shape[0]
    n_gen = mp.shape[0]
    lc = np.empty((n, n))
    mc = np.empty((n_gen, n, n))
    vc = np.empty((n_gen, n, n))
    w = np.empty(n)
    for i in range(n):
        for j in range(n):
            top = -np.inf
            for k in range(n):
                a = lp[i, k] + lq_t[j, k]
                if a > top:
                    top = a
            if top == -np.inf:
                lc[i, j] = -np.inf
                for g in range(n_gen):
                    mc[g, i, j] = 0.0
                    vc[g, i, j] = 0.0
                continue
            total = 0.0
            for k in range(n):
                e = math.exp(lp[i, k] + lq_t[j, k] - top)
                w[k] = e
                total += e
            lc[i, j] = top + math.log(total)
            for g in range(n_gen):
                mean = 0.0
                for k in range(n):
                    if w[k] > 0.0:
                        mean += w[k] * (mp[g, i, k] + mq_t[g, j, k])
                mean /= total
                var = 0.0
                for k in range(n):
                    if w[k] > 0.0:
                        d = mp[g, i, k] + mq_t[g, j, k] - mean
                        var += w[k] * (vp[g, i, k] + vq_t[g, j, k] + d * d)
                mc[g, i, j] = mean
                vc[g, i, j] = var / total
    return lc, mc, vc


def _semiring_product(p: tuple, q: tuple) -> tuple:
    lq, mq, vq = q
    return _moment_product(
        p[0],
        p[1],
        p[2],
        np.ascontiguousarray(lq.T),
        np.ascontiguousarray(mq.transpose(0, 2, 1)),
        np.ascontiguousarray(vq.transpose(0, 2, 1)),
    )


def _semiring_power(base: tuple, power: int) -> tuple:
    """base^power (power >= 0) by binary powering in the moment semiring."""
    n_gen, n = base[1].shape[0], base[0].shape[0]
    log_id = np.full((n, n), -np.inf)
    np.fill_diagonal(log_id, 0.0)
    result = (log_id, np.zeros((n_gen, n, n)), np.zeros((n_gen, n, n)))
    first = True
    while power:
        if power & 1:
            result = base if first else _semiring_product(result, base)
            first = False
        power >>= 1
        if power:
            base = _semiring_product(base, base)
    return result


def _mixture(log_w: np.ndarray, means: np.ndarray, variances: np.ndarray) -> tuple[float, list]:
    """log sum of weights and, per generator, the mixture mean and variance (all terms >= 0)."""
    top = float(log_w.max())
    w = np.exp(log_w - top)
    total = float(w.sum())
    moments = []
    for mean_g, var_g in zip(means, variances):
        mean = float(w @ mean_g) / total
        moments.append((mean, float(w @ (var_g + (mean_g - mean) ** 2)) / total))
    return top + math.log(total), moments


def _semiring_solution(x, generators, beta: float, length: int, periodic: bool):
    """log Z and (d log Z, d^2 log Z) per generator, by powers in the moment semiring.

    Cost O(n^3 log L): used for the chain (n = 2) and for small frustrated strips. Exact
    at any temperature: nothing is subtracted, and weights live in log space.
    """
    base = (
        np.ascontiguousarray(beta * x),
        np.stack([np.ascontiguousarray(g) for g, _gu in generators]),
        np.zeros((len(generators),) + x.shape),
    )
    if periodic:
        log_f, mean_f, var_f = _semiring_power(base, length)
        diag = np.arange(x.shape[0])
        log_z, moments = _mixture(log_f[diag, diag], mean_f[:, diag, diag], var_f[:, diag, diag])
    else:
        xu = generators[0][1]
        gus = np.stack([gu for _g, gu in generators])
        log_f, mean_f, var_f = _semiring_power(base, length - 1)
        log_w = beta * (xu[:, None] + xu[None, :]) + log_f
        means = mean_f + gus[:, :, None] + gus[:, None, :]
        log_z, moments = _mixture(log_w.ravel(), means.reshape(len(generators), -1), var_f.reshape(len(generators), -1))
    return log_z, moments


def _eigen_moments(t, generators, length: int, spectrum, shifts):
    """(Z'/Z, Z''/Z) per centred generator for Z = Tr T^L, in the eigenbasis of T.

    Z' = L sum_i lambda_i^(L-1) B_ii, Z'' = L sum_i lambda_i^(L-1) C_ii + L sum_ij B_ij^2 D_ij
    with B = V^T T' V, C = V^T T'' V and D_ij the divided difference of lambda^(L-1).
    """
    lam_max, logs, signs, vecs = spectrum
    z_red = _sum_of_powers(logs, signs, length)
    w1 = signs ** ((length - 1) % 2) * np.exp((length - 1) * logs)
    dd = _power_divided_differences(logs, signs, length - 1) if shifts is not None else None
    moments = []
    for k, (g, _gu) in enumerate(generators):
        gc = g if shifts is None else g - shifts[k]
        a_mat = gc * t
        if shifts is None:  # first moments only
            b_diag = np.sum(vecs * (a_mat @ vecs), axis=0) / lam_max
            moments.append((length * float(w1 @ b_diag) / z_red, math.nan))
            continue
        b_mat = vecs.T @ a_mat @ vecs / lam_max
        c_diag = np.sum(vecs * ((gc * a_mat) @ vecs), axis=0) / lam_max
        m1 = length * float(w1 @ np.diag(b_mat)) / z_red
        m2 = length * (float(w1 @ c_diag) + float(np.sum(b_mat * b_mat * dd))) / z_red
        moments.append((m1, m2))
    return moments


def _jet_product(p: list, q: list) -> list:
    """Product of jets (F, F'_1, F''_1, F'_2, F''_2, ...) of matrix functions (Leibniz rule)."""
    out = [p[0] @ q[0]]
    for k in range(1, len(p), 2):
        out.append(p[k] @ q[0] + p[0] @ q[k])
        out.append(p[k + 1] @ q[0] + 2.0 * (p[k] @ q[k]) + p[0] @ q[k + 1])
    return out


def _jet_power(jet: list, power: int) -> tuple[list, float]:
    """jet^power by binary powering, normalised at each step: (jet, log of the scale)."""

    def normalised(j: list) -> tuple[list, float]:
        scale = float(j[0].max())  # j[0] is a product of positive matrices
        return [m / scale for m in j], math.log(scale)

    result, log_result = None, 0.0
    base, log_base = jet, 0.0
    while True:
        if power & 1:
            if result is None:
                result, log_result = base, log_base
            else:
                result, log_s = normalised(_jet_product(result, base))
                log_result += log_base + log_s
        power >>= 1
        if not power:
            assert result is not None  # power >= 1 sets it on the lowest set bit
            return result, log_result
        base, log_s = normalised(_jet_product(base, base))
        log_base = 2.0 * log_base + log_s


def _squaring_moments(t, generators, length: int, shifts):
    """log Tr T^L and (Z'/Z, Z''/Z) per generator shifted by ``shifts``, by repeated squaring.

    The value part is a product of positive matrices (BLAS), so Tr T^L does not cancel
    where +lambda^L and -lambda^L nearly do in the eigenvalue sum.
    """
    jet = [t]
    for (g, _gu), shift in zip(generators, shifts):
        gt = (g - shift) * t
        jet += [gt, (g - shift) * gt]
    power, log_scale = _jet_power(jet, length)
    z = float(np.trace(power[0]))
    if not z > 0.0:
        raise FloatingPointError(
            "Tr T^L underflowed for this frustrated periodic strip (odd length, antiferromagnetic "
            "coupling along it) at so low a temperature; use periodic_along=False, a higher "
            "temperature, an even length, or a width <= 8"
        )
    moments = [(float(np.trace(power[k])) / z, float(np.trace(power[k + 1])) / z) for k in range(1, len(power), 2)]
    return log_scale + math.log(z), moments


def _squaring_solution(t, ct: float, generators, beta: float, length: int):
    """Periodic log Z and derivatives by repeated squaring, in two passes: the first with
    nonnegative generators (no cancellation) finds the means, the second is centred on them."""
    lows = [float(g.min()) for g, _gu in generators]
    _log, first = _squaring_moments(t, generators, length, lows)
    shifts = [low + m1 / length for low, (m1, _m2) in zip(lows, first)]
    log_tr, moments = _squaring_moments(t, generators, length, shifts)
    derivs = [(length * shift + m1, m2 - m1 * m1) for shift, (m1, m2) in zip(shifts, moments)]
    return length * beta * ct + log_tr, derivs


#: Frustrated periodic strips with at most this many row states use the moment semiring
#: (exact at any temperature, O(n^3) exponentials per product); wider ones BLAS squaring.
_MAX_SEMIRING_STATES = 256

#: Below this Var E per row (units of the couplings squared: T < ~0.35 J on a square lattice) periodic
#: strips small enough for the semiring take it, whose moments keep their relative digits
_LOW_VARIANCE_PER_ROW = 1e-6

#: Above this ratio sum_i |lambda_i|^L / |sum_i lambda_i^L| (powers of positive and
#: negative eigenvalues cancelling: frustration), periodic strips leave the eigenbasis.
_MAX_CANCELLATION = 4.0


def _periodic_solution(x, generators, beta: float, length: int):
    """log Z, (d log Z, d^2 log Z) per generator and extras for Z = Tr T^L (L >= 2).

    In the eigenbasis, each generator centred on its mean per row (found in a first pass)
    before the second moments are taken. Where the eigenvalue powers cancel (odd periodic
    length with an antiferromagnetic coupling along the strip at low temperature) the
    moment semiring is used instead.
    """
    ct = float(x.max())
    t = np.exp(beta * (x - ct))
    spectrum = _spectrum(t)
    lam_max, logs, signs, _vecs = spectrum
    extras = {"log_lambda_max": beta * ct + math.log(lam_max)}
    if logs.size > 1:
        second = float(np.sort(logs)[-2])
        if second >= 0.0:
            extras["correlation_length"] = math.inf
        else:
            extras["correlation_length"] = 0.0 if second <= _TINY_LOG else -1.0 / second
    terms = signs ** (length % 2) * np.exp(length * logs)
    z_red = _sum_of_powers(logs, signs, length)
    if not z_red > 0.0 or float(np.abs(terms).sum()) > _MAX_CANCELLATION * z_red:
        if t.shape[0] <= _MAX_SEMIRING_STATES:
            log_z, derivs = _semiring_solution(x, generators, beta, length, periodic=True)
        else:
            log_z, derivs = _squaring_solution(t, ct, generators, beta, length)
        return log_z, derivs, extras
    first = _eigen_moments(t, generators, length, spectrum, None)
    shifts = [m1 / length for m1, _m2 in first]
    moments = _eigen_moments(t, generators, length, spectrum, shifts)
    log_z = length * (beta * ct + math.log(lam_max)) + math.log(z_red)
    derivs = [(length * shift + m1, m2 - m1 * m1) for shift, (m1, m2) in zip(shifts, moments)]
    if derivs[0][1] < _LOW_VARIANCE_PER_ROW * length and t.shape[0] <= _MAX_SEMIRING_STATES:
        # deep in the ordered phase Var E is carried by eigenvector components far below the largest
        # (a 4x4 torus read C 25% off at T = 0.05 J): the semiring keeps every digit, and costs little
        log_z, derivs = _semiring_solution(x, generators, beta, length, periodic=True)
    return log_z, derivs, extras


# ----------------------------------------------------------------------------- assembly
def _assemble(method, temperature, n_spins, field, log_z, derivs, extras) -> ExactThermodynamics:
    beta = 1.0 / temperature
    (d_beta, var_e), (mean_m, var_m) = derivs
    var_e = max(var_e, 0.0)
    var_m = max(var_m, 0.0)
    extras = dict(extras)
    extras["susceptibility"] = float(beta * var_m) if var_m > 0.0 else 0.0
    return ExactThermodynamics(
        method=method,
        temperature=temperature,
        n_spins=n_spins,
        log_z=float(log_z),
        energy=float(-d_beta) + 0.0,
        specific_heat=float(beta * (beta * var_e)),  # no overflow of beta^2 at tiny T
        magnetization=0.0 if field == 0.0 else float(mean_m),  # zero by symmetry at h = 0
        extras=extras,
    )


def _solve_rows(length, width, beta, j_along, j_across, field, periodic_across, periodic_along):
    x, xu, g, gu = _row_problem(width, j_along, j_across, field, periodic_across)
    generators = [(x, xu), (g, gu)]
    if width == 1:  # the chain: 2 x 2 matrices, the semiring is exact at any T and N
        return (*_semiring_solution(x, generators, beta, length, periodic_along and length >= 2), {})
    if periodic_along and length >= 2:
        return _periodic_solution(x, generators, beta, length)
    log_z, derivs = _open_solution(x, xu, generators, beta, length)
    return log_z, derivs, {}


# ----------------------------------------------------------------------------- public API
def chain(
    n_spins: int,
    temperature: float,
    coupling: float = 1.0,
    field: float = 0.0,
    *,
    periodic: bool = True,
) -> ExactThermodynamics:
    """Exact thermodynamics of the 1D Ising chain E = -J sum_i s_i s_{i+1} - h sum_i s_i.

    Periodic: Z = lambda_+^N + lambda_-^N with lambda_+- the eigenvalues of the 2x2 transfer
    matrix; open: Z = u^T T^(N-1) u. J of any sign, any field, any N >= 1 (periodic needs
    N >= 2; N = 2 periodic has two bonds between the pair, coupling 2J, as
    ``Ising.lattice((2,), periodic=True)``). Exact for every N (cost O(log N)) and every
    T > 0, frustrated odd antiferromagnetic rings included. Returns totals: log Z, <E>, C = beta^2 Var E, <M>; extras["susceptibility"] = beta Var M
    (k_B = 1, energies in units of J).
    """
    n = check_positive_int("n_spins", n_spins)
    temp = check_temperature(temperature)
    j = check_finite_float("coupling", coupling)
    h = check_finite_float("field", field)
    periodic = _check_bool("periodic", periodic)
    if periodic and n < 2:
        raise ValueError("a periodic chain needs n_spins >= 2; use periodic=False for a single spin")
    beta = 1.0 / temp
    log_z, derivs, extras = _solve_rows(n, 1, beta, j, 0.0, h, False, periodic)
    return _assemble("transfer_matrix_chain", temp, n, h, log_z, derivs, extras)


def strip(
    length: int,
    width: int,
    temperature: float,
    couplings: float | tuple[float, float] = (1.0, 1.0),
    field: float = 0.0,
    *,
    periodic_across: bool = True,
    periodic_along: bool = True,
) -> ExactThermodynamics:
    """Exact thermodynamics of a ``length`` x ``width`` square-lattice Ising strip in a field.

    E = -J_along sum s_(r,c) s_(r+1,c) - J_across sum s_(r,c) s_(r,c+1) - h sum s_(r,c);
    sites numbered as ``Ising.lattice((length, width), coupling=(J_along, J_across),
    field=h, periodic=(periodic_along, periodic_across))``. Transfer matrix over rows of
    ``width`` spins (2^width states, width <= MAX_STRIP_WIDTH): Z = Tr T^L (periodic along)
    or u^T T^(L-1) u (open; cost grows linearly in ``length``). A periodic side of length 1
    has no bonds and one of length 2 has two bonds per pair, as in ``Ising.lattice``.
    Returns totals: log Z, <E>, C = beta^2 Var E, <M>; extras["susceptibility"] = beta Var M,
    and for periodic strips extras["log_lambda_max"] (-T times it is the free energy per
    row of the infinitely long strip) and extras["correlation_length"] = 1/log(lambda_0 /
    |lambda_1|) in rows (k_B = 1, energies in units of the couplings).
    """
    length = check_positive_int("length", length)
    width = _check_width(check_positive_int("width", width))
    temp = check_temperature(temperature)
    j_along, j_across = _check_couplings(couplings)
    h = check_finite_float("field", field)
    periodic_across = _check_bool("periodic_across", periodic_across)
    periodic_along = _check_bool("periodic_along", periodic_along)
    beta = 1.0 / temp
    log_z, derivs, extras = _solve_rows(length, width, beta, j_along, j_across, h, periodic_across, periodic_along)
    return _assemble("transfer_matrix_strip", temp, length * width, h, log_z, derivs, extras)


def solve_lattice(model: Ising, temperature: float) -> ExactThermodynamics:
    """Exact thermodynamics of a 1D or 2D ``Ising.lattice`` model by transfer matrices.

    Uses ``model.geometry``: a chain for 1D, a strip for 2D with the narrower side as the
    width (totals do not depend on which side runs along the strip). Sides of length 1
    are dropped (they carry no bonds). Raises ValueError for models without lattice
    geometry, 3D lattices, or strips whose narrower side exceeds MAX_STRIP_WIDTH.
    Returns totals (k_B = 1, energies in units of the couplings).
    """
    geometry = getattr(model, "geometry", None)
    if geometry is None:
        raise ValueError(
            "solve_lattice needs a model built by Ising.lattice (model.geometry is None); "
            "use exact enumeration for general couplings"
        )
    temp = check_temperature(temperature)
    axes = [(n, p, j) for n, p, j in zip(geometry.shape, geometry.periodic, geometry.couplings) if n > 1]
    h = geometry.field
    if not axes:
        return chain(1, temp, 0.0, h, periodic=False)
    if len(axes) == 1:
        ((n, p, j),) = axes
        return chain(n, temp, j, h, periodic=p)
    if len(axes) > 2:
        raise ValueError(
            f"transfer matrices solve 1D chains and 2D strips; this lattice has shape "
            f"{geometry.shape} (3D); use exact enumeration (<= 30 spins) or Monte Carlo"
        )
    (n0, p0, j0), (n1, p1, j1) = axes
    if n1 > n0:  # the narrower side becomes the width across the strip
        (n0, p0, j0), (n1, p1, j1) = (n1, p1, j1), (n0, p0, j0)
    if n1 > MAX_STRIP_WIDTH:
        raise ValueError(
            f"lattice {geometry.shape} is too wide for transfer matrices: its narrower side "
            f"{n1} is above the limit of {MAX_STRIP_WIDTH}; use Monte Carlo (thermolearn "
            f"samplers) or Kaufman's exact solution (periodic, no field)"
        )
    return strip(n0, n1, temp, (j0, j1), h, periodic_across=p1, periodic_along=p0)
