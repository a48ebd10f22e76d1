"""Cluster updates for ferromagnets on any graph: Wolff and Swendsen-Wang.

Both rest on the Fortuin-Kasteleyn / Edwards-Sokal construction. For a coupling J_ij >= 0,

    exp(beta J_ij s_i s_j) = e^{beta J_ij} [(1 - p_ij) + p_ij delta(s_i, s_j)],
    p_ij = 1 - exp(-2 beta J_ij),

so putting a bond on every *aligned* pair with probability p_ij and then choosing each
cluster's orientation from what is left of the weight (the fields) samples
exp(-beta E) / Z exactly. The bond probability is only a probability for J_ij >= 0: with a
negative (frustrated) coupling it would be negative, and flipping a cluster whose boundary
holds unsatisfied antiferromagnetic bonds breaks detailed balance. ``check_model`` refuses
such models and names the samplers that work for them ('metropolis', 'heatbath', 'pt').

Fields h_i. Swendsen-Wang: given the bonds, the clusters are independent and cluster C's
orientation sigma has weight exp(beta sigma H_C), H_C = sum_{i in C} h_i; each cluster draws
sigma = +1 with probability 1 / (1 + exp(-2 beta H_C)) (heat bath; 1/2 in zero field).
Wolff: the cluster is grown with the coupling bonds alone, which makes the proposal's
ratio exp(-beta Delta E_J); the flip is then accepted with probability
min(1, exp(-beta Delta E_h)), Delta E_h = 2 sum_{i in C} h_i s_i (a Metropolis step on the
field energy), so the move satisfies detailed balance for the full energy. (A ghost spin
coupled to site i with |h_i| would also be exact; its Wolff acceptance
exp(-2 beta sum_{i in C, h_i s_i > 0} h_i s_i) is never larger than the Metropolis one.)

What a sweep is:

- Swendsen-Wang: one sweep is one full update (every bond drawn, every cluster assigned).
  ``SweepStats.attempted`` = n_spins per sweep, ``accepted`` = spins whose value changed.
- Wolff: one sweep is a *fixed* number k of single-cluster moves, k = ceil(n_spins / <|C|>)
  with <|C|> the mean cluster size at that temperature, so that a sweep visits n_spins
  spins on average and is comparable with a single-spin sweep. ``attempted`` = spins
  visited (the sizes of all clusters built, rejected ones included), ``accepted`` = spins
  flipped. k is measured once per temperature: the first time a chain is swept at a new
  temperature it first runs ``calibration_sweeps`` preparatory sweeps of cluster moves
  until n_spins spins are visited each, which carry it from its start (a hot start at T_c
  has tiny clusters) towards equilibrium, and the mean cluster size over the last of them
  fixes k (saved with the sampler's state in checkpoints). The preparatory sweeps are part
  of the chain's history, like burn-in; they are not counted in ``SweepStats``. Pass
  ``clusters_per_sweep`` to fix k yourself (no preparatory sweeps). The rule "grow
  clusters until the flipped spins add up to n_spins" is *not* used for sampling because it
  is not exact: stopping on a count that depends on the states visited samples the chain at
  state-dependent times (two coupled spins: a sweep that starts aligned can never end
  anti-aligned), so it does not leave exp(-beta E) invariant; on a 3x4 lattice it misses
  the Boltzmann distribution by a total-variation distance of 0.06 to 0.24. A fixed number
  of moves, each of which leaves exp(-beta E) invariant, does.

Each chain runs in its own thread with its own xoshiro256** stream and work arrays
allocated once per call, not per cluster: a stack and a member list for Wolff (which marks
cluster members in the spin array itself), a parent and a per-cluster array for
Swendsen-Wang (union-find with path halving, each root its cluster's smallest site, so one
ascending pass meets every root before its other sites, and finds each site's root in two
reads: the sites before it already point at theirs). Bond tests compare 53-bit
integers with precomputed thresholds. The kernels keep ``state.energy`` and
``state.magnetization`` current: Wolff adds each cluster's Delta E (summed spin by spin as
the cluster flips), Swendsen-Wang recomputes E and M in the pass that writes the new spins.

Periodic 2D lattices (sides >= 3, one coupling J > 0 on both axes, any fields) take a lattice
path: neighbours by index arithmetic, no CSR arrays read (and the CSR matrix of a lattice made
by ``Ising.lattice`` is never built). Wolff's lattice path visits a site's four neighbours in
ascending index order, the order of the sorted CSR row, draws exactly when the generic kernel draws
and evaluates the same floating expressions, so for the same seed it gives the same spins,
generator states, E, M and counts as the generic kernel, bit for bit. Its growth has no
data-dependent branches: every neighbour of a member takes one draw (on every path; the bond
test uses it only when the neighbour is aligned, so each bond still sees a fresh uniform), and
every neighbour is written to the stack and kept only when it joins. Since 0.6.7; up to 0.6.6
only aligned neighbours took a draw (a masked update of the generator state on the lattice path,
1.4x the time per cluster member), so Wolff's moves for a seed differ from 0.6.6's and a 0.6.6
checkpoint resumes on the new stream (same distribution).

Swendsen-Wang on the lattice path labels the lattice in row strips by default, at every size
(:mod:`thermolearn.samplers.cluster_strips`, ``strip_sites`` = 1): every bond and every cluster
orientation is a counter-based hash of one key per sweep and of its site or its cluster's smallest
site. It is 1.1-1.3x faster per sweep than drawing each bond from xoshiro on one thread, and from
512 x 512 sites on the strips of one chain share the threads (their number chosen by timing: the
moves do not depend on it). Its random stream is not the per-bond one, so it is not bit-identical
to the CSR kernel (same distribution; SW samples on periodic 2D lattices below 512 x 512 differ from
those of 0.6.5 and earlier for the same seed, and a 0.6.5 checkpoint resumes on the new stream). With
``strip_sites=None`` (or above the lattice's size) SW keeps the per-bond lattice kernel, bit for bit
the CSR kernel's moves: it draws every bond first (the same draws, into bits per site) and then
labels the clusters in one ascending pass (Hoshen-Kopelman: a site takes the smaller of the roots
of its left and upper neighbours, the larger root linked under it), which gives the same clusters
with the same roots, the smallest sites, so the orientations are drawn where and when they were.

A single chain (the per-sweep call ``sweep(model, state, beta, 1)`` of a harness that drives
its own loop, a run of one chain) runs a serial kernel whose settings are packed into two small
arrays prepared once per model and beta: no parallel region, no thread count to set, no checks
repeated, a few microseconds of Python per call instead of tens, and a single-chain run compiles
no parallel kernel. Several chains run the parallel kernel
(:func:`thermolearn.kernel_threads.over_items`); both make the same moves (for the strips too:
several small chains run the serial strip kernel, one chain per thread).
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from typing import Any

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.kernel_entry import entry_point
from thermolearn.kernel_threads import MIN_PARALLEL_WORK, ThreadClock, over_items, thread_count, thread_limit
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next_bits53, next_uniform
from thermolearn.samplers.base import (
    Sampler,
    SweepStats,
    as_betas,
    keep_lean_call,
    one_chain_count,
    one_chain_stats,
    sweep_stats,
)
from thermolearn.samplers.cluster_strips import strip_scratch, sw_strip_chains, sw_strip_serial, sw_strip_sweeps
from thermolearn.samplers.recording import Records, no_records, record_chain
from thermolearn.samplers.state import ChainState, kernel_views
from thermolearn.validation import check_positive_int

#: Wolff's preparatory sweeps at a new temperature (total, and how many before <|C|> is measured).
CALIBRATION_WARMUP = 20
CALIBRATION_SWEEPS = 40
#: Swendsen-Wang labels lattices of the lattice path from this many sites on in row strips
#: (counter-based randomness, see :class:`SwendsenWang`): every size, since the strip kernel is
#: faster than the per-bond xoshiro kernel on one thread too (1.1-1.3x per sweep at L = 32-256)
STRIP_SITES = 1
#: the strips of one chain go on several threads from this many sites on (below, one thread each:
#: a region would not outlast the scheduler's latency); in strips of STRIP_ROWS rows: a boundary
#: costs a serial pass over one row, 1/64 of a strip's work
STRIP_THREAD_SITES = 512 * 512
STRIP_ROWS = 64
#: single-spin updates (the unit of MIN_PARALLEL_WORK) one site of a strip sweep costs about
STRIP_WORK = 8
#: seconds of one block of a threaded strip call (the threads are chosen again for every block)
STRIP_BLOCK_SECONDS = 0.05


# ----------------------------------------------------------------------------- Wolff kernel
# While a cluster grows, spins hold a code: +-1 outside the cluster, 2 s_old for a member
# waiting on the stack, -2 s_old for a member already processed (flipped; -s_old, its new value,
# without a field). The sign is the spin's current value, so no separate visit marks are needed;
# ((v >> 7) | 1) is sign(v).
#
# Two ways to find a spin's neighbours, one stream of random numbers: the CSR rows of the
# model (any graph), or, on a periodic rectangular lattice with one coupling J > 0, index
# arithmetic (no neighbour arrays read, and the CSR matrix of a big lattice is never built).
# The lattice path visits the four neighbours in ascending index order, the order of the
# model's sorted CSR row, and evaluates the same floating expressions, so both paths make
# the same moves from the same draws and give the same E and M, bit for bit (tested).
@njit(inline="always")
def _wolff_cluster(
    s,
    stack,
    cols,
    members,
    nbr,
    lattice,
    C,
    indptr,
    indices,
    data,
    h,
    j0,
    bond,
    uniform,
    has_field,
    beta,
    s0,
    s1,
    s2,
    s3,
):
    """Grow one Wolff cluster from a random seed (depth first) and flip it, or not, on the
    field test. ``bond`` holds integer thresholds ceil(p 2^53) (one, or one per CSR entry);
    ``lattice``: the periodic lattice of rows of ``C`` sites with one coupling ``j0``.

    Returns (size, flipped, delta_e, s_old, s0, s1, s2, s3); s is updated in place.
    """
    n = s.shape[0]
    u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    seed = min(int(u * n), n - 1)
    s_old = s[seed]
    waiting = np.int8(2 * s_old)
    # without a field every cluster flips: a processed member takes its new value at once (its
    # sign, all the loops read, is the same as the code -2 s_old's) and needs no list and no
    # second pass; with a field the flip may be refused, so members are listed and coded
    done = np.int8(-2 * s_old) if has_field else np.int8(-s_old)
    s[seed] = waiting
    stack[0] = seed
    cols[0] = seed % C if lattice else 0
    top = 1
    size = 0
    de = 0.0
    de_field = 0.0
    thr = bond[0]
    wrap = n - C  # the first site of the last row: a vertical step across the edge is +- wrap
    while top > 0:
        top -= 1
        i = stack[top]
        if has_field:
            members[size] = i
        size += 1
        # flip i now, with the members processed before it already flipped: the single-spin
        # Delta E = 2 s_old phi_i add up (telescope) to the cluster's Delta E
        # (the neighbour loops are written out: an inlined helper returning the generator
        # state made the kernel twice as slow)
        if lattice:
            c = cols[top]
            # the row's two neighbours in ascending index order (a wrapped one is the larger)
            if c == 0:
                a, ca, b, cb = i + 1, 1, i + C - 1, C - 1
            elif c == C - 1:
                a, ca, b, cb = i - c, 0, i - 1, c - 1
            else:
                a, ca, b, cb = i - 1, c - 1, i + 1, c + 1
            if i < C:  # first row: the row, the row below, the last row
                nbr[0], nbr[1], nbr[2], nbr[3] = a, b, i + C, i + wrap
                nbr[4], nbr[5], nbr[6], nbr[7] = ca, cb, c, c
            elif i >= wrap:  # last row: the first row, the row above, the row
                nbr[0], nbr[1], nbr[2], nbr[3] = i - wrap, i - C, a, b
                nbr[4], nbr[5], nbr[6], nbr[7] = c, c, ca, cb
            else:  # the row above, the row, the row below
                nbr[0], nbr[1], nbr[2], nbr[3] = i - C, a, b, i + C
                nbr[4], nbr[5], nbr[6], nbr[7] = c, ca, cb, c
            # without branches: every neighbour takes a draw (used only when it is aligned, as
            # the CSR loops below), and is written to the stack always and kept only when it
            # joins; the two tests are coin flips that a branch predictor misses about half the
            # time, which cost most of the time of a branching loop. (Up to 0.6.6 only aligned
            # neighbours advanced the generator, through a masked state update: 1.4x the time)
            total = 0
            for q in range(4):
                j = nbr[q]
                v = s[j]
                total += (v >> 7) | 1
                k, s0, s1, s2, s3 = next_bits53(s0, s1, s2, s3)
                joins = (v == s_old) & (k < thr)
                s[j] = v + np.int8(joins) * (waiting - v)
                stack[top] = j
                cols[top] = nbr[q + 4]
                top += joins
            de += 2.0 * j0 * s_old * total
        elif uniform:
            total = 0
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                v = s[j]
                total += (v >> 7) | 1
                k, s0, s1, s2, s3 = next_bits53(s0, s1, s2, s3)  # a draw per neighbour, aligned or not
                if v == s_old and k < thr:
                    s[j] = waiting
                    stack[top] = j
                    top += 1
            de += 2.0 * j0 * s_old * total
        else:
            phi = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                v = s[j]
                phi += data[p] * ((v >> 7) | 1)
                k, s0, s1, s2, s3 = next_bits53(s0, s1, s2, s3)
                if v == s_old and k < bond[p]:
                    s[j] = waiting
                    stack[top] = j
                    top += 1
            de += 2.0 * s_old * phi
        if has_field:
            de_field += 2.0 * s_old * h[i]
        s[i] = done
    accept = True
    if has_field and de_field > 0.0:
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        accept = u < math.exp(-beta * de_field)
    if has_field:
        final = -s_old if accept else s_old
        for q in range(size):
            s[members[q]] = final
    if not accept:
        return size, 0, 0.0, s_old, s0, s1, s2, s3
    return size, size, de + de_field, s_old, s0, s1, s2, s3


@njit(cache=True)
def _wolff_chain(
    c,
    work,
    nbr,
    spins,
    rng,
    energy,
    magnetization,
    lattice,
    C,
    indptr,
    indices,
    data,
    h,
    j0,
    bond,
    uniform,
    has_field,
    beta,
    clusters,
    n_sweeps,
    budget,
    thin,
    first,
    count,
    rec_energy,
    rec_magnetization,
    site_sums,
    batch_of,
    states,
):
    """Wolff moves on chain ``c`` (``work``: 3 n_spins integers of scratch; ``nbr``: 8 uint64, a
    lattice site's four neighbours and their columns, unsigned: no negative-index wraparound
    code). ``budget`` False: ``clusters * n_sweeps`` moves (the
    sampler). ``budget`` True: per sweep, moves until the visited spins reach n_spins (only
    for the preparatory sweeps that measure cluster sizes; not an exact sampler, see the module).
    Returns (spins flipped, spins visited, clusters built, clusters accepted)."""
    n = spins.shape[1]
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    s = spins[c]
    stack, members, cols = work[:n], work[n : 2 * n], work[2 * n :]
    n_flip = 0
    n_visit = 0
    n_built = 0
    n_acc = 0
    m_change = 0
    for t in range(n_sweeps):
        e_change = 0.0
        done = 0
        k = 0
        while (done < n) if budget else (k < clusters):
            size, nf, de, s_old, s0, s1, s2, s3 = _wolff_cluster(
                s, stack, cols, members, nbr, lattice, C, indptr, indices, data, h, j0, bond, uniform, has_field, beta,
                s0, s1, s2, s3,
            )  # fmt: skip
            k += 1
            done += size
            n_visit += size
            n_built += 1
            if nf > 0:
                n_acc += 1
                n_flip += nf
                e_change += de
                m_change -= 2 * s_old * nf
        # added per sweep: a run cut into calls of any length adds the same numbers in the same order
        energy[c] += e_change
        if count > 0 and (t + 1) % thin == 0:  # a record every thin sweeps (sampling runs)
            r = first + (t + 1) // thin - 1
            m_now = magnetization[c] + m_change
            record_chain(c, r, s, energy[c], m_now, rec_energy, rec_magnetization, site_sums, batch_of, states)
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3
    magnetization[c] += m_change
    return n_flip, n_visit, n_built, n_acc


@over_items()
def _wolff_sweeps(
    spins,
    rng,
    energy,
    magnetization,
    lattice,
    C,
    indptr,
    indices,
    data,
    split,
    h,
    j0,
    bondp,
    rows,
    uniform,
    has_field,
    betas,
    clusters,
    n_sweeps,
    budget,
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
    """:func:`_wolff_chain` on every chain (in parallel). Adds (sweeps, clusters built, clusters
    accepted, spins visited, spins flipped) to ``totals``; returns (flipped, visited, built) per chain."""
    n_chains = spins.shape[0]
    counts = np.zeros((4, n_chains), dtype=np.int64)
    for ch in prange(n_chains):
        c = np.int64(ch)  # prange's body is also typed with an unsigned index: one compilation of the callee
        f, v, b, a = _wolff_chain(
            c, np.empty(3 * spins.shape[1], dtype=indices.dtype), np.empty(8, dtype=np.uint64), spins, rng, energy, magnetization, lattice, C, indptr, indices, data, h, j0, bondp[rows[c]], uniform,
            has_field, betas[c], clusters[c], n_sweeps, budget, thin, first, count, rec_energy, rec_magnetization,
            site_sums, batch_of, states,
        )  # fmt: skip
        counts[0, c] = f
        counts[1, c] = v
        counts[2, c] = b
        counts[3, c] = a
    totals[0] += n_chains * n_sweeps
    for c in range(n_chains):
        totals[1] += counts[2, c]
        totals[2] += counts[3, c]
        totals[3] += counts[1, c]
        totals[4] += counts[0, c]
    return counts[0], counts[1], counts[2]


@njit(cache=True, _nrt=False)
def _wolff_one(
    spins,
    rng,
    energy,
    magnetization,
    indptr,
    indices,
    data,
    h,
    bond,
    ints,
    reals,
    work,
    nbr,
    n_sweeps,
    budget,
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
    """:func:`_wolff_sweeps` for one chain, serially and with the settings packed: no parallel
    region to open, no thread count to set, a dispatch of 23 arguments instead of 29 (the
    per-sweep call of one chain costs a few microseconds, not tens), and a single-chain run never
    compiles the parallel kernel. ``ints`` = (lattice, C, uniform, has_field, clusters per sweep),
    ``reals`` = (J of a uniform model, beta), ``work``: 3 n_spins integers of scratch, ``nbr``: 8
    uint64. Compiled without Numba's reference counting (it allocates nothing): a call costs
    about 0.5 us less. Returns the
    chain's (spins flipped, spins visited, clusters built) as integers."""
    f, v, b, a = _wolff_chain(
        np.int64(0), work, nbr, spins, rng, energy, magnetization, ints[0] != 0, ints[1], indptr, indices, data, h, reals[0], bond,
        ints[2] != 0, ints[3] != 0, reals[1], ints[4], n_sweeps, budget, thin, first, count, rec_energy,
        rec_magnetization, site_sums, batch_of, states,
    )  # fmt: skip
    totals[0] += n_sweeps
    totals[1] += b
    totals[2] += a
    totals[3] += v
    totals[4] += f
    return f, v, b  # integers: three returned arrays took 1.6 us to box, more than a sweep at L = 16


# ------------------------------------------------------------------- Swendsen-Wang kernel
_HALF = uint64(1) << uint64(52)  # a 53-bit draw below 2^52: probability 1/2


@njit(inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@njit(cache=True)
def _sw_chain(
    c,
    parent,
    flip,
    spins,
    rng,
    energy,
    magnetization,
    lattice,
    C,
    indptr,
    indices,
    data,
    split,
    h,
    j0,
    row,
    uniform,
    has_field,
    beta,
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
    """Swendsen-Wang sweeps of chain ``c`` (``parent``, ``flip``: n_spins int32 and bool of
    scratch); returns (spins flipped, clusters)."""
    n = spins.shape[1]
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    s = spins[c]
    b_uniform = row[0]
    R = n // C if lattice else 0
    wrap = n - C
    # parent (union-find) and flip (per root, drawn when the loop reaches the root): work arrays
    hsum = np.zeros(n if has_field else 1)
    nbr = np.empty(4, dtype=np.int64)  # a lattice site's neighbours j > i
    code = np.empty(4, dtype=np.int64)  # and the bits of their bonds
    bonds = np.empty(n if lattice else 1, dtype=np.int64)
    n_flip = 0
    n_clu = 0
    e_new = energy[c]
    m_new = magnetization[c]
    for t in range(n_sweeps):
        if not lattice:  # (the lattice's labelling pass sets every parent itself)
            for i in range(n):
                parent[i] = i
        # bonds on aligned pairs, each edge once from its lower end, in ascending order of the
        # upper end (the CSR row i's entries split[i] .. indptr[i+1] are its neighbours j > i)
        if lattice:
            # first every bond drawn, in the CSR order, into bits per site (1 right, 2 left across
            # the edge, 4 down, 8 up across the edge), then the clusters labelled in one ascending
            # pass: a site joins the root of its left neighbour (still a root: nothing was merged
            # since) and of its upper one, the larger of the two roots linked under the smaller
            for r in range(R):
                base = r * C
                for col in range(C):
                    i = base + col
                    m = 0  # the neighbours j > i, ascending: right, left across the edge, down, up across the edge
                    if col < C - 1:
                        nbr[m] = i + 1
                        code[m] = 0
                        m += 1
                    if col == 0:
                        nbr[m] = i + C - 1
                        code[m] = 1
                        m += 1
                    if r < R - 1:
                        nbr[m] = i + C
                        code[m] = 2
                        m += 1
                    if r == 0:
                        nbr[m] = i + wrap
                        code[m] = 3
                        m += 1
                    si = s[i]
                    bits = 0
                    for q in range(m):
                        # the draw made always, kept only for an aligned pair (see the Wolff kernel)
                        aligned = s[nbr[q]] == si
                        k, t0, t1, t2, t3 = next_bits53(s0, s1, s2, s3)
                        keep = uint64(0) - uint64(aligned)
                        s0 ^= (s0 ^ t0) & keep
                        s1 ^= (s1 ^ t1) & keep
                        s2 ^= (s2 ^ t2) & keep
                        s3 ^= (s3 ^ t3) & keep
                        bits |= np.int64(aligned & (k < b_uniform)) << code[q]
                    bonds[i] = bits
            for r in range(R):
                base = r * C
                for col in range(C):
                    i = base + col
                    a = i
                    if col > 0:
                        a += (bonds[i - 1] & 1) * (parent[i - 1] - i)
                    b = i
                    if r > 0:
                        b += ((bonds[i - C] >> 2) & 1) * (_find(parent, i - C) - i)
                    lo = min(a, b)
                    parent[max(a, b)] = lo
                    parent[i] = lo
                    # the bonds across the edges, to smaller sites; parent[i] is left at i's root
                    # (the next site reads it as one)
                    if col == C - 1 and bonds[base] & 2:  # to the row's first site
                        ri = _find(parent, i)
                        rj = _find(parent, base)
                        parent[max(ri, rj)] = min(ri, rj)
                        parent[i] = min(ri, rj)
                    if r == R - 1 and bonds[col] & 8:  # to the first row
                        ri = _find(parent, i)
                        rj = _find(parent, col)
                        parent[max(ri, rj)] = min(ri, rj)
                        parent[i] = min(ri, rj)
        else:
            for i in range(n):
                si = s[i]
                for p in range(split[i], indptr[i + 1]):
                    j = indices[p]
                    if s[j] == si:
                        k, s0, s1, s2, s3 = next_bits53(s0, s1, s2, s3)
                        if k < (b_uniform if uniform else row[p]):
                            ri = _find(parent, i)
                            rj = _find(parent, j)
                            # link the larger root under the smaller: every root is its
                            # cluster's smallest site, met first by the loops below
                            if ri < rj:
                                parent[rj] = ri
                            elif rj < ri:
                                parent[ri] = rj
        if has_field:  # total field H_C of each cluster, at its root
            for i in range(n):
                hsum[i] = 0.0
            for i in range(n):
                r = parent[parent[i]]  # (see the pass below)
                parent[i] = r
                hsum[r] += h[i]
        # one pass: each cluster draws its orientation at its root, its smallest site (heat
        # bath on its field energy, 1/2 in zero field), the spins are written, and
        # E = -sum_i s_i (h_i + sum_{j<i} J_ij s_j) and M are recomputed
        e_new = 0.0
        m_int = 0
        col = -1  # the lattice column of site i
        for i in range(n):
            col = col + 1 if col < C - 1 else 0
            # every j < i already points at its root, and parent[i] <= i (roots are the smallest
            # sites, path halving only shortens): parent[parent[i]] is i's root, no search needed
            r = parent[parent[i]]
            parent[i] = r
            root = r == i
            n_clu += root
            if has_field and root and hsum[i] != 0.0:
                u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                x = 2.0 * beta * hsum[i]  # p(up) = 1 / (1 + exp(-x))
                if x >= 0.0:
                    up = u * (1.0 + math.exp(-x)) < 1.0
                else:
                    ex = math.exp(x)
                    up = u * (1.0 + ex) < ex
                flip[i] = (s[i] == 1) != up
            else:
                # a coin for a root, without branches: drawn always, kept only at a root (flip[i]
                # of another site is never read: its cluster's spins read flip at the root)
                k, t0, t1, t2, t3 = next_bits53(s0, s1, s2, s3)
                keep = uint64(0) - uint64(root)
                s0 ^= (s0 ^ t0) & keep
                s1 ^= (s1 ^ t1) & keep
                s2 ^= (s2 ^ t2) & keep
                s3 ^= (s3 ^ t3) & keep
                flip[i] = k < _HALF
            f = flip[r]
            v = s[i]
            s[i] = v - np.int8(2 * f) * v
            n_flip += f
            si = s[i]
            m_int += si
            if lattice:  # the neighbours j < i (already new): left, right across the edge, up, down across the edge
                total = 0
                if col > 0:
                    total += s[i - 1]
                if col == C - 1:
                    total += s[i - col]
                if i >= C:
                    total += s[i - C]
                if i >= wrap:
                    total += s[i - wrap]
                e_new -= si * (h[i] + j0 * total)
            elif uniform:
                total = 0
                for p in range(indptr[i], split[i]):  # neighbours j < i: s[j] already new
                    total += s[indices[p]]
                e_new -= si * (h[i] + j0 * total)
            else:
                acc = h[i]
                for p in range(indptr[i], split[i]):
                    acc += data[p] * s[indices[p]]
                e_new -= si * acc
        m_new = float(m_int)
        if count > 0 and (t + 1) % thin == 0:  # a record every thin sweeps (sampling runs)
            r = first + (t + 1) // thin - 1
            record_chain(c, r, s, e_new, m_new, rec_energy, rec_magnetization, site_sums, batch_of, states)
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3
    energy[c] = e_new
    magnetization[c] = m_new
    return n_flip, n_clu


@over_items()
def _sw_sweeps(
    spins,
    rng,
    energy,
    magnetization,
    lattice,
    C,
    indptr,
    indices,
    data,
    split,
    h,
    j0,
    bondp,
    rows,
    uniform,
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
    """:func:`_sw_chain` on every chain (in parallel); adds (sweeps, clusters, spins flipped) to
    ``totals`` and returns the spins flipped per chain."""
    n_chains = spins.shape[0]
    counts = np.zeros((2, n_chains), dtype=np.int64)
    for ch in prange(n_chains):
        c = np.int64(ch)  # prange's body is also typed with an unsigned index: one compilation of the callee
        f, k = _sw_chain(
            c, np.empty(spins.shape[1], dtype=np.int32), np.empty(spins.shape[1], dtype=np.bool_), spins, rng, energy, magnetization, lattice, C, indptr, indices, data, split, h, j0, bondp[rows[c]],
            uniform, has_field, betas[c], n_sweeps, thin, first, count, rec_energy, rec_magnetization, site_sums,
            batch_of, states,
        )  # fmt: skip
        counts[0, c] = f
        counts[1, c] = k
    totals[0] += n_chains * n_sweeps
    for c in range(n_chains):
        totals[1] += counts[1, c]
        totals[2] += counts[0, c]
    return counts[0]


@njit(cache=True)
def _sw_one(
    spins,
    rng,
    energy,
    magnetization,
    indptr,
    indices,
    data,
    split,
    h,
    bond,
    ints,
    reals,
    parent,
    flip,
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
    """:func:`_sw_sweeps` for one chain, serially and with the settings packed (see
    :func:`_wolff_one`); ``ints`` = (lattice, C, uniform, has_field), ``reals`` = (J, beta)."""
    f, k = _sw_chain(
        np.int64(0), parent, flip, spins, rng, energy, magnetization, ints[0] != 0, ints[1], indptr, indices, data, split, h,
        reals[0], bond, ints[2] != 0, ints[3] != 0, reals[1], n_sweeps, thin, first, count, rec_energy,
        rec_magnetization, site_sums, batch_of, states,
    )  # fmt: skip
    totals[0] += n_sweeps
    totals[1] += k
    totals[2] += f
    return f  # an integer (see _wolff_one)


# ------------------------------------------------------------------------- Python classes


def _check_counters(counters: np.ndarray | None, size: int) -> None:
    """A saved counter array (None: absent) must be ``size`` non-negative integers."""
    if counters is None:
        return
    arr = np.asarray(counters)
    if arr.dtype.kind not in "iu" or arr.shape != (size,) or np.any(arr < 0):
        raise ValueError(f"sampler counters must be {size} non-negative integers, got {arr.dtype} {arr.shape}")


#: what the CSR arguments of the kernels hold on the lattice path (never read there)
_NO_INDPTR = np.zeros(1, dtype=np.int64)
_NO_INDICES = np.zeros(0, dtype=np.int32)
_NO_DATA = np.zeros(0, dtype=np.float64)
#: the record arguments of a call that records nothing, made once (size 0: never written)
_NO_RECORDS = no_records()


def lattice_columns(model: Ising) -> int | None:
    """The row length C of ``model`` when the cluster kernels may find neighbours by index
    arithmetic (a periodic 2D lattice with sides >= 3 and one coupling J > 0 on both axes;
    any fields), else None (the CSR rows are read)."""
    g = model.geometry
    if g is None or g.dim != 2 or not all(g.periodic) or min(g.shape) < 3:
        return None
    if g.couplings[0] != g.couplings[1] or not g.couplings[0] > 0:
        return None  # (a zero coupling stores no bonds in the CSR matrix)
    return int(g.shape[1])


class _ClusterSampler(Sampler):
    """Shared plumbing: the ferromagnet check, the bond-probability tables and the prepared
    arguments of the per-sweep call."""

    supports_frustration = False  # bond probabilities 1 - exp(-2 beta J) need J >= 0
    _counters: np.ndarray  # the run's totals, which the kernels add to (each algorithm its own)

    def __init__(self) -> None:
        self._model: Ising | None = None
        self._uniform = True
        self._has_field = False
        self._tables: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._graph: tuple = ()
        # (model, beta, spins shape, kernel arguments) of the last call with one float beta:
        # a harness calling sweep(model, state, beta, 1) in a loop skips every check and table
        # look-up after its first call (the model is immutable; the state's shape is compared)
        self._last_call: tuple | None = None
        #: the last call's single-chain kernel arguments, kept when it ran at one float beta (``sweep``'s lean path)
        self._lean: tuple | None = None
        #: the lean calls of the last few chains by id of their spins (a caller alternating replicas)
        self._leans: dict[int, tuple] = {}

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        if not model.is_ferromagnetic:
            data = model.data
            n_negative = int(np.count_nonzero(data < 0)) // 2
            raise ValueError(
                f"the {self.name!r} cluster sampler needs ferromagnetic couplings (every J_ij >= 0), but this model "
                f"has {n_negative} negative coupling(s) (smallest J_ij = {float(data.min()):g}): for J_ij < 0 the bond "
                "probability 1 - exp(-2 beta J_ij) would be negative and a cluster flip would break detailed balance. "
                "For frustrated or antiferromagnetic models use a single-spin sampler ('metropolis' or 'heatbath') "
                "or parallel tempering ('pt'). (Fields h_i of either sign are fine.)"
            )

    @staticmethod
    def _betas(model: Ising, state: ChainState, betas) -> np.ndarray:
        """One beta > 0 per chain (fast path for the float64 array ``sample`` passes); the chains
        were checked against the model before (the kernels index without bounds checks)."""
        n_chains = state.n_chains  # the chains were checked by _sweeps (Sampler._check_call)
        if (
            isinstance(betas, np.ndarray)
            and betas.dtype == np.float64
            and betas.shape == (n_chains,)
            and bool((betas > 0).all())
        ):
            return betas
        return as_betas(betas, n_chains)

    def _prepare(self, model: Ising, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bond probabilities p = 1 - exp(-2 beta J) as 53-bit integer thresholds, per distinct
        beta (one column when every J is equal), and each chain's row; cached for the model and
        betas last seen."""
        if model is not self._model:
            self.check_model(model)
            self._last_call = None
            self._forget_lean()
            self._has_field = bool(np.any(model.fields != 0))
            self._tables = {}
            n = model.n_spins
            fields = np.ascontiguousarray(model.fields, dtype=np.float64)
            columns = lattice_columns(model)
            if columns is not None:  # neighbours by index arithmetic: the CSR matrix is not built
                assert model.geometry is not None
                self._uniform = True
                j0 = float(model.geometry.couplings[0])
                self._graph = (True, columns, _NO_INDPTR, _NO_INDICES, _NO_DATA, _NO_INDPTR, fields, j0)
            else:
                data = model.data
                self._uniform = bool(data.size == 0 or np.all(data == data[0]))
                indptr = model.indptr.astype(np.int64)
                indices = model.indices.astype(np.int32 if n < 2**31 else np.int64)
                row_of: np.ndarray = np.repeat(np.arange(n), np.diff(indptr))
                split: np.ndarray = indptr[:-1] + np.bincount(row_of[indices < row_of], minlength=n)  # first j > i
                j0 = float(data[0]) if data.size else 0.0
                self._graph = (
                    False,
                    1,
                    indptr,
                    indices,
                    np.ascontiguousarray(data, dtype=np.float64),
                    split.astype(np.int64),
                    fields,
                    j0,
                )
            self._model = model
        key = betas.tobytes()
        got = self._tables.get(key)
        if got is None:
            distinct, rows = np.unique(betas, return_inverse=True)
            J = np.array([self._graph[7]]) if self._uniform else model.data
            if J.size == 0:
                J = np.zeros(1)
            with np.errstate(invalid="ignore"):
                p = -np.expm1(-2.0 * distinct[:, None] * J[None, :])
            # integer thresholds: a 53-bit draw k bonds iff k < ceil(p 2^53), i.e. iff k 2^-53 < p
            table = np.ceil(np.clip(p, 0.0, 1.0) * 2.0**53).astype(np.uint64)
            if len(self._tables) >= 16:
                self._tables.clear()
            got = (np.ascontiguousarray(table), rows.astype(np.int64).ravel())
            self._tables[key] = got
        return got

    def _kernel_args(self, model: Ising) -> tuple:
        """The graph as the kernels take it (after :meth:`_prepare` saw ``model``): lattice (bool),
        row length C, indptr, int32 indices, couplings, the start of each row's j > i part, fields,
        the coupling J of a uniform model."""
        return self._graph

    def _arguments(self, model: Ising, state: ChainState, betas) -> tuple[tuple, tuple | None]:
        """The kernel arguments after the state's (lattice ... betas, and Wolff's clusters per
        chain), checked and prepared, and for one chain last the compact arguments of the
        single-chain kernels; remembered for the next call when ``betas`` is one float."""
        checked = self._betas(model, state, betas)
        table, rows = self._prepare(model, checked)
        more = self._more(model, state, checked, table, rows)
        args = (*self._graph, table, rows, self._uniform, self._has_field, checked, *more)
        one: tuple | None = None
        if state.spins.shape[0] == 1:  # the compact arguments of the single-chain kernels
            lattice, columns, indptr, indices, data, split, fields, j0 = self._graph
            flags = [int(lattice), columns, int(self._uniform), int(self._has_field)] + [int(x[0]) for x in more]
            one = (
                indptr,
                indices,
                data,
                split,
                fields,
                table[rows[0]],
                np.array(flags),
                np.array([j0, checked[0]]),
                *self._work(model.n_spins, indices.dtype),
            )
        if type(betas) is float or type(betas) is np.float64:
            self._last_call = (model, betas, state.spins.shape, args, one)
        return args, one

    def _more(self, model: Ising, state: ChainState, betas: np.ndarray, table: np.ndarray, rows: np.ndarray) -> tuple:
        """Sampler-specific kernel arguments after the betas (none here)."""
        return ()

    @abstractmethod
    def _work(self, n: int, dtype: np.dtype) -> tuple:
        """The scratch arrays of the single-chain kernel (made once per model and kept); each
        algorithm (Wolff, Swendsen-Wang) needs its own."""

    def _keep_lean(self, model: Ising, state: ChainState, kernel: Any, arguments: tuple, sweeps_at: int) -> None:
        """Keep this single-chain call of ``kernel`` (its compiled entry, :func:`entry_point`, and
        ``arguments``, whose number of sweeps is at index ``sweeps_at``) for the next :meth:`sweep`
        with the same model, float beta (that of the last call), chain arrays, counters and settings."""
        assert self._last_call is not None
        arguments = (*arguments[:sweeps_at], 1, *arguments[sweeps_at + 1 :])  # kept for the per-sweep call
        # the chain's arrays as views (whose shapes a caller cannot set under the compiled entry)
        arrays, views = state.chain_arrays(), kernel_views(state)
        arguments = tuple(next((v for a, v in zip(arrays, views, strict=True) if x is a), x) for x in arguments)
        self._lean = (model, self._last_call[1], state, entry_point(kernel, arguments), arguments, sweeps_at)
        keep_lean_call(self._leans, state, self._lean)

    def _forget_lean(self) -> None:
        """Drop every kept lean call (the model, the settings or the sampler state changed)."""
        self._lean = None
        self._leans.clear()

    def _lean_call(self, model: Ising, state: ChainState, betas, n_sweeps) -> Any:
        """The result of the call kept by :meth:`_keep_lean`, made again for ``n_sweeps`` sweeps,
        when this call may make it with the same arguments (a harness calling ``sweep(model,
        state, beta, n)`` on one chain in a loop: no check or look-up repeated), else None. The
        kernel's compiled entry takes them without Numba's dispatcher: views of the arrays of the
        same chain state (a ChainState's arrays are fixed), of the types it was compiled for. What
        else the call depends on (counters, settings) drops every kept call when it changes."""
        lean = self._lean_for(model, state, betas)
        if lean is not None and type(n_sweeps) is int and n_sweeps >= 0:
            args = lean[4]
            at = lean[5]
            if n_sweeps != 1:
                args = (*args[:at], n_sweeps, *args[at + 1 :])
            return lean[3](*args)
        return None

    def _prepared(self, model: Ising, state: ChainState, betas) -> tuple[tuple, tuple | None]:
        """The kernel arguments of this call (full, and compact for one chain): those of the last
        call when the model, the one float beta and the chains' shape are the same (the caller
        checks the chains), else :meth:`_arguments`."""
        last = self._last_call
        if (
            last is not None
            and (type(betas) is float or type(betas) is np.float64)
            and model is last[0]
            and betas == last[1]
            and state.spins.shape == last[2]
        ):
            return last[3], last[4]
        return self._arguments(model, state, betas)


class Wolff(_ClusterSampler):
    """Wolff single-cluster updates for ferromagnets (every J_ij >= 0) on any graph.

    A cluster grows from a random site over aligned neighbours, each bond taken with
    probability p_ij = 1 - exp(-2 beta J_ij), and is flipped; with fields the flip is
    accepted with probability min(1, exp(-beta Delta E_h)), Delta E_h = 2 sum_{i in C} h_i s_i.

    A sweep is a fixed number k of cluster moves per temperature, k = ceil(n_spins / <|C|>),
    so a sweep visits about n_spins spins like a single-spin sweep (the rule "moves until
    n_spins spins are flipped" would bias the samples; see the module docstring).
    ``clusters_per_sweep=None`` measures <|C|> once per temperature: the first sweep at a new
    temperature is preceded by ``calibration_sweeps`` preparatory sweeps (moves until n_spins
    spins are visited) that also carry the chain towards equilibrium, and the last
    ``calibration_sweeps - calibration_warmup`` of them give <|C|>. An integer fixes k and
    skips them. ``SweepStats.accepted`` counts flipped spins, ``attempted`` the spins visited
    (sizes of every cluster built, rejected ones included).
    """

    name = "wolff"
    _kept_flips_at = 0  # the single-chain kernel returns (flipped, visited, clusters)
    sweep_blocks = True  # the kernel adds each sweep's energy change per sweep
    records_in_kernel = True

    def __init__(
        self,
        clusters_per_sweep: int | None = None,
        calibration_sweeps: int = CALIBRATION_SWEEPS,
        calibration_warmup: int = CALIBRATION_WARMUP,
    ) -> None:
        super().__init__()
        if clusters_per_sweep is not None:
            if (
                isinstance(clusters_per_sweep, bool)
                or not isinstance(clusters_per_sweep, (int, np.integer))
                or clusters_per_sweep < 1
            ):
                raise ValueError(
                    f"clusters_per_sweep must be a positive integer or None (measured), got {clusters_per_sweep!r}"
                )
            clusters_per_sweep = int(clusters_per_sweep)
        for label, value, low in (
            ("calibration_sweeps", calibration_sweeps, 1),
            ("calibration_warmup", calibration_warmup, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{label} must be an integer >= {low}, got {value!r}")
        if calibration_warmup >= calibration_sweeps:
            raise ValueError(
                f"calibration_warmup ({calibration_warmup}) must be smaller than calibration_sweeps "
                f"({calibration_sweeps})"
            )
        self._fixed_clusters = clusters_per_sweep
        self._calibration_sweeps = int(calibration_sweeps)
        self._calibration_warmup = int(calibration_warmup)
        self._calibration: dict[float, int] = {}  # beta -> clusters per sweep
        self._calibrated_for: Ising | None = None
        self._per_chain: dict[bytes, np.ndarray] = {}  # betas -> clusters per sweep of each chain
        self._counters = np.zeros(5, dtype=np.int64)  # sweeps, clusters built, accepted, visited, flipped

    @property
    def clusters_per_sweep(self) -> int | None:
        """Cluster moves per sweep fixed at construction (None: measured per temperature)."""
        return self._fixed_clusters

    @property
    def calibration_sweeps(self) -> int:
        """Preparatory sweeps that measure the clusters per sweep at a new temperature (fixed at
        construction, as the calibrations already made depend on it)."""
        return self._calibration_sweeps

    @property
    def calibration_warmup(self) -> int:
        """The first of the calibration sweeps, not counted (fixed at construction)."""
        return self._calibration_warmup

    def options(self) -> dict:
        return {
            "clusters_per_sweep": self.clusters_per_sweep,
            "calibration_sweeps": self.calibration_sweeps,
            "calibration_warmup": self.calibration_warmup,
        }

    # -------------------------------------------------------------- sampler state
    def reset(self, model: Ising, state: ChainState) -> None:
        self._calibration = {}
        self._calibrated_for = None
        self._per_chain = {}
        self._last_call = None
        self._forget_lean()
        self._counters = np.zeros(5, dtype=np.int64)

    def state(self) -> dict[str, np.ndarray]:
        betas = np.array(sorted(self._calibration), dtype=np.float64)
        return {
            "calibration_betas": betas,
            "calibration_clusters": np.array([self._calibration[b] for b in betas], dtype=np.int64),
            "counters": self._counters.copy(),
        }

    def load_state(self, arrays: dict[str, np.ndarray], n_chains: int | None = None) -> None:
        betas = np.asarray(arrays.get("calibration_betas", np.zeros(0)))
        counts = np.asarray(arrays.get("calibration_clusters", np.zeros(0, dtype=np.int64)))
        if (
            betas.ndim != 1
            or betas.shape != counts.shape
            or betas.dtype.kind not in "fiu"
            or counts.dtype.kind not in "iu"
            or not np.all(np.isfinite(betas) & (betas >= 0))
            or np.any(counts < 1)
        ):
            raise ValueError("Wolff calibration must be equal-length lists of betas >= 0 and cluster counts >= 1")
        _check_counters(arrays.get("counters"), 5)
        self._calibration = {float(b): int(k) for b, k in zip(betas, counts)}
        self._calibrated_for = None  # adopted by the next model swept
        self._per_chain = {}
        self._last_call = None
        self._forget_lean()
        counters = arrays.get("counters")
        self._counters = np.zeros(5, dtype=np.int64) if counters is None else np.array(counters, dtype=np.int64)

    def info(self) -> dict:
        sweeps, built, accepted, visited, flipped = (int(x) for x in self._counters)
        return {
            "clusters_per_sweep": {
                repr(1.0 / b if b > 0 else float("inf")): k for b, k in sorted(self._calibration.items())
            }
            if self.clusters_per_sweep is None
            else self.clusters_per_sweep,
            "mean_cluster_size": visited / built if built else None,
            "cluster_acceptance": accepted / built if built else None,
            "spins_flipped_per_sweep": flipped / sweeps if sweeps else None,
        }

    # ------------------------------------------------------------------ sweeping
    def _clusters(
        self, model: Ising, state: ChainState, betas: np.ndarray, table: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        if self.clusters_per_sweep is not None:
            return np.full(state.n_chains, self.clusters_per_sweep, dtype=np.int64)
        if self._calibrated_for is not model:
            if self._calibrated_for is not None:
                self._calibration = {}
            self._calibrated_for = model
            self._per_chain = {}
        key = betas.tobytes()
        clusters = self._per_chain.get(key)
        if clusters is None:
            missing = sorted({float(b) for b in betas} - set(self._calibration))
            if missing:
                self._calibrate(model, state, betas, table, rows, missing)
            clusters = np.array([self._calibration[float(b)] for b in betas], dtype=np.int64)
            if len(self._per_chain) >= 16:
                self._per_chain.clear()
            self._per_chain[key] = clusters
        return clusters

    def _calibrate(
        self,
        model: Ising,
        state: ChainState,
        betas: np.ndarray,
        table: np.ndarray,
        rows: np.ndarray,
        missing: list[float],
    ) -> None:
        """Preparatory sweeps (moves until n_spins spins are visited) of the chains at each
        missing beta, in place; their mean cluster size after the warm-up fixes k."""
        chains = np.flatnonzero(np.isin(betas, missing))
        spins, rng = state.spins[chains], state.rng[chains]
        energy, magnetization = state.energy[chains], state.magnetization[chains]
        args = (
            spins,
            rng,
            energy,
            magnetization,
            *self._graph,
            table,
            rows[chains],
            self._uniform,
            self._has_field,
            betas[chains],
            np.zeros(chains.size, dtype=np.int64),
        )
        scratch = np.zeros(5, dtype=np.int64)  # preparatory sweeps are not counted in info()
        work = chains.size * model.n_spins * self.calibration_sweeps
        visited = built = np.zeros(chains.size, dtype=np.int64)
        one: tuple | None = None
        if chains.size == 1:  # the serial kernel (a single-chain run never compiles the parallel one)
            lattice, columns, indptr, indices, data, _, fields, j0 = self._graph
            flags = np.array([int(lattice), columns, int(self._uniform), int(self._has_field), 0])
            reals = np.array([j0, betas[chains[0]]])
            stack = np.empty(3 * model.n_spins, dtype=indices.dtype)
            one = (indptr, indices, data, fields, table[rows[chains[0]]], flags, reals, stack, np.empty(8, np.uint64))
        for n_sweeps in (self.calibration_warmup, self.calibration_sweeps - self.calibration_warmup):
            if not n_sweeps:
                continue  # (the mean cluster size is read from the second call)
            if one is not None:
                _, v, b = _wolff_one(spins, rng, energy, magnetization, *one, n_sweeps, True, scratch, *_NO_RECORDS)
                visited, built = one_chain_count(v), one_chain_count(b)
            else:
                _, visited, built = _wolff_sweeps.run(
                    chains.size, *args, n_sweeps, True, scratch, *_NO_RECORDS, work=work, min_work=MIN_PARALLEL_WORK
                )
        state.spins[chains], state.rng[chains] = spins, rng
        state.energy[chains], state.magnetization[chains] = energy, magnetization
        n = model.n_spins
        for b in missing:
            at = betas[chains] == b
            mean_size = visited[at].sum() / max(int(built[at].sum()), 1)
            self._calibration[b] = max(1, int(math.ceil(n / mean_size - 1e-9)))

    def _more(self, model: Ising, state: ChainState, betas: np.ndarray, table: np.ndarray, rows: np.ndarray) -> tuple:
        return (self._clusters(model, state, betas, table, rows),)

    def _work(self, n: int, dtype: np.dtype) -> tuple:
        return np.empty(3 * n, dtype=dtype), np.empty(8, dtype=np.uint64)  # stack, members, columns; nbr

    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        got = self._lean_call(model, state, betas, n_sweeps)
        if got is not None:
            return one_chain_stats(got[0], got[1])
        return self._sweeps(model, state, betas, n_sweeps, _NO_RECORDS)

    def sweep_and_record(
        self, model: Ising, state: ChainState, betas: float | np.ndarray | None, thin: int, records: Records
    ) -> SweepStats:
        thin = check_positive_int("thin", thin)
        return self._sweeps(model, state, betas, thin * records.count, records.kernel_arguments(thin))

    def _sweeps(self, model: Ising, state: ChainState, betas, n_sweeps: object, record_args: tuple) -> SweepStats:
        self._lean = None
        n_sweeps = self._check_call(model, state, n_sweeps)  # before Wolff's calibration sweeps, too
        args, one = self._prepared(model, state, betas)
        n_chains = state.spins.shape[0]
        if one is not None:  # one chain: the serial kernel (one[3], the rows' split, is not its argument)
            head = (state.spins, state.rng, state.energy, state.magnetization, *one[:3], *one[4:])
            if record_args is _NO_RECORDS and self._last_call is not None and self._last_call[4] is one:
                # the arguments of a call with one float beta: the next such call takes them as they are
                self._keep_lean(
                    model, state, _wolff_one, (*head, n_sweeps, False, self._counters, *_NO_RECORDS), len(head)
                )
            f, v, _ = _wolff_one(*head, n_sweeps, False, self._counters, *record_args)
            return one_chain_stats(f, v)
        flipped, visited, _ = _wolff_sweeps.run(
            n_chains,
            state.spins,
            state.rng,
            state.energy,
            state.magnetization,
            *args,
            n_sweeps,
            False,
            self._counters,
            *record_args,
            work=n_chains * model.n_spins * n_sweeps,
            min_work=MIN_PARALLEL_WORK,
        )
        return SweepStats(accepted=flipped, attempted=visited)


def _strip_setting(label: str, value: object) -> int:
    """A strip setting (``strip_sites``, ``strip_rows``) as a positive int, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        extra = " or None (never the strips)" if label == "strip_sites" else ""
        raise ValueError(f"{label} must be a positive integer{extra}, got {value!r}")
    return int(value)


class SwendsenWang(_ClusterSampler):
    """Swendsen-Wang updates for ferromagnets (every J_ij >= 0) on any graph.

    One sweep: a bond on every aligned pair with probability p_ij = 1 - exp(-2 beta J_ij)
    (union-find), then every cluster C draws its orientation, +1 with probability
    1 / (1 + exp(-2 beta H_C)), H_C = sum_{i in C} h_i (1/2 each in zero field).
    ``SweepStats.accepted`` counts spins whose value changed, ``attempted`` = n_spins per sweep.

    Periodic 2D lattices that take the lattice path (:func:`lattice_columns`) with at least
    ``strip_sites`` sites (default 1: every size) are labelled in strips of ``strip_rows`` rows
    (:mod:`thermolearn.samplers.cluster_strips`): each strip draws its bonds and labels its
    clusters, the strip boundaries are joined serially, and every random number is a
    counter-based hash of one key per sweep (drawn from the chain's xoshiro stream) and the bond's
    site or the cluster's smallest site. Its moves therefore do not depend on the number of threads
    or of chains (or, in zero field, on ``strip_rows``), but its random stream is not the per-bond
    kernel's: for the same seed, the strips give other (equally exact) samples than
    ``strip_sites=None`` (never the strips: each bond drawn from xoshiro, bit for bit the moves of
    the CSR kernel on any graph) or a ``strip_sites`` above the lattice's size. Below
    STRIP_THREAD_SITES (512 x 512) sites a chain's strips run on one thread (the serial
    compilation; several chains run in parallel, one per thread); from there on the strips of one
    chain share the threads, whose number is chosen by timing: the Numba pool (at most one thread
    per strip) or one thread, whichever is faster per sweep in a running mean of its calls, the
    other re-timed about every second (:class:`~thermolearn.kernel_threads.ThreadClock`; on a
    loaded machine a parallel region waits for a descheduled thread at every barrier). A long call
    runs in blocks of about STRIP_BLOCK_SECONDS, the threads chosen for each block (the same moves
    and records as one block). The strips are new in 0.6.6 and the default at every size (0.6.5 and earlier
    drew every bond from xoshiro); a 0.6.5 checkpoint with the default settings resumes on the strip
    stream.
    """

    name = "sw"
    sweep_blocks = True  # E and M are recomputed every sweep
    records_in_kernel = True

    def __init__(self, strip_sites: int | None = STRIP_SITES, strip_rows: int = STRIP_ROWS) -> None:
        super().__init__()
        self.strip_sites = strip_sites  # checked by the properties
        self.strip_rows = strip_rows
        self._counters = np.zeros(3, dtype=np.int64)  # sweeps, clusters, flipped
        self._strip_work: tuple | None = None  # (model, scratch arrays, strip_rows) of the strip kernel
        self._strip_call: tuple | None = None  # (arguments, chain arrays, per-chain kernel arguments, ..., strip_rows)
        self._strip_clock = ThreadClock()
        #: False: the strips always take the threads their work fills (benchmarks of the scaling)
        self._timed_threads = True

    @property
    def strip_sites(self) -> int | None:
        """Lattices of at least this many sites run the strip kernel (None: never). Setting it
        takes effect at the next sweep."""
        return self._strip_sites

    @strip_sites.setter
    def strip_sites(self, value: int | None) -> None:
        self._strip_sites = None if value is None else _strip_setting("strip_sites", value)
        self._forget_lean()  # a kept per-sweep call ran the kernel the old setting chose

    @property
    def strip_rows(self) -> int:
        """Rows of sites per strip. Setting it takes effect at the next sweep (in a field the strip
        height changes the moves)."""
        return self._strip_rows

    @strip_rows.setter
    def strip_rows(self, value: int) -> None:
        self._strip_rows = _strip_setting("strip_rows", value)
        self._forget_lean()

    def options(self) -> dict:
        # the settings that differ from the defaults: a run's identity (its checkpoints) stays
        # what it was before the strips existed, for runs that keep the defaults
        chosen = {"strip_sites": self.strip_sites, "strip_rows": self.strip_rows}
        defaults = {"strip_sites": STRIP_SITES, "strip_rows": STRIP_ROWS}
        return {k: v for k, v in chosen.items() if v != defaults[k]}

    def reset(self, model: Ising, state: ChainState) -> None:
        self._counters = np.zeros(3, dtype=np.int64)
        self._last_call = None
        self._forget_lean()

    def state(self) -> dict[str, np.ndarray]:
        return {"counters": self._counters.copy()}

    def load_state(self, arrays: dict[str, np.ndarray], n_chains: int | None = None) -> None:
        counters = arrays.get("counters")
        _check_counters(counters, 3)
        self._forget_lean()  # a kept call adds to the counters it was made with
        self._counters = np.zeros(3, dtype=np.int64) if counters is None else np.array(counters, dtype=np.int64)

    def info(self) -> dict:
        sweeps, clusters, flipped = (int(x) for x in self._counters)
        n = self._model.n_spins if self._model is not None else None
        mean_clusters = clusters / sweeps if sweeps else None
        return {
            "mean_clusters": mean_clusters,
            "mean_cluster_size": n / mean_clusters if (n and mean_clusters) else None,
            "spins_flipped_per_sweep": flipped / sweeps if sweeps else None,
        }

    def uses_strips(self, model: Ising) -> bool:
        """Whether sweeps of ``model`` run the strip kernel: a lattice the lattice path takes
        (:func:`lattice_columns`) with at least ``strip_sites`` sites (on several threads only from
        STRIP_THREAD_SITES on)."""
        return self.strip_sites is not None and model.n_spins >= self.strip_sites and lattice_columns(model) is not None

    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        flipped = self._lean_call(model, state, betas, n_sweeps)
        if flipped is not None:
            return one_chain_stats(flipped, n_sweeps * model.n_spins)
        return self._sweeps(model, state, betas, n_sweeps, _NO_RECORDS)

    def sweep_and_record(
        self, model: Ising, state: ChainState, betas: float | np.ndarray | None, thin: int, records: Records
    ) -> SweepStats:
        thin = check_positive_int("thin", thin)
        return self._sweeps(model, state, betas, thin * records.count, records.kernel_arguments(thin))

    def _sweeps(self, model: Ising, state: ChainState, betas, n_sweeps: object, record_args: tuple) -> SweepStats:
        self._lean = None
        n_sweeps = self._check_call(model, state, n_sweeps)  # before any kernel runs
        args, one = self._prepared(model, state, betas)
        n_chains = state.spins.shape[0]
        if n_chains == 1:
            attempted = one_chain_count(n_sweeps * model.n_spins)
        else:
            attempted = np.full(n_chains, n_sweeps * model.n_spins, dtype=np.int64)
        if args[0] and self.strip_sites is not None and model.n_spins >= self.strip_sites:
            return sweep_stats(self._strip_sweeps(model, state, args, n_sweeps, record_args), attempted)
        if one is not None:  # one chain: the serial kernel
            f = _sw_one(
                state.spins, state.rng, state.energy, state.magnetization, *one, n_sweeps, self._counters, *record_args
            )
            return sweep_stats(one_chain_count(f), attempted)
        flipped = _sw_sweeps.run(
            n_chains,
            state.spins,
            state.rng,
            state.energy,
            state.magnetization,
            *args,
            n_sweeps,
            self._counters,
            *record_args,
            work=n_chains * model.n_spins * n_sweeps,
            min_work=MIN_PARALLEL_WORK,
        )
        return SweepStats(accepted=flipped, attempted=attempted)

    def _strip_sweeps(
        self, model: Ising, state: ChainState, args: tuple, n_sweeps: int, record_args: tuple
    ) -> np.ndarray:
        """The strip kernel. Below STRIP_THREAD_SITES sites: serially, one chain directly, several
        chains in parallel (one chain per thread); from STRIP_THREAD_SITES on: on each chain in turn,
        the strips of one chain filling the threads. The leading kernel arguments are kept for the
        next call with the same prepared arguments and chain arrays (a harness's per-sweep loop
        repeats nothing)."""
        got = self._strip_call
        if got is None or got[0] is not args or not state.holds(got[1:5]) or got[9] != self.strip_rows:
            _, columns, _, _, _, _, fields, j0, table, rows, _, has_field, betas = args
            n = model.n_spins
            strips = -(-(n // columns) // self.strip_rows)
            if n < STRIP_THREAD_SITES and state.n_chains > 1:  # the chains kernel allocates its own scratch
                scratch: tuple = ()
            else:
                # sized by the strips: made again for another strip height (strip_rows is public)
                if (
                    self._strip_work is None
                    or self._strip_work[0] is not model
                    or self._strip_work[2] != self.strip_rows
                ):
                    self._strip_work = (model, strip_scratch(n, columns, self.strip_rows, has_field), self.strip_rows)
                scratch = self._strip_work[1]
            heads = [
                (c, state.spins, state.rng, state.energy, state.magnetization, columns, self.strip_rows, fields, j0,
                 table[rows[c], 0], has_field, float(betas[c]))
                for c in range(state.n_chains)
            ]  # fmt: skip
            chains = (
                state.spins, state.rng, state.energy, state.magnetization, columns, self.strip_rows, fields, j0,
                np.ascontiguousarray(table[rows, 0]), has_field, np.ascontiguousarray(betas, dtype=np.float64),
            )  # fmt: skip
            got = (
                args, state.spins, state.rng, state.energy, state.magnetization, heads, scratch, strips, chains,
                self.strip_rows,
            )  # fmt: skip
            self._strip_call = got
        heads, scratch, strips = got[5], got[6], got[7]
        n = model.n_spins
        if n < STRIP_THREAD_SITES:
            # threads never pay inside one small chain: the serial kernel alone (the parallel strip
            # kernel is neither compiled nor timed), over the chains in parallel when there are several
            if len(heads) == 1:
                flipped = sw_strip_serial(*heads[0], n_sweeps, *scratch, self._counters, *record_args)
                if record_args is _NO_RECORDS and self._last_call is not None and self._last_call[3] is args:
                    # the arguments of a call with one float beta: the next such call takes them as they are
                    self._keep_lean(
                        model,
                        state,
                        sw_strip_serial,
                        (*heads[0], n_sweeps, *scratch, self._counters, *record_args),
                        len(heads[0]),
                    )
                return one_chain_count(flipped)
            work = len(heads) * n * n_sweeps
            return sw_strip_chains.run(
                len(heads), *got[8], n_sweeps, self._counters, *record_args, work=work, min_work=MIN_PARALLEL_WORK
            )
        # threads when each parallel region (two per sweep) is long enough to fill them: a strip
        # sweep costs about as much per site as STRIP_WORK single-spin updates (more sweeps per
        # call make more regions, not longer ones)
        pool = thread_count(strips, n * STRIP_WORK, MIN_PARALLEL_WORK)
        timed = pool > 1 and self._timed_threads
        flipped = np.zeros(len(heads), dtype=np.int64)
        thin, first = record_args[0], record_args[1]
        done = 0
        while True:
            # a long call runs in blocks of about STRIP_BLOCK_SECONDS, each on the threads the
            # clock chooses, so a machine that becomes busy (or quiet) during the call is followed
            # within a block; the moves are those of one call (each sweep draws its key from the
            # chain's stream, E and M are recomputed at the end of a block, records keep their
            # places: blocks are whole multiples of thin)
            block = n_sweeps - done
            threads = pool
            if timed:
                threads = self._strip_clock.choose(pool)
                block = min(block, self._strip_block(thin, len(heads)))
            args = record_args if done == 0 else (thin, first + done // thin, *record_args[2:])
            start = time.perf_counter()
            for c, head in enumerate(heads):
                if threads == 1:
                    flipped[c] += sw_strip_serial(*head, block, *scratch, self._counters, *args)
                else:
                    with thread_limit(threads):
                        flipped[c] += sw_strip_sweeps(*head, block, *scratch, self._counters, *args)
            if timed and block > 0:
                took = time.perf_counter() - start
                self._strip_clock.record(threads, took / (block * len(heads)), took)
            done += block
            if done >= n_sweeps:
                return flipped

    def _strip_block(self, thin: int, chains: int) -> int:
        """Sweeps of one block of a threaded strip call: about STRIP_BLOCK_SECONDS at the faster
        timing so far (one thin before any), a whole multiple of ``thin``."""
        per_sweep = self._strip_clock.fastest()
        if per_sweep is None:
            return thin
        sweeps = int(STRIP_BLOCK_SECONDS / (per_sweep * chains))
        return max(thin, sweeps - sweeps % thin)

    def _work(self, n: int, dtype: np.dtype) -> tuple:
        return np.empty(n, dtype=np.int32), np.empty(n, dtype=np.bool_)  # parent, flip
