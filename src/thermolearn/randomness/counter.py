"""Stateless counter-based draws for vectorised compiled loops: SplitMix64 (Steele, Lea and
Flood 2014). Draw k of the stream keyed by (seed, epoch, update, row) is a pure function of
those numbers, so loops over draws vectorise, nothing depends on the thread count, and any
draw can be recomputed on resume.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio, SplitMix64's increment


@njit(inline="always")
def mix64(z):
    """SplitMix64's output function: a bijective mix of 64 bits."""
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


@njit(inline="always")
def splitmix64(x):
    """The next output and the advanced counter ``value, x``. The output is a bijective mix of
    the input, so it also hashes keys such as (run, update, row) into the starts of streams."""
    x = x + uint64(GOLDEN)
    return mix64(x), x


@njit(inline="always")
def counter_uniform32(key, counter):
    """Draw number ``counter`` of the stream that starts at ``key``, as a float32-exact uniform
    in [0, 1) (24 bits)."""
    z = mix64(key + (counter + uint64(1)) * uint64(GOLDEN))
    return np.float32(z >> uint64(40)) * np.float32(5.9604644775390625e-08)
