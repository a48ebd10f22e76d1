"""Normalising flows on the Hubbard-Stratonovich relaxation of SK: the relaxation is exact (its
integral gives ln Z), and below T_c reverse KL collapses onto the ground-state pair while forward
KL keeps the non-trivial overlap distribution P(q)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from thermolearn.exact import enumerate_exact, probability_table, state_index_to_spins
from thermolearn.models import Ising
from thermolearn.neural.flows import hs_relaxation, overlap_histogram, train_flow

SK = functools.partial(Ising.sherrington_kirkpatrick, 10, seed=3)
T_LOW = 0.4  # below the SK glass temperature 1
FLOW = dict(steps=600, layers=4, hidden=32, batch_size=256, seed=0)


def _exact_draws(model: Ising, T: float, size: int, seed: int) -> np.ndarray:
    p, _ = probability_table(model, T)
    return state_index_to_spins(np.random.default_rng(seed).choice(p.size, size=size, p=p), model.n_spins)


def _middle(a: np.ndarray, b: np.ndarray) -> float:
    """P(|q| < 0.7): the weight of the overlaps between the ground-state pair's |q| = 1."""
    q = np.einsum("ki,ki->k", a.astype(float), b.astype(float)) / a.shape[1]
    return float(np.mean(np.abs(q) < 0.7))


@pytest.mark.parametrize("coupling", [0.7, -0.7])
def test_the_relaxation_integrates_to_ln_z(coupling):
    """Two spins with fields: ln ∫ p~(x) dx on a fine grid plus the offset is the exact ln Z
    (J has a zero diagonal, so beta J always has a negative eigenvalue and K needs a shift)."""
    model = Ising.from_dense(np.array([[0.0, coupling], [coupling, 0.0]]), [0.3, -0.2])
    T = 0.8
    rel = hs_relaxation(model, T)
    assert rel.delta > 0 and np.linalg.eigvalsh(rel.K)[0] == pytest.approx(0.1)
    half = 12.0 * math.sqrt(float(np.linalg.eigvalsh(rel.K)[-1])) + 3.0
    grid = np.linspace(-half, half, 1601)
    xx, yy = np.meshgrid(grid, grid, indexing="ij")
    values = np.exp(rel.log_density(np.column_stack([xx.ravel(), yy.ravel()]))).reshape(xx.shape)
    integral = np.trapezoid(np.trapezoid(values, grid, axis=1), grid)
    exact = enumerate_exact(model, T, correlations=False)[0].log_z
    assert math.log(integral) + rel.log_z_offset == pytest.approx(exact, abs=1e-8)


def test_the_conditionals_give_back_the_boltzmann_distribution():
    """x | s then s | x from exact Boltzmann samples is a Gibbs step of the joint: the spins
    stay Boltzmann distributed (<E> within 4 standard errors)."""
    model = SK()
    rel = hs_relaxation(model, T_LOW)
    s = _exact_draws(model, T_LOW, 20000, seed=1)
    again = rel.spins_given_x(rel.x_given_spins(s, seed=2), seed=3)
    e = model.energy(again)
    exact = enumerate_exact(model, T_LOW, correlations=False)[0].energy
    assert abs(e.mean() - exact) <= 4 * e.std() / math.sqrt(e.size)


def test_reverse_kl_collapses_and_forward_kl_keeps_p_of_q_below_tc():
    model = SK()
    rel = hs_relaxation(model, T_LOW)
    exact_mid = _middle(_exact_draws(model, T_LOW, 20000, 4), _exact_draws(model, T_LOW, 20000, 5))
    reverse = train_flow(rel, direction="reverse", **FLOW)
    forward = train_flow(rel, direction="forward", data=_exact_draws(model, T_LOW, 4000, 6), **FLOW)
    reverse_mid = _middle(reverse.spins(8000, seed=7), reverse.spins(8000, seed=8))
    forward_mid = _middle(forward.spins(8000, seed=7), forward.spins(8000, seed=8))
    assert exact_mid > 0.3  # the instance has weight between the ground-state overlaps
    assert reverse_mid < 0.25 * exact_mid  # mode-seeking: only the ground-state pair, |q| ~ 1
    assert abs(forward_mid - exact_mid) < 0.1  # mass-covering: the whole P(q)
    centres, pq = overlap_histogram(forward.spins(2000, seed=9), forward.spins(2000, seed=10), bins=11)
    assert centres.shape == pq.shape == (11,) and pq.sum() == pytest.approx(1.0)


def test_bad_input():
    rel = hs_relaxation(SK(), 1.0)
    with pytest.raises(ValueError, match="needs data"):
        train_flow(rel, direction="forward", steps=2)
    with pytest.raises(ValueError, match="direction"):
        train_flow(rel, direction="sideways", steps=2)
    with pytest.raises(ValueError, match="shape"):
        train_flow(rel, direction="forward", data=np.ones((4, 3)), steps=2)


def test_a_mode_seeking_flow_warns_that_its_ln_z_error_bar_does_not_hold():
    # below T_c the reverse-KL flow keeps one pair of valleys: its ln Z read 32 error bars low
    # (30 seeds), with no word, up to 0.6.11; the weights' Pareto k-hat was 0.6-1.1 on every seed
    model = SK()
    exact = enumerate_exact(model, T_LOW, correlations=False)[0].log_z
    reverse = train_flow(hs_relaxation(model, T_LOW), direction="reverse", **FLOW)
    with pytest.warns(RuntimeWarning, match="Pareto tail k-hat"):
        log_z, err, _ = reverse.log_z(4096, seed=1)
    assert abs(log_z - exact) > 5 * err  # the error bar is indeed far too small
    assert reverse.log_z_pareto_k(4096, seed=1) > 0.5
