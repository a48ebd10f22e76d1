"""What a run costs above its sweeps: ``sample()`` against the bare kernel and one call per sweep.

Workload: the periodic 16 x 16 ferromagnet at T_c = 2.269, one chain, 20,000 sweeps, Metropolis
and Wolff. Rows: the bare kernel (one ``sweep(model, state, beta, 20000)`` call), one
``sweep(..., 1)`` call per sweep (a harness that drives its own loop), and ``sample()`` recording
every sweep (E, M and the site sums, inside the kernel since 0.6.3). Microseconds per sweep.

    .venv/bin/python benchmarks/bench_sample_overhead.py
"""

from __future__ import annotations

import time

from thermolearn import Ising
from thermolearn.runs.sample import sample
from thermolearn.samplers import ChainState
from thermolearn.samplers.registry import make_sampler

SWEEPS = 20_000
T_C = 2.269


def main() -> None:
    model = Ising.lattice((16, 16))
    beta = 1.0 / T_C
    print(f"{'sampler':12} {'bare us/sweep':>14} {'per-call':>9} {'sample()':>9} {'sample()/bare':>14}")
    for name in ("metropolis", "wolff"):
        sampler = make_sampler(name)
        state = ChainState.new(model, 1, seed=0)
        sampler.sweep(model, state, beta, 10)  # compile
        sample(model, name, T_C, sweeps=100, progress=False)
        for _ in range(2):
            start = time.perf_counter()
            sampler.sweep(model, state, beta, SWEEPS)
            bare = (time.perf_counter() - start) / SWEEPS
            start = time.perf_counter()
            for _ in range(SWEEPS):
                sampler.sweep(model, state, beta, 1)
            per_call = (time.perf_counter() - start) / SWEEPS
            start = time.perf_counter()
            sample(model, name, T_C, sweeps=SWEEPS, progress=False)
            run = (time.perf_counter() - start) / SWEEPS
            print(f"{name:12} {bare * 1e6:14.1f} {per_call * 1e6:9.1f} {run * 1e6:9.1f} {run / bare:14.2f}")


if __name__ == "__main__":
    main()
