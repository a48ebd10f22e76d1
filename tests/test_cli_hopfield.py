"""``thermolearn hopfield store|recall|capacity``: outputs, the capacity JSON shape, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.shared_data import SHARED_DATA
from thermolearn.cli import hopfield_command
from thermolearn.cli.options import CommandParser
from thermolearn.models.hopfield import Hopfield


def run(argv):
    parser = CommandParser(prog="thermolearn")
    sub = parser.add_subparsers(dest="command")
    hopfield_command.register(sub)
    args = parser.parse_args(argv)
    return args.run(args)


def test_store_digits_then_recall_reports_fraction_restored(tmp_path, capsys):
    net_path = tmp_path / "net.npz"
    assert (
        run(
            [
                "hopfield",
                "store",
                "--data",
                "digits",
                "--classes",
                "0,1,4,7",
                "--rule",
                "projection",
                "--save",
                str(net_path),
                "--json",
                str(tmp_path / "s.json"),
                "--plot",
                str(tmp_path / "s.png"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "4 of 4 stored patterns are fixed points" in out
    net = Hopfield.load(net_path)
    assert net.n_neurons == 64 and net.n_patterns == 4 and net.image_shape == (8, 8)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["fixed_points"] == [True] * 4 and summary["labels"] == ["0", "1", "4", "7"]
    assert (tmp_path / "s.png").stat().st_size > 1000

    assert (
        run(
            [
                "hopfield",
                "recall",
                str(net_path),
                "--levels",
                "0,0.1",
                "--trials",
                "3",
                "--json",
                str(tmp_path / "r.json"),
                "--plot",
                str(tmp_path / "r.png"),
            ]
        )
        == 0
    )
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["levels"] == [0.0, 0.1] and result["restored"][0] == 1.0  # fixed points stay put
    assert 0.0 <= result["restored"][1] <= 1.0 and len(result["classes"]) == 2
    for name in ("r.png", "r_energy.png", "r_restored.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert "restored" in capsys.readouterr().out

    assert (
        run(
            [
                "hopfield",
                "recall",
                str(net_path),
                "--levels",
                "0.1",
                "--trials",
                "1",
                "--mode",
                "mask",
                "--method",
                "thermal",
                "--temperature",
                "0.05",
                "--sweeps",
                "20",
            ]
        )
        == 0
    )
    assert run(["hopfield", "recall", str(net_path), "--levels", "0.1", "--trials", "1", "--method", "sync"]) == 0


def test_store_reads_pattern_files_and_converts_binary_only_when_asked(tmp_path):
    rng = np.random.default_rng(0)
    xi = rng.choice([-1, 1], size=(3, 16))
    np.save(tmp_path / "p.npy", xi)
    np.savez(tmp_path / "p.npz", patterns=xi)
    np.savetxt(tmp_path / "p.txt", (xi + 1) // 2, fmt="%d")
    for name, extra in (("p.npy", []), ("p.npz", []), ("p.txt", ["--binary"])):
        out = tmp_path / f"{name}.net.npz"
        assert (
            run(
                [
                    "hopfield",
                    "store",
                    "--data",
                    str(tmp_path / name),
                    "--rule",
                    "storkey",
                    "--save",
                    str(out),
                    *extra,
                ]
            )
            == 0
        )
        net = Hopfield.load(out)
        assert np.array_equal(net.patterns, xi) and net.image_shape == (4, 4)
    with pytest.raises(ValueError, match="binary"):
        run(["hopfield", "store", "--data", str(tmp_path / "p.txt"), "--save", str(tmp_path / "x.npz")])


def test_capacity_json_has_exactly_the_documented_keys(tmp_path, capsys):
    path = tmp_path / "cap.json"
    assert (
        run(
            [
                "hopfield",
                "capacity",
                "--neurons",
                "100",
                "--rule",
                "hebbian",
                "--seed",
                "3",
                "--sets",
                "3",
                "--loads",
                "0.05:0.3:6",
                "--json",
                str(path),
                "--plot",
                str(tmp_path / "cap.png"),
                "--no-progress",
            ]
        )
        == 0
    )
    data = json.loads(path.read_text())
    assert {"alpha_c", "loads", "overlap", "overlap_stderr"} <= set(data)
    assert {"mean", "stderr"} <= set(data["alpha_c"])
    assert len(data["loads"]) == len(data["overlap"]) == len(data["overlap_stderr"]) == 6
    assert data["overlap"][0] > 0.99 and data["overlap"][-1] < data["overlap"][0]
    assert isinstance(data["alpha_c"]["mean"], float) and data["alpha_c"]["stderr"] >= 0
    assert (tmp_path / "cap.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "alpha_c (N = 100)" in out and "0.138" in out


def test_capacity_of_every_rule_on_one_plot(tmp_path):
    path = tmp_path / "all.json"
    assert (
        run(
            [
                "hopfield",
                "capacity",
                "--neurons",
                "40",
                "--rule",
                "all",
                "--sets",
                "2",
                "--loads",
                "0.1,0.5,0.9",
                "--max-recalls",
                "10",
                "--json",
                str(path),
                "--plot",
                str(tmp_path / "all.png"),
                "--no-progress",
            ]
        )
        == 0
    )
    data = json.loads(path.read_text())
    assert set(data["rules"]) == {"hebbian", "projection", "storkey", "dense"}
    assert data["rules"]["projection"]["alpha_c"]["mean"] == 1.0


@pytest.mark.parametrize(
    "argv,message",
    [
        (["hopfield"], "give an action"),
        (
            ["hopfield", "capacity", "--neurons", "50", "--rule", "projection", "--loads", "0.5,1.2", "--no-progress"],
            "at most N - 1",
        ),
        (["hopfield", "capacity", "--neurons", "50", "--sets", "1"], "--sets"),
        (["hopfield", "capacity", "--neurons", "50", "--loads", "a,b"], "--loads"),
        (["hopfield", "recall", "missing.npz"], "no such network"),
        (["hopfield", "store", "--data", "digits", "--classes", "0,0", "--save", "x.npz"], "distinct"),
        (
            ["hopfield", "store", "--data", "digits", "--rule", "projection", "--per-class", "7", "--save", "x.npz"],
            "at most n_neurons - 1",
        ),
    ],
)
def test_bad_input_gives_a_clear_error(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        run(argv)


def test_recall_checks_its_options(tmp_path):
    net_path = tmp_path / "n.npz"
    run(["hopfield", "store", "--data", "digits", "--classes", "1,2", "--save", str(net_path)])
    with pytest.raises(ValueError, match="needs --temperature"):
        run(["hopfield", "recall", str(net_path), "--method", "thermal"])
    with pytest.raises(ValueError, match="fractions in"):
        run(["hopfield", "recall", str(net_path), "--levels", "0.1,1.5"])
    (tmp_path / "ragged.txt").write_text("1 -1 1 -1\n1 -1 1\n")
    with pytest.raises(ValueError, match="cannot read patterns"):
        run(["hopfield", "store", "--data", str(tmp_path / "ragged.txt"), "--save", str(tmp_path / "r.npz")])
    np.save(tmp_path / "p.npy", np.ones((2, 16)))
    with pytest.raises(ValueError, match="image_shape"):
        run(
            [
                "hopfield",
                "store",
                "--data",
                str(tmp_path / "p.npy"),
                "--shape",
                "3x3",
                "--save",
                str(tmp_path / "r.npz"),
            ]
        )
    np.save(tmp_path / "bad.npy", np.full((2, 16), 3))
    with pytest.raises(ValueError, match="only spins -1 and \\+1"):
        run(["hopfield", "store", "--data", str(tmp_path / "bad.npy"), "--save", str(tmp_path / "r.npz")])


_MNIST = SHARED_DATA / "mnist"


@pytest.mark.skipif(
    not (_MNIST / "train-labels-idx1-ubyte.gz").is_file(), reason="MNIST IDX files not found under ../shared/data/mnist"
)
def test_store_real_mnist_digits_and_recall_them(tmp_path, capsys):
    net_path = tmp_path / "mnist.npz"
    assert (
        run(
            [
                "hopfield",
                "store",
                "--data",
                str(_MNIST),
                "--classes",
                "0,1,3",
                "--rule",
                "projection",
                "--save",
                str(net_path),
            ]
        )
        == 0
    )
    assert "3 of 3 stored patterns are fixed points" in capsys.readouterr().out
    net = Hopfield.load(net_path)
    assert net.n_neurons == 784 and net.image_shape == (28, 28)
    assert (
        run(
            [
                "hopfield",
                "recall",
                str(net_path),
                "--levels",
                "0.1",
                "--trials",
                "2",
                "--json",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "r.json").read_text())["restored"] == [1.0]  # 3 patterns: 10% noise is easy
