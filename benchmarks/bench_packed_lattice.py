"""One big lattice: the bit-packed checkerboard samplers against single-chain Metropolis and mcising.

Workload: the periodic ferromagnet near T_c (2D: T = 2.269, L = 1024 and 4096; 3D: T = 4.5115,
L = 128 and 256), one chain, hot start. Rows: thermolearn's `metropolis-packed` and
`heatbath-packed` (64 sites per machine word, checkerboard, lines threaded), its single-chain
`metropolis` (one int8 per site), mcising's Metropolis (a Rust core, 2D only) -- the fastest
single-lattice alternative in bench_metropolis.py -- and the 64-replica `metropolis-msc` (64
independent copies of a 128 x 128 lattice per word; 128 replicas, two groups, on two threads).

Reported: flip attempts per nanosecond per core (CPU time of the process, main thread pinned to
one CPU, one Numba thread); with every CPU, the flips per ns of CPU time (all threads) over the
one-thread figure ("CPU efficiency": 1 when threads cost nothing extra, meaningful under load
too) and the wall-clock rate with its speed-up over one thread (meaningful on a quiet machine
only: a descheduled thread holds up every colour's barrier). Set-up (packing, compiling) is cancelled by timing two sweep counts (each the best of
three calls). The candidates are measured in turn, round after round (``--rounds``), so that a
busy moment on the machine hits all of them: compare ratios within one run, and report the
range over rounds.

    .venv-bench/bin/python benchmarks/bench_packed_lattice.py                    # 2D and 3D
    .venv-bench/bin/python benchmarks/bench_packed_lattice.py --dims 2 --quick   # L = 1024 only
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numba
import numpy as np

from thermolearn import Ising
from thermolearn.samplers import ChainState
from thermolearn.samplers.registry import make_sampler

T_C = {2: 2.269, 3: 4.5115}
SIZES = {2: (1024, 4096), 3: (128, 256)}
MSC_SIDE = 128


def _pin(cpus: set[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)  # the calling thread: Numba's pool threads keep their own


def _rate(run: Callable[[int], object], n_spins: int, clock: Callable[[], float], sweeps: tuple[int, int]) -> float:
    """Flip attempts per ns: (t(n2) - t(n1)) / (n2 - n1) sweeps, so per-call set-up cancels."""
    times = []
    for n in sweeps:
        best = float("inf")
        for _ in range(3):  # best of three: a busy moment only ever slows a run down
            start = clock()
            run(n)
            best = min(best, clock() - start)
        times.append(best)
    if times[1] <= times[0]:  # a busy moment spoilt the difference
        return float("nan")
    return (sweeps[1] - sweeps[0]) * n_spins / (times[1] - times[0]) / 1e9


def _thermolearn(name: str, shape: tuple[int, ...], chains: int, temperature: float) -> Callable[[int], object]:
    model = Ising.lattice(shape)
    state = ChainState.new(model, chains, seed=0)
    sampler = make_sampler(name)
    betas = np.full(chains, 1.0 / temperature)
    sampler.sweep(model, state, betas, 2)  # compile
    return lambda n: sampler.sweep(model, state, betas, n)


def _mcising(L: int, temperature: float) -> Callable[[int], object]:
    from mcising._core import IsingSimulation

    sim = IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 0, "metropolis", "square")
    return lambda n: sim.sweep(n, temperature=temperature)


def _candidates(dim: int, L: int) -> dict[str, tuple[Callable[[], Callable[[int], object]], int, bool]]:
    """name -> (make the runner, sites per sweep, also timed on every CPU)."""
    t = T_C[dim]
    shape = (L,) * dim
    n = L**dim
    out: dict[str, tuple[Callable[[], Callable[[int], object]], int, bool]] = {
        "metropolis-packed": (lambda: _thermolearn("metropolis-packed", shape, 1, t), n, True),
        "heatbath-packed": (lambda: _thermolearn("heatbath-packed", shape, 1, t), n, True),
        "metropolis (one int8 per site)": (lambda: _thermolearn("metropolis", shape, 1, t), n, False),
    }
    if dim == 2:
        try:
            import mcising  # noqa: F401

            out["mcising metropolis"] = (lambda: _mcising(L, t), n, False)
        except ImportError:
            pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smaller size of each dimension only")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3], choices=[2, 3], help="lattice dimensions")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all candidates (report the range)")
    args = parser.parse_args()
    all_cpus = set(range(os.cpu_count() or 1))
    cores = len(all_cpus)
    # Numba starts its thread pool on first use, and its threads keep the CPU affinity the process
    # had then: start it before any pinning
    numba.set_num_threads(cores)
    rows: list[tuple[str, str, list[float], list[float], list[float]]] = []
    for dim in args.dims:
        for L in SIZES[dim][:1] if args.quick else SIZES[dim]:
            n = L**dim
            sweeps = (4, 24) if n <= 2_000_000 else (2, 8)
            cands = _candidates(dim, L)
            runners = {name: make() for name, (make, _, _) in cands.items()}
            msc = _thermolearn("metropolis-msc", (MSC_SIDE, MSC_SIDE), 64, T_C[2])
            msc_both = _thermolearn("metropolis-msc", (MSC_SIDE, MSC_SIDE), 64 * cores, T_C[2])
            per_core: dict[str, list[float]] = {name: [] for name in [*cands, "msc"]}
            wall: dict[str, list[float]] = {name: [] for name in [*cands, "msc"]}
            cpu_all: dict[str, list[float]] = {name: [] for name in [*cands, "msc"]}
            for _ in range(args.rounds):
                _pin(all_cpus)
                numba.set_num_threads(cores)
                for name, (_, sites, both) in cands.items():
                    if both:
                        wall[name].append(_rate(runners[name], sites, time.perf_counter, sweeps))
                        cpu_all[name].append(_rate(runners[name], sites, time.process_time, sweeps))
                wall["msc"].append(_rate(msc_both, 64 * cores * MSC_SIDE**2, time.perf_counter, (10, 60)))
                cpu_all["msc"].append(_rate(msc_both, 64 * cores * MSC_SIDE**2, time.process_time, (10, 60)))
                _pin({min(all_cpus)})
                numba.set_num_threads(1)
                for name, (_, sites, _) in cands.items():
                    per_core[name].append(_rate(runners[name], sites, time.process_time, sweeps))
                per_core["msc"].append(_rate(msc, 64 * MSC_SIDE**2, time.process_time, (10, 60)))
            for name in [*cands, "msc"]:
                label = f"metropolis-msc, 64 replicas of {MSC_SIDE}^2 per core" if name == "msc" else name
                rows.append((f"{dim}D L={L}", label, per_core[name], wall[name], cpu_all[name]))
            _pin(all_cpus)
            numba.set_num_threads(cores)

    def span(values: list[float]) -> str:
        values = [v for v in values if np.isfinite(v)]
        return f"{min(values):.2f}-{max(values):.2f}" if values else ""

    print(
        f"one chain near T_c; flips/ns per core on one pinned CPU; 'all cores' is wall-clock with {cores} "
        f"threads; speed-up = all cores / one core, per round; ranges over {args.rounds} rounds"
    )
    print(
        f"{'lattice':12} {'sampler':48} {'flips/ns/core':>13} {'CPU efficiency':>14} {'all cores':>11} {'speed-up':>10}"
    )
    for lattice, name, single, both, cpu in rows:
        speedup = [b / s for b, s in zip(both, single, strict=False)]
        efficiency = [c / s for c, s in zip(cpu, single, strict=False)]
        print(f"{lattice:12} {name:48} {span(single):>13} {span(efficiency):>14} {span(both):>11} {span(speedup):>10}")


if __name__ == "__main__":
    main()
