"""The 1D transverse-field chain by free fermions agrees with exact diagonalisation of the spin chain."""

import numpy as np
import pytest
from scipy.special import logsumexp

from thermolearn.models import Ising
from thermolearn.quantum.free_fermions import (
    chain_gap,
    chain_ground_energy,
    chain_thermodynamics,
    infinite_chain_free_energy_per_spin,
    infinite_chain_gap,
    infinite_chain_ground_energy_per_spin,
)
from thermolearn.quantum.hamiltonian import dense_hamiltonian

TEMPS = np.array([0.15, 0.7, 2.5])


def _dense_spectrum(n: int, h: float, J: float, periodic: bool) -> np.ndarray:
    return np.linalg.eigvalsh(dense_hamiltonian(Ising.lattice(n, J, 0.0, periodic=periodic), h))


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 9])
@pytest.mark.parametrize("h", [0.3, 1.0, 1.8])
def test_free_fermion_ground_energy_gap_and_thermodynamics_equal_dense_diagonalisation(periodic, n, h):
    w = _dense_spectrum(n, h, 1.0, periodic)
    assert abs(chain_ground_energy(n, h, 1.0, periodic) - w[0]) < 1e-10
    assert abs(chain_gap(n, h, 1.0, periodic) - (w[1] - w[0])) < 1e-10
    th = chain_thermodynamics(n, h, TEMPS, 1.0, periodic)
    for T, log_z, energy, heat in zip(TEMPS, th.log_z, th.energy, th.specific_heat):
        p = np.exp(-(w - w[0]) / T)
        p /= p.sum()
        assert abs(log_z - logsumexp(-w / T)) < 1e-10
        assert abs(energy - p @ w) < 1e-10
        assert abs(heat - (p @ w**2 - (p @ w) ** 2) / T**2) < 1e-9


@pytest.mark.parametrize("periodic", [True, False])
def test_antiferromagnetic_and_negative_field_chains_equal_dense_diagonalisation(periodic):
    for n, h, J in [(5, 0.6, -1.0), (6, 1.4, -0.5), (7, 0.8, 1.3)]:
        w = _dense_spectrum(n, h, J, periodic)
        assert abs(chain_ground_energy(n, h, J, periodic) - w[0]) < 1e-10
        assert abs(chain_thermodynamics(n, h, [0.5], J, periodic).log_z[0] - logsumexp(-w / 0.5)) < 1e-10


def test_infinite_chain_limits_are_the_large_chain_limits():
    # at h = J = 1: e0 = -4/pi (critical chain); finite-size corrections are O(1/N^2)
    assert infinite_chain_ground_energy_per_spin(1.0) == pytest.approx(-4.0 / np.pi, abs=1e-14)
    for h in (0.4, 1.0, 2.2):
        assert chain_ground_energy(600, h) / 600 == pytest.approx(infinite_chain_ground_energy_per_spin(h), abs=1e-5)
        f = infinite_chain_free_energy_per_spin(h, 0.8)
        assert -0.8 * chain_thermodynamics(400, h, [0.8]).log_z[0] / 400 == pytest.approx(f, abs=1e-9)
    assert chain_gap(400, 2.0) == pytest.approx(infinite_chain_gap(2.0), abs=1e-4)
    assert infinite_chain_gap(1.0) == 0.0
    # the ordered-phase splitting vanishes exponentially with N
    assert chain_gap(40, 0.5) < 1e-10


@pytest.mark.parametrize(
    "args, match",
    [((1, 1.0), "n_spins"), ((4, float("nan")), "field"), ((4, 1.0, float("inf")), "coupling")],
)
def test_bad_chain_arguments_are_refused_with_their_names(args, match):
    with pytest.raises(ValueError, match=match):
        chain_ground_energy(*args)


@pytest.mark.parametrize("h", [0.5, 1.0, 1.5])
def test_long_chain_specific_heat_is_de_dt_and_never_negative(h):
    # C = dE/dT by central differences; at low T C must not go negative through cancellation
    T, step = 0.3, 1e-4
    th = chain_thermodynamics(400, h, [T - step, T, T + step, 0.01, 0.05])
    assert th.specific_heat[1] == pytest.approx((th.energy[2] - th.energy[0]) / (2 * step), rel=1e-6)
    assert np.all(th.specific_heat > -1e-9)


LOW_TEMPS = np.array([0.02, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0])


def _dense_thermodynamics(n: int, h: float, J: float, periodic: bool, temps: np.ndarray) -> tuple:
    # the dense builder takes h >= 0 only; h -> -h is the rotation sx -> -sx, which keeps the spectrum
    w = _dense_spectrum(n, abs(h), J, periodic)
    log_z, energy, heat = [], [], []
    for T in temps:
        p = np.exp(-(w - w[0]) / T)
        p /= p.sum()
        e = p @ w
        log_z.append(logsumexp(-w / T))
        energy.append(e)
        d = w - w[0]  # centred on the ground level, not on e: the rounding of e (~1e-16 |w|) squared
        heat.append(p @ (d - p @ d) ** 2 / T**2)  # would swamp a C of 1e-80
    return np.array(log_z), np.array(energy), np.array(heat)


@pytest.mark.parametrize(
    "n, h, J, periodic",
    [
        # odd antiferromagnetic rings: the lowest Fock state of both sectors has the excluded parity
        (7, 0.3, -1.0, True),
        (3, 0.0, -1.0, True),
        (5, 0.6, -1.0, True),
        (3, -0.7, -1.0, True),
        (5, 0.0, -1.0, True),
        (9, -0.4, -0.8, True),
        (5, 1.0, -1.0, True),
        (5, 1.7, -1.0, True),
        # unfrustrated, even and open chains of both signs
        (5, -0.6, 1.0, True),
        (4, 0.0, 1.0, True),
        (6, -0.6, -1.0, True),
        (8, 1.0, 1.0, True),
        (7, 0.3, -1.0, False),
        (6, -0.5, 1.2, False),
        (5, 0.0, -1.0, False),
    ],
)
def test_thermodynamics_equal_dense_diagonalisation_down_to_low_temperature(n, h, J, periodic):
    log_z, energy, heat = _dense_thermodynamics(n, h, J, periodic, LOW_TEMPS)
    th = chain_thermodynamics(n, h, LOW_TEMPS, J, periodic)
    np.testing.assert_allclose(th.log_z, log_z, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(th.energy, energy, rtol=1e-11, atol=0.0)
    np.testing.assert_allclose(th.specific_heat, heat, rtol=1e-9, atol=0.0)  # C is 1e-82 at T = 0.02


@pytest.mark.parametrize("n", [3, 5, 7, 9, 41])
def test_frustrated_classical_ring_counts_its_2n_ground_states_at_very_low_temperature(n):
    # h = 0, J = -1, odd N: the ground states have one frustrated bond (N places, 2 spin flips),
    # E_0 = -(N - 2); the next level is 4 higher, so at T = 1e-3 Z = 2N exp((N - 2)/T) to all digits
    T = np.array([1e-3, 4e-3])
    th = chain_thermodynamics(n, 0.0, T, -1.0, True)
    np.testing.assert_allclose(th.log_z, np.log(2 * n) + (n - 2) / T, rtol=1e-14)
    np.testing.assert_allclose(th.energy, -(n - 2.0), rtol=1e-13)
    assert np.all(np.abs(th.specific_heat) < 1e-12)
