"""The PixelCNN network: masked convolutions give an exactly normalised autoregressive q on a
lattice, its two samplers follow q, it trains to a valid bound, and it round-trips through a file."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from thermolearn.exact import enumerate_exact, state_index_to_spins
from thermolearn.models import Ising
from thermolearn.neural import PixelCNN, PixelCNNConfig, load_network, neural_mcmc, save_network, train_van
from thermolearn.neural.pixelcnn import init_params, jax_constants, sample_jax


def _random_pixelcnn(shape, channels, depth, symmetric, seed):
    config = PixelCNNConfig(shape, channels, depth, 3, symmetric)
    rng = np.random.default_rng(seed)
    params = {k: (v + rng.normal(size=v.shape)).astype(np.float32) for k, v in init_params(config, seed).items()}
    return PixelCNN(config, params)


@functools.cache
def trained():
    model = Ising.lattice((4, 4))
    return model, train_van(
        model,
        2.5,
        network="pixelcnn",
        hidden=8,
        depth=3,
        steps=150,
        batch_size=128,
        learning_rate=0.02,
        n_eval=2048,
        seed=0,
    )


@pytest.mark.parametrize("symmetric", [False, True])
def test_log_q_is_normalised_and_each_logit_sees_only_earlier_spins(symmetric):
    net = _random_pixelcnn((3, 4), 4, 3, symmetric, seed=1)
    states = state_index_to_spins(np.arange(2**12), 12)
    assert math.isclose(np.exp(net.log_prob(states)).sum(), 1.0, rel_tol=1e-12)
    x = states[np.random.default_rng(2).integers(0, 4096, 40)].astype(float)
    before = net.logits(x)
    for j in range(12):
        flipped = x.copy()
        flipped[:, j] *= -1
        assert np.array_equal(before[:, : j + 1], net.logits(flipped)[:, : j + 1]), j


def test_numpy_and_jax_samplers_draw_from_q():
    import jax
    import jax.numpy as jnp

    net = _random_pixelcnn((2, 3), 4, 2, False, seed=3)
    q = np.exp(net.log_prob(state_index_to_spins(np.arange(64), 6)))
    weights = 1 << np.arange(6)
    params = {k: jnp.asarray(v) for k, v in net.params.items()}
    jax_states = np.asarray(sample_jax(net.config, jax_constants(net.config), params, jax.random.key(0), 10000))
    for states in (net.sample(10000, seed=4), jax_states):
        counts = np.bincount((np.asarray(states) > 0).astype(int) @ weights, minlength=64)
        keep = q * 10000 >= 5
        observed = np.append(counts[keep], counts[~keep].sum())
        expected = np.append(q[keep], q[~keep].sum()) * 10000
        assert stats.chisquare(observed[expected > 0], expected[expected > 0]).pvalue > 1e-4


def test_trained_pixelcnn_gives_a_valid_bound_and_exact_mcmc():
    """F_q >= F exactly (summed over all states), the sampled bound agrees with it, and far
    below mean field; neural MCMC with it recovers the exact energy."""
    from thermolearn.variational import mean_field

    model, run = trained()
    T = 2.5
    exact = enumerate_exact(model, T, correlations=False)[0]
    states = state_index_to_spins(np.arange(2**16), 16)
    lq = run.network.log_prob(states)
    exact_fq = float(np.exp(lq) @ (model.energy(states) + T * lq))
    f = -T * exact.log_z
    assert exact_fq >= f - 1e-9 * abs(f)
    assert abs(run.bound.free_energy - exact_fq) <= 4 * run.bound.free_energy_stderr
    assert exact_fq - f < 0.1 * (-T * mean_field(model, T).log_z - f)
    mc = neural_mcmc(run.network, model, T, n_chains=4, n_sweeps=100, burn_in=10, seed=1)
    assert abs(mc.energy - exact.energy) <= 4 * mc.energy_stderr


def test_a_saved_pixelcnn_loads_back_identical(tmp_path):
    _, run = trained()
    path = save_network(tmp_path / "pc.npz", run.network, info={"temperature": 2.5})
    net, info = load_network(path)
    assert isinstance(net, PixelCNN) and net.config == run.network.config and info["temperature"] == 2.5
    states = run.network.sample(16, seed=0)
    assert np.array_equal(net.log_prob(states), run.network.log_prob(states))


def test_pixelcnn_needs_a_2d_lattice_and_a_sensible_size():
    with pytest.raises(ValueError, match="2D lattice"):
        train_van(Ising.sherrington_kirkpatrick(9, seed=0), 1.0, network="pixelcnn", steps=2)
    with pytest.raises(ValueError, match="odd"):
        PixelCNNConfig((4, 4), 4, 2, kernel=4)
    with pytest.raises(ValueError, match="too large"):
        PixelCNNConfig((4, 4), 1000, 2)
