"""``thermolearn rg decimate|migdal-kadanoff|mcrg|rbm``: the JSON contracts of issue 17, plots,
checkpoints, and one-line errors (exit 2) for block sizes that do not divide L, too many or too
few blockings or levels and too few samples."""

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
        (["rg"], "give an action: decimate, migdal-kadanoff, mcrg or rbm"),
        (["rg", "rbm", "--size", "10", "--b", "4"], "block size --b 4 does not divide the lattice side 10"),
        (["rg", "rbm", "--size", "8", "--levels", "2"], "--levels 2 leaves a 2 x 2 lattice"),
        (["rg", "rbm", "--size", "8", "--levels", "1", "--samples", "100"], "--samples 100 is too few"),
        (
            ["rg", "rbm", "--size", "8", "--levels", "1", "--samples", "700", "--batch-size", "800"],
            "--batch-size 800 is larger",
        ),
        (["rg", "rbm", "--size", "8", "--levels", "1", "--momentum", "1"], "--momentum must be in [0, 1)"),
        (["rg", "rbm", "--size", "8", "16"], "--size takes one lattice side"),
        (["rg", "rbm", "--delta", "1.5"], "--delta"),
        (["rg", "rbm", "--checkpoint", "x.json"], "x.json must end in .npz"),
        (["rg", "mcrg", "--size", "16", "--checkpoint-every", "0"], "--checkpoint-every"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        code = _run(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


RBM_ARGV = [
    "rg",
    "rbm",
    "--size",
    "8",
    "--levels",
    "1",
    "--samples",
    "700",
    "--epochs",
    "2",
    "--seed",
    "1",
    "--no-progress",
]


def test_rbm_json_contract_and_plot(tmp_path, capsys):
    out = tmp_path / "rbm.json"
    plot = tmp_path / "rbm.png"
    assert _run([*RBM_ARGV, "--json", str(out), "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    (layer,) = record["layers"]
    assert set(layer) >= {"locality", "rbm", "block", "level", "side"}
    for mapping in ("rbm", "block"):
        assert set(layer[mapping]) == {"below", "critical", "above", "rate"}
        assert set(layer[mapping]["critical"]) >= {"coupling", "stderr", "log_z_per_spin_nn_model"}
    assert set(record["verdict"]) >= {
        "receptive_fields_local",
        "receptive_fields_block_like",
        "rbm_direction_as_rg",
        "rbm_rate_as_rg",
        "rbm_is_rg",
    }
    assert record["arguments"]["l1"] == 0.01
    assert plot.stat().st_size > 0
    assert "verdict:" in capsys.readouterr().out


def test_rbm_checkpoint_resume_gives_the_same_json(tmp_path):
    import thermolearn.runs.rbm_rg as rr

    straight, resumed, ck = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "ck.npz"
    assert _run([*RBM_ARGV, "--json", str(straight)]) == 0
    original = rr._save

    def killed(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    rr._save = killed
    try:
        assert _run([*RBM_ARGV, "--checkpoint", str(ck)]) == 130
    finally:
        rr._save = original
    assert ck.exists()
    assert _run([*RBM_ARGV, "--checkpoint", str(ck), "--json", str(resumed)]) == 0
    a, b = json.loads(straight.read_text()), json.loads(resumed.read_text())
    a.pop("arguments"), b.pop("arguments")
    assert a == b


def test_mcrg_checkpoint_resume_gives_the_same_json(tmp_path):
    import thermolearn.rg.critical_sampling as cs

    argv = ["rg", "mcrg", "--size", "16", "--blockings", "1", "--samples", "400", "--burn-in", "20", "--no-progress"]
    straight, resumed, ck = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "ck.npz"
    assert _run([*argv, "--json", str(straight)]) == 0
    original = cs._save_mcrg

    def killed(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    cs._save_mcrg = killed
    try:
        assert _run([*argv, "--checkpoint", str(ck), "--checkpoint-every", "50"]) == 130
    finally:
        cs._save_mcrg = original
    assert _run([*argv, "--checkpoint", str(ck), "--checkpoint-every", "50", "--json", str(resumed)]) == 0
    a, b = json.loads(straight.read_text()), json.loads(resumed.read_text())
    a.pop("arguments"), b.pop("arguments")
    assert a == b
