"""The Binder-cumulant T_c estimator: exact crossings of synthetic curves, honest error bars,
a clear "no estimate" without a crossing, and the physics of the 2D Ising model (exact
cumulants of small tori approach Onsager's T_c; Monte Carlo crossings agree with them
within their error bars)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.estimators.binder import binder_crossing
from thermolearn.exact.enumeration import probability_table, state_index_to_spins
from thermolearn.exact.kaufman import kaufman
from thermolearn.exact.onsager import critical_temperature

ONSAGER_TC = critical_temperature(1.0)


def _scaling_curves(temps: np.ndarray, tc: float, sizes=(8, 16, 32), nu: float = 1.0) -> dict:
    """U4 = (2/3) / (1 + exp(x)), x = (T - tc) L^{1/nu}: every size passes through 1/3 at tc,
    and U4 - 1/3 is odd in x, so on a grid symmetric about tc the linear interpolation of
    two curves crosses exactly at tc."""
    return {L: (2.0 / 3.0) / (1.0 + np.exp((temps - tc) * L ** (1.0 / nu))) for L in sizes}


# ---------------------------------------------------------------------------- synthetic curves
def test_crossing_of_scaling_curves_is_found_exactly():
    tc = 2.3
    temps = tc + 0.02 * np.arange(-7, 8)
    curves = _scaling_curves(temps, tc)
    result = binder_crossing(temps, {L: (u, np.zeros_like(u)) for L, u in curves.items()}, n_resamples=20)
    assert result is not None
    assert result.mean == pytest.approx(tc, abs=1e-12)
    assert [(a, b) for a, b, _ in result.pairs] == [(8, 16), (16, 32)]
    assert all(c == pytest.approx(tc, abs=1e-12) for _, _, c in result.pairs)
    assert result.success_fraction == 1.0
    assert result.stderr < 1e-12  # exact input: every resample is the same curve


def test_crossing_of_straight_lines_off_the_grid_is_exact():
    # U4 linear in T near the crossing: linear interpolation is then exact wherever tc falls
    tc = 2.2345
    temps = np.linspace(2.0, 2.5, 11)
    slopes = {4: -0.4, 8: -0.9}
    cumulants = {L: (0.6 + s * (temps - tc), np.zeros_like(temps)) for L, s in slopes.items()}
    result = binder_crossing(temps[::-1], {L: (m[::-1], e) for L, (m, e) in cumulants.items()}, n_resamples=10)
    assert result.mean == pytest.approx(tc, abs=1e-12)  # unsorted temperatures are sorted first


def test_error_bar_of_noisy_crossing_covers_the_true_crossing():
    """Noisy curves (Gaussian errors of known size) around an exact crossing: the resampled
    error bar is calibrated, so about 68% of the estimates fall within one stderr of tc and
    nearly all within three."""
    tc = 2.3
    temps = tc + 0.03 * np.arange(-5, 6)
    curves = _scaling_curves(temps, tc, sizes=(8, 16))
    sigma = 0.004
    rng = np.random.default_rng(12)
    pulls = []
    for _ in range(40):
        noisy = {L: (u + sigma * rng.standard_normal(u.shape), np.full_like(u, sigma)) for L, u in curves.items()}
        result = binder_crossing(temps, noisy, n_resamples=300, seed=int(rng.integers(1 << 30)))
        assert result is not None and result.stderr > 0
        pulls.append((result.mean - tc) / result.stderr)
    pulls = np.abs(pulls)
    # binomial(40, 0.68): 27 +- 3 expected within one sigma; 39.9 within three
    assert 18 <= np.sum(pulls < 1.0) <= 36
    assert np.sum(pulls < 3.0) >= 38


def test_curves_that_do_not_cross_give_no_estimate():
    temps = np.linspace(2.0, 2.5, 6)
    low = 0.5 - 0.1 * (temps - 2.0)
    parallel = {4: (low, np.full(6, 1e-3)), 8: (low + 0.05, np.full(6, 1e-3))}
    assert binder_crossing(temps, parallel) is None
    assert binder_crossing(temps, {4: parallel[4]}) is None  # one size
    assert binder_crossing(temps[:1], {4: (low[:1], low[:1]), 8: (low[:1], low[:1])}) is None  # one temperature
    nan = np.full(6, np.nan)
    assert binder_crossing(temps, {4: (nan, nan), 8: (nan, nan)}) is None  # U4 undefined everywhere


def test_values_without_an_error_bar_are_skipped():
    # frozen chains deep in the ordered phase give U4 = 2/3 at every size, with no error bar: equal
    # values there are no crossing
    temps = np.array([0.3, 2.0, 2.5])
    frozen = {4: (np.array([2 / 3, 0.6, 0.5]), np.array([np.nan, 1e-3, 1e-3]))}
    frozen[8] = (np.array([2 / 3, 0.55, 0.4]), np.array([np.nan, 1e-3, 1e-3]))
    assert binder_crossing(temps, frozen) is None
    crossing = {4: frozen[4], 8: (np.array([2 / 3, 0.62, 0.4]), frozen[8][1])}
    found = binder_crossing(temps, crossing)
    assert found is not None and 2.0 < found.mean < 2.5
    # Wolff at T = 0.5 is not frozen (it flips the whole lattice) but U4 is 2/3 to rounding at both
    # sizes, errors ~1e-15: rounding noise is no crossing (read T_c = 0.50 +- 0.26 up to 0.6.11)
    saturated = {4: (np.array([2 / 3 - 2e-16, 0.6, 0.5]), np.array([1.6e-15, 1e-3, 1e-3]))}
    saturated[8] = (np.array([2 / 3 - 5e-17, 0.55, 0.4]), np.array([1.1e-15, 1e-3, 1e-3]))
    assert binder_crossing(temps, saturated) is None


def test_bad_arguments_are_named():
    temps = np.linspace(2.0, 2.5, 6)
    u = (np.linspace(0.6, 0.4, 6), np.zeros(6))
    with pytest.raises(ValueError, match="cumulants\\[8\\]"):
        binder_crossing(temps, {4: u, 8: (u[0][:5], u[1][:5])})
    with pytest.raises(ValueError, match="temperatures"):
        binder_crossing(np.array([2.0, np.nan, 2.2, 2.3, 2.4, 2.5]), {4: u, 8: u})
    with pytest.raises(ValueError, match="n_resamples"):
        binder_crossing(temps, {4: u, 8: u}, n_resamples=0)


# ---------------------------------------------------------------------------- 2D Ising physics
def _magnetisation_histogram(L: int, T: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact weights of M = sum s on the periodic L x L square lattice (J = 1, zero field) by
    a row-to-row transfer matrix that keeps M: (M values, weights / scale, ln scale)."""
    S, N = 2**L, L * L
    spins = 1 - 2 * ((np.arange(S)[:, None] >> np.arange(L)) & 1)
    row_m = spins.sum(axis=1)
    row_e = -(spins * np.roll(spins, -1, axis=1)).sum(axis=1)  # bonds along a row
    between = -(spins @ spins.T)  # bonds between consecutive rows
    beta = 1.0 / T
    step = np.exp(-beta * (between + row_e[None, :]))  # enter row c from row b
    n_m = 2 * N + 1
    w = np.zeros((S, n_m, S))  # (first row, M + N, current row)
    w[np.arange(S), N + row_m, np.arange(S)] = np.exp(-beta * row_e)
    log_scale = 0.0
    for _ in range(L - 1):
        q = w @ step
        w = np.zeros_like(q)
        for c in range(S):
            s = row_m[c]
            if s >= 0:
                w[:, s:, c] = q[:, : n_m - s, c]
            else:
                w[:, :s, c] = q[:, -s:, c]
        top = w.max()
        w /= top
        log_scale += math.log(top)
    hist = np.einsum("fmb,bf->m", w, np.exp(-beta * between))  # close the torus: last row to first
    return np.arange(-N, N + 1), hist, log_scale


def _exact_binder(L: int, T: float) -> float:
    m, hist, _ = _magnetisation_histogram(L, T)
    p = hist / hist.sum()
    m2 = float(np.sum(p * m**2.0))
    m4 = float(np.sum(p * m**4.0))
    return 1.0 - m4 / (3.0 * m2 * m2)


def test_transfer_matrix_cumulants_match_enumeration_and_kaufman():
    """The test's own exact U4 is checked first: against enumerating all 2^16 states of the
    4 x 4 torus, and its Z against Kaufman's closed form for 5 x 5 and 6 x 6."""
    T = 2.3
    probs, _ = probability_table(Ising.lattice((4, 4)), T)
    m = state_index_to_spins(np.arange(probs.size), 16).sum(axis=1).astype(float)
    u4 = 1.0 - np.sum(probs * m**4) / (3.0 * np.sum(probs * m**2) ** 2)
    assert _exact_binder(4, T) == pytest.approx(u4, rel=1e-12)
    for L in (5, 6):
        _, hist, log_scale = _magnetisation_histogram(L, T)
        assert log_scale + math.log(hist.sum()) == pytest.approx(kaufman(L, T).log_z, rel=1e-12)


def test_exact_binder_crossings_of_small_tori_approach_onsager_tc_from_below():
    """Exact U4 of the 3x3 ... 6x6 tori: every consecutive pair crosses, the crossings rise
    towards Onsager's T_c = 2.269 and stay below it, and the shift shrinks at least as fast as
    1/L (finite-size scaling: shift ~ L^{-(1/nu + omega)}, 1/nu = 1 in 2D, omega > 0)."""
    temps = np.round(np.arange(2.10, 2.30 + 1e-9, 0.01), 10)
    sizes = (3, 4, 5, 6)
    cumulants = {L: (np.array([_exact_binder(L, T) for T in temps]), np.zeros(len(temps))) for L in sizes}
    result = binder_crossing(temps, cumulants, n_resamples=2)
    assert result is not None and result.success_fraction == 1.0
    crossings = np.array([c for _, _, c in result.pairs])
    assert np.all(np.isfinite(crossings))
    assert np.all(np.diff(crossings) > 0)
    assert np.all(crossings < ONSAGER_TC)
    shifts = ONSAGER_TC - crossings
    middle = np.array(sizes[:-1]) + 0.5  # the pair (L, L + 1)
    assert np.all(shifts[1:] / shifts[:-1] <= middle[:-1] / middle[1:])
    assert shifts[-1] < 0.05 * ONSAGER_TC


def test_monte_carlo_binder_crossing_agrees_with_the_exact_one_within_its_error():
    """Wolff runs of the 4x4 and 6x6 tori with error bars: the estimated crossing covers the
    exact crossing of the same sizes within three of its standard errors, and is near
    Onsager's T_c once that exact finite-size shift (about 0.05) is allowed for."""
    from thermolearn.runs import sample

    temps = np.array([2.10, 2.16, 2.22, 2.28, 2.34])
    sizes = (4, 6)
    cumulants = {}
    for L in sizes:
        means, errs = [], []
        for i, T in enumerate(temps):
            run = sample(Ising.lattice((L, L)), "wolff", float(T), sweeps=6000, burn_in=200, seed=31 + 10 * L + i)
            u4 = run.observables[0].binder_cumulant
            means.append(u4.mean)
            errs.append(u4.stderr)
        cumulants[L] = (np.array(means), np.array(errs))
    mc = binder_crossing(temps, cumulants, n_resamples=1000, seed=1)
    exact = binder_crossing(
        temps, {L: (np.array([_exact_binder(L, T) for T in temps]), np.zeros(len(temps))) for L in sizes}
    )
    assert mc is not None and exact is not None
    assert 0 < mc.stderr < 0.1
    assert abs(mc.mean - exact.mean) < 3.0 * mc.stderr
    assert abs(mc.mean - ONSAGER_TC) < 3.0 * mc.stderr + (ONSAGER_TC - exact.mean)
