"""Numba kernels of the p-bit update models; every kernel advances all chains in place.

A p-bit draws m_i = sgn(tanh(beta I_i) - u), u uniform in [-1, 1), with input
I_i = h_i + sum_j J_ij m_j (CSR couplings): P(m_i = +1) = (1 + tanh(beta I_i)) / 2, the
heat-bath conditional. After each sweep a kernel writes one integer code per chain, bit k
set when readout p-bit k is +1, so callers get either a histogram or a time series without
storing states. Synchronous kernels give every p-bit its own xoshiro stream (as every
hardware p-bit has its own random source); chromatic kernels give every block of
:data:`~thermolearn.pbits.coloring.BLOCK_SITES` consecutive sites of a colour class its own
stream (held in registers while the block is drawn), so their draws do not depend on the
thread that runs a chain or a block; sequential and asynchronous kernels draw from one stream
per chain.

Chromatic kernels run on a :class:`~thermolearn.pbits.coloring.ChromaticPlan` (colour classes
contiguous, CSR in that order) and, when the couplings are integer multiples of a power of
two, decide each p-bit from a table of thresholds on the 53-bit draw instead of a tanh
(:func:`threshold_table`: the same decisions). :func:`chromatic_run` picks the kernel: chains
over threads when there are several, sites over threads only when one chain has colour
classes of at least :data:`SITE_PARALLEL_MIN` sites, otherwise serial (a parallel region that
cannot be filled costs more than it gives, and collapses when the cores are shared). The
sequential, synchronous and asynchronous kernels likewise run a single chain (or one thread)
serially and spread several chains over threads (:data:`CHAIN_KERNELS`).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.randomness.xoshiro import MANTISSA, next64, next_uniform


@njit(inline="always")
def _input(s, i, indptr, indices, data, h):
    total = h[i]
    for p in range(indptr[i], indptr[i + 1]):
        total += data[p] * s[indices[p]]
    return total


@njit(inline="always")
def _draw(beta, inp, s0, s1, s2, s3):
    u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    m = 1 if math.tanh(beta * inp) > 2.0 * u - 1.0 else -1
    return m, s0, s1, s2, s3


@njit(inline="always")
def _code(s, readout):
    code = 0
    for k in range(readout.size):
        if s[readout[k]] > 0:
            code |= 1 << k
    return code


@njit(inline="always")
def _sequential_chain(c, spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    n = spins.shape[1]
    s = spins[c]
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    for t in range(n_sweeps):
        for i in range(n):
            m, s0, s1, s2, s3 = _draw(beta, _input(s, i, indptr, indices, data, h), s0, s1, s2, s3)
            s[i] = m
        codes[c, t] = _code(s, readout)
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


@njit(cache=True)
def sequential_serial(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    """:func:`sequential_sweeps` with every chain in turn on the calling thread."""
    for c in range(spins.shape[0]):
        _sequential_chain(c, spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes)


@njit(cache=True, parallel=True)
def sequential_parallel(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    """:func:`sequential_sweeps` with the chains spread over threads."""
    for c in prange(spins.shape[0]):
        _sequential_chain(c, spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes)


@njit(inline="always")
def _synchronous_chain(c, spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    n = spins.shape[1]
    s = spins[c]
    g = rng[c]
    new = np.empty(n, dtype=np.int8)
    for t in range(n_sweeps):
        for i in range(n):
            m, g[i, 0], g[i, 1], g[i, 2], g[i, 3] = _draw(
                beta, _input(s, i, indptr, indices, data, h), g[i, 0], g[i, 1], g[i, 2], g[i, 3]
            )
            new[i] = m
        for i in range(n):  # element loops: a slice copy compiles Numba's generic broadcasting copy
            s[i] = new[i]
        codes[c, t] = _code(s, readout)


@njit(cache=True)
def synchronous_serial(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    """:func:`synchronous_sweeps` with every chain in turn on the calling thread."""
    for c in range(spins.shape[0]):
        _synchronous_chain(c, spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes)


@njit(cache=True, parallel=True)
def synchronous_parallel(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    """:func:`synchronous_sweeps` with the chains spread over threads."""
    for c in prange(spins.shape[0]):
        _synchronous_chain(c, spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes)


@njit(inline="always")
def _asynchronous_delayed_chain(
    c, spins, seen, pending, rng, indptr, indices, data, h, beta, eta, rate_done, part, n_sweeps, readout, codes
):
    n = spins.shape[1]
    fresh = math.isinf(eta)
    instant = math.isinf(rate_done)  # tau = 0: a drawn value appears at once
    done = 0.0 if instant else rate_done
    rate = n + n * done + (0.0 if fresh else eta)
    s = spins[c]
    view = s if fresh else seen[c]
    wait = pending[c]
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    for t in range(n_sweeps):
        clock = 0.0
        while True:
            u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
            clock += -math.log1p(-u) / rate
            if clock >= 1.0:
                break
            u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
            event = u * rate
            if event < n:
                i = min(int(event), n - 1)
                if wait[i] == 0:
                    total = h[i]
                    for p in range(indptr[i], indptr[i + 1]):
                        j = indices[p]
                        total += data[p] * (s[j] if part[j] == part[i] else view[j])
                    m, s0, s1, s2, s3 = _draw(beta, total, s0, s1, s2, s3)
                    if instant:
                        s[i] = m
                    else:
                        wait[i] = m
            elif event < n + n * done:
                i = min(int((event - n) / done), n - 1)
                if wait[i] != 0:
                    s[i] = wait[i]
                    wait[i] = 0
            else:
                for j in range(n):
                    view[j] = s[j]
        codes[c, t] = _code(s, readout)
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


@njit(cache=True)
def asynchronous_delayed_serial(
    spins, seen, pending, rng, indptr, indices, data, h, beta, eta, rate_done, part, n_sweeps, readout, codes
):
    """:func:`asynchronous_delayed_sweeps` with every chain in turn on the calling thread."""
    for c in range(spins.shape[0]):
        _asynchronous_delayed_chain(
            c, spins, seen, pending, rng, indptr, indices, data, h, beta, eta, rate_done, part, n_sweeps, readout, codes
        )


@njit(cache=True, parallel=True)
def asynchronous_delayed_parallel(
    spins, seen, pending, rng, indptr, indices, data, h, beta, eta, rate_done, part, n_sweeps, readout, codes
):
    """:func:`asynchronous_delayed_sweeps` with the chains spread over threads."""
    for c in prange(spins.shape[0]):
        _asynchronous_delayed_chain(
            c, spins, seen, pending, rng, indptr, indices, data, h, beta, eta, rate_done, part, n_sweeps, readout, codes
        )


@njit(inline="always")
def _asynchronous_chain(c, spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes):
    n = spins.shape[1]
    fresh = math.isinf(eta)
    rate = n + (0.0 if fresh else eta)
    s = spins[c]
    view = s if fresh else seen[c]
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    for t in range(n_sweeps):
        clock = 0.0
        while True:
            u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
            clock += -math.log1p(-u) / rate
            if clock >= 1.0:
                break
            u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
            event = u * rate
            if event < n:
                i = min(int(event), n - 1)
                m, s0, s1, s2, s3 = _draw(beta, _input(view, i, indptr, indices, data, h), s0, s1, s2, s3)
                s[i] = m
            else:
                for j in range(n):
                    view[j] = s[j]
        codes[c, t] = _code(s, readout)
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


@njit(cache=True)
def asynchronous_serial(spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes):
    """:func:`asynchronous_sweeps` with every chain in turn on the calling thread."""
    for c in range(spins.shape[0]):
        _asynchronous_chain(c, spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes)


@njit(cache=True, parallel=True)
def asynchronous_parallel(spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes):
    """:func:`asynchronous_sweeps` with the chains spread over threads."""
    for c in prange(spins.shape[0]):
        _asynchronous_chain(c, spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes)


CHAIN_KERNELS = ("auto", "serial", "parallel")
"""How the sequential, synchronous and asynchronous kernels spread chains over threads ('auto':
parallel only for several chains and threads; both make the same moves, streams belong to
chains or p-bits, not threads)."""


def _chain_kernel(kernel: str, n_chains: int) -> str:
    if kernel not in CHAIN_KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(CHAIN_KERNELS)}, got {kernel!r}")
    if kernel == "auto":
        return "parallel" if n_chains > 1 and numba.get_num_threads() > 1 else "serial"
    return kernel


def sequential_sweeps(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes, *, kernel="auto"):
    """Gibbs in index order: every p-bit reads the newest values of its neighbours. Returns the
    kernel used (a single chain runs serially: no parallel region that one thread fills)."""
    kind = _chain_kernel(kernel, spins.shape[0])
    fn = sequential_parallel if kind == "parallel" else sequential_serial
    fn(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes)
    return kind


def synchronous_sweeps(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes, *, kernel="auto"):
    """Every p-bit at once from the previous state (the hardware shortcut: biased). Returns
    the kernel used."""
    kind = _chain_kernel(kernel, spins.shape[0])
    fn = synchronous_parallel if kind == "parallel" else synchronous_serial
    fn(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes)
    return kind


def asynchronous_delayed_sweeps(
    spins,
    seen,
    pending,
    rng,
    indptr,
    indices,
    data,
    h,
    beta,
    eta,
    rate_done,
    part,
    n_sweeps,
    readout,
    codes,
    *,
    kernel="auto",
):
    """Asynchronous p-bits with a finite update time and per-partition delays.

    Each p-bit has a Poisson clock of rate 1; when it ticks (and the p-bit is idle) it draws
    its new value from its inputs at that instant and is busy for an exponential time of rate
    ``rate_done`` (mean update time tau = 1 / rate_done): only then does the value appear
    (``pending`` holds it meanwhile, 0 when idle). A p-bit reads p-bits of its own partition
    (``part``) as they are, the others from ``seen``, refreshed by broadcasts at rate ``eta``
    (inf: every value seen as it appears). Simulated by uniformisation: events at the
    constant total rate n + n rate_done + eta, a clock tick of a busy p-bit or a completion of
    an idle one changes nothing (so the event law is that of the continuous-time chain).
    Returns the kernel used."""
    kind = _chain_kernel(kernel, spins.shape[0])
    fn = asynchronous_delayed_parallel if kind == "parallel" else asynchronous_delayed_serial
    fn(spins, seen, pending, rng, indptr, indices, data, h, beta, eta, rate_done, part, n_sweeps, readout, codes)
    return kind


def asynchronous_sweeps(
    spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes, *, kernel="auto"
):
    """Continuous time: every p-bit has a Poisson clock of rate 1 (one sweep = one unit of time)
    and reads its neighbours from ``seen``, the copy last broadcast; broadcasts (seen <- m)
    come at rate ``eta`` (eta = f_comm / f_pbit; inf: every update is seen at once). The state
    is recorded at integer times; waiting times are exponential, so redrawing the time to the
    next event at each recording time changes nothing (memorylessness). Returns the kernel
    used."""
    kind = _chain_kernel(kernel, spins.shape[0])
    fn = asynchronous_parallel if kind == "parallel" else asynchronous_serial
    fn(spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes)
    return kind


#: a single chain spreads a colour class over threads only from this many sites per class: each
#: class step is a parallel region (a barrier). Measured on the 2-core development machine at
#: load ~0.6 (``benchmarks/bench_pbits.py --threshold``, sites / serial): 0.77 at 512 sites,
#: 1.09 at 2048, 1.33 at 8192, 1.70 at 32768, 1.92 at 131072. Set above break-even because a
#: barrier stalls whenever the other core is busy (issue 21).
SITE_PARALLEL_MIN = 1 << 14


@njit(cache=True)
def threshold_table(betas, unit, reach):
    """T[b, k + reach] (uint64) for inputs I = k unit, k = -reach..reach: a draw of top 53 bits
    ``x`` gives +1 exactly when x < T, the same decision as ``tanh(beta I) > 2 u - 1`` with
    u = x 2^-53 in float64 (2u - 1 = x 2^-52 - 1 is exact, so T is the least x where it fails)."""
    out = np.empty((betas.size, 2 * reach + 1), dtype=np.uint64)
    top = 1 << 53
    for b in range(betas.size):
        for k in range(-reach, reach + 1):
            t = math.tanh(betas[b] * (k * unit))
            x = int(math.ceil((t + 1.0) * 4503599627370496.0))  # (t + 1) 2^52, within one of T
            x = min(max(x - 2, 0), top)
            while x < top and float(x) * MANTISSA * 2.0 - 1.0 < t:
                x += 1
            out[b, k + reach] = uint64(x)
    return out


@njit(inline="always")
def _chromatic_block(s, g, blk, lo, hi, indptr, indices, data, h, beta, table, inv_unit, reach):
    """Draw p-bits lo..hi-1 (one block, one colour: no two read each other) from stream ``blk``.

    The table test is outside the site loop (two loops, not a branch per site): with a tanh
    call inside the loop body LLVM keeps the generator state in memory and the table path
    runs at half speed. ``indptr``/``indices`` are unsigned, which spares a negative-index
    check per neighbour."""
    s0, s1, s2, s3 = g[blk, 0], g[blk, 1], g[blk, 2], g[blk, 3]
    if table.size > 0:
        for i in range(lo, hi):
            total = h[i]
            for p in range(indptr[i], indptr[i + 1]):
                total += data[p] * s[indices[p]]
            x, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
            s[i] = 1 if (x >> uint64(11)) < table[uint64(int(total * inv_unit) + reach)] else -1
    else:
        for i in range(lo, hi):
            total = h[i]
            for p in range(indptr[i], indptr[i + 1]):
                total += data[p] * s[indices[p]]
            x, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
            u = float(x >> uint64(11)) * MANTISSA
            s[i] = 1 if math.tanh(beta * total) > 2.0 * u - 1.0 else -1
    g[blk, 0], g[blk, 1], g[blk, 2], g[blk, 3] = s0, s1, s2, s3


@njit(inline="always")
def _chromatic_chain(
    s,
    g,
    indptr,
    indices,
    data,
    h,
    block_ptr,
    class_block_ptr,
    betas,
    tables,
    inv_unit,
    reach,
    n_sweeps,
    readout,
    codes,
    c,
):
    for t in range(n_sweeps):
        b = t if betas.size > 1 else 0
        table = tables[b]
        for k in range(class_block_ptr.size - 1):
            for blk in range(class_block_ptr[k], class_block_ptr[k + 1]):
                _chromatic_block(
                    s,
                    g,
                    blk,
                    block_ptr[blk],
                    block_ptr[blk + 1],
                    indptr,
                    indices,
                    data,
                    h,
                    betas[b],
                    table,
                    inv_unit,
                    reach,
                )
        if codes.shape[1] > 0:
            codes[c, t] = _code(s, readout)


@njit(cache=True)
def chromatic_serial(
    spins,
    rng,
    indptr,
    indices,
    data,
    h,
    block_ptr,
    class_block_ptr,
    betas,
    tables,
    inv_unit,
    reach,
    n_sweeps,
    readout,
    codes,
):
    """Chromatic sweeps of every chain in turn on the calling thread (see :func:`chromatic_run`)."""
    for c in range(spins.shape[0]):
        _chromatic_chain(
            spins[c],
            rng[c],
            indptr,
            indices,
            data,
            h,
            block_ptr,
            class_block_ptr,
            betas,
            tables,
            inv_unit,
            reach,
            n_sweeps,
            readout,
            codes,
            c,
        )


@njit(cache=True, parallel=True)
def chromatic_chains_parallel(
    spins,
    rng,
    indptr,
    indices,
    data,
    h,
    block_ptr,
    class_block_ptr,
    betas,
    tables,
    inv_unit,
    reach,
    n_sweeps,
    readout,
    codes,
):
    """Chromatic sweeps, the chains spread over threads (one parallel region per call)."""
    for c in prange(spins.shape[0]):
        _chromatic_chain(
            spins[c],
            rng[c],
            indptr,
            indices,
            data,
            h,
            block_ptr,
            class_block_ptr,
            betas,
            tables,
            inv_unit,
            reach,
            n_sweeps,
            readout,
            codes,
            c,
        )


@njit(cache=True, parallel=True)
def chromatic_sites_parallel(
    spins,
    rng,
    indptr,
    indices,
    data,
    h,
    block_ptr,
    class_block_ptr,
    betas,
    tables,
    inv_unit,
    reach,
    n_sweeps,
    readout,
    codes,
):
    """Chromatic sweeps of each chain with the blocks of a colour class spread over threads
    (one parallel region per class step: for large classes only)."""
    for c in range(spins.shape[0]):
        s = spins[c]
        g = rng[c]
        for t in range(n_sweeps):
            b = t if betas.size > 1 else 0
            table = tables[b]
            for k in range(class_block_ptr.size - 1):
                first = class_block_ptr[k]
                for q in prange(class_block_ptr[k + 1] - first):
                    blk = first + q
                    _chromatic_block(
                        s,
                        g,
                        blk,
                        block_ptr[blk],
                        block_ptr[blk + 1],
                        indptr,
                        indices,
                        data,
                        h,
                        betas[b],
                        table,
                        inv_unit,
                        reach,
                    )
            if codes.shape[1] > 0:
                codes[c, t] = _code(s, readout)


CHROMATIC_KERNELS = ("auto", "serial", "chains", "sites")
"""How :func:`chromatic_run` spreads work over threads ('auto' picks; all make the same moves)."""


def chromatic_run(
    plan,
    spins: np.ndarray,
    rng: np.ndarray,
    betas: np.ndarray,
    n_sweeps: int,
    *,
    tables: np.ndarray | None = None,
    readout: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    kernel: str = "auto",
) -> str:
    """Advance every chain by ``n_sweeps`` chromatic sweeps in one compiled call; returns the
    kernel used.

    ``plan`` is a :class:`~thermolearn.pbits.coloring.ChromaticPlan`; ``spins`` (n_chains, n)
    int8 in its position order and ``rng`` (n_chains, plan.n_blocks, 4) uint64 are advanced in
    place. ``betas``: one inverse temperature (constant) or one per sweep (annealing);
    ``tables``: ``plan.thresholds(betas)`` (computed here if None). ``readout`` (positions) and
    ``codes`` (n_chains, n_sweeps) int64: the readout code after every sweep (omit both to
    record nothing). Every kernel makes the same moves (streams belong to blocks, not threads).
    """
    if kernel not in CHROMATIC_KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(CHROMATIC_KERNELS)}, got {kernel!r}")
    b = np.ascontiguousarray(np.asarray(betas, dtype=np.float64).reshape(-1))
    if b.size not in (1, n_sweeps):
        raise ValueError(f"betas must hold 1 or n_sweeps = {n_sweeps} inverse temperatures, got {b.size}")
    table = plan.thresholds(b) if tables is None else tables
    out = np.zeros(0, dtype=np.int64) if readout is None else readout
    rec = np.zeros((spins.shape[0], 0), dtype=np.int64) if codes is None else codes
    if kernel == "auto":
        threads = numba.get_num_threads()
        if threads > 1 and spins.shape[0] > 1:
            kernel = "chains"
        elif threads > 1 and plan.largest_class >= SITE_PARALLEL_MIN:
            kernel = "sites"
        else:
            kernel = "serial"
    fn = {"serial": chromatic_serial, "chains": chromatic_chains_parallel, "sites": chromatic_sites_parallel}[kernel]
    inv_unit = 1.0 / plan.unit if plan.unit is not None else 0.0
    fn(
        spins,
        rng,
        plan.indptr,
        plan.indices,
        plan.data,
        plan.fields,
        plan.block_ptr,
        plan.class_block_ptr,
        b,
        table,
        inv_unit,
        plan.reach,
        n_sweeps,
        out,
        rec,
    )
    return kernel
