"""``thermolearn anneal``: best energy (and cut) of a model file, the documented JSON, clear errors."""

import json

import pytest

from tests.shared_data import SHARED_DATA
from thermolearn import Ising, MaxCut
from thermolearn.cli import anneal_command
from thermolearn.cli.options import CommandParser
from thermolearn.exact import probability_table

GSET = SHARED_DATA / "gset"


def run_anneal(argv):
    parser = CommandParser(prog="thermolearn")
    sub = parser.add_subparsers()
    anneal_command.register(sub)
    args = parser.parse_args(["anneal", *argv])
    return args.run(args)


def write_edges(path, edges):
    path.write_text("\n".join(" ".join(str(x) for x in e) for e in edges) + "\n")
    return path


def test_anneal_on_a_model_file_prints_and_records_the_ground_energy(tmp_path, capsys):
    model = Ising.sherrington_kirkpatrick(12, field=0.3, seed=2)
    model.save(tmp_path / "sk.npz")
    out_json = tmp_path / "out.json"
    code = run_anneal(
        [str(tmp_path / "sk.npz"), "--sweeps", "300", "--reads", "8", "--seed", "1", "--json", str(out_json)]
    )
    assert code == 0
    e0 = float(probability_table(model, 1.0)[1].min())
    out = capsys.readouterr().out
    assert f"best energy: {e0:.10g}" in out
    record = json.loads(out_json.read_text())
    assert record["best_energy"] == pytest.approx(e0, abs=1e-9)
    assert len(record["energies"]) == 8 and min(record["energies"]) == record["best_energy"]
    assert record["seconds"] > 0
    assert "cut" not in record


def test_anneal_maxcut_reports_the_cut_of_the_best_energy(tmp_path, capsys):
    # a 5-cycle: the best cut leaves exactly one edge uncut, weight 4
    path = write_edges(tmp_path / "c5.txt", [(1, 2, 1), (2, 3, 1), (3, 4, 1), (4, 5, 1), (5, 1, 1)])
    out_json = tmp_path / "cut.json"
    assert run_anneal([str(path), "--maxcut", "--sweeps", "50", "--reads", "4", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "best cut: 4" in out
    record = json.loads(out_json.read_text())
    problem = MaxCut.from_edgelist(path)
    assert record["cut"] == 4.0 == problem.cut_from_energy(record["best_energy"])
    assert record["best_energy"] == -3.0  # E = W - 2 cut = 5 - 8


def test_the_same_edge_list_without_maxcut_is_a_ferromagnet(tmp_path, capsys):
    path = write_edges(tmp_path / "c5.txt", [(1, 2, 1), (2, 3, 1), (3, 4, 1), (4, 5, 1), (5, 1, 1)])
    assert run_anneal([str(path), "--sweeps", "50", "--reads", "2", "--algorithm", "pt", "--temperatures", "4"]) == 0
    out = capsys.readouterr().out
    assert "best energy: -5" in out and "cut" not in out


@pytest.mark.skipif(not (GSET / "G1.txt").exists(), reason=f"Gset G1 not present in {SHARED_DATA}/gset")
def test_anneal_maxcut_on_gset_g1_comes_within_one_percent_of_the_best_known_cut(tmp_path, capsys):
    out_json = tmp_path / "g1.json"
    assert (
        run_anneal(
            [
                str(GSET / "G1.txt"),
                "--maxcut",
                "--sweeps",
                "200",
                "--reads",
                "2",
                "--seed",
                "3",
                "--schedule",
                "linear",
                "--json",
                str(out_json),
            ]
        )
        == 0
    )
    record = json.loads(out_json.read_text())
    assert 0.99 * 11624 <= record["cut"] <= 11624
    assert "best cut:" in capsys.readouterr().out


def test_anneal_with_a_given_beta_range_and_heat_bath_runs(tmp_path, capsys):
    Ising.lattice((6, 6)).save(tmp_path / "lat.npz")
    assert (
        run_anneal(
            [
                str(tmp_path / "lat.npz"),
                "--sweeps",
                "200",
                "--reads",
                "3",
                "--beta-range",
                "0.1",
                "3",
                "--sampler",
                "heatbath",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "beta 0.1 -> 3" in out and "best energy: -72" in out


@pytest.mark.parametrize(
    "argv,match",
    [
        (["missing.txt"], "no such model file"),
        (["{npz}", "--maxcut"], "--maxcut reads a graph's edge list"),
        (["{npz}", "--json", "out.txt"], "must end in .json"),
        (["{npz}", "--beta-range", "3", "1"], "must cool"),
    ],
)
def test_anneal_errors_are_value_errors_that_say_what_is_wrong(tmp_path, argv, match):
    Ising.lattice((3, 3)).save(tmp_path / "m.npz")
    argv = [a.replace("{npz}", str(tmp_path / "m.npz")) for a in argv]
    with pytest.raises(ValueError, match=match):
        run_anneal(argv)


@pytest.mark.parametrize(
    "argv", [["--algorithm", "tabu"], ["--reads", "0"], ["--beta-range", "1", "-1"], ["--seed", "-1"]]
)
def test_anneal_rejects_bad_options_at_parse_time(argv):
    with pytest.raises(SystemExit):
        run_anneal(["x.npz", *argv])
