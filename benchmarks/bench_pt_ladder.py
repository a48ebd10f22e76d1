"""Where the default parallel-tempering ladder of ``anneal(algorithm='pt')`` should start.

For each problem and each hot-end acceptance a (the hottest replica accepts a typical flip from a
random state with probability a: :func:`thermolearn.samplers.schedules.default_beta_range` with
``hot_acceptance=a``; the cold end is the library's), ``--seeds`` runs of ``anneal(model, sweeps,
reads, algorithm='pt', beta_range=...)`` with 16 replicas per read. Every setting spends the same
sweeps; the table gives the mean energy of all reads with its standard error (lower is better) and
the lowest energy found. The quality of the answer, not its speed, so there is no other package
to compare with: the reference is the same run with another hot end.

    .venv/bin/python benchmarks/bench_pt_ladder.py --gset ../shared/data/gset
    .venv/bin/python benchmarks/bench_pt_ladder.py --gset ../shared/data/gset --sweeps 4000 --seeds 3 \\
        --acceptances 0.5,0.2,0.1 --problems G14,G22,G39,EA2D32

Problems: Gset G1, G14, G22, G39, G43, G48 (max-cut as an Ising model; read from ``--gset``), a
Sherrington-Kirkpatrick glass of 256 spins, +-J Edwards-Anderson glasses 8^3 and 32^2 (fixed seeds).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from thermolearn import Ising, MaxCut
from thermolearn.samplers.annealing import anneal
from thermolearn.samplers.schedules import default_beta_range
from thermolearn.spinglass.ensembles import edwards_anderson_instance
from thermolearn.storage import write_json_atomic

GSET = ("G1", "G14", "G22", "G39", "G43", "G48")


def _gset_model(path: Path) -> Ising:
    return MaxCut.from_edgelist(path).model


def problems(gset: Path | None) -> dict[str, Callable[[], Ising]]:
    """Name -> a function building the model (Gset graphs only where ``gset`` is given)."""
    out: dict[str, Callable[[], Ising]] = {}
    if gset is not None:
        for name in GSET:
            out[name] = partial(_gset_model, gset / f"{name}.txt")
    out["SK256"] = lambda: Ising.sherrington_kirkpatrick(256, seed=3)
    out["EA3D8"] = lambda: edwards_anderson_instance((8, 8, 8), "pm", seed=5)
    out["EA2D32"] = lambda: edwards_anderson_instance((32, 32), "pm", seed=5)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gset", type=Path, default=None, help="folder with G1.txt ... (skipped without it)")
    parser.add_argument("--acceptances", default="0.5,0.3,0.2,0.15,0.1,0.05", help="hot-end acceptances to compare")
    parser.add_argument("--sweeps", type=int, default=1000, help="sweeps per read (every replica each sweep)")
    parser.add_argument("--reads", type=int, default=8, help="reads per run")
    parser.add_argument("--seeds", type=int, default=4, help="runs (seeds) per setting")
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--problems", default=None, help="comma-separated subset of the problems")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here (atomically)")
    args = parser.parse_args()
    accs = [float(a) for a in args.acceptances.split(",")]
    every = problems(args.gset)
    names = args.problems.split(",") if args.problems else list(every)
    unknown = sorted(set(names) - set(every))
    if unknown:
        raise SystemExit(f"unknown problems {unknown}; known: {', '.join(every)} (Gset ones need --gset)")
    print(
        f"mean energy of {args.reads * args.seeds} reads ± standard error (lowest); {args.sweeps} sweeps, 16 replicas"
    )
    print("\n| problem | " + " | ".join(f"a = {a}" for a in accs) + " |")
    print("|---|" + "---:|" * len(accs))
    table: dict[str, dict[str, list[float]]] = {}
    for name in names:
        model = every[name]()
        row: dict[str, list[float]] = {}
        for a in accs:
            beta_range = default_beta_range(model, hot_acceptance=a)
            started = time.perf_counter()
            energies = np.concatenate(
                [
                    anneal(
                        model, args.sweeps, args.reads, algorithm="pt", beta_range=beta_range, seed=args.first_seed + s
                    ).energies
                    for s in range(args.seeds)
                ]
            )
            error = float(energies.std(ddof=1) / np.sqrt(energies.size))
            row[str(a)] = [float(energies.mean()), error, float(energies.min()), time.perf_counter() - started]
        table[name] = row
        print(
            f"| {name} | " + " | ".join(f"{m:.1f} ± {e:.1f} ({low:.1f})" for m, e, low, _ in row.values()) + " |",
            flush=True,
        )
    if args.json is not None:
        write_json_atomic(args.json, {"sweeps": args.sweeps, "reads": args.reads, "seeds": args.seeds, "table": table})


if __name__ == "__main__":
    main()
