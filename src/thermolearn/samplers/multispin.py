"""Multi-spin-coded Metropolis: 64 independent replicas of a 2D lattice in the bits of uint64.

Bit b of word i holds spin i of replica b (1 means s = +1), so one pass of bitwise
operations updates site i in 64 replicas at once (multi-spin coding, as in Isakov et al.,
Comput. Phys. Commun. 192, 265 (2015)). The model must be a periodic 2D square lattice with
sides >= 3, zero field and couplings of one magnitude |J| (uniform ferro- or
antiferromagnets, and +-J spin glasses, with or without a stored geometry).

A flip of spin i changes the energy by Delta E = 4 |J| (2 - k), where k in 0..4 is the
number of unsatisfied bonds at i (bit-sliced from the four neighbour words). Metropolis
accepts when k >= 2, with probability p = exp(-4 beta |J|) when k = 1 and p8 = exp(-8 beta |J|)
when k = 0. Unlike Isakov et al., every replica gets its own random bits, so the replicas are
independent chains: each lane of each site draws a uniform U, compared exactly with both p and
p8 (its binary digits revealed one random word at a time, compared with the binary expansions
of the doubles p and p8 until every lane is decided). Sites are visited in row-major order,
like :class:`Metropolis` with order 'sequential'.

How a row goes fast: first, for every site, the unsatisfied bonds among the three neighbours
that do not change before its turn (right, up, down; a vector loop), which tell which lanes need
U < p (k can be 1) and which U < p8 (k can be 0): lanes with two of them unsatisfied flip outright
and never draw. Then the uniforms, which do not depend on the spins, for 32 sites at a time with
one xoshiro256** stream per site advancing in step (a vector loop over the shared digit comparison
of :mod:`.random_digits`, until every lane that needs one is decided). Then every site's new spin
as a function of its left neighbour's (the one neighbour updated just before it), e ^ (left & d),
so that the sequential pass along the row costs two operations per site; flips are counted per
lane with carry-save adders, eight words at a time. Each sweep takes one key from the group's
generator and seeds the streams of row r from (key, r) with splitmix64. Stream history: up to
0.6.4 each group drew its words directly from its generator, one site at a time, and k = 0 lanes
took a second mask p x p (the distribution is the same, the bits are not); 0.6.6 draws exactly the
bits of 0.6.5 (lanes that need no comparison stop drawing, which changes no lane that does), so
0.6.5 checkpoints resume on the same streams.

Where the time goes, one core, 64 replicas of 128^2 near T_c (0.6.6): the exact comparisons
about 60%, the neighbour masks, seeding, the sequential pass and the counts the rest.

Chains come in groups of 64 (``n_chains`` must be a multiple of 64) that share an inverse
temperature. Group g takes its keys from the generator of chain 64 g (the other rows of the
state's ``rng`` are left untouched). Every call packs the int8 spins into words, sweeps, unpacks
them and recomputes energies and magnetisations: about 1.5-3.5 sweeps' worth of work at L = 64-512
(eight sites of eight chains at a time when the lattice has a multiple of 8 sites; 0.6.5: 16-25
sweeps), so give it several sweeps per call.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.kernel_threads import ThreadClock, over_items, thread_count
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next64
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.random_digits import compare_digit, seed_streams, stacked_digit_tables
from thermolearn.samplers.rules import warn_fixed_order_trap
from thermolearn.samplers.state import ChainState

LANES = 64
_SERIAL_WORK = 1_000_000  # spin updates per call below which one thread does everything
_COUNTER_BITS = 20  # vertical counter planes: flushed long before 2^20 sites
_CHUNK = 32  # sites drawn in one vector: the vector loop wants 32 words, and more words take more digits
_ROW_SALT = 0xD1B54A32D192ED03
_BLOCK = 512  # sites packed or unpacked together (their words: 4 KB, in the first-level cache)
_MEASURE_BITS = 48  # counter planes for up spins and unsatisfied bonds: 2^48 > 2 n for any n


@njit(inline="always")
def _row_masks(n, digits, cap, s0, s1, s2, s3, undecided4, undecided8, below4, below8):
    """For each of ``n`` sites, one fresh uniform U per lane (its binary digits: bit b of
    successive words of the site's stream), compared exactly with both thresholds:
    ``below4`` = lanes with U < p (one unsatisfied bond), ``below8`` = lanes with U < p8
    (none; p8 <= p). U < p is decided at the first digit where U and p differ; the n streams
    advance together, so the compiler runs them as vectors. A lane found U > p at digit k is
    always decided for p8 by then (its first k digits cannot equal p8's: they exceed p's, and
    p8 <= p), so the two comparisons need no coupling."""
    depth = digits.shape[0]
    anyu = uint64(0)
    for j in range(n):
        below4[j] = 0
        below8[j] = 0
        anyu |= undecided4[j] | undecided8[j]
    k = 0
    while anyu != 0 and k + 1 < depth:
        # two digits per pass: the streams' state is loaded and stored once for both
        t4, t8 = digits[k, 0], digits[k, 1]
        v4, v8 = digits[k + 1, 0], digits[k + 1, 1]
        anyu = uint64(0)
        for j in range(n):
            a0, a1, a2, a3 = s0[j], s1[j], s2[j], s3[j]
            r, a0, a1, a2, a3 = next64(a0, a1, a2, a3)
            q, a0, a1, a2, a3 = next64(a0, a1, a2, a3)
            s0[j], s1[j], s2[j], s3[j] = a0, a1, a2, a3
            yes4, _, a = compare_digit(undecided4[j], r, t4)
            yes8, _, b = compare_digit(undecided8[j], r, t8)
            more4, _, a = compare_digit(a, q, v4)
            more8, _, b = compare_digit(b, q, v8)
            below4[j] |= yes4 | more4
            below8[j] |= yes8 | more8
            undecided4[j] = a
            undecided8[j] = b
            anyu |= a | b
        k += 2
    while anyu != 0 and k < depth:
        t4, t8 = digits[k, 0], digits[k, 1]
        anyu = uint64(0)
        for j in range(n):
            r, s0[j], s1[j], s2[j], s3[j] = next64(s0[j], s1[j], s2[j], s3[j])
            yes4, _, a = compare_digit(undecided4[j], r, t4)
            yes8, _, b = compare_digit(undecided8[j], r, t8)
            below4[j] |= yes4
            below8[j] |= yes8
            undecided4[j] = a
            undecided8[j] = b
            anyu |= a | b
        k += 1
    for j in range(n):
        # lanes equal to p's digits where the table ends: U >= p, unless p = 1 (digits all ones)
        below4[j] |= undecided4[j] & cap[0]
        below8[j] |= undecided8[j] & cap[1]


@njit(inline="always")
def _count(planes, k, add):
    """Add the bits of ``add``, each worth 2^k, to a bit-sliced per-lane counter."""
    carry = add
    while carry != 0:
        t = planes[k] & carry
        planes[k] ^= carry
        carry = t
        k += 1


@njit(inline="always")
def _flush(planes, counts):
    for k in range(planes.shape[0]):
        w = planes[k]
        if w != 0:
            for b in range(LANES):
                counts[b] += np.int64((w >> uint64(b)) & uint64(1)) << k
            planes[k] = uint64(0)


@njit(inline="always")
def _csa(a, b, c):
    """Carry-save adder, lane by lane: (carry, sum) of three bits."""
    u = a ^ b
    return (a & b) | (u & c), u ^ c


@njit
def _count_row(planes, flips, n):
    """Add the bits of ``flips[:n]`` to the bit-sliced counter ``planes`` (weights 1, 2, 4, ...):
    sixteen words at a time through carry-save adders (Harley and Seal) on its four lowest planes,
    so the rippling carry loop runs once per sixteen words, not once per word."""
    ones, twos, fours, eights = planes[0], planes[1], planes[2], planes[3]
    c = 0
    while c + 16 <= n:
        ta, ones = _csa(ones, flips[c], flips[c + 1])
        tb, ones = _csa(ones, flips[c + 2], flips[c + 3])
        fa, twos = _csa(twos, ta, tb)
        ta, ones = _csa(ones, flips[c + 4], flips[c + 5])
        tb, ones = _csa(ones, flips[c + 6], flips[c + 7])
        fb, twos = _csa(twos, ta, tb)
        ea, fours = _csa(fours, fa, fb)
        ta, ones = _csa(ones, flips[c + 8], flips[c + 9])
        tb, ones = _csa(ones, flips[c + 10], flips[c + 11])
        fa, twos = _csa(twos, ta, tb)
        ta, ones = _csa(ones, flips[c + 12], flips[c + 13])
        tb, ones = _csa(ones, flips[c + 14], flips[c + 15])
        fb, twos = _csa(twos, ta, tb)
        eb, fours = _csa(fours, fa, fb)
        sixteens, eights = _csa(eights, ea, eb)
        if sixteens != 0:
            _count(planes, 4, sixteens)
        c += 16
    planes[0], planes[1], planes[2], planes[3] = ones, twos, fours, eights
    while c < n:
        if flips[c] != 0:
            _count(planes, 0, flips[c])
        c += 1


@njit(inline="always")
def _sweep_group(g, words, rng, seeds_rows, afm, afm_stride, rows, cols, digits, cap, n_sweeps, accepted):
    """Sequential Metropolis sweeps of group ``g`` of 64 replicas (words: (n_groups, n))."""
    everything = uint64(0xFFFFFFFFFFFFFFFF)
    w = words[g]
    row = seeds_rows[g]
    planes = np.zeros(_COUNTER_BITS + 8, dtype=np.uint64)  # a row's count on top of a flush's worth
    counts = np.zeros(LANES, dtype=np.int64)
    chunk = min(cols, _CHUNK)
    st = np.empty((4, chunk), dtype=np.uint64)
    undecided4 = np.empty(chunk, dtype=np.uint64)
    undecided8 = np.empty(chunk, dtype=np.uint64)
    yes4 = np.empty(chunk, dtype=np.uint64)
    yes8 = np.empty(chunk, dtype=np.uint64)
    need4 = np.empty(cols, dtype=np.uint64)
    need8 = np.empty(cols, dtype=np.uint64)
    below4 = np.empty(cols, dtype=np.uint64)
    below8 = np.empty(cols, dtype=np.uint64)
    two_of = np.empty(cols, dtype=np.uint64)
    one_of = np.empty(cols, dtype=np.uint64)
    some_of = np.empty(cols, dtype=np.uint64)
    shifted = np.empty(cols, dtype=np.uint64)
    flips = np.empty(cols, dtype=np.uint64)
    since_flush = 0
    for _ in range(n_sweeps):
        key, a0, a1, a2, a3 = next64(rng[row, 0], rng[row, 1], rng[row, 2], rng[row, 3])
        rng[row, 0], rng[row, 1], rng[row, 2], rng[row, 3] = a0, a1, a2, a3
        for r in range(rows):
            base = r * cols
            up = base - cols if r > 0 else base + (rows - 1) * cols
            down = base + cols if r < rows - 1 else base - (rows - 1) * cols
            wr = w[base : base + cols]
            wu = w[up : up + cols]
            wd = w[down : down + cols]
            ab = base * afm_stride
            b0 = afm[0, ab : ab + cols]
            b1 = afm[1, ab : ab + cols]
            b2 = afm[2, ab : ab + cols]
            b3 = afm[3, ab : ab + cols]
            # first, each site's unsatisfied bonds among the three neighbours that do not change
            # before its turn (right, up, down: a vector loop); the left bond is the sequential part
            for c in range(cols - 1):
                x = wr[c]
                u2 = x ^ wr[c + 1] ^ b1[c]  # 1 where the bond is unsatisfied
                u3 = x ^ wu[c] ^ b2[c]
                u4 = x ^ wd[c] ^ b3[c]
                two = (u2 & u3) | (u4 & (u2 ^ u3))  # at least two of the three
                some = u2 | u3 | u4
                two_of[c] = two
                one_of[c] = (u2 ^ u3 ^ u4) & ~two
                some_of[c] = some
                shifted[c] = x ^ b0[c]
                # the lanes whose flip depends on U < p (k can be 1) and on U < p8 (k can be 0)
                need4[c] = ~two
                need8[c] = ~some
            # the last site's right neighbour is site 0, updated before its turn: every lane draws
            shifted[cols - 1] = wr[cols - 1] ^ b0[cols - 1]
            need4[cols - 1] = everything
            need8[cols - 1] = everything
            # the uniforms do not depend on the spins: a chunk of sites at a time, in whole
            # scratch rows (contiguous to the compiler: vector loops); only the lanes that need
            # a comparison keep the streams going
            seed = key ^ (uint64(r) * uint64(_ROW_SALT))
            for c0 in range(0, cols, _CHUNK):
                c1 = min(c0 + _CHUNK, cols)
                seed_streams(st, seed, c0, cols, c1 - c0)
                for j in range(c1 - c0):
                    undecided4[j] = need4[c0 + j]
                    undecided8[j] = need8[c0 + j]
                _row_masks(c1 - c0, digits[g], cap[g], st[0], st[1], st[2], st[3], undecided4, undecided8, yes4, yes8)
                for j in range(c1 - c0):
                    below4[c0 + j] = yes4[j]
                    below8[c0 + j] = yes8[j]
            # every site's flip mask for either state of its left bond (the one neighbour updated
            # just before it): k unsatisfied bonds flip outright when k >= 2, with p when k = 1,
            # p8 when k = 0
            # with the left bond satisfied the site flips by f0, unsatisfied by f1, and the left
            # bond is unsatisfied where (x ^ afm) ^ left: so the new spin is
            # x ^ f0 ^ (((x ^ afm) ^ left) & (f0 ^ f1)) = e ^ (left & d), two operations on the
            # sequential path
            for c in range(cols - 1):
                f0 = two_of[c] | (one_of[c] & below4[c]) | (~some_of[c] & below8[c])
                d = f0 ^ (some_of[c] | below4[c])
                x = wr[c]
                flips[c] = x  # the old spins, for the flip masks below
                need4[c] = x ^ f0 ^ (shifted[c] & d)
                need8[c] = d
            left = wr[cols - 1]
            for c in range(cols - 1):
                left = need4[c] ^ (left & need8[c])
                wr[c] = left
            for c in range(cols - 1):
                flips[c] ^= wr[c]
            # the last site: its right neighbour (site 0) has been updated
            c = cols - 1
            x = wr[c]
            u2 = x ^ wr[0] ^ b1[c]
            u3 = x ^ wu[c] ^ b2[c]
            u4 = x ^ wd[c] ^ b3[c]
            two = (u2 & u3) | (u4 & (u2 ^ u3))
            some = u2 | u3 | u4
            u1 = shifted[c] ^ left
            f = (u1 & (some | below4[c])) | (~u1 & (two | ((u2 ^ u3 ^ u4) & ~two & below4[c]) | (~some & below8[c])))
            wr[c] = x ^ f
            flips[c] = f
            _count_row(planes, flips, cols)
            since_flush += cols
            if since_flush >= 1 << (_COUNTER_BITS - 1):
                _flush(planes, counts)
                since_flush = 0
    _flush(planes, counts)
    for b in range(LANES):
        accepted[g * LANES + b] = counts[b]


_BYTE_LOW = 0x0101010101010101  # bit 0 of each byte


@njit(inline="always")
def _pack_group(g, spins, spins8, whole_bytes, words):
    """int8 spins into words, bit b of word i = spin i of chain 64 g + b (1 for s = +1).

    With ``whole_bytes`` (rows of whole 8-site blocks, ``spins8`` the spins viewed as uint64):
    eight sites of eight chains at a time, each byte of a chain's uint64 one site (+1 = 0x01,
    -1 = 0xFF: the sign bit tells them apart), transposed with shifts and masks. Otherwise a
    block of sites at a time, one chain after another (the inner loop along a chain's row)."""
    n = words.shape[1]
    low = uint64(_BYTE_LOW)
    w = words[g]
    for i in range(n):
        w[i] = 0
    if whole_bytes:
        for b0 in range(0, LANES, 8):
            for i8 in range(n // 8):
                t = uint64(0)  # byte k, bit j: site 8 i8 + k of chain b0 + j is up
                for j in range(8):
                    v = spins8[g * LANES + b0 + j, i8]
                    t |= (((v >> uint64(7)) & low) ^ low) << uint64(j)
                for k in range(8):
                    w[8 * i8 + k] |= ((t >> uint64(8 * k)) & uint64(0xFF)) << uint64(b0)
    else:
        for i0 in range(0, n, _BLOCK):
            i1 = min(i0 + _BLOCK, n)
            for b in range(LANES):
                row = spins[g * LANES + b]
                shift = uint64(b)
                for i in range(i0, i1):
                    w[i] |= uint64((row[i] + 1) >> 1) << shift  # +1 -> 1, -1 -> 0


@over_items()
def _pack(spins, spins8, whole_bytes, words):
    """:func:`_pack_group` for every group."""
    for g in prange(words.shape[0]):
        _pack_group(g, spins, spins8, whole_bytes, words)


@njit(inline="always")
def _unpack_group(g, words, spins, spins8, whole_bytes, energy, magnetization, afm, afm_stride, rows, cols, abs_j):
    """Spins back to int8 (as :func:`_pack` packed them); each chain's magnetisation and energy
    from per-lane counts of up spins and of unsatisfied bonds (bit-sliced counters, a row of
    words at a time), E = -|J| (bonds - 2 unsatisfied)."""
    n = words.shape[1]
    low = uint64(_BYTE_LOW)
    w = words[g]
    if whole_bytes:  # the inverse of _pack's transposition: a byte is 0xFF ^ (0xFE u) for an up bit u
        for b0 in range(0, LANES, 8):
            for i8 in range(n // 8):
                t = uint64(0)
                for k in range(8):
                    t |= ((w[8 * i8 + k] >> uint64(b0)) & uint64(0xFF)) << uint64(8 * k)
                for j in range(8):
                    spins8[g * LANES + b0 + j, i8] = ~(((t >> uint64(j)) & low) * uint64(0xFE))
    else:
        for i0 in range(0, n, _BLOCK):
            i1 = min(i0 + _BLOCK, n)
            for b in range(LANES):
                row = spins[g * LANES + b]
                shift = uint64(b)
                for i in range(i0, i1):
                    row[i] = np.int8(2 * np.int64((w[i] >> shift) & uint64(1)) - 1)
    up_planes = np.zeros(_MEASURE_BITS, dtype=np.uint64)
    bad_planes = np.zeros(_MEASURE_BITS, dtype=np.uint64)
    bad = np.empty(cols, dtype=np.uint64)
    for r in range(rows):
        base = r * cols
        down = base + cols if r < rows - 1 else base - (rows - 1) * cols
        _count_row(up_planes, w[base : base + cols], cols)
        for c in range(cols):  # the right bond (site 0's from the last site)
            right = base + c + 1 if c < cols - 1 else base
            bad[c] = w[base + c] ^ w[right] ^ afm[(base + c) * afm_stride, 1]
        _count_row(bad_planes, bad, cols)
        for c in range(cols):  # the bond down
            bad[c] = w[base + c] ^ w[down + c] ^ afm[(base + c) * afm_stride, 3]
        _count_row(bad_planes, bad, cols)
    ups = np.zeros(LANES, dtype=np.int64)
    unsatisfied = np.zeros(LANES, dtype=np.int64)
    for k in range(_MEASURE_BITS):
        for b in range(LANES):
            ups[b] += np.int64((up_planes[k] >> uint64(b)) & uint64(1)) << k
            unsatisfied[b] += np.int64((bad_planes[k] >> uint64(b)) & uint64(1)) << k
    for b in range(LANES):
        magnetization[g * LANES + b] = 2 * ups[b] - n
        energy[g * LANES + b] = -abs_j * (2 * n - 2 * unsatisfied[b])


@over_items()
def _unpack_and_measure(words, spins, spins8, whole_bytes, energy, magnetization, afm, afm_stride, rows, cols, abs_j):
    """:func:`_unpack_group` for every group."""
    for g in prange(words.shape[0]):
        _unpack_group(g, words, spins, spins8, whole_bytes, energy, magnetization, afm, afm_stride, rows, cols, abs_j)


@over_items()
def _msc_call(
    spins, spins8, whole_bytes, words, rng, seeds_rows, bonds, stride, rows, cols, digits, cap, n_sweeps, accepted,
    energy, magnetization, afm, abs_j,
):  # fmt: skip
    """A whole call, group by group in one parallel region: pack, sweep, unpack and measure. One
    region, not three, because every barrier waits for the slowest thread, and on a machine with
    other work a descheduled thread holds up each one (bench_under_load: 512 chains, one sweep a
    call, kept 0.31-0.42 of their quiet throughput with three regions)."""
    for g in prange(words.shape[0]):
        _pack_group(g, spins, spins8, whole_bytes, words)
        _sweep_group(g, words, rng, seeds_rows, bonds, stride, rows, cols, digits, cap, n_sweeps, accepted)
        _unpack_group(g, words, spins, spins8, whole_bytes, energy, magnetization, afm, stride, rows, cols, abs_j)


class _Plan:
    """What the kernel needs: sides, per-bond antiferromagnet masks (one row for every site
    where all sites agree) and |J|."""

    def __init__(self, rows: int, cols: int, afm: np.ndarray, abs_j: float):
        self.rows, self.cols, self.afm, self.abs_j = rows, cols, afm, abs_j


def msc_plan(model: Ising) -> _Plan:
    """Check that ``model`` is a periodic 2D square lattice with zero field and couplings of
    one magnitude; raise ``ValueError`` saying what is wrong otherwise."""
    n = model.n_spins
    g = model.geometry
    if g is not None:
        if g.dim != 2 or not all(g.periodic):
            raise ValueError("metropolis-msc needs a periodic 2D square lattice; use 'metropolis' for other models")
        rows, cols = (int(x) for x in g.shape)
    else:
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(
                "metropolis-msc needs a periodic 2D square lattice (L x L sites for models without a "
                "stored geometry); use 'metropolis'"
            )
        rows = cols = side
    if min(rows, cols) < 3:
        raise ValueError("metropolis-msc needs lattice sides >= 3; use 'metropolis'")
    if np.any(model.fields != 0):
        raise ValueError("metropolis-msc needs zero fields (h = 0); use 'metropolis' for models in a field")
    if g is not None:
        # a geometry is checked against J and h when attached, so it holds the couplings: left,
        # right (along axis 1), up, down (axis 0) -- and a large lattice never builds its CSR
        j_dir = np.array([[g.couplings[1], g.couplings[1], g.couplings[0], g.couplings[0]]])
    else:
        grid = np.arange(n).reshape(rows, cols)
        nbr = np.stack(
            [
                np.roll(grid, 1, 1).ravel(),
                np.roll(grid, -1, 1).ravel(),
                np.roll(grid, 1, 0).ravel(),
                np.roll(grid, -1, 0).ravel(),
            ],
            axis=1,
        )
        if not (
            np.array_equal(model.indptr, np.arange(n + 1) * 4)
            and np.array_equal(model.indices.reshape(n, 4), np.sort(nbr, axis=1))
        ):
            raise ValueError(
                "metropolis-msc needs nearest-neighbour bonds of a periodic square lattice; use 'metropolis'"
            )
        j_dir = np.asarray(model.couplings[np.repeat(np.arange(n), 4), nbr.ravel()]).reshape(n, 4)
    abs_j = float(np.abs(j_dir[0, 0]))
    if abs_j == 0 or np.any(np.abs(j_dir) != abs_j):
        raise ValueError("metropolis-msc needs couplings of one magnitude |J| (uniform or +-J); use 'metropolis'")
    afm = np.where(j_dir < 0, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(0)).astype(np.uint64)
    if np.all(afm == afm[0]):
        afm = np.ascontiguousarray(afm[:1])  # one row for every site
    return _Plan(rows, cols, afm, abs_j)


class MultiSpinMetropolis(Sampler):
    """Sequential single-spin Metropolis on 64 replicas per machine word (multi-spin coding)
    for periodic 2D lattices with zero field and couplings +-|J|; ``n_chains`` a multiple of 64."""

    name = "metropolis-msc"
    supports_fields = False
    supports_any_graph = False  # periodic 2D square lattices with couplings +-|J| only
    chain_multiple = LANES
    sweep_blocks = True  # E and M are recomputed at the end of every call

    def __init__(self) -> None:
        self._plan: tuple[Ising, _Plan] | None = None
        # one thread or the pool, by their running times: on a busy machine the pool's regions
        # wait for a descheduled thread (bench_under_load: 512 chains at one sweep a call)
        self._clock = ThreadClock()

    def plan(self, model: Ising) -> _Plan:
        """The kernel's plan for ``model`` (sides, antiferromagnetic bond masks, |J|), kept for the last model."""
        if self._plan is None or self._plan[0] is not model:
            self._plan = (model, msc_plan(model))
        return self._plan[1]

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        self.plan(model)
        warn_fixed_order_trap(model, self.name)

    def chain_temperatures(self, temperature: float | None, n_chains: int) -> np.ndarray:
        if n_chains % LANES:
            raise ValueError(
                f"metropolis-msc runs chains in groups of {LANES}; n_chains must be a multiple of "
                f"{LANES}, got {n_chains}"
            )
        return super().chain_temperatures(temperature, n_chains)

    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        n_sweeps = self._check_call(model, state, n_sweeps)  # the chains (in full on first sight), n_sweeps >= 0
        plan = self.plan(model)
        n_chains = state.n_chains
        if n_chains % LANES:
            raise ValueError(f"metropolis-msc needs n_chains to be a multiple of {LANES}, got {n_chains}")
        betas = as_betas(betas, n_chains)
        groups = betas.reshape(-1, LANES)
        if np.any(groups != groups[:, :1]):
            raise ValueError(f"metropolis-msc: the {LANES} chains of a group (chains 64g..64g+63) share one beta")
        n_groups = groups.shape[0]
        # Metropolis: p = exp(-4 beta |J|) for one unsatisfied bond, exp(-8 beta |J|) for none
        digits, cap = stacked_digit_tables(
            [[math.exp(-4.0 * beta * plan.abs_j), math.exp(-8.0 * beta * plan.abs_j)] for beta in groups[:, 0]]
        )
        words = np.empty((n_groups, model.n_spins), dtype=np.uint64)
        accepted = np.zeros(n_chains, dtype=np.int64)
        # bond masks by direction (left, right, up, down) x site; uniform signs: one row's worth
        bonds = np.ascontiguousarray(plan.afm.T if plan.afm.shape[0] > 1 else np.repeat(plan.afm.T, plan.cols, axis=1))
        # rows of whole 8-site blocks are packed eight chains by eight sites at a time, through a
        # uint64 view of the int8 spins (little-endian: byte k is site k)
        whole_bytes = (
            model.n_spins % 8 == 0
            and sys.byteorder == "little"
            and state.spins.dtype == np.int8
            and state.spins.flags.c_contiguous
        )
        spins8 = state.spins.view(np.uint64) if whole_bytes else np.zeros((1, 1), dtype=np.uint64)
        # waking the thread pool costs more than small calls take
        threads = thread_count(n_groups, n_chains * model.n_spins * n_sweeps, _SERIAL_WORK)
        stride = 1 if plan.afm.shape[0] > 1 else 0
        self._clock.run(
            threads,
            int(n_sweeps),
            _msc_call.compiled,
            state.spins,
            spins8,
            whole_bytes,
            words,
            state.rng,
            np.arange(n_groups, dtype=np.int64) * LANES,
            bonds,
            stride,
            plan.rows,
            plan.cols,
            digits,
            cap,
            int(n_sweeps),
            accepted,
            state.energy,
            state.magnetization,
            plan.afm,
            plan.abs_j,
        )
        return SweepStats(accepted=accepted, attempted=np.full(n_chains, n_sweeps * model.n_spins))
