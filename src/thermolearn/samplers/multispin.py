"""Multi-spin-coded Metropolis: 64 independent replicas of a 2D lattice in the bits of uint64.

Bit b of word i holds spin i of replica b (1 means s = +1), so one pass of bitwise
operations updates site i in 64 replicas at once (multi-spin coding, as in Isakov et al.,
Comput. Phys. Commun. 192, 265 (2015)). The model must be a periodic 2D square lattice with
sides >= 3, zero field and couplings of one magnitude |J| (uniform ferro- or
antiferromagnets, and +-J spin glasses, with or without a stored geometry).

A flip of spin i changes the energy by Delta E = 4 |J| (2 - k), where k in 0..4 is the
number of unsatisfied bonds at i (bit-sliced from the four neighbour words). Metropolis
accepts when k >= 2, with probability p = exp(-4 beta |J|) when k = 1 and p^2 when k = 0.
Unlike Isakov et al., every replica gets its own random bits, so the replicas are
independent chains: a mask whose bits are 1 with probability p is drawn by comparing each
lane's uniform U (its bits revealed one random word at a time) with the binary expansion of
p, stopping when every lane is decided (about log2(64) + 2 words); U < p is then exact for
the double p. The k = 0 lanes take a second independent mask among those that passed the
first. Sites are visited in row-major order, like :class:`Metropolis` with order
'sequential'.

Chains come in groups of 64 (``n_chains`` must be a multiple of 64) that share an inverse
temperature. Group g draws from the generator of chain 64 g (the other rows of the state's
``rng`` are left untouched). Every call packs the int8 spins into words, sweeps, unpacks
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
from thermolearn.samplers.state import ChainState

LANES = 64
_SERIAL_WORK = 1_000_000  # spin updates per call below which one thread does everything
_COUNTER_BITS = 20  # vertical counter planes: flushed long before 2^20 sites


@njit(inline="always")
def _bernoulli_mask(need, mantissa, frac_bits, s0, s1, s2, s3):
    """A word whose bits, among the lanes set in ``need``, are 1 with probability
    p = mantissa 2^-frac_bits (exactly), independently; other lanes are 0.

    Lane b's uniform U has binary digits u_1 u_2 ... (bit b of successive random words);
    U < p is decided at the first digit where U and p differ."""
    if frac_bits < 0:  # p = 1
        return need, s0, s1, s2, s3
    result = uint64(0)
    undecided = need
    k = 1
    while undecided != 0 and k <= frac_bits:
        r, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
        shift = frac_bits - k
        if shift < 53 and (mantissa >> uint64(shift)) & uint64(1):
            result |= undecided & ~r  # digit of p is 1: lanes with digit 0 are below p
            undecided &= r
        else:
            undecided &= ~r  # digit of p is 0: lanes with digit 1 are above p
        k += 1
    return result, s0, s1, s2, s3  # lanes still undecided equal p's digits so far and p ends: U >= p


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
def _msc_sweeps(words, rng, seeds_rows, afm, afm_stride, rows, cols, mantissas, frac_bits, n_sweeps, accepted):
    """Sequential Metropolis sweeps of every group of 64 replicas (words: (n_groups, n))."""
    n_groups, n = words.shape
    for g in prange(n_groups):
        w = words[g]
        row = seeds_rows[g]
        s0, s1, s2, s3 = rng[row, 0], rng[row, 1], rng[row, 2], rng[row, 3]
        mant = uint64(mantissas[g])
        fb = frac_bits[g]
        planes = np.zeros(_COUNTER_BITS, dtype=np.uint64)
        counts = np.zeros(LANES, dtype=np.int64)
        since_flush = 0
        for _ in range(n_sweeps):
            for r in range(rows):
                base = r * cols
                up = base - cols if r > 0 else base + (rows - 1) * cols
                down = base + cols if r < rows - 1 else base - (rows - 1) * cols
                for c in range(cols):
                    i = base + c
                    left = i - 1 if c > 0 else i + cols - 1
                    right = i + 1 if c < cols - 1 else i - cols + 1
                    x = w[i]
                    m = i * afm_stride
                    u1 = x ^ w[left] ^ afm[m, 0]  # 1 where the bond is unsatisfied
                    u2 = x ^ w[right] ^ afm[m, 1]
                    u3 = x ^ w[up + c] ^ afm[m, 2]
                    u4 = x ^ w[down + c] ^ afm[m, 3]
                    a1 = u1 ^ u2
                    a2 = u3 ^ u4
                    at_least_two = (u1 & u2) | (u3 & u4) | (a1 & a2)
                    exactly_one = ~at_least_two & (a1 ^ a2)
                    none = ~(at_least_two | exactly_one)
                    flip = at_least_two
                    if (exactly_one | none) != 0:
                        first, s0, s1, s2, s3 = _bernoulli_mask(exactly_one | none, mant, fb, s0, s1, s2, s3)
                        flip |= exactly_one & first
                        if (none & first) != 0:
                            second, s0, s1, s2, s3 = _bernoulli_mask(none & first, mant, fb, s0, s1, s2, s3)
                            flip |= none & first & second
                    w[i] = x ^ flip
                    if flip != 0:
                        _count(planes, flip)
                    since_flush += 1
                    if since_flush == 1 << (_COUNTER_BITS - 1):
                        _flush(planes, counts)
                        since_flush = 0
        _flush(planes, counts)
        rng[row, 0], rng[row, 1], rng[row, 2], rng[row, 3] = s0, s1, s2, s3
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
        mantissas = np.empty(n_groups, dtype=np.uint64)
        frac_bits = np.empty(n_groups, dtype=np.int64)
        for g, beta in enumerate(groups[:, 0]):
            p = math.exp(-4.0 * beta * plan.abs_j)  # p for one unsatisfied bond; p^2 for none
            if p <= 0.0:
                mantissas[g], frac_bits[g] = 0, 0  # beta = inf: never climb
            elif p >= 1.0:
                mantissas[g], frac_bits[g] = 0, -1  # beta |J| below 1e-17: always flip
            else:
                f, e = math.frexp(p)  # p = f 2^e, f in [0.5, 1): p = (f 2^53) 2^(e - 53)
                mantissas[g], frac_bits[g] = int(f * 2.0**53), 53 - e
        words = np.empty((n_groups, model.n_spins), dtype=np.uint64)
        accepted = np.zeros(n_chains, dtype=np.int64)
        # waking the thread pool costs more than small calls take
        threads = thread_count(n_groups, n_chains * model.n_spins * n_sweeps, _SERIAL_WORK)
        with thread_limit(threads):
            _pack.compiled(state.spins, words)
            _msc_sweeps.compiled(
                words,
                state.rng,
                np.arange(n_groups, dtype=np.int64) * LANES,
                plan.afm,
                1 if plan.afm.shape[0] > 1 else 0,
                plan.rows,
                plan.cols,
                mantissas,
                frac_bits,
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
