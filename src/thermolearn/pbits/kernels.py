"""Numba kernels of the p-bit update models; every kernel advances all chains in place.

A p-bit draws m_i = sgn(tanh(beta I_i) - u), u uniform in [-1, 1), with input
I_i = h_i + sum_j J_ij m_j (CSR couplings): P(m_i = +1) = (1 + tanh(beta I_i)) / 2, the
heat-bath conditional. After each sweep a kernel writes one integer code per chain, bit k
set when readout p-bit k is +1, so callers get either a histogram or a time series without
storing states. Chromatic and synchronous kernels give every p-bit its own xoshiro stream
(as every hardware p-bit has its own random source), so the draws do not depend on the
order or thread in which the sites of a class are visited; sequential and asynchronous
kernels draw from one stream per chain.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from thermolearn.randomness.xoshiro import next_uniform


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


@njit(cache=True, parallel=True)
def sequential_sweeps(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    """Gibbs in index order: every p-bit reads the newest values of its neighbours."""
    n = spins.shape[1]
    for c in prange(spins.shape[0]):
        s = spins[c]
        s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
        for t in range(n_sweeps):
            for i in range(n):
                m, s0, s1, s2, s3 = _draw(beta, _input(s, i, indptr, indices, data, h), s0, s1, s2, s3)
                s[i] = m
            codes[c, t] = _code(s, readout)
        rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


@njit(cache=True, parallel=True)
def chromatic_sweeps(spins, rng, indptr, indices, data, h, beta, class_ptr, class_sites, n_sweeps, readout, codes):
    """Each colour class at once; ``rng`` is per p-bit, shape (n_chains, n, 4). No two sites of a
    class are coupled, so writing them in place is the same as writing them together."""
    for c in prange(spins.shape[0]):
        s = spins[c]
        g = rng[c]
        for t in range(n_sweeps):
            for k in range(class_ptr.size - 1):
                for p in range(class_ptr[k], class_ptr[k + 1]):
                    i = class_sites[p]
                    m, g[i, 0], g[i, 1], g[i, 2], g[i, 3] = _draw(
                        beta, _input(s, i, indptr, indices, data, h), g[i, 0], g[i, 1], g[i, 2], g[i, 3]
                    )
                    s[i] = m
            codes[c, t] = _code(s, readout)


@njit(cache=True, parallel=True)
def chromatic_sweeps_one_chain(s, g, indptr, indices, data, h, beta, class_ptr, class_sites, n_sweeps):
    """One large chain, the sites of each colour class spread over threads (the benchmark's
    kernel; the same draws as :func:`chromatic_sweeps` because each p-bit owns its stream)."""
    for _ in range(n_sweeps):
        for k in range(class_ptr.size - 1):
            start = class_ptr[k]
            for q in prange(class_ptr[k + 1] - start):
                i = class_sites[start + q]
                m, g[i, 0], g[i, 1], g[i, 2], g[i, 3] = _draw(
                    beta, _input(s, i, indptr, indices, data, h), g[i, 0], g[i, 1], g[i, 2], g[i, 3]
                )
                s[i] = m


@njit(cache=True, parallel=True)
def synchronous_sweeps(spins, rng, indptr, indices, data, h, beta, n_sweeps, readout, codes):
    """Every p-bit at once from the previous state (the hardware shortcut: biased)."""
    n = spins.shape[1]
    for c in prange(spins.shape[0]):
        s = spins[c]
        g = rng[c]
        new = np.empty(n, dtype=np.int8)
        for t in range(n_sweeps):
            for i in range(n):
                m, g[i, 0], g[i, 1], g[i, 2], g[i, 3] = _draw(
                    beta, _input(s, i, indptr, indices, data, h), g[i, 0], g[i, 1], g[i, 2], g[i, 3]
                )
                new[i] = m
            s[:] = new
            codes[c, t] = _code(s, readout)


@njit(cache=True, parallel=True)
def asynchronous_sweeps(spins, seen, rng, indptr, indices, data, h, beta, eta, n_sweeps, readout, codes):
    """Continuous time: every p-bit has a Poisson clock of rate 1 (one sweep = one unit of time)
    and reads its neighbours from ``seen``, the copy last broadcast; broadcasts (seen <- m)
    come at rate ``eta`` (eta = f_comm / f_pbit; inf: every update is seen at once). The state
    is recorded at integer times; waiting times are exponential, so redrawing the time to the
    next event at each recording time changes nothing (memorylessness)."""
    n = spins.shape[1]
    fresh = math.isinf(eta)
    rate = n + (0.0 if fresh else eta)
    for c in prange(spins.shape[0]):
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
                    view[:] = s
            codes[c, t] = _code(s, readout)
        rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


@njit(cache=True, parallel=True)
def chromatic_anneal(spins, rng, indptr, indices, data, h, betas, class_ptr, class_sites):
    """One chromatic sweep at each inverse temperature of ``betas`` in turn (p-bit annealing:
    I0 raised over the run); ``rng`` per p-bit, shape (n_chains, n, 4)."""
    for c in prange(spins.shape[0]):
        s = spins[c]
        g = rng[c]
        for beta in betas:
            for k in range(class_ptr.size - 1):
                for p in range(class_ptr[k], class_ptr[k + 1]):
                    i = class_sites[p]
                    m, g[i, 0], g[i, 1], g[i, 2], g[i, 3] = _draw(
                        beta, _input(s, i, indptr, indices, data, h), g[i, 0], g[i, 1], g[i, 2], g[i, 3]
                    )
                    s[i] = m
