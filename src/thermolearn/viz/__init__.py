"""Plots (matplotlib, no screen needed), the HTML report and the offline interactive explorer."""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.viz.explorer import write_explorer
    from thermolearn.viz.report import Report, Section


_EXPORTS = {
    "write_explorer": "explorer",
    "Report": "report",
    "Section": "report",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
