"""Independent exact methods agree where they overlap, past the reach of brute force."""

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import choose_method, enumerate_exact, onsager, solve
from thermolearn.exact.kaufman import kaufman
from thermolearn.exact.transfer_matrix import strip

TC = onsager.CRITICAL_TEMPERATURE


@pytest.mark.parametrize("L", [4, 5])
@pytest.mark.parametrize("T", [1.0, TC, 3.5])
def test_kaufman_partition_function_equals_enumeration_of_all_states(L, T):
    (e,) = enumerate_exact(Ising.lattice((L, L)), T, correlations=False)
    k = kaufman(L, T)
    assert k.log_z == pytest.approx(e.log_z, rel=1e-13)
    assert k.energy == pytest.approx(e.energy, rel=1e-11)
    assert k.specific_heat == pytest.approx(e.specific_heat, rel=1e-9)


@pytest.mark.parametrize("periodic", [(True, True), (False, False), (True, False)])
def test_strip_transfer_matrix_equals_enumeration_on_5x5_in_a_field(periodic):
    model = Ising.lattice((5, 5), coupling=(1.0, 0.7), field=0.15, periodic=periodic)
    for T in (0.8, 2.5):
        (e,) = enumerate_exact(model, T, correlations=False)
        t = strip(5, 5, T, couplings=(1.0, 0.7), field=0.15, periodic_along=periodic[0], periodic_across=periodic[1])
        assert t.log_z == pytest.approx(e.log_z, rel=1e-12)
        assert t.energy == pytest.approx(e.energy, rel=1e-10)
        assert t.specific_heat == pytest.approx(e.specific_heat, rel=1e-8)
        assert t.magnetization == pytest.approx(e.magnetization, rel=1e-9)
        assert t.extras["susceptibility"] == pytest.approx(e.extras["susceptibility"], rel=1e-8)


def test_kaufman_and_the_periodic_strip_transfer_matrix_agree_on_8x8():
    for T in (1.5, TC, 4.0):
        k = kaufman(8, T)
        t = strip(8, 8, T)
        assert t.log_z == pytest.approx(k.log_z, rel=1e-12)
        assert t.energy == pytest.approx(k.energy, rel=1e-10)
        assert t.specific_heat == pytest.approx(k.specific_heat, rel=1e-8)


@pytest.mark.parametrize(
    "model, method",
    [
        (Ising.lattice((16, 16)), "kaufman"),
        (Ising.lattice((4, 4), coupling=-1.0), "kaufman"),
        (Ising.lattice((5, 5), coupling=-1.0), "transfer_matrix"),
        (Ising.lattice((16, 8), field=0.1), "transfer_matrix"),
        (Ising.lattice((100,), field=0.1, periodic=False), "transfer_matrix"),
        (Ising.sherrington_kirkpatrick(20, seed=0), "enumeration"),
        (Ising.edwards_anderson(3, 3, seed=0), "enumeration"),
    ],
)
def test_solve_picks_the_exact_method_that_fits(model, method):
    assert choose_method(model) == method
    (r,) = solve(model, 2.0)
    assert r.method.startswith(method)


def test_solve_refuses_models_no_exact_method_reaches():
    with pytest.raises(ValueError, match="no exact method.*Monte Carlo"):
        solve(Ising.lattice((20, 20), field=0.1), 2.0)
    with pytest.raises(ValueError, match="zero field"):
        solve(Ising.lattice((6, 6), field=0.1), 2.0, method="kaufman")


def test_antiferromagnet_on_even_lattice_has_the_ferromagnets_thermodynamics():
    ferro = solve(Ising.lattice((6, 6)), [1.5, 3.0])
    anti = solve(Ising.lattice((6, 6), coupling=-1.0), [1.5, 3.0], method="transfer_matrix")
    for f, a in zip(ferro, anti):
        assert a.log_z == pytest.approx(f.log_z, rel=1e-12)
        assert a.specific_heat == pytest.approx(f.specific_heat, rel=1e-9)


def test_finite_lattice_free_energy_approaches_onsager_as_L_grows():
    T = 3.0
    gaps = [abs(kaufman(L, T).free_energy_per_spin - onsager.free_energy_per_spin(T)) for L in (8, 16, 32)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-8
    assert np.isfinite(gaps).all()
