"""A 2D energy-based model trained by short-run Langevin: log Z by quadrature checked on an energy
with a known integral, KL >= 0 consistent with the log-likelihoods, long-run samples at the
model's exact mean energy (short-run ones not), bit-identical resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn.dynamics import ebm as ebm_module
from thermolearn.dynamics.ebm import BOX, log_partition, train_ebm

SMALL = dict(
    iterations=120, hidden=16, batch_size=64, langevin_steps=10, eval_every=60, long_steps=600, n_samples=400, seed=1
)


@pytest.fixture(scope="module")
def trained():
    return train_ebm("gaussians", **SMALL)


def test_log_partition_of_a_known_energy():
    rng = np.random.default_rng(0)
    h = 8
    params = {
        "W1": rng.normal(size=(2, h)).astype(np.float32),
        "b1": np.zeros(h, np.float32),
        "W2": rng.normal(size=(h, h)).astype(np.float32),
        "b2": np.zeros(h, np.float32),
        "W3": np.zeros((h, 1), np.float32),
        "b3": np.array([0.7], np.float32),
    }  # E = 0.7 everywhere: Z = area of the box times e^-0.7
    assert log_partition(params) == pytest.approx(math.log((2 * BOX) ** 2) - 0.7, abs=1e-5)


def test_training_improves_and_kl_is_consistent(trained):
    h = trained.history
    assert np.all(h["kl"] >= 0)
    # KL(data || model) = <log p_data> - <log p_model> up to the test set's sampling error
    assert trained.data_log_likelihood > h["test_log_likelihood"][-1]
    assert h["kl"][-1] < h["kl"][0]
    assert trained.density.sum() * (trained.grid[1] - trained.grid[0]) ** 2 == pytest.approx(1.0, rel=0.02)


def test_long_run_samples_reach_the_model_short_run_do_not(trained):
    s = trained.sampling
    long, short = s["long_run"], s["short_run"]
    assert abs(long["gap"]) < 4 * long["stderr"] + 0.02 * s["model"]["sd_energy"]  # ULA's O(eta) bias allowed
    assert short["gap"] > 4 * short["stderr"]  # 10 steps from noise: still hot


def test_resume_is_bit_identical(tmp_path, monkeypatch, trained):
    real_save = ebm_module.save_ebm_checkpoint

    def save_then_die(*args):
        real_save(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(ebm_module, "save_ebm_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_ebm("gaussians", checkpoint=tmp_path / "ck.npz", **SMALL)
    monkeypatch.setattr(ebm_module, "save_ebm_checkpoint", real_save)
    resumed = train_ebm("gaussians", checkpoint=tmp_path / "ck.npz", **SMALL)
    assert resumed.resumed_from == 60
    for k in trained.params:
        np.testing.assert_array_equal(resumed.params[k], trained.params[k])
    np.testing.assert_array_equal(resumed.history["kl"], trained.history["kl"])
    with pytest.raises(ValueError, match="larger than the data"):
        train_ebm("gaussians", batch_size=500, n_train=100)
