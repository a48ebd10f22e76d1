"""The diffusion demo section runs end to end (with a tiny training budget) and writes its figures."""

from __future__ import annotations

from thermolearn.demo.diffusion import section_diffusion
from thermolearn.viz.report import Report


def test_diffusion_demo_section_writes_figures_and_a_table(tmp_path):
    report = Report(tmp_path, "diffusion")
    section_diffusion(report, iterations=100)
    sec = report.sections[-1]
    assert "Swiss roll" in sec.title
    for name, _ in sec.figures:
        assert (tmp_path / name).stat().st_size > 5000
    header, rows = sec.tables[0]
    assert header[1] == "K (bits)" and any("2.35" in row[1] for row in rows)
    assert (report.write()).is_file()
