"""The CLI's printed numbers: digits that follow the error bar, "-" for an undefined error, no
"-0", rounding noise shown as 0, verdicts and definitions the JSON carries also on the screen."""

from __future__ import annotations

import json
import math

import pytest

from thermolearn.cli.main import main
from thermolearn.cli.table import (
    chop,
    format_number,
    format_table,
    format_tau,
    format_value_error,
    value_error_parts,
)


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _table_row(out: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first`` (cells split on two spaces)."""
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("  ") if c.strip()]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{out}")


# ------------------------------------------------------------------------------ the formatters
@pytest.mark.parametrize(
    "value, error, expected",
    [
        (1234.5678, 0.0042, "1234.5678(0.0042)"),  # the value keeps the error's decimal places
        (0.3, 0.05, "0.300(0.050)"),
        (1.0, 0.0996, "1.00(0.10)"),  # the error rounds up to a new digit: one place coarser
        (-1.5312, 0.0191, "-1.531(0.019)"),
        (123456.7, 1234.0, "123500(1200)"),
        (2.157e-6, 2.66e-7, "2.16(0.27)e-06"),  # fixed point would need 8 decimals: scientific
        (5e9, 3e7, "5.000(0.030)e+09"),
        (-0.00001, 0.01, "0.000(0.010)"),  # rounds to zero: no "-0.000"
        (-32.0, math.nan, "-32(-)"),
        (0.5, None, "0.5(-)"),
        (-31.9998, 0.0, "-31.9998(-)"),  # a zero error is no error bar
        (None, 0.1, "-"),
        (math.nan, None, "-"),
    ],
)
def test_format_value_error(value, error, expected):
    assert format_value_error(value, error) == expected


def test_value_error_parts_and_the_plus_minus_style():
    assert value_error_parts(2.157e-6, 2.66e-7) == ("2.16e-06", "2.7e-07")
    assert value_error_parts(-4.0, None) == ("-4", "-")
    assert value_error_parts(1.0, math.inf) == ("1", "inf")
    assert format_value_error(0.98586, 0.00137, style="pm") == "0.9859 ± 0.0014"
    assert format_value_error(1.0, 0.0, style="pm") == "1 ± -"


def test_no_negative_zero_and_chop():
    assert format_number(-0.0) == "0"
    assert format_table(["x"], [[-0.0]]).splitlines()[-1].strip() == "0"
    assert format_number(-1e-20) == "-1e-20"  # a real small number keeps its sign
    assert chop(-1.85152e-15) == 0.0 and chop(3.6e-9) == 3.6e-9 and chop(3.6e-9, 1.0, 1e-8) == 0.0
    assert chop(None) is None and math.isnan(chop(math.nan)) and chop(5e-13, scale=1000.0) == 0.0


# ------------------------------------------------------------------------------ the commands
def test_ising_digits_follow_the_error_bar_and_temperatures_keep_six_digits(capsys):
    # C/N ~ 2e-6 +- 3e-7 at T = 1000 printed 0.0000(0.0000); 2.26918 and 2.26919 looked the same
    argv = ["ising", "-L", "4", "-T", "1000", "2.26918", "0.3", "--sweeps", "300", "--burn-in", "30", "--no-progress"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "0.0000(0.0000)" not in out
    rows = [[c.strip() for c in line.split("  ") if c.strip()] for line in out.splitlines()]
    rows = {r[1]: r for r in rows if r and r[0] == "4"}
    assert set(rows) == {"1000", "2.26918", "0.3"}
    # T = 0.3 is frozen: no error bar and no autocorrelation time (not 0.0000 and 0.5)
    assert rows["0.3"][2] == "-2(-)" and rows["0.3"][7:9] == ["-", "-"]
    assert "e-0" in out  # the specific heat at T = 1000 in scientific notation


def test_sample_of_a_frozen_chain_prints_dashes_not_nan_or_zero(capsys):
    argv = ["sample", "--lattice", "4x4", "-T", "0.05", "--sweeps", "200", "--burn-in", "10", "--no-progress"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "nan" not in out
    assert _table_row(out, "energy (total)")[1:] == ["-32", "-"]
    assert _table_row(out, "tau_int (energy, sweeps)")[1:] == ["- (frozen)", "-"]


def test_dynamics_langevin_and_sgd_print_the_unreliable_verdict(tmp_path, capsys):
    out_json = tmp_path / "l.json"
    argv = ["dynamics", "langevin", "--sampler", "mala", "--step", "0.05", "--steps", "100", "--no-progress"]
    code, out, _ = run([*argv, "--json", str(out_json)], capsys)
    assert code == 0 and json.loads(out_json.read_text())["reliable"] is False
    assert "warning: not reliable" in out
    out_json = tmp_path / "s.json"
    argv = ["dynamics", "sgd-temperature", "--steps", "300", "--chains", "2", "--no-progress"]
    code, out, _ = run([*argv, "--json", str(out_json)], capsys)
    assert code == 0 and json.loads(out_json.read_text())["reliable"] is False
    assert "warning: not reliable" in out


def test_pbits_factor_prints_k_of_n_chains_with_the_wilson_interval(tmp_path, capsys):
    out_json = tmp_path / "f.json"
    argv = ["pbits", "factor", "143", "--sweeps", "20", "--chains", "4", "--no-progress", "--json", str(out_json)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    record = json.loads(out_json.read_text())
    k = record["success_chains"]
    assert k == round(record["success_probability"]["mean"] * 4)
    low, high = record["success_wilson_95"]
    assert 0.0 <= low <= high <= 1.0 and high > 0.0  # 0 of 4 still leaves room up to ~0.49
    assert f"{k} of 4 chains (95% Wilson [" in out
    assert "0.0000 +- 0.0000" not in out


def test_float_scalars_of_numpy_and_jax_are_written_like_python_floats():
    import jax.numpy as jnp
    import numpy as np

    # float32 and JAX scalars are not float subclasses: they were printed by str, NaN as "nan"
    for nan in (np.float32("nan"), jnp.float32(jnp.nan)):
        assert format_number(nan) == "-"
        assert format_table(["x"], [[nan]]).splitlines()[-1].strip() == "-"
    assert format_number(np.float32(-0.0)) == "0" and format_number(np.float16(0.25)) == "0.25"
    assert format_number(np.int64(7)) == "7"


def test_an_autocorrelation_time_is_shown_only_for_a_series_that_changed():
    assert format_tau(3.14159, 0.02) == "3.14" and format_tau(3.14159, 0.02, ".2f") == "3.14"
    for stderr in (0.0, math.nan, None):
        assert format_tau(0.5, stderr) == "-"
    assert format_tau(math.nan, 0.1) == "-"


def test_quantum_pimc_two_slice_counts_have_no_chi2_and_a_frozen_run_no_error_bar(tmp_path, capsys):
    argv = ["quantum", "pimc", "--chain", "4", "--field", "0.01", "-T", "0.1", "--slices", "4", "6"]
    code, out, err = run([*argv, "--sweeps", "200", "--no-progress", "--json", str(tmp_path / "q.json")], capsys)
    assert code == 0
    assert "chi2/dof n/a (0 dof)" in out
    assert json.loads((tmp_path / "q.json").read_text())["extrapolation"]["dof"] == 0
    assert "± 0 " not in out + " " and "1 ± -" in out and "no error bar" in out
    # the energy never changed: no autocorrelation time (0.5 read as "uncorrelated"), no overflow
    assert _table_row(out, "4")[-1] == "-" and _table_row(out, "6")[-1] == "-"
    assert "overflow" not in err


def test_spinglass_pa_labels_the_total_energy_and_prints_no_zero_error(capsys):
    argv = ["spinglass", "pa", "--lattice", "4x4", "--couplings", "ferro", "-T", "0.6"]
    code, out, _ = run([*argv, "--population", "200", "--steps", "30", "--runs", "4", "--no-progress"], capsys)
    assert code == 0
    row = _table_row(out, "<E> (total)")
    assert row[1] == "-32" and row[2] == "-"
    assert "0.000000" not in out and "not 0" in out


def test_anneal_counts_the_reads_at_the_best_energy(tmp_path, capsys):
    from thermolearn import Ising

    Ising.sherrington_kirkpatrick(40, seed=3).save(tmp_path / "sk.npz")
    out_json = tmp_path / "a.json"
    argv = ["anneal", str(tmp_path / "sk.npz"), "--sweeps", "5", "--reads", "30", "--no-progress"]
    argv += ["--json", str(out_json)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    record = json.loads(out_json.read_text())
    best = min(record["energies"])
    k = sum(e <= best + 1e-9 for e in record["energies"])
    assert record["best_energy_reads"] == k and f"{k} of 30" in out and "%" not in out


def test_exact_and_meanfield_show_rounding_noise_as_zero(tmp_path, capsys):
    argv = ["exact", "--lattice", "4x4", "--method", "enumeration", "-T", "1.7", "--json", str(tmp_path / "e.json")]
    code, out, _ = run([*argv, "--no-progress"], capsys)
    assert code == 0 and "e-1" not in out and _table_row(out, "1.7")[-1] == "0"
    raw = json.loads((tmp_path / "e.json").read_text())["results"][0]["magnetization_per_spin"]
    assert abs(raw) < 1e-12  # the JSON keeps whatever the solver gave
    code, out, _ = run(["meanfield", "--lattice", "8x8", "-T", "3.99", "1000", "--no-progress"], capsys)
    assert code == 0
    assert _table_row(out, "3.99")[2] == "0" and _table_row(out, "1000")[1:3] == ["0", "0"]
    assert "JSON keeps the raw values" in out


def test_onsager_says_the_specific_heat_diverges_at_tc(tmp_path, capsys):
    out_json = tmp_path / "o.json"
    argv = ["onsager", "-T", "2", "2.269185314213022", "--json", str(out_json)]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "inf (log divergence at T_c)" in out
    assert json.loads(out_json.read_text())["infinite_lattice"][1]["specific_heat_per_spin"] is None


def test_compare_defines_m_per_spin_for_each_row(capsys):
    code, out, _ = run(["compare", "--lattice", "4x4", "-T", "2", "--methods", "exact", "mean_field"], capsys)
    assert code == 0
    assert "m/spin *" in out and "not the same quantity" in out
    assert "exact: <m> over all states" in out and "mean_field: m of the mean-field fixed point" in out


def test_rg_fmt_prints_a_dash_for_a_missing_number():
    from thermolearn.cli.rg_command import _fmt

    assert _fmt(None) == "-" and _fmt(math.nan, 4) == "-" and _fmt(-0.00001, 3) == "0.000" and _fmt(1.5, 2) == "1.50"


def test_pbits_fmt_and_the_sweep_cell():
    from types import SimpleNamespace

    from thermolearn.cli.pbits_command import _fmt
    from thermolearn.cli.sweep_command import _cell

    assert _fmt(SimpleNamespace(mean=0.98586, stderr=0.00137)) == "0.9859 +- 0.0014"
    assert "no error bar" in _fmt(SimpleNamespace(mean=0.0, stderr=0.0))
    assert _cell({"mean": 1234.5678, "stderr": 0.0042}) == "1234.5678(0.0042)"
    assert _cell({"mean": None, "stderr": None}) == "-"


def test_with_error_columns_rounds_a_value_and_its_error_in_two_columns():
    from thermolearn.cli.table import with_error_columns

    assert with_error_columns(["<theta_1>", -0.3238123, 0.0084567, -0.335407]) == [
        "<theta_1>",
        "-0.3238",
        "0.0085",
        -0.335407,
    ]
    assert with_error_columns(["ensemble NLL", 0.25, None, None]) == ["ensemble NLL", "0.25", "-", None]
    assert with_error_columns(["model", 64, 1.5, 0.25], 2, 3) == ["model", 64, "1.50", "0.25"]
    assert with_error_columns(["x", "text", 0.1]) == ["x", "text", 0.1]  # not numbers: kept


def test_groundstate_with_one_sample_or_all_hits_prints_no_zero_error(capsys):
    argv = ["spinglass", "groundstate", "--sk", "8", "--samples", "1", "--sweeps", "200", "--seed", "2"]
    code, out, _ = run([*argv, "--no-progress"], capsys)
    assert code == 0
    assert "(one sample: no error bar)" in out and "+- 0.000" not in out
    assert "1 of 1 samples" in out and "Wilson interval" in out
