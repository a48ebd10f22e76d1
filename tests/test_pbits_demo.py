"""The demo's p-bit section: it runs, writes its figures, and its tables state the exact values."""

from __future__ import annotations

from thermolearn.demo.pbits import section_pbits
from thermolearn.viz.report import Report


def test_pbits_demo_section_writes_its_figures_and_tables(tmp_path):
    report = Report(tmp_path, "p-bits")
    section_pbits(report)
    page = report.write().read_text()
    assert (tmp_path / "pbits_and_inverted.png").stat().st_size > 0
    assert (tmp_path / "pbits_factor.png").stat().st_size > 0
    assert "5 &times; 7" in page and "synchronous" in page and "Peretto" in page
