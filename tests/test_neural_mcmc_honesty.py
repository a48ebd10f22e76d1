"""Neural MCMC says when its error bars cannot be trusted (0.6.11): a poor network's run was 5-8
standard errors from the exact <E> with no warning, because the estimator's own was silenced."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from thermolearn.exact import probability_table
from thermolearn.models import Ising
from thermolearn.neural import MADE, MADEConfig, neural_mcmc
from thermolearn.neural import made as made_module


def _sk6() -> Ising:
    rng = np.random.default_rng(2)
    J = np.triu(rng.normal(size=(6, 6)), 1)
    return Ising.from_dense(J + J.T, rng.normal(size=6) * 0.5)


def _network(scale: float) -> MADE:
    cfg = MADEConfig(6, 6, 1, False)
    rng = np.random.default_rng(7)
    params = {
        k: (rng.normal(size=v.shape) * scale).astype(np.float32) for k, v in made_module.init_params(cfg, 0).items()
    }
    return MADE(cfg, params)


def test_a_poor_network_run_is_marked_unreliable_with_one_warning():
    # global moves only: a proposal that almost never offers the most probable states mixes slowly
    model = _sk6()
    with pytest.warns(RuntimeWarning, match="neural MCMC: the error bars of E"):
        r = neural_mcmc(_network(2.0), model, 1.0, n_chains=8, n_sweeps=1000, burn_in=100, local_sweeps=0, seed=3)
    assert not r.reliable and r.as_dict()["reliable"] is False


def test_a_well_mixed_run_is_reliable_and_right():
    # a near-uniform proposal at T = 5 (every state has p within a factor ~10 of 1/64) mixes at once
    model, T = _sk6(), 5.0
    p, energies = probability_table(model, T)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = neural_mcmc(_network(0.0), model, T, n_chains=8, n_sweeps=2000, burn_in=100, local_sweeps=0, seed=1)
    assert r.reliable
    assert abs(r.energy - float(p @ energies)) < 4 * r.energy_stderr
