"""Two-replica parallel tempering with Houdayer cluster moves: <E> and <q^2> at every temperature of
the ladder equal exact enumeration within autocorrelation-aware error bars."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.estimators.autocorrelation import error_of_mean
from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.models.ising import Ising
from thermolearn.samplers.parallel_tempering import csr_int64
from thermolearn.spinglass.ensembles import edwards_anderson_instance
from thermolearn.spinglass.houdayer import _houdayer_move, equilibration_check, tempering_with_houdayer

Z_MAX = 4.0
MODEL = edwards_anderson_instance((4, 4), "pm", 5)
LADDER = np.geomspace(0.4, 2.0, 8)
BURN_IN = 2000


@pytest.fixture(scope="module")
def exact():
    return enumerate_exact(MODEL, np.sort(LADDER))


@pytest.mark.parametrize("houdayer", [True, False])
def test_energy_and_q2_equal_enumeration_at_every_temperature(houdayer, exact):
    run = tempering_with_houdayer(MODEL, LADDER, 20_000, houdayer=houdayer, seed=1)
    # the tracked energies are exact: recomputed from the final spins
    assert np.allclose(MODEL.energy(run.spins.reshape(-1, 16)).reshape(8, 2), run.energies[-1])
    # the run as a search: the lowest recorded energy, with a state that has it
    assert run.best_energy == run.energies.min()
    assert MODEL.energy(run.best_spins) == pytest.approx(run.best_energy)
    for k, ex in enumerate(exact):
        e = run.energies[BURN_IN:, k].mean(axis=1)
        q2 = run.overlaps[BURN_IN:, k] ** 2
        q2_exact = np.sum(ex.extras["correlations"] ** 2) / 16**2  # <q^2> = (1/N^2) sum_ij <s_i s_j>^2
        assert abs(e.mean() - ex.energy) < Z_MAX * error_of_mean(e)
        assert abs(q2.mean() - q2_exact) < Z_MAX * error_of_mean(q2)
    # negative control: the energies 10% hotter are rejected at the middle of the ladder
    hotter = enumerate_exact(MODEL, 1.1 * run.temperatures[4])[0].energy
    e = run.energies[BURN_IN:, 4].mean(axis=1)
    assert abs(e.mean() - hotter) > Z_MAX * error_of_mean(e)
    assert np.all(run.exchange_acceptance > 0.3)
    assert (run.mean_cluster_size > 0).any() == houdayer


def test_a_houdayer_move_flips_one_cluster_of_the_smaller_set_in_both_replicas_and_keeps_the_total_energy():
    model = edwards_anderson_instance((5, 5), "gaussian", 3)
    indptr, indices, data = csr_int64(model)
    rng = np.random.default_rng(0)
    for trial in range(60):
        a = rng.choice(np.array([-1, 1], dtype=np.int8), size=25)
        b = rng.choice(np.array([-1, 1], dtype=np.int8), size=25)
        if trial % 3 == 0:  # nearly a global flip apart: the agreeing sites are the smaller set
            b = (-a).astype(np.int8)
            b[rng.choice(25, size=4, replace=False)] *= -1
        a0, b0 = a.copy(), b.copy()
        disagree = a0 != b0
        minority = disagree if 2 * disagree.sum() <= 25 else ~disagree
        ea, eb = float(model.energy(a)), float(model.energy(b))
        mark = np.zeros(25, dtype=np.int8)
        stack = np.empty(25, dtype=np.int64)
        state = np.array([1, 2, 3, 4 + trial], dtype=np.uint64)
        ea2, eb2, size, *_ = _houdayer_move(a, b, ea, eb, indptr, indices, data, mark, stack, *state)
        assert ea2 + eb2 == pytest.approx(ea + eb)
        assert ea2 == pytest.approx(float(model.energy(a))) and eb2 == pytest.approx(float(model.energy(b)))
        flipped = a != a0
        assert np.array_equal(flipped, b != b0) and flipped.sum() == size
        assert size > 0 and np.all(minority[flipped])  # only sites of the smaller set flip
        # the cluster is maximal: no coupled site of the same set is left behind
        for i in np.flatnonzero(flipped):
            neighbours = indices[indptr[i] : indptr[i + 1]]
            assert not np.any(minority[neighbours] & ~flipped[neighbours])
        assert np.array_equal(a * b, a0 * b0)  # the overlap field q_i is unchanged
    # replicas equal, or exactly opposite: nothing to flip
    a = np.ones(25, dtype=np.int8)
    for b in (a.copy(), -a):
        out = _houdayer_move(a.copy(), b, 0.0, 0.0, indptr, indices, data, mark, stack, 1, 2, 3, 4)
        assert out[2] == 0


def test_the_equilibration_check_flags_a_drift_and_passes_a_stationary_series():
    rng = np.random.default_rng(0)
    assert equilibration_check(rng.normal(size=4000)).equilibrated
    drifting = rng.normal(size=4000) + np.linspace(0, 1, 4000)
    assert not equilibration_check(drifting).equilibrated


def test_bad_tempering_input_is_refused():
    with pytest.raises(ValueError, match="zero fields"):
        tempering_with_houdayer(Ising.lattice((4, 4), 1.0, 0.5), [1.0, 2.0], 10)
    with pytest.raises(ValueError, match="one flag per temperature"):
        tempering_with_houdayer(MODEL, [1.0, 2.0], 10, houdayer=[True])
    with pytest.raises(ValueError, match="memory"):
        tempering_with_houdayer(MODEL, [1.0, 2.0], 10**15)
    with pytest.raises(ValueError, match="at least 16 measurements"):
        equilibration_check(np.ones(5))
