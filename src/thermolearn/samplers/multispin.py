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

How a row goes fast: the uniforms do not depend on the spins, so a row's comparisons are made
first, for 32 sites at a time with one xoshiro256** stream per site advancing in step (a vector
loop); then every site's flip mask is computed for both states of its left bond (its right, up
and down neighbours do not change before its turn), and the sequential pass along the row only
selects between the two. Each sweep takes one key from the group's generator and seeds the
streams of row r from (key, r) with splitmix64. (Stream history: up to 0.6.4 each group drew
its words directly from its generator, one site at a time, and k = 0 lanes took a second mask
p x p; the distribution is the same, the bits are not.)

Chains come in groups of 64 (``n_chains`` must be a multiple of 64) that share an inverse
temperature. Group g takes its keys from the generator of chain 64 g (the other rows of the
state's ``rng`` are left untouched). Every call packs the int8 spins into words, sweeps, unpacks
them and recomputes energies and magnetisations, so give it many sweeps per call.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.kernel_threads import over_items, thread_count, thread_limit
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next64
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.packed_lattice import digit_tables
from thermolearn.samplers.state import ChainState

LANES = 64
_SERIAL_WORK = 1_000_000  # spin updates per call below which one thread does everything
_COUNTER_BITS = 20  # vertical counter planes: flushed long before 2^20 sites
_GOLDEN = 0x9E3779B97F4A7C15
_CHUNK = 32  # sites whose masks are drawn in one vector (the vector loop wants 32 words)
_ROW_SALT = 0xD1B54A32D192ED03


@njit(inline="always")
def _splitmix(x):
    """The next splitmix64 output and state (seeds the rows' xoshiro streams)."""
    x += uint64(_GOLDEN)
    z = x
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return x, z ^ (z >> uint64(31))


@njit(inline="always")
def _row_masks(n, digits, cap, s0, s1, s2, s3, undecided4, undecided8, below4, below8):
    """For each of ``n`` sites, one fresh uniform U per lane (its binary digits: bit b of
    successive words of the site's stream), compared exactly with both thresholds:
    ``below4`` = lanes with U < p (one unsatisfied bond), ``below8`` = lanes with U < p8
    (none; p8 <= p). U < p is decided at the first digit where U and p differ; the n streams
    advance together, so the compiler runs them as vectors."""
    depth = digits.shape[0]
    everything = uint64(0xFFFFFFFFFFFFFFFF)
    for j in range(n):
        undecided4[j] = everything
        undecided8[j] = everything
        below4[j] = 0
        below8[j] = 0
    anyu = everything if n > 0 else uint64(0)
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
            a = undecided4[j]
            b = undecided8[j]
            yes4 = a & t4 & ~r  # threshold digit 1, U's digit 0: U < p
            above = a & r & ~t4  # U > p >= p8: decided for both
            a &= ~(r ^ t4)  # U's digit equal to the threshold's: still undecided
            yes8 = b & t8 & ~r
            b &= ~(r ^ t8) & ~above
            yes4 |= a & v4 & ~q
            above = a & q & ~v4
            a &= ~(q ^ v4)
            yes8 |= b & v8 & ~q
            b &= ~(q ^ v8) & ~above
            below4[j] |= yes4
            below8[j] |= yes8
            undecided4[j] = a
            undecided8[j] = b
            anyu |= a | b
        k += 2
    while anyu != 0 and k < depth:
        t4, t8 = digits[k, 0], digits[k, 1]
        anyu = uint64(0)
        for j in range(n):
            r, s0[j], s1[j], s2[j], s3[j] = next64(s0[j], s1[j], s2[j], s3[j])
            a = undecided4[j]
            b = undecided8[j]
            below4[j] |= a & t4 & ~r  # threshold digit 1, U's digit 0: U < p
            above = a & r & ~t4  # U > p >= p8: decided for both
            a &= ~(r ^ t4)  # U's digit equal to the threshold's: still undecided
            below8[j] |= b & t8 & ~r
            b &= ~(r ^ t8) & ~above
            undecided4[j] = a
            undecided8[j] = b
            anyu |= a | b
        k += 1
    for j in range(n):
        # lanes equal to p's digits where the table ends: U >= p, unless p = 1 (digits all ones)
        below4[j] |= undecided4[j] & cap[0]
        below8[j] |= undecided8[j] & cap[1]


@njit(inline="always")
def _count(planes, add):
    """Add the bits of ``add`` to a bit-sliced per-lane counter."""
    carry = add
    k = 0
    while carry != 0:
        t = planes[k] & carry
        planes[k] ^= carry
        carry = t
        k += 1


@njit(inline="always")
def _flush(planes, counts):
    for k in range(_COUNTER_BITS):
        w = planes[k]
        if w != 0:
            for b in range(LANES):
                counts[b] += np.int64((w >> uint64(b)) & uint64(1)) << k
            planes[k] = uint64(0)


@over_items()
def _msc_sweeps(words, rng, seeds_rows, afm, afm_stride, rows, cols, digits, cap, n_sweeps, accepted):
    """Sequential Metropolis sweeps of every group of 64 replicas (words: (n_groups, n))."""
    n_groups, n = words.shape
    for g in prange(n_groups):
        w = words[g]
        row = seeds_rows[g]
        planes = np.zeros(_COUNTER_BITS, dtype=np.uint64)
        counts = np.zeros(LANES, dtype=np.int64)
        chunk = min(cols, 2 * _CHUNK)  # the longest chunk of a row
        st = np.empty((4, chunk), dtype=np.uint64)
        undecided4 = np.empty(chunk, dtype=np.uint64)
        undecided8 = np.empty(chunk, dtype=np.uint64)
        yes4 = np.empty(chunk, dtype=np.uint64)
        yes8 = np.empty(chunk, dtype=np.uint64)
        below4 = np.empty(cols, dtype=np.uint64)
        below8 = np.empty(cols, dtype=np.uint64)
        shifted = np.empty(cols, dtype=np.uint64)
        flip_if_0 = np.empty(cols, dtype=np.uint64)
        flip_if_1 = np.empty(cols, dtype=np.uint64)
        flips = np.empty(cols, dtype=np.uint64)
        since_flush = 0
        for _ in range(n_sweeps):
            key, a0, a1, a2, a3 = next64(rng[row, 0], rng[row, 1], rng[row, 2], rng[row, 3])
            rng[row, 0], rng[row, 1], rng[row, 2], rng[row, 3] = a0, a1, a2, a3
            for r in range(rows):
                # the row's random masks first (they do not depend on the spins), a chunk of sites
                # at a time in whole scratch rows (contiguous to the compiler: vector loops)
                seed = key ^ (uint64(r) * uint64(_ROW_SALT))
                for c0 in range(0, cols, _CHUNK):
                    c1 = min(c0 + _CHUNK, cols) if cols - c0 >= 2 * _CHUNK else cols
                    if c0 >= c1:
                        break
                    for i in range(4):
                        for j in range(c1 - c0):
                            _, st[i, j] = _splitmix(seed + uint64(i * cols + c0 + j) * uint64(_GOLDEN))
                    _row_masks(
                        c1 - c0, digits[g], cap[g], st[0], st[1], st[2], st[3], undecided4, undecided8, yes4, yes8
                    )
                    for j in range(c1 - c0):
                        below4[c0 + j] = yes4[j]
                        below8[c0 + j] = yes8[j]
                    if c1 == cols:
                        break
                base = r * cols
                up = base - cols if r > 0 else base + (rows - 1) * cols
                down = base + cols if r < rows - 1 else base - (rows - 1) * cols
                wr = w[base : base + cols]
                wu = w[up : up + cols]
                wd = w[down : down + cols]
                ab = base * afm_stride
                a0 = afm[0, ab : ab + cols]
                a1 = afm[1, ab : ab + cols]
                a2 = afm[2, ab : ab + cols]
                a3 = afm[3, ab : ab + cols]
                # then, for every site, its flip mask for either state of its left bond (the one
                # neighbour updated just before it): the sequential part is a select per site
                for c in range(cols):
                    x = wr[c]
                    right = wr[c + 1] if c < cols - 1 else wr[0]  # site 0: updated before site cols - 1 reads it
                    u2 = x ^ right ^ a1[c]  # 1 where the bond is unsatisfied
                    u3 = x ^ wu[c] ^ a2[c]
                    u4 = x ^ wd[c] ^ a3[c]
                    two = (u2 & u3) | (u4 & (u2 ^ u3))  # at least two of the three
                    some = u2 | u3 | u4
                    # k unsatisfied bonds: flip outright when k >= 2, with p when k = 1, p8 when k = 0
                    flip_if_0[c] = two | ((u2 ^ u3 ^ u4) & ~two & below4[c]) | (~some & below8[c])
                    flip_if_1[c] = some | below4[c]
                    shifted[c] = x ^ a0[c]
                left = wr[cols - 1]
                for c in range(cols):
                    if c == cols - 1:  # its right neighbour is site 0 of the row, updated already
                        x = wr[c]
                        u2 = x ^ wr[0] ^ a1[c]
                        u3 = x ^ wu[c] ^ a2[c]
                        u4 = x ^ wd[c] ^ a3[c]
                        two = (u2 & u3) | (u4 & (u2 ^ u3))
                        some = u2 | u3 | u4
                        flip_if_0[c] = two | ((u2 ^ u3 ^ u4) & ~two & below4[c]) | (~some & below8[c])
                        flip_if_1[c] = some | below4[c]
                    u1 = shifted[c] ^ left  # 1 where the left bond is unsatisfied
                    f = (u1 & flip_if_1[c]) | (~u1 & flip_if_0[c])
                    left = wr[c] ^ f
                    wr[c] = left
                    flips[c] = f
                for c in range(cols):
                    if flips[c] != 0:
                        _count(planes, flips[c])
                    since_flush += 1
                    if since_flush == 1 << (_COUNTER_BITS - 1):
                        _flush(planes, counts)
                        since_flush = 0
        _flush(planes, counts)
        for b in range(LANES):
            accepted[g * LANES + b] = counts[b]


@over_items()
def _pack(spins, words):
    n_groups, n = words.shape
    for g in prange(n_groups):
        for i in range(n):
            x = uint64(0)
            for b in range(LANES):
                x |= uint64((spins[g * LANES + b, i] + 1) >> 1) << uint64(b)  # +1 -> 1, -1 -> 0
            words[g, i] = x


@over_items()
def _unpack_and_measure(words, spins, energy, magnetization, afm, afm_stride, rows, cols, abs_j):
    """Spins back to int8; each chain's magnetisation and energy from per-lane counts of up
    spins and of unsatisfied bonds (bit-sliced counters), E = -|J| (bonds - 2 unsatisfied)."""
    n_groups, n = words.shape
    for g in prange(n_groups):
        w = words[g]
        up_planes = np.zeros(_COUNTER_BITS + 4, dtype=np.uint64)
        bad_planes = np.zeros(_COUNTER_BITS + 4, dtype=np.uint64)
        for r in range(rows):
            base = r * cols
            down = base + cols if r < rows - 1 else base - (rows - 1) * cols
            for c in range(cols):
                i = base + c
                right = i + 1 if c < cols - 1 else i - cols + 1
                x = w[i]
                m = i * afm_stride
                _count(up_planes, x)
                _count(bad_planes, x ^ w[right] ^ afm[m, 1])
                _count(bad_planes, x ^ w[down + c] ^ afm[m, 3])
                for b in range(LANES):
                    spins[g * LANES + b, i] = np.int8(2 * np.int64((x >> uint64(b)) & uint64(1)) - 1)
        ups = np.zeros(LANES, dtype=np.int64)
        bad = np.zeros(LANES, dtype=np.int64)
        for k in range(_COUNTER_BITS + 4):
            for b in range(LANES):
                ups[b] += np.int64((up_planes[k] >> uint64(b)) & uint64(1)) << k
                bad[b] += np.int64((bad_planes[k] >> uint64(b)) & uint64(1)) << k
        for b in range(LANES):
            magnetization[g * LANES + b] = 2 * ups[b] - n
            energy[g * LANES + b] = -abs_j * (2 * n - 2 * bad[b])


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

    def plan(self, model: Ising) -> _Plan:
        if self._plan is None or self._plan[0] is not model:
            self._plan = (model, msc_plan(model))
        return self._plan[1]

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        self.plan(model)

    def chain_temperatures(self, temperature: float | None, n_chains: int) -> np.ndarray:
        if n_chains % LANES:
            raise ValueError(
                f"metropolis-msc runs chains in groups of {LANES}; n_chains must be a multiple of "
                f"{LANES}, got {n_chains}"
            )
        return super().chain_temperatures(temperature, n_chains)

    def sweep(self, model: Ising, state: ChainState, betas, n_sweeps: int = 1) -> SweepStats:
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
        tables = [
            digit_tables([math.exp(-4.0 * beta * plan.abs_j), math.exp(-8.0 * beta * plan.abs_j)])
            for beta in groups[:, 0]
        ]
        depth = max(d.shape[0] for d, _ in tables)
        digits = np.zeros((n_groups, depth, 2), dtype=np.uint64)
        cap = np.zeros((n_groups, 2), dtype=np.uint64)
        for g, (d, c) in enumerate(tables):
            digits[g, : d.shape[0]] = d
            digits[g, d.shape[0] :] = c  # p = 1: all ones to the end; other expansions have ended
            cap[g] = c
        words = np.empty((n_groups, model.n_spins), dtype=np.uint64)
        accepted = np.zeros(n_chains, dtype=np.int64)
        # bond masks by direction (left, right, up, down) x site; uniform signs: one row's worth
        bonds = np.ascontiguousarray(plan.afm.T if plan.afm.shape[0] > 1 else np.repeat(plan.afm.T, plan.cols, axis=1))
        # waking the thread pool costs more than small calls take
        threads = thread_count(n_groups, n_chains * model.n_spins * n_sweeps, _SERIAL_WORK)
        with thread_limit(threads):
            _pack.compiled(state.spins, words)
            _msc_sweeps.compiled(
                words,
                state.rng,
                np.arange(n_groups, dtype=np.int64) * LANES,
                bonds,
                1 if plan.afm.shape[0] > 1 else 0,
                plan.rows,
                plan.cols,
                digits,
                cap,
                int(n_sweeps),
                accepted,
            )
            _unpack_and_measure.compiled(
                words,
                state.spins,
                state.energy,
                state.magnetization,
                plan.afm,
                1 if plan.afm.shape[0] > 1 else 0,
                plan.rows,
                plan.cols,
                plan.abs_j,
            )
        return SweepStats(accepted=accepted, attempted=np.full(n_chains, n_sweeps * model.n_spins))
