"""Swendsen-Wang on periodic 2D lattices, labelled in row strips (on several threads for big ones).

A sweep of the strip algorithm (one chain; the Fortuin-Kasteleyn construction of
:mod:`thermolearn.samplers.cluster`, bond probability p = 1 - exp(-2 beta J)):

1. one 64-bit key is drawn from the chain's xoshiro256** stream; every random number of the
   sweep is a counter-based hash of (key, counter) (SplitMix64's output function applied to
   key + counter * 0x9E3779B97F4A7C15, i.e. the SplitMix64 sequence started at the key): the
   bond from site i to its right neighbour uses counter 2i, to its lower neighbour 2i + 1, and
   the orientation of the cluster whose smallest site is r uses 2n + r;
2. the lattice is cut into strips of ``rows`` rows (the last one may be shorter); every strip
   draws its sites' right and down bonds, labels its own clusters (union-find, each root the
   smallest site of its cluster) and draws each cluster's orientation at its root (a coin in zero
   field, the heat bath 1 / (1 + exp(-2 beta H_C)) with the field sum H_C), on its own thread:
   strips write only their own sites;
3. the bonds across the strip boundaries (a strip's last row to the next strip's first, the
   last row to the first) join the strip roots, serially (union-find over at most four roots per
   boundary site, O(L) per boundary), the smaller root kept, so every cluster's root is its
   smallest site whatever the strips; a joined cluster's orientation is decided at its root from
   the same hash with its whole field sum (in zero field its root's coin stands);
4. the spins are written, strip by strip in parallel, with E and M when they are read (after the
   call's last sweep and at records): each strip sums its own pairs from its new spins, and for
   the pairs of its last row with the next strip's first (whose spins another thread may be
   writing) the new product s_i s_j follows from whether the pair was aligned (kept with the
   bonds) and whether the two clusters flip.

Two parallel regions per sweep, and a serial merge of about 1/``rows`` of the work (1/64 by
default: 0.2-4% of a sweep measured at L = 512-2048).

Every random number depends only on the key and the site or root it belongs to, and the clusters
do not depend on the cut, so the spins, the generator state, M and the counts are the same for any
number of threads and any strip height (tested); E = -(J sum_<ij> s_i s_j + sum_i h_i s_i) sums its
integer bond part exactly and its field part strip by strip in strip order, so with fields its last
bits (and, through H_C's rounding, an orientation with vanishing probability) follow the strip
height, which the sampler fixes. The stream differs from the per-bond lattice kernel's (one
xoshiro draw per bond); the sampler uses the strips on every periodic 2D lattice by default (its
``strip_sites``): one thread running the serial compilation (:data:`sw_strip_serial`) costs about
as much per site as the per-bond kernel less 10-25% (no xoshiro step per bond), so the strips pay
on one thread too. Several small chains run :func:`sw_strip_chains` (the serial compilation on each
chain, the chains in parallel), which makes the same moves as each chain alone.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import bind_globals, njit
from thermolearn.kernel_threads import over_items
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
def _label_strip(k, s, parent, bits, hsum, flip, h, key, C, R, rows, thr, has_field, beta):
    """Bonds and clusters of strip ``k`` (rows k*rows ... ): each site's right and down bonds into
    ``bits`` (1, 2; 4, 8: the pair aligned), the strip's clusters in ``parent`` (every site pointing
    at its root, the smallest site of its cluster inside the strip), each root's field sum in
    ``hsum`` and its flip in ``flip`` (final for a cluster the boundaries do not join)."""
    r0 = k * rows
    r1 = min(r0 + rows, R)
    lo_site = r0 * C
    hi_site = r1 * C
    one = uint64(1)
    shift = uint64(11)
    for r in range(r0, r1):
        base = r * C
        below = (base + C if r < R - 1 else 0) - base  # from a site to the one below it (periodic)
        # the row's bonds first, in a loop without branches (the compiler vectorises it): the
        # hashes are made for every pair and kept for an aligned one
        ub = uint64(base)
        ubelow = uint64(base + below)
        for u in range(ub, ub + uint64(C) - one):  # (unsigned: no negative-index wraparound code)
            si = s[u]
            ctr = uint64(2) * u
            ar = s[u + one] == si
            ad = s[u - ub + ubelow] == si
            br = ar & ((_hash(key, ctr) >> shift) < thr)
            bd = ad & ((_hash(key, ctr + one) >> shift) < thr)
            bits[u] = (
                np.uint8(br)
                | (np.uint8(bd) << np.uint8(1))
                | (np.uint8(ar) << np.uint8(2))
                | (np.uint8(ad) << np.uint8(3))
            )
        i = base + C - 1  # the row's last site: its right neighbour is the row's first
        si = s[i]
        ctr = uint64(2 * i)
        ar = s[base] == si
        ad = s[i + below] == si
        br = ar & ((_hash(key, ctr) >> shift) < thr)
        bd = ad & ((_hash(key, ctr + one) >> shift) < thr)
        bits[i] = (
            np.uint8(br) | (np.uint8(bd) << np.uint8(1)) | (np.uint8(ar) << np.uint8(2)) | (np.uint8(ad) << np.uint8(3))
        )
        # Hoshen-Kopelman along the row: a site joins the root of its left neighbour (still a
        # root: nothing was linked since) and the root of its upper one, the larger of the two
        # roots linked under the smaller (selects, not branches: the bonds are coin flips)
        for i in range(base, base + C):
            a = i
            if i > base:
                a += (bits[i - 1] & 1) * (parent[i - 1] - i)
            b = i
            if r > r0:
                b += ((bits[i - C] >> 1) & 1) * (_find(parent, i - C) - i)
            lo = min(a, b)
            parent[max(a, b)] = lo
            parent[i] = lo
        if bits[base + C - 1] & 1:  # the bond across the row's ends
            ra = _find(parent, base + C - 1)
            rb = _find(parent, base)
            parent[max(ra, rb)] = min(ra, rb)
    # every parent is an ancestor with a smaller index, so one ascending pass leaves each site
    # pointing at its root: the sites before it already point at theirs
    for i in range(uint64(lo_site), uint64(hi_site)):  # (unsigned: no wraparound code)
        parent[i] = parent[uint64(parent[i])]
    if has_field:
        for i in range(lo_site, hi_site):
            hsum[i] = 0.0
        for i in range(lo_site, hi_site):
            hsum[parent[i]] += h[i]
        for i in range(lo_site, hi_site):
            if parent[i] == i:
                flip[i] = _decide(key, i, hsum[i], beta, s[i], True, uint64(2 * R * C))
    else:
        for i in range(uint64(lo_site), uint64(hi_site)):
            flip[i] = _decide(key, i, 0.0, beta, s[i], False, uint64(2 * R * C))


@njit(inline="always")
def _decide(key, root, field_sum, beta, spin, has_field, roots_base):
    """Whether the cluster whose smallest site is ``root`` flips (uint8): its orientation is up with
    probability 1 / (1 + exp(-2 beta H_C)) (heat bath on H_C = ``field_sum``; a coin in zero field),
    drawn from the hash of (key, 2n + root)."""
    z = _hash(key, roots_base + uint64(root)) >> uint64(11)
    x = 2.0 * beta * field_sum  # p(up) = 1 / (1 + exp(-x))
    if not has_field or x == 0.0:
        return np.uint8(z < _HALF)
    u = float(z) * _MANTISSA
    if x >= 0.0:
        up = u * (1.0 + math.exp(-x)) < 1.0
    else:
        ex = math.exp(x)
        up = u * (1.0 + ex) < ex
    return np.uint8((spin == 1) != up)


@njit(inline="always")
def _join(listed, roots, n_roots, x):
    """Note root ``x`` (once) among those the boundary merge touches."""
    if not listed[x]:
        listed[x] = 1
        roots[n_roots] = x
        n_roots += 1
    return n_roots


def _strip_sweeps(
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
    part_i,
    part_e,
    part_h,
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
    ceil(p 2^53). Scratch: ``parent`` (int32, or int64 from 2^31 sites), ``bits``, ``flip``,
    ``listed`` (uint8, zero) of n_spins, ``hsum`` (n_spins floats with a field), ``roots`` (int64,
    min(n, 4 C strips)); per strip: ``part_i`` (3, strips) int64 (flips, magnetisation, clusters),
    ``part_e`` int64 (sum s_i (s_right + s_down)), ``part_h`` float (sum h_i s_i). The kernel
    allocates nothing, so its serial compilation runs without Numba's reference counting.
    Adds (sweeps, clusters, spins flipped) to ``totals``; returns the spins flipped."""
    n = spins.shape[1]
    R = n // C
    S = (R + rows - 1) // rows
    s = spins[c]
    st0, st1, st2, st3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    roots_base = uint64(2 * n)
    n_flip = 0
    n_clu = 0
    for t in range(n_sweeps):
        key, st0, st1, st2, st3 = next64(st0, st1, st2, st3)
        for k in prange(S):
            _label_strip(k, s, parent, bits, hsum, flip, h, key, C, R, rows, thr, has_field, beta)
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
                    n_roots = _join(listed, roots, n_roots, a)
                    n_roots = _join(listed, roots, n_roots, b)
                    ra = _find(parent, a)
                    rb = _find(parent, b)
                    if ra != rb:
                        n_roots = _join(listed, roots, n_roots, ra)
                        n_roots = _join(listed, roots, n_roots, rb)
                        parent[max(ra, rb)] = min(ra, rb)
        # every root relinked is listed: point each straight at its cluster's root (so any site's
        # root is parent[parent[i]]) and move its field sum there, in list order; a joined
        # cluster's orientation is then decided again with its whole field (in zero field the coin
        # of its root, drawn in its strip, stands), and every strip root holds its cluster's flip
        for q in range(n_roots):
            x = roots[q]
            g = _find(parent, x)
            if g != x:
                parent[x] = g
                if has_field:
                    hsum[g] += hsum[x]
            listed[x] = 0
        if has_field:
            for q in range(n_roots):
                x = roots[q]
                if parent[x] == x:
                    flip[x] = _decide(key, x, hsum[x], beta, s[x], True, roots_base)
        for q in range(n_roots):  # a joined strip root passes its cluster's flip on to its sites
            x = roots[q]
            flip[x] = flip[parent[x]]
        recording = count > 0 and (t + 1) % thin == 0
        measure = recording or t == n_sweeps - 1  # E and M are read after this sweep
        for k in prange(S):
            nf = 0
            m = 0
            nc = 0
            bonds = 0
            field = 0.0
            r0 = k * rows
            r1 = min(r0 + rows, R)
            for i in range(uint64(r0 * C), uint64(r1 * C)):  # (unsigned: no wraparound code)
                p = uint64(parent[i])  # i's strip root, whose flip is its cluster's
                nc += p == i
                f = flip[p]
                v = s[i]
                s[i] = v - np.int8(2 * f) * v
                nf += f
                m += s[i]
            if measure:  # E of the new spins: the strip's own pairs from its new spins
                for r in range(r0, r1):
                    base = r * C
                    # unsigned indices: no negative-index wraparound code, so the loops
                    # vectorise (the measuring pass: 2.7 -> 0.9 us a call at L = 32)
                    ub = uint64(base)
                    uC = uint64(C)
                    for u in range(ub, ub + uC - uint64(1)):
                        bonds += np.int64(s[u]) * s[u + uint64(1)]
                    bonds += np.int64(s[base + C - 1]) * s[base]
                    if r < r1 - 1:
                        for u in range(ub, ub + uC):
                            bonds += np.int64(s[u]) * s[u + uC]
                # the last row's pairs with the next strip, whose spins another thread may be
                # writing: the new product from whether the pair was aligned (kept with the bonds)
                # and whether the two clusters flip
                base = (r1 - 1) * C
                below = (base + C if r1 < R else 0) - base
                for i in range(base, base + C):
                    fi = flip[parent[i]]
                    fd = flip[parent[i + below]]
                    bonds += (2 * np.int64((bits[i] >> 3) & 1) - 1) * (1 - 2 * np.int64(fi ^ fd))
                if has_field:
                    for i in range(r0 * C, r1 * C):
                        field += h[i] * s[i]
            part_i[0, k] = nf
            part_i[1, k] = m
            part_i[2, k] = nc
            part_e[k] = bonds
            part_h[k] = field
        for k in range(S):
            n_flip += part_i[0, k]
            n_clu += part_i[2, k]
        if measure:
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


#: the strip sweeps on the threads (``prange`` over the strips), and the same body compiled serially
#: (``prange`` read as ``range``) for a call with one thread: no parallel region to open (a few
#: microseconds per region), and the same moves; compiled without reference counting (no atomic
#: increments and decrements of its 31 array arguments: 0.5 us less per call)
sw_strip_sweeps = njit(cache=True, parallel=True)(_strip_sweeps)
sw_strip_serial = njit(cache=True, _nrt=False)(bind_globals(_strip_sweeps, "serial", prange=range))


@over_items()
def sw_strip_chains(
    spins,
    rng,
    energy,
    magnetization,
    C,
    rows,
    h,
    j0,
    thrs,
    has_field,
    betas,
    n_sweeps,
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
    """:func:`sw_strip_serial` on every chain (the chains in parallel, each chain's strips on its
    thread), with chain ``c``'s threshold ``thrs[c]`` and inverse temperature ``betas[c]``: the moves
    of the strip kernel whatever the number of chains. Adds (sweeps, clusters, spins flipped) to
    ``totals``; returns the spins flipped per chain. For lattices below 2^31 sites (int32 parents:
    the sampler runs several chains this way only below 512 x 512 sites)."""
    n_chains, n = spins.shape
    counts = np.zeros((n_chains, 3), dtype=np.int64)  # per chain, summed after the loop (no race)
    flipped = np.zeros(n_chains, dtype=np.int64)
    strips = (n // C + rows - 1) // rows
    for ch in prange(n_chains):
        c = np.int64(ch)  # prange's body is also typed with an unsigned index: one compilation of the callee
        hsum = np.empty(n if has_field else 1)  # (a conditional inside the call's arguments: not compiled)
        flipped[c] = sw_strip_serial(
            c, spins, rng, energy, magnetization, C, rows, h, j0, thrs[c], has_field, betas[c], n_sweeps,
            np.empty(n, dtype=np.int32), np.empty(n, dtype=np.uint8), hsum,
            np.empty(n, dtype=np.uint8), np.zeros(n, dtype=np.uint8), np.empty(min(n, 4 * C * strips), dtype=np.int64),
            np.empty((3, strips), dtype=np.int64), np.empty(strips, dtype=np.int64), np.empty(strips), counts[c], thin, first, count, rec_energy, rec_magnetization, site_sums, batch_of, states,
        )  # fmt: skip
    for c in range(n_chains):
        for q in range(3):
            totals[q] += counts[c, q]
    return flipped


def strip_scratch(n: int, columns: int, rows: int, has_field: bool) -> tuple[np.ndarray, ...]:
    """The scratch arrays of :func:`sw_strip_sweeps` for ``n`` sites in rows of ``columns``:
    parent, bits, hsum, flip, listed (zeroed: the kernel leaves it zeroed), roots, and the
    per-strip sums part_i, part_e, part_h."""
    strips = -(-(n // columns) // rows)
    return (
        np.empty(n, dtype=np.int32 if n < 2**31 else np.int64),
        np.empty(n, dtype=np.uint8),
        np.empty(n if has_field else 1, dtype=np.float64),
        np.empty(n, dtype=np.uint8),
        np.zeros(n, dtype=np.uint8),
        np.empty(min(n, 4 * columns * strips), dtype=np.int64),
        np.empty((3, strips), dtype=np.int64),
        np.empty(strips, dtype=np.int64),
        np.empty(strips, dtype=np.float64),
    )
