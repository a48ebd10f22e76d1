"""Exact enumeration (Gray-code kernel) against a naive sum over all states."""

import math

import numpy as np
import pytest

from tests.brute_force import brute_force
from thermolearn import Ising
from thermolearn.exact import MAX_SPINS, enumerate_exact, probability_table, state_index_to_spins


def _models():
    rng = np.random.default_rng(11)
    upper = np.triu(rng.normal(size=(18, 18)), 1)
    return {
        "ferromagnet 3x3": Ising.lattice((3, 3)),
        "antiferromagnet 4x4 in a field": Ising.lattice((4, 4), coupling=-1.0, field=0.7),
        "frustrated SK 12 with fields": Ising.sherrington_kirkpatrick(12, field=0.3, seed=4),
        "EA 3x3x2 +-J": Ising.edwards_anderson(3, 2, seed=2),
        # 18 spins: four high spins walked in Gray order beyond the 14-spin block, chunked on threads
        "dense gaussian 18 with random fields": Ising.from_dense(upper + upper.T, rng.normal(size=18)),
    }


@pytest.mark.parametrize("name", list(_models()))
@pytest.mark.parametrize("T", [0.05, 0.7, 2.269, 40.0])
def test_enumeration_equals_direct_boltzmann_sum(name, T):
    model = _models()[name]
    (r,) = enumerate_exact(model, T)
    ref = brute_force(model, T)
    scale = max(1.0, abs(ref["log_z"]))
    assert r.log_z == pytest.approx(ref["log_z"], abs=1e-12 * scale)
    assert r.energy == pytest.approx(ref["energy"], abs=1e-10 * max(1, abs(ref["energy"])))
    # relative: at T = 0.05 C is 1e-65 and <M> of the antiferromagnet 1e-57, below any fixed abs;
    # <M> = 0 by symmetry rounds to ~1e-16 <|M|>
    assert r.specific_heat == pytest.approx(ref["specific_heat"], rel=1e-9, abs=0.0)
    assert r.magnetization == pytest.approx(ref["magnetization"], rel=1e-10, abs=1e-12 * ref["abs_magnetization"])
    assert r.extras["abs_magnetization"] == pytest.approx(ref["abs_magnetization"], rel=1e-10, abs=0.0)
    np.testing.assert_allclose(r.extras["mean_spins"], ref["mean_spins"], atol=1e-11)
    np.testing.assert_allclose(r.extras["correlations"], ref["correlations"], atol=1e-11)


def test_several_temperatures_in_one_pass_equal_separate_runs():
    model = _models()["frustrated SK 12 with fields"]
    together = enumerate_exact(model, [0.3, 1.0, 5.0])
    for r in together:
        alone = enumerate_exact(model, r.temperature)[0]
        assert r.log_z == pytest.approx(alone.log_z, rel=1e-13)
        assert r.specific_heat == pytest.approx(alone.specific_heat, rel=1e-10)


def test_thread_count_does_not_change_results():
    model = _models()["dense gaussian 18 with random fields"]
    one = enumerate_exact(model, 1.3, n_threads=1)[0]
    many = enumerate_exact(model, 1.3, n_threads=4)[0]
    assert one.log_z == pytest.approx(many.log_z, rel=1e-14)
    np.testing.assert_allclose(one.extras["correlations"], many.extras["correlations"], atol=1e-13)


def test_free_energy_entropy_and_thermodynamic_identities():
    model = Ising.lattice((4, 4), field=0.2)
    T, dT = 2.0, 1e-4
    r, lo, hi = enumerate_exact(model, [T, T - dT, T + dT])
    assert r.free_energy == pytest.approx(-T * r.log_z)
    assert r.entropy == pytest.approx((r.energy - r.free_energy) / T)
    # C = dU/dT and U = d(beta F)/d beta, by central differences (error O(dT^2))
    assert r.specific_heat == pytest.approx((hi.energy - lo.energy) / (2 * dT), rel=1e-6)
    beta_f = lambda x: -x.log_z  # noqa: E731
    dbeta = 1 / (T - dT) - 1 / (T + dT)
    assert r.energy == pytest.approx((beta_f(lo) - beta_f(hi)) / dbeta, rel=1e-6)


@pytest.mark.parametrize("T", [1e-6, 1e-10, 1e-15, 1e-300])
def test_entropy_keeps_the_ground_state_degeneracy_at_any_temperature(T):
    # the torus has two ground states: S -> ln 2 with no cancellation of log Z against beta U
    r = enumerate_exact(Ising.lattice((4, 4)), T)[0]
    assert r.entropy == pytest.approx(math.log(2), rel=1e-12)
    assert r.as_dict()["entropy_per_spin"] == pytest.approx(math.log(2) / 16, rel=1e-12)
    assert "entropy" not in r.as_dict()


def test_entropy_from_log_z_and_energy_is_nan_once_its_digits_are_gone():
    from thermolearn.exact import solve

    for T, expected in ((1e-8, math.log(2)), (1e-15, math.nan)):
        r = solve(Ising.lattice((4, 4)), T, method="kaufman")[0]
        if math.isnan(expected):
            assert math.isnan(r.entropy) and r.as_dict()["entropy_per_spin"] is None
        else:
            assert r.entropy == pytest.approx(expected, rel=1e-5)


def test_zero_temperature_limit_concentrates_on_ground_states():
    model = Ising.lattice((4, 4))
    (r,) = enumerate_exact(model, 0.02)
    assert r.energy == pytest.approx(-32.0)
    assert r.log_z == pytest.approx(32.0 / 0.02 + np.log(2))  # two ground states
    assert r.specific_heat == pytest.approx(0.0, abs=1e-12)


def test_probability_table_sums_to_one_and_matches_brute_force():
    model = _models()["frustrated SK 12 with fields"]
    p, e = probability_table(model, 0.8)
    ref = brute_force(model, 0.8)
    np.testing.assert_allclose(p, ref["probabilities"], rtol=1e-12, atol=1e-300)
    assert p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(e, model.energy(state_index_to_spins(np.arange(2**12), 12)))


def test_past_the_limit_the_error_names_it_and_the_alternatives():
    model = Ising.lattice((31,))
    with pytest.raises(ValueError, match=f"n <= {MAX_SPINS}.*Monte Carlo.*variational"):
        enumerate_exact(model, 1.0)
    with pytest.raises(ValueError, match="n <= 20"):
        probability_table(Ising.lattice((21,)), 1.0)


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), float("inf")])
def test_non_positive_or_non_finite_temperatures_are_rejected(T):
    with pytest.raises(ValueError, match="> 0"):
        enumerate_exact(Ising.lattice((3,)), T)


def test_twenty_six_spins_enumerate_quickly_and_agree_with_the_closed_form_chain():
    # periodic chain: Z = (2 cosh K)^N + (2 sinh K)^N, an exact check well past brute force
    N, T = 26, 1.5
    K = 1 / T
    (r,) = enumerate_exact(Ising.lattice((N,)), T, correlations=False)
    expected = np.log((2 * np.cosh(K)) ** N + (2 * np.sinh(K)) ** N)
    assert r.log_z == pytest.approx(expected, rel=1e-13)


def _decimal_susceptibility(model: Ising, temperature: float) -> float:
    """beta Var(M) summed in 60-digit decimals about the ground state (the reference for the test below)."""
    from decimal import Decimal, localcontext

    n = model.n_spins
    index = np.arange(2**n)
    spins = (1 - 2 * ((index[:, None] >> np.arange(n)) & 1)).astype(float)
    energies = np.asarray(model.energy(spins))
    mags = spins.sum(axis=1).astype(int)
    with localcontext() as ctx:
        ctx.prec = 60
        beta = 1 / Decimal(temperature)
        low = min(energies)
        weights = [(-beta * (Decimal(float(e)) - Decimal(float(low)))).exp() for e in energies]
        z = sum(weights)
        mean = sum(w * m for w, m in zip(weights, mags)) / z
        second = sum(w * m * m for w, m in zip(weights, mags)) / z
        return float(beta * (second - mean * mean))


@pytest.mark.parametrize("shape, coupling, field", [((3, 4), 1.0, 0.3), ((2, 6), 0.7, -0.2), ((3, 4), -1.0, 0.5)])
def test_susceptibility_in_a_field_keeps_its_digits_at_low_temperature(shape, coupling, field):
    # <M^2> - <M>^2 cancels where <M> ~ N: a 5x4 lattice at h = 0.3, T = 0.3 read chi 1% off up to
    # 0.6.12; the moments are now taken about the mean from a histogram of M
    model = Ising.lattice(shape, coupling, field)
    for temperature in (0.3, 0.6):
        got = enumerate_exact(model, temperature)[0].extras["susceptibility"]
        assert got == pytest.approx(_decimal_susceptibility(model, temperature), rel=1e-10, abs=0.0)
