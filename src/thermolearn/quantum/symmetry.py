"""Symmetry sectors of the transverse-field Ising model: lattice translations and the Z2 spin flip.

H commutes with every translation of a periodic chain or square lattice that maps (J, h, Gamma)
to itself, and with the global flip prod_i sx_i when h = 0. A sector is a character of that
abelian group: momenta (q_0, q_1) = 2 pi (m_0 / T_0, m_1 / T_1) and a flip parity z = +-1. In a
sector, H is a block on the normalised orbit states |a~> = sum_g chi(g)* g|a> / sqrt(n_a) of the
representatives a (the smallest basis index of each orbit); blocks are 2 |G| times smaller than
2^N, which is what brings 24+ spins within reach of Lanczos.

A basis state k (spin i is -1 when bit i is 1) is translated by rotating bit rows: sites are row
major, site = i_0 * L_1 + i_1, so a shift along the last axis rotates each row of L_1 bits and a
shift along the first axis rotates the whole word by L_1 bits per step; the flip is k ^ (2^N - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from thermolearn.kernel_cache import njit
from thermolearn.models.ising import Ising
from thermolearn.resources import check_memory

# a group element index e = (flip * T0 + d0) * T1 + d1 must fit the int16 table and the uint64 stabiliser mask
MAX_GROUP_ORDER = 64


@njit(cache=True, inline="always")
def _rotate_rows(k: np.int64, shift: np.int64, row: np.int64, keep: np.int64, low: np.int64) -> np.int64:
    # bit x of every row moves to x + shift (mod row): bits that stay in the row shift left, the rest wrap
    if shift == 0:
        return k
    return ((k << shift) & keep) | ((k >> (row - shift)) & low)


@njit(cache=True, inline="always")
def _apply(
    k: np.int64,
    e: np.int64,
    t0: np.int64,
    t1: np.int64,
    n: np.int64,
    row: np.int64,
    keeps: np.ndarray,
    lows: np.ndarray,
    full: np.int64,
) -> np.int64:
    d1 = e % t1
    d0 = (e // t1) % t0
    flip = e // (t0 * t1)
    x = _rotate_rows(k, d1, row, keeps[d1], lows[d1])
    if d0 != 0:
        s = d0 * row
        x = ((x << s) | (x >> (n - s))) & full
    if flip == 1:
        x = x ^ full
    return x


@njit(cache=True)
def _orbit_table(
    n: int, t0: int, t1: int, n_flip: int, row: int, keeps: np.ndarray, lows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For every basis state k: its representative min_g g(k) and the element g* with g*(k) = rep."""
    size = np.int64(1) << n
    full = size - 1
    order = t0 * t1 * n_flip
    rep = np.empty(size, dtype=np.int64)
    elem = np.empty(size, dtype=np.int16)
    for k in range(size):
        best = np.int64(k)
        best_e = 0
        for e in range(1, order):
            x = _apply(np.int64(k), e, t0, t1, n, row, keeps, lows, full)
            if x < best:
                best = x
                best_e = e
        rep[k] = best
        elem[k] = best_e
    return rep, elem


@njit(cache=True)
def _stabiliser_masks(
    reps: np.ndarray, n: int, t0: int, t1: int, n_flip: int, row: int, keeps: np.ndarray, lows: np.ndarray
) -> np.ndarray:
    full = (np.int64(1) << n) - 1
    order = t0 * t1 * n_flip
    masks = np.zeros(reps.size, dtype=np.uint64)
    for r in range(reps.size):
        m = np.uint64(0)
        for e in range(order):
            if _apply(reps[r], e, t0, t1, n, row, keeps, lows, full) == reps[r]:
                m |= np.uint64(1) << np.uint64(e)
        masks[r] = m
    return masks


@njit(cache=True)
def _sector_flip_terms(
    reps: np.ndarray,
    rep_index: np.ndarray,
    elem_inverse: np.ndarray,
    row_of: np.ndarray,
    norms: np.ndarray,
    chars: np.ndarray,
    n: int,
    active: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries <b~| sum_{i in active} sx_i |a~> = sum chi(t) sqrt(n_b / n_a) over flips a -> t(b)."""
    n_rows = 0
    for r in range(reps.size):
        if row_of[r] >= 0:
            n_rows += 1
    m = n_rows * active.size
    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    vals = np.empty(m, dtype=np.complex128)
    p = 0
    for r in range(reps.size):
        a = row_of[r]
        if a < 0:
            continue
        for i in active:
            s = reps[r] ^ (np.int64(1) << i)
            b_rep = rep_index[s]
            b = row_of[b_rep]
            if b < 0:
                continue
            rows[p] = b
            cols[p] = a
            vals[p] = chars[elem_inverse[s]] * np.sqrt(norms[b_rep] / norms[r])
            p += 1
    return rows[:p], cols[:p], vals[:p]


@dataclass(frozen=True)
class SymmetryGroup:
    """Translations (t0 x t1 shifts of a row-major L0 x L1 layout) times the flip (n_flip = 1 or 2)."""

    n_spins: int
    row: int
    t0: int
    t1: int
    n_flip: int

    @property
    def order(self) -> int:
        return self.t0 * self.t1 * self.n_flip

    def sectors(self) -> list[tuple[int, int, int]]:
        """Every (m0, m1, z) label: momentum 2 pi (m0/t0, m1/t1), flip parity z (+1 when no flip)."""
        parities = (1, -1) if self.n_flip == 2 else (1,)
        return [(m0, m1, z) for z in parities for m0 in range(self.t0) for m1 in range(self.t1)]

    def characters(self, sector: tuple[int, int, int]) -> np.ndarray:
        """chi(g) of every element g for one sector (the representation g -> chi(g))."""
        m0, m1, z = sector
        e = np.arange(self.order)
        d1 = e % self.t1
        d0 = (e // self.t1) % self.t0
        flip = e // (self.t0 * self.t1)
        phase = np.exp(-2j * np.pi * (m0 * d0 / self.t0 + m1 * d1 / self.t1))
        return phase * np.where(flip == 1, float(z), 1.0)

    def inverse(self) -> np.ndarray:
        """Index of the inverse of every element (shifts negate, the flip is its own inverse)."""
        e = np.arange(self.order)
        d1 = e % self.t1
        d0 = (e // self.t1) % self.t0
        flip = e // (self.t0 * self.t1)
        return (flip * self.t0 + (-d0) % self.t0) * self.t1 + (-d1) % self.t1

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        keeps = np.zeros(self.t1, dtype=np.int64)
        lows = np.zeros(self.t1, dtype=np.int64)
        rows = self.n_spins // self.row
        for s in range(self.t1):
            keep_row = ((1 << self.row) - 1) ^ ((1 << s) - 1)
            low_row = (1 << s) - 1
            for r in range(rows):
                keeps[s] |= keep_row << (r * self.row)
                lows[s] |= low_row << (r * self.row)
        return keeps, lows

    def permutation(self, e: int) -> np.ndarray:
        """Where each site goes under element e (sites row major, L1 = row)."""
        d1 = e % self.t1
        d0 = (e // self.t1) % self.t0
        sites = np.arange(self.n_spins)
        i0, i1 = divmod(sites, self.row)
        rows = self.n_spins // self.row
        return ((i0 + d0) % rows) * self.row + (i1 + d1) % self.row


def find_symmetries(ising: Ising, transverse: np.ndarray, *, use_translations: bool = True) -> SymmetryGroup:
    """The translations and flip that leave H invariant (checked on J, h and Gamma, not assumed).

    Translations come from a periodic 1D or 2D lattice geometry; the flip needs h = 0.
    """
    n = ising.n_spins
    flip = 2 if np.all(ising.fields == 0.0) else 1
    geometry = ising.geometry
    t0, t1, row = 1, 1, n
    if use_translations and geometry is not None and geometry.dim in (1, 2) and n <= 62:
        shape = geometry.shape if geometry.dim == 2 else (1, geometry.shape[0])
        periodic = geometry.periodic if geometry.dim == 2 else (False, geometry.periodic[0])
        row = int(shape[1])
        t0 = int(shape[0]) if periodic[0] and shape[0] > 1 else 1
        t1 = int(shape[1]) if periodic[1] and shape[1] > 1 else 1
        group = SymmetryGroup(n, row, t0, t1, flip)
        # keep an axis's translations only if they leave J, h and Gamma unchanged
        J = ising.couplings
        for axis, step in ((0, t1), (1, 1)):
            if (t0, t1)[axis] == 1:
                continue
            perm = group.permutation(step)
            moved = _permute(J, perm)
            same = (abs(moved - J).max() <= 1e-12 * max(1.0, abs(J).max()) if J.nnz else True) and np.array_equal(
                ising.fields[np.argsort(perm)], ising.fields
            )
            same = same and np.array_equal(transverse[np.argsort(perm)], transverse)
            if not same:
                t0, t1 = (1, t1) if axis == 0 else (t0, 1)
    # the stabiliser masks are 64-bit: drop whole axes of translations until the group fits
    if t0 * t1 * flip > MAX_GROUP_ORDER:
        t0 = 1
    if t0 * t1 * flip > MAX_GROUP_ORDER:
        t1 = 1
    return SymmetryGroup(n, row, t0, t1, flip)


def _permute(J: sp.csr_array, perm: np.ndarray) -> sp.csr_array:
    coo = J.tocoo()
    return sp.csr_array((coo.data, (perm[coo.row], perm[coo.col])), shape=J.shape)


@dataclass
class OrbitTable:
    """Representatives of every orbit, and for every basis state its orbit and the element mapping rep to it."""

    group: SymmetryGroup
    reps: np.ndarray
    rep_index: np.ndarray
    elem_inverse: np.ndarray
    stabilisers: np.ndarray


def orbit_table(group: SymmetryGroup) -> OrbitTable:
    """Build the orbit table of the whole 2^N basis (about 14 bytes per state; one pass of |G| images)."""
    n = group.n_spins
    if group.order > MAX_GROUP_ORDER:
        raise ValueError(f"symmetry group of order {group.order} is larger than {MAX_GROUP_ORDER}")
    check_memory(
        f"the symmetry orbit table for N = {n} spins", float(2.0**n) * 22.0, hint="use fewer spins or method 'lanczos'"
    )
    keeps, lows = group.masks()
    rep, elem = _orbit_table(n, group.t0, group.t1, group.n_flip, group.row, keeps, lows)
    reps = np.flatnonzero(rep == np.arange(rep.size))
    rep_index = np.searchsorted(reps, rep).astype(np.int32)
    del rep
    # elem maps k to its representative; k = elem^-1 (rep), and that is the element whose character enters
    elem_inverse = group.inverse().astype(np.int16)[elem]
    stabilisers = _stabiliser_masks(reps, n, group.t0, group.t1, group.n_flip, group.row, keeps, lows)
    return OrbitTable(group, reps, rep_index, elem_inverse, stabilisers)


@dataclass
class SectorBlock:
    """H restricted to one sector: H = diag(classical energies) - Gamma * flips (real or complex)."""

    sector: tuple[int, int, int]
    reps: np.ndarray
    diagonal: np.ndarray
    flips: sp.csr_array

    @property
    def dimension(self) -> int:
        return int(self.reps.size)

    def hamiltonian(self, gamma: float) -> sp.csr_array:
        return sp.diags_array(self.diagonal).tocsr() - gamma * self.flips


def sector_block(
    table: OrbitTable, sector: tuple[int, int, int], rep_energies: np.ndarray, sites: np.ndarray
) -> SectorBlock:
    """The sector's block: classical energies of its representatives and sum_i sx_i in the orbit basis."""
    group = table.group
    chars = group.characters(sector)
    # n_a = sum over the stabiliser of chi(h)*: |Stab| when chi is trivial on it, else 0 (state absent)
    bits = ((table.stabilisers[:, None] >> np.arange(group.order, dtype=np.uint64)[None, :]) & np.uint64(1)).astype(
        bool
    )
    norms = (bits * np.conj(chars)[None, :]).sum(axis=1).real
    present = norms > 0.5
    row_of = np.full(table.reps.size, -1, dtype=np.int64)
    row_of[present] = np.arange(int(present.sum()))
    rows, cols, vals = _sector_flip_terms(
        table.reps,
        table.rep_index,
        table.elem_inverse,
        row_of,
        np.where(present, norms, 1.0),
        chars.astype(np.complex128),
        group.n_spins,
        sites.astype(np.int64),
    )
    dim = int(present.sum())
    if np.all(np.abs(chars.imag) < 1e-12):
        vals = vals.real  # q = 0 or pi and any flip parity: a real symmetric block
    flips = sp.csr_array((vals, (rows, cols)), shape=(dim, dim))
    flips.sum_duplicates()
    return SectorBlock(sector, table.reps[present], rep_energies[present], flips)
