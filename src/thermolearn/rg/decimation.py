"""Exact renormalisation of the 1D Ising chain by decimation.

The reduced Hamiltonian -beta E = K sum_i s_i s_{i+1} + h sum_i s_i has the transfer matrix
T(s, s') = exp(K s s' + h (s + s') / 2). Summing out b - 1 of every b spins multiplies b of
them: T^b(s, s') = exp(g + K' s s' + h' (s + s') / 2), which defines the three-parameter
flow (K, h) -> (K', h') and the constant g per new bond. In zero field h' = 0 and

    tanh K' = tanh^b K,   g = (1/2) ln[((2 cosh K)^(2b) - (2 sinh K)^(2b)) / 4].

With N spins, ln Z_N(K, h) = (N / b) g + ln Z_{N/b}(K', h'), so the free energy per spin
-beta f = ln Z / N obeys f(K, h) = g / b + f(K', h') / b along the flow: F = -ln Z is
invariant. Iterated, f = sum_n g_n / b^(n+1), which :func:`decimate_chain` sums until the
remainder is below rounding (|f(K_n, h_n) - ln 2 cosh h_n| <= |K_n|, since |d f / d K| <= 1).

Every product is formed in logarithms of positive numbers (ln 2 cosh y = |y| + log1p(e^(-2|y|))
+ ln 2, with the part linear in the spins separated exactly), so the flow stays at machine
precision when the field grows like b^n or K is large; where K' or h' is small (a weak field, an
antiferromagnet's cancelling field, a tiny K) the closed forms through the eigenvalues of T give
it instead (a difference of large logarithms would not). k_B = 1; K = J / T and h = H / T are
dimensionless; lengths are in lattice spacings of the chain being renormalised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.validation import check_finite_float, check_positive_int

__all__ = [
    "ChainFlow",
    "MAX_DECIMATION_FACTOR",
    "chain_correlation_length",
    "chain_free_energy_per_spin",
    "decimate_chain",
    "decimation_step",
    "max_levels",
]

#: Largest decimation factor b accepted (a step costs b - 1 two-by-two products).
MAX_DECIMATION_FACTOR = 100_000

_LN2 = math.log(2.0)
_MAX_FLOW_STEPS = 4000  # b^-n underflows long before: b = 2 reaches 2^-1074 at n = 1074


# A 2 x 2 positive matrix M(s, s') = exp(g + k s s' + l s + r s'), stored as (g, k, l, r).
_Bond = tuple[float, float, float, float]


def _log2cosh_tail(y: float) -> float:
    """ln 2 cosh y - |y| = log1p(exp(-2 |y|)), accurate for every y."""
    return math.log1p(math.exp(-2.0 * abs(y)))


def _compose(m1: _Bond, m2: _Bond) -> _Bond:
    """M1 M2 (the middle spin summed out) as (g, k, l, r).

    sum_{s'} exp(s' y), y = k1 s + k2 s'' + r1 + l2, is 2 cosh y; its log is |y| plus a
    small positive tail. When the four y share one sign sigma (a large field), |y| = sigma y
    is linear in s and s'' and goes into l, r and g exactly, so k comes only from the tails
    and never from the difference of large numbers."""
    g1, k1, l1, r1 = m1
    g2, k2, l2, r2 = m2
    big_h = r1 + l2
    ys = {(a, c): k1 * a + k2 * c + big_h for a in (1, -1) for c in (1, -1)}
    if all(y >= 0 for y in ys.values()) or all(y <= 0 for y in ys.values()):
        sigma = 1.0 if sum(ys.values()) >= 0 else -1.0
        lin_g, lin_l, lin_r = sigma * big_h, sigma * k1, sigma * k2
        x = {key: _log2cosh_tail(y) for key, y in ys.items()}
    else:
        lin_g = lin_l = lin_r = 0.0
        x = {key: abs(y) + _log2cosh_tail(y) for key, y in ys.items()}
    pp, pm, mp, mm = x[1, 1], x[1, -1], x[-1, 1], x[-1, -1]
    if lin_g:
        # one sign (a large field): the second difference of the tails cancels to rounding once
        # k1 k2 e^(-2|H|) is below it (K_3 of (K, h) = (1, 5) came out 0 for ~1e-40); the same k
        # in closed form: cosh(A) cosh(B) = (cosh(A + B) + cosh(A - B)) / 2 turns the ratio of the
        # four 2 cosh y into 1 + 2 sinh 2k1 sinh 2k2 / (cosh 2H + cosh 2(k1 - k2)), |.| - 1 < 1
        k = _field_dominated_coupling(k1, k2, big_h)
    else:
        k = (pp + mm - pm - mp) / 4.0
    left = lin_l + (pp + pm - mp - mm) / 4.0
    right = lin_r + (pp - pm + mp - mm) / 4.0
    g = lin_g + (pp + pm + mp + mm) / 4.0
    return g1 + g2 + g, k, l1 + left, r2 + right


def _log_abs_sinh(z: float) -> float:
    a = abs(z)
    return a - _LN2 + math.log1p(-math.exp(-2.0 * a)) if a > 20.0 else math.log(math.sinh(a))


def _log_cosh(z: float) -> float:
    a = abs(z)
    return a - _LN2 + math.log1p(math.exp(-2.0 * a))


def _field_dominated_coupling(k1: float, k2: float, big_h: float) -> float:
    """(1/4) ln[cosh(H + k1 + k2) cosh(H - k1 - k2) / (cosh(H + k1 - k2) cosh(H - k1 + k2))]
    without cancellation: (1/4) log1p(2 sinh 2k1 sinh 2k2 / (cosh 2H + cosh 2(k1 - k2))), in
    logarithms so that neither cosh overflows (|H| >= |k1| + |k2| here, so the ratio is in (-1/2, 1))."""
    if k1 == 0.0 or k2 == 0.0:
        return 0.0
    log_ratio = _LN2 + _log_abs_sinh(2.0 * k1) + _log_abs_sinh(2.0 * k2)
    log_ratio -= float(np.logaddexp(_log_cosh(2.0 * big_h), _log_cosh(2.0 * (k1 - k2))))
    ratio = math.copysign(math.exp(log_ratio), k1 * k2)
    return 0.25 * math.log1p(ratio)


def _check_factor(b: object) -> int:
    b = check_positive_int("b", b, minimum=2)
    if b > MAX_DECIMATION_FACTOR:
        raise ValueError(f"b must be an integer from 2 to {MAX_DECIMATION_FACTOR}, got {b}")
    return b


def decimation_step(coupling: float, field: float = 0.0, b: int = 2) -> tuple[float, float, float]:
    """One exact decimation of the chain by ``b``: (K, h) -> (K', h') and the constant g.

    T^b(s, s') = exp(g + K' s s' + h' (s + s') / 2) with T(s, s') = exp(K s s' + h (s + s') / 2);
    zero field gives K' = atanh(tanh^b K), h' = 0. K and h are any finite reduced couplings
    (J / T, H / T); g is per bond of the new chain (ln Z gains g for each of the N / b bonds).
    """
    k = check_finite_float("coupling", coupling)
    h = check_finite_float("field", field)
    b = _check_factor(b)
    return _step(k, h, b)


def _step(k: float, h: float, b: int) -> tuple[float, float, float]:
    bond: _Bond = (0.0, k, h / 2.0, h / 2.0)
    product = bond
    for _ in range(b - 1):
        product = _compose(product, bond)
    g, k_new, left, right = product
    # zero field stays exactly zero (spin-flip symmetry), not a rounding residue of l + r
    h_new = left + right if h != 0.0 else 0.0
    # the products keep large and growing values to rounding, but a small h' or K' is a difference
    # of logarithms there (h' = 1e-15 at (K, h) = (1, 1e-15) came out 7% off; an antiferromagnet's
    # h' = 8e-21 at (-10, 1e-3) came out -1e-15): where the closed forms are well conditioned
    # (|tanh h'| <= 1/2, and e^(4K') - 1 >= -1/2) they replace them
    tanh_h, log_rho, rho_sign = _closed_form_ratios(k, h, b)
    if abs(tanh_h) <= 0.5:
        h_new = math.atanh(tanh_h)
    if rho_sign > 0:
        # ln(1 + rho): log1p where rho is small, rho's own logarithm where it is huge
        k_new = 0.25 * (math.log1p(math.exp(log_rho)) if log_rho <= 0.0 else log_rho + math.log1p(math.exp(-log_rho)))
    elif log_rho <= -_LN2:
        k_new = 0.25 * math.log1p(-math.exp(log_rho))
    return k_new, h_new, g


def _closed_form_ratios(k: float, h: float, b: int) -> tuple[float, float, float]:
    """tanh h', and ln |rho| and the sign of rho = e^(4K') - 1, of one decimation by ``b``, from the
    eigenvalues of T: tanh h' to a few ulps wherever it is small, rho wherever it is not near -1
    (every step in logarithms of positive numbers).

    With T / e^K = c + q n.sigma, c = cosh h, q = sqrt(sinh^2 h + e^(-4K)) and x = (c - q) / (c + q),
    T^b is diagonal-plus-sigma with tanh h' = (sinh h / q) (1 - x^b) / (1 + x^b) and
    e^(4K') - 1 = det T^b / (T^b_{+-})^2 = 4 q^2 e^(4K) x^b / (1 - x^b)^2. 1 - |x| is
    2q / (c + q) for K > 0 and 2c / (c + q) for K < 0, so |x| near 1 keeps its distance from 1."""
    if k == 0.0:
        return math.tanh(h), -math.inf, 1.0  # no bonds: h' = h, K' = 0
    a = abs(h)
    log_sinh = -math.inf if a == 0.0 else (a - _LN2 + _log1mexp(2.0 * a) if a > 1.0 else math.log(math.sinh(a)))
    log_q = 0.5 * float(np.logaddexp(2.0 * log_sinh, -4.0 * k))
    if log_q < 0.0 and a < 1.0:
        # c + q near 1: c - 1 = 2 sinh^2(h/2) and q keep their digits, their logarithms' sum would not
        log_c_plus_q = math.log1p(2.0 * math.sinh(a / 2.0) ** 2 + math.exp(log_q))
    else:
        log_c_plus_q = float(np.logaddexp(_log_cosh(a), log_q))
    log_gap = _LN2 + (log_q if k > 0 else _log_cosh(a)) - log_c_plus_q  # ln(1 - |x|), -inf < . <= ln 2
    if log_gap <= -_LN2:
        log_abs_x = math.log1p(-math.exp(log_gap))
    else:
        # |x| = |1 - e^(-4K)| / (c + q)^2 (c^2 - q^2 = 1 - e^(-4K)), far from 1 here
        log_det = _log1mexp(4.0 * k) if k > 0 else -4.0 * k + _log1mexp(-4.0 * k)
        log_abs_x = log_det - 2.0 * log_c_plus_q
    log_power = b * log_abs_x  # ln |x|^b
    power = math.exp(log_power)
    positive = k > 0 or b % 2 == 0  # the sign of x^b
    # ln(1 - x^b), ln(1 + x^b): -expm1 keeps 1 - |x|^b when |x|^b is near 1
    log_one_minus = math.log(-math.expm1(log_power)) if positive else math.log1p(power)
    log_one_plus = math.log1p(power) if positive else math.log(-math.expm1(log_power))
    log_tanh = log_sinh - log_q + log_one_minus - log_one_plus
    tanh_h = math.copysign(math.exp(log_tanh), h) if h != 0.0 else 0.0
    log_rho = 2.0 * _LN2 + 2.0 * log_q + 4.0 * k + log_power - 2.0 * log_one_minus
    return tanh_h, log_rho, (1.0 if positive else -1.0)


def chain_free_energy_per_spin(coupling: float, field: float = 0.0) -> float:
    """ln Z / N = -beta f of the infinite chain: ln lambda_+ of its transfer matrix.

    lambda_+ = e^K cosh h + sqrt(e^(2K) sinh^2 h + e^(-2K)); written with |h| taken out so that
    nothing overflows. Zero field: ln(2 cosh K)."""
    k = check_finite_float("coupling", coupling)
    h = check_finite_float("field", field)
    return _log_lambda_max(k, h)


def _log_lambda_max(k: float, h: float) -> float:
    a = abs(h)
    c1 = 0.5 * (1.0 + math.exp(-2.0 * a))
    s1 = -0.5 * math.expm1(-2.0 * a)
    z = -4.0 * k - 2.0 * a
    log_s1_sq = 2.0 * math.log(s1) if s1 > 0 else -math.inf
    log_root = 0.5 * float(np.logaddexp(log_s1_sq, z))
    return k + a + float(np.logaddexp(math.log(c1), log_root))


def chain_correlation_length(coupling: float, field: float = 0.0) -> float:
    """Correlation length of the infinite chain in lattice spacings: 1 / ln(lambda_+ / |lambda_-|).

    lambda_+ lambda_- = det T = 2 sinh 2K; zero field gives -1 / ln tanh|K|. Infinite at
    T = 0 only; 0 for K = 0 (no correlations)."""
    k = check_finite_float("coupling", coupling)
    h = check_finite_float("field", field)
    if k == 0.0:
        return 0.0
    a = abs(k)
    y = abs(h)  # lambda_+ / |lambda_-| is even in h
    # gap = ln(lambda_+^2 / |det T|), det T = 2 sinh 2K = e^(2|K|) (1 - e^(-4|K|)) sign K, lambda_+ = e^K mu,
    # mu = cosh h + sqrt(sinh^2 h + e^(-4K)); the large parts (2K, and 2|K| inside mu when K < 0) cancel
    # analytically, so a gap of 1e-9 keeps its digits, and where the field would overflow sinh (|h| > 710,
    # or sinh^2 at |h| > 355) the gap is large and formed from logarithms instead
    if k > 0:
        if y <= 1.0:
            # hypot keeps sqrt(e^(-4K)) = e^(-2K) when e^(-4K) alone would underflow (K > 186)
            mu_minus_one = 2.0 * math.sinh(y / 2.0) ** 2 + math.hypot(math.sinh(y), math.exp(-2.0 * a))
            log_mu = math.log1p(mu_minus_one)
        else:
            # mu = e^y [c + sqrt(s^2 + e^(-4K - 2y))], c, s = (1 +- e^(-2y)) / 2 and c + s = 1: every term
            # is positive and ln mu >= y >= 1, so nothing cancels
            c, s = 0.5 * (1.0 + math.exp(-2.0 * y)), -0.5 * math.expm1(-2.0 * y)
            log_mu = y + math.log(c + math.sqrt(s * s + math.exp(-4.0 * a - 2.0 * y)))
        gap = 2.0 * log_mu - _log1mexp(4.0 * a)
    else:
        # mu e^(-2|K|) = e^(y - 2|K|) c + sqrt(1 + (e^(y - 2|K|) s)^2) with c, s as above
        w = y - 2.0 * a
        c, s = 0.5 * (1.0 + math.exp(-2.0 * y)), -0.5 * math.expm1(-2.0 * y)
        if w <= 20.0:
            # e^y e^(-2|K|) where both are representable: exact to rounding, whereas y - 2|K| rounds first
            e = math.exp(y) * math.exp(-2.0 * a) if max(y, 2.0 * a) <= 700.0 else math.exp(w)
            x = (e * s) ** 2
            scaled_minus_one = e * c + x / (math.sqrt(1.0 + x) + 1.0)  # mu e^(-2|K|) - 1
            log_scaled = math.log1p(scaled_minus_one)
        else:  # the ratio is at least e^20 / 2: its log w + O(1) has all its digits
            log_scaled = w + math.log(c + math.sqrt(s * s + math.exp(-2.0 * w)))
        gap = 2.0 * log_scaled - _log1mexp(4.0 * a)
    return math.inf if gap <= 0 else 1.0 / gap


def _log1mexp(x: float) -> float:
    """ln(1 - e^(-x)) for x > 0 to rounding: expm1 where e^(-x) is near 1, log1p where it is small
    (ln(-expm1(-x)) rounds 1 - e^(-x) near 1, dropping e^(-x) entirely once x > 37: at K = 10 the
    gap 2 e^(-20) then lost e^(-40), 1e-9 of it)."""
    return math.log(-math.expm1(-x)) if x <= math.log(2.0) else math.log1p(-math.exp(-x))


@dataclass(frozen=True)
class ChainFlow:
    """The decimation flow of a chain, level 0 (the start) to ``levels``.

    ``couplings[n]``, ``fields[n]``: K_n, h_n; ``constants[n]``: g_n of step n -> n + 1 (per bond
    of level n + 1); ``free_energy_per_spin``: sum_n g_n / b^(n+1) over the converged flow
    (``flow_steps`` steps, beyond ``levels`` where needed), ln Z / N of the original chain;
    ``free_energy_by_level[n]``: sum_{m<n} g_m / b^(m+1) + f(K_n, h_n) / b^n with f the exact
    transfer-matrix value, the same number at every level when F is invariant;
    ``exact_free_energy_per_spin``: f(K_0, h_0)."""

    b: int
    couplings: np.ndarray
    fields: np.ndarray
    constants: np.ndarray
    free_energy_per_spin: float
    free_energy_by_level: np.ndarray
    exact_free_energy_per_spin: float
    correlation_lengths: np.ndarray
    flow_steps: int

    @property
    def levels(self) -> int:
        """Number of decimation steps (couplings recorded minus one)."""
        return int(self.couplings.size - 1)

    def as_dict(self) -> dict[str, Any]:
        """The JSON record of ``thermolearn rg decimate``."""
        return {
            "b": self.b,
            "levels": self.levels,
            "couplings": [float(x) for x in self.couplings],
            "fields": [float(x) for x in self.fields],
            "constants": [float(x) for x in self.constants],
            "free_energy_per_spin": self.free_energy_per_spin,
            "exact_free_energy_per_spin": self.exact_free_energy_per_spin,
            "free_energy_by_level": [float(x) for x in self.free_energy_by_level],
            "correlation_lengths": [_json_float(x) for x in self.correlation_lengths],
            "flow_steps": self.flow_steps,
        }


def _flow_correlation_lengths(ks: list[float], hs: list[float], b: int) -> np.ndarray:
    """xi_n of each level from its (K_n, h_n); where K_n has fallen below the smallest float (a
    strong field squares it away each level) while K_0 had correlations, xi_n is the last
    resolved level's divided by b per level, the exact decimation relation xi_n = xi_0 / b^n (a
    stored K_n = 0 would read xi_n = 0)."""
    out: list[float] = []
    for n, (k, h) in enumerate(zip(ks, hs)):
        if k == 0.0 and n > 0 and out[-1] > 0.0:
            out.append(out[-1] / b)
        else:
            out.append(chain_correlation_length(k, h))
    return np.array(out)


def _json_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def max_levels(b: int) -> int:
    """The most levels :func:`decimate_chain` accepts for factor ``b``: b^levels <= 2^500."""
    b = _check_factor(b)
    return int(500 // math.log2(b))


def decimate_chain(coupling: float, field: float = 0.0, *, b: int = 2, levels: int = 5) -> ChainFlow:
    """Iterate exact decimation by ``b`` from (K, h) for ``levels`` levels (levels >= 0).

    Returns the couplings, fields and constants of each level, the free energy per spin
    rebuilt from the constants (equal to ln lambda_+ of the transfer matrix to rounding),
    the same free energy assembled at each level (F invariant along the flow) and the
    correlation length of each level in its own lattice spacings (xi_n = xi_0 / b^n)."""
    k = check_finite_float("coupling", coupling)
    h = check_finite_float("field", field)
    b = _check_factor(b)
    levels = check_positive_int("levels", levels, minimum=0)
    most = max_levels(b)
    if levels > most:
        raise ValueError(
            f"levels must be an integer from 0 to {most} for b = {b} (b^levels <= 2^500, so that the field "
            f"b^n h and the scale b^-n stay representable), got {levels}"
        )
    ks, hs, gs = [k], [h], []
    total, scale = 0.0, 1.0  # sum of g_n / b^(n+1) so far, and b^-n
    steps = 0
    while steps < _MAX_FLOW_STEPS:
        # converged: the tail f(K_n, h_n) / b^n differs from ln 2 cosh(h_n) / b^n by at most |K_n| / b^n
        if steps >= levels and (scale == 0.0 or abs(ks[-1]) * scale <= 1e-18 * max(1.0, abs(total))):
            break
        k_new, h_new, g = _step(ks[-1], hs[-1], b)
        scale /= b
        total += g * scale
        ks.append(k_new)
        hs.append(h_new)
        gs.append(g)
        steps += 1
    tail = 0.0 if scale == 0.0 else scale * (abs(hs[-1]) + _log2cosh_tail(hs[-1]))
    partial = np.concatenate([[0.0], np.cumsum(np.array(gs[:levels]) / float(b) ** np.arange(1, levels + 1))])
    by_level = np.array(
        [partial[n] + _log_lambda_max(ks[n], hs[n]) / float(b) ** n for n in range(levels + 1)], dtype=np.float64
    )
    return ChainFlow(
        b=b,
        couplings=np.array(ks[: levels + 1]),
        fields=np.array(hs[: levels + 1]),
        constants=np.array(gs[:levels]),
        free_energy_per_spin=total + tail,
        free_energy_by_level=by_level,
        exact_free_energy_per_spin=_log_lambda_max(k, h),
        correlation_lengths=_flow_correlation_lengths(ks[: levels + 1], hs[: levels + 1], b),
        flow_steps=steps,
    )
