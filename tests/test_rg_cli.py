"""``thermolearn rg decimate|migdal-kadanoff|mcrg``: the JSON contracts of issue 17, plots, and
one-line errors (exit 2) for block sizes that do not divide L, too many or too few blockings and
too few samples."""

from __future__ import annotations

import json
import math

import pytest

from thermolearn.cli import main as main_module
from thermolearn.cli import rg_command


@pytest.fixture(autouse=True)
def _rg_registered(monkeypatch):
    if rg_command not in main_module.COMMANDS:
        monkeypatch.setattr(main_module, "COMMANDS", (*main_module.COMMANDS, rg_command))


def _run(argv):
    return main_module.main(argv)


def test_decimate_json_contract_and_free_energy(tmp_path):
    out = tmp_path / "flow.json"
    plot = tmp_path / "flow.png"
    assert _run(["rg", "decimate", "--coupling", "0.8", "--levels", "4", "--json", str(out), "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    assert len(record["couplings"]) == 5
    assert record["couplings"][1] == pytest.approx(math.atanh(math.tanh(0.8) ** 2), rel=1e-14)
    assert record["free_energy_per_spin"] == pytest.approx(math.log(2 * math.cosh(0.8)), rel=1e-14)
    assert record["exact_free_energy_per_spin"] == pytest.approx(math.log(2 * math.cosh(0.8)), rel=1e-14)
    assert plot.stat().st_size > 0


def test_migdal_kadanoff_json_contract(tmp_path):
    out = tmp_path / "mk.json"
    plot = tmp_path / "mk.png"
    assert (
        _run(["rg", "migdal-kadanoff", "--lattice", "square", "--b", "2", "--json", str(out), "--plot", str(plot)]) == 0
    )
    record = json.loads(out.read_text())
    assert record["fixed_point"] == pytest.approx(0.30468893, abs=1e-8)
    assert record["nu"] == pytest.approx(math.log(2) / math.log(record["thermal_eigenvalue"]), rel=1e-14)
    assert plot.stat().st_size > 0


def test_mcrg_json_contract(tmp_path, capsys):
    out = tmp_path / "mcrg.json"
    plot = tmp_path / "mcrg.png"
    argv = ["rg", "mcrg", "--size", "16", "--blockings", "1", "--samples", "400", "--burn-in", "20", "--seed", "3"]
    assert _run([*argv, "--json", str(out), "--plot", str(plot), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    assert [lv["level"] for lv in record["levels"]] == [1]
    level = record["levels"][0]
    assert set(level["y_t"]) == {"mean", "stderr"} and set(level["y_h"]) == {"mean", "stderr"}
    # level 1 of L = 16 with 400 samples: y_h = 15/8 within 4 bootstrap errors plus the level-1 truncation bias
    assert abs(level["y_h"]["mean"] - 15 / 8) < 4 * level["y_h"]["stderr"] + 0.015
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["rg", "mcrg", "--size", "12", "--blockings", "3"], "must be a multiple of b^blockings = 8"),
        (["rg", "mcrg", "--size", "16", "--blockings", "3"], "use at most 2 blocking"),
        (["rg", "mcrg", "--size", "16", "--blockings", "0"], "--blockings must be at least 1"),
        (["rg", "mcrg", "--size", "16", "--samples", "50"], "need at least 200"),
        (["rg", "mcrg", "--size", "16", "--b", "1"], "expected an integer >= 2"),
        (["rg", "decimate", "--coupling", "nan"], "--coupling"),
        (["rg", "decimate", "--coupling", "0.5", "--levels", "100000"], "levels must be an integer from 0 to"),
        (["rg", "migdal-kadanoff", "--lattice", "hex"], "invalid choice"),
        (["rg"], "give an action: decimate, migdal-kadanoff or mcrg"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        code = _run(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
