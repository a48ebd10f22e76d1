"""Packed Bernoulli bits: 64 lanes per machine word, each lane accepted exactly with probability p.

The multi-spin-coded samplers (:mod:`.packed_lattice`, :mod:`.multispin`) decide, for every lane
(bit) of a 64-bit word, whether a fresh uniform U in [0, 1) lies below a flip probability p (a
Boltzmann weight, dimensionless). U's binary digits u_1 u_2 ... are bit b of successive words of
a generator stream, and p's digits come from its exact binary expansion (a double p = f 2^e has at
most 53 significant digits), so U < p is decided at the first digit where the two differ: U's
digit 0 and p's 1 means U < p, the reverse U > p. Each digit decides half of the lanes still
undecided; a word needs about log2(64) + 1.3 = 7.3 digits, a vector of 32 words in step about 12.
The comparison is exact for the double p: P(U < p) = p.

Shared here: the thresholds' digit tables (lane masks, :func:`digit_tables`), the comparison of one
digit (:func:`compare_digit`), and the seeding of the per-word xoshiro256** streams with splitmix64
(:func:`seed_streams`). Each sampler keeps its own loop around them (which thresholds a lane
compares with is the sampler's business, and those loops are what the compiler vectorises).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import uint64

from thermolearn.kernel_cache import njit

#: a lane mask with every lane set
ALL_LANES = np.uint64(0xFFFFFFFFFFFFFFFF)
#: splitmix64's increment (2^64 / golden ratio), also the stride between seeding counters
GOLDEN = 0x9E3779B97F4A7C15


@njit(inline="always")
def splitmix64(x):
    """The next splitmix64 state and output (Steele, Lea and Flood 2014): ``state, output``."""
    x += uint64(GOLDEN)
    z = x
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return x, z ^ (z >> uint64(31))


@njit(inline="always")
def seed_streams(st, base, first, stride, n):
    """Seed ``n`` xoshiro256** streams, ``st[:, :n]`` (shape (4, >= n)): word i of stream j is the
    splitmix64 output of the counter base + (i stride + first + j) x GOLDEN, so stream j depends
    only on (base, first + j), not on how the streams are cut into vectors."""
    for i in range(4):
        for j in range(n):
            _, st[i, j] = splitmix64(base + uint64(i * stride + first + j) * uint64(GOLDEN))


@njit(inline="always")
def compare_digit(undecided, r, t):
    """One binary digit of the comparison U < p, lane by lane: ``r`` holds the lanes' digits of
    U, ``t`` (all ones or all zeros) the threshold's. Returns ``(below, above, undecided)``: the
    lanes decided U < p and U > p at this digit, and those still equal to p's digits so far."""
    below = undecided & t & ~r  # p's digit 1, U's digit 0
    above = undecided & r & ~t
    return below, above, undecided & ~(r ^ t)


def digit_tables(thresholds: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The exact binary expansions of probabilities p_g as lane masks: ``digits[k, g]`` is all
    ones where binary digit k + 1 of p_g is 1, ``cap[g]`` all ones where p_g = 1 (its digits
    never end: a lane still equal to them when the table ends has U < 1 = p). p = f 2^e with a
    53-bit f, so p has at most 53 significant digits after its leading zeros; p <= 0 never
    accepts and p >= 1 always does."""
    expansions: list[tuple[int, int]] = []  # (mantissa, digits after the point) of each 0 < p < 1
    cap = np.zeros(len(thresholds), dtype=np.uint64)
    for g, p in enumerate(thresholds):
        if math.isnan(p):
            raise ValueError(f"threshold {g} is NaN; flip probabilities must be numbers in [0, 1]")
        if p >= 1.0:
            cap[g] = ALL_LANES
            expansions.append((-1, 0))
        elif p <= 0.0:
            expansions.append((0, 0))
        else:
            f, e = math.frexp(p)  # p = f 2^e, f in [0.5, 1): p = (f 2^53) 2^(e - 53)
            expansions.append((int(f * 2.0**53), 53 - e))
    depth = max((bits for _, bits in expansions), default=0)
    digits = np.zeros((depth, len(thresholds)), dtype=np.uint64)
    for g, (mantissa, bits) in enumerate(expansions):
        for k in range(depth):
            position = k + 1  # digit u_{k+1}, worth 2^-(k+1)
            if mantissa < 0 or (position <= bits and (mantissa >> (bits - position)) & 1):
                digits[k, g] = ALL_LANES  # p = 1 = 0.111...: all ones
    return digits, cap


def stacked_digit_tables(rows: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`digit_tables` of several sets of thresholds (one per group of chains at its own
    temperature), padded to one depth: ``digits`` (n_sets, depth, n_thresholds), ``cap``
    (n_sets, n_thresholds). Past a table's end each threshold's digits are its cap (all ones
    for p = 1, zeros for an expansion that has ended)."""
    tables = [digit_tables(row) for row in rows]
    width = len(rows[0]) if len(rows) else 0
    depth = max((d.shape[0] for d, _ in tables), default=0)
    digits = np.zeros((len(tables), depth, width), dtype=np.uint64)
    cap = np.zeros((len(tables), width), dtype=np.uint64)
    for g, (d, c) in enumerate(tables):
        digits[g, : d.shape[0]] = d
        digits[g, d.shape[0] :] = c
        cap[g] = c
    return digits, cap
