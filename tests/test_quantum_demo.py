"""The demo's quantum section on its own: its tables and figures, diagonalisation equal to free fermions."""

from __future__ import annotations

import re
import time

from thermolearn.demo.quantum import FIGURES, section_quantum
from thermolearn.viz.report import Report


def test_quantum_section_writes_its_figures_and_tables_quickly(tmp_path):
    report = Report(tmp_path, "quantum")
    start = time.perf_counter()
    section_quantum(report)
    elapsed = time.perf_counter() - start
    page = report.write().read_text()
    for name in FIGURES:
        assert (tmp_path / name).stat().st_size > 0
        assert name in page
    assert page.count("<table") == 2
    # the ring's ln Z by diagonalisation equals free fermions to rounding
    worst = float(re.search(r"largest \|&Delta; ln Z\| ([0-9]+(?:\.[0-9]+)?e[+-][0-9]+)", page).group(1))
    assert worst < 1e-10
    assert elapsed < 30.0
