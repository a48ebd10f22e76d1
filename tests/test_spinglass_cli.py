"""``thermolearn spinglass pa|groundstate``: the JSON contracts, the tables and the bad-input errors."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from thermolearn.cli import main as cli_main
from thermolearn.cli import spinglass_command


def run_cli(argv: list[str]) -> int:
    """The real ``main`` with the spinglass command registered (until cli/main.py lists it)."""
    commands = cli_main.COMMANDS
    if spinglass_command not in commands:
        commands = commands + (spinglass_command,)
    with mock.patch.object(cli_main, "COMMANDS", commands):
        return cli_main.main(argv)


def test_pa_on_an_ea_lattice_writes_the_contract_and_agrees_with_enumeration(tmp_path, capsys):
    out = tmp_path / "pa.json"
    plot = tmp_path / "pa.png"
    argv = ["spinglass", "pa", "--lattice", "4x4", "--couplings", "pm", "--population", "200", "-T", "0.5"]
    argv += ["--steps", "40", "--sweeps", "3", "--runs", "12", "--seed", "1", "--json", str(out), "--plot", str(plot)]
    assert run_cli(argv) == 0
    record = json.loads(out.read_text())
    assert set(record["log_z"]) == {"mean", "stderr"} and set(record["energy"]) == {"mean", "stderr"}
    assert record["exact_log_z"] is not None and record["exact_method"] == "enumeration"
    assert abs(record["log_z"]["mean"] - record["exact_log_z"]) < 4 * record["log_z"]["stderr"]
    assert abs(record["energy"]["mean"] - record["exact_energy"]) < 4 * record["energy"]["stderr"]
    assert plot.stat().st_size > 0
    text = capsys.readouterr().out
    assert "ln Z" in text and "rho_f" in text


def test_pa_on_the_2d_ferromagnet_uses_kaufman_and_3d_has_no_exact_value(tmp_path):
    out = tmp_path / "f.json"
    argv = ["spinglass", "pa", "--lattice", "6x6", "--couplings", "ferro", "--population", "100", "-T", "3"]
    assert run_cli(argv + ["--steps", "20", "--sweeps", "2", "--runs", "4", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["exact_method"] == "kaufman" and record["exact_log_z"] > 36 * 0.69
    argv = ["spinglass", "pa", "--lattice", "3x3x3", "--couplings", "gaussian", "--population", "32", "-T", "2"]
    assert run_cli(argv + ["--steps", "5", "--sweeps", "1", "--runs", "2", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["exact_log_z"] is None


def test_pa_reads_a_model_file(tmp_path):
    from thermolearn.models.ising import Ising

    path = tmp_path / "sk.npz"
    Ising.sherrington_kirkpatrick(10, seed=3).save(path)
    out = tmp_path / "m.json"
    argv = ["spinglass", "pa", str(path), "--population", "64", "-T", "1", "--steps", "10", "--runs", "3"]
    assert run_cli(argv + ["--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert abs(record["log_z"]["mean"] - record["exact_log_z"]) < 4 * record["log_z"]["stderr"]


@pytest.mark.parametrize("algorithm", ["sa", "pt", "pa"])
def test_groundstate_writes_the_contract(tmp_path, algorithm):
    out = tmp_path / "g.json"
    argv = ["spinglass", "groundstate", "--sk", "10", "--samples", "3", "--algorithm", algorithm, "--sweeps", "100"]
    assert run_cli(argv + ["--seed", "4", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert len(record["samples"]) == 3
    for row in record["samples"]:
        assert set(row) == {"seed", "best_energy", "exact_ground_energy", "hit"}
        assert row["best_energy"] >= row["exact_ground_energy"] - 1e-9
    assert set(record["hit_probability"]) >= {"mean", "stderr"}
    assert set(record["mean_energy_per_spin"]) == {"mean", "stderr"}
    hits = [r["hit"] for r in record["samples"]]
    assert record["hit_probability"]["mean"] == pytest.approx(sum(hits) / 3)


def test_groundstate_on_ea_and_beyond_enumeration(tmp_path, capsys):
    out = tmp_path / "g.json"
    plot = tmp_path / "g.png"
    argv = ["spinglass", "groundstate", "--lattice", "4x4", "--samples", "2", "--sweeps", "50", "--json", str(out)]
    assert run_cli(argv + ["--plot", str(plot)]) == 0
    assert json.loads(out.read_text())["hit_probability"] is not None and plot.stat().st_size > 0
    argv = ["spinglass", "groundstate", "--sk", "30", "--samples", "2", "--sweeps", "10", "--json", str(out)]
    assert run_cli(argv) == 0
    record = json.loads(out.read_text())
    assert record["hit_probability"] is None
    assert all(r["exact_ground_energy"] is None and r["hit"] is None for r in record["samples"])
    assert "enumeration limit" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pa", "--lattice", "4x4", "-T", "1", "--population", "8"], "at least 16 replicas"),
        (["pa", "--lattice", "4x4", "-T", "1", "--runs", "1"], "--runs must be at least 2"),
        (["pa", "--lattice", "2x2", "-T", "1"], "at least 3"),
        (["pa", "--lattice", "8", "-T", "1"], "square"),
        (["pa", "-T", "1"], "give one model"),
        (["pa", "--sk", "8", "--lattice", "4x4", "-T", "1"], "give one model"),
        (["pa", "--sk", "8", "--couplings", "pm", "-T", "1"], "--lattice only"),
        (["pa", "--lattice", "4x4", "-T", "1", "--population", "1000000000000"], "memory"),
        (["pa", "no_such_file.npz", "-T", "1"], "no such model file"),
        (["groundstate", "--samples", "2"], "--sk N or --lattice"),
        (["groundstate", "--sk", "10000000", "--samples", "2"], "memory"),
        (["groundstate", "--sk", "10", "--algorithm", "pa", "--population", "4"], "at least 16"),
        (["groundstate", "--sk", "10", "--algorithm", "pt", "--ladder-size", "1"], "at least 2"),
        (["groundstate", "--sk", "10", "--json", "out.txt"], "must end in .json"),
        ([], "give an action"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    assert run_cli(["spinglass", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_help_loads_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, argparse; from thermolearn.cli import spinglass_command as s; p = argparse.ArgumentParser(); "
        "s.register(p.add_subparsers()); print(any(m.startswith(('numba', 'thermolearn.spinglass')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_one_sample_has_no_spread_and_writes_a_null_stderr(tmp_path):
    out = tmp_path / "g.json"
    argv = ["spinglass", "groundstate", "--sk", "8", "--samples", "1", "--sweeps", "50", "--json", str(out)]
    assert run_cli(argv) == 0
    record = json.loads(out.read_text())
    assert record["mean_energy_per_spin"]["stderr"] is None
    assert record["hit_probability"]["mean"] in (0.0, 1.0)


def test_pa_takes_exactly_one_temperature(capsys):
    assert run_cli(["spinglass", "pa", "--lattice", "4x4", "-T", "1", "2"]) == 2
    assert "give one --temperature" in capsys.readouterr().err


def test_names_copied_into_the_cli_match_the_library():
    import importlib

    ensembles = importlib.import_module("thermolearn.spinglass.ensembles")
    groundstate = importlib.import_module("thermolearn.spinglass.groundstate")
    # the package exports the function population_annealing under the module's name
    population_annealing = importlib.import_module("thermolearn.spinglass.population_annealing")

    assert spinglass_command.COUPLING_CHOICES == ensembles.COUPLING_KINDS
    assert spinglass_command.ALGORITHM_CHOICES == groundstate.ALGORITHMS
    assert spinglass_command._MIN_POPULATION == population_annealing.MIN_POPULATION
    assert spinglass_command._MIN_RUNS == population_annealing.MIN_RUNS
    # ln Z by full enumeration (pa, pt) stops at 24 spins; ground states (Gray code, no weights) at 26,
    # and the groundstate help says so
    assert spinglass_command._MAX_ENUMERATED <= importlib.import_module("thermolearn.exact.enumeration").MAX_SPINS
    assert f"N <= {groundstate.MAX_EXACT_SPINS}" in " ".join((spinglass_command.__doc__ or "").split())


def test_overlaps_writes_p_of_q_and_agrees_with_the_exact_q2_of_its_samples(tmp_path):
    out = tmp_path / "o.json"
    plot = tmp_path / "o.png"
    argv = ["spinglass", "overlaps", "--sk", "10", "--samples", "6", "-T", "0.6", "-T", "2", "--population", "200"]
    argv += ["--steps", "20", "--sweeps", "3", "--json", str(out), "--plot", str(plot)]
    assert run_cli(argv) == 0
    record = json.loads(out.read_text())
    assert record["temperatures"] == [0.6, 2.0] and len(record["results"]) == 2
    for result in record["results"]:
        assert sum(result["p_of_q"]) == pytest.approx(1.0) and len(result["q_values"]) == 11
        # the error over samples contains the disorder spread, which the exact value of the same
        # samples does not: the agreement is well inside it
        assert abs(result["q2"]["mean"] - result["exact_q2"]) < 4 * result["q2"]["stderr"]
        assert result["chi_sg"]["mean"] == pytest.approx(10 * result["q2"]["mean"])
    assert record["results"][0]["q2"]["mean"] > record["results"][1]["q2"]["mean"]
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["overlaps", "--sk", "8", "-T", "1", "--samples", "1"], "--samples must be at least 2"),
        (["overlaps", "--sk", "8", "-T", "1", "--population", "8"], "at least 16"),
        (["overlaps", "-T", "1"], "--sk N or --lattice"),
        (["overlaps", "--lattice", "3x3", "-T", "1", "--population", "1000000000000"], "population"),
    ],
)
def test_bad_overlap_input_is_one_line(argv, message, capsys):
    assert run_cli(["spinglass", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("houdayer", [[], ["--no-houdayer"]])
def test_pt_agrees_with_enumeration_and_reports_equilibration(tmp_path, houdayer):
    out = tmp_path / "pt.json"
    plot = tmp_path / "pt.png"
    argv = ["spinglass", "pt", "--lattice", "4x4", "-T", "0.5:2:5", "--sweeps", "8000", *houdayer]
    assert run_cli(argv + ["--json", str(out), "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    assert record["houdayer"] == (not houdayer) and len(record["results"]) == 5
    for r in record["results"]:
        assert abs(r["energy"]["mean"] - r["exact_energy"]) < 4 * r["energy"]["stderr"]
        assert abs(r["q2"]["mean"] - r["exact_q2"]) < 4 * r["q2"]["stderr"]
        assert sum(r["p_of_q"]) == pytest.approx(1.0)
    assert record["equilibrated"] is True
    assert (record["results"][-1]["mean_cluster_size"] > 0) == (not houdayer)
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pt", "--lattice", "4x4", "-T", "1", "--sweeps", "20"], "at least 32 rounds"),
        (["pt", "--lattice", "4x4", "-T", "1", "-T", "1"], "distinct"),
        (["pt", "--lattice", "4x4", "-T", "1", "--sweeps", "1000000000000000"], "memory"),
        (["pt", "-T", "1"], "give one model"),
    ],
)
def test_bad_pt_input_is_one_line(argv, message, capsys):
    assert run_cli(["spinglass", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_pt_cluster_moves_only_below_a_temperature(tmp_path):
    out = tmp_path / "pt.json"
    argv = ["spinglass", "pt", "--lattice", "3x3x3", "--couplings", "gaussian", "-T", "0.5:2:4", "--sweeps", "400"]
    assert run_cli(argv + ["--houdayer-below", "1", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    sizes = {r["temperature"]: r["mean_cluster_size"] for r in record["results"]}
    assert sizes[2.0] == 0.0 and sizes[1.5] == 0.0 and sizes[1.0] > 0
    assert record["results"][0]["exact_energy"] is None  # 27 spins: beyond the enumeration shown here
    assert run_cli(argv + ["--houdayer-below", "1", "--no-houdayer"]) == 2


def test_groundstate_checkpoint_resumes_to_the_same_json(tmp_path, capsys):
    base = ["spinglass", "groundstate", "--sk", "12", "--samples", "4", "--algorithm", "sa", "--sweeps", "200"]
    assert run_cli(base + ["--json", str(tmp_path / "ref.json")]) == 0
    ck = tmp_path / "ck.npz"
    assert run_cli(base + ["--checkpoint", str(ck), "--json", str(tmp_path / "a.json")]) == 0
    assert ck.exists()
    assert run_cli(base + ["--checkpoint", str(ck), "--json", str(tmp_path / "b.json")]) == 0
    assert "resumed from" in capsys.readouterr().out

    def stable(name):
        record = json.loads((tmp_path / name).read_text())
        return {k: v for k, v in record.items() if k not in ("arguments", "resumed")}

    assert stable("ref.json") == stable("a.json") == stable("b.json")
    assert run_cli(base + ["--checkpoint", str(ck), "--json", str(ck)]) == 2  # an output over the checkpoint
    assert run_cli(["spinglass", "groundstate", "--sk", "12", "--sweeps", "300", "--checkpoint", str(ck)]) == 2
    assert "different run" in capsys.readouterr().err
