"""The command line: exit codes, tables, JSON records and plots."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.brute_force import brute_force
from thermolearn import Ising
from thermolearn.cli.main import main


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_lists_the_subcommands():
    result = subprocess.run([sys.executable, "-m", "thermolearn.cli.main", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for name in ("demo", "exact", "onsager"):
        assert name in result.stdout


def test_exact_on_a_model_file_writes_the_documented_json(tmp_path, capsys):
    model = Ising.sherrington_kirkpatrick(10, field=0.2, seed=5)
    model.save(tmp_path / "sk.npz")
    out_json = tmp_path / "out.json"
    code, out, err = run(["exact", str(tmp_path / "sk.npz"), "-T", "0.5", "2.0", "--json", str(out_json)], capsys)
    assert code == 0, err
    assert "enumeration" in out
    record = json.loads(out_json.read_text())
    assert [r["temperature"] for r in record["results"]] == [0.5, 2.0]
    for r in record["results"]:
        ref = brute_force(model, r["temperature"])
        assert r["method"] == "enumeration"
        assert r["log_z"] == pytest.approx(ref["log_z"], rel=1e-12)
        assert r["free_energy_per_spin"] == pytest.approx(-r["temperature"] * ref["log_z"] / 10, rel=1e-12)
        assert r["energy_per_spin"] == pytest.approx(ref["energy"] / 10, rel=1e-10)
        assert r["specific_heat_per_spin"] == pytest.approx(ref["specific_heat"] / 10, rel=1e-9)
        assert r["magnetization_per_spin"] == pytest.approx(ref["magnetization"] / 10, abs=1e-12)


def test_exact_on_an_edge_list_file(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_text("4 4\n1 2 1\n2 3 1\n3 4 1\n4 1 1\n")
    code, out, _ = run(["exact", str(path), "-T", "1.0", "--json", str(tmp_path / "r.json")], capsys)
    assert code == 0
    r = json.loads((tmp_path / "r.json").read_text())["results"][0]
    K = 1.0
    assert r["log_z"] == pytest.approx(np.log((2 * np.cosh(K)) ** 4 + (2 * np.sinh(K)) ** 4), rel=1e-12)


def test_exact_picks_kaufman_for_a_periodic_square_lattice(tmp_path, capsys):
    code, out, _ = run(["exact", "--lattice", "16x16", "-T", "2.269", "--json", str(tmp_path / "k.json")], capsys)
    assert code == 0
    r = json.loads((tmp_path / "k.json").read_text())["results"][0]
    assert r["method"] == "kaufman" and r["n_spins"] == 256
    assert r["magnetization_per_spin"] == 0.0


def test_exact_picks_the_transfer_matrix_for_an_open_strip_in_a_field(tmp_path, capsys):
    code, out, _ = run(
        [
            "exact",
            "--lattice",
            "4x3",
            "--open",
            "--field",
            "0.3",
            "-T",
            "1:2:3",
            "--json",
            str(tmp_path / "t.json"),
            "--plot",
            str(tmp_path / "t.png"),
        ],
        capsys,
    )
    assert code == 0
    results = json.loads((tmp_path / "t.json").read_text())["results"]
    assert [r["method"] for r in results] == ["transfer_matrix_strip"] * 3
    model = Ising.lattice((4, 3), field=0.3, periodic=False)
    for r in results:
        ref = brute_force(model, r["temperature"])
        assert r["log_z"] == pytest.approx(ref["log_z"], rel=1e-10)
        assert r["magnetization_per_spin"] == pytest.approx(ref["magnetization"] / 12, rel=1e-9)
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["exact", "--lattice", "4x4", "-T", "-1"], "> 0"),
        (["exact", "--lattice", "4x4", "-T", "abc"], "temperature"),
        (["exact", "--lattice", "4xx", "-T", "1"], "lattice"),
        (["exact", "-T", "1"], "model file"),
        (["exact", "missing.npz", "-T", "1"], "no such model file"),
        (["exact", "--lattice", "40x40x40", "-T", "1"], "no exact method"),
        (["exact", "--lattice", "4x4", "-T", "1", "--json", "/no/such/folder/x.json"], "does not exist"),
        (["exact", "--lattice", "6x6", "--field", "0.1", "-T", "1", "--method", "kaufman"], "zero field"),
        (["onsager", "--coupling", "-1"], "coupling"),
    ],
)
def test_bad_arguments_give_one_line_on_stderr_and_exit_code_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [], "nothing is written on a bad argument"


def test_argparse_errors_also_exit_2_with_one_line(capsys):
    code, out, err = run(["exact", "--lattice", "4x4"], capsys)  # --temperature is required
    assert code == 2
    assert err.strip().splitlines() == [
        "thermolearn exact: error: the following arguments are required: --temperature/-T "
        "(see thermolearn exact --help)"
    ]


def test_onsager_prints_the_critical_temperature_and_writes_json_and_plot(tmp_path, capsys):
    code, out, _ = run(
        [
            "onsager",
            "-T",
            "2.0",
            "2.5",
            "--size",
            "8",
            "--json",
            str(tmp_path / "o.json"),
            "--plot",
            str(tmp_path / "o.png"),
        ],
        capsys,
    )
    assert code == 0
    assert "2.2691853142" in out
    record = json.loads((tmp_path / "o.json").read_text())
    assert record["critical_temperature"] == pytest.approx(2 / np.log(1 + np.sqrt(2)))
    assert record["infinite_lattice"][0]["spontaneous_magnetization"] == pytest.approx(
        (1 - np.sinh(2 / 2.0) ** -4) ** 0.125
    )
    assert record["infinite_lattice"][1]["spontaneous_magnetization"] == 0.0
    assert len(record["finite_lattices"]["8"]) == 2
    assert (tmp_path / "o.png").stat().st_size > 10_000
