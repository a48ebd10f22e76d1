"""The sparse (Numba) CD / PCD engine: one update against a NumPy transcription of the rule with
the same random numbers, persistent chains that sample the model's exact p(h), results that
do not depend on the thread count, and training that matches the JAX engine in distribution."""

from __future__ import annotations

import jax
import numba
import numpy as np
import pytest
from scipy.special import logsumexp

from thermolearn.datasets.digits import load_digits
from thermolearn.exact.rbm_models import rbm_model_log_partition
from thermolearn.learning.contrastive_divergence import train_rbm
from thermolearn.learning.sparse_rbm_updates import run_sparse_epoch
from thermolearn.models.rbm import RBM, GaussianBernoulliRBM, float_dtype
from thermolearn.randomness.counter import counter_uniform32, splitmix64

BLOCK = 1 << 21
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream(key: np.uint64, offset: int, n: int) -> np.ndarray:
    """Draws offset .. offset + n - 1 of the SplitMix64 stream at ``key`` as 24-bit uniforms."""
    counters = np.arange(offset, offset + n, dtype=np.uint64) + np.uint64(1)
    z = mix64(np.full(n, key, dtype=np.uint64) + counters * GOLDEN)
    return (z >> np.uint64(40)).astype(np.float64) * 2.0**-24


def row_key(update_key: np.uint64, index: int) -> np.uint64:
    """SplitMix64's first output from ``update_key + index`` (uint64 arithmetic wraps)."""
    x = np.array([update_key], dtype=np.uint64) + np.uint64(index) + GOLDEN
    return np.uint64(mix64(x)[0])


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_update(p, vel, chains, v0, key, t, *, persistent, k, lr, momentum, decay):
    """One update of the rule in float64 with the engine's random numbers; returns p, vel, chains."""
    W, b, c = p["weights"], p["visible_bias"], p["hidden_bias"]
    update_key = row_key(key ^ np.uint64(t), 0)
    B = len(v0)
    ph_pos = sigmoid(v0 @ W + c)
    negatives, ph_negs, new_chains = [], [], []
    for r in range(len(chains) if persistent else B):
        if persistent:
            kr, h = row_key(update_key, 2 * r + 1), chains[r]
        else:
            kr = row_key(update_key, 2 * r)
            h = (stream(kr, 0, W.shape[1]) < ph_pos[r]).astype(float)
        for s in range(k):
            v = (stream(kr, (2 * s + 1) * BLOCK, W.shape[0]) < sigmoid(b + W @ h)).astype(float)
            ph = sigmoid(v @ W + c)
            if persistent or s + 1 < k:
                h = (stream(kr, (2 * s + 2) * BLOCK, W.shape[1]) < ph).astype(float)
        negatives.append(v)
        ph_negs.append(ph)
        new_chains.append(h)
    vn, phn = np.array(negatives), np.array(ph_negs)
    grad = {
        "weights": v0.T @ ph_pos / B - vn.T @ phn / len(vn) - decay * W,
        "visible_bias": v0.mean(0) - vn.mean(0),
        "hidden_bias": ph_pos.mean(0) - phn.mean(0),
    }
    new_vel = {n: momentum * vel[n] + lr * grad[n] for n in grad}
    new_p = {n: p[n] + new_vel[n] for n in grad}
    return new_p, new_vel, (np.array(new_chains) if persistent else chains)


def test_the_numpy_stream_is_the_kernels_generator():
    key = np.uint64(0x1234_5678_9ABC_DEF0)
    want = stream(key, 7 * BLOCK, 5)
    got = [counter_uniform32(key, np.uint64(7 * BLOCK + i)) for i in range(5)]
    np.testing.assert_array_equal(np.array(got, dtype=np.float64), want)
    assert splitmix64(np.uint64(41))[0] == row_key(np.uint64(41), 0)


@pytest.mark.parametrize(
    "persistent, k, n_chains, density",
    [
        (False, 1, 0, 0.3),
        (False, 3, 0, 0.3),
        (True, 1, 5, 0.3),
        (True, 2, 3, 0.3),
        (False, 2, 0, 0.85),
        (True, 2, 5, 0.85),
    ],
    ids=["cd1", "cd3", "pcd1", "pcd2-3chains", "cd2-dense", "pcd2-dense"],
)
def test_two_updates_follow_the_rule_with_the_same_random_numbers(persistent, k, n_chains, density):
    """Rows with more ones than zeros are summed as all rows minus their zeros' rows: the
    dense cases (data, biases and so samples mostly ones) check that path."""
    rng = np.random.default_rng(1)
    nv, nh, B = 11, 7, 4
    data = (rng.random((12, nv)) < density).astype(np.uint8)
    shift = 2.0 * (density - 0.5)
    p = {
        "weights": rng.normal(0, 0.8, (nv, nh)),
        "visible_bias": rng.normal(shift, 0.5, nv),
        "hidden_bias": rng.normal(shift, 0.5, nh),
    }
    vel = {n: rng.normal(0, 0.01, a.shape) for n, a in p.items()}
    chains = (rng.random((n_chains, nh)) < density).astype(float)
    order = rng.permutation(len(data))
    key, lrs, momentum, decay = np.uint64(987654321), np.array([0.1, 0.07]), 0.5, 0.01
    p32 = {n: a.astype(np.float32) for n, a in p.items()}
    vel32 = {n: a.astype(np.float32) for n, a in vel.items()}
    ch32 = chains.astype(np.float32)
    run_sparse_epoch(
        p32, vel32, ch32, data, order, B, lrs, momentum, decay, key, persistent=persistent, k=k, reconstruction=False
    )
    for t in range(2):
        v0 = data[order[t * B : (t + 1) * B]].astype(float)
        p, vel, chains = reference_update(
            p, vel, chains, v0, key, t, persistent=persistent, k=k, lr=lrs[t], momentum=momentum, decay=decay
        )
    for name in p:
        np.testing.assert_allclose(p32[name], p[name], rtol=1e-5, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(vel32[name], vel[name], rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(ch32, chains)


def test_reconstruction_error_is_that_of_the_first_hidden_draw():
    rng = np.random.default_rng(2)
    nv, nh, B = 9, 5, 6
    data = (rng.random((B, nv)) < 0.5).astype(np.uint8)
    p = {
        "weights": rng.normal(0, 1, (nv, nh)),
        "visible_bias": rng.normal(0, 1, nv),
        "hidden_bias": rng.normal(0, 1, nh),
    }
    p32 = {n: a.astype(np.float32) for n, a in p.items()}
    vel32 = {n: np.zeros_like(a) for n, a in p32.items()}
    key = np.uint64(5)
    err = run_sparse_epoch(
        p32,
        vel32,
        np.zeros((0, nh), np.float32),
        data,
        np.arange(B),
        B,
        np.array([0.0]),
        0.0,
        0.0,
        key,
        persistent=False,
        k=1,
        reconstruction=True,
    )
    update_key = row_key(key, 0)
    v = data.astype(float)
    ph = sigmoid(v @ p["weights"] + p["hidden_bias"])
    h = np.array([stream(row_key(update_key, 2 * r), 0, nh) < ph[r] for r in range(B)], dtype=float)
    want = np.mean((v - sigmoid(h @ p["weights"].T + p["visible_bias"])) ** 2)
    assert err == pytest.approx(want, rel=1e-5)


def test_persistent_chains_sample_the_exact_hidden_marginal():
    """At learning rate 0 the PCD chains are a Gibbs sampler of p(h) proportional to
    exp(c.h) prod_i (1 + exp(b_i + (W h)_i)); 4000 chains after 30 updates are independent draws."""
    rng = np.random.default_rng(5)
    nv, nh, C = 6, 4, 4000
    W, b, c = rng.normal(0, 1.0, (nv, nh)), rng.normal(0, 0.5, nv), rng.normal(0, 0.5, nh)
    p32 = {"weights": W.astype(np.float32), "visible_bias": b.astype(np.float32), "hidden_bias": c.astype(np.float32)}
    vel32 = {n: np.zeros_like(a) for n, a in p32.items()}
    chains = np.zeros((C, nh), np.float32)
    data = (rng.random((10, nv)) < 0.5).astype(np.uint8)
    run_sparse_epoch(
        p32,
        vel32,
        chains,
        data,
        np.zeros(30 * 10, dtype=np.int64),
        10,
        np.zeros(30),
        0.0,
        0.0,
        np.uint64(11),
        persistent=True,
        k=1,
        reconstruction=False,
    )
    assert np.array_equal(p32["weights"], W.astype(np.float32))  # rate 0: the model did not move
    states = ((np.arange(2**nh)[:, None] >> np.arange(nh)) & 1).astype(float)
    log_w = states @ c + np.logaddexp(0, b + states @ W.T).sum(1)
    exact = np.exp(log_w - logsumexp(log_w))
    codes = (chains.astype(int) * (1 << np.arange(nh))).sum(1)
    freq = np.bincount(codes, minlength=2**nh) / C
    z = np.abs(freq - exact) / np.sqrt(exact * (1 - exact) / C)
    assert np.all(z < 4.5), z.max()  # 16 cells: a false alarm below 1e-4


def test_results_do_not_depend_on_the_number_of_threads():
    digits = (load_digits() >= 8).astype(np.uint8)
    start = RBM.random(64, 12, scale=0.1, data=digits, seed=0)
    args = dict(
        epochs=1, method="pcd", k=2, batch_size=50, seed=4, progress=False, exact_log_likelihood=False, engine="sparse"
    )
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = train_rbm(start, digits, **args).model
    finally:
        numba.set_num_threads(before)
    many = train_rbm(start, digits, **args).model
    assert one == many


def test_both_engines_learn_digits_equally_well():
    """Three seeds per engine, 4 epochs of CD-1 on the binarised digits: the mean exact
    log-likelihoods agree within 5 standard errors of their difference."""
    digits = (load_digits() >= 8).astype(np.uint8)
    start = RBM.random(64, 12, scale=0.1, data=digits, seed=0)
    final = {}
    for engine in ("jax", "sparse"):
        runs = [
            train_rbm(
                start,
                digits,
                epochs=4,
                method="cd",
                batch_size=50,
                learning_rate=0.1,
                seed=s,
                progress=False,
                engine=engine,
            )
            for s in range(3)
        ]
        assert all(r.engine == engine for r in runs)
        final[engine] = np.array([r.history.log_likelihood[-1] for r in runs])
    gain = final["sparse"] - start.log_likelihood(digits, rbm_model_log_partition(start))
    assert np.all(gain > 1)  # it learned (about 3 nats in 4 epochs)
    se = np.sqrt(final["jax"].var(ddof=1) / 3 + final["sparse"].var(ddof=1) / 3)
    # three seeds estimate the spread poorly; 0.05 nats is about the error bar six seeds gave
    assert abs(final["jax"].mean() - final["sparse"].mean()) < 5 * max(se, 0.05), final


def test_engine_choice_and_its_errors():
    digits = (load_digits() >= 8).astype(np.uint8)
    rbm = RBM.random(64, 4, data=digits, seed=0)
    # auto: the sparse engine where JAX computes on the CPU in float32, else the JAX engine
    auto = "sparse" if jax.default_backend() == "cpu" and float_dtype() == np.float32 else "jax"
    assert train_rbm(rbm, digits, epochs=1, method="pcd", progress=False).engine == auto
    assert train_rbm(rbm, digits, epochs=1, method="pt", progress=False).engine == "jax"
    # mostly ones (the digits inverted): rows are summed through their zeros, still sparse
    assert (1 - digits).mean() > 0.5
    assert train_rbm(rbm, 1 - digits, epochs=1, method="pcd", progress=False).engine == auto
    with pytest.raises(ValueError, match="engine must be one of auto, jax, sparse"):
        train_rbm(rbm, digits, epochs=1, engine="gpu")
    with pytest.raises(ValueError, match="method 'pt' needs engine='jax'"):
        train_rbm(rbm, digits, epochs=1, method="pt", engine="sparse")
    gauss = GaussianBernoulliRBM.random(64, 4, seed=0)
    with pytest.raises(ValueError, match="Gaussian-Bernoulli RBM needs engine='jax'"):
        train_rbm(gauss, load_digits() / 16.0, epochs=1, engine="sparse")
