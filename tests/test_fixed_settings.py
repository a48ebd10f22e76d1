"""Settings that what an object built depends on are fixed (or checked and applied) after
construction: up to 0.6.8 each of these could be assigned later and was then ignored by what was
built, or read by half of the object (a result labelled with one temperature, sampled at another)."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.fixed_settings import FixedSettings
from thermolearn.models import DenseAssociativeMemory, Hopfield
from thermolearn.models.lattice import LatticeGeometry
from thermolearn.quantum import PIMCRun, SQARun, hamiltonian_operator
from thermolearn.runs import sample
from thermolearn.samplers import ChainState, Metropolis
from thermolearn.samplers.jax_lattice import JaxCheckerboardMetropolis


def test_fixed_settings_refuse_a_second_value_and_say_what_to_do():
    class Run(FixedSettings):
        _fixed_settings = frozenset({"temperature"})

        def __init__(self) -> None:
            self.temperature = 1.0
            self.step = 0

    run = Run()
    run.step = 5  # run state stays assignable
    with pytest.raises(AttributeError, match="Run.temperature is fixed at construction.*make a new Run"):
        run.temperature = 2.0
    assert run.temperature == 1.0 and run.step == 5


def test_a_bound_object_is_bound_for_good():
    model = Ising.lattice((8, 8))
    state = ChainState.new(model, 1, seed=1, initial="up")
    bound = Metropolis().bind(model, state, 10.0)
    bound.sweep()
    for name, value in (("betas", 0.01), ("state", ChainState.new(model, 1)), ("model", model), ("sampler", None)):
        with pytest.raises(AttributeError):
            setattr(bound, name, value)  # up to 0.6.8's first draft: ignored by the kept call
    assert bound.betas == 10.0 and bound.state is state


def test_pimc_and_sqa_runs_keep_their_settings():
    chain = Ising.lattice(4, periodic=True)
    run = PIMCRun(chain, 1.0, 2.0, 8, chains=2, seed=1)
    for name, value in (("temperature", 0.25), ("gamma", np.full(4, 2.0)), ("slices", 16), ("chains", 4)):
        with pytest.raises(AttributeError, match=f"PIMCRun.{name} is fixed"):
            setattr(run, name, value)
    run.advance(20)  # the run's state still moves
    with pytest.warns(RuntimeWarning, match="PIMC error bars are likely too small"):  # 15 sweeps: too short
        assert run.result(5).temperature == 2.0
    sqa = SQARun(chain, sweeps=20, reads=2, slices=8, temperature=0.5, seed=1)
    for name, value in (("temperature", 3.0), ("slices", 32), ("temperature_range", (3.0, 3.0))):
        with pytest.raises(AttributeError, match=f"SQARun.{name} is fixed"):
            setattr(sqa, name, value)
    sqa.advance(20)
    assert sqa.result().temperature == 0.5


def test_a_sample_result_recomputes_its_observables_for_trimmed_series():
    result = sample(Ising.lattice((6, 6)), "metropolis", 2.0, sweeps=400, initial="up", seed=3, progress=False)
    whole = result.at()
    assert whole.n_samples == 400
    result.energy = result.energy[:, :20]
    result.magnetization = result.magnetization[:, :20]
    trimmed = result.at()
    assert trimmed.n_samples == 20
    assert trimmed.energy_per_spin.mean == pytest.approx(float(result.energy.mean()) / 36)
    assert result.at() is trimmed  # kept while the arrays stay the same


def test_models_and_memories_are_immutable():
    model = Ising.lattice((4, 4))
    with pytest.raises(AttributeError, match="geometry"):
        model.geometry = LatticeGeometry((4, 4), (True, True), (-1.0, -1.0), 0.0)  # type: ignore[misc]
    patterns = np.where(np.random.default_rng(0).random((3, 16)) < 0.5, 1, -1).astype(np.int8)
    memory = DenseAssociativeMemory(patterns, degree=3)
    before = memory.energy(patterns[0])
    with pytest.raises(AttributeError, match="DenseAssociativeMemory.kind is fixed"):
        memory.kind = "poly"  # up to 0.6.8: accepted, and the energy became the exponential one
    assert memory.energy(patterns[0]) == before
    network = Hopfield(np.zeros((16, 16)), image_shape=(4, 4))
    with pytest.raises(AttributeError, match="Hopfield.image_shape is fixed"):
        network.image_shape = (2, 8)


def test_a_hamiltonian_operator_keeps_its_transverse_field():
    model = Ising.lattice(6, periodic=True)
    gamma = np.full(6, 1.0)
    op = hamiltonian_operator(model, gamma)
    with pytest.raises(AttributeError):
        op.transverse = np.array([1.0])  # up to 0.6.8: the field then acted on one site, silently
    with pytest.raises(ValueError, match="read-only"):
        op.transverse[0] = 2.0
    gamma[0] = 5.0  # the caller's array is the caller's: the operator holds a copy
    assert op.transverse[0] == 1.0


def test_a_changed_jax_device_is_checked_and_applied():
    sampler = JaxCheckerboardMetropolis("cpu")
    model = Ising.lattice((8, 8))
    state = ChainState.new(model, 2, seed=1)
    sampler.sweep(model, state, 0.4, 1)
    assert sampler._plan is not None
    with pytest.raises(ValueError, match="device must be one of"):
        sampler.device = "tpu"
    sampler.device = "auto"  # takes effect at the next sweep: the plan on the old device is dropped
    assert sampler._plan is None and sampler.options() == {"device": "auto"}
    sampler.sweep(model, state, 0.4, 1)
    assert sampler._plan is not None


def test_a_shared_named_posterior_cannot_be_changed_by_one_caller():
    from thermolearn.dynamics.posteriors import make_posterior

    first = make_posterior("gaussian")
    assert make_posterior("gaussian") is first  # cached and shared
    with pytest.raises(ValueError, match="read-only"):
        first.exact_mean[0] = 99.0  # up to 0.6.8: every later caller got [99, ...] as the exact mean
    with pytest.raises(TypeError):
        first.details["quadrature"] = None  # type: ignore[index]


def test_the_neural_sampler_keeps_its_settings_and_checks_its_calls():
    from thermolearn.neural.made import MADE, MADEConfig, init_params
    from thermolearn.neural.mcmc import NeuralMCMC

    config = MADEConfig(16, 0, 0)
    sampler = NeuralMCMC(MADE(config, init_params(config)), min_beta=0.3)
    with pytest.raises(AttributeError, match="NeuralMCMC.min_beta is fixed"):
        sampler.min_beta = float("nan")  # up to 0.6.8: global moves silently switched off
    model = Ising.lattice((4, 4))
    state = ChainState.new(model, 2, seed=1)
    for bad in (2.5, -1, True):
        with pytest.raises((ValueError, TypeError), match="n_sweeps"):
            sampler.sweep(model, state, 0.5, bad)  # 2.5 ran 2 sweeps
    bigger = Ising.lattice((5, 5))
    with pytest.raises(ValueError):
        sampler.sweep(bigger, ChainState.new(bigger, 2, seed=1), 0.5, 1)  # a 16-spin network, 25 spins
    stats = sampler.sweep(model, state, 0.5, 2)
    assert stats.attempted.shape == (2,) and sampler.info()["global_attempted"] == 4


def test_clamped_values_and_spin_flip_rules_are_fixed():
    from thermolearn.pbits.clamping import clamp
    from thermolearn.samplers.rules import HEAT_BATH, METROPOLIS

    clamped = clamp(Ising.lattice((3, 3)), {0: 1, 4: -1})
    with pytest.raises(ValueError, match="read-only"):
        clamped.values[0] = -1  # the free model's fields were computed from +1
    with pytest.raises(AttributeError, match="SpinFlipRule.decide is fixed"):
        METROPOLIS.decide = HEAT_BATH.decide  # the compiled drivers kept the old rule


def test_a_network_holds_its_own_read_only_parameters():
    from thermolearn.neural.made import MADE, MADEConfig, init_params

    config = MADEConfig(6, 0, 0)
    params = init_params(config, 1)
    q = MADE(config, params)
    states = np.ones((1, 6), dtype=np.int8)
    before = q.log_prob(states)
    params["bias"][:] = 5.0  # the caller's arrays are the caller's
    with pytest.raises(ValueError, match="read-only"):
        q.params["bias"][0] = 5.0  # up to 0.6.8: accepted, and log_prob kept its cached weights
    np.testing.assert_array_equal(q.log_prob(states), before)


@pytest.mark.parametrize("network", ["made", "pixelcnn"])
def test_a_network_refuses_a_replaced_or_added_parameter(network):
    # up to 0.6.9 q.params["bias"] = x was accepted and log_prob kept the cached weights: a
    # silently wrong log q
    import pickle

    if network == "made":
        from thermolearn.neural.made import MADE as Net
        from thermolearn.neural.made import MADEConfig as Config
        from thermolearn.neural.made import init_params

        config = Config(6, 8, 1)
    else:
        from thermolearn.neural.pixelcnn import PixelCNN as Net
        from thermolearn.neural.pixelcnn import PixelCNNConfig as Config
        from thermolearn.neural.pixelcnn import init_params

        config = Config((3, 3), 4, 1, 3)
    q = Net(config, init_params(config, 2))
    states = np.array([[1, -1, 1, -1, 1, -1, 1, 1, -1][: q.n_spins]], dtype=np.int8)
    before = q.log_prob(states)
    with pytest.raises(TypeError):
        q.params["bias"] = np.full_like(q.params["bias"], 3.0)
    with pytest.raises(TypeError):
        q.params["extra"] = np.zeros(1)
    with pytest.raises(TypeError):
        del q.params["bias"]
    np.testing.assert_array_equal(q.log_prob(states), before)
    edited = Net(config, {**q.params, "bias": np.full_like(q.params["bias"], 3.0)})  # the way to change one
    assert not np.array_equal(edited.log_prob(states), before)
    copy = pickle.loads(pickle.dumps(q))
    np.testing.assert_array_equal(copy.log_prob(states), before)
    assert not copy.params["bias"].flags.writeable
