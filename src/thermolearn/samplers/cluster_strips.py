"""Swendsen-Wang on one big periodic 2D lattice, labelled in row strips on several threads.

A sweep of the strip algorithm (one chain; the Fortuin-Kasteleyn construction of
:mod:`thermolearn.samplers.cluster`, bond probability p = 1 - exp(-2 beta J)):

1. one 64-bit key is drawn from the chain's xoshiro256** stream; every random number of the
   sweep is a counter-based hash of (key, counter) (SplitMix64's output function applied to
   key + counter * 0x9E3779B97F4A7C15, i.e. the SplitMix64 sequence started at the key): the
   bond from site i to its right neighbour uses counter 2i, to its lower neighbour 2i + 1, and
   the orientation of the cluster whose smallest site is r uses 2n + r;
2. the lattice is cut into strips of ``rows`` rows (the last one may be shorter); every strip
   draws its sites' right and down bonds and labels its own clusters (union-find, each root the
   smallest site of its cluster), on its own thread: strips write only their own sites;
3. the bonds across the strip boundaries (a strip's last row to the next strip's first, the
   last row to the first) join the strip roots, serially (union-find over at most four roots per
   boundary site, O(L) per boundary), the smaller root kept, so every cluster's root is its
   smallest site, whatever the strips;
4. each cluster takes its orientation from the hash of its root (a coin in zero field, the heat
   bath 1 / (1 + exp(-2 beta H_C)) with its field sum H_C), and the spins are written, strip by
   strip in parallel.

Every random number depends only on the key and the site or root it belongs to, and the clusters
do not depend on the cut, so the spins, the generator state, M and the counts are the same for any
number of threads and any strip height (tested); E = -(J sum_<ij> s_i s_j + sum_i h_i s_i) sums its
integer bond part exactly and its field part strip by strip in strip order, so with fields its last
bits (and, through H_C's rounding, an orientation with vanishing probability) follow the strip
height, which the sampler fixes. The stream differs from the serial lattice kernel's (one xoshiro
draw per bond): the sampler uses the strips only from a lattice size on (its ``strip_sites``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.randomness.xoshiro import next64
from thermolearn.samplers.recording import record_chain

_GAMMA = uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (2^64 / golden ratio, odd)
_HALF = uint64(1) << uint64(52)  # a 53-bit draw below 2^52: probability 1/2
_MANTISSA = 1.0 / 9007199254740992.0  # 2^-53


@njit(inline="always")
def _hash(key, counter):
    """The SplitMix64 output for state key + counter * gamma: 64 well-mixed bits (uint64)."""
    z = key + counter * _GAMMA
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


@njit(inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@njit(inline="always")
def _label_strip(k, s, parent, bits, hsum, h, key, C, R, rows, thr, has_field):
    """Bonds and clusters of strip ``k`` (rows k*rows ... ): each site's right and down bonds into
    ``bits`` (1, 2), the strip's clusters in ``parent`` (every site pointing at its root, the
    smallest site of its cluster inside the strip), each root's field sum in ``hsum``."""
    r0 = k * rows
    r1 = min(r0 + rows, R)
    lo_site = r0 * C
    hi_site = r1 * C
    for r in range(r0, r1):
        base = r * C
        down = base + C if r < R - 1 else 0  # the first site of the row below (periodic)
        for col in range(C):
            i = base + col
            si = s[i]
            right = i + 1 if col < C - 1 else base
            ctr = uint64(2 * i)
            # the hashes are made for every pair (no branch a predictor would miss) and kept for
            # an aligned one
            br = (s[right] == si) & ((_hash(key, ctr) >> uint64(11)) < thr)
            bd = (s[down + col] == si) & ((_hash(key, ctr + uint64(1)) >> uint64(11)) < thr)
            bits[i] = np.uint8(br) | (np.uint8(bd) << np.uint8(1))
            # union-find inside the strip: the left and upper bonds, then the row's wrap-around
            parent[i] = i
            root = i
            if col > 0 and bits[i - 1] & 1:
                root = _find(parent, i - 1)
                parent[i] = root
            if r > r0 and bits[i - C] & 2:
                other = _find(parent, i - C)
                if other != root:
                    lo, hi = min(root, other), max(root, other)
                    parent[hi] = lo
                    root = lo
            if col == C - 1 and br:
                other = _find(parent, base)
                if other != root:
                    lo, hi = min(root, other), max(root, other)
                    parent[hi] = lo
    # every parent is an ancestor with a smaller index, so one ascending pass leaves each site
    # pointing at its root: the sites before it already point at theirs
    for i in range(lo_site, hi_site):
        parent[i] = parent[parent[i]]
    if has_field:
        for i in range(lo_site, hi_site):
            hsum[i] = 0.0
        for i in range(lo_site, hi_site):
            hsum[parent[i]] += h[i]


@njit(inline="always")
def _join(parent, listed, roots, n_roots, x):
    """Note root ``x`` (once) among those the boundary merge touches."""
    if not listed[x]:
        listed[x] = 1
        roots[n_roots] = x
        n_roots += 1
    return n_roots


@njit(cache=True, parallel=True)
def sw_strip_sweeps(
    c,
    spins,
    rng,
    energy,
    magnetization,
    C,
    rows,
    h,
    j0,
    thr,
    has_field,
    beta,
    n_sweeps,
    parent,
    bits,
    hsum,
    flip,
    listed,
    roots,
    totals,
    thin,
    first,
    count,
    rec_energy,
    rec_magnetization,
    site_sums,
    batch_of,
    states,
):
    """``n_sweeps`` strip Swendsen-Wang sweeps of chain ``c`` on a periodic lattice of rows of
    ``C`` sites, in strips of ``rows`` rows (the strips on the threads, see the module); ``thr`` =
    ceil(p 2^53). Scratch: ``parent`` (int64), ``bits``, ``flip``, ``listed`` (uint8, zero) of
    n_spins, ``hsum`` (n_spins floats with a field), ``roots`` (int64, min(n, 4 C strips)).
    Adds (sweeps, clusters, spins flipped) to ``totals``; returns the spins flipped."""
    n = spins.shape[1]
    R = n // C
    S = (R + rows - 1) // rows
    s = spins[c]
    st0, st1, st2, st3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    part_i = np.zeros((3, S), dtype=np.int64)  # per strip: flips, magnetisation, clusters
    part_e = np.zeros(S, dtype=np.int64)  # per strip: sum s_i (s_right + s_down)
    part_h = np.zeros(S)  # per strip: sum h_i s_i
    roots_base = uint64(2 * n)
    n_flip = 0
    n_clu = 0
    for t in range(n_sweeps):
        key, st0, st1, st2, st3 = next64(st0, st1, st2, st3)
        for k in prange(S):
            _label_strip(k, s, parent, bits, hsum, h, key, C, R, rows, thr, has_field)
        # the bonds across the strip boundaries, serially: they join strip roots (the site's
        # parent entries still point at their strip roots; only roots are relinked here)
        n_roots = 0
        for k in range(S):
            last = min((k + 1) * rows, R) - 1
            below = (last + 1) % R
            for col in range(C):
                i = last * C + col
                if bits[i] & 2:
                    a = parent[i]
                    b = parent[below * C + col]
                    n_roots = _join(parent, listed, roots, n_roots, a)
                    n_roots = _join(parent, listed, roots, n_roots, b)
                    ra = _find(parent, a)
                    rb = _find(parent, b)
                    if ra != rb:
                        n_roots = _join(parent, listed, roots, n_roots, ra)
                        n_roots = _join(parent, listed, roots, n_roots, rb)
                        parent[max(ra, rb)] = min(ra, rb)
        # every root relinked is listed: point each straight at its cluster's root (so any site's
        # root is parent[parent[i]]) and move its field sum there, in list order
        for q in range(n_roots):
            x = roots[q]
            g = _find(parent, x)
            if g != x:
                parent[x] = g
                if has_field:
                    hsum[g] += hsum[x]
                    hsum[x] = 0.0
            listed[x] = 0
        if has_field:  # the heat-bath orientation of each cluster, at its root
            for k in prange(S):
                for i in range(k * rows * C, min((k + 1) * rows, R) * C):
                    if parent[i] == i:
                        z = _hash(key, roots_base + uint64(i)) >> uint64(11)
                        x = 2.0 * beta * hsum[i]  # p(up) = 1 / (1 + exp(-x))
                        if x == 0.0:
                            f = z < _HALF
                        else:
                            u = float(z) * _MANTISSA
                            if x >= 0.0:
                                up = u * (1.0 + math.exp(-x)) < 1.0
                            else:
                                ex = math.exp(x)
                                up = u * (1.0 + ex) < ex
                            f = (s[i] == 1) != up
                        flip[i] = np.uint8(f)
        for k in prange(S):
            nf = 0
            m = 0
            nc = 0
            for i in range(k * rows * C, min((k + 1) * rows, R) * C):
                root = parent[parent[i]]
                nc += root == i
                if has_field:
                    f = np.int8(flip[root])
                else:  # a coin per cluster, from the hash of its root
                    f = np.int8((_hash(key, roots_base + uint64(root)) >> uint64(11)) < _HALF)
                v = s[i]
                s[i] = v - np.int8(2) * f * v
                nf += f
                m += s[i]
            part_i[0, k] = nf
            part_i[1, k] = m
            part_i[2, k] = nc
        for k in range(S):
            n_flip += part_i[0, k]
            n_clu += part_i[2, k]
        recording = count > 0 and (t + 1) % thin == 0
        if recording or t == n_sweeps - 1:  # E and M of the new spins, when they are read
            for k in prange(S):
                bonds = 0
                field = 0.0
                for r in range(k * rows, min((k + 1) * rows, R)):
                    base = r * C
                    down = base + C if r < R - 1 else 0
                    for col in range(C):
                        i = base + col
                        right = i + 1 if col < C - 1 else base
                        si = np.int64(s[i])
                        bonds += si * (s[right] + s[down + col])
                        if has_field:
                            field += h[i] * si
                part_e[k] = bonds
                part_h[k] = field
            bond_sum = 0
            field_sum = 0.0
            m_sum = 0
            for k in range(S):
                bond_sum += part_e[k]
                field_sum += part_h[k]
                m_sum += part_i[1, k]
            energy[c] = -(j0 * bond_sum + field_sum)
            magnetization[c] = float(m_sum)
            if recording:
                r = first + (t + 1) // thin - 1
                record_chain(
                    c, r, s, energy[c], magnetization[c], rec_energy, rec_magnetization, site_sums, batch_of, states
                )
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = st0, st1, st2, st3
    totals[0] += n_sweeps
    totals[1] += n_clu
    totals[2] += n_flip
    return n_flip


def strip_scratch(n: int, columns: int, rows: int, has_field: bool) -> tuple[np.ndarray, ...]:
    """The scratch arrays of :func:`sw_strip_sweeps` for ``n`` sites in rows of ``columns``:
    parent, bits, hsum, flip, listed (zeroed: the kernel leaves it zeroed), roots."""
    strips = -(-(n // columns) // rows)
    return (
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.uint8),
        np.empty(n if has_field else 1, dtype=np.float64),
        np.empty(n if has_field else 1, dtype=np.uint8),
        np.zeros(n, dtype=np.uint8),
        np.empty(min(n, 4 * columns * strips), dtype=np.int64),
    )
