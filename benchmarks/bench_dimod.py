"""dimod samplers at equal sweeps: thermolearn.dimod against dwave-samplers through the same dimod call.

Both samplers get the same BQM and the same call,

    sampler.sample(bqm, num_reads=R, num_sweeps=S, beta_range=(hot, cold),
                   beta_schedule_type="geometric", seed=s)

so the schedule (one beta per sweep, the same ends) and the number of single-spin sweeps are
identical; only the import differs. thermolearn's reads end with a zero-temperature quench (a
few extra sweeps, not counted in num_sweeps and not reported) and run on all Numba threads; a
like-for-like row runs them on one thread (dwave-samplers' annealer is single-threaded). Times are the median wall-clock seconds of
whole ``sample`` calls (BQM conversion and SampleSet included) after a warm-up call, and the
``sampling`` part both samplers report in ``info['timing']``.

Problems: (a) Sherrington-Kirkpatrick, N = 500, J_ij ~ Normal(0, 1/N) (dense: 124750
couplings; ground-state energy per spin -> -0.7633 as N -> infinity), SPIN; (b) the 2D +-J
Edwards-Anderson glass on a periodic 64 x 64 lattice (sparse), SPIN; (c) the same glass as a
BINARY BQM with string labels (dimod converts it for both samplers).

    .venv-bench/bin/python benchmarks/bench_dimod.py            # the full run (about 2 minutes)
    .venv-bench/bin/python benchmarks/bench_dimod.py --quick    # fewer sweeps and repeats
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import dimod
import numba
import numpy as np

import thermolearn
from thermolearn import Ising
from thermolearn.dimod import SimulatedAnnealingSampler as ThermolearnSA
from thermolearn.samplers.schedules import default_beta_range
from thermolearn.spinglass.ensembles import edwards_anderson_instance


def problems() -> list[tuple[str, dimod.BinaryQuadraticModel, tuple[float, float]]]:
    sk = Ising.sherrington_kirkpatrick(500, seed=1)
    ea = edwards_anderson_instance((64, 64), "pm", seed=1)
    binary = (
        ea.to_bqm()
        .change_vartype(dimod.BINARY, inplace=False)
        .relabel_variables({k: f"x{k}" for k in range(ea.n_spins)}, inplace=False)
    )
    return [
        ("SK N=500 (SPIN)", sk.to_bqm(), default_beta_range(sk)),
        ("EA 64x64 +-J (SPIN)", ea.to_bqm(), default_beta_range(ea)),
        ("EA 64x64 +-J (BINARY, str labels)", binary, default_beta_range(ea)),
    ]


def timed_calls(sampler, bqm, kwargs, repeats: int) -> tuple[float, float, dimod.SampleSet]:
    sampler.sample(bqm, **{**kwargs, "num_reads": 1, "num_sweeps": 10})  # warm-up (compilation)
    walls, sampling, result = [], [], None
    for r in range(repeats):
        start = time.perf_counter()
        result = sampler.sample(bqm, **{**kwargs, "seed": kwargs["seed"] + r})
        walls.append(time.perf_counter() - start)
        sampling.append(result.info["timing"]["sampling_ns"] * 1e-9)
    return statistics.median(walls), statistics.median(sampling), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 sweeps, 2 repeats")
    parser.add_argument("--sweeps", type=int, default=None)
    parser.add_argument("--reads", type=int, default=32)
    args = parser.parse_args()
    sweeps = args.sweeps or (100 if args.quick else 1000)
    repeats = 2 if args.quick else 3
    from dwave.samplers import SimulatedAnnealingSampler as DwaveSA
    from dwave.samplers import __version__ as dwave_version

    print(
        f"thermolearn {thermolearn.__version__}, dwave-samplers {dwave_version}, dimod {dimod.__version__}, "
        f"Python {platform.python_version()}, {numba.get_num_threads()} Numba threads; "
        f"{args.reads} reads x {sweeps} sweeps, geometric schedule, median of {repeats} calls"
    )
    header = f"{'problem':36s} {'sampler':28s} {'wall s':>8s} {'sampling s':>10s} {'mean E/N':>9s} {'best E/N':>9s}"
    print(header)
    print("-" * len(header))
    threads = numba.get_num_threads()
    for name, bqm, beta_range in problems():
        n = bqm.num_variables
        kwargs = {"num_reads": args.reads, "num_sweeps": sweeps, "beta_range": beta_range,
                  "beta_schedule_type": "geometric", "seed": 7}  # fmt: skip
        rows = [("dwave-samplers (1 thread)", DwaveSA(), None), ("thermolearn (1 thread)", ThermolearnSA(), 1)]
        rows.append((f"thermolearn ({threads} threads)", ThermolearnSA(), threads))
        for label, sampler, n_threads in rows:
            if n_threads is not None:
                numba.set_num_threads(n_threads)
            wall, sampling, result = timed_calls(sampler, bqm, kwargs, repeats)
            numba.set_num_threads(threads)
            energies = result.record.energy
            print(
                f"{name:36s} {label:28s} {wall:8.3f} {sampling:10.3f} "
                f"{np.mean(energies) / n:9.5f} {np.min(energies) / n:9.5f}"
            )
    print(
        "wall: the whole sample() call; sampling: info['timing']['sampling_ns']. thermolearn's reads end "
        "with a zero-temperature quench (each state a local minimum)."
    )


if __name__ == "__main__":
    main()
