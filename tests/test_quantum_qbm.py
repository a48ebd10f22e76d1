"""Quantum Boltzmann machines: closed forms, exact gradients against finite differences, the
Golden-Thompson bound, the classical limit, the data of Amin et al., and training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from thermolearn.models.ising import Ising
from thermolearn.quantum import qbm
from thermolearn.quantum.hamiltonian import spin_table


def _params(n: int, seed: int, gamma: float | None = None) -> qbm.QBMParameters:
    rng = np.random.default_rng(seed)
    w = np.triu(rng.normal(0, 0.7, (n, n)), 1)
    g = rng.uniform(0.3, 1.5, n) if gamma is None else np.full(n, gamma)
    return qbm.QBMParameters.checked(rng.normal(0, 0.7, n), w + w.T, g)


def _distribution(n: int, seed: int) -> np.ndarray:
    q = np.random.default_rng(seed).random(2**n)
    return q / q.sum()


@pytest.mark.parametrize(("b", "gamma"), [(0.7, 1.3), (-1.2, 0.4), (0.0, 2.0), (2.5, 0.1)])
def test_single_qubit_probability_and_golden_thompson_bound_in_closed_form(b, gamma):
    state = qbm.QBMState.of(qbm.QBMParameters.checked([b], np.zeros((1, 1)), [gamma]))
    d = math.hypot(b, gamma)
    p_up = (1 + (b / d) * math.tanh(d)) / 2  # <+| e^{-H} |+> / Tr e^{-H}, H = -Gamma sx - b sz
    np.testing.assert_allclose(state.probabilities(), [p_up, 1 - p_up], rtol=1e-12)
    bound = [math.exp(b) / (2 * math.cosh(d)), math.exp(-b) / (2 * math.cosh(d))]
    np.testing.assert_allclose(state.bound_probabilities(), bound, rtol=1e-12)
    assert np.all(state.bound_probabilities() <= state.probabilities() + 1e-15)


def _finite_difference(fn, params: qbm.QBMParameters, eps: float = 1e-5):
    n = params.n_visible
    grad_b, grad_w, grad_g = np.zeros(n), np.zeros((n, n)), np.zeros(n)

    def moved(edit):
        up, down = params.copy(), params.copy()
        edit(up, eps)
        edit(down, -eps)
        return (fn(up) - fn(down)) / (2 * eps)

    for i in range(n):
        grad_b[i] = moved(lambda p, e, i=i: p.biases.__setitem__(i, p.biases[i] + e))
        grad_g[i] = moved(lambda p, e, i=i: p.gamma.__setitem__(i, p.gamma[i] + e))
        for j in range(i + 1, n):

            def edit(p, e, i=i, j=j):
                p.couplings[i, j] += e
                p.couplings[j, i] += e

            grad_w[i, j] = grad_w[j, i] = moved(edit)
    return grad_b, grad_w, grad_g


def test_exact_qbm_gradient_including_gamma_equals_finite_differences():
    params, q = _params(4, 1), _distribution(4, 2)
    grad = qbm.log_likelihood_gradient(params, q, "qbm")
    fd = _finite_difference(lambda p: qbm.log_likelihood(q, qbm.QBMState.of(p).probabilities()), params)
    for got, want in zip((grad.biases, grad.couplings, grad.gamma), fd):
        np.testing.assert_allclose(got, want, atol=1e-8)
    assert np.max(np.abs(grad.gamma)) > 1e-2  # the Gamma gradient is really tested


def test_bqbm_gradient_is_the_gradient_of_the_golden_thompson_bound():
    params, q = _params(4, 3), _distribution(4, 4)
    grad = qbm.log_likelihood_gradient(params, q, "bqbm")
    fd_b, fd_w, _ = _finite_difference(lambda p: qbm.golden_thompson_bound(p, q), params)
    np.testing.assert_allclose(grad.biases, fd_b, atol=1e-8)
    np.testing.assert_allclose(grad.couplings, fd_w, atol=1e-8)
    assert np.all(grad.gamma == 0)  # Gamma is fixed under the bound


def test_golden_thompson_bound_lies_below_the_log_likelihood_and_meets_it_at_gamma_zero():
    q = _distribution(5, 5)
    for seed in range(3):
        params = _params(5, seed)
        exact = qbm.log_likelihood(q, qbm.QBMState.of(params).probabilities())
        assert qbm.golden_thompson_bound(params, q) < exact
    classical = _params(5, 7, gamma=0.0)
    assert math.isclose(
        qbm.golden_thompson_bound(classical, q),
        qbm.log_likelihood(q, qbm.QBMState.of(classical).probabilities()),
        rel_tol=1e-12,
    )


def test_gamma_zero_qbm_is_the_classical_boltzmann_machine_by_enumeration():
    params = _params(5, 8, gamma=0.0)
    states = spin_table(5)
    energies = Ising.from_dense(params.couplings, params.biases).energy(states)
    boltzmann = np.exp(-energies) / np.exp(-energies).sum()
    np.testing.assert_allclose(qbm.QBMState.of(params).probabilities(), boltzmann, rtol=1e-12)
    small = qbm.QBMParameters(params.biases, params.couplings, np.full(5, 1e-4))  # continuity at Gamma -> 0
    np.testing.assert_allclose(qbm.QBMState.of(small).probabilities(), boltzmann, rtol=1e-6)
    q = _distribution(5, 9)
    bm = qbm.log_likelihood_gradient(params, q, "bm")
    s = states.astype(float)
    np.testing.assert_allclose(bm.biases, q @ s - boltzmann @ s, atol=1e-12)


def test_mode_mixture_has_the_marginals_of_its_modes():
    q, centres = qbm.mode_mixture(6, 1, 0.9, seed=3)
    assert math.isclose(q.sum(), 1.0, rel_tol=1e-12)
    states = spin_table(6).astype(float)
    # one mode: spins independent, each equal to its centre with probability p
    np.testing.assert_allclose(q @ states, 0.8 * centres[0], atol=1e-12)
    q8, centres8 = qbm.mode_mixture(10, 8, 0.9, seed=0)
    assert centres8.shape == (8, 10) and q8.shape == (1024,)
    index = ((1 - centres8.astype(np.int64)) // 2) @ (1 << np.arange(10))
    assert np.all(q8[index] >= 0.9**10 / 8)


def test_training_lowers_the_kl_divergence_and_qbm_beats_bm_on_the_mode_mixture():
    q, _ = qbm.mode_mixture(6, 4, 0.9, seed=1)
    runs = {m: qbm.train_qbm(q, m, epochs=40, learning_rate=0.1, seed=2) for m in qbm.QBM_MODELS}
    for run in runs.values():
        assert run.kl[-1] < 0.5 * run.kl[0]
        np.testing.assert_allclose(run.kl, -run.entropy - run.log_likelihood, atol=1e-12)
        assert np.all(run.bound <= run.log_likelihood + 1e-12)
    assert np.all(runs["bm"].params.gamma == 0) and np.all(runs["bqbm"].params.gamma == 2.0)
    # Amin et al.'s finding at this size: the transverse field lets the QBM fit the modes better
    assert runs["qbm"].kl[-1] < runs["bm"].kl[-1]
    again = qbm.train_qbm(q, "qbm", epochs=40, learning_rate=0.1, seed=2)
    assert again.kl.tobytes() == runs["qbm"].kl.tobytes()


def test_bad_qbm_input_is_refused_with_the_limit():
    with pytest.raises(ValueError, match="N <= 12"):
        qbm.QBMParameters.checked(np.zeros(13), np.zeros((13, 13)), 1.0)
    with pytest.raises(ValueError, match="at most 12"):
        qbm.mode_mixture(13, 8, 0.9)
    with pytest.raises(ValueError, match=">= 0"):
        qbm.QBMParameters.checked(np.zeros(3), np.zeros((3, 3)), -1.0)
    with pytest.raises(ValueError, match="NaN"):
        qbm.QBMParameters.checked([0.0, float("nan")], np.zeros((2, 2)), 1.0)
    with pytest.raises(TypeError, match="complex"):
        qbm.QBMParameters.checked([0.0, 1j], np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        qbm.QBMParameters.checked(np.zeros(2), [[0.0, 1.0], [0.0, 0.0]], 1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        qbm.train_qbm(np.full(8, 0.2), "bm")
    with pytest.raises(ValueError, match="model"):
        qbm.train_qbm(np.full(8, 1 / 8), "rbm")
    with pytest.raises(ValueError, match="probability"):
        qbm.mode_mixture(4, 2, 1.5)


# ---------------------------------------------------------------------------------- command line
def test_qbm_command_writes_kl_and_log_likelihood_per_epoch(tmp_path):
    from thermolearn.cli.main import main

    out, plot = tmp_path / "q.json", tmp_path / "q.png"
    argv = ["quantum", "qbm", "--visible", "5", "--modes", "3", "--p", "0.9", "--model", "bqbm", "--epochs", "6"]
    assert main([*argv, "--seed", "2", "--compare", "--json", str(out), "--plot", str(plot), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    q, _ = qbm.mode_mixture(5, 3, 0.9, seed=2)
    direct = qbm.train_qbm(q, "bqbm", epochs=6, seed=2)
    assert record["kl"] == direct.kl.tolist() and record["log_likelihood"] == direct.log_likelihood.tolist()
    assert set(record["comparison"]) == {"bm", "bqbm", "qbm"} and len(record["comparison"]["qbm"]["kl"]) == 6
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--visible", "13"], "N <= 12"),
        (["--p", "1.5"], "--p"),
        (["--p", "nan"], "--p"),
        (["--model", "rbm"], "--model"),
        (["--gamma", "-1"], "--gamma"),
        (["--epochs", "0"], "--epochs"),
    ],
)
def test_bad_qbm_command_input_is_one_line_and_exit_2(extra, message, capsys):
    from thermolearn.cli.main import main

    assert main(["quantum", "qbm", "--epochs", "1", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_names_copied_into_the_cli_match_the_library():
    from thermolearn.cli import quantum_learning_command as cli

    assert cli.QBM_MODEL_CHOICES == qbm.QBM_MODELS
    assert cli.MAX_QBM_VISIBLE == qbm.MAX_EXACT_VISIBLE
