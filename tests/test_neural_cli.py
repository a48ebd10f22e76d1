"""``thermolearn neural train|bound|sample``: the JSON contract, saved networks, checkpoints
that resume to the same record, and bad input as one line with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermolearn.cli import main as main_module

# the 4x4 lattice at T = 2.5 with 300 steps of 256 samples: the training step the library tests compile
TRAIN = ["neural", "train", "--lattice", "4x4", "--temperature", "2.5", "--steps", "300", "--batch-size", "256"]
TRAIN += ["--samples", "512", "--mcmc-sweeps", "20", "--seed", "3", "--no-progress"]


def run(argv: list[str]) -> int:
    return main_module.main(argv)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("neural")
    argv = [*TRAIN, "--save", str(folder / "net.npz"), "--json", str(folder / "train.json")]
    assert run([*argv, "--plot", str(folder / "train.png"), "--checkpoint", str(folder / "ck.npz")]) == 0
    return folder, json.loads((folder / "train.json").read_text())


def test_train_json_contract(trained):
    folder, record = trained
    for key in ("free_energy_bound", "log_z_nis", "effective_sample_size", "exact_log_z", "acceptance"):
        assert key in record
    assert set(record["log_z_nis"]) == {"mean", "stderr"}
    T = 2.5
    # F = -T ln Z; the bound lies above the exact F up to its error, NIS agrees with it
    assert record["free_energy_bound"] >= -T * record["exact_log_z"] - 4 * record["free_energy_bound_stderr"]
    assert abs(record["log_z_nis"]["mean"] - record["exact_log_z"]) <= 4 * record["log_z_nis"]["stderr"]
    assert 0 < record["acceptance"] <= 1
    assert (folder / "train.png").stat().st_size > 0


def test_checkpoint_resume_gives_the_same_record(trained, tmp_path):
    folder, first = trained
    argv = [*TRAIN, "--json", str(tmp_path / "again.json"), "--checkpoint", str(folder / "ck.npz")]
    assert run(argv) == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["resumed_from"] == 300
    assert again["free_energy_bound"] == first["free_energy_bound"]
    assert again["log_z_nis"] == first["log_z_nis"]


def test_bound_and_sample_with_the_saved_network(trained, tmp_path):
    folder, first = trained
    net = str(folder / "net.npz")
    argv = [
        "neural",
        "bound",
        "--lattice",
        "4x4",
        "--load",
        net,
        "--samples",
        "512",
        "--json",
        str(tmp_path / "b.json"),
    ]
    assert run(argv) == 0
    bound = json.loads((tmp_path / "b.json").read_text())
    assert bound["trained_on_this_model"] and bound["trained_temperature"] == 2.5
    assert abs(bound["log_z_nis"]["mean"] - bound["exact_log_z"]) <= 4 * bound["log_z_nis"]["stderr"]
    argv = ["neural", "sample", "--lattice", "4x4", "--load", net, "--sweeps", "200", "--no-progress"]
    assert run([*argv, "--json", str(tmp_path / "s.json"), "--plot", str(tmp_path / "s.png")]) == 0
    sample = json.loads((tmp_path / "s.json").read_text())
    assert 0 < sample["acceptance"] <= 1 and sample["tau_int_energy"] >= 0
    assert sum(sample["overlap_distribution"]["probability"]) == pytest.approx(1.0)
    assert abs(sample["energy_mcmc"]["mean"] - sample["exact_energy"]) <= 5 * sample["energy_mcmc"]["stderr"]


def test_a_small_effective_sample_size_is_reported(trained, tmp_path, capsys):
    """The network trained at T = 2.5 used far below that temperature: few samples carry the weight."""
    folder, _ = trained
    argv = ["neural", "bound", "--lattice", "4x4", "--load", str(folder / "net.npz"), "-T", "0.1", "--samples", "64"]
    assert run([*argv, "--json", str(tmp_path / "w.json")]) == 0
    record = json.loads((tmp_path / "w.json").read_text())
    assert not record["reliable"]
    assert f"effective sample size {record['effective_sample_size']:.1f} of 64" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hidden", "1000"], "too large"),
        (["--anneal", "1.5"], "--anneal"),
        (["--temperature", "1:2:3"], "one value"),
        (["--batch-size", "1"], "--batch-size"),
    ],
)
def test_bad_training_input_is_one_line(extra, message, capsys):
    assert run([*TRAIN, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_network_for_another_model_or_a_bad_file_is_refused(trained, tmp_path, capsys):
    folder, _ = trained
    assert run(["neural", "bound", "--lattice", "3x3", "--load", str(folder / "net.npz")]) == 2
    assert "16 spins" in capsys.readouterr().err
    assert run(["neural", "sample", "--lattice", "4x4", "--load", str(tmp_path / "none.npz")]) == 2
    assert "no such network file" in capsys.readouterr().err
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    assert run(["neural", "bound", "--lattice", "4x4", "--load", str(tmp_path / "other.npz")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
