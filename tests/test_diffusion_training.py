"""Training, checkpoints and resume, sampling, and model files of diffusion models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermolearn.datasets import gaussian_mixture, load_dataset
from thermolearn.diffusion import DiffusionConfig, DiffusionModel, log_likelihood_bound, train
from thermolearn.storage import load_arrays, save_arrays

SMALL = dict(dim=2, steps=8, schedule="linear", parameterization="eps", hidden=32, depth=2)


def _assert_improved(before, after):
    """The held-out bound rose by more than 5 standard errors of the paired difference."""
    diff = after.bits - before.bits
    assert diff.mean() > 5 * diff.std(ddof=1) / np.sqrt(len(diff))


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def data():
    return gaussian_mixture(2000, seed=0).astype(np.float32)


@pytest.fixture(scope="module")
def trained(data):
    model = DiffusionModel.create(DiffusionConfig(**SMALL), seed=0)
    return model, train(model, data, iterations=300, batch_size=128, learning_rate=3e-3, seed=0, progress=False)


def test_training_lowers_the_loss_and_raises_the_held_out_bound(trained):
    model, result = trained
    assert result.losses.shape == (300,) and np.all(np.isfinite(result.losses))
    assert result.losses[-50:].mean() < result.losses[:50].mean()
    held_out = gaussian_mixture(1000, seed=99)
    _assert_improved(
        log_likelihood_bound(model, held_out, seed=0), log_likelihood_bound(result.model, held_out, seed=0)
    )


def test_killed_and_resumed_run_ends_with_identical_parameters(tmp_path, data):
    kwargs = dict(iterations=60, batch_size=64, learning_rate=3e-3, seed=5, checkpoint_every=20, progress=False)
    straight = train(
        DiffusionModel.create(DiffusionConfig(**SMALL), seed=5), data, checkpoint=tmp_path / "a.npz", **kwargs
    )

    def kill_at_40(step, loss):
        if step == 40:
            raise Killed

    ck = tmp_path / "b.npz"
    with pytest.raises(Killed):
        train(
            DiffusionModel.create(DiffusionConfig(**SMALL), seed=5), data, checkpoint=ck, callback=kill_at_40, **kwargs
        )
    _, header = load_arrays(ck)
    assert header["checkpoint"]["step"] == 40
    resumed = train(DiffusionModel.create(DiffusionConfig(**SMALL), seed=5), data, checkpoint=ck, **kwargs)
    assert resumed.resumed_from == 40
    a, b = straight.model.arrays(), resumed.model.arrays()
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    np.testing.assert_array_equal(straight.losses, resumed.losses)
    # the checkpoint also holds the optimiser state and the key, and loads as a model
    arrays, _ = load_arrays(ck)
    assert any(k.startswith("opt") for k in arrays) and "train:key" in arrays
    model, _ = DiffusionModel.load(ck)
    np.testing.assert_array_equal(model.arrays()["net.out.weight"], b["net.out.weight"])


def test_moving_average_of_the_weights(tmp_path, data):
    kwargs = dict(iterations=6, batch_size=64, learning_rate=3e-3, seed=2, checkpoint_every=1, progress=False)
    ck = tmp_path / "ema.npz"
    weights = []  # the raw weights after each step, read back from the checkpoint

    def record(step, loss):
        weights.append({k: v for k, v in load_arrays(ck)[0].items() if k.startswith("net")})

    start = DiffusionModel.create(DiffusionConfig(**SMALL), seed=2)
    averaged = train(start, data, ema_decay=0.99, checkpoint=ck, callback=record, **kwargs)
    raw = train(DiffusionModel.create(DiffusionConfig(**SMALL), seed=2), data, **kwargs)
    np.testing.assert_array_equal(raw.losses, averaged.losses)  # the average does not change the training path
    for name, value in start.arrays().items():
        ema = value.astype(np.float64)
        for k, w in enumerate(weights):  # warm-up decay min(0.99, (1 + k) / (10 + k)) at step k
            decay = min(0.99, (1 + k) / (10 + k))
            ema = decay * ema + (1 - decay) * w[name]
        np.testing.assert_allclose(averaged.model.arrays()[name], ema, rtol=1e-5, atol=1e-7, err_msg=name)
        np.testing.assert_array_equal(raw.model.arrays()[name], weights[-1][name])
    assert any(k.startswith("ema") for k in load_arrays(ck)[0])
    # killed and resumed with the average: the same final model
    ck2 = tmp_path / "ema2.npz"
    with pytest.raises(Killed):
        train(
            DiffusionModel.create(DiffusionConfig(**SMALL), seed=2),
            data,
            ema_decay=0.99,
            checkpoint=ck2,
            callback=lambda step, loss: _raise_at(step, 3),
            **kwargs,
        )
    resumed = train(
        DiffusionModel.create(DiffusionConfig(**SMALL), seed=2), data, ema_decay=0.99, checkpoint=ck2, **kwargs
    )
    assert resumed.resumed_from == 3
    for name, value in averaged.model.arrays().items():
        np.testing.assert_array_equal(resumed.model.arrays()[name], value, err_msg=name)
    with pytest.raises(ValueError, match="ema_decay"):
        train(DiffusionModel.create(DiffusionConfig(**SMALL), seed=2), data, ema_decay=1.0, **kwargs)


def test_a_checkpoint_with_a_moving_average_loads_as_the_averaged_model(tmp_path, data):
    """The checkpoint keeps the raw weights to resume from; loading it as a model gives the average,
    the model the finished run returns and saves (not silently the raw weights)."""
    ck = tmp_path / "ema.npz"
    kwargs = dict(iterations=20, batch_size=64, learning_rate=3e-3, seed=2, checkpoint_every=10, progress=False)
    result = train(
        DiffusionModel.create(DiffusionConfig(**SMALL), seed=2), data, ema_decay=0.9, checkpoint=ck, **kwargs
    )
    loaded, header = DiffusionModel.load(ck)
    assert header["checkpoint"]["args"]["ema_decay"] == 0.9
    raw = load_arrays(ck)[0]
    for name, value in result.model.arrays().items():
        np.testing.assert_array_equal(loaded.arrays()[name], value, err_msg=name)
    assert not np.array_equal(raw["net.out.weight"], result.model.arrays()["net.out.weight"])
    # (resuming reads the raw weights: test_moving_average_of_the_weights kills and resumes such a run)
    # a record of an average without its arrays (or the reverse) is a damaged file
    save_arrays(ck, {k: v for k, v in raw.items() if not k.startswith("ema")}, header)
    with pytest.raises(ValueError, match="moving average"):
        DiffusionModel.load(ck)


def _raise_at(step, at):
    if step == at:
        raise Killed


def test_resume_with_other_arguments_is_refused(tmp_path, data):
    ck = tmp_path / "c.npz"
    model = DiffusionModel.create(DiffusionConfig(**SMALL), seed=0)
    train(model, data, iterations=20, checkpoint=ck, checkpoint_every=20, progress=False)
    with pytest.raises(ValueError, match="different training arguments"):
        train(model, data, iterations=20, checkpoint=ck, checkpoint_every=20, learning_rate=0.5, progress=False)
    other = DiffusionModel.create(DiffusionConfig(**{**SMALL, "hidden": 16}), seed=0)
    with pytest.raises(ValueError, match="different model"):
        train(other, data, iterations=20, checkpoint=ck, checkpoint_every=20, progress=False)


def test_model_file_round_trip(tmp_path, trained):
    _, result = trained
    path = tmp_path / "model.npz"
    result.model.save(path, dataset={"name": "gaussians"})
    loaded, header = DiffusionModel.load(path)
    assert header["dataset"] == {"name": "gaussians"} and header["config"] == result.model.config.as_dict()
    for name, arr in result.model.arrays().items():
        np.testing.assert_array_equal(loaded.arrays()[name], arr)
    np.testing.assert_array_equal(loaded.sample(50, seed=3), result.model.sample(50, seed=3))
    with np.load(path, allow_pickle=False) as raw:  # plain arrays, nothing pickled
        assert all(raw[k].dtype != object for k in raw.files)


def test_model_file_errors(tmp_path, trained):
    _, result = trained
    bad = tmp_path / "other.npz"
    save_arrays(bad, {"x": np.zeros(3)}, {"format": "something else"})
    with pytest.raises(ValueError, match="not a thermolearn diffusion model"):
        DiffusionModel.load(bad)
    arrays = result.model.arrays()
    arrays["net.out.bias"] = np.zeros(7, dtype=np.float32)
    save_arrays(bad, arrays, result.model.header())
    with pytest.raises(ValueError, match="shape"):
        DiffusionModel.load(bad)
    with pytest.raises(ValueError, match="no such file"):
        DiffusionModel.load(tmp_path / "missing.npz")
    # the file records its betas: one whose schedule constants changed since is refused
    header = result.model.header()
    assert np.allclose(header["betas"], result.model.process.betas_in, rtol=0, atol=0)
    header["betas"] = [b * 1.01 for b in header["betas"]]
    save_arrays(bad, result.model.arrays(), header)
    with pytest.raises(ValueError, match="noise schedule that this thermolearn computes differently"):
        DiffusionModel.load(bad)
    del header["betas"]  # files from before 0.5 carry none and load as before
    save_arrays(bad, result.model.arrays(), header)
    assert DiffusionModel.load(bad)[0].config == result.model.config


def test_sampling_shapes_and_determinism(trained):
    _, result = trained
    model = result.model
    s1, s2 = model.sample(200, seed=1), model.sample(200, seed=1)
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(s1, model.sample(200, seed=2))
    path = model.sample(10, seed=1, trajectory=True)
    assert path.shape == (model.T + 1, 10, 2)
    np.testing.assert_array_equal(path[0], model.sample(10, seed=1))
    fwd = model.forward_trajectory(np.zeros((5, 2)), seed=0)
    assert fwd.shape == (model.T + 1, 5, 2) and np.all(fwd[0] == 0)
    assert model.drift(np.zeros((4, 2)), 3).shape == (4, 2)
    assert np.all(np.isfinite(model.reverse_entropy(np.zeros((4, 2)), 2)))


def test_paper_parameterisation_trains(data):
    model = DiffusionModel.create(
        DiffusionConfig(**{**SMALL, "parameterization": "paper", "schedule": "paper"}), seed=0
    )
    res = train(model, data, iterations=200, batch_size=128, learning_rate=1e-2, progress=False)
    held_out = gaussian_mixture(1000, seed=98)
    _assert_improved(log_likelihood_bound(model, held_out, seed=0), log_likelihood_bound(res.model, held_out, seed=0))


def test_objectives_and_their_requirements(data):
    eps_fixed = DiffusionModel.create(DiffusionConfig(**{**SMALL, "learn_variance": False}), seed=0)
    res = train(eps_fixed, data, iterations=20, objective="simple", progress=False)
    assert np.isfinite(res.losses).all()
    with pytest.raises(ValueError, match="hybrid"):
        train(DiffusionModel.create(DiffusionConfig(**SMALL), seed=0), data, iterations=5, objective="simple")
    with pytest.raises(ValueError, match="eps parameterisation"):
        train(
            DiffusionModel.create(DiffusionConfig(**{**SMALL, "parameterization": "paper"}), seed=0),
            data,
            iterations=5,
            objective="hybrid",
        )
    with pytest.raises(ValueError, match="objective must be"):
        train(eps_fixed, data, iterations=5, objective="elbo")


def test_binomial_diffusion_on_binary_digits():
    digits = load_dataset("digits", binary=True, n=400)
    held = load_dataset("digits", binary=True, split="test", n=100)
    config = DiffusionConfig(dim=64, steps=6, process="binomial", hidden=64, depth=2, image_shape=(8, 8))
    model = DiffusionModel.create(config, seed=0)
    before = log_likelihood_bound(model, held.data, seed=0)
    assert before.per_dim and before.null_bits == pytest.approx(-1.0)
    assert before.mean == pytest.approx(-1.0, abs=0.05)  # untrained: the reverse steps are the forward ones
    res = train(model, digits.data, iterations=100, batch_size=64, learning_rate=3e-3, progress=False)
    _assert_improved(before, log_likelihood_bound(res.model, held.data, seed=0))
    samples = res.model.sample(8, seed=0)
    assert samples.shape == (8, 64) and set(np.unique(samples)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="binary"):
        log_likelihood_bound(res.model, held.data * 0.5)


def test_config_validation():
    with pytest.raises(ValueError, match="process"):
        DiffusionConfig(dim=2, process="poisson")
    with pytest.raises(ValueError, match="steps"):
        DiffusionConfig(dim=2, steps=1)
    with pytest.raises(ValueError, match="conv network needs image"):
        DiffusionConfig(dim=2, network="conv")
    with pytest.raises(ValueError, match="image_shape"):
        DiffusionConfig(dim=10, image_shape=(3, 3))
    with pytest.raises(ValueError, match="binomial schedule"):
        DiffusionConfig(dim=2, schedule="binomial")
    with pytest.raises(ValueError, match="unknown"):
        DiffusionConfig.from_dict({"dim": 2, "colour": 1})
    # the snr schedule's log signal-to-noise ratio must fall from logit(1 - beta_1) to -5
    with pytest.raises(ValueError, match=r"beta_1 must be < 0\.99331"):
        DiffusionConfig(dim=2, beta_1=0.995)
    assert DiffusionConfig(dim=2, beta_1=0.99, schedule="snr").beta_1 == 0.99
    assert DiffusionConfig(dim=2, beta_1=0.995, schedule="linear").beta_1 == 0.995
    cfg = DiffusionConfig(dim=64, image_shape=(8, 8), network="conv")
    assert DiffusionConfig.from_dict(json.loads(json.dumps(cfg.as_dict()))) == cfg


def test_a_model_keeps_its_config():
    """The network and the cached noise process are built from the config: another config set on
    the model would have sampled with the old process and the new step count (up to 0.6.8)."""
    model = DiffusionModel.create(DiffusionConfig(dim=2, steps=5), seed=0)
    assert model.process.T == 5
    with pytest.raises(AttributeError, match="config"):
        model.config = DiffusionConfig(dim=2, steps=7)  # type: ignore[misc]
    assert model.config.steps == model.process.T == 5


def test_train_rejects_bad_input(data):
    model = DiffusionModel.create(DiffusionConfig(**SMALL), seed=0)
    with pytest.raises(ValueError, match="shape"):
        train(model, np.zeros((10, 3)), iterations=5)
    with pytest.raises(ValueError, match="NaN"):
        train(model, np.full((10, 2), np.nan), iterations=5)
    with pytest.raises(ValueError, match="iterations"):
        train(model, data, iterations=0)
    with pytest.raises(TypeError):
        train(model, data, iterations=5, seed="zero")


def test_residual_mlp_files_and_its_neutral_start(tmp_path):
    cfg = DiffusionConfig(
        dim=64, steps=6, network="resmlp", hidden=80, depth=2, parameterization="eps", image_shape=(8, 8)
    )
    model = DiffusionModel.create(cfg, seed=0)
    arrays = model.arrays()
    assert np.all(arrays["net.norms[0].weight"] == 1) and np.all(arrays["net.norms[1].bias"] == 0)
    assert np.all(arrays["net.out.weight"] == 0)  # an untrained model predicts no noise
    model.save(tmp_path / "r.npz")
    loaded, _ = DiffusionModel.load(tmp_path / "r.npz")
    assert loaded.config.network == "resmlp"
    for name, value in arrays.items():
        np.testing.assert_array_equal(loaded.arrays()[name], value)


def test_residual_mlp_learns_the_noise_of_images_faster_than_the_plain_mlp():
    digits = load_dataset("digits").data
    losses = {}
    for network in ("mlp", "resmlp"):
        cfg = DiffusionConfig(
            dim=64,
            steps=20,
            network=network,
            hidden=96,
            depth=3,
            parameterization="eps",
            learn_variance=False,
            image_shape=(8, 8),
        )
        res = train(
            DiffusionModel.create(cfg, seed=0),
            digits,
            iterations=300,
            batch_size=64,
            learning_rate=1e-3,
            objective="simple",
            seed=0,
            progress=False,
            dequantize=2 / 17,
        )
        losses[network] = float(res.losses[-100:].mean())
    assert losses["resmlp"] < 0.9 * losses["mlp"], losses
