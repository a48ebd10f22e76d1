"""RBM neural quantum states and VMC, each piece against an exact answer.

Local energies against the dense Hamiltonian, log-derivatives against automatic differentiation,
Metropolis samples against |psi|^2 (chi-square, with a negative control), the sampled energy and
gradient against the full sum over 2^N states (within their error bars), VMC against exact
diagonalisation, and a checkpointed run resumed bit for bit.
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from thermolearn.models.ising import Ising
from thermolearn.quantum import nqs, vmc
from thermolearn.quantum.hamiltonian import dense_hamiltonian, spin_table, transverse_chain

ANSATZE = [
    ("real", False),
    ("complex", False),
    ("real", True),
    ("complex", True),
]


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _random_model(n: int, seed: int) -> tuple[Ising, np.ndarray]:
    rng = np.random.default_rng(seed)
    j = np.triu(rng.normal(0, 1, (n, n)), 1)
    return Ising.from_dense(j + j.T, rng.normal(0, 0.5, n)), rng.uniform(0.2, 1.5, n)


def _theta(ansatz: nqs.RBMWaveFunction, seed: int, scale: float = 0.3) -> jax.Array:
    return ansatz.init(jax.random.key(seed), scale)


@pytest.mark.parametrize(("parameters", "symmetric"), ANSATZE)
def test_local_energy_is_h_psi_over_psi_from_the_dense_hamiltonian(parameters, symmetric):
    n = 6
    ising, gamma = _random_model(n, 1)
    ansatz = nqs.RBMWaveFunction(n, 2, parameters, symmetric)
    theta = _theta(ansatz, 2)
    states = jnp.asarray(spin_table(n))
    psi = np.exp(np.asarray(ansatz.log_psi(theta, states)))
    h_psi = dense_hamiltonian(ising, gamma) @ psi
    e_loc = np.asarray(nqs.local_energies(ansatz, theta, nqs.transverse_ising(ising, gamma), states))
    np.testing.assert_allclose(e_loc, h_psi / psi, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("parameters", "symmetric"), ANSATZE)
def test_log_derivatives_equal_automatic_differentiation(parameters, symmetric):
    n = 5
    ansatz = nqs.RBMWaveFunction(n, 3, parameters, symmetric)
    theta = _theta(ansatz, 3)
    states = jnp.asarray(spin_table(n)[::3])

    def part(fn):
        return jax.jit(jax.vmap(jax.grad(lambda t, s: fn(ansatz.log_psi(t, s[None])[0])), in_axes=(None, 0)))(
            theta, states
        )

    reference = part(jnp.real) + 1j * part(jnp.imag)
    np.testing.assert_allclose(np.asarray(ansatz.log_derivatives(theta, states)), reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("parameters", "symmetric"), ANSATZE)
def test_flip_ratios_equal_differences_of_ln_psi_even_for_large_weights(parameters, symmetric):
    n = 5
    ansatz = nqs.RBMWaveFunction(n, 2, parameters, symmetric)
    theta = _theta(ansatz, 9, scale=4.0)  # |theta_j| of tens: the regime where cancellation would show
    states = jnp.asarray(spin_table(n))
    base = ansatz.log_psi(theta, states)
    flipped = np.stack(
        [np.asarray(ansatz.log_psi(theta, states.at[:, i].multiply(-1)) - base) for i in range(n)], axis=1
    )
    got = np.asarray(ansatz.flip_log_ratios(theta, states))
    np.testing.assert_allclose(got.real, flipped.real, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.exp(1j * got.imag), np.exp(1j * flipped.imag), atol=1e-8)  # phases mod 2 pi


@pytest.mark.parametrize("parameters", ["real", "complex"])
def test_symmetric_rbm_is_invariant_under_translations(parameters):
    n = 7
    ansatz = nqs.RBMWaveFunction(n, 2, parameters, symmetric=True)
    theta = _theta(ansatz, 4, scale=0.5)
    states = jnp.asarray(spin_table(n))
    base = np.asarray(ansatz.log_psi(theta, states))
    for shift in (1, 3):
        np.testing.assert_allclose(np.asarray(ansatz.log_psi(theta, jnp.roll(states, shift, axis=1))), base, atol=1e-12)
    plain = nqs.RBMWaveFunction(n, 2, parameters)  # the negative control: a plain RBM is not invariant
    moved = np.asarray(plain.log_psi(_theta(plain, 4, 0.5), jnp.roll(states, 1, axis=1)))
    assert np.max(np.abs(moved - np.asarray(plain.log_psi(_theta(plain, 4, 0.5), states)))) > 1e-2


def _chi_square(samples: np.ndarray, probabilities: np.ndarray) -> float:
    n = samples.shape[1]
    index = ((1 - samples.astype(np.int64)) // 2) @ (1 << np.arange(n))
    counts = np.bincount(index, minlength=2**n).astype(float)
    expected = probabilities * counts.sum()
    small = expected < 5  # pooled, so every cell of the test has an expected count >= 5
    if np.any(small):
        counts = np.append(counts[~small], counts[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    return float(stats.chisquare(counts, expected).pvalue)


def test_metropolis_samples_psi_squared_chi_square_with_negative_control():
    n = 4
    ansatz = nqs.RBMWaveFunction(n, 2, "complex")
    theta = _theta(ansatz, 5, scale=0.15)
    log_psi = np.asarray(ansatz.log_psi(theta, jnp.asarray(spin_table(n))))
    p = np.exp(2 * log_psi.real)
    p /= p.sum()
    chains = jnp.asarray(spin_table(n)[np.arange(4000) % 2**n])
    # one sample per chain after 30 sweeps: independent draws, so the chi-square test is exact
    samples, _, acceptance = vmc.metropolis_sweeps(ansatz, theta, chains, jax.random.key(6), 30, 1)
    samples = np.asarray(samples[0])
    assert 0.05 < float(acceptance) < 0.95
    assert _chi_square(samples, p) > 1e-3
    wrong = np.sqrt(p) / np.sum(np.sqrt(p))  # |psi| instead of |psi|^2
    assert _chi_square(samples, wrong) < 1e-6


def test_sampled_energy_and_gradient_agree_with_the_full_sum_within_error_bars():
    n = 6
    h = nqs.chain(n, 0.8)
    ansatz = nqs.RBMWaveFunction(n, 1, "real")
    theta = _theta(ansatz, 7, scale=0.2)
    states = jnp.asarray(spin_table(n), dtype=jnp.float64)
    weights = jax.nn.softmax(2 * ansatz.log_psi(theta, states))
    exact = vmc.energy_and_gradient(ansatz, theta, h, states, weights)
    chains = jnp.asarray(spin_table(n)[np.arange(3000) % 2**n])
    draws, _, _ = vmc.metropolis_sweeps(ansatz, theta, chains, jax.random.key(8), 20, 1)
    sample = jnp.asarray(draws[0], dtype=jnp.float64)
    m = sample.shape[0]
    est = vmc.energy_and_gradient(ansatz, theta, h, sample, jnp.full(m, 1.0 / m))
    e_err = math.sqrt(float(est["variance"]) / m)
    assert abs(float(est["energy"]) - float(exact["energy"])) < 4 * e_err
    # the force's per-sample terms 2 dO_k dE: their spread over sqrt(m) is each component's error bar
    e_loc = np.asarray(est["e_loc"]).real
    o = np.asarray(ansatz.log_derivatives(theta, sample)).real
    terms = 2 * (o - o.mean(0)) * (e_loc - e_loc.mean())[:, None]
    f_err = terms.std(0, ddof=1) / math.sqrt(m)
    z = (np.asarray(est["force"]) - np.asarray(exact["force"])) / f_err
    assert np.max(np.abs(z)) < 4.5  # 62 components: a 4.5-sigma bound fails by chance with p ~ 4e-4
    assert np.max(np.abs(np.asarray(exact["force"]))) > 10 * np.max(f_err)  # the comparison has power


@pytest.mark.parametrize(("parameters", "symmetric"), [("real", True), ("complex", False)])
def test_full_summation_vmc_reaches_the_exact_ground_energy(parameters, symmetric):
    n = 6
    ising, gamma = transverse_chain(n, 1.0)
    exact = float(np.linalg.eigvalsh(dense_hamiltonian(ising, gamma))[0])
    ansatz = nqs.RBMWaveFunction(n, 2, parameters, symmetric)
    result = vmc.run_vmc(nqs.chain(n, 1.0), ansatz, iterations=120, full_summation=True, seed=1)
    assert result.energy[-1] >= exact - 1e-9  # variational: never below the ground state
    assert (result.energy[-1] - exact) / abs(exact) < 2e-4
    assert result.energy[-1] < result.energy[0] - 0.5


def test_sampled_vmc_converges_to_the_exact_ground_energy_within_error_bars():
    n = 8
    ising, gamma = transverse_chain(n, 1.0)
    exact = float(np.linalg.eigvalsh(dense_hamiltonian(ising, gamma))[0])
    result = vmc.run_vmc(
        nqs.chain(n, 1.0), nqs.RBMWaveFunction(n, 1), iterations=100, n_samples=512, n_chains=16, seed=2
    )
    mean, err = result.final_energy()
    assert mean > exact - 4 * err  # variational, up to the noise
    assert (mean - exact) / abs(exact) < 3e-3
    assert 0 < err < 0.05


def test_checkpointed_vmc_resumes_bit_identically(tmp_path, monkeypatch):
    kw = dict(iterations=12, n_samples=64, n_chains=8, seed=3, momentum=0.5, checkpoint_every=4)
    h, ansatz = nqs.chain(6, 1.0), nqs.RBMWaveFunction(6, 1, "complex")
    straight = vmc.run_vmc(h, ansatz, **kw)
    path = tmp_path / "ck.npz"
    original = vmc._save_checkpoint

    def stop_after_8(path_, args, done, *rest):
        original(path_, args, done, *rest)
        if done == 8:
            raise KeyboardInterrupt

    monkeypatch.setattr(vmc, "_save_checkpoint", stop_after_8)
    with pytest.raises(KeyboardInterrupt):
        vmc.run_vmc(h, ansatz, checkpoint=path, **kw)
    monkeypatch.setattr(vmc, "_save_checkpoint", original)
    resumed = vmc.run_vmc(h, ansatz, checkpoint=path, **kw)
    assert resumed.resumed_from == 8
    assert resumed.theta.tobytes() == straight.theta.tobytes()
    assert resumed.chains.tobytes() == straight.chains.tobytes()
    assert resumed.energy.tobytes() == straight.energy.tobytes()
    with pytest.raises(ValueError, match="different VMC arguments"):
        vmc.run_vmc(h, ansatz, checkpoint=path, **{**kw, "seed": 4})


def test_a_crafted_vmc_checkpoint_is_refused(tmp_path):
    from thermolearn.storage import load_arrays, save_arrays

    kw = dict(iterations=4, n_samples=16, n_chains=4, seed=0, checkpoint_every=2)
    h, ansatz = nqs.chain(5, 1.0), nqs.RBMWaveFunction(5, 1)
    path = tmp_path / "ck.npz"
    vmc.run_vmc(h, ansatz, checkpoint=path, **{**kw, "iterations": 2})
    arrays, header = load_arrays(path)
    header["checkpoint"]["args"]["iterations"] = 4
    arrays["vmc:chains"] = np.zeros_like(arrays["vmc:chains"])
    for name in ("energy", "energy_imag", "variance", "stderr", "acceptance", "seconds"):
        arrays[f"vmc:history:{name}"] = np.concatenate([arrays[f"vmc:history:{name}"], [np.nan, np.nan]])
    save_arrays(path, arrays, header)
    with pytest.raises(ValueError, match="vmc:chains"):
        vmc.run_vmc(h, ansatz, checkpoint=path, **kw)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"n_samples": 100, "n_chains": 16}, "multiple of n_chains"),
        ({"full_summation": True, "n": 17}, "N <= 16"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"diag_shift": 0.0}, "diag_shift"),
        ({"diag_shift_decay": 1.5}, "diag_shift_decay"),
        ({"solver": "qr"}, "solver"),
        ({"momentum": 1.0}, "momentum"),
    ],
)
def test_bad_vmc_arguments_are_refused_with_what_is_allowed(kw, message):
    kw = dict(kw)
    n = kw.pop("n", 5)
    with pytest.raises((ValueError, TypeError), match=message):
        vmc.run_vmc(nqs.chain(n, 1.0), nqs.RBMWaveFunction(n, 1), iterations=1, **kw)


def test_bad_ansatz_and_hamiltonian_arguments_are_refused():
    with pytest.raises(ValueError, match="alpha"):
        nqs.RBMWaveFunction(4, 0)
    with pytest.raises(ValueError, match="parameters"):
        nqs.RBMWaveFunction(4, 1, "quaternion")
    with pytest.raises(ValueError, match="finite"):
        nqs.chain(4, float("nan"))
    with pytest.raises(ValueError, match=">= 0"):
        nqs.chain(4, -1.0)
    with pytest.raises(TypeError, match="complex"):
        nqs.chain(4, 1 + 1j)
    with pytest.raises(ValueError, match="spins"):
        vmc.run_vmc(nqs.chain(5, 1.0), nqs.RBMWaveFunction(6, 1), iterations=1)


# ---------------------------------------------------------------------------------- command line
def test_vmc_command_writes_the_json_contract_and_a_plot(tmp_path, capsys):
    from thermolearn.cli.main import main
    from thermolearn.quantum.free_fermions import chain_ground_energy

    out, plot = tmp_path / "v.json", tmp_path / "v.png"
    argv = ["quantum", "vmc", "--chain", "6", "--field", "1", "--alpha", "1", "--iterations", "40"]
    argv += ["--samples", "128", "--seed", "3", "--json", str(out), "--plot", str(plot), "--no-progress"]
    assert main(argv) == 0
    record = json.loads(out.read_text())
    exact = chain_ground_energy(6, 1.0)
    assert record["exact_energy"] == pytest.approx(exact, rel=1e-12)
    mean, err = record["energy"]["mean"], record["energy"]["stderr"]
    tail = record["energy_per_iteration"][-4:]  # the last tenth of 40
    assert mean == pytest.approx(np.mean(tail), rel=1e-12) and err > 0
    assert record["relative_error"] == pytest.approx(abs(mean - exact) / abs(exact), rel=1e-12)
    assert record["seconds_per_iteration"] > 0 and len(record["energy_per_iteration"]) == 40
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "exact (free fermions)" in capsys.readouterr().out


def test_vmc_command_resumes_from_its_checkpoint_to_the_same_record(tmp_path, monkeypatch):
    from thermolearn.cli.main import main

    argv = ["quantum", "vmc", "--chain", "5", "--iterations", "12", "--samples", "32", "--chains", "4"]
    argv += ["--checkpoint-every", "4", "--no-progress", "--seed", "1"]
    assert main([*argv, "--json", str(tmp_path / "a.json")]) == 0
    ck = str(tmp_path / "ck.npz")
    original = vmc._save_checkpoint

    def interrupted_after_8(path, args, done, *rest):
        original(path, args, done, *rest)
        if done == 8:
            raise KeyboardInterrupt

    monkeypatch.setattr(vmc, "_save_checkpoint", interrupted_after_8)
    assert main([*argv, "--checkpoint", ck, "--json", str(tmp_path / "b.json")]) == 130
    monkeypatch.setattr(vmc, "_save_checkpoint", original)
    assert main([*argv, "--checkpoint", ck, "--json", str(tmp_path / "b.json")]) == 0
    assert main([*argv, "--checkpoint", ck, "--json", str(tmp_path / "c.json")]) == 0  # finished: no work
    records = [json.loads((tmp_path / f"{x}.json").read_text()) for x in "abc"]
    for r in records[1:]:
        assert r["energy_per_iteration"] == records[0]["energy_per_iteration"]
        assert r["energy"] == records[0]["energy"]
    assert (records[1]["resumed_from"], records[2]["resumed_from"]) == (8, 12)
    other = [a if a != "12" else "16" for a in argv]  # another run length: refused, the file is kept
    assert main([*other, "--checkpoint", ck]) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--chain", "6", "--samples", "100"], "multiple of --chains"),
        (["--chain", "17", "--full-summation"], "N <= 16"),
        (["--chain", "6", "--symmetric", "--open"], "periodic"),
        (["--chain", "2"], "at least 3"),
        (["--chain", "6", "--alpha", "0"], "--alpha"),
        (["--chain", "6", "--field", "nan"], "--field"),
        (["--chain", "6", "--field", "-1"], "--field"),
        (["--chain", "6", "--diag-shift-decay", "2"], "--diag-shift-decay"),
        (["--chain", "6", "--json", "out.txt"], ".json"),
    ],
)
def test_bad_vmc_command_input_is_one_line_and_exit_2(extra, message, capsys):
    from thermolearn.cli.main import main

    assert main(["quantum", "vmc", "--iterations", "1", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_run_whose_chains_stopped_is_flagged():
    h, ansatz = nqs.chain(5, 1.0), nqs.RBMWaveFunction(5, 1)
    result = vmc.run_vmc(h, ansatz, iterations=10, n_samples=32, n_chains=4, seed=0)
    assert not result.chains_stuck and result.acceptance[-1] > 0.05
    result.acceptance[-1:] = 0.0  # what a collapsed psi gives: no flip accepted
    assert result.chains_stuck and result.as_dict()["chains_stuck"]


def test_conjugate_gradient_and_cholesky_solve_the_same_sr_system():
    rng = np.random.default_rng(11)
    o = jnp.asarray(rng.normal(size=(40, 25)) + 1j * rng.normal(size=(40, 25))) / math.sqrt(40)
    force = jnp.asarray(rng.normal(size=25))
    direct = np.asarray(vmc.sr_direction(o, force, jnp.asarray(1e-2), "direct"))
    cg = np.asarray(vmc.sr_direction(o, force, jnp.asarray(1e-2), "cg"))
    s = np.real(np.conj(np.asarray(o)).T @ np.asarray(o)) + 1e-2 * np.eye(25)
    np.testing.assert_allclose(s @ direct, np.asarray(force), atol=1e-10)
    np.testing.assert_allclose(cg, direct, rtol=1e-6, atol=1e-8)


def test_vmc_names_copied_into_the_cli_match_the_library():
    from thermolearn.cli import quantum_learning_command as cli

    assert cli.SOLVER_CHOICES == vmc.SR_SOLVERS
    assert cli.MAX_FULL_SUMMATION_SPINS == vmc.MAX_FULL_SUMMATION_SPINS
