"""Exact diagonalisation of the transverse-field Ising model: dense, Lanczos and symmetry sectors agree with
each other, with free fermions on chains (to 1e-10) and with exact identities between observables."""

import numpy as np
import pytest

from thermolearn.models import Ising
from thermolearn.quantum.exact import _lanczos_lowest, low_spectrum, thermodynamics
from thermolearn.quantum.free_fermions import chain_low_levels, chain_thermodynamics
from thermolearn.quantum.hamiltonian import dense_hamiltonian, hamiltonian_operator, sparse_hamiltonian

TEMPS = [0.3, 1.0, 3.0]


@pytest.mark.parametrize("n, h", [(10, 0.5), (10, 1.6), (12, 0.9), (12, 1.2), (14, 0.7)])
def test_periodic_chain_thermodynamics_by_symmetry_sectors_equal_free_fermions(n, h):
    ed = thermodynamics(Ising.lattice(n, 1.0, 0.0), h, TEMPS, method="sectors")
    ff = chain_thermodynamics(n, h, TEMPS)
    np.testing.assert_allclose(ed.log_z, ff.log_z, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ed.energy, ff.energy, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ed.specific_heat, ff.specific_heat, rtol=0, atol=1e-9)
    low = chain_low_levels(n, h)
    assert abs(ed.ground_energy - low[0]) < 1e-10 and abs(ed.gap - (low[1] - low[0])) < 1e-10


@pytest.mark.parametrize("n, h", [(8, 0.4), (10, 1.7)])
def test_open_chain_thermodynamics_by_dense_diagonalisation_equal_free_fermions(n, h):
    ed = thermodynamics(Ising.lattice(n, 1.0, 0.0, periodic=False), h, TEMPS, method="dense")
    ff = chain_thermodynamics(n, h, TEMPS, periodic=False)
    np.testing.assert_allclose(ed.log_z, ff.log_z, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ed.energy, ff.energy, rtol=0, atol=1e-10)


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("h", [0.6, 1.0, 1.5])
def test_lanczos_ground_energy_and_gap_of_14_spin_chains_equal_free_fermions(periodic, h):
    model = Ising.lattice(14, 1.0, 0.0, periodic=periodic)
    method = "lanczos-sectors" if periodic else "lanczos"
    spec = low_spectrum(model, h, 2, method=method)
    low = chain_low_levels(14, h, periodic=periodic)
    assert abs(spec.ground_energy - low[0]) < 1e-10
    assert abs(spec.gap - (low[1] - low[0])) < 1e-9


def test_lanczos_in_zero_momentum_sectors_equals_free_fermions_at_20_spins():
    # the same code reaches 24+ spins (thermolearn quantum exact --chain 24); 20 keeps the test fast
    spec = low_spectrum(Ising.lattice(20, 1.0, 0.0), 1.0, 2, sectors="zero-momentum")
    assert spec.method == "lanczos-sectors (q=0)"
    np.testing.assert_allclose(spec.energies, chain_low_levels(20, 1.0), rtol=0, atol=1e-9)


def test_square_lattice_spectra_agree_between_dense_lanczos_and_sectors():
    model = Ising.lattice((3, 3), 1.0, 0.0)
    dense = low_spectrum(model, 3.044, 4, method="dense")
    for method in ("lanczos", "lanczos-sectors"):
        np.testing.assert_allclose(low_spectrum(model, 3.044, 4, method=method).energies, dense.energies, atol=1e-10)
    big = Ising.lattice((4, 4), 1.0, 0.0)
    a = low_spectrum(big, 3.044, 2, method="lanczos")
    b = low_spectrum(big, 3.044, 2, method="lanczos-sectors", sectors="zero-momentum")
    np.testing.assert_allclose(a.energies, b.energies, rtol=0, atol=1e-9)
    # deep in either phase the 4 x 4 energy per spin approaches its limits: -2 J (h -> 0) and -h (h -> inf)
    assert low_spectrum(big, 0.05, 1, method="lanczos").ground_energy / 16 == pytest.approx(-2.0, abs=1e-3)
    assert low_spectrum(big, 40.0, 1, method="lanczos").ground_energy / 16 == pytest.approx(-40.0, abs=0.1)


def _multiplicities(levels, tol=1e-7):
    """How many copies each distinct level has, in order (levels closer than tol are one level)."""
    breaks = np.flatnonzero(np.diff(levels) > tol) + 1
    return np.diff(np.concatenate([[0], breaks, [len(levels)]])).tolist()


def _star(n_spins, field):
    J = np.zeros((n_spins, n_spins))
    J[0, 1:] = J[1:, 0] = 1.0
    return Ising(J, field)


@pytest.mark.parametrize("n_levels", [4, 6, 12, 300])
def test_lanczos_keeps_every_copy_of_a_degenerate_level_of_the_3x3_antiferromagnet(n_levels):
    # single-vector Lanczos used to return [-10.679, -9.561, -9.561, -8.493]: a copy of the 3-fold level skipped
    model = Ising.lattice((3, 3), -0.7, 0.0)
    reference = np.linalg.eigvalsh(dense_hamiltonian(model, 1.0))[:n_levels]
    spec = low_spectrum(model, 1.0, n_levels, method="lanczos")
    assert spec.method == "lanczos" and spec.energies.shape == (n_levels,)
    assert _multiplicities(spec.energies) == _multiplicities(reference)
    np.testing.assert_allclose(spec.energies, reference, rtol=0, atol=1e-9)
    if n_levels == 4:
        assert _multiplicities(spec.energies) == [1, 3]
        # the matrix-free operator (whole-space Lanczos above 22 spins) goes through the same check
        free = _lanczos_lowest(hamiltonian_operator(model, 1.0), 2**9, n_levels)
        np.testing.assert_allclose(free, reference, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "field, method, counts",
    [
        (0.3, "lanczos", [1, 1, 9, 1, 1]),  # h breaks the spin flip: auto takes Lanczos on the whole space
        (0.0, "lanczos-sectors", [1, 1, 1, 9, 1]),  # the two flip sectors, each block by Lanczos
    ],
)
def test_auto_spectrum_of_an_11_spin_star_has_its_9_fold_level_complete(field, method, counts):
    model = _star(11, field)
    reference = np.linalg.eigvalsh(dense_hamiltonian(model, 0.8))[:13]
    assert _multiplicities(reference) == counts
    for n_levels in (11, 13):  # the 9-fold level at the end of the list, then inside it
        spec = low_spectrum(model, 0.8, n_levels)
        assert spec.method == method
        assert _multiplicities(spec.energies) == _multiplicities(reference[:n_levels])
        np.testing.assert_allclose(spec.energies, reference[:n_levels], rtol=0, atol=1e-9)


def test_whole_space_and_sector_lanczos_agree_on_the_degenerate_levels_of_a_14_spin_ring():
    # free fermions: levels of several momenta coincide, and within a complex momentum block too (where
    # ARPACK's eigenvectors of one level are not orthogonal)
    model = Ising.lattice(14, 1.0, 0.0)
    whole = low_spectrum(model, 0.8, 20, method="lanczos")
    sectors = low_spectrum(model, 0.8, 20, method="lanczos-sectors")
    assert _multiplicities(whole.energies) == [1, 1, 1, 2, 1, 4, 2, 1, 4, 3]
    assert _multiplicities(sectors.energies) == _multiplicities(whole.energies)
    np.testing.assert_allclose(sectors.energies, whole.energies, rtol=0, atol=1e-9)
    assert abs(whole.ground_energy - chain_low_levels(14, 0.8)[0]) < 1e-10


def test_lanczos_does_not_count_an_eigenvector_returned_twice(monkeypatch):
    from thermolearn.quantum import exact

    arpack = exact.eigsh
    ghosts = []

    def with_a_ghost(*args, **kwargs):
        vals, vecs = arpack(*args, **kwargs)
        if not ghosts and vecs.shape[1] > 1:  # the ground state again in place of the last level
            vals[-1], vecs[:, -1] = vals[0], vecs[:, 0]
            ghosts.append(vals[0])
        return vals, vecs

    monkeypatch.setattr(exact, "eigsh", with_a_ghost)
    model = Ising.lattice((3, 3), -0.7, 0.0)
    spec = low_spectrum(model, 1.0, 4, method="lanczos")
    assert ghosts
    np.testing.assert_allclose(spec.energies, np.linalg.eigvalsh(dense_hamiltonian(model, 1.0))[:4], rtol=0, atol=1e-9)


def test_lanczos_that_does_not_converge_raises_instead_of_returning_levels(monkeypatch):
    from scipy.sparse.linalg import ArpackNoConvergence

    from thermolearn.quantum import exact

    def no_convergence(*args, **kwargs):
        raise ArpackNoConvergence("ARPACK error -1: No convergence", np.zeros(0), np.zeros((0, 0)))

    monkeypatch.setattr(exact, "eigsh", no_convergence)
    with pytest.raises(RuntimeError, match="did not converge.*no levels are returned"):
        low_spectrum(Ising.lattice((3, 3), -0.7, 0.0), 1.0, 4, method="lanczos")


def test_square_lattice_thermodynamics_by_sectors_equal_dense():
    model = Ising.lattice((3, 3), 1.0, 0.0)
    a = thermodynamics(model, 2.0, TEMPS, method="dense")
    b = thermodynamics(model, 2.0, TEMPS, method="sectors")
    for name in ("log_z", "energy", "specific_heat", "sx", "szsz"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-10, err_msg=name)


def test_energy_is_minus_couplings_times_szsz_minus_fields_times_sx_and_sx_is_minus_dF_dGamma():
    # E = -J n_bonds <szsz> - Gamma N <sx> (h = 0); <sum sx> = T d ln Z / d Gamma (Hellmann-Feynman)
    model = Ising.lattice(8, 1.0, 0.0)
    gamma, step = 0.9, 1e-5
    th = thermodynamics(model, gamma, TEMPS, method="dense")
    np.testing.assert_allclose(th.energy, -8 * th.szsz - gamma * 8 * th.sx, rtol=0, atol=1e-10)
    up = thermodynamics(model, gamma + step, TEMPS, method="dense").log_z
    down = thermodynamics(model, gamma - step, TEMPS, method="dense").log_z
    np.testing.assert_allclose(np.array(TEMPS) * (up - down) / (2 * step) / 8, th.sx, rtol=0, atol=1e-7)
    # per-site and pair views: translation invariance, and the bond average of the matrix
    np.testing.assert_allclose(th.sx_sites, np.repeat(th.sx[:, None], 8, axis=1), atol=1e-10)
    np.testing.assert_allclose(th.szsz_matrix[:, 0, 1], th.szsz, atol=1e-10)


def test_a_chain_that_breaks_translation_invariance_gets_no_translation_sectors():
    J = np.zeros((6, 6))
    for i in range(6):
        J[i, (i + 1) % 6] = J[(i + 1) % 6, i] = 1.0
    J[0, 1] = J[1, 0] = 0.4
    model = Ising.from_dense(J)
    dense = low_spectrum(model, 0.7, 3, method="dense")
    sectors = low_spectrum(model, 0.7, 3, method="lanczos-sectors")  # the spin flip alone
    np.testing.assert_allclose(sectors.energies, dense.energies, atol=1e-10)
    assert all("q=" not in s for s in sectors.sectors)


def test_sparse_matrix_free_and_dense_hamiltonians_are_the_same_operator():
    rng = np.random.default_rng(3)
    model = Ising.sherrington_kirkpatrick(7, field=0.3, seed=1)
    gamma = rng.uniform(0.0, 1.0, 7)
    H = dense_hamiltonian(model, gamma)
    np.testing.assert_array_equal(sparse_hamiltonian(model, gamma).toarray(), H)
    x = rng.normal(size=2**7)
    np.testing.assert_allclose(hamiltonian_operator(model, gamma) @ x, H @ x, atol=1e-12)
    # the diagonal is the classical Ising energy of each basis state (bit i = 1 means spin -1)
    k = np.arange(2**7)
    spins = 1 - 2 * ((k[:, None] >> np.arange(7)) & 1)
    np.testing.assert_allclose(np.diag(H), model.energy(spins.astype(np.int8)), atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: dense_hamiltonian(Ising.lattice(4), -0.5), "Gamma.*>= 0"),
        (lambda: dense_hamiltonian(Ising.lattice(4), float("nan")), "finite"),
        (lambda: dense_hamiltonian(Ising.lattice(4), [1.0, 2.0]), "one per spin"),
        (lambda: dense_hamiltonian(Ising.lattice(16), 1.0), "N <= 14.*lanczos"),
        (lambda: thermodynamics(Ising.lattice(20), 1.0, [1.0]), "N = 20 is too large.*lanczos.*pimc"),
        (lambda: thermodynamics(Ising.lattice(4), 1.0, [float("nan")]), "temperatures"),
        (lambda: low_spectrum(Ising.sherrington_kirkpatrick(6, field=0.1), 1.0, method="lanczos-sectors"), "symmetry"),
        (lambda: low_spectrum(Ising.lattice(4), 1.0, method="exact"), "method must be one of"),
    ],
)
def test_bad_quantum_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_complex_transverse_field_is_refused():
    with pytest.raises(TypeError, match="real"):
        dense_hamiltonian(Ising.lattice(3), 1.0 + 0.5j)


def test_a_lanczos_run_that_would_not_fit_is_refused_before_allocating(monkeypatch):
    from thermolearn import resources

    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 50 * 2**20)  # 50 MiB free
    with pytest.raises(ValueError, match="Lanczos in symmetry sectors for N = 24 spins needs about"):
        low_spectrum(Ising.lattice(24, 1.0, 0.0), 1.0, 2)
    with pytest.raises(ValueError, match="Lanczos for N = 22 spins needs about"):
        low_spectrum(Ising.sherrington_kirkpatrick(22, seed=0), 1.0, 2, method="lanczos")
