"""Single-spin kernels for periodic hypercubic lattices: neighbours by index arithmetic and
acceptance from a table, bit-identical to the generic CSR kernel.

The generic kernel (:func:`thermolearn.samplers.single_spin._single_spin_sweeps`) computes
phi_i = h_i + sum_j J_ij s_j in the order of the CSR row, then Delta E = 2 s_i phi_i and
exp(-beta Delta E). On a periodic lattice with a uniform field there are only a few
distinct values of phi_i: one per configuration of the 2d neighbours and per *class* of
sites (a class is the order in which the CSR row lists the 2d directions: interior sites
list them in one order, sites on a wrapped face in another; with floating couplings that
are not exact binary fractions the summation order can change the last bit). So this
module precomputes, once per model, phi for every (class, neighbour configuration) with
exactly the generic kernel's floating expression, and, per inverse temperature, the
decision rule as an *integer threshold on the raw generator output*:

    the generic kernel draws u = k 2^-53 (k = the top 53 bits of xoshiro256**) and flips
    when u < w (Metropolis) or when u (1 + e) < b (heat bath); both predicates are monotone
    in k, so each equals k < K for one integer K, found by bisection over k with the very
    same floating expression. The kernels then compare integers.

Each rule says its table entry itself (``lattice_code`` of a
:class:`~thermolearn.samplers.rules.SpinFlipRule`): flip or keep without a draw, or draw k
and flip iff (k < K) != invert (heat bath inverts for a spin that is up). These kernels
read only the codes, so they are the same for every rule. Random numbers are drawn exactly
when the generic kernel draws them (Metropolis only for Delta E > 0), so for the same seed,
order and rule the spins, generator states, energies and magnetisations come out bit for
bit the same as the generic kernel's.

Sites are walked line by line along the last axis (row-major order, as site indices are
numbered): the two in-line neighbours are i - 1 and i + 1 (wrapped only at the two ends of
the line), the others sit at the same position of precomputed neighbouring lines. The
table index is a weighted sum of the spins, idx = offset + w_self s_i + sum_k w_k s_k, with
the coarsest weights that keep phi exact: all ones when phi depends only on the sum of the
neighbours (uniform couplings, the common case), one weight per axis (3^axis) when the
couplings differ by axis, and 2^k (the full configuration) otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import prange

from thermolearn.kernel_cache import bind_globals, njit
from thermolearn.kernel_threads import ItemKernel, over_items
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import MANTISSA, next_bits53
from thermolearn.samplers.recording import no_records, record_chain
from thermolearn.samplers.rules import CODE_FLIP, SpinFlipRule, rule_lattice_code


# ---------------------------------------------------------------- the plan of a lattice
@dataclass(frozen=True)
class LatticePlan:
    """What the lattice kernels need about one model (built once per model).

    ``line_length`` L: sites per line (the last axis); ``line_neighbours`` (n_lines, K):
    the first site of each neighbouring line (K = 2 (d - 1)); ``line_sets`` (n_lines, 3):
    the table set of the line's first site, interior sites and last site; ``line_parity``
    (n_lines,): parity of the line's coordinates (for checkerboard order); ``weights``
    (2 + K + 1,): w_self, w_left, w_right, w_line...; ``phi`` (n_sets, size) and ``de``
    (n_sets, size): the local field and flip energy per table index (NaN where unused).
    """

    shape: tuple[int, ...]
    line_length: int
    line_neighbours: np.ndarray
    line_sets: np.ndarray
    line_parity: np.ndarray
    weights: np.ndarray
    offset: int
    phi: np.ndarray
    de: np.ndarray
    tier: str

    @property
    def de_flat(self) -> np.ndarray:
        return self.de.reshape(-1)

    @property
    def n_sets(self) -> int:
        return int(self.phi.shape[0])

    @property
    def size(self) -> int:
        return int(self.phi.shape[1])


def _phi_of_configs(h: float, j_dir: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """phi for every configuration of the D neighbour directions (bit k of the index set:
    direction k's spin is +1), summed in the CSR order ``perm`` exactly as the generic kernel
    (h, then + J_k s_k direction by direction; each term J_k x (+-1) is exact). NumPy, not a
    compiled kernel: at most 64 configurations, and a cold start would compile it first."""
    cfg = np.arange(1 << j_dir.size)
    out = np.full(cfg.size, float(h))
    for k in perm:
        out += j_dir[k] * np.where((cfg >> k) & 1, 1.0, -1.0)
    return out


def _site_neighbours(shape: tuple[int, ...]) -> np.ndarray:
    """(n, 2d) neighbour indices in direction order: last axis -1, +1, then axis 0 -1, +1,
    axis 1 -1, +1, ... (the axes other than the last, in order)."""
    grid = np.arange(int(np.prod(shape))).reshape(shape)
    d = len(shape)
    cols = [np.roll(grid, 1, axis=d - 1).ravel(), np.roll(grid, -1, axis=d - 1).ravel()]
    for axis in range(d - 1):
        cols += [np.roll(grid, 1, axis=axis).ravel(), np.roll(grid, -1, axis=axis).ravel()]
    return np.stack(cols, axis=1).astype(np.int64)


def _direction_couplings(couplings: tuple[float, ...]) -> np.ndarray:
    d = len(couplings)
    out = [couplings[d - 1], couplings[d - 1]]
    for axis in range(d - 1):
        out += [couplings[axis], couplings[axis]]
    return np.array(out, dtype=np.float64)


def _direction_axes(d: int) -> np.ndarray:
    return np.array([d - 1, d - 1] + [a for axis in range(d - 1) for a in (axis, axis)], dtype=np.int64)


def _signs_of_configs(n_dir: int) -> np.ndarray:
    cfg = np.arange(1 << n_dir)
    return np.where((cfg[:, None] >> np.arange(n_dir)[None, :]) & 1, 1, -1).astype(np.int64)


def build_plan(model: Ising) -> LatticePlan | None:
    """The lattice plan of ``model``, or None when the fast path does not apply (not a
    periodic 1-3D hypercubic lattice with sides >= 3 and a uniform field, or couplings that
    do not match the geometry)."""
    g = model.geometry
    if g is None or not all(g.periodic) or not 1 <= g.dim <= 3 or min(g.shape) < 3:
        return None
    if not np.all(model.fields == g.field):
        return None
    shape = tuple(int(x) for x in g.shape)
    d = len(shape)
    n_dir = 2 * d
    n = model.n_spins
    if n != int(np.prod(shape)):
        return None
    j_dir = _direction_couplings(tuple(float(c) for c in g.couplings))
    if np.any(j_dir == 0.0):
        return None  # zero-coupling bonds are not stored in the CSR matrix
    if not model.couplings_from_geometry:  # else the CSR is the geometry's (and may be unbuilt)
        nbr = _site_neighbours(shape)
        perm = np.argsort(nbr, axis=1, kind="stable")
        if not np.array_equal(model.indptr, np.arange(n + 1) * n_dir):
            return None
        if not np.array_equal(model.indices.reshape(n, n_dir), np.take_along_axis(nbr, perm, axis=1)):
            return None
        if not np.array_equal(model.data.reshape(n, n_dir), j_dir[perm]):
            return None
        del nbr, perm

    # A site's CSR order of directions depends only on whether it is first, interior or last
    # along each axis (sides >= 3: offsets of finer axes never reach those of coarser ones), so
    # the classes are read off the 3 x ... x 3 lattice, whose site (t_0, ..., t_d-1) is of type
    # t, and the lattice itself is only visited line by line: O(lines) memory, not O(sites).
    types_shape = (3,) * d
    type_perm = np.argsort(_site_neighbours(types_shape), axis=1, kind="stable")
    perms, type_class = np.unique(type_perm, axis=0, return_inverse=True)
    h = float(model.fields[0]) if n else 0.0
    class_phi = np.stack([_phi_of_configs(h, j_dir, p.astype(np.int64)) for p in perms])
    tables, class_set = np.unique(class_phi.view(np.int64), axis=0, return_inverse=True)
    set_phi = tables.view(np.float64)
    type_set = class_set.ravel()[type_class.ravel()]

    L = shape[-1]
    n_lines = n // L
    first = np.arange(n_lines, dtype=np.int64) * L
    coords = np.unravel_index(first, shape)
    kinds = [np.where(c == 0, 0, np.where(c == side - 1, 2, 1)) for c, side in zip(coords[:-1], shape[:-1])]
    line_sets = np.stack(
        [
            type_set[np.ravel_multi_index((*kinds, np.full(n_lines, along)), types_shape)]
            for along in (0, 1, 2)  # the line's first site, its interior sites, its last site
        ],
        axis=1,
    ).astype(np.int64)
    columns = []
    for axis in range(d - 1):  # the directions of _site_neighbours after the line's own two
        for step in (-1, 1):
            moved = list(coords)
            moved[axis] = (coords[axis] + step) % shape[axis]
            columns.append(np.ravel_multi_index(tuple(moved), shape))
    line_neighbours = np.ascontiguousarray(
        np.stack(columns, axis=1) if columns else np.empty((n_lines, 0)), dtype=np.int64
    )
    line_parity = (np.sum(coords, axis=0) % 2).astype(np.int64)

    # the coarsest index weights under which phi stays a function of the index
    signs = _signs_of_configs(n_dir)
    axes = _direction_axes(d)
    candidates = [
        ("uniform", np.ones(n_dir, dtype=np.int64)),
        ("per-axis", 3 ** (d - 1 - axes)),
        ("full", 2 ** np.arange(n_dir, dtype=np.int64)),
    ]
    for tier, w in candidates:  # noqa: B007 (the tier that fits is read after the loop)
        key = signs @ w
        ok = True
        for phi in set_phi:
            order = np.argsort(key, kind="stable")
            k_sorted, p_sorted = key[order], phi[order].view(np.int64)
            same_key = k_sorted[1:] == k_sorted[:-1]
            if np.any(same_key & (p_sorted[1:] != p_sorted[:-1])):
                ok = False
                break
        if ok:
            break
    span = int(np.abs(w).sum())
    w_self = 2 * span + 1
    offset = w_self + span
    size = 2 * offset + 1
    phi_tab = np.full((len(set_phi), size), np.nan)
    de_tab = np.full((len(set_phi), size), np.nan)
    for si in (-1, 1):
        idx = offset + w_self * si + key
        for t, phi in enumerate(set_phi):
            phi_tab[t, idx] = phi
            de_tab[t, idx] = 2.0 * np.int8(si) * phi  # the generic kernel's expression
    return LatticePlan(
        shape=shape,
        line_length=L,
        line_neighbours=line_neighbours,
        line_sets=line_sets,
        line_parity=line_parity,
        weights=np.concatenate([[w_self], w]).astype(np.int64),
        offset=offset,
        phi=phi_tab,
        de=de_tab,
        tier=tier,
    )


# ---------------------------------------------------------------- decision tables
def _thresholds(phi, betas):
    """Decision codes per (chain, set, index) from the rule's ``lattice_code`` (compiled per
    rule by :meth:`SpinFlipRule.compiled`, which binds ``rule_lattice_code``)."""
    n_sets, size = phi.shape
    n_chains = betas.size
    out = np.full((n_chains, n_sets * size), -2, dtype=np.int64)  # CODE_KEEP where unused
    for c in range(n_chains):
        beta = betas[c]
        for t in range(n_sets):
            for idx in range(size):
                ph = phi[t, idx]
                if math.isnan(ph):
                    continue
                si = np.int8(1) if idx >= size // 2 else np.int8(-1)
                out[c, t * size + idx] = rule_lattice_code(si, ph, beta)
    return out


def decision_table(plan: LatticePlan, betas: np.ndarray, rule: SpinFlipRule) -> np.ndarray:
    """(n_chains, n_sets * size) int64 decision codes of ``rule`` for ``betas``."""
    if rule.lattice_code is None:
        raise ValueError(f"the rule {rule.name!r} has no lattice_code, so it has no lattice fast path")
    return rule.compiled(_thresholds)(plan.phi, np.ascontiguousarray(betas, dtype=np.float64))


# ---------------------------------------------------------------- the kernels
# One sweep in each order is written once as an inline function (_sequential_sweep,
# _random_sweep, _checkerboard_sweep), and the loops over chains (_uniform_2d_chains with the
# table weights as compile-time constants: 2D, uniform couplings, the hot case, where LLVM folds
# the multiplications away; _any_lattice_chains with run-time weights for every other lattice)
# are compiled once per order, serial (_UNIFORM_2D_CHAINS, _ANY_LATTICE_CHAINS) and as a parallel
# loop that calls the serial kernel once per chain (_UNIFORM_2D_KERNELS, _ANY_LATTICE_KERNELS): a
# run compiles only the order it sweeps in, and only the serial kernel when it runs on one thread.
# One kernel holding all three orders took 1.8-2.6x the CPU time to compile that one order takes
# (Numba's parfor passes and LLVM scale with the body), and a cold `thermolearn ising` is mostly
# that compile (benchmarks/bench_cold_start.py).
# The sites are read by unsigned flat index (a line's first site and its neighbouring lines' first
# sites, plus the column), not through per-line array views: the views' set-up per line cost 8-12%
# of a sweep at every L (0.6.8; the same moves), and an inline helper returning views as a tuple
# gave different spins at the ends of the lines (Numba 0.68). Indices into the tables are unsigned
# too, so Numba emits no negative-index wraparound.


@njit(inline="always")
def _decide(code, s0, s1, s2, s3):
    """A table code (rules.draw_code): >= 0 draws k and flips iff (k < code // 2) != (code odd)."""
    if code >= 0:
        k, s0, s1, s2, s3 = next_bits53(s0, s1, s2, s3)
        flip = (np.int64(k) < (code >> 1)) != ((code & 1) == 1)  # signed, as the codes: no float comparison
    else:
        flip = code == CODE_FLIP
    return flip, s0, s1, s2, s3


@njit(inline="always")
def _visit(s, i, si, left, right, u0, u1, u2, u3, t, w, codes, de, s0, s1, s2, s3, acc, e_change):
    """One update of site i of ``s`` (spin si, in-line neighbours left/right, the spins u0..u3 of
    the neighbouring lines); returns the site's new spin."""
    pos = np.uint64(t + w[0] * si + w[1] * left + w[2] * right + w[3] * u0 + w[4] * u1 + w[5] * u2 + w[6] * u3)
    flip, s0, s1, s2, s3 = _decide(codes[pos], s0, s1, s2, s3)
    if flip:
        s[i] = -si
        acc += 1
        e_change += de[pos]
        si = -si
    return si, s0, s1, s2, s3, acc, e_change


@njit(inline="always")
def _line_starts(line, L, line_neighbours, n_other):
    """The flat index of the line's first site and of its neighbouring lines' (the line itself
    where there is no such neighbour: its weight is 0), unsigned."""
    base = np.uint64(line * L)
    a0 = np.uint64(line_neighbours[line, 0]) if n_other >= 2 else base
    a1 = np.uint64(line_neighbours[line, 1]) if n_other >= 2 else base
    a2 = np.uint64(line_neighbours[line, 2]) if n_other >= 4 else base
    a3 = np.uint64(line_neighbours[line, 3]) if n_other >= 4 else base
    return base, a0, a1, a2, a3


@njit(inline="always")
def _sequential_sweep(
    s, L, line_neighbours, line_sets, line_parity, size, offset, w, n_other, codes, de, s0, s1, s2, s3
):
    """One sweep in row-major order; returns the generator state, the flips and the energy change."""
    acc = 0
    e_change = 0.0
    n_lines = s.size // L
    one = np.uint64(1)
    end = np.uint64(L - 1)
    for line in range(n_lines):
        base, a0, a1, a2, a3 = _line_starts(line, L, line_neighbours, n_other)
        tf = line_sets[line, 0] * size + offset
        tm = line_sets[line, 1] * size + offset
        tl = line_sets[line, 2] * size + offset
        # carry the updated left neighbour and the line's first spin in registers
        first, s0, s1, s2, s3, acc, e_change = _visit(
            s, base, s[base], s[base + end], s[base + one], s[a0], s[a1], s[a2], s[a3], tf, w, codes, de,
            s0, s1, s2, s3, acc, e_change,
        )  # fmt: skip
        left = first
        si = s[base + one]
        for c in range(1, L - 1):
            k = np.uint64(c)
            right = s[base + k + one]
            left, s0, s1, s2, s3, acc, e_change = _visit(
                s, base + k, si, left, right, s[a0 + k], s[a1 + k], s[a2 + k], s[a3 + k], tm, w, codes, de,
                s0, s1, s2, s3, acc, e_change,
            )  # fmt: skip
            si = right
        _, s0, s1, s2, s3, acc, e_change = _visit(
            s, base + end, si, left, first, s[a0 + end], s[a1 + end], s[a2 + end], s[a3 + end], tl, w, codes, de,
            s0, s1, s2, s3, acc, e_change,
        )  # fmt: skip
    return s0, s1, s2, s3, acc, e_change


@njit(inline="always")
def _random_sweep(s, L, line_neighbours, line_sets, line_parity, size, offset, w, n_other, codes, de, s0, s1, s2, s3):
    """One sweep of n sites drawn uniformly at random, as the generic kernel draws them."""
    n = s.size
    acc = 0
    e_change = 0.0
    for _k in range(n):
        k53, s0, s1, s2, s3 = next_bits53(s0, s1, s2, s3)
        u = float(k53) * MANTISSA  # the generic kernel's site choice, to the last bit
        i = min(int(u * n), n - 1)
        line = i // L
        c = i - line * L
        base = i - c
        if c == 0:
            t = line_sets[line, 0]
            left = s[base + L - 1]
        else:
            t = line_sets[line, 1] if c < L - 1 else line_sets[line, 2]
            left = s[i - 1]
        right = s[i + 1] if c < L - 1 else s[base]
        si = s[i]
        pos = t * size + offset + w[0] * si + w[1] * left + w[2] * right
        if n_other >= 2:
            pos += w[3] * s[line_neighbours[line, 0] + c] + w[4] * s[line_neighbours[line, 1] + c]
        if n_other >= 4:
            pos += w[5] * s[line_neighbours[line, 2] + c] + w[6] * s[line_neighbours[line, 3] + c]
        p = np.uint64(pos)
        flip, s0, s1, s2, s3 = _decide(codes[p], s0, s1, s2, s3)
        if flip:
            s[i] = -si
            acc += 1
            e_change += de[p]
    return s0, s1, s2, s3, acc, e_change


@njit(inline="always")
def _checkerboard_sweep(
    s, L, line_neighbours, line_sets, line_parity, size, offset, w, n_other, codes, de, s0, s1, s2, s3
):
    """One checkerboard sweep (even sides): the even sites in index order, then the odd sites."""
    acc = 0
    e_change = 0.0
    n_lines = s.size // L
    one = np.uint64(1)
    end = np.uint64(L - 1)
    for colour in range(2):
        for line in range(n_lines):
            base, a0, a1, a2, a3 = _line_starts(line, L, line_neighbours, n_other)
            tf = line_sets[line, 0] * size + offset
            tm = line_sets[line, 1] * size + offset
            tl = line_sets[line, 2] * size + offset
            start = (line_parity[line] + colour) % 2  # this colour's sites of the line, in index order
            if start == 0:
                _, s0, s1, s2, s3, acc, e_change = _visit(
                    s, base, s[base], s[base + end], s[base + one], s[a0], s[a1], s[a2], s[a3], tf, w, codes, de,
                    s0, s1, s2, s3, acc, e_change,
                )  # fmt: skip
            for c in range(2 - start, L - 1, 2):
                k = np.uint64(c)
                i = base + k
                _, s0, s1, s2, s3, acc, e_change = _visit(
                    s, i, s[i], s[i - one], s[i + one], s[a0 + k], s[a1 + k], s[a2 + k], s[a3 + k], tm, w, codes, de,
                    s0, s1, s2, s3, acc, e_change,
                )  # fmt: skip
            if start == 1:
                i = base + end
                _, s0, s1, s2, s3, acc, e_change = _visit(
                    s, i, s[i], s[i - one], s[base], s[a0 + end], s[a1 + end], s[a2 + end], s[a3 + end], tl, w,
                    codes, de, s0, s1, s2, s3, acc, e_change,
                )  # fmt: skip
    return s0, s1, s2, s3, acc, e_change


#: the sweeps by order_kind (0 sequential, 1 random site, 2 checkerboard)
_ORDER_SWEEPS = ((_sequential_sweep, "sequential"), (_random_sweep, "random"), (_checkerboard_sweep, "checkerboard"))


@njit(inline="always")
def _total(s):
    m = 0
    for i in range(s.size):
        m += s[i]
    return m


# The chains are swept by a *serial* kernel compiled without Numba's reference counting
# (``_nrt=False``): it allocates nothing, and with reference counting every line view and every
# inlined call took an atomic incref / decref per site, which made a serial compilation 2.4x slower
# than the parallel one (whose outlined loop body Numba compiles with its arguments marked
# noalias and its refcounts pruned). Without them the serial kernel runs as fast as the parallel
# one, compiles in a third of the time (1.8 against 5.6-6.9 CPU s at 2D) and costs about 0.6 us to
# call instead of 4-8 us (a parallel region, even of one thread, and the allocation of the result).
# It sweeps chains lo..hi-1: one thread calls it for every chain, and the parallel kernel calls it
# for one chain per iteration of its prange loop, so both make the same moves and a run that never
# uses two threads (one chain, or too little work) never compiles the parallel kernel.
# ``error_model="numpy"``: no zero-division checks (L, thin >= 1 are checked by the callers).
_SERIAL_OPTIONS = {"cache": True, "_nrt": False, "error_model": "numpy"}


def _uniform_2d_chains(
    lo,
    hi,
    accepted,
    n_sweeps,
    spins,
    rng,
    energy,
    magnetization,
    L,
    line_neighbours,
    line_sets,
    line_parity,
    size,
    codes,
    de,
    thin,
    first,
    count,
    rec_energy,
    rec_magnetization,
    site_sums,
    batch_of,
    states,
):
    """The template of the 2D uniform-coupling kernels (chains lo..hi-1, flips into ``accepted``,
    their sum returned); ``order_sweep`` is bound per order."""
    w = (9, 1, 1, 1, 1, 0, 0)  # w_self = 2 * 4 + 1, offset = 9 + 4 (see build_plan)
    all_flips = 0  # the flips of all chains lo..hi-1, returned (one chain's count without reading an array)
    for ch in range(lo, hi):
        s = spins[ch]
        s0, s1, s2, s3 = rng[ch, 0], rng[ch, 1], rng[ch, 2], rng[ch, 3]
        acc = 0
        # one sweep at a time, its energy change added per sweep: a run cut into calls of any
        # length adds the same numbers in the same order
        for t in range(n_sweeps):
            s0, s1, s2, s3, got, e_change = order_sweep(  # noqa: F821 (bound by _order_kernels)
                s, L, line_neighbours, line_sets, line_parity, size, 13, w, 2, codes[ch], de, s0, s1, s2, s3
            )
            acc += got
            energy[ch] += e_change
            if count > 0 and (t + 1) % thin == 0:  # a record every thin sweeps (sampling runs)
                m_now = np.float64(_total(s))
                k = first + (t + 1) // thin - 1
                record_chain(ch, k, s, energy[ch], m_now, rec_energy, rec_magnetization, site_sums, batch_of, states)
        rng[ch, 0], rng[ch, 1], rng[ch, 2], rng[ch, 3] = s0, s1, s2, s3
        accepted[ch] = acc
        all_flips += acc
        # M is the spins' sum (the state is checked to hold it): one O(N) sum per call, not two for
        # a difference; the same number the generic kernel accumulates
        magnetization[ch] = _total(s)
    return all_flips


def _any_lattice_chains(
    lo,
    hi,
    accepted,
    n_sweeps,
    spins,
    rng,
    energy,
    magnetization,
    L,
    line_neighbours,
    line_sets,
    line_parity,
    size,
    offset,
    weights,
    codes,
    de,
    thin,
    first,
    count,
    rec_energy,
    rec_magnetization,
    site_sums,
    batch_of,
    states,
):
    """The template of the kernels for every other lattice (chains lo..hi-1); ``order_sweep`` is
    bound per order."""
    n_other = line_neighbours.shape[1]
    w = (
        weights[0],
        weights[1],
        weights[2],
        weights[3] if n_other >= 2 else 0,
        weights[4] if n_other >= 2 else 0,
        weights[5] if n_other >= 4 else 0,
        weights[6] if n_other >= 4 else 0,
    )
    all_flips = 0
    for ch in range(lo, hi):
        s = spins[ch]
        s0, s1, s2, s3 = rng[ch, 0], rng[ch, 1], rng[ch, 2], rng[ch, 3]
        acc = 0
        for t in range(n_sweeps):
            s0, s1, s2, s3, got, e_change = order_sweep(  # noqa: F821 (bound by _order_kernels)
                s, L, line_neighbours, line_sets, line_parity, size, offset, w, n_other, codes[ch], de, s0, s1, s2, s3
            )
            acc += got
            energy[ch] += e_change
            if count > 0 and (t + 1) % thin == 0:
                m_now = np.float64(_total(s))
                k = first + (t + 1) // thin - 1
                record_chain(ch, k, s, energy[ch], m_now, rec_energy, rec_magnetization, site_sums, batch_of, states)
        rng[ch, 0], rng[ch, 1], rng[ch, 2], rng[ch, 3] = s0, s1, s2, s3
        accepted[ch] = acc
        all_flips += acc
        magnetization[ch] = _total(s)
    return all_flips


def _uniform_2d_sweeps(
    spins,
    rng,
    energy,
    magnetization,
    L,
    line_neighbours,
    line_sets,
    line_parity,
    size,
    codes,
    de,
    n_sweeps,
    thin,
    first,
    count,
    rec_energy,
    rec_magnetization,
    site_sums,
    batch_of,
    states,
):
    """Every chain of a 2D uniform lattice, one per thread; ``chains`` (the serial kernel) is bound per order."""
    n_chains = spins.shape[0]
    accepted = np.zeros(n_chains, dtype=np.int64)
    for ch in prange(n_chains):
        # int64, not prange's own index type: Numba types the loop body once with an unsigned index
        # too, and a raw index would compile the serial kernel a second time
        c = np.int64(ch)
        chains(  # noqa: F821 (bound by _order_kernels)
            c,
            c + 1,
            accepted,
            n_sweeps,
            spins,
            rng,
            energy,
            magnetization,
            L,
            line_neighbours,
            line_sets,
            line_parity,
            size,
            codes,
            de,
            thin,
            first,
            count,
            rec_energy,
            rec_magnetization,
            site_sums,
            batch_of,
            states,
        )
    return accepted


def _any_lattice_sweeps(
    spins,
    rng,
    energy,
    magnetization,
    L,
    line_neighbours,
    line_sets,
    line_parity,
    size,
    offset,
    weights,
    codes,
    de,
    n_sweeps,
    thin,
    first,
    count,
    rec_energy,
    rec_magnetization,
    site_sums,
    batch_of,
    states,
):
    """Every chain of any other lattice, one per thread; ``chains`` (the serial kernel) is bound per order."""
    n_chains = spins.shape[0]
    accepted = np.zeros(n_chains, dtype=np.int64)
    for ch in prange(n_chains):
        # int64, not prange's own index type: Numba types the loop body once with an unsigned index
        # too, and a raw index would compile the serial kernel a second time
        c = np.int64(ch)
        chains(  # noqa: F821 (bound by _order_kernels)
            c,
            c + 1,
            accepted,
            n_sweeps,
            spins,
            rng,
            energy,
            magnetization,
            L,
            line_neighbours,
            line_sets,
            line_parity,
            size,
            offset,
            weights,
            codes,
            de,
            thin,
            first,
            count,
            rec_energy,
            rec_magnetization,
            site_sums,
            batch_of,
            states,
        )
    return accepted


def _order_kernels(serial: Callable, parallel: Callable, order_kind: int) -> tuple[Callable, ItemKernel]:
    """The serial kernel of ``order_kind`` (``serial`` with its ``order_sweep`` bound) and the
    parallel loop over chains that calls it, each compiled on its first call (and cached on disk
    under its own name)."""
    sweep, order = _ORDER_SWEEPS[order_kind]
    chains = njit(**_SERIAL_OPTIONS)(bind_globals(serial, order, order_sweep=sweep))
    return chains, over_items()(bind_globals(parallel, order, chains=chains))


_UNIFORM_2D = tuple(_order_kernels(_uniform_2d_chains, _uniform_2d_sweeps, kind) for kind in range(len(_ORDER_SWEEPS)))
_ANY_LATTICE = tuple(
    _order_kernels(_any_lattice_chains, _any_lattice_sweeps, kind) for kind in range(len(_ORDER_SWEEPS))
)
#: the serial kernels (one thread sweeps chains lo..hi-1) by order_kind
_UNIFORM_2D_CHAINS = tuple(serial for serial, _ in _UNIFORM_2D)
_ANY_LATTICE_CHAINS = tuple(serial for serial, _ in _ANY_LATTICE)
#: the parallel kernels (one chain per thread) by order_kind
_UNIFORM_2D_KERNELS = tuple(parallel for _, parallel in _UNIFORM_2D)
_ANY_LATTICE_KERNELS = tuple(parallel for _, parallel in _ANY_LATTICE)
_sweeps_2d_uniform = _UNIFORM_2D_KERNELS[0]  # the default order's kernel, by the name tests spy on


def is_uniform_2d(plan: LatticePlan) -> bool:
    """Whether ``plan`` takes the 2D uniform-coupling kernels (their table weights are constants)."""
    return plan.tier == "uniform" and len(plan.shape) == 2 and plan.offset == 13


def plan_arguments(plan: LatticePlan) -> tuple:
    """The plan's arguments of the kernels, between the state's arrays and the decision codes."""
    head = (plan.line_length, plan.line_neighbours, plan.line_sets, plan.line_parity, plan.size)
    return head if is_uniform_2d(plan) else (*head, plan.offset, plan.weights)


def serial_kernel(plan: LatticePlan, order_kind: int) -> Callable:
    """The serial kernel for ``plan`` and ``order_kind``: ``kernel(lo, hi, accepted, n_sweeps, spins,
    rng, energy, magnetization, *plan_arguments(plan), codes, plan.de_flat, *records)``
    sweeps chains lo..hi-1 on the calling thread (no parallel region, no thread count touched),
    writes each chain's flips into ``accepted`` and returns their sum."""
    kernels = _UNIFORM_2D_CHAINS if is_uniform_2d(plan) else _ANY_LATTICE_CHAINS
    if type(order_kind) is not int or not 0 <= order_kind < len(kernels):
        raise ValueError(f"order_kind must be 0 (sequential), 1 (random) or 2 (checkerboard), got {order_kind!r}")
    return kernels[order_kind]


def lattice_sweeps(
    plan: LatticePlan,
    state,
    codes: np.ndarray,
    order_kind: int,
    n_sweeps: int,
    records: tuple | None = None,
    threads: int = 1,
) -> np.ndarray:
    """``n_sweeps`` sweeps of every chain of ``state`` (a ChainState) with decision ``codes``
    (from :func:`decision_table`); order_kind 0 sequential (row-major), 1 random site, 2
    checkerboard (even sites in index order, then odd sites). Updates the state in place and
    returns the accepted flips per chain. ``records`` (``Records.kernel_arguments(thin)``, with
    n_sweeps = thin x count) records every thin-th sweep. ``threads`` 1 runs the serial kernel on
    the calling thread; more runs the parallel kernel (the caller sets Numba's thread count,
    ``kernel_threads.thread_limit``). The chains come out the same either way."""
    serial = serial_kernel(plan, order_kind)  # checks order_kind
    record_args = no_records() if records is None else records
    n_chains = state.spins.shape[0]
    state_args = (state.spins, state.rng, state.energy, state.magnetization)
    plan_args = (*plan_arguments(plan), codes, plan.de_flat)
    if threads <= 1 or n_chains <= 1:
        accepted = np.zeros(n_chains, dtype=np.int64)
        serial(0, n_chains, accepted, n_sweeps, *state_args, *plan_args, *record_args)
        return accepted
    kernels = _UNIFORM_2D_KERNELS if is_uniform_2d(plan) else _ANY_LATTICE_KERNELS
    return kernels[order_kind].compiled(*state_args, *plan_args, n_sweeps, *record_args)
