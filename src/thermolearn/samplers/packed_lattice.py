"""One big 2D lattice, bit-packed: checkerboard Metropolis and heat bath, 64 sites per machine word.

Multi-spin coding for a single lattice (not 64 replicas, as :mod:`.multispin` does): the
columns of an R x C periodic lattice are cut into S strips of W = C / S columns (S <= 64,
W even), and bit s of word (r, k) holds the spin at row r, column s W + k. Then

- every spin of a word has the same checkerboard colour, (r + k) mod 2 (W is even), so the
  sites of one colour are whole words, and updating them all at once is the checkerboard
  sweep: a spin's four neighbours are all of the other colour and do not change meanwhile;
- a word's neighbours are whole words: up and down are words (r -+ 1, k), left and right are
  words (r, k -+ 1), except across a strip edge (k = 0 or W - 1), where they are the words
  (r, W - 1) and (r, 0) rotated by one bit.

With k in 0..4 unsatisfied bonds at a site, flipping it changes the energy by
Delta E = 4 |J| (2 - k). The kernel bit-slices k from the four neighbour words and flips each
lane with the rule's probability for its k: Metropolis min(1, exp(-beta Delta E)), heat bath
1 / (1 + exp(beta Delta E)). One draw decides the lanes of every class that needs randomness:
each lane's uniform U is revealed one bit per random word and compared with the binary
expansion of its class's probability until every lane is decided (about log2(64) + 2 words),
so U < p is exact for the double p, as in :mod:`.multispin`.

Randomness and threads: each sweep takes one 64-bit key from the chain's generator and seeds
one xoshiro256** stream per row from it (splitmix64), so rows run on any number of threads
with the same result, bit for bit, and ``sweep(n)`` equals n calls of ``sweep(1)``. The model
must be a periodic 2D lattice with an even number of rows >= 4, columns divisible into an even
number W >= 2 of columns per strip, zero field and couplings of one magnitude |J| (uniform
ferro- or antiferromagnets and +-J glasses). Each call packs the spins, sweeps and unpacks
them (a few sweeps' worth of memory traffic): give it many sweeps per call.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.kernel_threads import MIN_PARALLEL_WORK, thread_count, thread_limit
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next64
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.multispin import msc_plan
from thermolearn.samplers.state import ChainState

MAX_STRIPS = 64
ALL_LANES = np.uint64(0xFFFFFFFFFFFFFFFF)
RULES = ("metropolis", "heatbath")
_GOLDEN = 0x9E3779B97F4A7C15


@njit(inline="always")
def _splitmix(x):
    """The next splitmix64 output and state (seeds the rows' xoshiro streams)."""
    x += uint64(_GOLDEN)
    z = x
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return x, z ^ (z >> uint64(31))


@njit(inline="always")
def _popcount(x):
    x = x - ((x >> uint64(1)) & uint64(0x5555555555555555))
    x = (x & uint64(0x3333333333333333)) + ((x >> uint64(2)) & uint64(0x3333333333333333))
    x = (x + (x >> uint64(4))) & uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * uint64(0x0101010101010101)) >> uint64(56))


@njit(inline="always")
def _flip_mask(c0, c1, c2, c3, c4, certain, digits, ended, s0, s1, s2, s3):
    """The lanes to flip: lanes ``cj`` (j unsatisfied bonds) flip with probability p_j,
    independently. ``certain[j]`` is all ones where p_j = 1; ``digits[k, j]`` is all ones where
    binary digit k + 1 of p_j is 1, ``ended[k, j]`` where p_j has no digits left after k (p_j = 0:
    ended from the start).

    Lane b's uniform U has binary digits u_1 u_2 ... (bit b of successive random words); U < p_j
    is decided at the first digit where they differ, or as U >= p_j once p_j's digits end."""
    flip = (c0 & certain[0]) | (c1 & certain[1]) | (c2 & certain[2]) | (c3 & certain[3]) | (c4 & certain[4])
    undecided = (c0 | c1 | c2 | c3 | c4) & ~flip
    k = 0
    depth = digits.shape[0]
    while undecided != 0 and k < depth:
        c0 &= undecided
        c1 &= undecided
        c2 &= undecided
        c3 &= undecided
        c4 &= undecided
        undecided &= ~(
            (c0 & ended[k, 0]) | (c1 & ended[k, 1]) | (c2 & ended[k, 2]) | (c3 & ended[k, 3]) | (c4 & ended[k, 4])
        )  # the threshold's digits ended and U equals them so far: U >= p
        if undecided == 0:
            break
        r, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
        ones = (
            (c0 & digits[k, 0]) | (c1 & digits[k, 1]) | (c2 & digits[k, 2]) | (c3 & digits[k, 3]) | (c4 & digits[k, 4])
        )
        ones &= undecided
        flip |= ones & ~r  # threshold digit 1, U's digit 0: U < p
        undecided &= ~(ones ^ r)  # U's digit equal to the threshold's: still undecided
        k += 1
    return flip, s0, s1, s2, s3


@njit(cache=True, parallel=True)
def _packed_sweeps(
    words, chain_rng, row_rng, afm, afm_stride, rows, width, strips, valid, certain, digits, ended, n_sweeps, flips
):
    """``n_sweeps`` checkerboard sweeps of one packed lattice (words: rows x width)."""
    top = uint64(strips - 1)
    for _ in range(n_sweeps):
        key, a0, a1, a2, a3 = next64(chain_rng[0], chain_rng[1], chain_rng[2], chain_rng[3])
        chain_rng[0], chain_rng[1], chain_rng[2], chain_rng[3] = a0, a1, a2, a3
        for colour in range(2):
            # two parallel regions per sweep (a region's end waits for every thread: under load
            # each wait can cost a scheduler time slice); the rows' streams are seeded in the first
            for r in prange(rows):
                if colour == 0:
                    x = key ^ (uint64(r) * uint64(0xD1B54A32D192ED03))
                    for j in range(4):
                        x, row_rng[r, j] = _splitmix(x)
                s0, s1, s2, s3 = row_rng[r, 0], row_rng[r, 1], row_rng[r, 2], row_rng[r, 3]
                base = r * width
                up = (r - 1 if r > 0 else rows - 1) * width
                down = (r + 1 if r < rows - 1 else 0) * width
                count = np.int64(0)
                for k in range((r + colour) & 1, width, 2):
                    i = base + k
                    x = words[i]
                    if k > 0:
                        left = words[i - 1]
                    else:
                        w = words[base + width - 1]
                        left = ((w << uint64(1)) | (w >> top)) & valid
                    if k < width - 1:
                        right = words[i + 1]
                    else:
                        w = words[base]
                        right = (w >> uint64(1)) | ((w & uint64(1)) << top)
                    m = i * afm_stride
                    u1 = x ^ left ^ afm[m, 0]  # 1 where the bond is unsatisfied
                    u2 = x ^ right ^ afm[m, 1]
                    u3 = x ^ words[up + k] ^ afm[m, 2]
                    u4 = x ^ words[down + k] ^ afm[m, 3]
                    a = u1 ^ u2
                    b = u3 ^ u4
                    c1 = u1 & u2
                    c2 = u3 & u4
                    odd = a ^ b
                    twos = c1 | c2 | (a & b)
                    k0 = ~(u1 | u2 | u3 | u4) & valid
                    k1 = odd & ~twos
                    k3 = odd & twos
                    k4 = c1 & c2
                    k2 = valid & ~(k0 | k1 | k3 | k4)
                    flip, s0, s1, s2, s3 = _flip_mask(k0, k1, k2, k3, k4, certain, digits, ended, s0, s1, s2, s3)
                    words[i] = x ^ flip
                    count += _popcount(flip)
                row_rng[r, 0], row_rng[r, 1], row_rng[r, 2], row_rng[r, 3] = s0, s1, s2, s3
                flips[r] += count


@njit(cache=True, parallel=True)
def _pack(spins, words, rows, cols, width, strips):
    for r in prange(rows):
        for k in range(width):
            x = uint64(0)
            for s in range(strips):
                x |= uint64((spins[r * cols + s * width + k] + 1) >> 1) << uint64(s)  # +1 -> 1, -1 -> 0
            words[r * width + k] = x


@njit(cache=True, parallel=True)
def _unpack_and_measure(words, spins, afm, afm_stride, rows, cols, width, strips, valid, out):
    """Spins back to int8; ``out[r]`` = (up spins, unsatisfied right and down bonds) of row r."""
    top = uint64(strips - 1)
    for r in prange(rows):
        ups = np.int64(0)
        bad = np.int64(0)
        down = (r + 1 if r < rows - 1 else 0) * width
        for k in range(width):
            i = r * width + k
            x = words[i]
            if k < width - 1:
                right = words[i + 1]
            else:
                w = words[r * width]
                right = (w >> uint64(1)) | ((w & uint64(1)) << top)
            m = i * afm_stride
            ups += _popcount(x)
            bad += _popcount((x ^ right ^ afm[m, 1]) & valid) + _popcount((x ^ words[down + k] ^ afm[m, 3]) & valid)
            for s in range(strips):
                spins[r * cols + s * width + k] = np.int8(2 * np.int64((x >> uint64(s)) & uint64(1)) - 1)
        out[r, 0] = ups
        out[r, 1] = bad


def strip_layout(cols: int) -> tuple[int, int]:
    """``(strips, width)`` for ``cols`` columns: the most strips S <= 64 with an even width W = cols / S >= 2."""
    for strips in range(min(MAX_STRIPS, cols // 2), 0, -1):
        if cols % strips == 0 and (cols // strips) % 2 == 0:
            return strips, cols // strips
    raise ValueError(f"packed lattices need an even number of columns, got {cols}")


class _PackedPlan:
    """The lattice's packing: sides, strips, per-word bond masks (left, right, up, down), |J|."""

    def __init__(self, model: Ising, name: str) -> None:
        try:
            plan = msc_plan(model)
        except ValueError as exc:
            raise ValueError(str(exc).replace("metropolis-msc", name)) from None
        rows, cols = plan.rows, plan.cols
        if rows % 2 or rows < 4:
            raise ValueError(f"{name} needs an even number of rows >= 4 (a checkerboard), got {rows}; use 'metropolis'")
        if cols % 2:
            raise ValueError(f"{name} needs an even number of columns (a checkerboard), got {cols}; use 'metropolis'")
        self.rows, self.cols, self.abs_j = rows, cols, plan.abs_j
        self.strips, self.width = strip_layout(cols)
        self.valid = np.uint64((1 << self.strips) - 1)
        if plan.afm.shape[0] == 1:  # one magnitude and one sign everywhere
            self.afm = np.where(plan.afm[:1] != 0, self.valid, np.uint64(0)).astype(np.uint64)
        else:
            # bit s of word (r, k) is site (r, s W + k): its four bond signs, packed the same way
            site = np.arange(rows)[:, None, None] * cols + np.arange(self.strips)[None, None, :] * self.width
            site = site + np.arange(self.width)[None, :, None]  # (rows, width, strips)
            negative = plan.afm[site.reshape(-1)] != 0  # (rows * width * strips, 4)
            bits = negative.reshape(rows * self.width, self.strips, 4).astype(np.uint64)
            shifts = np.arange(self.strips, dtype=np.uint64)[None, :, None]
            self.afm = np.bitwise_or.reduce(bits << shifts, axis=1).astype(np.uint64)
        self.afm_stride = 1 if self.afm.shape[0] > 1 else 0

    @property
    def n_words(self) -> int:
        return self.rows * self.width


def _fermi(x: float) -> float:
    """1 / (1 + exp(x)), without overflow for large |x|."""
    if x > 0:
        e = math.exp(-x)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(x))


def threshold_tables(probabilities: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact binary expansions of the five flip probabilities as lane masks:
    ``(certain, digits, ended)`` for :func:`_flip_mask` (p = f 2^e with a 53-bit f, so p has at
    most 53 significant digits after its leading zeros)."""
    certain = np.zeros(5, dtype=np.uint64)
    expansions: list[tuple[int, int]] = []  # (mantissa, digits after the point) of each 0 < p < 1
    for j, p in enumerate(probabilities):
        if p >= 1.0:
            certain[j] = ALL_LANES
            expansions.append((0, 0))
        elif p <= 0.0:
            expansions.append((0, 0))
        else:
            f, e = math.frexp(p)  # p = f 2^e, f in [0.5, 1): p = (f 2^53) 2^(e - 53)
            expansions.append((int(f * 2.0**53), 53 - e))
    depth = max(1, max(bits for _, bits in expansions))
    digits = np.zeros((depth, 5), dtype=np.uint64)
    ended = np.zeros((depth, 5), dtype=np.uint64)
    for j, (mantissa, bits) in enumerate(expansions):
        for k in range(depth):
            position = k + 1  # digit u_{k+1}, worth 2^-(k+1)
            if position > bits:  # p = 0 and p = 1 have no digits (p = 1 lanes never reach the draw)
                ended[k, j] = ALL_LANES
            elif (mantissa >> (bits - position)) & 1:
                digits[k, j] = ALL_LANES
    return certain, digits, ended


class PackedLatticeSampler(Sampler):
    """Checkerboard single-spin updates of one periodic 2D lattice packed 64 sites per word,
    multi-threaded over rows and bit-identical across thread counts (see the module docstring)."""

    name = "metropolis-packed"
    supports_fields = False
    supports_any_graph = False  # periodic 2D lattices with couplings +-|J| only
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

    def flip_probabilities(self, beta: float, abs_j: float) -> list[float]:
        """The probability of flipping a site with k = 0..4 unsatisfied bonds, Delta E = 4 |J| (2 - k)."""
        if math.isinf(beta):
            return [0.0, 0.0, 0.5 if self.rule_name == "heatbath" else 1.0, 1.0, 1.0]
        if self.rule_name == "heatbath":
            return [_fermi(4.0 * beta * abs_j * (2 - k)) for k in range(5)]
        return [min(1.0, math.exp(-4.0 * beta * abs_j * (2 - k))) for k in range(5)]

    def sweep(self, model: Ising, state: ChainState, betas, n_sweeps: int = 1) -> SweepStats:
        plan = self.plan(model)
        n_chains = state.n_chains
        betas = as_betas(betas, n_chains)
        accepted = np.zeros(n_chains, dtype=np.int64)
        words = np.empty(plan.n_words, dtype=np.uint64)
        row_rng = np.empty((plan.rows, 4), dtype=np.uint64)
        flips = np.zeros(plan.rows, dtype=np.int64)
        measured = np.empty((plan.rows, 2), dtype=np.int64)
        n = model.n_spins
        threads = thread_count(plan.rows, n * int(n_sweeps), MIN_PARALLEL_WORK)
        with thread_limit(threads):
            for c in range(n_chains):
                certain, digits, ended = threshold_tables(self.flip_probabilities(float(betas[c]), plan.abs_j))
                flips[:] = 0
                spins = state.spins[c]
                _pack(spins, words, plan.rows, plan.cols, plan.width, plan.strips)
                _packed_sweeps(
                    words,
                    state.rng[c],
                    row_rng,
                    plan.afm,
                    plan.afm_stride,
                    plan.rows,
                    plan.width,
                    plan.strips,
                    plan.valid,
                    certain,
                    digits,
                    ended,
                    int(n_sweeps),
                    flips,
                )
                _unpack_and_measure(
                    words,
                    spins,
                    plan.afm,
                    plan.afm_stride,
                    plan.rows,
                    plan.cols,
                    plan.width,
                    plan.strips,
                    plan.valid,
                    measured,
                )
                ups, bad = int(measured[:, 0].sum()), int(measured[:, 1].sum())
                state.magnetization[c] = 2 * ups - n
                state.energy[c] = -plan.abs_j * (2 * n - 2 * bad)
                accepted[c] = int(flips.sum())
        return SweepStats(accepted=accepted, attempted=np.full(n_chains, int(n_sweeps) * n))


class PackedLatticeHeatBath(PackedLatticeSampler):
    """Checkerboard heat bath (Glauber) of one bit-packed periodic 2D lattice."""

    name = "heatbath-packed"
    sweep_blocks = True
    rule_name = "heatbath"
