"""The RBM-as-RG experiment (runs.rbm_rg.rbm_renormalisation): its record, the pseudo-likelihood fit
against the known coupling of the sampled model, exact free energies, bit-identical resumes of
killed training, refused checkpoints and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import thermolearn.runs.rbm_rg as rr
from thermolearn.exact.kaufman import kaufman
from thermolearn.file_contents import FileContents
from thermolearn.rg.critical_sampling import critical_coupling, sample_configurations
from thermolearn.runs.rbm_rg import rbm_renormalisation
from thermolearn.storage import save_arrays

TINY = dict(levels=1, n_samples=700, epochs=3, batch_size=50, seed=2, progress=False)
TWO = dict(levels=2, b=2, n_samples=1440, epochs=2, batch_size=80, seed=1, progress=False)


@pytest.fixture(scope="module")
def tiny():
    return rbm_renormalisation(8, **TINY)


def test_the_record_is_json_and_holds_every_layer_and_verdict(tiny):
    record = tiny.as_dict()
    text = json.dumps(record, allow_nan=False)
    assert json.loads(text) == record
    assert record["layer_sizes"] == [64, 16]
    (layer,) = record["layers"]
    assert layer["n_visible"] == 64 and layer["n_hidden"] == 16 and layer["side"] == 4
    for mapping in ("rbm", "block"):
        for name in rr.ENSEMBLES:
            fit = layer[mapping][name]
            assert set(fit) >= {"coupling", "stderr", "log_z_per_spin_nn_model", "log_z_per_spin_fitted_model"}
        assert set(layer[mapping]["rate"]) == {
            "level",
            "difference",
            "difference_stderr",
            "mean",
            "stderr",
            "direction_as_rg",
            "rate_as_rg",
        }
    assert set(record["verdict"]) >= {
        "receptive_fields_local",
        "receptive_fields_block_like",
        "rbm_direction_as_rg",
        "rbm_rate_as_rg",
        "rbm_is_rg",
    }
    assert all(isinstance(v, bool) for k, v in record["verdict"].items() if k.startswith(("rbm_", "block_", "recep")))
    assert len(tiny.fields) == 1 and tiny.fields[0].shape == (64, 16)


def test_block_spin_locality_is_one_and_the_baseline_is_the_block_over_the_lattice(tiny):
    loc = tiny.as_dict()["layers"][0]["locality"]
    assert loc["block_spin"] == 1.0
    assert loc["uniform_baseline"] == 4 / 64
    assert 0.0 < loc["min"] <= loc["mean"] <= loc["max"] <= 1.0
    assert loc["mean"] <= loc["mean_window_2b"] <= 1.0  # the 2b x 2b window holds the b x b one


def test_the_visible_free_energy_is_kaufmans_and_the_nn_model_free_energy_is_kaufman_at_the_fitted_coupling(tiny):
    record = tiny.as_dict()
    k_c = critical_coupling(2)
    for name, k in record["couplings"].items():
        assert record["visible"][name]["exact_log_z_per_spin"] == kaufman(8, 1.0 / k).log_z / 64
    assert record["couplings"]["critical"] == k_c
    assert record["couplings"]["above"] == pytest.approx(k_c * 1.05)
    fit = record["layers"][0]["block"]["critical"]
    assert fit["log_z_per_spin_nn_model"] == pytest.approx(kaufman(4, 1.0 / fit["coupling"]).log_z / 16, rel=1e-12)
    # the full fitted model's ln Z / N includes every pair and the fields, so at least the
    # nn model's when the fit's extra couplings are ferromagnetic: not asserted; both finite
    assert math.isfinite(fit["log_z_per_spin_fitted_model"])


def test_the_flow_rate_is_the_ratio_of_coupling_differences(tiny):
    record = tiny.as_dict()
    k = record["couplings"]
    for mapping in ("rbm", "block"):
        layer = record["layers"][0][mapping]
        diff = layer["above"]["coupling"] - layer["below"]["coupling"]
        assert layer["rate"]["difference"] == pytest.approx(diff, rel=1e-12)
        assert layer["rate"]["mean"] == pytest.approx(diff / (k["above"] - k["below"]), rel=1e-12)


def test_pseudo_likelihood_recovers_the_sampled_nearest_neighbour_coupling():
    # the visible layer's fit is the experiment's check of its estimator: 64 spins, 40 samples each
    k = critical_coupling(2) * 0.9
    spins = sample_configurations(8, k, 2560, sweeps_between=5, seed=4).reshape(2560, -1)
    fit = rr._fit(spins, 8)
    assert fit["converged"]
    # the bond-spread error, and the overfitting bias of ~n / M = 2.5% the docstring states
    assert abs(fit["coupling"] - k) <= 3.0 * fit["stderr"] + 0.025 * k


class Killed(Exception):
    pass


def _kill_after(monkeypatch, saves: int) -> None:
    original = rr._save
    count = [0]

    def save(*args, **kwargs):
        original(*args, **kwargs)
        count[0] += 1
        if count[0] == saves:
            raise Killed

    monkeypatch.setattr(rr, "_save", save)


@pytest.fixture(scope="module")
def two_levels():
    return rbm_renormalisation(12, **TWO)


@pytest.mark.parametrize("saves", [1, 2, 4])  # mid layer 1, between the layers, trained
def test_a_killed_training_resumes_bit_identical(tmp_path, monkeypatch, two_levels, saves):
    path = tmp_path / "rbm-rg.npz"
    _kill_after(monkeypatch, saves)
    with pytest.raises(Killed):
        rbm_renormalisation(12, checkpoint=path, checkpoint_every=1, **TWO)
    monkeypatch.undo()
    resumed = rbm_renormalisation(12, checkpoint=path, checkpoint_every=1, **TWO)
    for a, b in zip(resumed.models, two_levels.models):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.hidden_bias, b.hidden_bias)
    assert json.dumps(resumed.as_dict()) == json.dumps(two_levels.as_dict())


@pytest.fixture(scope="module")
def killed_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("killed") / "rbm-rg.npz"
    with pytest.MonkeyPatch.context() as mp:
        _kill_after(mp, 3)
        with pytest.raises(Killed):
            rbm_renormalisation(12, checkpoint=path, checkpoint_every=1, **TWO)
    return FileContents.read(path)


@pytest.fixture()
def saved(tmp_path, killed_checkpoint):
    contents = killed_checkpoint
    return tmp_path / "rbm-rg.npz", dict(contents.arrays), json.loads(json.dumps(contents.header))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, h: a.__setitem__("layer1_weights", a["layer1_weights"][:-1]), "layer1_weights' must have shape"),
        (lambda a, h: a.__setitem__("current_weights", a["current_weights"] * np.nan), "NaN"),
        (lambda a, h: a.pop("velocity_hidden_bias"), "missing array"),
        (lambda a, h: h["progress"].__setitem__("layer", 7), "layer"),
        (lambda a, h: h["progress"].__setitem__("epoch", -1), "epoch"),
        (lambda a, h: h["progress"].__setitem__("epoch", 2), "epoch"),
        (lambda a, h: h["progress"].update(layer=3, epoch=1), "epoch' must be 0 once all 2 layers"),
        (lambda a, h: h["run"].__setitem__("seed", 99), "different run"),
    ],
)
def test_a_crafted_checkpoint_is_refused(saved, change, message):
    path, arrays, header = saved
    change(arrays, header)
    save_arrays(path, arrays, header)
    with pytest.raises(ValueError, match=message):
        rbm_renormalisation(12, checkpoint=path, checkpoint_every=1, **TWO)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=10, b=4), r"block size b = 4 does not divide the lattice side 10"),
        (dict(size=8, levels=2), r"leaves a 2 x 2 lattice"),
        (dict(size=8, n_samples=100), r"n_samples = 100 is too few .* need at least 640"),
        (dict(size=8, delta=1.5), r"delta must be in \(0, 1\)"),
        (dict(size=8, batch_size=5000), r"batch_size \(5000\) must be at most n_samples"),
        (dict(size=8, momentum=1.0), r"momentum must be in \[0, 1\)"),
        (dict(size=8, l1_penalty=-1.0), r"l1_penalty must be >= 0"),
        (dict(size=8, sampler="metropolis"), r"sampler must be one of sw, wolff"),
        (dict(size=8, checkpoint_every=0), r"checkpoint_every"),
    ],
)
def test_bad_input_is_refused_before_any_work(kwargs, message):
    args = {**TINY, **kwargs}
    size = args.pop("size")
    with pytest.raises(ValueError, match=message):
        rbm_renormalisation(size, **args)
