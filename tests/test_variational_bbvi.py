"""Black-box VI: a stochastic lower bound from energies alone; the richer family beats mean field."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from thermolearn import Ising
from thermolearn.exact import enumerate_exact
from thermolearn.variational import mean_field, variational_log_z
from thermolearn.variational.bbvi import black_box_vi

STEPS = 600  # one step count (and batch) everywhere so the compiled loops are shared


@pytest.fixture(scope="module")
def sk_low_t():
    model = Ising.sherrington_kirkpatrick(12, seed=3)
    T = 0.3
    return model, T, enumerate_exact(model, T, correlations=False)[0].log_z, mean_field(model, T, n_random=20).log_z


def test_product_family_reaches_the_mean_field_optimum():
    model = Ising.sherrington_kirkpatrick(12, field=0.3, seed=3)
    T = 1.0
    mf = mean_field(model, T, n_random=20)
    r = black_box_vi(model, T, family="product", steps=STEPS, seed=1)
    m = np.tanh(r.params["a"])
    # the fitted product distribution's exact bound is the mean-field bound at m = tanh(a)
    reached = variational_log_z(model, T, m)
    assert reached <= mf.log_z + 1e-9
    assert mf.log_z - reached < r.elbo_stderr  # optimised to within the estimate's own resolution
    np.testing.assert_allclose(m, mf.magnetizations, atol=0.05)
    assert abs(r.elbo - reached) < 4 * r.elbo_stderr  # the Monte Carlo ELBO estimates that bound
    assert r.elbo <= enumerate_exact(model, T, correlations=False)[0].log_z + 3 * r.elbo_stderr
    assert r.entropy >= 0
    assert r.converged


def test_autoregressive_family_beats_the_mean_field_bound_on_a_frustrated_model(sk_low_t):
    model, T, exact, mf_bound = sk_low_t
    r = black_box_vi(model, T, family="autoregressive", steps=STEPS, seed=1)
    # a margin far beyond its Monte Carlo error: it holds both mirror-image ground states (about log 2)
    assert r.elbo - mf_bound > 10 * r.elbo_stderr
    assert r.elbo - mf_bound > 0.5
    # and it is still a lower bound, up to its error bar
    assert r.elbo <= exact + 3 * r.elbo_stderr
    assert r.log_z_importance <= exact + 3 * r.log_z_importance_stderr
    assert abs(r.magnetization_per_spin) < 5 * r.magnetization_stderr + 0.05  # both states: m ~ 0


def test_a_non_ising_energy_three_spin_ring():
    n = 8

    def energy(states):
        s = states.astype(float)
        return -np.sum(s * np.roll(s, -1, axis=1) * np.roll(s, -2, axis=1), axis=1) - 0.2 * s.sum(axis=1)

    T = 0.7
    states = np.array(list(itertools.product([-1, 1], repeat=n)), dtype=np.int8)
    exact = logsumexp(-energy(states) / T)
    # only energies of sampled states are used (called from the compiled loop through a host callback)
    r = black_box_vi(energy, T, n_spins=n, family="autoregressive", steps=300, seed=0)
    assert r.elbo <= exact + 3 * r.elbo_stderr
    assert r.elbo > exact - 1.0
    assert r.energy == pytest.approx(np.mean(energy(r.sample(20000, seed=3))), abs=5 * r.energy_stderr)


def test_same_seed_same_fit_and_samples_are_spins(sk_low_t):
    model, T, _, _ = sk_low_t
    a = black_box_vi(model, T, family="product", steps=STEPS, seed=5)
    b = black_box_vi(model, T, family="product", steps=STEPS, seed=5)
    assert a.elbo == b.elbo
    s = a.sample(7, seed=1)
    assert s.shape == (7, 12) and s.dtype == np.int8 and set(np.unique(s)) <= {-1, 1}
    record = a.as_dict()
    assert record["family"] == "product" and record["steps"] == STEPS


def test_bad_input_is_refused():
    model = Ising.lattice((4, 4))
    with pytest.raises(ValueError, match="family"):
        black_box_vi(model, 1.0, family="flow")
    with pytest.raises(ValueError, match="n_spins"):
        black_box_vi(lambda s: np.zeros(len(s)), 1.0)
    with pytest.raises(ValueError, match="one energy per state"):
        black_box_vi(lambda s: np.zeros(3), 1.0, n_spins=4)
    with pytest.raises(ValueError, match="Methods that fit: mean_field, tap, bethe"):
        black_box_vi(Ising.lattice((32, 32)), 1.0, family="autoregressive")
    with pytest.raises(TypeError, match="seed"):
        black_box_vi(model, 1.0, seed="one")
