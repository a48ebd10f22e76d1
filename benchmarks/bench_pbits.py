"""p-bit machines on a CPU: chromatic Gibbs flips per nanosecond on sparse graphs.

A "flip" here is what the p-bit literature counts: one p-bit update (an attempted flip, a
heat-bath draw), so flips per ns = n_pbits x sweeps / wall-clock ns. Graphs: a periodic square
lattice, a random 3-regular graph and a chimera graph (m x m cells of K_{4,4}), all with random
+-1 couplings (a spin glass: frustration costs nothing here but keeps the work honest).

Rows (all sweeps in one kernel call, ``kernels.chromatic_run`` on a ``ChromaticPlan``: colour
classes contiguous, one xoshiro stream per block of 256 sites held in registers):
- chromatic, 1 chain, serial, thresholds tabulated (integer couplings: no tanh);
- chromatic, 1 chain, serial, tanh per update (the same plan without its table);
- chromatic, as many chains as threads, chains over threads;
- chromatic, 1 chain, the blocks of each colour class over threads (a barrier per class);
- references: the library's heat-bath sampler (sequential, generic CSR kernel) on the same
  graph, and its lattice Metropolis fast path (``samplers/lattice_kernels.py``, integer
  thresholds, neighbours by index arithmetic) on a ferromagnetic square lattice of the same
  size, 1 chain.

Published hardware for scale: the FPGA sparse Ising machines of Aadit et al. (Nature
Electronics 5, 460, 2022) reach about 64 flips/ns with graph-coloured p-bits.

``--threshold``: one chain on square lattices of growing size, serial against sites over
threads: where spreading a colour class starts to pay (``kernels.SITE_PARALLEL_MIN``).

Then max-cut on Gset (G1-G3 with --quick: G1 only): annealed chromatic p-bits (I0 raised
geometrically over the sweeps, one chromatic sweep per I0) against the library's simulated
annealing (heat bath, the same schedule, sweeps and reads, plus its final quench), at equal
flips; the cut of each read's final state.

    .venv/bin/python benchmarks/bench_pbits.py            # L = 512, n = 2^18, sweeps 200
    .venv/bin/python benchmarks/bench_pbits.py --quick    # smaller, fewer sweeps
    .venv/bin/python benchmarks/bench_pbits.py --threshold
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time

import numba
import numpy as np
import scipy.sparse as sp

import thermolearn
from thermolearn import Ising, MaxCut
from thermolearn.pbits import kernels
from thermolearn.pbits.coloring import ChromaticPlan, chromatic_plan
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.samplers.annealing import anneal
from thermolearn.samplers.schedules import default_beta_range, geometric_schedule
from thermolearn.samplers.single_spin import HeatBath, Metropolis
from thermolearn.samplers.state import ChainState

BETA = 0.5
FPGA_FLIPS_PER_NS = 64.0


def glass(n: int, i: np.ndarray, j: np.ndarray, seed: int, name: str) -> Ising:
    w = np.random.default_rng(seed).choice([-1.0, 1.0], size=i.size)
    J = sp.coo_array((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    return Ising(J.tocsr(), np.zeros(n), name=name)


def square(L: int) -> Ising:
    idx = np.arange(L * L).reshape(L, L)
    i = np.concatenate([idx.ravel(), idx.ravel()])
    j = np.concatenate([np.roll(idx, -1, 0).ravel(), np.roll(idx, -1, 1).ravel()])
    return glass(L * L, i, j, 1, f"square {L}x{L}")


def three_regular(n: int) -> Ising:
    # a random perfect matching added three times, repeated edges and loops redrawn
    rng = np.random.default_rng(2)
    while True:
        stubs = rng.permutation(np.repeat(np.arange(n), 3)).reshape(-1, 2)
        a, b = stubs.min(axis=1), stubs.max(axis=1)
        key = a.astype(np.int64) * n + b
        if np.all(a != b) and np.unique(key).size == key.size:
            return glass(n, a, b, 3, f"3-regular n={n}")


def chimera(m: int) -> Ising:
    def node(r, c, side, k):
        return ((r * m + c) * 2 + side) * 4 + k

    i, j = [], []
    for r in range(m):
        for c in range(m):
            for a in range(4):
                for b in range(4):
                    i.append(node(r, c, 0, a))
                    j.append(node(r, c, 1, b))
                if r + 1 < m:
                    i.append(node(r, c, 0, a))
                    j.append(node(r + 1, c, 0, a))
                if c + 1 < m:
                    i.append(node(r, c, 1, a))
                    j.append(node(r, c + 1, 1, a))
    return glass(8 * m * m, np.array(i), np.array(j), 4, f"chimera C{m}")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(fn, repeats: int = 3) -> float:
    """The shortest of ``repeats`` timings: on a shared machine the least disturbed run."""
    return min(timed(fn) for _ in range(repeats))


def chromatic_rate(plan: ChromaticPlan, chains: int, sweeps: int, kernel: str) -> float:
    """flips/ns of ``chains`` chains for ``sweeps`` chromatic sweeps in one call."""
    n = plan.order.size
    S = np.where(np.random.default_rng(1).random((chains, n)) < 0.5, -1, 1).astype(np.int8)
    G = seed_chains(1, chains * plan.n_blocks).reshape(chains, plan.n_blocks, 4)
    betas = np.array([BETA])
    tables = plan.thresholds(betas)
    kernels.chromatic_run(plan, S, G, betas, 2, tables=tables, kernel=kernel)  # compile / warm up
    t = best_of(lambda: kernels.chromatic_run(plan, S, G, betas, sweeps, tables=tables, kernel=kernel))
    return chains * n * sweeps / t / 1e9


def bench(model: Ising, sweeps: int) -> list[tuple[str, float]]:
    n = model.n_spins
    plan = chromatic_plan(model)
    untabulated = dataclasses.replace(plan, unit=None, reach=0)
    threads = numba.get_num_threads()
    colours = f"{plan.n_colours} colours"
    rows = [
        (f"chromatic, 1 chain, serial, table ({colours})", chromatic_rate(plan, 1, sweeps, "serial")),
        ("chromatic, 1 chain, serial, tanh", chromatic_rate(untabulated, 1, sweeps, "serial")),
        (f"chromatic, {threads} chains over {threads} threads, table", chromatic_rate(plan, threads, sweeps, "chains")),
        (f"chromatic, 1 chain, sites over {threads} threads, table", chromatic_rate(plan, 1, sweeps, "sites")),
    ]

    sampler = HeatBath("sequential")
    state = ChainState.new(model, 1, seed=0)
    sampler.sweep(model, state, [BETA], 2)
    t = best_of(lambda: sampler.sweep(model, state, [BETA], sweeps))
    rows.append(("samplers.HeatBath (sequential, CSR), 1 chain", n * sweeps / t / 1e9))
    side = int(round(math.sqrt(n)))
    if side * side == n and side % 2 == 0:
        lattice = Ising.lattice((side, side))
        metropolis = Metropolis("checkerboard")
        state = ChainState.new(lattice, 1, seed=0)
        metropolis.sweep(lattice, state, [BETA], 2)
        t = best_of(lambda: metropolis.sweep(lattice, state, [BETA], sweeps))
        rows.append((f"samplers.Metropolis lattice fast path, ferro {side}x{side}", n * sweeps / t / 1e9))
    return rows


def threshold(sweeps: int) -> None:
    """One chain, serial against sites over threads, on square lattices of growing size."""
    threads = numba.get_num_threads()
    print(f"\none chain: serial against sites over {threads} threads (flips/ns; class = n / 2 sites)")
    print(f"{'L':>6} {'class sites':>12} {'serial':>9} {'sites':>9} {'sites / serial':>15}")
    for L in (32, 64, 128, 256, 512, 1024):
        plan = chromatic_plan(square(L))
        work = max(1, sweeps * (512 * 512) // (L * L) // 4)
        serial = chromatic_rate(plan, 1, work, "serial")
        sites = chromatic_rate(plan, 1, work, "sites")
        print(f"{L:>6} {plan.largest_class:>12} {serial:9.3f} {sites:9.3f} {sites / serial:15.2f}")


GSET = "/work/shared/data/gset"
BEST_KNOWN = {"G1": 11624, "G2": 11620, "G3": 11622}


def pbit_anneal(model: Ising, betas: np.ndarray, reads: int, seed: int) -> np.ndarray:
    """Final states (reads, n) of chromatic p-bits annealed through ``betas``, one sweep each."""
    plan = chromatic_plan(model)
    n = model.n_spins
    S = np.where(np.random.default_rng(seed).random((reads, n)) < 0.5, -1, 1).astype(np.int8)
    G = seed_chains(seed, reads * plan.n_blocks).reshape(reads, plan.n_blocks, 4)
    kernels.chromatic_run(plan, S, G, betas, betas.size)
    return plan.to_labels(S)


def maxcut(names: list[str], sweeps: int, reads: int) -> None:
    print(f"\nmax-cut, {sweeps} sweeps x {reads} reads, geometric schedule over default_beta_range")
    print(f"{'graph':<6} {'method':<34} {'best cut':>9} {'mean cut':>10} {'best known':>10} {'s':>7}")
    for name in names:
        problem = MaxCut.from_edgelist(f"{GSET}/{name}.txt")
        model = problem.model
        hot, cold = default_beta_range(model)
        betas = geometric_schedule(hot, cold, sweeps)
        pbit_anneal(model, betas[:2], 2, 0)  # compile
        start = time.perf_counter()
        states = pbit_anneal(model, betas, reads, 1)
        t_pbit = time.perf_counter() - start
        cuts = problem.cut_from_energy(np.asarray(model.energy(states)))
        anneal(model, 2, 2, beta_range=(hot, cold), sampler="heatbath", seed=0)  # compile
        start = time.perf_counter()
        result = anneal(model, sweeps, reads, beta_range=(hot, cold), sampler="heatbath", seed=1)
        t_sa = time.perf_counter() - start
        sa_cuts = problem.cut_from_energy(result.energies)
        known = BEST_KNOWN.get(name, float("nan"))
        print(
            f"{name:<6} {'p-bits, chromatic, annealed I0':<34} {cuts.max():9.0f} {cuts.mean():10.1f} {known:10} {t_pbit:7.2f}"
        )
        print(
            f"{name:<6} {'simulated annealing (heat bath)':<34} {sa_cuts.max():9.0f} {sa_cuts.mean():10.1f} {known:10} {t_sa:7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller graphs, fewer sweeps")
    parser.add_argument("--threshold", action="store_true", help="only the site-parallel threshold scan")
    args = parser.parse_args()
    L, n3, m, sweeps = (128, 2**14, 16, 50) if args.quick else (512, 2**18, 64, 200)
    print(
        f"thermolearn {thermolearn.__version__}, numba {numba.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, {numba.get_num_threads()} Numba threads, beta = {BETA}, {sweeps} sweeps"
    )
    if args.threshold:
        threshold(sweeps)
        return
    print(f"{'graph':<22} {'kernel':<58} {'flips/ns':>9} {'FPGA / this':>12}")
    for model in (square(L), three_regular(n3), chimera(m)):
        for label, rate in bench(model, sweeps):
            print(f"{model.name:<22} {label:<58} {rate:9.3f} {FPGA_FLIPS_PER_NS / rate:11.0f}x")
    if os.path.isdir(GSET):
        maxcut(["G1"] if args.quick else ["G1", "G2", "G3"], 300 if args.quick else 1000, 8 if args.quick else 32)


if __name__ == "__main__":
    main()
