"""The VAN as a row of the comparison table: a lower bound on log Z, an order of magnitude
closer to the exact F than mean field, TAP and Bethe on a small lattice; run only when named."""

from __future__ import annotations

import json

from thermolearn.cli import main as main_module
from thermolearn.models import Ising
from thermolearn.runs.comparison import compare, methods_that_fit


def test_van_row_is_a_bound_far_tighter_than_mean_field_tap_and_bethe():
    model, T = Ising.lattice((4, 4)), 2.5
    table = compare(model, T, methods=("exact", "mean_field", "tap", "bethe", "van"), settings={"van": {"steps": 300}})
    exact, van = table.row("exact"), table.row("van")
    assert van.kind == "lower_bound" and "importance-sampling log Z" in van.detail
    assert van.log_z <= exact.log_z + 4 * van.log_z_stderr
    van_error = exact.log_z - van.log_z + 4 * van.log_z_stderr
    for method in ("mean_field", "tap", "bethe"):
        assert abs(exact.log_z - table.row(method).log_z) > 10 * van_error, method


def test_van_runs_only_when_named(tmp_path):
    model = Ising.lattice((3, 3))
    assert "van" not in methods_that_fit(model) and "van" in methods_that_fit(model, include_named_only=True)
    path = tmp_path / "c.json"
    argv = ["compare", "--lattice", "4x4", "-T", "2.5", "--methods", "exact", "van", "--van-steps", "300"]
    assert main_module.main([*argv, "--no-progress", "--json", str(path)]) == 0
    rows = {r["method"]: r for r in json.loads(path.read_text())["methods"]}
    assert (
        set(rows) == {"exact", "van"}
        and rows["van"]["log_z"] <= rows["exact"]["log_z"] + 4 * rows["van"]["log_z_stderr"]
    )
    assert "300 steps" in rows["van"]["detail"]
