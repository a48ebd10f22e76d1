"""``thermolearn pbits gate|factor|sample``: the documented JSON contracts, plots, one-line errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.cli import main as cli_main
from thermolearn.cli import pbits_command


@pytest.fixture(autouse=True)
def pbits_registered(monkeypatch):
    # until cli/main.py lists pbits_command, register it for these tests only
    if pbits_command not in cli_main.COMMANDS:
        monkeypatch.setattr(cli_main, "COMMANDS", (*cli_main.COMMANDS, pbits_command))


def run(argv):
    return cli_main.main(["pbits", *argv])


def test_gate_json_has_the_documented_fields_and_the_exact_and_probability(tmp_path, capsys):
    out = tmp_path / "and.json"
    plot = tmp_path / "and.png"
    argv = ["gate", "and", "--i0", "0.5", "--update", "chromatic", "--sweeps", "5000", "--seed", "3"]
    assert run([*argv, "--json", str(out), "--plot", str(plot), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    assert set(record["p_valid"]) == {"mean", "stderr"} and set(record["tv_distance"]) == {"mean", "stderr"}
    exact = 4 / (4 + 3 * math.exp(-2) + math.exp(-6))
    assert record["p_valid_exact"] == pytest.approx(exact, rel=1e-12)
    assert abs(record["p_valid"]["mean"] - exact) < 4 * record["p_valid"]["stderr"]
    assert plot.stat().st_size > 0
    assert "P(valid)" in capsys.readouterr().out


def test_inverted_gate_p_valid_is_that_of_the_rows_consistent_with_the_clamps(tmp_path):
    out = tmp_path / "fa.json"
    argv = ["gate", "full-adder", "--clamp", "S=0", "--clamp", "Cout=1", "--i0", "1", "--sweeps", "4000"]
    assert run([*argv, "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["clamps"] == {"S": 0, "Cout": 1}
    valid = [row for row in record["distribution"] if sum(row["bits"].values()) == 2]  # two of A, B, Cin set
    assert record["p_valid_exact"] == pytest.approx(sum(row["exact"] for row in valid), rel=1e-12)
    assert abs(record["p_valid"]["mean"] - record["p_valid_exact"]) < 4 * record["p_valid"]["stderr"]


def test_factor_json_has_factors_success_probability_and_p_bits(tmp_path):
    out = tmp_path / "f.json"
    plot = tmp_path / "f.png"
    assert (
        run(
            [
                "factor",
                "35",
                "--sweeps",
                "400",
                "--chains",
                "16",
                "--seed",
                "1",
                "--json",
                str(out),
                "--plot",
                str(plot),
            ]
        )
        == 0
    )
    record = json.loads(out.read_text())
    assert record["factors"] == [5, 7]
    assert set(record["success_probability"]) == {"mean", "stderr"}
    assert record["p_bits"] == 27 and record["free_p_bits"] == 19
    assert record["stationary_probability_exact"] is not None
    assert plot.stat().st_size > 0


def test_sample_reports_the_synchronous_bias_of_a_ferromagnetic_pair(tmp_path):
    path = tmp_path / "pair.npz"
    Ising.from_dense(np.array([[0.0, 1.0], [1.0, 0.0]])).save(path)
    out = tmp_path / "s.json"
    plot = tmp_path / "s.png"
    argv = [str(path), "--update", "sequential", "--update", "synchronous", "--sweeps", "5000", "--json", str(out)]
    assert run(["sample", *argv, "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    sync, seq = record["updates"]["synchronous"], record["updates"]["sequential"]
    assert sync["bias_exact"] == pytest.approx(math.tanh(1.0) / 2, rel=1e-12)
    assert (
        abs(sync["tv_distance"]["mean"] - sync["bias_exact"])
        < sync["tv_noise_floor"] + 4 * sync["tv_distance"]["stderr"]
    )
    assert seq["bias_exact"] == 0.0
    assert seq["tv_distance"]["mean"] < seq["tv_noise_floor"] + 4 * seq["tv_distance"]["stderr"]
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gate", "and", "--clamp", "D=1"], "--clamp D=1: the and gate has terminals A, B, C"),
        (["gate", "and", "--clamp", "A=2"], "expected NAME=0 or NAME=1"),
        (["gate", "and", "--clamp", "A=1", "--clamp", "A=0"], "given twice"),
        (["gate", "and", "--clamp", "A=1", "--clamp", "B=1", "--clamp", "C=1"], "--clamp fixes every terminal"),
        (["gate", "and", "--i0", "100"], "not ergodic"),
        (["gate", "and", "--update", "asynchronous", "--eta", "0"], "expected a number > 0 or inf"),
        (["gate", "nand"], "invalid choice"),
        (["factor", "37"], "N = 37 is prime"),
        (["factor", "35", "--width", "2"], "does not fit the width"),
        (["factor", "945", "--i0", "1"], "not ergodic"),
        (["sample", "missing.npz"], "no such model file"),
        ([], "give an action: gate, factor or sample"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    assert run([*argv, "--sweeps", "10"] if argv and argv[0] != "sample" else [*argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_sample_refuses_models_too_large_for_the_exact_comparison(tmp_path, capsys):
    path = tmp_path / "big.npz"
    Ising.lattice((5, 5)).save(path)
    assert run(["sample", str(path)]) == 2
    assert "at most 20 p-bits" in capsys.readouterr().err


@pytest.mark.parametrize("action", [[], ["gate"], ["factor"], ["sample"]])
def test_help_of_every_action_prints_and_exits_0(action, capsys):
    assert run([*action, "--help"]) == 0
    assert "usage: thermolearn pbits" in capsys.readouterr().out


def test_gate_with_update_time_and_partitions_records_them_and_matches_the_delayed_chain(tmp_path):
    out = tmp_path / "async.json"
    argv = ["gate", "and", "--update", "asynchronous", "--update-time", "0.5", "--partitions", "2", "--eta", "2"]
    argv += ["--sweeps", "3000", "--chains", "4", "--seed", "5", "--json", str(out), "--no-progress"]
    assert run(argv) == 0
    record = json.loads(out.read_text())
    assert (record["eta"], record["update_time"], record["partitions"]) == (2.0, 0.5, 2)
    from thermolearn.pbits.invertible import run_gate

    plain = run_gate("and", update="asynchronous", eta=2.0, n_sweeps=10, n_chains=2, seed=0)
    # the exact law used is the delayed chain's, not the instant-update one
    assert record["p_valid_exact"] != pytest.approx(plain.p_valid_exact, rel=1e-6)
    assert abs(record["p_valid"]["mean"] - record["p_valid_exact"]) < 5 * record["p_valid"]["stderr"] + 0.01


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--update-time", "0.5"], "--update-time applies to --update asynchronous only"),
        (["--partitions", "2", "--update", "chromatic"], "--partitions applies to --update asynchronous only"),
        (["--partitions", "9", "--update", "asynchronous"], "partitions must be between 1 and the 3 p-bits"),
    ],
)
def test_asynchronous_knobs_are_refused_elsewhere_with_one_line(extra, message, capsys):
    assert run(["gate", "and", "--sweeps", "10", "--chains", "2", *extra, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
