"""One big lattice: the bit-packed checkerboard samplers against single-chain Metropolis and mcising.

Workload: the periodic ferromagnet near T_c (2D: T = 2.269, L = 1024 and 4096; 3D: T = 4.5115,
L = 128 and 256), one chain, hot start. Rows: thermolearn's `metropolis-packed` and
`heatbath-packed` (64 sites per machine word, checkerboard, lines threaded), its single-chain
`metropolis` (one int8 per site), mcising's Metropolis (a Rust core, 2D only) -- the fastest
single-lattice alternative in bench_metropolis.py -- and the 64-replica `metropolis-msc` (64
independent copies of a 128 x 128 lattice per word; 128 replicas, two groups, on two threads).

Reported: flip attempts per nanosecond per core, with one thread (CPU time of the process, main
thread pinned to one CPU, one Numba thread) and with every CPU (wall clock over the number of
cores; meaningful on a quiet machine only: a descheduled thread holds up every colour's barrier),
the speed-up of all cores over one (wall clock against one thread's CPU time, per round), and the
"CPU efficiency" (flips per ns of CPU time of all threads over the one-thread figure: 1 when
threads cost nothing extra, meaningful under load too).

The estimator: per-call set-up (packing, unpacking, energies) is cancelled by timing each call at
four sweep counts n, 2n, 3n, 4n (each the best of two calls: a busy moment only ever slows a call
down) and taking the Theil-Sen slope of time against sweeps (the median of the six pairwise
slopes), which one disturbed point cannot move far; a two-point difference, used up to 0.6.5,
came out near zero or negative in some rounds. The candidates are measured in turn, round after
round (``--rounds``), so that a busy moment on the machine hits all of them: the table gives the
median over rounds and, in brackets, the range. Compare ratios within one run.

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


def _rate(run: Callable[[int], object], n_spins: int, clock: Callable[[], float], base: int) -> float:
    """Flip attempts per ns from the Theil-Sen slope of call time against sweep count (base,
    2 base, 3 base, 4 base sweeps; each the best of two calls), so per-call set-up cancels."""
    counts = [base * k for k in range(1, 5)]
    times = []
    for n in counts:
        best = float("inf")
        for _ in range(2):
            start = clock()
            run(n)
            best = min(best, clock() - start)
        times.append(best)
    slopes = [
        (times[j] - times[i]) / (counts[j] - counts[i]) for i in range(len(counts)) for j in range(i + 1, len(counts))
    ]
    per_sweep = float(np.median(slopes))
    if not per_sweep > 0:  # every pair spoilt: no estimate this round
        return float("nan")
    return n_spins / per_sweep / 1e9


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
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over all candidates (the table: median and range)"
    )
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
            base = 4 if n <= 4_000_000 else 2  # sweeps: base, 2 base, 3 base, 4 base
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
                        wall[name].append(_rate(runners[name], sites, time.perf_counter, base))
                        cpu_all[name].append(_rate(runners[name], sites, time.process_time, base))
                wall["msc"].append(_rate(msc_both, 64 * cores * MSC_SIDE**2, time.perf_counter, 10))
                cpu_all["msc"].append(_rate(msc_both, 64 * cores * MSC_SIDE**2, time.process_time, 10))
                _pin({min(all_cpus)})
                numba.set_num_threads(1)
                for name, (_, sites, _) in cands.items():
                    per_core[name].append(_rate(runners[name], sites, time.process_time, base))
                per_core["msc"].append(_rate(msc, 64 * MSC_SIDE**2, time.process_time, 10))
            for name in [*cands, "msc"]:
                label = f"metropolis-msc, 64 replicas of {MSC_SIDE}^2 per core" if name == "msc" else name
                rows.append((f"{dim}D L={L}", label, per_core[name], wall[name], cpu_all[name]))
            _pin(all_cpus)
            numba.set_num_threads(cores)

    def summary(values: list[float]) -> str:
        """Median over rounds and, in brackets, the range (rounds without an estimate left out)."""
        values = [v for v in values if np.isfinite(v)]
        if not values:
            return ""
        return f"{np.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    print(
        f"one chain near T_c; flips/ns per core: one thread on one pinned CPU (CPU time), and {cores} threads "
        f"(wall clock / {cores}); speed-up = {cores} threads' wall clock over one thread, per round; "
        f"median over {args.rounds} rounds (range)"
    )
    print(
        f"{'lattice':12} {'sampler':48} {'1 thread':>18} {f'{cores} threads':>18} {'speed-up':>18} "
        f"{'CPU efficiency':>18}"
    )
    for lattice, name, single, both, cpu in rows:
        per_core_both = [b / cores for b in both]
        speedup = [b / s for b, s in zip(both, single, strict=False)]
        efficiency = [c / s for c, s in zip(cpu, single, strict=False)]
        print(
            f"{lattice:12} {name:48} {summary(single):>18} {summary(per_core_both):>18} {summary(speedup):>18} "
            f"{summary(efficiency):>18}"
        )


if __name__ == "__main__":
    main()
