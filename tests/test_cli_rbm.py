"""``thermolearn rbm train|sample|loglik|repair`` on the digits: outputs, JSON shapes, exactness, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermolearn.cli.main import main
from thermolearn.datasets.binary_images import load_binary_images
from thermolearn.datasets.damage import damage_mask
from thermolearn.exact.rbm_partition import rbm_log_partition
from thermolearn.models.rbm import RBM

# every test here reads one module-scoped run: under pytest -n 2 --dist loadgroup they all go to
# one worker, which makes that run once (each worker made its own: 2 x 48 s)
pytestmark = pytest.mark.xdist_group("cli-rbm")


# session scope: other modules' tests may run between this module's on its worker, and a
# module-scoped fixture would train again
@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rbm")
    model = folder / "m.npz"
    code = main(
        [
            "rbm",
            "train",
            "--data",
            "digits",
            "--hidden",
            "12",
            "--method",
            "cd",
            "--epochs",
            "6",
            "--batch-size",
            "20",
            "--learning-rate",
            "0.1",
            "--seed",
            "3",
            "--save",
            str(model),
            "--json",
            str(folder / "train.json"),
            "--plot",
            str(folder / "filters.png"),
            "--no-progress",
        ]
    )
    assert code == 0
    return folder, model


def test_train_writes_model_history_and_plots(trained):
    folder, model = trained
    history = json.loads((folder / "train.json").read_text())
    ll = history["history"]["log_likelihood"]
    assert len(ll) == 6 and all(np.isfinite(ll))
    assert ll[-1] > ll[0]  # training raises the exact log-likelihood of the training images
    assert history["data"]["image_shape"] == [8, 8] and history["training"]["method"] == "cd"
    import jax

    # auto: the sparse engine for CD when JAX computes on the CPU (the CLI trains in float32)
    assert history["training"]["engine"] == ("sparse" if jax.default_backend() == "cpu" else "jax")
    rbm = RBM.load(model)
    assert (rbm.n_visible, rbm.n_hidden) == (64, 12)
    assert (folder / "filters.png").stat().st_size > 1000 and (folder / "filters_training.png").stat().st_size > 1000


def test_loglik_exact_matches_the_direct_sum(trained, capsys):
    folder, model = trained
    out = folder / "ll.json"
    assert main(["rbm", "loglik", str(model), "--split", "test", "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    assert set(got) >= {"method", "log_z", "log_likelihood", "n_images"}
    assert got["method"] == "exact" and got["n_images"] == 300
    rbm = RBM.load(model)
    log_z = rbm_log_partition(rbm.weights, rbm.visible_bias, rbm.hidden_bias)
    test = load_binary_images("digits", split="test").data
    expected = float(np.mean(-rbm.free_energy(test)) - log_z)
    assert got["log_z"]["mean"] == pytest.approx(log_z, abs=1e-9)
    assert got["log_likelihood"]["mean"] == pytest.approx(expected, abs=1e-6)


def test_loglik_ais_agrees_with_exact_within_its_error_bar(trained):
    folder, model = trained
    out = folder / "ais.json"
    assert (
        main(
            [
                "rbm",
                "loglik",
                str(model),
                "--method",
                "ais",
                "--schedule",
                "fast",
                "--runs",
                "50",
                "--seed",
                "1",
                "--json",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    got = json.loads(out.read_text())
    rbm = RBM.load(model)
    exact = rbm_log_partition(rbm.weights, rbm.visible_bias, rbm.hidden_bias)
    assert got["method"] == "ais"
    assert abs(got["log_z"]["mean"] - exact) < 4 * got["log_z"]["stderr"] + 1e-3


def test_sample_writes_binary_samples_and_a_grid(trained):
    folder, model = trained
    assert (
        main(
            [
                "rbm",
                "sample",
                str(model),
                "--n",
                "16",
                "--sweeps",
                "50",
                "--save",
                str(folder / "s.npz"),
                "--plot",
                str(folder / "s.png"),
            ]
        )
        == 0
    )
    data = np.load(folder / "s.npz")
    assert data["samples"].shape == (16, 64) and set(np.unique(data["samples"])) <= {0, 1}
    assert (folder / "s.png").stat().st_size > 1000


def test_repair_restores_masked_pixels_better_than_leaving_them_blank(trained):
    folder, model = trained
    out = folder / "repair.json"
    assert (
        main(
            [
                "rbm",
                "repair",
                str(model),
                "--images",
                "40",
                "--region",
                "bottom",
                "--sweeps",
                "100",
                "--json",
                str(out),
                "--plot",
                str(folder / "repair.png"),
            ]
        )
        == 0
    )
    got = json.loads(out.read_text())
    before, after = np.array(got["correct_before"]), np.array(got["correct_after"])
    # blank (0) pixels are right wherever the digit is off; the repair must beat that baseline
    diff = after - before
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff))
    fe = np.array(got["free_energy"])  # (images, records): the free energy falls from the damaged start
    assert np.mean(fe[:, -20:].mean(axis=1) < fe[:, 0]) > 0.9
    assert (folder / "repair.png").stat().st_size > 1000


def test_damage_masks_cover_the_asked_region():
    rng = np.random.default_rng(0)
    bottom = damage_mask(2, (4, 4), "bottom", 0.5, rng)
    assert bottom.shape == (2, 16) and bottom[:, 8:].all() and not bottom[:, :8].any()
    left = damage_mask(1, (4, 4), "left", 0.5, rng).reshape(4, 4)
    assert left[:, :2].all() and not left[:, 2:].any()
    rand = damage_mask(200, (8, 8), "random", 0.3, rng)
    assert abs(rand.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / rand.size)


def test_bad_input_is_one_line_and_exit_code_2(trained, tmp_path, capsys):
    folder, model = trained
    assert main(["rbm", "train", "--data", "no-such-data", "--hidden", "4", "--save", str(tmp_path / "x.npz")]) == 2
    assert "unknown data" in capsys.readouterr().err
    assert main(["rbm", "train", "--data", "digits", "--hidden", "4", "--save", str(tmp_path / "x.txt")]) == 2
    assert "must end in .npz" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    mnist_sized = tmp_path / "big.npz"
    RBM.random(784, 3).save(mnist_sized)
    assert main(["rbm", "repair", str(mnist_sized), "--data", "digits"]) == 2
    assert "visible units" in capsys.readouterr().err
    assert main(["rbm"]) == 2
    assert "give an action" in capsys.readouterr().err


def test_persistent_chains_train_without_momentum_unless_asked(tmp_path):
    out = tmp_path / "p.json"
    assert (
        main(
            [
                "rbm",
                "train",
                "--data",
                "digits",
                "--limit",
                "200",
                "--hidden",
                "4",
                "--method",
                "pcd",
                "--epochs",
                "1",
                "--save",
                str(tmp_path / "p.npz"),
                "--json",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["training"]["momentum"] == 0.0
    assert (
        main(
            [
                "rbm",
                "train",
                "--data",
                "digits",
                "--limit",
                "200",
                "--hidden",
                "4",
                "--method",
                "pcd",
                "--epochs",
                "1",
                "--momentum",
                "1",
                "--save",
                str(tmp_path / "q.npz"),
            ]
        )
        == 2
    )


def test_engine_is_chosen_on_the_command_line(tmp_path, capsys):
    common = ["rbm", "train", "--data", "digits", "--limit", "200", "--hidden", "4", "--epochs", "1", "--no-progress"]
    out = tmp_path / "j.json"
    assert main(common + ["--engine", "jax", "--save", str(tmp_path / "j.npz"), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["training"]["engine"] == "jax"
    assert "(jax engine)" in capsys.readouterr().out
    assert main(common + ["--method", "pt", "--engine", "sparse", "--save", str(tmp_path / "s.npz")]) == 2
    err = capsys.readouterr().err
    assert "method 'pt' needs engine='jax'" in err and not (tmp_path / "s.npz").exists()


def test_init_continues_a_saved_model(trained, tmp_path, capsys):
    folder, model = trained
    start = RBM.load(model)
    out, js = tmp_path / "more.npz", tmp_path / "more.json"
    assert (
        main(
            [
                "rbm",
                "train",
                "--data",
                "digits",
                "--init",
                str(model),
                "--method",
                "cd",
                "--epochs",
                "3",
                "--batch-size",
                "20",
                "--learning-rate",
                "0.1",
                "--learning-rate-schedule",
                "linear",
                "--momentum",
                "0",
                "--seed",
                "4",
                "--save",
                str(out),
                "--json",
                str(js),
                "--no-progress",
            ]
        )
        == 0
    )
    continued = RBM.load(out)
    assert continued.n_hidden == start.n_hidden == 12
    assert not np.array_equal(np.asarray(continued.weights), np.asarray(start.weights))
    history = json.loads(js.read_text())
    assert history["training"]["init"] == str(model)
    ll = history["history"]["log_likelihood"]
    # the first continued epoch starts from the trained model: far above a fresh model's first epoch
    fresh = json.loads((folder / "train.json").read_text())["history"]["log_likelihood"]
    assert ll[0] > fresh[0]
    capsys.readouterr()
    assert (
        main(
            [
                "rbm",
                "train",
                "--data",
                "digits",
                "--init",
                str(model),
                "--hidden",
                "5",
                "--save",
                str(tmp_path / "x.npz"),
            ]
        )
        == 2
    )
    assert "12 hidden units" in capsys.readouterr().err
    assert main(["rbm", "train", "--data", "digits", "--save", str(tmp_path / "x.npz")]) == 2
    assert "--hidden" in capsys.readouterr().err
    assert (
        main(
            [
                "rbm",
                "train",
                "--data",
                "digits",
                "--init",
                str(tmp_path / "none.npz"),
                "--save",
                str(tmp_path / "x.npz"),
            ]
        )
        == 2
    )
    assert "no such model file" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_rerunning_a_finished_checkpoint_exits_0_with_valid_json(tmp_path, capsys):
    argv = ["rbm", "train", "--data", "digits", "--hidden", "8", "--epochs", "2", "--batch-size", "50"]
    argv += ["--save", str(tmp_path / "m.npz"), "--checkpoint", str(tmp_path / "ck.npz"), "--no-progress"]
    assert main([*argv, "--json", str(tmp_path / "a.json")]) == 0
    assert main([*argv, "--json", str(tmp_path / "b.json")]) == 0  # nothing left to train
    assert "nan" not in capsys.readouterr().out
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    # a finished run reports the run it finished: the same history and the same mean epoch time
    assert a["history"] == b["history"]
    assert b["training"]["seconds_per_epoch"] == pytest.approx(a["training"]["seconds_per_epoch"])
    assert b["arguments"]["checkpoint"] == str(tmp_path / "ck.npz")
