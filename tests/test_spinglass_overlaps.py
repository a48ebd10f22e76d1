"""Overlaps, P(q), chi_SG and the Binder ratio of q, checked against exact enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from tests.brute_force import all_states
from thermolearn.exact.enumeration import enumerate_exact, probability_table
from thermolearn.models.ising import Ising
from thermolearn.spinglass.ensembles import sk_ensemble
from thermolearn.spinglass.overlaps import (
    binder_ratio,
    disorder_average,
    link_overlap,
    overlap,
    overlap_distribution,
)


def _exact_overlap_law(model: Ising, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """P(q) of two independent replicas: sum over all pairs of states of p(s) p(t) [q(s, t) = q]."""
    p, _ = probability_table(model, temperature)
    s = all_states(model.n_spins).astype(np.int64)
    q = (s @ s.T) / model.n_spins  # every pair (2^n x 2^n)
    w = np.outer(p, p)
    return overlap_distribution(q.ravel(), model.n_spins)[0], np.bincount(
        np.rint((q.ravel() + 1) * model.n_spins / 2).astype(int), weights=w.ravel(), minlength=model.n_spins + 1
    )


def test_overlap_and_link_overlap_equal_their_definitions():
    rng = np.random.default_rng(0)
    model = Ising.sherrington_kirkpatrick(9, seed=1)
    a = rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, 9))
    b = rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, 9))
    assert np.allclose(overlap(a, b), [np.mean(a[k] * b[k]) for k in range(5)])
    assert overlap(a[0], a[0]) == 1.0 and overlap(a[0], -a[0]) == -1.0
    i, j, _ = model.edges()
    naive = [np.mean([a[k, x] * a[k, y] * b[k, x] * b[k, y] for x, y in zip(i, j)]) for k in range(5)]
    assert np.allclose(link_overlap(a, b, model), naive)
    # the link overlap is blind to a global flip of one replica, the overlap is not
    assert np.allclose(link_overlap(a, -b, model), link_overlap(a, b, model))
    big = np.ones((1, 300), dtype=np.int8)  # int8 products of 300 spins would overflow
    assert overlap(big, big)[0] == 1.0


def test_exact_q2_from_pairs_of_states_equals_the_squared_correlations():
    # two routes to <q^2> = (1/N^2) sum_ij <s_i s_j>^2: the overlap law and enumerate_exact
    model = Ising.sherrington_kirkpatrick(8, seed=4)
    q, pq = _exact_overlap_law(model, 0.6)
    corr = enumerate_exact(model, 0.6)[0].extras["correlations"]
    assert np.isclose(pq.sum(), 1.0)
    assert np.isclose(pq @ q**2, np.sum(corr**2) / 64, rtol=1e-10)


def test_measured_p_of_q_chi_sg_and_binder_match_the_exact_law_within_error_bars():
    model = Ising.sherrington_kirkpatrick(10, seed=5)
    T = 0.5
    q_grid, pq = _exact_overlap_law(model, T)
    p, _ = probability_table(model, T)
    rng = np.random.default_rng(1)
    states = all_states(10)
    m = 20_000
    a = states[rng.choice(p.size, size=m, p=p)]
    b = states[rng.choice(p.size, size=m, p=p)]
    q = overlap(a, b)
    grid, phat = overlap_distribution(q, 10)
    assert np.allclose(grid, q_grid)
    sigma = np.sqrt(pq * (1 - pq) / m) + 1e-12
    assert np.all(np.abs(phat - pq) < 4.5 * sigma + 1.0 / m)
    q2_exact = pq @ q_grid**2
    assert abs(np.mean(q**2) - q2_exact) < 4 * np.std(q**2) / np.sqrt(m)
    g_exact = 0.5 * (3 - (pq @ q_grid**4) / q2_exact**2)
    g = binder_ratio(q)
    # its error from a jackknife over 50 blocks of the independent pairs
    blocks = q.reshape(50, -1)
    loo = [binder_ratio(np.delete(blocks, k, axis=0)) for k in range(50)]
    g_err = np.sqrt(49 / 50 * np.sum((np.array(loo) - np.mean(loo)) ** 2))
    assert abs(g - g_exact) < 4 * g_err
    # negative control: the law one step hotter is rejected by the same error bar
    _, pq_hot = _exact_overlap_law(model, 1.5)
    assert abs(np.mean(q**2) - pq_hot @ q_grid**2) > 10 * np.std(q**2) / np.sqrt(m)


def test_binder_ratio_is_one_for_two_delta_peaks_and_zero_for_gaussian_overlaps():
    assert binder_ratio(np.array([0.6, -0.6, 0.6, 0.6])) == pytest.approx(1.0)
    q = np.random.default_rng(0).normal(0.0, 0.1, size=400_000)
    assert abs(binder_ratio(q)) < 0.02  # Gaussian: <q^4> = 3 <q^2>^2


def test_disorder_average_matches_exact_moments_over_samples():
    ens = sk_ensemble(8, 12, seed=3)
    T = 0.6
    rng = np.random.default_rng(2)
    states = all_states(8)
    overlaps, exact_q2, exact_q4, links = [], [], [], []
    for model in ens:
        p, _ = probability_table(model, T)
        a = states[rng.choice(p.size, size=4000, p=p)]
        b = states[rng.choice(p.size, size=4000, p=p)]
        overlaps.append(overlap(a, b))
        links.append(link_overlap(a, b, model))
        q, pq = _exact_overlap_law(model, T)
        exact_q2.append(pq @ q**2)
        exact_q4.append(pq @ q**4)
    avg = disorder_average(overlaps, 8, links)
    # the same samples' exact moments: the difference is thermal noise only, well inside the error bar
    assert abs(avg.q2[0] - np.mean(exact_q2)) < 4 * avg.q2[1]
    assert avg.chi_sg[0] == pytest.approx(8 * avg.q2[0])
    g_exact = 0.5 * (3 - np.mean(exact_q4) / np.mean(exact_q2) ** 2)
    assert abs(avg.binder[0] - g_exact) < 4 * avg.binder[1]
    assert avg.link is not None and 0 < avg.link[0] <= 1
    d = avg.as_dict()
    assert set(d) >= {"q2", "chi_sg", "binder", "link_overlap"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: overlap(np.ones((2, 3)), np.ones((2, 4))), "same shape"),
        (lambda: overlap(np.zeros((2, 3)), np.zeros((2, 3))), "replica a"),
        (lambda: disorder_average([np.array([0.5])], 4), "at least 2 samples"),
        (lambda: disorder_average([np.array([1.5]), np.array([0.2])], 4), "in \\[-1, 1\\]"),
        (lambda: binder_ratio(np.zeros(5)), "undefined"),
    ],
)
def test_bad_overlap_inputs_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_disorder_averages_of_moments_equal_those_of_the_overlaps_they_came_from():
    from thermolearn.spinglass.overlaps import disorder_average_of_moments

    rng = np.random.default_rng(4)
    qs = [rng.choice(np.linspace(-1, 1, 9), size=50) for _ in range(5)]
    links = [rng.uniform(0, 1, size=50) for _ in range(5)]
    direct = disorder_average(qs, 8, links)
    moments = [(np.mean(q**2), np.mean(q**4), np.mean(np.abs(q))) for q in qs]
    m = np.array(moments)
    assert disorder_average_of_moments(m[:, 0], m[:, 1], m[:, 2], 8, [np.mean(x) for x in links]) == direct
    with pytest.raises(ValueError, match="at least 2 samples"):
        disorder_average_of_moments([0.5], [0.3], [0.6], 8)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        disorder_average_of_moments([0.5, 1.5], [0.3, 0.3], [0.6, 0.6], 8)
