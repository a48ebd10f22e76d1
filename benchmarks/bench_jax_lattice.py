"""The JAX checkerboard Metropolis (`metropolis-jax`) on a CPU or a GPU, in flips per nanosecond.

Workload: the periodic 2D ferromagnet at T_c = 2.269 (``--glass``: the +-J Edwards-Anderson
glass at the same T, which takes metropolis-jax's per-bond coupling arrays instead of its
lookup table), one chain (``--chains`` for more), hot
start, L = 1024 and 4096 (``--sizes``). For each size the sampler runs four sweep counts, one call
each (the median of ``--repeats`` calls); the slope of time against sweeps cancels what a call
costs besides its sweeps (spins to the device and back, E and M recomputed on the host), so the
rate is that of the device's sweeps alone. Each call is timed after ``block_until_ready`` through the host copy,
so the device's asynchronous dispatch cannot hide work.

Beside it, on the same machine and in the same run (rounds alternate, so a busy moment hits every
row): thermolearn's CPU samplers for one big lattice, `metropolis-packed` (64 sites per machine
word, every Numba thread) and single-chain `metropolis`. Published figure for context
(NVIDIA/ising-gpu, the optimised multi-spin-coded CUDA code of Romero et al. 2020, README runs of
128 sweeps of a 131072 x 65536 lattice on two GPUs, halved): about 380 flips/ns per V100, 520 per
A100 and 900 per H100.

On JAX's CPU backend the counter-based threefry draws (one per site and sweep) cost about as
much as the whole sweep (8-11 ns per draw measured under load on this 2-core machine), so the
CPU rate says little about the GPU one, where a half sweep is one fused, memory-bound pass over
N/2 int8 spins (plus, for the glass, four float32 coupling arrays and the fields).

On a machine with a GPU (its Python must have a CUDA build of jax; the repository's ``src`` on
``PYTHONPATH`` is enough, nothing is installed):

    PYTHONPATH=src python3 benchmarks/bench_jax_lattice.py --device gpu --sizes 1024,4096,16384

On this CPU:

    .venv/bin/python benchmarks/bench_jax_lattice.py --device cpu
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from collections.abc import Callable

import numpy as np

from thermolearn import Ising
from thermolearn.samplers import ChainState
from thermolearn.samplers.registry import make_sampler

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
PUBLISHED = "NVIDIA/ising-gpu optimised multi-spin CUDA (Romero et al. 2020): ~380 (V100), ~520 (A100), ~900 (H100)"


def _model(L: int, glass: bool) -> Ising:
    """The L x L periodic ferromagnet, or with ``glass`` the +-J Edwards-Anderson glass (seed 0)."""
    return Ising.edwards_anderson(L, 2, seed=0) if glass else Ising.lattice((L, L))


def _runner(name: str, L: int, chains: int, options: dict, glass: bool = False) -> Callable[[int], None]:
    """A function running n sweeps of sampler ``name`` on an L x L chain set (compiled before use)."""
    model = _model(L, glass)
    sampler = make_sampler(name, **options)
    state = ChainState.new(model, chains, seed=0)
    beta = 1.0 / T_C

    def run(n: int) -> None:
        sampler.sweep(model, state, beta, n)
        state.spins.sum()  # the host copy of the result is in hand: the device has finished

    run(2)  # compile (and, for JAX, trace) before any timing
    return run


def _counts(longest: int) -> list[int]:
    return [max(1, longest * k // 4) for k in (1, 2, 3, 4)]


def _seconds_per_sweep(run: Callable[[int], None], longest: int, repeats: int) -> float:
    """Time per sweep: the least-squares slope of call time against sweep count over four counts
    (longest / 4 ... longest, each the median of ``repeats`` calls), which cancels the per-call
    set-up; NaN when the fit is not positive (a machine too busy to measure)."""
    counts = np.array(_counts(longest), dtype=float)
    times = []
    for n in counts:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(int(n))
            samples.append(time.perf_counter() - start)
        times.append(float(np.median(samples)))
    slope = float(np.polyfit(counts, np.array(times), 1)[0])
    return slope if slope > 0 else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto", help="where metropolis-jax runs")
    parser.add_argument("--sizes", default="1024,4096", help="lattice sides, comma-separated (even)")
    parser.add_argument("--chains", type=int, default=1, help="independent chains per call (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all rows (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="calls per sweep count, their median taken (default 3)")
    parser.add_argument(
        "--spins-per-call",
        type=float,
        default=2e8,
        help="flip attempts per timed call of the longer count (default 2e8; 5e10 suits a GPU)",
    )
    parser.add_argument("--no-cpu-rows", action="store_true", help="only metropolis-jax")
    parser.add_argument(
        "--glass",
        action="store_true",
        help="+-J Edwards-Anderson couplings at the same T (metropolis-jax's bond-array path; "
        "default the ferromagnet, its lookup-table path)",
    )
    args = parser.parse_args()

    import jax

    from thermolearn.samplers.jax_lattice import jax_device

    device = jax_device(args.device)
    print(
        f"thermolearn metropolis-jax on {device} ({jax.__version__}); host {platform.processor() or platform.machine()}"
    )
    print(f"model: {'+-J glass (bond arrays)' if args.glass else 'ferromagnet (lookup table)'} at T = {T_C:.4f}")
    print(f"published for context: {PUBLISHED}\n")

    sizes = [int(s) for s in args.sizes.split(",")]
    rows: dict[tuple[int, str], list[float]] = {}
    runners: dict[tuple[int, str], tuple[Callable[[int], None], int]] = {}
    for L in sizes:
        candidates = [("metropolis-jax", {"device": args.device})]
        if not args.no_cpu_rows:
            candidates += [("metropolis-packed", {}), ("metropolis", {})]
        for name, options in candidates:
            chains = args.chains if name != "metropolis-packed" else 1
            long = max(4, int(args.spins_per_call / (L * L * chains)))
            if name == "metropolis":
                long = max(4, long // 8)  # one int8 per site: about 10x slower than the packed words
            run = _runner(name, L, chains, options, args.glass)
            for n in _counts(long):  # JAX compiles once per power-of-two bucket of sweep counts
                run(n)
            runners[L, name] = (run, long)
            rows[L, name] = []

    for _ in range(args.rounds):
        for (L, name), (run, longest) in runners.items():
            chains = args.chains if name != "metropolis-packed" else 1
            per_sweep = _seconds_per_sweep(run, longest, args.repeats)
            rows[L, name].append(L * L * chains / per_sweep / 1e9)

    print("| L | sampler | chains | flips/ns (median over rounds) | range | vs metropolis-packed |")
    print("|---:|---|---:|---:|---|---:|")
    for (L, name), rates in rows.items():
        chains = args.chains if name != "metropolis-packed" else 1
        median = float(np.nanmedian(rates)) if not np.all(np.isnan(rates)) else math.nan
        packed = rows.get((L, "metropolis-packed"))
        ratio = f"{median / float(np.nanmedian(packed)):.2f}" if packed and not np.all(np.isnan(packed)) else ""
        spread = f"{np.nanmin(rates):.3g}-{np.nanmax(rates):.3g}" if not math.isnan(median) else "busy"
        print(f"| {L} | {name} | {chains} | {median:.3g} | {spread} | {ratio} |")


if __name__ == "__main__":
    main()
