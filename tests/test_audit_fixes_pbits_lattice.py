"""Numbers an audit found wrong (0.6.11): the factoring run's exact value under a non-Boltzmann
p-bit update, and the link overlap of a periodic lattice with an uncoupled axis."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.pbits.factoring import factor
from thermolearn.spinglass.overlaps import link_overlap


@pytest.mark.parametrize("update", ["synchronous", "asynchronous"])
def test_factor_reports_the_exact_value_of_its_own_update_law(update):
    # synchronous and asynchronous p-bits do not sample exp(-I0 E) / Z: 0.6.10 printed the
    # Boltzmann value 0.831 as "exact" beside a correct synchronous sample of 0.611 +- 0.009
    eta = 1.0 if update == "asynchronous" else 10.0
    r = factor(9, i0=0.7, n_sweeps=4000, n_chains=16, update=update, eta=eta, seed=1)
    got, exact, boltzmann = r.stationary_probability, r.stationary_probability_exact, r.stationary_probability_boltzmann
    assert exact is not None and boltzmann is not None
    assert abs(got.mean - exact) < 4 * got.stderr, (got, exact)
    assert abs(exact - boltzmann) > 0.02  # the two laws differ here, so the test can tell them apart
    assert r.as_dict()["stationary_probability_boltzmann"] == boltzmann
    if update == "synchronous":
        assert abs(got.mean - boltzmann) > 10 * got.stderr  # the value 0.6.10 reported is far off


def test_factor_with_a_boltzmann_update_reports_one_value_twice():
    r = factor(9, i0=0.7, n_sweeps=2000, n_chains=16, update="sequential", seed=2)
    assert r.stationary_probability_exact == r.stationary_probability_boltzmann
    assert abs(r.stationary_probability.mean - r.stationary_probability_exact) < 4 * r.stationary_probability.stderr


def test_a_periodic_lattice_with_an_uncoupled_axis_stores_no_zero_bonds():
    # 4 decoupled rings: 16 bonds, not 32 (0.6.10 stored the zero couplings, so edges(), n_edges and
    # the link overlap counted uncoupled pairs)
    lattice = Ising.lattice((4, 4), (1.0, 0.0))
    dense = Ising.from_dense(lattice.couplings.toarray())
    assert len(lattice.edges()[0]) == lattice.n_edges == 16 == dense.n_edges
    rng = np.random.default_rng(0)
    a, b = (rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, 16)) for _ in range(2))
    i, j, _ = dense.edges()
    by_hand = (a[:, i] * a[:, j] * b[:, i] * b[:, j]).mean(axis=1)
    np.testing.assert_allclose(link_overlap(a, b, lattice), by_hand)
    with pytest.raises(ValueError, match="no coupled pairs"):
        link_overlap(a[:, :9], b[:, :9], Ising.lattice((3, 3), 0.0))
    # the energy is the same whichever way the couplings are held
    np.testing.assert_allclose(lattice.energy(a), dense.energy(a))
