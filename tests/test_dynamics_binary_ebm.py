"""A binary-image EBM trained by short-run MCMC: AIS log Z against exact enumeration, the
Metropolis-adjusted discrete Langevin sampler against the exact distribution, training that beats
independent pixels, bit-identical resume, and the parameter count matched to the RBM's."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from thermolearn.dynamics import binary_ebm as module
from thermolearn.dynamics.binary_ebm import (
    binary_ebm_energy,
    binary_ebm_exact_log_partition,
    binary_ebm_log_partition,
    binary_ebm_parameter_count,
    matched_rbm_hidden,
    rbm_parameter_count,
    train_binary_ebm,
)

# the CLI test reuses the library test's compiled training program: keep them on one worker
pytestmark = pytest.mark.xdist_group("binary-ebm")


def _tiny(n: int, h: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W": rng.normal(0, 0.8, (n, h)),
        "c": rng.normal(0, 0.5, h),
        "a": rng.normal(0, 1, h),
        "b": rng.normal(0, 0.5, n),
    }


def _states(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(np.float64)


def test_ais_log_z_matches_exact_enumeration():
    params = _tiny(12, 6)
    exact = binary_ebm_exact_log_partition(params)
    z = binary_ebm_log_partition(params, base_logits=np.full(12, 0.3), schedule=300, n_runs=200, seed=1)
    # each weight is unbiased for Z / Z_0: log of their mean is off by its delta-method error
    # (and by a Jensen bias of order stderr^2 / 2, far smaller)
    assert abs(z.log_z - exact) < 4 * z.log_z_stderr
    assert z.log_z_stderr < 0.05  # a real check: 300 sweeps anneal this model well
    with pytest.raises(ValueError, match="above the limit"):
        binary_ebm_exact_log_partition(_tiny(21, 2))


def test_discrete_langevin_samples_the_exact_distribution():
    import jax
    import jax.numpy as jnp

    n = 6
    params = _tiny(n, 4, seed=2)
    log_p = -binary_ebm_energy(params, _states(n))
    p = np.exp(log_p - np.logaddexp.reduce(log_p))
    jp = {k: jnp.asarray(v, dtype=jnp.float32) for k, v in params.items()}
    chains, steps = 2000, 60
    x0 = jnp.zeros((chains, n), dtype=jnp.float32)  # far from equilibrium: the chains must get there

    @jax.jit
    def run(x, key):
        def body(x, k):
            x, acc = module._langevin_step(jp, x, k, 0.5)
            return x, acc.mean()

        return jax.lax.scan(body, x, jax.random.split(key, steps))

    x, acc = run(x0, jax.random.key(0))
    assert 0.2 < float(acc[-10:].mean()) < 1.0  # the proposal moves and the correction acts
    index = np.asarray(x, dtype=np.int64) @ (1 << np.arange(n))
    counts = np.bincount(index, minlength=2**n)
    # chi-square against the exact law, independent chains: 63 degrees of freedom (mean 63, sd 11)
    chi2 = float(np.sum((counts - chains * p) ** 2 / (chains * p)))
    assert chi2 < 63 + 4 * math.sqrt(2 * 63)


def test_parameter_counts_match_the_rbm():
    assert binary_ebm_parameter_count(64, 64) == 4288
    assert matched_rbm_hidden(64, 64) == 65 and rbm_parameter_count(64, 65) == 4289
    assert rbm_parameter_count(64, matched_rbm_hidden(64, 65)) == binary_ebm_parameter_count(64, 65)


SMALL = dict(iterations=200, hidden=16, batch_size=50, eval_every=100, ais_schedule=200, ais_runs=50, seed=3)


def test_training_beats_independent_pixels_and_resumes(tmp_path, monkeypatch):
    from thermolearn.estimators.ais import base_rate_visible_bias

    train, test = module.digits_binary()
    whole = train_binary_ebm(train, test, lr=1e-2, **SMALL)
    base = base_rate_visible_bias(train)
    independent = float(np.mean(test @ base - np.logaddexp(0.0, base).sum()))
    assert whole.test_log_likelihood > independent + 5 * whole.test_log_likelihood_stderr
    assert whole.parameter_count == binary_ebm_parameter_count(64, 16)
    real_save = module.save_ebm_checkpoint

    def save_then_die(*args):
        real_save(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "save_ebm_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_binary_ebm(train, test, lr=1e-2, checkpoint=tmp_path / "ck.npz", **SMALL)
    monkeypatch.setattr(module, "save_ebm_checkpoint", real_save)
    resumed = train_binary_ebm(train, test, lr=1e-2, checkpoint=tmp_path / "ck.npz", **SMALL)
    assert resumed.resumed_from == 100
    for k in whole.params:
        np.testing.assert_array_equal(resumed.params[k], whole.params[k])
    assert resumed.test_log_likelihood == whole.test_log_likelihood
    with pytest.raises(ValueError, match="must be binary"):
        train_binary_ebm(train * 2, test)
    with pytest.raises(ValueError, match="larger than the data"):
        train_binary_ebm(train[:10], test)


def test_cli_digits_compares_with_the_rbm_at_equal_parameters(tmp_path, capsys):
    from thermolearn.cli.main import main

    out, png = tmp_path / "out.json", tmp_path / "d.png"
    argv = ["dynamics", "ebm", "--data", "digits", "--iterations", "200", "--hidden", "16", "--batch", "50"]
    argv += ["--eval-every", "100", "--ais-steps", "200", "--ais-runs", "50", "--lr", "0.01", "--seed", "3"]
    assert main([*argv, "--json", str(out), "--plot", str(png), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    ebm, rbm = record["ebm"], record["rbm"]
    assert record["dataset"] == "digits" and ebm["sampler"] == "gibbs"
    assert abs(ebm["parameters"] - rbm["parameters"]) <= 65 // 2  # the nearest RBM size: within half a unit
    assert (ebm["parameters"], rbm["hidden"]) == (binary_ebm_parameter_count(64, 16), matched_rbm_hidden(64, 16))
    assert abs(rbm["updates"] - 200) <= 29 // 2 and rbm["ais"]["steps"] == ebm["ais"]["steps"] == 200
    for m in (ebm, rbm):
        assert m["test_log_likelihood"]["stderr"] > 0
        assert m["test_log_likelihood"]["mean"] > record["independent_pixels_test_log_likelihood"] - 3.0
    diff = record["difference_ebm_minus_rbm"]["mean"]
    assert diff == pytest.approx(ebm["test_log_likelihood"]["mean"] - rbm["test_log_likelihood"]["mean"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "EBM - RBM" in capsys.readouterr().out
    for bad, message in (
        (["--long-steps", "10"], "2D toys only"),
        (["--langevin-step", "0.1"], "--sampler langevin only"),
    ):
        assert main(["dynamics", "ebm", "--data", "digits", *bad, "--json", str(tmp_path / "x.json")]) == 2
        assert message in capsys.readouterr().err
    assert main(["dynamics", "ebm", "--sampler", "gibbs", "--json", str(tmp_path / "x.json")]) == 2
    assert "--data digits only" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
