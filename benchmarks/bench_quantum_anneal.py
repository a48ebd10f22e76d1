"""Simulated quantum annealing as an optimiser: thermolearn SQA vs thermolearn SA vs openjij SQASampler.

Equal work: every method makes the same number of single-spin updates per read. SQA with M Trotter
slices and S sweeps updates M N S spins (a sweep visits every spin of every slice); simulated
annealing gets S x M sweeps of N spins; openjij's SQASampler gets num_sweeps = S with trotter = M.

(a) Sherrington-Kirkpatrick N = 1000 (J_ij ~ Normal(0, 1/N); the N -> infinity ground-state energy
    per spin is -0.7633), the same instance for every method.
(b) Max-cut on Gset G1-G10 read from --gset (a folder of G*.txt edge lists and best_known.csv):
    the best and mean cut of the reads against the best known cut.

Energies of every method are recomputed by thermolearn from the returned states (one convention).
Times are wall-clock seconds of one call per instance after a warm-up; openjij is skipped, with a
line saying so, when it is not installed. thermolearn runs its reads on every Numba thread while
openjij's SQASampler uses OpenMP for part of its work (about 1.5 cores of 2 by default): ``--threads 1``
with ``OMP_NUM_THREADS=1`` gives the like-for-like single-core timing.

    .venv/bin/python benchmarks/bench_quantum_anneal.py --gset /work/shared/data/gset           # full run
    .venv/bin/python benchmarks/bench_quantum_anneal.py --gset /work/shared/data/gset --quick   # smoke test
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from pathlib import Path

import numba
import numpy as np

import thermolearn
from thermolearn import Ising, MaxCut
from thermolearn.quantum.quantum_annealing import (
    default_gamma_range,
    default_temperature,
    simulated_quantum_annealing,
)
from thermolearn.samplers.annealing import anneal


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def have_openjij() -> bool:
    try:
        import openjij  # noqa: F401
    except ImportError:
        return False
    return True


def run_sqa(model: Ising, sweeps: int, reads: int, slices: int, seed: int) -> tuple[np.ndarray, float]:
    result, seconds = timed(lambda: simulated_quantum_annealing(model, sweeps, reads, slices=slices, seed=seed))
    return result.energies, seconds


def run_sa(model: Ising, sweeps: int, reads: int, seed: int) -> tuple[np.ndarray, float]:
    result, seconds = timed(lambda: anneal(model, sweeps, reads, seed=seed))
    return result.energies, seconds


def run_openjij_sqa(model: Ising, sweeps: int, reads: int, slices: int) -> tuple[np.ndarray, float]:
    import openjij as oj

    bqm = model.to_bqm()
    sampler = oj.SQASampler()
    # openjij's schedule: H(s) = s H_problem + Gamma (1 - s) H_driver, s from 0 to 1 at fixed beta;
    # beta and Gamma scaled like ours (the driver starts well above the local fields; each slice's
    # classical energy enters with beta / M on both sides, so beta = 1 / thermolearn's T). Without
    # beta, openjij uses its fixed default beta = 5 whatever the problem's energy scale.
    gamma = default_gamma_range(model)[0]
    beta = 1.0 / default_temperature(model, slices)
    response, seconds = timed(
        lambda: sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, trotter=slices, gamma=gamma, beta=beta)
    )
    order = list(response.variables)
    states = np.asarray(response.record.sample, dtype=np.int8)[:, np.argsort(order)]
    return np.asarray(model.energy(states), dtype=float), seconds


def summary(name: str, energies: np.ndarray, seconds: float, scale: float = 1.0) -> list[str]:
    return [name, f"{energies.min() / scale:.5f}", f"{energies.mean() / scale:.5f}", f"{seconds:.2f}"]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))


def bench_sk(n: int, sweeps: int, reads: int, slices: int, seed: int, openjij: bool) -> None:
    model = Ising.sherrington_kirkpatrick(n, seed=seed)
    print(f"\n(a) SK N = {n}: {reads} reads, SQA {sweeps} sweeps x {slices} slices = SA {sweeps * slices} sweeps")
    rows = []
    e, t = run_sqa(model, sweeps, reads, slices, seed)
    rows.append(summary("thermolearn SQA", e, t, n))
    e, t = run_sa(model, sweeps * slices, reads, seed)
    rows.append(summary("thermolearn SA", e, t, n))
    if openjij:
        e, t = run_openjij_sqa(model, sweeps, reads, slices)
        rows.append(summary("openjij SQASampler", e, t, n))
    else:
        rows.append(["openjij SQASampler", "skipped: openjij is not installed", "", ""])
    print_table(["method", "best E/N", "mean E/N", "seconds"], rows)


def best_known(folder: Path) -> dict[str, float]:
    path = folder / "best_known.csv"
    if not path.is_file():
        return {}
    with path.open() as handle:
        return {row["instance"]: float(row["best_known"]) for row in csv.DictReader(handle)}


def bench_gset(folder: Path, names: list[str], sweeps: int, reads: int, slices: int, seed: int, openjij: bool) -> None:
    known = best_known(folder)
    print(f"\n(b) Gset max-cut from {folder}: {reads} reads, SQA {sweeps} x {slices} = SA {sweeps * slices} sweeps")
    rows = []
    for name in names:
        path = folder / f"{name}.txt"
        if not path.is_file():
            print(f"{name}: no file {path}, skipped")
            continue
        problem = MaxCut.from_edgelist(path)
        model = problem.model
        results = [("SQA", *run_sqa(model, sweeps, reads, slices, seed))]
        results.append(("SA", *run_sa(model, sweeps * slices, reads, seed)))
        if openjij:
            results.append(("openjij SQA", *run_openjij_sqa(model, sweeps, reads, slices)))
        for method, energies, seconds in results:
            cuts = np.asarray(problem.cut_from_energy(energies), dtype=float)
            best = known.get(name, float("nan"))
            rows.append(
                [name, method, f"{cuts.max():.0f}", f"{cuts.mean():.1f}", f"{best:.0f}", f"{cuts.max() / best:.4f}",
                 f"{seconds:.2f}"]
            )  # fmt: skip
        if not openjij:
            rows.append([name, "openjij SQA", "skipped: openjij is not installed", "", "", "", ""])
    print_table(["instance", "method", "best cut", "mean cut", "best known", "ratio", "seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gset", type=Path, help="folder with the Gset G*.txt files (and best_known.csv)")
    parser.add_argument("--instances", nargs="+", default=[f"G{k}" for k in range(1, 11)], help="Gset names")
    parser.add_argument("--sk", type=int, default=1000, help="SK size (default 1000)")
    parser.add_argument("--sweeps", type=int, default=1000, help="SQA sweeps per read (default 1000)")
    parser.add_argument("--slices", type=int, default=8, help="Trotter slices (default 8)")
    parser.add_argument("--reads", type=int, default=16, help="reads per method (default 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of the script")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="Numba threads for thermolearn (default: all; openjij follows OMP_NUM_THREADS)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        numba.set_num_threads(args.threads)
    if args.quick:
        args.sk, args.sweeps, args.slices, args.reads = 64, 20, 4, 2
        args.instances = args.instances[:1]
    openjij = have_openjij()
    print(
        f"thermolearn {thermolearn.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"thermolearn on {numba.get_num_threads()} Numba threads, openjij on OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset (all cores)')}"
    )
    if not openjij:
        print("openjij is not installed: its column is skipped (pip install openjij to compare)")
    # warm-up: compile the kernels outside the timings
    small = Ising.sherrington_kirkpatrick(16, seed=1)
    run_sqa(small, 5, 2, 2, 0)
    run_sa(small, 5, 2, 0)
    if openjij:
        run_openjij_sqa(small, 5, 2, 2)
    bench_sk(args.sk, args.sweeps, args.reads, args.slices, args.seed, openjij)
    if args.gset is not None:
        bench_gset(args.gset, args.instances, args.sweeps, args.reads, args.slices, args.seed, openjij)
    else:
        print("\n(b) Gset skipped: give --gset FOLDER")


if __name__ == "__main__":
    main()
