"""``thermolearn quantum exact|pimc|anneal``: the JSON contracts of issue 14, plots, checkpoints, and
one-line errors (exit 2) for negative or NaN fields, sizes beyond full diagonalisation and M < 1."""

from __future__ import annotations

import json
import math

import pytest

from thermolearn.cli import main as main_module
from thermolearn.quantum.exact import thermodynamics
from thermolearn.quantum.free_fermions import chain_low_levels, chain_thermodynamics
from thermolearn.quantum.pimc import trotter_exact


def _run(argv):
    return main_module.main(argv)


def test_exact_chain_json_contract_matches_free_fermions(tmp_path):
    out = tmp_path / "exact.json"
    plot = tmp_path / "lnz.png"
    argv = ["quantum", "exact", "--chain", "10", "--field", "1.3", "-T", "0.5", "2", "--json", str(out)]
    assert _run([*argv, "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    low = chain_low_levels(10, 1.3)
    assert record["ground_energy"] == pytest.approx(low[0], abs=1e-10)
    assert record["gap"] == pytest.approx(low[1] - low[0], abs=1e-10)
    assert isinstance(record["method"], str)
    ff = chain_thermodynamics(10, 1.3, [0.5, 2.0])
    assert [row["temperature"] for row in record["thermal"]] == [0.5, 2.0]
    for row, lz, e, c in zip(record["thermal"], ff.log_z, ff.energy, ff.specific_heat):
        assert set(row) >= {"temperature", "log_z", "energy", "specific_heat"}
        assert row["log_z"] == pytest.approx(lz, abs=1e-10)
        assert row["energy"] == pytest.approx(e, abs=1e-10)
        assert row["specific_heat"] == pytest.approx(c, abs=1e-9)
    assert plot.stat().st_size > 0


def test_exact_long_chain_uses_sectors_and_free_fermion_thermodynamics(tmp_path):
    out = tmp_path / "exact.json"
    assert _run(["quantum", "exact", "--chain", "18", "--field", "0.9", "-T", "1", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["method"].startswith("lanczos-sectors")
    assert record["ground_energy"] == pytest.approx(chain_low_levels(18, 0.9)[0], abs=1e-9)
    assert record["thermal_method"] == "free fermions"
    assert record["thermal"][0]["log_z"] == pytest.approx(chain_thermodynamics(18, 0.9, [1.0]).log_z[0], abs=1e-10)


def test_exact_lattice_field_scan_and_plot(tmp_path):
    out = tmp_path / "scan.json"
    plot = tmp_path / "scan.png"
    argv = ["quantum", "exact", "--lattice", "3x3", "--field", "3.044", "--field-scan", "2:4:3", "--no-progress"]
    assert _run([*argv, "--json", str(out), "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    assert [row["field"] for row in record["scan"]] == [2.0, 3.0, 4.0]
    ed = thermodynamics(_square_3x3(), 3.0, [1.0], method="dense")
    assert record["scan"][1]["ground_energy"] == pytest.approx(ed.ground_energy, abs=1e-9)
    assert plot.stat().st_size > 0


def _square_3x3():
    from thermolearn.models import Ising

    return Ising.lattice((3, 3), 1.0, 0.0)


def test_pimc_json_contract_against_trotterised_and_exact_energies(tmp_path):
    out = tmp_path / "pimc.json"
    plot = tmp_path / "pimc.png"
    argv = ["quantum", "pimc", "--chain", "6", "--field", "1", "--temperature", "1", "--slices", "4", "8"]
    argv += ["--sweeps", "4000", "--seed", "3", "--no-progress", "--json", str(out), "--plot", str(plot)]
    assert _run(argv) == 0
    record = json.loads(out.read_text())
    assert set(record["energy"]) == {"mean", "stderr"}
    assert record["slices"] == 8
    trotter = trotter_exact(_chain_6(), 1.0, 1.0, 8).energy
    assert record["trotter_exact_energy"] == pytest.approx(trotter, abs=1e-10)
    assert record["exact_energy"] == pytest.approx(chain_thermodynamics(6, 1.0, [1.0]).energy[0], abs=1e-10)
    assert abs(record["energy"]["mean"] - trotter) < 4 * record["energy"]["stderr"]
    assert len(record["runs"]) == 2 and "extrapolation" in record
    assert plot.stat().st_size > 0


def _chain_6():
    from thermolearn.models import Ising

    return Ising.lattice(6, 1.0, 0.0)


def test_pimc_checkpoint_resume_gives_the_same_record(tmp_path):
    ck = tmp_path / "pimc.npz"
    base = ["quantum", "pimc", "--chain", "5", "--field", "0.7", "-T", "0.8", "--slices", "4", "--sweeps", "600"]
    base += ["--seed", "2", "--no-progress", "--checkpoint-every", "100"]
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert _run([*base, "--checkpoint", str(ck), "--json", str(first)]) == 0
    assert ck.exists()
    assert _run([*base, "--checkpoint", str(ck), "--json", str(second)]) == 0  # resumes the finished run
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["energy"] == b["energy"] and a["sx"] == b["sx"]


def test_anneal_sk_with_sa_comparison_json(tmp_path):
    out = tmp_path / "anneal.json"
    plot = tmp_path / "anneal.png"
    argv = ["quantum", "anneal", "--sk", "30", "--sweeps", "100", "--reads", "3", "--slices", "4", "--compare-sa"]
    assert _run([*argv, "--no-progress", "--json", str(out), "--plot", str(plot)]) == 0
    record = json.loads(out.read_text())
    assert len(record["energies"]) == 3 and record["best_energy"] == min(record["energies"])
    assert record["sa"]["sweeps"] == 400
    assert math.isfinite(record["sa"]["best_energy"])
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["exact", "--chain", "6", "--field", "-1"], "--field"),
        (["exact", "--chain", "6", "--field", "nan"], "--field"),
        (["exact", "--chain", "20", "--field", "1", "--longitudinal", "0.1", "-T", "1"], "N <= 14.*lanczos"),
        (["exact", "--lattice", "4x4", "--field", "1", "-T", "1"], "N = 16 is too large.*pimc"),
        (["exact", "--chain", "16", "--field", "1", "--method", "dense"], "N <= 14.*lanczos"),
        (["exact", "--lattice", "4x4x4", "--field", "1"], "square-lattice"),
        (["exact", "--chain", "6", "--field", "1", "--field-scan", "3:1"], "H0:H1:COUNT"),
        (["pimc", "--chain", "6", "--field", "1", "-T", "1", "--slices", "0"], "--slices"),
        (["pimc", "--chain", "6", "--field", "0", "-T", "1", "--slices", "4"], "--field must be > 0"),
        (["pimc", "--chain", "6", "--field", "1", "-T", "1", "2", "--slices", "4"], "one value"),
        (["pimc", "--chain", "6", "--field", "1", "-T", "nan", "--slices", "4"], "--temperature"),
        (["anneal", "--sk", "10", "--gamma-range", "0.1", "1"], "--gamma-range"),
        (["anneal"], "model file or --sk"),
    ],
)
def test_bad_quantum_input_is_one_line_and_exit_2(argv, message, capsys):
    assert _run(["quantum", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and __import__("re").search(message, err[0]), err


def test_names_copied_into_the_cli_match_the_library():
    from thermolearn.cli import quantum_command as cli
    from thermolearn.quantum import exact, hamiltonian, pimc

    assert cli.SPECTRUM_METHOD_CHOICES == exact.SPECTRUM_METHODS
    assert cli.PIMC_SAMPLER_CHOICES == pimc.PIMC_SAMPLERS
    assert cli.MAX_TROTTER_EXACT_SPINS == pimc.MAX_TROTTER_EXACT_SPINS
    assert cli.MAX_FULL_DIAGONALISATION == hamiltonian.MAX_DENSE_SPINS == exact.MAX_SECTOR_FULL_SPINS
    assert cli.MAX_EXACT_SPINS == exact.MAX_SECTOR_LANCZOS_SPINS
