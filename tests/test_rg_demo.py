"""The demo's RG section on its own: its tables and figures, the 1D free energy exact to rounding."""

from __future__ import annotations

import time

from thermolearn.demo.rg import section_rg
from thermolearn.viz.report import Report


def test_rg_section_writes_its_figures_and_tables_quickly(tmp_path):
    report = Report(tmp_path, "rg")
    start = time.perf_counter()
    section_rg(report)
    elapsed = time.perf_counter() - start
    page = report.write().read_text()
    for name in ("rg_chain_flow.png", "rg_migdal_kadanoff.png", "rg_mcrg.png", "rg_rbm.png"):
        assert (tmp_path / name).stat().st_size > 0
        assert name in page
    assert page.count("<table") == 4
    assert "0.304689" in page  # K* of the square lattice, b = 2
    assert elapsed < 30.0
