"""Probability of reaching the exact ground state against the budget (issue 15).

For SA, PT, PT with Houdayer cluster moves and population annealing, on disorder samples whose
ground state is known exactly by enumeration: SK with N = 20 (J_ij ~ Normal(0, 1/N)) and the 2D
+-J Edwards-Anderson model on the periodic 5 x 5 lattice. Each cell is the fraction of samples whose
search reached E_0, with its 95% Wilson interval (``thermolearn.spinglass.hit_curve``).

The budget S is sweeps per replica, as ``thermolearn spinglass groundstate --budgets`` counts it:
SA one replica, PT 8, PT+Houdayer 2 x 8, PA 64 (S / 4 steps of 4 sweeps). The table also states the
total spin-update work (replica sweeps) so the methods can be compared at equal work.

    .venv/bin/python benchmarks/bench_groundstate_hits.py            # about 2-4 minutes on 2 cores
    .venv/bin/python benchmarks/bench_groundstate_hits.py --quick    # a smoke run

Results go (atomically) to benchmarks/results/groundstate_hits.json; a markdown table is printed.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one sample per worker process, one thread each

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import thermolearn  # noqa: E402
from thermolearn.runs.sweep import as_finished  # noqa: E402
from thermolearn.spinglass import DisorderEnsemble, ea_ensemble, hit_curve, sk_ensemble  # noqa: E402
from thermolearn.spinglass.groundstate import DEFAULT_LADDER, DEFAULT_POPULATION  # noqa: E402
from thermolearn.storage import write_json_atomic  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "groundstate_hits.json"
ALGORITHMS = ("sa", "pt", "pt-houdayer", "pa")
REPLICAS = {"sa": 1, "pt": DEFAULT_LADDER, "pt-houdayer": 2 * DEFAULT_LADDER, "pa": DEFAULT_POPULATION}
LABEL = {"sa": "SA", "pt": "PT", "pt-houdayer": "PT+Houdayer", "pa": "PA"}


def problems(samples: int, seed: int) -> dict[str, DisorderEnsemble]:
    return {
        "SK N = 20": sk_ensemble(20, samples, seed=seed),
        "2D +-J 5 x 5": ea_ensemble((5, 5), samples, couplings="pm", seed=seed + 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100, help="disorder samples per problem (default 100)")
    parser.add_argument("--budgets", default="4,16,64,256", help="sweeps per replica (default 4,16,64,256)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="20 samples, budgets 4,64")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.budgets = 20, "4,64"
    budgets = [int(b) for b in args.budgets.split(",")]
    if args.samples < 1 or not budgets or min(budgets) < 4:
        parser.error("--samples must be >= 1 and every budget >= 4 (PA runs steps of 4 sweeps)")
    header = (
        f"thermolearn {thermolearn.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
        f"{args.workers} worker processes x 1 thread"
    )
    print(header, flush=True)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(args.workers) as pool:

        def map_samples(function: Any, jobs: list[tuple[int, dict, int]]) -> Any:
            return as_finished(pool, function, jobs)

        for problem, ensemble in problems(args.samples, args.seed).items():
            for algorithm in ALGORITHMS:
                t0 = time.perf_counter()
                studies = hit_curve(ensemble, algorithm, budgets, map_samples=map_samples)
                for s in studies:
                    assert s.hit_probability is not None and s.wilson is not None
                    rows.append(
                        {
                            "problem": problem,
                            "algorithm": algorithm,
                            "sweeps": s.sweeps,
                            "replica_sweeps": s.sweeps * REPLICAS[algorithm],
                            "hit_probability": s.hit_probability[0],
                            "wilson_95": list(s.wilson),
                            "samples": len(s.samples),
                        }
                    )
                print(f"  {problem} {algorithm}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    write_json_atomic(
        args.output,
        {
            "command": " ".join(["benchmarks/bench_groundstate_hits.py", *(argv or sys.argv[1:])]),
            "environment": header,
            "samples": args.samples,
            "budgets": budgets,
            "replicas": REPLICAS,
            "rows": rows,
            "wall_seconds": time.perf_counter() - started,
        },
    )
    print()
    for problem in problems(1, 0):
        print(f"**{problem}**, {args.samples} samples: hit probability [95% Wilson interval]")
        print()
        print("| method (replicas) | " + " | ".join(f"S = {b}" for b in budgets) + " |")
        print("|---|" + "---:|" * len(budgets))
        for algorithm in ALGORITHMS:
            cells = []
            for b in budgets:
                (r,) = [x for x in rows if x["problem"] == problem and x["algorithm"] == algorithm and x["sweeps"] == b]
                lo, hi = r["wilson_95"]
                cells.append(f"{r['hit_probability']:.2f} [{lo:.2f}, {hi:.2f}]")
            print(f"| {LABEL[algorithm]} ({REPLICAS[algorithm]}) | " + " | ".join(cells) + " |")
        print()
    print(f"{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
