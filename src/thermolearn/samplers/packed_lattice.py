"""One big lattice, bit-packed: checkerboard Metropolis and heat bath, 64 sites per machine word.

Multi-spin coding for a single lattice (not 64 replicas, as :mod:`.multispin` does), square
(2D) or simple cubic (3D), periodic. The sites are cut into *lines* along the last axis x (the
rows of a square lattice; the (z, y) lines of a cubic one) and each line's C columns into S
strips of W = C / S columns (S <= 64, W even): bit s of word (line, k) holds the site at column
s W + k. Then

- every spin of a word has the same checkerboard colour (W is even), so the sites of one
  colour are whole words; the words of each colour are stored apart, ``words[c, line, m]``
  being word k = 2 m + ((line parity + c) mod 2), so that a colour's update reads its
  neighbours from contiguous rows of the other colour: the same m in the lines above and below
  (and in front and behind, in 3D) and, within the line, words m and m -+ 1 (across a strip
  edge, a word of the line rotated by one bit);
- updating all words of one colour at once is the checkerboard sweep (a site's neighbours are
  all of the other colour and do not change meanwhile).

A site with k of its z = 2d bonds unsatisfied changes the energy by Delta E = 2 |J| (z - 2 k)
when it flips. The kernel bit-slices k from the z neighbour words and sorts the lanes into
groups d = min(k, z - k) with one flip probability each: Metropolis flips lanes with
Delta E <= 0 outright and lanes with k = d < z/2 with p_d = exp(-beta Delta E); heat bath flips
with 1 / (1 + exp(beta Delta E)), where the lanes with k > z/2 use the complement of their
group's p_d (1 - p is "not U < p", exactly). Each lane's uniform U is revealed one binary digit
per random word and compared with the binary expansion of its group's p until every lane is
decided (about log2(lanes) + 1.3 words), so U < p is exact for the double p (the digit tables,
the comparison step and the streams' seeding are shared with :mod:`.multispin`, in
:mod:`.random_digits`).

Randomness and threads: lines go in fixed groups of at least 32 words of a colour (one line
at L = 4096; four at L = 1024), and each word of a group has its own xoshiro256** stream, seeded
for every sweep and colour with splitmix64 from (the sweep's key, the group, the colour); the
sweep's key is the next word of the chain's generator. A group's streams advance in step, two
digits per pass, so the compiler runs them as vectors: a group takes as many digits as its
slowest lane (about 12 for 32 words, against 7.3 for one word alone), and still costs less than
one word at a time. Threads take contiguous blocks of groups (each core keeps its part of the
lattice in its own cache), so the result is the same, bit for bit, on any number of threads,
and ``sweep(n)`` equals n calls of ``sweep(1)``. Stream history: up to 0.6.4 the words of a row
were decided one at a time from one stream per row, seeded per sweep (this layout and these
streams replace it; the distribution is the same, the bits are not).

Where the time goes, one core, L = 4096 (benchmarks/bench_packed_lattice.py): the exact random
decisions about half, the bit-sliced neighbour counts a fifth, seeding and bookkeeping the rest;
memory traffic (the packed lattice is 2 MB) is far from a bound.

The model must be a periodic square or cubic lattice whose sides across the lines are even and
>= 4, with columns divisible into an even number W >= 2 of columns per strip, zero field and
couplings of one magnitude |J| (uniform ferro- or antiferromagnets and +-J glasses). Each call
packs the spins, sweeps and unpacks them: about two sweeps' worth at L = 1024 and 4096, where
strips and strip widths are multiples of 8 and the spins are transposed eight sites of eight
strips at a time (0.6.5: about seven; other layouts still pay that), so give it many sweeps per
call.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.kernel_threads import MIN_PARALLEL_WORK, thread_count, thread_limit
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next64
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.random_digits import compare_digit, digit_tables, seed_streams
from thermolearn.samplers.rules import warn_fixed_order_trap
from thermolearn.samplers.state import ChainState

MAX_STRIPS = 64
RULES = ("metropolis", "heatbath")
#: words decided together at least (lines are grouped up to it), each with its own generator
#: stream: the streams advance in step, so the compiler runs them as vectors
VECTOR = 32
#: flip-probability groups: d = 0, 1, 2 (k or z - k unsatisfied bonds) and the middle k = z / 2
GROUPS = 4
_LINE_SALT = 0xD1B54A32D192ED03
_BYTE_LOW = 0x0101010101010101  # bit 0 of each byte
_ROLES = 6  # neighbour words of a site: same m in the line, the one beside it, then 2 or 4 lines


@njit(inline="always")
def _popcount(x):
    x = x - ((x >> uint64(1)) & uint64(0x5555555555555555))
    x = (x & uint64(0x3333333333333333)) + ((x >> uint64(2)) & uint64(0x3333333333333333))
    x = (x + (x >> uint64(4))) & uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * uint64(0x0101010101010101)) >> uint64(56))


@njit(inline="always")
def _count_bits(u1, u2, u3, u4, u5, u6):
    """The number of set inputs, lane by lane, as three bit planes (carry-save adders)."""
    sa = u1 ^ u2 ^ u3
    ca = (u1 & u2) | (u3 & (u1 ^ u2))
    sb = u4 ^ u5 ^ u6
    cb = (u4 & u5) | (u6 & (u4 ^ u5))
    b0 = sa ^ sb
    c0 = sa & sb
    b1 = ca ^ cb ^ c0
    b2 = (ca & cb) | (c0 & (ca ^ cb))
    return b0, b1, b2


@njit(inline="always")
def _side_words(other, side, hw, p, top, valid):
    """The lateral neighbour that is not word m of the other colour: word m - 1 (p = 0) or
    m + 1 (p = 1), and across the strip edge the line's end word rotated by one strip."""
    if p == 0:
        w = other[hw - 1]
        side[0] = ((w << uint64(1)) | (w >> top)) & valid  # bit s <- bit s - 1 (strip s - 1's last column)
        for m in range(1, hw):
            side[m] = other[m - 1]
    else:
        w = other[0]
        side[hw - 1] = (w >> uint64(1)) | ((w & uint64(1)) << top)  # bit s <- bit s + 1
        for m in range(hw - 1):
            side[m] = other[m + 1]


@njit(inline="always")
def _lane_groups(u1, u2, u3, u4, u5, u6, valid, t3, mt, rnd, gb0, gb1, certain, inverted, i):
    """Word i's lanes by their number k of unsatisfied bonds (set bits of u1..u6)."""
    b0, b1, b2 = _count_bits(u1, u2, u3, u4, u5, u6)
    # k > z/2; k = z/2; d = 1, 2 (k or z - k unsatisfied bonds), square (t3 = 0) or cubic
    high = b2 | (~t3 & b0 & b1)
    mid = b1 & ~b2 & ~(b0 ^ t3)
    d1 = b0 & ((t3 & ~b1) | (~t3 & ~b2))
    d2 = ~b0 & (b1 ^ b2) & t3
    keep = ~(high & mt) & valid  # Metropolis: k >= z/2 flips outright
    mid_random = mid & ~mt
    rnd[i] = (~(mid & mt)) & keep  # every lane left (d = 0 included) draws
    gb0[i] = ((d1 & keep) | mid_random) & valid
    gb1[i] = ((d2 & keep) | mid_random) & valid
    certain[i] = (high | mid) & mt & valid
    inverted[i] = high & ~mt & valid


@njit(inline="always")
def _classify(own, other, side, n0, n1, n2, n3, am, hw, valid, t3, mt, rnd, gb0, gb1, certain, inverted, at):
    """Sort the lanes of a line's words of one colour by their number k of unsatisfied bonds
    (of z = 4, or 6 when ``t3`` is all ones) into ``certain`` flips (Metropolis, Delta E <= 0),
    random lanes ``rnd`` of flip-probability group gb1 gb0 (binary: d = 0, 1, 2, middle) and
    ``inverted`` lanes (heat bath, k > z/2: flip with the complement), at ``at + m``."""
    for m in range(hw):
        x = own[m]
        u1 = x ^ other[m] ^ am[0, m]  # 1 where the bond is unsatisfied
        u2 = x ^ side[m] ^ am[1, m]
        u3 = x ^ n0[m] ^ am[2, m]
        u4 = x ^ n1[m] ^ am[3, m]
        u5 = (x ^ n2[m] ^ am[4, m]) & t3
        u6 = (x ^ n3[m] ^ am[5, m]) & t3
        _lane_groups(u1, u2, u3, u4, u5, u6, valid, t3, mt, rnd, gb0, gb1, certain, inverted, at + m)


@njit(inline="always")
def _classify_single(
    words, colour, first, last, vert, parity, afm, afm_line, top, valid, t3, mt, rnd, gb0, gb1, certain, inverted
):
    """:func:`_classify` for lines of one word per colour (hw = 1), lines first .. last - 1."""
    o = 1 - colour
    for line in range(first, last):
        x = words[colour, line, 0]
        w = words[o, line, 0]
        if (parity[line] + colour) & 1:
            side = (w >> uint64(1)) | ((w & uint64(1)) << top)
        else:
            side = ((w << uint64(1)) | (w >> top)) & valid
        al = line * afm_line
        u1 = x ^ w ^ afm[colour, al, 0, 0]  # 1 where the bond is unsatisfied
        u2 = x ^ side ^ afm[colour, al, 1, 0]
        u3 = x ^ words[o, vert[line, 0], 0] ^ afm[colour, al, 2, 0]
        u4 = x ^ words[o, vert[line, 1], 0] ^ afm[colour, al, 3, 0]
        u5 = (x ^ words[o, vert[line, 2], 0] ^ afm[colour, al, 4, 0]) & t3
        u6 = (x ^ words[o, vert[line, 3], 0] ^ afm[colour, al, 5, 0]) & t3
        _lane_groups(u1, u2, u3, u4, u5, u6, valid, t3, mt, rnd, gb0, gb1, certain, inverted, line - first)


@njit(inline="always")
def _digits(n, k, stop, gb0, gb1, digits, four, s0, s1, s2, s3, undecided, accepted):
    """Binary digits k, k + 1, ... (until ``stop`` or every lane is decided) of the uniforms of
    ``n`` words: lane b's U has digits u_1 u_2 ... (bit b of successive words of its word's
    stream); U < p is decided at the first digit where U and p differ. The n streams advance
    together (one vector). ``four``: groups 2 and 3 occur (else gb1 is zero and a two-way
    choice of threshold digit suffices). Returns the next digit's index."""
    anyu = uint64(0)
    for j in range(n):
        anyu |= undecided[j]
    if four:
        while anyu != 0 and k + 1 < stop:
            # two digits per pass: the streams' state is loaded and stored once for both
            t0, t1, t2, t3 = digits[k, 0], digits[k, 1], digits[k, 2], digits[k, 3]
            v0, v1, v2, v3 = digits[k + 1, 0], digits[k + 1, 1], digits[k + 1, 2], digits[k + 1, 3]
            anyu = uint64(0)
            for j in range(n):
                a0, a1, a2, a3 = s0[j], s1[j], s2[j], s3[j]
                r, a0, a1, a2, a3 = next64(a0, a1, a2, a3)
                q, a0, a1, a2, a3 = next64(a0, a1, a2, a3)
                s0[j], s1[j], s2[j], s3[j] = a0, a1, a2, a3
                g0, g1 = gb0[j], gb1[j]
                th = (g1 & ((g0 & t3) | (~g0 & t2))) | (~g1 & ((g0 & t1) | (~g0 & t0)))  # group's digit
                acc, _, u = compare_digit(undecided[j], r, th)
                th = (g1 & ((g0 & v3) | (~g0 & v2))) | (~g1 & ((g0 & v1) | (~g0 & v0)))
                more, _, u = compare_digit(u, q, th)
                accepted[j] |= acc | more
                undecided[j] = u
                anyu |= u
            k += 2
        while anyu != 0 and k < stop:
            t0, t1, t2, t3 = digits[k, 0], digits[k, 1], digits[k, 2], digits[k, 3]
            anyu = uint64(0)
            for j in range(n):
                r, s0[j], s1[j], s2[j], s3[j] = next64(s0[j], s1[j], s2[j], s3[j])
                g0, g1 = gb0[j], gb1[j]
                th = (g1 & ((g0 & t3) | (~g0 & t2))) | (~g1 & ((g0 & t1) | (~g0 & t0)))  # group's digit
                acc, _, u = compare_digit(undecided[j], r, th)
                accepted[j] |= acc
                undecided[j] = u
                anyu |= u
            k += 1
    else:
        while anyu != 0 and k + 1 < stop:
            # two digits per pass: the streams' state is loaded and stored once for both
            t0, t1 = digits[k, 0], digits[k, 1]
            v0, v1 = digits[k + 1, 0], digits[k + 1, 1]
            anyu = uint64(0)
            for j in range(n):
                a0, a1, a2, a3 = s0[j], s1[j], s2[j], s3[j]
                r, a0, a1, a2, a3 = next64(a0, a1, a2, a3)
                q, a0, a1, a2, a3 = next64(a0, a1, a2, a3)
                s0[j], s1[j], s2[j], s3[j] = a0, a1, a2, a3
                g0 = gb0[j]
                th = (g0 & t1) | (~g0 & t0)
                acc, _, u = compare_digit(undecided[j], r, th)
                th = (g0 & v1) | (~g0 & v0)
                more, _, u = compare_digit(u, q, th)
                accepted[j] |= acc | more
                undecided[j] = u
                anyu |= u
            k += 2
        while anyu != 0 and k < stop:
            t0, t1 = digits[k, 0], digits[k, 1]
            anyu = uint64(0)
            for j in range(n):
                r, s0[j], s1[j], s2[j], s3[j] = next64(s0[j], s1[j], s2[j], s3[j])
                g0 = gb0[j]
                th = (g0 & t1) | (~g0 & t0)
                acc, _, u = compare_digit(undecided[j], r, th)
                accepted[j] |= acc
                undecided[j] = u
                anyu |= u
            k += 1
    return k


@njit(inline="always")
def _decide(n, rnd, gb0, gb1, digits, cap, four, st, undecided, accepted):
    """Lanes of ``rnd[:n]`` accepted with their group's probability, exactly (:func:`_digits`).

    Every word of the vector takes the digits until the last lane is decided (about
    log2(lanes) + 1.3 of them, against 7.3 for one word alone); packing the few undecided words
    together after a few digits was measured slower: the compiler's vector loop needs 32 words."""
    for j in range(n):
        undecided[j] = rnd[j]
        accepted[j] = 0
    _digits(n, 0, digits.shape[0], gb0, gb1, digits, four, st[0], st[1], st[2], st[3], undecided, accepted)
    c0, c1, c2, c3 = cap[0], cap[1], cap[2], cap[3]
    for j in range(n):
        g0, g1 = gb0[j], gb1[j]
        # lanes equal to p's digits where the table ends: U >= p, unless p = 1 (digits all ones)
        accepted[j] |= undecided[j] & ((g1 & ((g0 & c3) | (~g0 & c2))) | (~g1 & ((g0 & c1) | (~g0 & c0))))


@njit(cache=True, parallel=True)
def _packed_sweeps(
    words,
    chain_rng,
    vert,
    parity,
    afm,
    afm_line,
    hw,
    group_lines,
    strips,
    valid,
    three,
    metro,
    digits,
    cap,
    n_sweeps,
    flips,
    n_blocks,
):
    """``n_sweeps`` checkerboard sweeps of one packed lattice (words: (2, lines, hw)). Lines go
    in groups of ``group_lines`` (a vector of at least 32 words); group g's words draw from
    their own streams, seeded each sweep and colour from (key, g, colour)."""
    n_lines = words.shape[1]
    n_groups = -(-n_lines // group_lines)
    top = uint64(strips - 1)
    t3 = uint64(0xFFFFFFFFFFFFFFFF) if three else uint64(0)
    mt = uint64(0xFFFFFFFFFFFFFFFF) if metro else uint64(0)
    v = group_lines * hw
    for _ in range(n_sweeps):
        key, a0, a1, a2, a3 = next64(chain_rng[0], chain_rng[1], chain_rng[2], chain_rng[3])
        chain_rng[0], chain_rng[1], chain_rng[2], chain_rng[3] = a0, a1, a2, a3
        for colour in range(2):
            # one parallel region per colour, each thread a contiguous block of groups of lines
            for b in prange(n_blocks):
                side = np.empty(hw, dtype=np.uint64)
                rnd = np.empty(v, dtype=np.uint64)
                gb0 = np.empty(v, dtype=np.uint64)
                gb1 = np.empty(v, dtype=np.uint64)
                certain = np.empty(v, dtype=np.uint64)
                inverted = np.empty(v, dtype=np.uint64)
                undecided = np.empty(v, dtype=np.uint64)
                accepted = np.empty(v, dtype=np.uint64)
                st = np.empty((4, v), dtype=np.uint64)
                for g in range(b * n_groups // n_blocks, (b + 1) * n_groups // n_blocks):
                    first = g * group_lines
                    last = min(first + group_lines, n_lines)
                    n = (last - first) * hw
                    base = key ^ (uint64(2 * g + colour) * uint64(_LINE_SALT))
                    seed_streams(st, base, 0, v, v)
                    if hw == 1:
                        # one word per line and colour (cubic lattices of side <= 128): the group's
                        # lines in one loop, without a view per line
                        _classify_single(
                            words, colour, first, last, vert, parity, afm, afm_line, top, valid, t3, mt,
                            rnd, gb0, gb1, certain, inverted,
                        )  # fmt: skip
                    else:
                        for line in range(first, last):
                            p = (parity[line] + colour) & 1
                            other = words[1 - colour, line]
                            _side_words(other, side, hw, p, top, valid)
                            _classify(
                                words[colour, line],
                                other,
                                side,
                                words[1 - colour, vert[line, 0]],
                                words[1 - colour, vert[line, 1]],
                                words[1 - colour, vert[line, 2]],
                                words[1 - colour, vert[line, 3]],
                                afm[colour, line * afm_line],
                                hw,
                                valid,
                                t3,
                                mt,
                                rnd,
                                gb0,
                                gb1,
                                certain,
                                inverted,
                                (line - first) * hw,
                            )
                    _decide(n, rnd, gb0, gb1, digits, cap, three or not metro, st, undecided, accepted)
                    if hw == 1:
                        for line in range(first, last):
                            j = line - first
                            f = certain[j] | (accepted[j] ^ inverted[j])
                            words[colour, line, 0] ^= f
                            flips[line] += _popcount(f)
                    else:
                        for line in range(first, last):
                            own = words[colour, line]
                            at = (line - first) * hw
                            count = np.int64(0)
                            for m in range(hw):
                                f = certain[at + m] | (accepted[at + m] ^ inverted[at + m])
                                own[m] ^= f
                                count += _popcount(f)
                            flips[line] += count


@njit(cache=True, parallel=True)
def _pack(spins, spins8, whole_bytes, words, parity, cols, hw, width, strips):
    """int8 spins into the colour-separated words. With ``whole_bytes`` (strips and strip widths
    multiples of 8, ``spins8`` the spins viewed as uint64): eight columns of eight strips at a
    time, each byte of a uint64 one site (+1 = 0x01, -1 = 0xFF: the sign bit tells them apart),
    transposed with shifts and masks; otherwise strip by strip (contiguous, vector loops)."""
    low = uint64(_BYTE_LOW)
    for line in prange(words.shape[1]):
        row = np.zeros(width, dtype=np.uint64)  # the line's words in column order k
        base = line * cols
        if whole_bytes:
            for s0 in range(0, strips, 8):
                for k0 in range(0, width, 8):
                    t = uint64(0)  # byte kk, bit j: column k0 + kk of strip s0 + j is up
                    for j in range(8):
                        v = spins8[(base + (s0 + j) * width + k0) >> 3]
                        t |= (((v >> uint64(7)) & low) ^ low) << uint64(j)
                    for kk in range(8):
                        row[k0 + kk] |= ((t >> uint64(8 * kk)) & uint64(0xFF)) << uint64(s0)
        else:
            for s in range(strips):
                shift = uint64(s)
                for k in range(width):
                    row[k] |= uint64((spins[base + s * width + k] + 1) >> 1) << shift  # +1 -> 1, -1 -> 0
        for c in range(2):
            p = (parity[line] + c) & 1
            for m in range(hw):
                words[c, line, m] = row[2 * m + p]


@njit(cache=True, parallel=True)
def _unpack_and_measure(
    words, spins, spins8, whole_bytes, vert, parity, afm, afm_line, cols, hw, width, strips, valid, three, out
):
    """Spins back to int8 (as :func:`_pack` packed them); ``out[line]`` = (up spins, unsatisfied
    bonds of its colour-0 sites): every bond joins the two colours, so the colour-0 sites see
    each bond once."""
    low = uint64(_BYTE_LOW)
    top = uint64(strips - 1)
    t3 = uint64(0xFFFFFFFFFFFFFFFF) if three else uint64(0)
    for line in prange(words.shape[1]):
        side = np.zeros(hw, dtype=np.uint64)
        p = parity[line] & 1
        own = words[0, line]
        other = words[1, line]
        am = afm[0, line * afm_line]
        _side_words(other, side, hw, p, top, valid)
        ups = np.int64(0)
        bad = np.int64(0)
        for m in range(hw):
            x = own[m]
            u = (x ^ other[m] ^ am[0, m]) & valid
            bad += _popcount(u) + _popcount((x ^ side[m] ^ am[1, m]) & valid)
            bad += _popcount((x ^ words[1, vert[line, 0], m] ^ am[2, m]) & valid)
            bad += _popcount((x ^ words[1, vert[line, 1], m] ^ am[3, m]) & valid)
            bad += _popcount((x ^ words[1, vert[line, 2], m] ^ am[4, m]) & valid & t3)
            bad += _popcount((x ^ words[1, vert[line, 3], m] ^ am[5, m]) & valid & t3)
        row = np.empty(width, dtype=np.uint64)
        for c in range(2):
            pc = (parity[line] + c) & 1
            for m in range(hw):
                x = words[c, line, m]
                ups += _popcount(x)
                row[2 * m + pc] = x
        base = line * cols
        if whole_bytes:  # the inverse of _pack's transposition: a byte is 0xFF ^ (0xFE u) for an up bit u
            for s0 in range(0, strips, 8):
                for k0 in range(0, width, 8):
                    t = uint64(0)
                    for kk in range(8):
                        t |= ((row[k0 + kk] >> uint64(s0)) & uint64(0xFF)) << uint64(8 * kk)
                    for j in range(8):
                        spins8[(base + (s0 + j) * width + k0) >> 3] = ~(((t >> uint64(j)) & low) * uint64(0xFE))
        else:
            for s in range(strips):  # strip by strip: contiguous, vector loops
                shift = uint64(s)
                for k in range(width):
                    spins[base + s * width + k] = np.int8(2 * np.int64((row[k] >> shift) & uint64(1)) - 1)
        out[line, 0] = ups
        out[line, 1] = bad


def strip_layout(cols: int) -> tuple[int, int]:
    """``(strips, width)`` for ``cols`` columns: the most strips S <= 64 with an even width W = cols / S >= 2."""
    for strips in range(min(MAX_STRIPS, cols // 2), 0, -1):
        if cols % strips == 0 and (cols // strips) % 2 == 0:
            return strips, cols // strips
    raise ValueError(f"packed lattices need an even number of columns, got {cols}")


def _lattice_shape(model: Ising, name: str) -> tuple[tuple[int, ...], np.ndarray, float]:
    """The periodic square or cubic lattice of ``model``: its shape and, per site, the sign
    of the couplings to its 2d neighbours (x-, x+, y-, y+[, z-, z+]) as booleans (True:
    J < 0), one row for every site when all sites agree; and |J|, checked to be one value."""
    n = model.n_spins
    g = model.geometry
    if np.any(model.fields != 0):
        raise ValueError(f"{name} needs zero fields (h = 0); use 'metropolis' for models in a field")
    if g is not None:
        if g.dim not in (2, 3) or not all(g.periodic):
            raise ValueError(
                f"{name} needs a periodic 2D square or 3D cubic lattice; use 'metropolis' for other models"
            )
        shape = tuple(int(x) for x in g.shape)
        # couplings per axis: the last axis is x (along the lines), then y, then z
        j_dir = np.array([[g.couplings[a] for a in reversed(range(g.dim)) for _ in range(2)]])
    else:
        degree = np.diff(model.indptr)
        d = int(degree[0]) // 2 if n else 0
        side = round(n ** (1.0 / d)) if d in (2, 3) else 0
        if d not in (2, 3) or np.any(degree != 2 * d) or side**d != n:
            raise ValueError(
                f"{name} needs a periodic 2D square or 3D cubic lattice (L^d sites with 2d bonds each, for "
                "models without a stored geometry); use 'metropolis'"
            )
        shape = (side,) * d
        grid = np.arange(n).reshape(shape)
        nbr = np.stack([np.roll(grid, shift, axis).ravel() for axis in reversed(range(d)) for shift in (1, -1)], axis=1)
        if side < 3 or not np.array_equal(model.indices.reshape(n, 2 * d), np.sort(nbr, axis=1)):
            raise ValueError(f"{name} needs nearest-neighbour bonds of a periodic lattice; use 'metropolis'")
        j_dir = np.asarray(model.couplings[np.repeat(np.arange(n), 2 * d), nbr.ravel()]).reshape(n, 2 * d)
    abs_j = float(np.abs(j_dir[0, 0]))
    if abs_j == 0 or np.any(np.abs(j_dir) != abs_j):
        raise ValueError(f"{name} needs couplings of one magnitude |J| (uniform or +-J); use 'metropolis'")
    negative = j_dir < 0
    if np.all(negative == negative[0]):
        negative = negative[:1]
    return shape, negative, abs_j


class _PackedPlan:
    """The lattice's packing: shape, lines, strips, neighbour lines, per-word bond masks, |J|."""

    def __init__(self, model: Ising, name: str) -> None:
        shape, negative, self.abs_j = _lattice_shape(model, name)
        self.dim = len(shape)
        cols = shape[-1]
        across = shape[:-1]
        what = "rows" if self.dim == 2 else "sides"
        if any(a % 2 or a < 4 for a in across):
            raise ValueError(
                f"{name} needs an even number of {what} >= 4 (a checkerboard), got shape {shape}; use 'metropolis'"
            )
        if cols % 2:
            raise ValueError(f"{name} needs an even number of columns (a checkerboard), got {cols}; use 'metropolis'")
        self.shape, self.cols = shape, cols
        self.strips, self.width = strip_layout(cols)
        self.hw = self.width // 2
        self.group_lines = max(1, -(-VECTOR // self.hw))
        self.valid = np.uint64((1 << self.strips) - 1)
        n_lines = int(np.prod(across))
        self.n_lines = n_lines
        coords = np.indices(across).reshape(len(across), -1)  # (y) or (z, y) of each line
        self.parity = (coords.sum(axis=0) & 1).astype(np.int64)
        lines = np.arange(n_lines).reshape(across)
        vert = [np.roll(lines, shift, axis).ravel() for axis in reversed(range(len(across))) for shift in (1, -1)]
        if self.dim == 2:
            vert += [lines.ravel(), lines.ravel()]  # unused (masked in the kernel)
        self.vert = np.ascontiguousarray(np.stack(vert, axis=1), dtype=np.int64)
        self.afm, self.afm_line = self._bond_masks(negative)

    def _bond_masks(self, negative: np.ndarray) -> tuple[np.ndarray, int]:
        """``afm[c, line, role, m]``: lanes whose bond to neighbour role (same m, beside, y-, y+,
        z-, z+) is antiferromagnetic; one line for all when the signs are uniform."""
        d = self.dim
        if negative.shape[0] == 1:
            bits = np.zeros(_ROLES, dtype=bool)
            # same m and beside are both x bonds; then y-, y+, z-, z+
            bits[0] = bits[1] = negative[0, 0]
            bits[2:4] = negative[0, 2:4]
            if d == 3:
                bits[4:6] = negative[0, 4:6]
            afm = np.zeros((2, 1, _ROLES, self.hw), dtype=np.uint64)
            afm[:, :, :, :] = np.where(bits, self.valid, np.uint64(0))[None, None, :, None]
            return afm, 0
        afm = np.zeros((2, self.n_lines, _ROLES, self.hw), dtype=np.uint64)
        neg = negative.reshape(self.n_lines, self.cols, 2 * d)
        strips = np.arange(self.strips)
        shifts = strips.astype(np.uint64)
        for c in range(2):
            p = (self.parity + c) & 1  # (lines,)
            k = 2 * np.arange(self.hw)[None, :] + p[:, None]  # (lines, hw)
            col = k[:, :, None] + strips[None, None, :] * self.width  # (lines, hw, strips)
            site_bonds = neg[np.arange(self.n_lines)[:, None, None], col]  # (lines, hw, strips, 2d)
            # the word beside is m - 1 (left, x-) when p = 0 and m + 1 (right, x+) when p = 1
            same = np.where(p[:, None, None], site_bonds[..., 0], site_bonds[..., 1])
            beside = np.where(p[:, None, None], site_bonds[..., 1], site_bonds[..., 0])
            roles = [same, beside] + [site_bonds[..., j] for j in range(2, 2 * d)]
            for role, b in enumerate(roles):
                afm[c, :, role, :] = np.bitwise_or.reduce(b.astype(np.uint64) << shifts, axis=2)
        return afm, 1


def _fermi(x: float) -> float:
    """1 / (1 + exp(x)), without overflow for large |x|."""
    if x > 0:
        e = math.exp(-x)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(x))


def group_thresholds(rule: str, beta: float, abs_j: float, dim: int) -> list[float]:
    """The flip probability of each lane group: d = 0, 1, 2 (k or z - k of the z = 2 dim bonds
    unsatisfied, Delta E = 2 |J| (z - 2 d) for the k = d lanes) and the middle k = z / 2.

    Metropolis: exp(-beta Delta E) for k = d < z / 2 (the middle and k > z / 2 flip outright:
    the kernel never draws for them). Heat bath: 1 / (1 + exp(beta Delta E)) (the lanes with
    k = z - d flip with the complement). Unused groups (d = 2 on a square lattice) get 0."""
    z = 2 * dim
    out = [0.0] * GROUPS
    for d in range(z // 2):
        if d > 2:
            break
        de = 2.0 * abs_j * (z - 2 * d)
        if math.isinf(beta):
            out[d] = 0.0
        elif rule == "heatbath":
            out[d] = _fermi(beta * de)
        else:
            out[d] = min(1.0, math.exp(-beta * de))
    out[3] = 0.5 if rule == "heatbath" else 0.0
    return out


class PackedLatticeSampler(Sampler):
    """Checkerboard single-spin updates of one periodic square or cubic lattice packed 64 sites
    per word, multi-threaded over lines and bit-identical across thread counts (see the module
    docstring)."""

    name = "metropolis-packed"
    supports_fields = False
    supports_any_graph = False  # periodic square and cubic lattices with couplings +-|J| only
    sweep_blocks = True  # one key per sweep from the chain's generator; E and M recomputed per call
    rule_name = "metropolis"

    def __init__(self) -> None:
        self._plan: tuple[Ising, _PackedPlan] | None = None

    def plan(self, model: Ising) -> _PackedPlan:
        if self._plan is None or self._plan[0] is not model:
            self._plan = (model, _PackedPlan(model, self.name))
        return self._plan[1]

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        self.plan(model)
        if self.rule_name == "metropolis":  # the heat bath's free flips are coin tosses
            warn_fixed_order_trap(model, self.name)

    def sweep(self, model: Ising, state: ChainState, betas, n_sweeps: int = 1) -> SweepStats:
        n_sweeps = self._check_call(model, state, n_sweeps)  # the chains (in full on first sight), n_sweeps >= 0
        plan = self.plan(model)
        n_chains = state.n_chains
        betas = as_betas(betas, n_chains)
        accepted = np.zeros(n_chains, dtype=np.int64)
        words = np.zeros((2, plan.n_lines, plan.hw), dtype=np.uint64)
        flips = np.zeros(plan.n_lines, dtype=np.int64)
        measured = np.empty((plan.n_lines, 2), dtype=np.int64)
        n = model.n_spins
        threads = thread_count(plan.n_lines, n * int(n_sweeps), MIN_PARALLEL_WORK)
        three = plan.dim == 3
        # strips and widths in multiples of 8 (L = 1024, 4096, ...): eight sites of eight strips at
        # a time through a uint64 view of the int8 spins (little-endian: byte k is site k)
        whole_bytes = (
            plan.strips % 8 == 0
            and plan.width % 8 == 0
            and sys.byteorder == "little"
            and state.spins.dtype == np.int8
            and state.spins.flags.c_contiguous
        )
        no_view = np.zeros(1, dtype=np.uint64)
        with thread_limit(threads):
            for c in range(n_chains):
                digits, cap = digit_tables(group_thresholds(self.rule_name, float(betas[c]), plan.abs_j, plan.dim))
                flips[:] = 0
                spins = state.spins[c]
                spins8 = spins.view(np.uint64) if whole_bytes else no_view
                _pack(spins, spins8, whole_bytes, words, plan.parity, plan.cols, plan.hw, plan.width, plan.strips)
                _packed_sweeps(
                    words,
                    state.rng[c],
                    plan.vert,
                    plan.parity,
                    plan.afm,
                    plan.afm_line,
                    plan.hw,
                    plan.group_lines,
                    plan.strips,
                    plan.valid,
                    three,
                    self.rule_name == "metropolis",
                    digits,
                    cap,
                    int(n_sweeps),
                    flips,
                    threads,
                )
                _unpack_and_measure(
                    words,
                    spins,
                    spins8,
                    whole_bytes,
                    plan.vert,
                    plan.parity,
                    plan.afm,
                    plan.afm_line,
                    plan.cols,
                    plan.hw,
                    plan.width,
                    plan.strips,
                    plan.valid,
                    three,
                    measured,
                )
                ups, bad = int(measured[:, 0].sum()), int(measured[:, 1].sum())
                state.magnetization[c] = 2 * ups - n
                state.energy[c] = -plan.abs_j * (plan.dim * n - 2 * bad)
                accepted[c] = int(flips.sum())
        return SweepStats(accepted=accepted, attempted=np.full(n_chains, int(n_sweeps) * n))


class PackedLatticeHeatBath(PackedLatticeSampler):
    """Checkerboard heat bath (Glauber) of one bit-packed periodic square or cubic lattice."""

    name = "heatbath-packed"
    sweep_blocks = True
    rule_name = "heatbath"
