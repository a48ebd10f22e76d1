"""Path-integral Monte Carlo of the transverse-field Ising model: at each Trotter number M the sampled
averages equal the exact Trotterised values (product formula) within error bars, and the a + b/M^2
extrapolation agrees with exact diagonalisation."""

import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from thermolearn.models import Ising
from thermolearn.quantum.exact import thermodynamics
from thermolearn.quantum.pimc import PIMCRun, extrapolate_trotter, run_pimc, trotter_couplings, trotter_exact

CHAIN = Ising.lattice(6, 1.0, 0.0)
# a frustrated model with fields: SK couplings of both signs
GLASS = Ising.sherrington_kirkpatrick(5, coupling_std=1.0, field=0.3, seed=4)
Z_MAX = 4.0  # |sampled - exact| / stderr; each stderr is autocorrelation-aware


def _assert_within_error(result, exact):
    for name in ("energy", "sx", "szsz"):
        est = getattr(result, name)
        if result.slices == 1 and name == "sx":
            # one slice: C_i = 1 in every sample, so <sx>_1 = tanh(beta Gamma) exactly, with no spread
            assert est.stderr == 0 and est.mean == pytest.approx(getattr(exact, name), abs=1e-12)
            continue
        assert est.stderr > 0, name
        z = (est.mean - getattr(exact, name)) / est.stderr
        assert abs(z) < Z_MAX, f"{name}: sampled {est.mean} +- {est.stderr}, exact {getattr(exact, name)} (z = {z:.2f})"


@pytest.mark.parametrize("slices", [1, 2, 4, 8])
def test_worldline_pimc_equals_the_exact_trotterised_chain_at_each_slice_number(slices):
    result = run_pimc(CHAIN, 1.0, 0.5, slices, 8000, chains=4, seed=11)
    _assert_within_error(result, trotter_exact(CHAIN, 1.0, 0.5, slices))


@pytest.mark.parametrize("sampler", ["metropolis", "worldline"])
@pytest.mark.parametrize("slices", [3, 6])
def test_pimc_on_a_frustrated_model_with_fields_equals_the_exact_trotterised_values(sampler, slices):
    gamma = np.linspace(0.5, 1.2, 5)
    result = run_pimc(GLASS, gamma, 1.0, slices, 8000, chains=4, seed=5, sampler=sampler)
    _assert_within_error(result, trotter_exact(GLASS, gamma, 1.0, slices))


@pytest.mark.parametrize("field", [0.0, 0.3])
@pytest.mark.parametrize("sampler", ["wolff", "sw"])
def test_cluster_samplers_on_the_mapped_model_equal_the_exact_trotterised_values(sampler, field):
    model = Ising.lattice(6 if field == 0 else 5, 1.0, field)  # a longitudinal field: the clusters' accept step
    result = run_pimc(model, 0.8, 0.6, 4, 1500, chains=2, seed=3, sampler=sampler)
    _assert_within_error(result, trotter_exact(model, 0.8, 0.6, 4))


def test_exact_trotter_values_converge_as_one_over_m_squared_to_exact_diagonalisation():
    ed = thermodynamics(CHAIN, 1.0, [0.5], method="dense")
    slices = np.array([32, 48, 64, 96])
    values = [trotter_exact(CHAIN, 1.0, 0.5, m) for m in slices]
    fit = extrapolate_trotter(slices, [v.energy for v in values])
    # the next term is O(1/M^4): about 0.05 / M^4 * 16^4 here, below 1e-5 at M >= 32
    assert fit.a == pytest.approx(ed.energy[0], abs=2e-5)
    assert values[-1].log_z == pytest.approx(ed.log_z[0], abs=1e-2)
    assert abs(values[-1].energy - ed.energy[0]) < abs(values[0].energy - ed.energy[0]) / 4
    # M = 1 is classical: Z_1 = sum_s exp(-beta E(s)) prod_i cosh(beta Gamma)
    k = np.arange(64)
    spins = (1 - 2 * ((k[:, None] >> np.arange(6)) & 1)).astype(np.int8)
    z1 = np.sum(np.exp(-2.0 * CHAIN.energy(spins))) * np.cosh(2.0) ** 6
    assert trotter_exact(CHAIN, 1.0, 0.5, 1).log_z == pytest.approx(np.log(z1), abs=1e-10)


@pytest.mark.parametrize(("gamma", "temperature", "slices", "energy"), [(10.0, 0.01, 4, -44.0), (1.0, 0.001, 2, -8.0)])
def test_trotter_exact_at_large_beta_gamma_over_m_has_the_rank_one_closed_form(gamma, temperature, slices, energy):
    # a = beta Gamma / M = 250 and 500: tanh a = 1, so T = D^1/2 X D^1/2 is cosh(a)^N d d^T (rank one) and
    # Z_M = cosh(a)^(N M) (sum_s e^{-beta E(s) / M})^M; up to 0.6.10 the cosh a in X overflowed (LinAlgError)
    ring = Ising.lattice(4, 1.0, 0.0, periodic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way either
        exact = trotter_exact(ring, gamma, temperature, slices)
        sampled = run_pimc(ring, gamma, temperature, slices, 200, chains=2, seed=0)
    beta, a = 1.0 / temperature, gamma / temperature / slices
    k = np.arange(16)
    energies = ring.energy((1 - 2 * ((k[:, None] >> np.arange(4)) & 1)).astype(np.int8))
    log_z = slices * logsumexp(-beta * np.asarray(energies) / slices) + 4 * slices * (a - np.log(2.0))
    assert exact.log_z == pytest.approx(log_z, rel=1e-12)
    # <E_cl> of the ground states (the Boltzmann weight at M T), and <sx> = coth 2a - <C> / sinh 2a = 1
    assert exact.energy == pytest.approx(energy, abs=1e-9) and exact.sx == pytest.approx(1.0, abs=1e-12)
    assert sampled.energy.mean == pytest.approx(energy, abs=1e-9)


def test_trotter_exact_log_z_is_unchanged_by_the_rescaled_transfer_matrix_at_moderate_a():
    # Z_M = Tr T^M from an explicit T with cosh / sinh entries (fine while they do not overflow)
    gamma = np.linspace(0.5, 1.2, 5)
    beta, slices = 1.0 / 0.3, 3
    a = beta * gamma / slices
    X = np.ones((1, 1))
    for i in reversed(range(5)):
        X = np.kron(X, np.array([[np.cosh(a[i]), np.sinh(a[i])], [np.sinh(a[i]), np.cosh(a[i])]]))
    k = np.arange(32)
    d = np.exp(
        -0.5 * beta * np.asarray(GLASS.energy((1 - 2 * ((k[:, None] >> np.arange(5)) & 1)).astype(np.int8))) / slices
    )
    lam = np.linalg.eigvalsh(d[:, None] * X * d[None, :])
    assert trotter_exact(GLASS, gamma, 0.3, slices).log_z == pytest.approx(np.log(np.sum(lam**slices)), rel=1e-12)


def test_sampled_trotter_extrapolation_agrees_with_exact_diagonalisation():
    ed = thermodynamics(CHAIN, 1.0, 1.0, method="dense").energy[0]
    slices = np.array([6, 8, 12, 16])
    runs = [run_pimc(CHAIN, 1.0, 1.0, int(m), 6000, chains=4, seed=20 + int(m)) for m in slices]
    fit = extrapolate_trotter(slices, [r.energy.mean for r in runs], [r.energy.stderr for r in runs])
    assert abs(fit.a - ed) < Z_MAX * fit.a_stderr, (fit, ed)
    # negative control: the Trotter error is resolved, so a single M is far from the exact energy
    assert abs(runs[0].energy.mean - ed) > Z_MAX * runs[0].energy.stderr
    assert fit.b < 0  # the Trotterised energy lies below the exact one here and rises towards it


def test_pimc_is_reproducible_and_a_restored_run_continues_bit_for_bit():
    a = PIMCRun(CHAIN, 1.0, 0.5, 4, chains=2, seed=9)
    a.advance(50)
    saved = {k: v.copy() for k, v in a.arrays().items()}
    a.advance(50)
    b = PIMCRun(CHAIN, 1.0, 0.5, 4, chains=2, seed=9)
    b.restore(saved, 50)
    b.advance(50)
    for key, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[key], err_msg=key)
    r1 = run_pimc(GLASS, 0.7, 0.8, 3, 300, chains=2, seed=2)
    r2 = run_pimc(GLASS, 0.7, 0.8, 3, 300, chains=2, seed=2)
    assert r1.energy == r2.energy and r1.sx == r2.sx


def test_trotter_coupling_is_minus_half_log_tanh():
    K = trotter_couplings(2.0, np.array([0.5, 1.0]), 4)
    np.testing.assert_allclose(K, -0.5 * np.log(np.tanh(np.array([0.25, 0.5]))))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"slices": 0}, ValueError, "slices M"),
        ({"slices": 2.5}, TypeError, "slices M"),
        ({"transverse": 0.0}, ValueError, "Gamma > 0"),
        ({"transverse": -1.0}, ValueError, ">= 0"),
        ({"temperature": float("nan")}, ValueError, "temperature"),
        ({"sampler": "wolff", "ising": GLASS}, ValueError, "J >= 0"),
        ({"sampler": "gibbs"}, ValueError, "sampler must be one of"),
    ],
)
def test_bad_pimc_input_is_refused(kwargs, error, match):
    args = {"ising": CHAIN, "transverse": 1.0, "temperature": 0.5, "slices": 4} | kwargs
    with pytest.raises(error, match=match):
        PIMCRun(args.pop("ising"), args.pop("transverse"), args.pop("temperature"), args.pop("slices"), **args)


def test_a_killed_pimc_run_resumes_from_its_checkpoint_bit_for_bit(tmp_path, monkeypatch):
    kwargs = {"burn_in": 100, "chains": 2, "seed": 4, "block": 50, "checkpoint_every": 50}
    whole = run_pimc(GLASS, 0.8, 1.0, 3, 400, **kwargs)
    path = tmp_path / "pimc.npz"
    calls = {"n": 0}
    advance = PIMCRun.advance

    def dying(self, n, *, record=True):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        advance(self, n, record=record)

    monkeypatch.setattr(PIMCRun, "advance", dying)
    with pytest.raises(KeyboardInterrupt):
        run_pimc(GLASS, 0.8, 1.0, 3, 400, checkpoint=path, **kwargs)
    monkeypatch.setattr(PIMCRun, "advance", advance)
    assert path.exists()
    resumed = run_pimc(GLASS, 0.8, 1.0, 3, 400, checkpoint=path, **kwargs)
    assert resumed.energy == whole.energy and resumed.sx == whole.sx and resumed.szsz == whole.szsz
    with pytest.raises(ValueError, match="different run.*temperature"):
        run_pimc(GLASS, 0.8, 1.1, 3, 400, checkpoint=path, **kwargs)


def test_a_trotter_fit_that_misses_its_points_scales_its_error_and_warns():
    # up to 0.6.9 a weighted fit with chi2/dof = 120 kept the errors of a good fit: E(M -> inf) came
    # out 19 standard errors from exact diagonalisation
    slices = np.array([4.0, 8.0, 16.0])
    exact = -9.27
    values = exact - 0.8 / slices**2 + 30.0 / slices**4  # a 1/M^4 term the form a + b / M^2 lacks
    errors = np.full(3, 1e-3)
    with pytest.warns(RuntimeWarning, match="fits poorly"):
        fit = extrapolate_trotter(slices, values, errors)
    assert fit.chi2_per_dof > 4
    assert abs(fit.a - exact) < 3 * fit.a_stderr
    good = extrapolate_trotter(slices, exact - 0.8 / slices**2 + np.array([1e-3, -1e-3, 5e-4]), errors)
    assert good.chi2_per_dof < 4


def test_two_point_extrapolation_has_no_degree_of_freedom_left():
    # two slice numbers fix a and b exactly: chi2/dof was 1e-28 (dof forced to 1) and, without
    # error bars, the fit's error came out 0
    fit = extrapolate_trotter([4, 8], [-1.2, -1.1])
    assert fit.a == pytest.approx(-1.1 + (0.1 / (1 / 16 - 1 / 64)) / 64)
    assert math.isnan(fit.chi2_per_dof) and math.isnan(fit.a_stderr) and math.isnan(fit.b_stderr)
    weighted = extrapolate_trotter([4, 8], [-1.2, -1.1], [0.01, 0.01])
    assert math.isnan(weighted.chi2_per_dof) and 0 < weighted.a_stderr < 0.1


@pytest.mark.parametrize("errors", [[0.0, 0.01], [0.0, 0.0], [0.01, math.nan]])
def test_a_point_without_an_error_bar_leaves_the_fit_without_one(errors):
    # a frozen run (stderr 0) was weighted by 1/1e-300^2: the normal matrix overflowed (a numpy
    # warning on the command line) and the fit's error read inf or 0
    slices = [4.0, 8.0, 16.0][: len(errors)]
    values = [-1.0 - 0.5 / m**2 for m in slices]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = extrapolate_trotter(slices, values, errors)
    assert fit.a == pytest.approx(-1.0, rel=1e-12, abs=0.0) and fit.b == pytest.approx(-0.5, rel=1e-9, abs=0.0)
    assert math.isnan(fit.a_stderr) and math.isnan(fit.b_stderr) and math.isnan(fit.chi2_per_dof)
    with pytest.raises(ValueError, match="one value per slice number"):
        extrapolate_trotter(slices, values, [0.01])
