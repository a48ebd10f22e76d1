"""Numba kernels of path-integral Monte Carlo and simulated quantum annealing on Trotter slices.

The Suzuki-Trotter weight of a world-line configuration s[tau, i] (M slices) is
exp(-sum_tau a E_cl(s_tau) + sum_{tau, i} K_i s[tau, i] s[tau + 1, i]), a = beta / M,
K_i = -1/2 ln tanh(beta Gamma_i / M), periodic in tau. A sweep is one Metropolis pass over every
(tau, i) and, optionally, one imaginary-time cluster pass: for each site the bonds between equal
neighbouring slices are activated with probability 1 - exp(-2 K_i) (Swendsen-Wang along tau), and
each segment of connected slices is flipped with the heat-bath probability 1 / (1 + e^dS) of its
spatial action change dS. Both leave the weight invariant for any couplings (frustrated ones
included). Segment flips are not Metropolis: at high temperature (a = beta Gamma / M small) every
|dS| is tiny, Metropolis takes nearly every flip, and a sweep became one deterministic global flip
(a ring of 6 at T = 1e4 kept one classical energy per chain for a whole run); heat bath takes each
about half the time. A local move that keeps the weight (dS = 0) is likewise accepted with
probability 1/2 (still detailed balance), so sequential sweeps stay random.

Local fields phi[tau, i] = h_i + sum_j J_ij s[tau, j] are kept current, so a rejected move costs
O(1); they are recomputed at the start of every call, so a run cut into calls at the same
boundaries (a checkpointed run and its resume) makes the same decisions bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from thermolearn.kernel_cache import njit
from thermolearn.kernel_threads import over_items
from thermolearn.randomness.xoshiro import next_uniform

# spin updates below which waking the thread pool costs more than it saves
MIN_PARALLEL_WORK = 200_000
# fraction of coupled pairs above which fields are updated from a dense J (as simulated annealing does)
DENSE_FILL = 0.25
DENSE_MAX_SPINS = 4096


def dense_rows(model) -> np.ndarray:
    """J as a dense (N, N) float64 array for densely coupled models, else an empty (0, 0) array."""
    n = model.n_spins
    if n <= DENSE_MAX_SPINS and model.couplings.nnz >= DENSE_FILL * n * n:
        return np.ascontiguousarray(model.couplings.toarray())
    return np.zeros((0, 0))


@njit(cache=True, inline="always")
def _flip_site(spins, phi, tau, i, indptr, indices, data, dense):
    s_new = -spins[tau, i]
    spins[tau, i] = s_new
    if dense.shape[0] > 0:
        # a contiguous row (J_ii = 0): the loop vectorises, unlike the CSR gather
        row = dense[i]
        target = phi[tau]
        for j in range(row.size):
            target[j] += 2.0 * row[j] * s_new
    else:
        for p in range(indptr[i], indptr[i + 1]):
            phi[tau, indices[p]] += 2.0 * data[p] * s_new


@njit(cache=True, inline="always")
def _heat_bath(u, dS):
    """Whether a uniform u in [0, 1) accepts a move of action change dS with the heat-bath (Barker)
    probability 1 / (1 + e^dS): p(dS) / p(-dS) = e^-dS (detailed balance), and p(0) = 1/2."""
    # e^dS overflows to inf for dS > ~709: p = 0, the right limit
    return u < 1.0 / (1.0 + np.exp(dS))


@over_items()
def trotter_sweeps(
    spins,
    rng,
    indptr,
    indices,
    data,
    h,
    a_steps,
    k_steps,
    segments,
    record,
    rec_ecl,
    rec_tcorr,
    rec_bonds,
    accepted,
    dense,
):
    """Advance every chain by len(a_steps) sweeps; sweep t uses a = a_steps[t], K_i = k_steps[t, i].

    spins (n_chains, M, N) int8 and rng (n_chains, 4) uint64 change in place. With ``record``
    each sweep writes, per chain, the slice-averaged classical energy, the slice-averaged
    time correlation (1/M) sum_tau s[tau, i] s[tau + 1, i] of every site and the slice-averaged
    bond sum sum_{i<j, J_ij != 0} s_i s_j. ``dense`` is J as an (N, N) array for densely coupled
    models (fields then update by contiguous rows, with the same additions as the CSR path) or an
    empty (0, 0) array. accepted (n_chains, 2) int64 gains each chain's accepted
    single-spin and segment moves. Chains run in parallel (each owns its spins and generator), so the
    results never depend on the thread count.
    """
    n_chains, M, N = spins.shape
    n_steps = a_steps.size
    for c in prange(n_chains):
        bond = np.zeros(M, dtype=np.bool_)
        s = spins[c]
        s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
        phi = np.empty((M, N))
        for tau in range(M):
            for i in range(N):
                acc = h[i]
                for p in range(indptr[i], indptr[i + 1]):
                    acc += data[p] * s[tau, indices[p]]
                phi[tau, i] = acc
        for t in range(n_steps):
            a = a_steps[t]
            # ---- Metropolis over every (tau, i)
            for tau in range(M):
                up = tau + 1 if tau + 1 < M else 0
                down = tau - 1 if tau > 0 else M - 1
                for i in range(N):
                    si = s[tau, i]
                    nb = 0.0
                    if M > 1:
                        nb = s[up, i] + s[down, i]
                    dS = 2.0 * si * (a * phi[tau, i] + k_steps[t, i] * nb)
                    flip = dS < 0.0
                    if not flip:
                        # a move that keeps the weight is taken half the time: always taking it makes
                        # sequential sweeps deterministic (domain walls circling a ring at M = 1)
                        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                        flip = u < 0.5 if dS == 0.0 else u < np.exp(-dS)
                    if flip:
                        _flip_site(s, phi, tau, i, indptr, indices, data, dense)
                        accepted[c, 0] += 1
            # ---- segments along imaginary time
            if segments and M > 1:
                for i in range(N):
                    p_bond = -np.expm1(-2.0 * k_steps[t, i])
                    any_broken = False
                    for tau in range(M):
                        nxt = tau + 1 if tau + 1 < M else 0
                        on = False
                        if s[tau, i] == s[nxt, i]:
                            u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                            on = u < p_bond
                        bond[tau] = on
                        if not on:
                            any_broken = True
                    if not any_broken:
                        # one ring: the whole world line flips against its spatial action alone
                        dS = 0.0
                        for tau in range(M):
                            dS += 2.0 * a * s[tau, i] * phi[tau, i]
                        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                        if _heat_bath(u, dS):
                            for tau in range(M):
                                _flip_site(s, phi, tau, i, indptr, indices, data, dense)
                            accepted[c, 1] += 1
                        continue
                    # start just after a broken bond, so no segment wraps past the start
                    start = 0
                    for tau in range(M):
                        if not bond[tau]:
                            start = tau + 1 if tau + 1 < M else 0
                            break
                    done = 0
                    first = start
                    while done < M:
                        length = 1
                        tau = first
                        while bond[tau] and length < M:
                            tau = tau + 1 if tau + 1 < M else 0
                            length += 1
                        dS = 0.0
                        x = first
                        for _ in range(length):
                            dS += 2.0 * a * s[x, i] * phi[x, i]
                            x = x + 1 if x + 1 < M else 0
                        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                        if _heat_bath(u, dS):
                            x = first
                            for _ in range(length):
                                _flip_site(s, phi, x, i, indptr, indices, data, dense)
                                x = x + 1 if x + 1 < M else 0
                            accepted[c, 1] += 1
                        done += length
                        first = (first + length) % M  # the next segment starts after this one
            if record:
                ecl = 0.0
                bonds = 0.0
                for tau in range(M):
                    nxt = tau + 1 if tau + 1 < M else 0
                    for i in range(N):
                        si = s[tau, i]
                        # E = -1/2 sum_i s_i (phi_i + h_i): pairs counted twice in phi, fields once
                        ecl -= 0.5 * si * (phi[tau, i] + h[i])
                        for p in range(indptr[i], indptr[i + 1]):
                            if indices[p] > i:
                                bonds += si * s[tau, indices[p]]
                        rec_tcorr[c, t, i] += si * s[nxt, i]
                rec_ecl[c, t] = ecl / M
                rec_bonds[c, t] = bonds / M
                for i in range(N):
                    rec_tcorr[c, t, i] /= M
        rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


@njit(cache=True)
def greedy_quench(states, indptr, indices, data, h, max_sweeps):
    """Zero-temperature descent: sequential sweeps flipping every spin whose flip lowers E, until
    none does (or ``max_sweeps``); states (n_states, N) int8 change in place. Returns the sweeps run."""
    n_states, n = states.shape
    most = 0
    for r in range(n_states):
        s = states[r]
        phi = np.empty(n)
        for i in range(n):
            acc = h[i]
            for p in range(indptr[i], indptr[i + 1]):
                acc += data[p] * s[indices[p]]
            phi[i] = acc
        sweeps = 0
        changed = True
        while changed and sweeps < max_sweeps:
            changed = False
            sweeps += 1
            for i in range(n):
                if s[i] * phi[i] < 0.0:  # flipping changes E by 2 s_i phi_i < 0
                    s_new = -s[i]
                    s[i] = s_new
                    for p in range(indptr[i], indptr[i + 1]):
                        phi[indices[p]] += 2.0 * data[p] * s_new
                    changed = True
        most = max(most, sweeps)
    return most
