"""``thermolearn diffusion train|sample|bound``: outputs, JSON shapes, checkpoints and bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from thermolearn.cli import diffusion_command
from thermolearn.cli.options import CommandParser
from thermolearn.storage import load_arrays


def run(argv):
    parser = CommandParser(prog="thermolearn")
    sub = parser.add_subparsers()
    diffusion_command.register(sub)
    args = parser.parse_args(argv)
    return args.run(args)


TINY = ["--steps", "6", "--hidden", "16", "--depth", "1", "--iterations", "100", "--no-progress"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diffusion_cli")
    path = folder / "model.npz"
    assert (
        run(
            [
                "diffusion",
                "train",
                "--data",
                "gaussians",
                "--seed",
                "1",
                "--save",
                str(path),
                "--json",
                str(folder / "train.json"),
                "--plot",
                str(folder / "loss.png"),
                "--checkpoint",
                str(folder / "ck.npz"),
                "--checkpoint-every",
                "50",
                *TINY,
            ]
        )
        == 0
    )
    return path


def test_train_writes_model_json_plot_and_checkpoint(model_file, capsys):
    folder = model_file.parent
    summary = json.loads((folder / "train.json").read_text())
    assert summary["config"]["steps"] == 6 and summary["training"]["iterations"] == 100
    assert summary["config"]["schedule"] == "snr" and summary["config"]["network"] == "mlp"
    assert summary["dataset"]["name"] == "gaussians" and summary["steps_per_second"] > 0
    assert (folder / "loss.png").stat().st_size > 1000
    _, header = load_arrays(folder / "ck.npz")
    assert header["checkpoint"]["step"] == 100
    # rerunning with the same arguments resumes from the finished checkpoint and does no more work
    out = folder / "again.npz"
    capsys.readouterr()
    run(
        [
            "diffusion",
            "train",
            "--data",
            "gaussians",
            "--seed",
            "1",
            "--save",
            str(out),
            "--json",
            str(folder / "t2.json"),
            "--checkpoint",
            str(folder / "ck.npz"),
            "--checkpoint-every",
            "50",
            *TINY,
        ]
    )
    assert "resumed from checkpoint" in capsys.readouterr().out
    assert json.loads((folder / "t2.json").read_text())["resumed_from"] == 100
    a, _ = load_arrays(model_file)
    b, _ = load_arrays(out)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_bound_json_has_the_documented_shape(model_file, tmp_path, capsys):
    path = tmp_path / "bound.json"
    assert (
        run(
            [
                "diffusion",
                "bound",
                str(model_file),
                "--n",
                "300",
                "--json",
                str(path),
                "--plot",
                str(tmp_path / "terms.png"),
                "--no-progress",
            ]
        )
        == 0
    )
    out = json.loads(path.read_text())
    assert set(out["bound_bits"]) == {"mean", "stderr"}
    assert out["per_dim"] is False and out["n"] == 300
    assert np.isfinite(out["bound_bits"]["mean"]) and out["bound_bits"]["stderr"] > 0
    assert out["exact_log_likelihood_bits"]["mean"] > out["bound_bits"]["mean"]  # a bound stays below the truth
    assert len(out["terms_bits"]["kl"]) == 5
    assert "bits/sample" in capsys.readouterr().out


def test_bound_checkpoint_resumes_to_the_same_answer(model_file, tmp_path):
    ck = tmp_path / "bound_ck.npz"
    first, second, plain = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    common = [str(model_file), "--n", "120", "--batch-size", "50", "--no-progress"]
    run(["diffusion", "bound", *common, "--checkpoint", str(ck), "--json", str(first)])
    _, header = load_arrays(ck)
    assert header["done"] == 120
    run(["diffusion", "bound", *common, "--checkpoint", str(ck), "--json", str(second)])
    run(["diffusion", "bound", *common, "--json", str(plain)])
    a, b, c = (json.loads(p.read_text())["bound_bits"] for p in (first, second, plain))
    assert a == b and a["mean"] == pytest.approx(c["mean"], rel=1e-12)


def test_bound_checkpoint_is_refused_for_other_data_or_another_model(tmp_path):
    """The checkpoint's identity holds every input of the numbers: a rerun with another roll thickness
    (or other data, or a retrained model at the same path) once resumed from the other run's batches."""
    from thermolearn.storage import save_arrays

    model = tmp_path / "roll.npz"
    run(["diffusion", "train", "--data", "swiss-roll", "--save", str(model), *TINY])
    ck, out = tmp_path / "bound_ck.npz", tmp_path / "thick.json"
    common = [str(model), "--n", "100", "--batch-size", "50", "--no-progress", "--checkpoint", str(ck)]
    run(["diffusion", "bound", *common, "--noise", "1.5", "--json", str(out)])
    with pytest.raises(ValueError, match=r"differs in: data_sha256, noise\)"):
        run(["diffusion", "bound", *common])
    with pytest.raises(ValueError, match=r"differs in: data_sha256, seed\)"):
        run(["diffusion", "bound", *common, "--noise", "1.5", "--seed", "7"])
    # the same arguments resume (here: nothing left to do) to the same numbers
    again = tmp_path / "again.json"
    run(["diffusion", "bound", *common, "--noise", "1.5", "--json", str(again)])
    assert json.loads(again.read_text())["bound_bits"] == json.loads(out.read_text())["bound_bits"]
    # another model written to the same path
    run(["diffusion", "train", "--data", "swiss-roll", "--seed", "5", "--save", str(model), *TINY])
    with pytest.raises(ValueError, match=r"differs in: model_sha256\)"):
        run(["diffusion", "bound", *common, "--noise", "1.5"])
    # checkpoints of older versions, whose identity left these out, and edited ones
    arrays, header = load_arrays(ck)
    old = {k: v for k, v in header.items() if k not in ("format", "version")}
    save_arrays(ck, arrays, old)
    with pytest.raises(ValueError, match="older thermolearn"):
        run(["diffusion", "bound", *common, "--noise", "1.5"])
    run(["diffusion", "train", "--data", "swiss-roll", "--save", str(model), *TINY])  # the first model again
    save_arrays(ck, arrays, {**header, "done": 70})
    with pytest.raises(ValueError, match="whole number of batches"):
        run(["diffusion", "bound", *common, "--noise", "1.5"])
    save_arrays(ck, {**arrays, "bits": arrays["bits"][:50]}, header)
    with pytest.raises(ValueError, match="shape"):
        run(["diffusion", "bound", *common, "--noise", "1.5"])


def test_bound_of_one_sample_writes_an_undefined_stderr_as_null(model_file, tmp_path, capsys):
    path = tmp_path / "one.json"
    with warnings.catch_warnings():  # nor a standard error of one value computed (numpy warns, gives NaN)
        warnings.simplefilter("error", RuntimeWarning)
        assert run(["diffusion", "bound", str(model_file), "--n", "1", "--json", str(path), "--no-progress"]) == 0
    out = json.loads(path.read_text())
    assert out["n"] == 1 and np.isfinite(out["bound_bits"]["mean"]) and out["bound_bits"]["stderr"] is None
    assert out["exact_log_likelihood_bits"]["stderr"] is None
    assert "wrote" in capsys.readouterr().out


def test_sample_check_needs_enough_samples(model_file):
    with pytest.raises(ValueError, match="--check needs --n >= 2, got --n 1"):
        run(["diffusion", "sample", str(model_file), "--n", "1", "--check"])


def test_sample_with_check_output_and_plot(model_file, tmp_path):
    js, npz, png = tmp_path / "s.json", tmp_path / "s.npz", tmp_path / "s.png"
    assert (
        run(
            [
                "diffusion",
                "sample",
                str(model_file),
                "--n",
                "300",
                "--check",
                "--json",
                str(js),
                "--save",
                str(npz),
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    out = json.loads(js.read_text())
    assert out["n"] == 300 and out["check"]["test"] == "energy distance"
    assert isinstance(out["check"]["passed"], bool)
    arrays, _ = load_arrays(npz)
    assert arrays["samples"].shape == (300, 2)
    assert png.stat().st_size > 1000


@pytest.mark.parametrize(
    "argv, message",
    [
        (["diffusion", "train", "--data", "cifar", "--save", "m.npz"], "unknown dataset"),
        (["diffusion", "train", "--data", "moons", "--save", "m.txt"], "must end in .npz"),
        (["diffusion", "train", "--data", "moons", "--save", "nofolder/m.npz"], "does not exist"),
        (["diffusion", "train", "--data", "moons", "--save", "m.npz", "--network", "conv"], "needs image data"),
        (["diffusion", "train", "--data", "moons", "--save", "m.npz", "--process", "binomial"], "binary"),
        (
            ["diffusion", "train", "--data", "moons", "--save", "m.npz", "--objective", "simple"],
            "eps parameterisation",
        ),
        (["diffusion", "train", "--data", "moons", "--save", "m.npz", "--checkpoint", "m.npz"], "different files"),
        (["diffusion", "train", "--data", "gaussians", "--save", "m.npz", "--noise", "0.1"], "no noise parameter"),
        (
            ["diffusion", "train", "--data", "moons", "--save", "m.npz", "--ema", "1.5", "--iterations", "1"],
            "ema_decay",
        ),
        (
            ["diffusion", "train", "--data", "moons", "--save", "m.npz", "--beta-1", "0.995"],
            r"--beta-1 = 0.995 is too large for the snr schedule.*--beta-1 must be < 0\.99331",
        ),
        (["diffusion", "bound", "missing.npz"], "no such model file"),
        (["diffusion", "sample", "missing.npz"], "no such model file"),
        (["diffusion"], "give an action"),
    ],
)
def test_bad_input_is_a_value_error(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        run(argv)


def test_roll_thickness_travels_from_train_to_bound_and_sample(tmp_path):
    path = tmp_path / "thin.npz"
    run(["diffusion", "train", "--data", "swiss-roll", "--noise", "0.0125", "--save", str(path), *TINY])
    _, header = load_arrays(path)
    assert header["dataset"]["noise"] == 0.0125
    thin, default = tmp_path / "thin.json", tmp_path / "default.json"
    run(["diffusion", "bound", str(path), "--n", "200", "--json", str(thin), "--no-progress"])
    out = json.loads(thin.read_text())
    assert out["noise"] == 0.0125 and out["paper_bits"] == 2.35
    # the ceiling is the exact density of the thin roll: about 2 bits above the default roll's 1.39
    assert 3.0 < out["exact_log_likelihood_bits"]["mean"] < 3.8
    # --noise scores the model on a roll of another thickness
    run(["diffusion", "bound", str(path), "--noise", "0.05", "--n", "200", "--json", str(default), "--no-progress"])
    other = json.loads(default.read_text())
    assert other["noise"] == 0.05 and other["exact_log_likelihood_bits"]["mean"] < 2.0
    js = tmp_path / "s.json"
    run(["diffusion", "sample", str(path), "--n", "100", "--check", "--json", str(js)])
    assert json.loads(js.read_text())["check"]["test"] == "energy distance"


def test_bound_on_data_of_another_dimension_is_refused(model_file):
    with pytest.raises(ValueError, match="dimension"):
        run(["diffusion", "bound", str(model_file), "--data", "digits"])


@pytest.mark.parametrize(
    "argv",
    [
        ["diffusion", "train", "--data", "moons", "--save", "m.npz", "--steps", "0"],
        ["diffusion", "train", "--data", "moons", "--save", "m.npz", "--learning-rate", "-1"],
        ["diffusion", "train", "--save", "m.npz"],
        ["diffusion", "train", "--data", "swiss-roll", "--save", "m.npz", "--noise", "-0.1"],
    ],
)
def test_malformed_arguments_exit_with_code_2(argv, capsys):
    from thermolearn.cli.main import main

    assert main(argv) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_train_digits_with_the_conv_network(tmp_path):
    path = tmp_path / "digits.npz"
    run(
        [
            "diffusion",
            "train",
            "--data",
            "digits",
            "--save",
            str(path),
            "--network",
            "conv",
            "--steps",
            "4",
            "--channels",
            "4",
            "--depth",
            "1",
            "--iterations",
            "10",
            "--batch-size",
            "8",
            "--no-progress",
        ]
    )
    js = tmp_path / "b.json"
    run(["diffusion", "bound", str(path), "--n", "20", "--json", str(js), "--no-progress"])
    out = json.loads(js.read_text())
    assert out["per_dim"] is True and out["n"] == 20 and out["unit"] == "bits per pixel"
    assert out["terms_bits"]["discretisation"] == pytest.approx(np.log2(2 / 17))
    # the images' check judges the samples' and the real images' 1-NN accuracies each
    with pytest.raises(ValueError, match="--check needs --n >= 3"):
        run(["diffusion", "sample", str(path), "--n", "2", "--check"])
    sj = tmp_path / "s.json"
    run(["diffusion", "sample", str(path), "--n", "20", "--check", "--json", str(sj)])
    check = json.loads(sj.read_text())["check"]
    assert check["test"] == "1-NN two-sample accuracy" and 0 <= check["sample_accuracy"] <= 1
    assert 0 <= check["real_accuracy"] <= 1 and 0 < check["p_value"] <= 1 and isinstance(check["passed"], bool)
    _, header = load_arrays(path)
    assert header["config"]["network"] == "conv" and header["training"]["objective"] == "hybrid"
    assert header["config"]["schedule"] == "snr" and header["config"]["beta_1"] == pytest.approx((2 / 17) ** 2)


def test_image_defaults_are_an_mlp_with_the_hybrid_loss(tmp_path):
    path = tmp_path / "digits_mlp.npz"
    run(
        [
            "diffusion",
            "train",
            "--data",
            "digits",
            "--save",
            str(path),
            "--hidden",
            "8",
            "--iterations",
            "5",
            "--batch-size",
            "8",
            "--no-progress",
        ]
    )
    _, header = load_arrays(path)
    assert header["config"]["network"] == "mlp" and header["config"]["parameterization"] == "eps"
    assert header["config"]["steps"] == 100 and header["config"]["hidden"] == 8
    assert header["training"]["objective"] == "hybrid"
    fixed = tmp_path / "digits_fixed.npz"
    run(
        [
            "diffusion",
            "train",
            "--data",
            "digits",
            "--save",
            str(fixed),
            "--steps",
            "4",
            "--hidden",
            "8",
            "--iterations",
            "5",
            "--batch-size",
            "8",
            "--fixed-variance",
            "--no-progress",
        ]
    )
    assert load_arrays(fixed)[1]["training"]["objective"] == "simple"
    averaged = tmp_path / "digits_ema.npz"
    run(
        [
            "diffusion",
            "train",
            "--data",
            "digits",
            "--save",
            str(averaged),
            "--steps",
            "4",
            "--hidden",
            "8",
            "--iterations",
            "5",
            "--batch-size",
            "8",
            "--ema",
            "0.9",
            "--no-progress",
        ]
    )
    assert load_arrays(averaged)[1]["training"]["ema_decay"] == 0.9
    a, b = load_arrays(path)[0], load_arrays(averaged)[0]
    assert not np.array_equal(a["net.out.weight"], b["net.out.weight"])
