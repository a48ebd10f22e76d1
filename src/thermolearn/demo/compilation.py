"""Timings the demo reports: measured after the first call has compiled its kernels.

Numba compiles a kernel on its first call (or loads it from the cache) and JAX traces and
compiles once per shape, so the first call of anything costs seconds that the second does
not. A table that reports how long an algorithm takes shows the second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def after_compilation(call: Callable[[], T]) -> tuple[T, float]:
    """Run ``call`` twice and return its result with the wall time (s) of the second, compiled run.

    ``call`` must be deterministic (fixed seeds), so both runs return the same numbers.
    """
    call()
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start
