"""How hard the property-based tests search.

In the suite (and CI) every Hypothesis test is derandomized: the same examples on every run, so
a green commit stays green. To hunt for new failures, run with ``THERMOLEARN_FUZZ_SCALE=30``
(any factor): examples are then drawn at random, that many times more of them; a failure it
finds is added to its test as an ``@example``, which the suite then runs for good.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import settings

SCALE = float(os.environ.get("THERMOLEARN_FUZZ_SCALE", "0") or 0)


def search_budget(max_examples: int, **options: Any) -> settings:
    """Hypothesis settings for ``max_examples`` examples in the suite (derandomized), or that many
    times THERMOLEARN_FUZZ_SCALE drawn at random when it is set; no deadline (kernels compile)."""
    if SCALE > 0:
        return settings(max_examples=max(1, int(max_examples * SCALE)), derandomize=False, deadline=None, **options)
    return settings(max_examples=max_examples, derandomize=True, deadline=None, **options)
