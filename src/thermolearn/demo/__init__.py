"""The demo: a short tour where every capability adds one small, real section.

Each section is a function ``(report) -> None`` in its own module of this package, listed
in :data:`SECTIONS` (module :mod:`.tour`, with :func:`run_demo`); the whole tour must stay
under three minutes on two cores, so each section is small.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.demo.tour import SECTIONS, run_demo


_EXPORTS = {
    "SECTIONS": "tour",
    "run_demo": "tour",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
