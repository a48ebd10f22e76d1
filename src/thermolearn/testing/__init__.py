"""Public conformance kits: checks that any sampler, ours or a third party's, can run on itself.

``from thermolearn.testing import check_sampler`` and call ``check_sampler(MySampler())`` in a
test: it compares the states the sampler visits with exact enumeration on small models (with
fields and frustration where the sampler declares it handles them), with negative controls
that prove the test could fail, and raises ``AssertionError`` with a readable message if the
sampler does not draw from exp(-E/T)/Z.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.testing.conformance import (
        CaseResult,
        ConformanceReport,
        ExactBins,
        check_sampler,
        chi_square_p_value,
        conformance_models,
        exact_bins,
        record_bins,
    )


_EXPORTS = {
    "CaseResult": "conformance",
    "check_sampler": "conformance",
    "chi_square_p_value": "conformance",
    "ConformanceReport": "conformance",
    "conformance_models": "conformance",
    "exact_bins": "conformance",
    "ExactBins": "conformance",
    "record_bins": "conformance",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
