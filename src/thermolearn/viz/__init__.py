"""Plots (matplotlib, no screen needed) and the HTML report."""

from thermolearn.viz.report import Report, Section

__all__ = ["Report", "Section"]
