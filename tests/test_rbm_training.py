"""Moment-matching training of RBMs: negative phases against the exact gradient, learning on
real digits measured by the exact log-likelihood, checkpoints that resume bit for bit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.special import logsumexp

from thermolearn.datasets.digits import load_digits
from thermolearn.exact.rbm_models import rbm_model_log_partition
from thermolearn.learning.contrastive_divergence import (
    ContrastiveDivergence,
    LearningRate,
    PersistentCD,
    Positive,
    TemperedPersistentCD,
    make_negative_phase,
    moment_gradient,
    train_rbm,
)
from thermolearn.models.rbm import RBM, GaussianBernoulliRBM, float_dtype, uniforms

# one configuration per negative phase, shared by the tests below: each one compiles once
H = 12
BATCH = 50
COMMON = dict(batch_size=BATCH, learning_rate=0.1, momentum=0.5, progress=False)


def binary_states(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def hidden_sum_log_z(model: RBM) -> float:
    """log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)], the hidden layer enumerated."""
    h = binary_states(model.n_hidden)
    return float(logsumexp(h @ model.hidden_bias + np.logaddexp(0, model.visible_bias + h @ model.weights.T).sum(1)))


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """scikit-learn's 1,797 digits binarised at grey level 8 (of 0..16)."""
    return (load_digits() >= 8).astype(np.uint8)


@pytest.fixture(scope="module")
def start(digits) -> RBM:
    return RBM.random(64, H, scale=0.1, data=digits, seed=0)


@pytest.fixture(scope="module")
def cd_run(digits, start):
    return train_rbm(start, digits, epochs=4, method="cd", seed=1, **COMMON)


# ---------------------------------------------------------------------------- the two forces
def exact_model_statistics(model: RBM):
    """<v h^T>, <v>, <h> under the model, h replaced by p(h | v), by enumerating v."""
    v = binary_states(model.n_visible)
    logp = -model.free_energy(v).astype(np.float64)
    p = np.exp(logp - logsumexp(logp))
    ph = 1 / (1 + np.exp(-(v @ model.weights + model.hidden_bias)))
    return {"weights": (v * p[:, None]).T @ ph, "visible_bias": p @ v, "hidden_bias": p @ ph}


def negative_samples(phase, model: RBM, data: np.ndarray, n_updates: int, seed: int) -> np.ndarray:
    """The negative phase's visible samples of n_updates updates at fixed parameters: (T, C, V)."""
    fam, p = model.family, model.jax_params()
    dt = p["weights"].dtype
    v0 = jnp.asarray(data, dtype=dt)
    n, nv = data.shape
    shapes = [(n, model.n_hidden)] + phase.uniform_shapes(n, nv, model.n_hidden)
    key = jax.random.key(seed)

    @jax.jit
    def run(state):
        def body(state, i):
            u = uniforms(jax.random.fold_in(key, i), shapes, dt)
            ph = jax.nn.sigmoid(fam.hidden_input(p, v0))
            h = (u[0] < ph).astype(dt)
            pos = Positive(v0, ph, h, fam.visible_input(p, h))
            state, v, _, _, _ = phase.run(fam, p, state, pos, u[1:])
            return state, v

        return jax.lax.scan(body, state, jnp.arange(n_updates))[1]

    return np.asarray(run(phase.init(fam, p, jax.random.fold_in(key, -1 % 2**31), nv)), dtype=np.float64)


@pytest.fixture(scope="module")
def small_model():
    rng = np.random.default_rng(5)
    return RBM(rng.normal(0, 1.0, (6, 4)), rng.normal(0, 0.5, 6), rng.normal(0, 0.5, 4))


@pytest.mark.parametrize(
    "phase, burn_in",
    [
        (PersistentCD(k=1, n_chains=1000), 50),
        (TemperedPersistentCD(k=1, n_chains=1000, betas=(1.0, 0.6, 0.3, 0.0)), 50),
        (ContrastiveDivergence(k=25), 0),
    ],
    ids=["pcd", "pt", "cd25"],
)
def test_negative_phase_gives_the_exact_log_likelihood_gradient(phase, burn_in, small_model):
    rng = np.random.default_rng(0)
    data = (rng.random((1000, 6)) < 0.3).astype(float)
    samples = negative_samples(phase, small_model, data, 150 + burn_in, seed=2)[burn_in:]  # (T, C, V)
    exact = exact_model_statistics(small_model)
    grad = moment_gradient(small_model, data, samples.reshape(-1, 6))
    # each chain's time average is independent of the others (PT: chain c is its own ladder)
    ph = 1 / (1 + np.exp(-(samples @ small_model.weights + small_model.hidden_bias)))
    per_chain = {
        "weights": np.einsum("tci,tcj->cij", samples, ph) / len(samples),
        "visible_bias": samples.mean(0),
        "hidden_bias": ph.mean(0),
    }
    ph_data = 1 / (1 + np.exp(-(data @ small_model.weights + small_model.hidden_bias)))
    pos = {"weights": data.T @ ph_data / len(data), "visible_bias": data.mean(0), "hidden_bias": ph_data.mean(0)}
    for name in grad:
        est = grad[name]
        want = pos[name] - exact[name]
        stderr = per_chain[name].std(axis=0, ddof=1) / np.sqrt(per_chain[name].shape[0])
        z = np.abs(est - want) / stderr
        # 34 components: |z| < 5 for all has a false-alarm chance below 1e-4
        assert np.all(z < 5), (name, z.max())


# ---------------------------------------------------------------------------- learning real digits
def test_training_on_digits_increases_the_exact_log_likelihood(digits, start, cd_run):
    before = -start.free_energy(digits) - hidden_sum_log_z(start)
    trained = cd_run.model
    after = -trained.free_energy(digits) - hidden_sum_log_z(trained)
    gain = after - before
    # the same images under both models: the error bar of the mean gain is that of paired differences
    assert gain.mean() > 5 * gain.std(ddof=1) / np.sqrt(gain.size)
    # the history tracked the exact log-likelihood each epoch; it rose every epoch here
    hist = cd_run.history.log_likelihood
    assert hist[-1] == pytest.approx(after.mean(), abs=1e-6 * abs(after.mean()))
    assert np.all(np.diff(hist) > 0)
    assert np.all(np.isfinite(cd_run.history.reconstruction_error))
    assert cd_run.history.reconstruction_error[-1] < cd_run.history.reconstruction_error[0]
    assert np.all(cd_run.history.learning_rate == np.float32(0.1))


def test_continuing_from_state_equals_one_longer_run(digits, start, cd_run):
    first = train_rbm(start, digits, epochs=2, method="cd", seed=1, exact_log_likelihood=False, **COMMON)
    second = train_rbm(
        first.model, digits, epochs=2, method="cd", seed=1, exact_log_likelihood=False, state=first.state, **COMMON
    )
    np.testing.assert_array_equal(second.model.weights, cd_run.model.weights)
    np.testing.assert_array_equal(second.model.hidden_bias, cd_run.model.hidden_bias)


# ---------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("engine", ["sparse", "jax"])
def test_checkpoint_resume_is_bit_identical(tmp_path, digits, start, engine):
    args = dict(method="pcd", seed=3, exact_log_likelihood=False, engine=engine, **COMMON)
    straight = train_rbm(start, digits, epochs=4, **args)
    ck = tmp_path / "pcd.npz"
    half = train_rbm(start, digits, epochs=2, checkpoint=ck, **args)
    assert half.epochs_done == 2
    resumed = train_rbm(start, digits, epochs=4, checkpoint=ck, **args)
    assert resumed.resumed_from == 2
    for name in ("weights", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(getattr(resumed.model, name), getattr(straight.model, name))
    np.testing.assert_array_equal(resumed.history.reconstruction_error, straight.history.reconstruction_error)
    # the checkpoint is also a model file
    assert RBM.load(ck) == resumed.model


def test_a_killed_run_resumes_bit_identical(tmp_path, digits, start):
    """Parallel tempering (chains, ladder, swap parity) with a linear learning-rate decay."""
    phase = TemperedPersistentCD(k=1, n_chains=BATCH, betas=(1.0, 0.5, 0.0))
    args = dict(
        method=phase,
        seed=4,
        exact_log_likelihood=False,
        schedule="linear",
        final_learning_rate=0.01,
        batch_size=BATCH,
        learning_rate=0.1,
        momentum=0.5,
        progress=False,
    )
    straight = train_rbm(start, digits, epochs=4, **args)

    def kill(epoch, record):
        if epoch == 2:
            raise KeyboardInterrupt

    ck = tmp_path / "pt.npz"
    with pytest.raises(KeyboardInterrupt):
        train_rbm(start, digits, epochs=4, checkpoint=ck, callback=kill, **args)
    resumed = train_rbm(start, digits, epochs=4, checkpoint=ck, **args)
    assert resumed.resumed_from == 2
    np.testing.assert_array_equal(resumed.model.weights, straight.model.weights)
    acc = resumed.history.swap_acceptance
    assert acc.shape == (4, 2) and np.all((acc >= 0) & (acc <= 1))
    # the learning rate at each epoch's last update follows the linear decay
    n_batches = len(digits) // BATCH
    steps = np.arange(1, 5) * n_batches - 1
    want = 0.1 + (0.01 - 0.1) * steps / (4 * n_batches)
    np.testing.assert_allclose(resumed.history.learning_rate, want, rtol=1e-6)
    # the decay depends on the total: asking for more epochs is refused
    with pytest.raises(ValueError, match="different training arguments.*total_steps"):
        train_rbm(start, digits, epochs=6, checkpoint=ck, **args)


def test_a_checkpoint_from_before_the_engines_resumes_with_jax(tmp_path, digits, start):
    """Checkpoints written by 0.4 have no engine in their arguments: they were all JAX runs."""
    from thermolearn.storage import load_arrays, save_arrays

    args = dict(method="cd", seed=2, exact_log_likelihood=False, **COMMON)
    ck = tmp_path / "old.npz"
    train_rbm(start, digits, epochs=1, checkpoint=ck, engine="jax", **args)
    arrays, header = load_arrays(ck)
    del header["checkpoint"]["args"]["engine"]
    save_arrays(ck, arrays, header)
    # auto picks the sparse engine where JAX computes on the CPU in float32 (the JAX engine on a GPU)
    if jax.default_backend() == "cpu" and float_dtype() == np.float32:
        with pytest.raises(ValueError, match="different training arguments.*engine"):
            train_rbm(start, digits, epochs=2, checkpoint=ck, **args)
    assert train_rbm(start, digits, epochs=2, checkpoint=ck, engine="jax", **args).resumed_from == 1


def test_a_checkpoint_of_another_run_is_refused(tmp_path, digits, start, cd_run):
    ck = tmp_path / "cd.npz"
    # the sparse engine named (auto picks it on the CPU, not on a GPU), so that jax is "the other" below
    train_rbm(
        start,
        digits,
        epochs=1,
        method="cd",
        seed=1,
        checkpoint=ck,
        exact_log_likelihood=False,
        engine="sparse",
        **COMMON,
    )
    with pytest.raises(ValueError, match="different training arguments.*learning_rate"):
        train_rbm(
            start,
            digits,
            epochs=2,
            method="cd",
            seed=1,
            checkpoint=ck,
            engine="sparse",
            **{**COMMON, "learning_rate": 0.2},
        )
    with pytest.raises(ValueError, match="different training arguments.*data_hash"):
        train_rbm(start, 1 - digits, epochs=2, method="cd", seed=1, checkpoint=ck, engine="sparse", **COMMON)
    # a checkpoint of one engine is not continued by the other (their random numbers differ)
    with pytest.raises(ValueError, match="different training arguments.*engine"):
        train_rbm(start, digits, epochs=2, method="cd", seed=1, checkpoint=ck, engine="jax", **COMMON)
    other = RBM.random(64, H + 1, seed=0)
    with pytest.raises(ValueError, match=r"weights \(64, 12\).*weights \(64, 13\)"):
        train_rbm(other, digits, epochs=2, method="cd", seed=1, checkpoint=ck, **COMMON)
    with pytest.raises(ValueError, match="already at epoch 2"):
        ck2 = tmp_path / "cd2.npz"
        train_rbm(start, digits, epochs=2, method="cd", seed=1, checkpoint=ck2, exact_log_likelihood=False, **COMMON)
        train_rbm(start, digits, epochs=1, method="cd", seed=1, checkpoint=ck2, exact_log_likelihood=False, **COMMON)
    plain = tmp_path / "model.npz"
    start.save(plain)
    with pytest.raises(ValueError, match="not a training checkpoint"):
        train_rbm(start, digits, epochs=2, method="cd", seed=1, checkpoint=plain, **COMMON)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a thermolearn .npz file"):
        train_rbm(start, digits, epochs=2, method="cd", seed=1, checkpoint=text, **COMMON)


# ---------------------------------------------------------------------------- Gaussian units
def test_gaussian_bernoulli_training_increases_the_exact_log_likelihood():
    rng = np.random.default_rng(8)
    centres = np.array([[2.0, 2.0, -1.0, 0.0], [-2.0, -1.0, 1.0, 1.0]])
    x = centres[rng.integers(0, 2, 400)] + rng.normal(0, 1.0, (400, 4))
    model = GaussianBernoulliRBM.random(4, 3, scale=0.1, data=x, sigma=1.0, seed=1)
    before = -model.free_energy(x) - rbm_model_log_partition(model)
    result = train_rbm(
        model, x, epochs=5, method="pcd", batch_size=20, learning_rate=0.02, momentum=0.5, seed=2, progress=False
    )
    after = -result.model.free_energy(x) - rbm_model_log_partition(result.model)
    gain = after - before
    assert gain.mean() > 5 * gain.std(ddof=1) / np.sqrt(gain.size)
    assert result.history.log_likelihood[-1] == pytest.approx(after.mean(), rel=1e-6)
    np.testing.assert_array_equal(result.model.sigma, model.sigma)  # sigma is not trained


# ---------------------------------------------------------------------------- schedules and bad input
def test_learning_rate_schedules():
    lin = LearningRate("linear", 0.1, 0.01, 100)
    exp = LearningRate("exponential", 0.1, 0.001, 100)
    assert float(lin(50)) == pytest.approx(0.055, rel=1e-6)
    assert float(exp(50)) == pytest.approx(0.01, rel=1e-5)
    assert float(lin(500)) == pytest.approx(0.01, rel=1e-6)


def test_bad_arguments_are_refused(digits, start):
    with pytest.raises(ValueError, match="only binary units"):
        train_rbm(start, load_digits(), epochs=1, **COMMON)
    with pytest.raises(ValueError, match="batch_size"):
        train_rbm(start, digits[:10], epochs=1, **COMMON)
    with pytest.raises(ValueError, match="momentum"):
        train_rbm(start, digits, epochs=1, **{**COMMON, "momentum": 1.0})
    with pytest.raises(ValueError, match="method must be one of"):
        train_rbm(start, digits, epochs=1, method="sgd", **COMMON)
    with pytest.raises(ValueError, match="schedule must be one of"):
        train_rbm(start, digits, epochs=1, schedule="cosine", **COMMON)
    with pytest.raises(ValueError, match="leave schedule"):
        train_rbm(
            start,
            digits,
            epochs=1,
            schedule="linear",
            **{**COMMON, "learning_rate": optax.exponential_decay(0.1, 10, 0.5)},
        )
    with pytest.raises(ValueError, match="seed"):
        train_rbm(start, digits, epochs=1, seed=-1, **COMMON)
    with pytest.raises(TypeError, match="seed"):
        train_rbm(start, digits, epochs=1, seed=1.5, **COMMON)
    with pytest.raises(ValueError, match="betas must start at 1"):
        TemperedPersistentCD(betas=(0.5, 0.2))
    with pytest.raises(ValueError, match="beta = 0 is improper"):
        make_negative_phase("pt", betas=(1.0, 0.0), family_tempers_to_uniform=False)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 64\)"):
        train_rbm(start, digits[:, :10], epochs=1, **COMMON)
    with pytest.raises(TypeError, match="model must be"):
        train_rbm("model", digits, epochs=1, **COMMON)


def test_checkpoint_in_a_missing_folder_is_refused_before_training(tmp_path, digits, start):
    with pytest.raises(ValueError, match="folder does not exist"):
        train_rbm(start, digits, epochs=1, checkpoint=tmp_path / "nope" / "ck.npz", **COMMON)
    with pytest.raises(ValueError, match="exact log-likelihood sums 2"):
        train_rbm(RBM.random(64, 30, seed=0), digits, epochs=1, exact_log_likelihood=True, **COMMON)
