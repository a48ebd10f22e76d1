"""Making neural samplers exact: importance sampling against enumeration (unbiased where the
VAN bound is not) and neural MCMC through the chi-square conformance kit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_neural_van import trained_glass, trained_lattice
from thermolearn.exact import enumerate_exact
from thermolearn.models import Ising
from thermolearn.neural import (
    MADE,
    MADEConfig,
    NeuralMCMC,
    free_energy_bound,
    neural_importance_sampling,
    neural_mcmc,
)
from thermolearn.neural.made import init_params
from thermolearn.samplers import ChainState
from thermolearn.testing import check_sampler, conformance_models


def _exact(model: Ising, T: float):
    return enumerate_exact(model, T, correlations=False)[0]


@pytest.mark.parametrize("trained", [trained_lattice, trained_glass])
def test_importance_sampling_matches_enumeration(trained):
    """ln Z, E, <|M|> and <M^2> from reweighted samples of a trained q agree with the exact
    values within 4 of their error bars."""
    model, result = trained()
    T = result.temperature
    ex = _exact(model, T)
    nis = neural_importance_sampling(result.network, model, T, n_samples=8192, seed=11)
    assert nis.reliable and nis.ess > 0.5 * nis.n_samples
    assert abs(nis.log_z - ex.log_z) <= 4 * nis.log_z_stderr
    assert abs(nis.energy - ex.energy) <= 4 * nis.energy_stderr
    assert abs(nis.abs_magnetization - ex.extras["abs_magnetization"]) <= 4 * nis.abs_magnetization_stderr
    assert abs(nis.magnetization_sq - ex.extras["magnetization_sq"]) <= 4 * nis.magnetization_sq_stderr
    assert nis.as_dict()["log_z_nis"]["stderr"] == nis.log_z_stderr


def test_importance_sampling_is_unbiased_where_the_bound_is_not():
    """A poor q (the trained network with its weights halved): its bound F_q lies many error
    bars above F (the bias T KL(q||p)), while importance sampling with it still finds ln Z
    within its error."""
    model, trained = trained_glass()
    T = 0.9
    ex = _exact(model, T)
    poor = MADE(trained.network.config, {k: 0.5 * v for k, v in trained.network.params.items()})
    bound = free_energy_bound(poor, model, T, n_samples=8192, seed=2)
    assert bound.free_energy - (-T * ex.log_z) > 10 * bound.free_energy_stderr
    nis = neural_importance_sampling(poor, model, T, n_samples=8192, seed=3)
    assert abs(nis.log_z - ex.log_z) <= 4 * nis.log_z_stderr


def test_the_partition_function_estimate_is_unbiased_for_any_q():
    """Z_hat = mean(p~/q) has expectation Z even for the uniform q: the mean over 400
    independent estimates of 64 samples is within 4 standard errors of the exact Z."""
    model = Ising.lattice((3, 3), field=0.3)
    T = 2.0
    config = MADEConfig(9, 0, 0)
    uniform = MADE(config, init_params(config))
    exact_log_z = _exact(model, T).log_z
    ratios = np.array(
        [
            math.exp(neural_importance_sampling(uniform, model, T, n_samples=64, min_ess=1, seed=s).log_z - exact_log_z)
            for s in range(400)
        ]
    )
    assert abs(ratios.mean() - 1.0) <= 4 * ratios.std(ddof=1) / math.sqrt(ratios.size)


def test_a_small_effective_sample_size_is_reported_with_its_number():
    model = Ising.lattice((4, 4))
    config = MADEConfig(16, 0, 0)
    nis = neural_importance_sampling(MADE(config, init_params(config)), model, 1.0, n_samples=256, seed=0)
    assert not nis.reliable
    assert f"effective sample size {nis.ess:.1f} of 256" in nis.warning


@pytest.mark.parametrize(
    ("trained", "kit_name", "local_sweeps"),
    [
        (trained_lattice, "periodic 4x4 ferromagnet", 1),
        (trained_glass, "frustrated SK 10, random fields", 0),
    ],
)
def test_neural_mcmc_passes_the_conformance_kit(trained, kit_name, local_sweeps):
    """Independence Metropolis-Hastings with q as the proposal (alone and mixed with local
    Metropolis sweeps) samples exp(-E/T)/Z: the chi-square kit, with its negative controls."""
    _, result = trained()
    model, T = conformance_models()[kit_name]
    assert T == result.temperature
    report = check_sampler(
        NeuralMCMC(result.network, local_sweeps=local_sweeps), models={kit_name: (model, T)}, n_samples=1000
    )
    assert report.passed


def test_neural_mcmc_reports_acceptance_and_tau():
    """A well-trained q is accepted most of the time and decorrelates the energy within about
    a sweep; the chains' energy agrees with the exact one."""
    model, result = trained_lattice()
    run = neural_mcmc(result.network, model, 2.5, n_chains=8, n_sweeps=400, burn_in=20, seed=1)
    assert run.global_acceptance > 0.5
    assert run.tau_energy < 2.0
    assert abs(run.energy - _exact(model, 2.5).energy) <= 4 * run.energy_stderr
    record = run.as_dict()
    assert record["acceptance"] == run.global_acceptance and record["tau_int_energy"] == run.tau_energy


def test_neural_mcmc_refuses_a_model_of_another_size():
    config = MADEConfig(9, 0, 0)
    with pytest.raises(ValueError, match="9 spins"):
        NeuralMCMC(MADE(config, init_params(config))).check_model(Ising.lattice((4, 4)))


def test_neural_proposals_inside_parallel_tempering_pass_the_conformance_kit():
    """The network trained at T = 0.9 as a global move at the cold end of a tempering ladder
    (min_beta: only the T = 0.9 slot proposes from q): exact at every temperature of the ladder."""
    from thermolearn.samplers import ParallelTempering

    model, result = trained_glass()
    base = NeuralMCMC(result.network, min_beta=1 / 0.95)
    pt = ParallelTempering([0.9, 1.2, 1.6], base=base)
    report = check_sampler(pt, models={"SK 10 with fields": (model, 0.9)}, n_chains=8, n_samples=800)
    assert report.passed and len(report.cases) == 3
    temps = pt.chain_temperatures(None, 2)
    state = ChainState.new(model, temps.size, seed=0)
    pt.reset(model, state)
    pt.sweep(model, state, 1.0 / temps, 50)
    info = pt.base.info()
    assert info["global_attempted"] == 50 * np.count_nonzero(temps == 0.9)
    assert info["global_acceptance"] > 0.5  # the network is a good global move where it was trained
