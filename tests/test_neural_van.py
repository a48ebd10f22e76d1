"""Variational autoregressive networks: exact normalisation and sampling of MADE, the bound
F_q >= F against enumeration and Kaufman, training checkpoints that resume bit for bit."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from thermolearn.exact import enumerate_exact, state_index_to_spins
from thermolearn.exact.kaufman import kaufman
from thermolearn.models import Ising
from thermolearn.neural import MADE, MADEConfig, free_energy_bound, train_van
from thermolearn.neural import van as van_module
from thermolearn.neural.made import init_params, masks, sample_jax

T_LATTICE = 2.5


def _random_made(n: int, hidden: int, depth: int, symmetric: bool, seed: int) -> MADE:
    config = MADEConfig(n, hidden, depth, symmetric)
    rng = np.random.default_rng(seed)
    params = {k: (v + rng.normal(size=v.shape)).astype(np.float32) for k, v in init_params(config, seed).items()}
    return MADE(config, params)


def _exact_q(net: MADE) -> np.ndarray:
    states = state_index_to_spins(np.arange(2**net.n_spins), net.n_spins)
    return np.exp(net.log_prob(states))


def _state_index(states: np.ndarray) -> np.ndarray:
    return (np.asarray(states) > 0).astype(np.int64) @ (1 << np.arange(states.shape[1], dtype=np.int64))


def _chi_square_p(counts: np.ndarray, q: np.ndarray) -> float:
    n = counts.sum()
    keep = q * n >= 5
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(q[keep], q[~keep].sum()) * n
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    return float(stats.chisquare(observed, expected).pvalue)


@functools.cache
def trained_lattice():
    """A VAN on the conformance kit's periodic 4x4 ferromagnet at T = 2.5 (shared by the neural tests)."""
    model = Ising.lattice((4, 4))
    return model, train_van(model, T_LATTICE, steps=300, batch_size=256, seed=0, n_eval=8192)


@functools.cache
def trained_glass():
    """A VAN on the kit's frustrated SK 10 with random fields at T = 0.9."""
    model = Ising(Ising.sherrington_kirkpatrick(10, seed=5).couplings, np.random.default_rng(5).normal(0, 0.4, 10))
    return model, train_van(model, 0.9, steps=300, batch_size=256, seed=1, n_eval=8192)


@pytest.fixture(scope="module")
def lattice_run():
    return trained_lattice()


@pytest.fixture(scope="module")
def glass_run():
    return trained_glass()


@pytest.mark.parametrize(("hidden", "depth", "symmetric"), [(0, 0, False), (12, 1, False), (9, 2, True)])
def test_log_q_is_normalised(hidden, depth, symmetric):
    q = _exact_q(_random_made(10, hidden, depth, symmetric, seed=depth))
    assert math.isclose(q.sum(), 1.0, rel_tol=1e-12)


def test_masks_make_the_network_autoregressive():
    """The logit of spin i must not depend on s_i or later spins: the product of the masks
    (hidden reachability) is strictly lower triangular."""
    config = MADEConfig(7, 10, 2)
    reach = np.eye(7)
    for m in masks(config)[:-1]:
        reach = (m @ reach > 0).astype(float)
    reach = (masks(config)[-1] @ reach > 0).astype(float)
    assert np.all(np.triu(reach) == 0)
    assert reach[-1, :-1].all()  # the last spin sees all the others


@pytest.mark.parametrize(("depth", "symmetric"), [(1, False), (2, True)])
def test_numpy_and_jax_samplers_draw_from_q(depth, symmetric):
    """Both samplers (NumPy for estimates and chains, JAX for training) follow the exact q
    (chi-square, p > 1e-4 at fixed seeds)."""
    import jax
    import jax.numpy as jnp

    net = _random_made(6, 10, depth, symmetric, seed=3)
    q = _exact_q(net)
    counts = np.bincount(_state_index(net.sample(10000, seed=4)), minlength=64)
    assert _chi_square_p(counts, q) > 1e-4
    ms = tuple(jnp.asarray(m) for m in masks(net.config))
    params = {k: jnp.asarray(v) for k, v in net.params.items()}
    s = np.asarray(sample_jax(net.config, ms, params, jax.random.key(5), 10000))
    assert _chi_square_p(np.bincount(_state_index(s), minlength=64), q) > 1e-4


def test_depth_zero_is_the_bbvi_autoregressive_family():
    """A BBVI autoregressive fit converted to a MADE has the same q: its exact ELBO (summed
    over all states) agrees with BBVI's sampled ELBO within that estimate's error."""
    from thermolearn.variational import black_box_vi

    model = Ising.lattice((3, 3), field=0.2)
    res = black_box_vi(model, 2.0, family="autoregressive", steps=50, batch_size=64, n_eval=4096, seed=2)
    net = MADE.from_bbvi(res)
    states = state_index_to_spins(np.arange(2**9), 9)
    lq = net.log_prob(states)
    elbo = float(np.exp(lq) @ (-model.energy(states) / 2.0 - lq))
    assert abs(elbo - res.elbo) <= 4 * res.elbo_stderr


@pytest.mark.parametrize("run", ["lattice_run", "glass_run"])
def test_the_bound_holds_and_its_estimate_is_unbiased(run, request):
    """F_q >= F exactly (F_q summed over all states), and the sampled F_q agrees with the exact
    F_q within its error bar (so the sampled bound holds up to that error)."""
    model, result = request.getfixturevalue(run)
    T = result.temperature
    exact_f = -T * enumerate_exact(model, T, correlations=False)[0].log_z
    states = state_index_to_spins(np.arange(2**model.n_spins), model.n_spins)
    lq = result.network.log_prob(states)
    exact_fq = float(np.exp(lq) @ (model.energy(states) + T * lq))
    assert exact_fq >= exact_f - 1e-9 * abs(exact_f)
    b = result.bound
    assert abs(b.free_energy - exact_fq) <= 4 * b.free_energy_stderr
    assert b.free_energy >= exact_f - 4 * b.free_energy_stderr


def test_trained_van_is_close_to_kaufman_and_beats_mean_field(lattice_run):
    """4x4 periodic ferromagnet at T = 2.5: the trained bound is within 1e-3 (relative) of
    Kaufman's exact F, and the gap is far below naive mean field's."""
    from thermolearn.variational import mean_field

    model, result = lattice_run
    exact_f = -T_LATTICE * kaufman(4, T_LATTICE).log_z
    b = result.bound
    gap = b.free_energy - exact_f
    assert gap / abs(exact_f) < 1e-3
    mf_f = -T_LATTICE * mean_field(model, T_LATTICE).log_z
    assert mf_f - exact_f > 10 * (gap + 4 * b.free_energy_stderr)
    assert result.history.shape == (300,) and np.all(np.isfinite(result.history))
    assert result.betas[-1] == pytest.approx(1 / T_LATTICE)


def test_checkpoint_resumes_bit_for_bit(tmp_path, monkeypatch):
    model = Ising.lattice((3, 3))
    kwargs = dict(steps=20, batch_size=32, hidden=8, seed=3, n_eval=64, checkpoint_every=5)
    straight = train_van(model, 2.0, **kwargs)
    path = tmp_path / "van.npz"
    real = van_module._compiled_step

    def dies_after_12(*args):
        step, init = real(*args)
        calls = [0]

        def counted(*a):
            calls[0] += 1
            if calls[0] > 12:
                raise KeyboardInterrupt
            return step(*a)

        return counted, init

    monkeypatch.setattr(van_module, "_compiled_step", dies_after_12)
    with pytest.raises(KeyboardInterrupt):
        train_van(model, 2.0, checkpoint=path, **kwargs)
    monkeypatch.setattr(van_module, "_compiled_step", real)
    resumed = train_van(model, 2.0, checkpoint=path, **kwargs)
    assert resumed.resumed_from == 10
    for k, v in straight.network.params.items():
        assert np.array_equal(v, resumed.network.params[k])
    assert np.array_equal(straight.history, resumed.history)
    with pytest.raises(ValueError, match="different run"):
        train_van(model, 2.0, checkpoint=path, **{**kwargs, "seed": 4})


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    model = Ising.lattice((3, 3))
    real = van_module._compiled_step

    def poisoned(*args):
        step, init = real(*args)
        calls = [0]

        def nan_after_7(*a):
            calls[0] += 1
            params, state, f = step(*a)
            return params, state, f * np.nan if calls[0] > 7 else f

        return nan_after_7, init

    monkeypatch.setattr(van_module, "_compiled_step", poisoned)
    path = tmp_path / "van.npz"
    with pytest.raises(ValueError, match="diverged at step 7.*last good checkpoint"):
        train_van(model, 2.0, steps=20, batch_size=32, hidden=8, checkpoint=path, checkpoint_every=5, n_eval=64)
    from thermolearn.storage import load_arrays

    assert load_arrays(path)[1]["progress"]["sweeps_done"] == 5


def test_bad_input():
    model = Ising.lattice((3, 3))
    with pytest.raises(ValueError, match="too large"):
        train_van(model, 2.0, hidden=500, steps=2)
    with pytest.raises(ValueError, match="network must be"):
        train_van(model, 2.0, network="transformer", steps=2)
    with pytest.raises(ValueError, match="anneal"):
        train_van(model, 2.0, anneal=1.5, steps=2)
    net = _random_made(4, 0, 0, False, 0)
    with pytest.raises(ValueError, match="4 spins"):
        free_energy_bound(net, model, 2.0)


def test_the_default_beta_ramp_is_a_quarter_of_the_steps_in_the_library_and_the_command_line():
    import inspect

    from thermolearn.cli.main import build_parser
    from thermolearn.neural.van import DEFAULT_ANNEAL, annealed_betas

    assert DEFAULT_ANNEAL == 0.25 and inspect.signature(train_van).parameters["anneal"].default == DEFAULT_ANNEAL
    args = build_parser().parse_args(["neural", "train", "--lattice", "4x4", "-T", "2"])
    assert args.anneal == DEFAULT_ANNEAL
    betas = annealed_betas(0.5, 100, DEFAULT_ANNEAL)
    assert betas[23] < 0.5 and np.all(betas[24:] == 0.5)
