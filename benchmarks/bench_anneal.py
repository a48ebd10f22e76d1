"""Simulated annealing: thermolearn against dwave-samplers and openjij, same sweeps, same reads.

(a) Sherrington-Kirkpatrick N = 1000 (J_ij ~ Normal(0, 1/N), zero field; the N -> infinity
    ground-state energy per spin is -0.7633): 1000 sweeps x 32 reads. Each library runs with
    its own default beta range and again with thermolearn's, so both the out-of-the-box
    result and the speed at an identical schedule are compared.
(b) Max-cut on Gset G1-G10 (800 nodes, 19176 edges): each library's default schedule, the
    same number of sweeps and reads; the cut reached against the best known cut.

Times are wall-clock seconds of one sampling call (models converted beforehand); each
library is warmed up first. thermolearn runs its reads on all Numba threads and, for a
like-for-like row, on one thread (dwave-samplers' annealer is single-threaded).

    .venv-bench/bin/python benchmarks/bench_anneal.py            # the full run
    .venv-bench/bin/python benchmarks/bench_anneal.py --quick    # fewer sweeps, G1-G3
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
from thermolearn.samplers.annealing import anneal
from thermolearn.samplers.schedules import default_beta_range

GSET = Path("/work/shared/data/gset")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_thermolearn(
    model: Ising, sweeps: int, reads: int, seed: int, threads: int | None = None, beta_range=None
) -> tuple[np.ndarray, float]:
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        result, seconds = timed(lambda: anneal(model, sweeps, reads, seed=seed, beta_range=beta_range))
    finally:
        numba.set_num_threads(previous)
    return result.energies, seconds


def run_dwave(bqm, sweeps: int, reads: int, seed: int, beta_range=None) -> tuple[np.ndarray, float, tuple]:
    from dwave.samplers import SimulatedAnnealingSampler

    sampler = SimulatedAnnealingSampler()
    kwargs = dict(num_reads=reads, num_sweeps=sweeps, seed=seed, beta_schedule_type="geometric")
    if beta_range is not None:
        kwargs["beta_range"] = list(beta_range)
    sampleset, seconds = timed(lambda: sampler.sample(bqm, **kwargs))
    used = tuple(float(b) for b in sampleset.info.get("beta_range", beta_range or (np.nan, np.nan)))
    return np.asarray(sampleset.record.energy, dtype=float), seconds, used


def run_openjij(bqm, sweeps: int, reads: int, seed: int, beta_range=None, sparse: bool = True):
    import openjij as oj

    sampler = oj.SASampler()
    # openjij with a seed starts every read from the same state with the same random numbers
    # (identical reads), so its reads run unseeded
    kwargs = dict(num_reads=reads, num_sweeps=sweeps, seed=None, sparse=sparse)
    if beta_range is not None:
        kwargs["beta_min"], kwargs["beta_max"] = beta_range
    response, seconds = timed(lambda: sampler.sample(bqm, **kwargs))
    info = response.info.get("schedule", {})
    used = (float(info.get("beta_min", np.nan)), float(info.get("beta_max", np.nan)))
    return np.asarray(response.energies, dtype=float), seconds, used


def table(header: list[str], rows: list[list]) -> str:
    def fmt(x):
        return f"{x:.4f}" if isinstance(x, float) else str(x)

    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) for k, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    return "\n".join(lines)


def bench_sk(n: int, sweeps: int, reads: int, seed: int) -> None:
    model = Ising.sherrington_kirkpatrick(n, seed=seed)
    bqm = model.to_bqm()
    ours = default_beta_range(model)
    print(
        f"\n(a) SK N={n} (seed {seed}), {sweeps} sweeps x {reads} reads; thermolearn's beta range "
        f"{ours[0]:.4g} -> {ours[1]:.4g}"
    )
    small = Ising.sherrington_kirkpatrick(50, seed=0)  # warm-ups: compile / load every kernel
    anneal(small, 5, 2)
    run_dwave(small.to_bqm(), 5, 2, 0)
    run_openjij(small.to_bqm(), 5, 2, 0)
    # fixed cost of one call (model conversion, schedule, result): the same call with 1 sweep and 1 read
    setup = {
        "thermolearn": run_thermolearn(model, 1, 1, seed)[1],
        "dwave": run_dwave(bqm, 1, 1, seed)[1],
        "openjij": run_openjij(bqm, 1, 1, seed, sparse=False)[1],
    }
    runs = []
    e, t = run_thermolearn(model, sweeps, reads, seed)
    runs.append((f"thermolearn ({numba.get_num_threads()} threads)", "auto", ours, e, t))
    e, t = run_thermolearn(model, sweeps, reads, seed, threads=1)
    runs.append(("thermolearn (1 thread)", "auto", ours, e, t))
    e, t, used = run_dwave(bqm, sweeps, reads, seed)
    runs.append(("dwave-samplers SA", "its default", used, e, t))
    e, t, used = run_dwave(bqm, sweeps, reads, seed, beta_range=ours)
    runs.append(("dwave-samplers SA", "thermolearn's", used, e, t))
    e, t, used = run_openjij(bqm, sweeps, reads, seed, sparse=False)
    runs.append(("openjij SASampler (dense)", "its default", used, e, t))
    e, t, used = run_openjij(bqm, sweeps, reads, seed, beta_range=ours, sparse=False)
    runs.append(("openjij SASampler (dense)", "thermolearn's", used, e, t))
    t_ref = runs[1][4]
    rows = []
    for name, which, used, energies, seconds in runs:
        fixed = setup[name.split()[0].replace("dwave-samplers", "dwave")]
        rows.append(
            [
                name,
                which,
                f"{used[0]:.3g} -> {used[1]:.3g}",
                float(energies.mean() / n),
                float(energies.min() / n),
                float(seconds),
                float(fixed),
                f"{seconds / t_ref:.2f}",
                f"{(seconds - fixed) / (t_ref - setup['thermolearn']):.2f}",
            ]
        )
    print(
        table(
            [
                "sampler",
                "beta range",
                "beta",
                "mean e/N",
                "best e/N",
                "seconds",
                "setup s",
                "time / tl (1 thr)",
                "minus setup, ratio",
            ],
            rows,
        )
    )
    print("setup s: the same call with 1 sweep and 1 read (conversion of the model, schedule, result)")


def best_known() -> dict[str, float]:
    path = GSET / "best_known.csv"
    if not path.exists():
        return {}
    with path.open() as handle:
        return {row["instance"]: float(row["best_known"]) for row in csv.DictReader(handle)}


def bench_gset(instances: list[str], sweeps: int, reads: int, seed: int) -> None:
    known = best_known()
    print(
        f"\n(b) max-cut on Gset {instances[0]}-{instances[-1]}, {sweeps} sweeps x {reads} reads, each "
        f"sampler's default beta range (best-known cuts from {GSET / 'best_known.csv'})"
    )
    rows = []
    totals = {"tl": 0.0, "tl1": 0.0, "dw": 0.0}
    for name in instances:
        path = GSET / f"{name}.txt"
        if not path.exists():
            print(f"  {name}: {path} missing, skipped")
            continue
        problem = MaxCut.from_edgelist(path)
        bqm = problem.model.to_bqm()
        e_tl, t_tl = run_thermolearn(problem.model, sweeps, reads, seed)
        e_tl1, t_tl1 = run_thermolearn(problem.model, sweeps, reads, seed, threads=1)
        e_dw, t_dw, _ = run_dwave(bqm, sweeps, reads, seed)
        cut_tl, cut_dw = problem.cut_from_energy(e_tl), problem.cut_from_energy(e_dw)
        ref = known.get(name, float("nan"))
        totals["tl"] += t_tl
        totals["tl1"] += t_tl1
        totals["dw"] += t_dw
        rows.append(
            [
                name,
                f"{ref:.0f}",
                f"{cut_tl.max():.0f}",
                f"{cut_tl.mean():.1f}",
                f"{100 * (1 - cut_tl.max() / ref):.2f}%",
                f"{cut_dw.max():.0f}",
                f"{cut_dw.mean():.1f}",
                f"{100 * (1 - cut_dw.max() / ref):.2f}%",
                float(t_tl),
                float(t_tl1),
                float(t_dw),
                f"{t_dw / t_tl1:.2f}",
            ]
        )
    print(
        table(
            [
                "graph",
                "best known",
                "tl best",
                "tl mean",
                "tl gap",
                "dwave best",
                "dwave mean",
                "dwave gap",
                f"tl s ({numba.get_num_threads()} thr)",
                "tl s (1 thr)",
                "dwave s",
                "dwave / tl (1 thr)",
            ],
            rows,
        )
    )
    if totals["tl"]:
        print(
            f"total seconds: thermolearn {totals['tl']:.2f} ({numba.get_num_threads()} threads), "
            f"{totals['tl1']:.2f} (1 thread); dwave-samplers {totals['dw']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 sweeps, 8 reads, G1-G3")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import dwave.samplers
    import openjij

    print(
        f"thermolearn {thermolearn.__version__}, dwave-samplers {dwave.samplers.__version__}, "
        f"openjij {getattr(openjij, '__version__', '?')}, numpy {np.__version__}, numba {numba.__version__}, "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs ({numba.get_num_threads()} Numba threads), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if args.quick:
        bench_sk(1000, 100, 8, args.seed)
        bench_gset([f"G{k}" for k in range(1, 4)], 100, 8, args.seed)
    else:
        bench_sk(1000, 1000, 32, args.seed)
        bench_gset([f"G{k}" for k in range(1, 11)], 1000, 32, args.seed)


if __name__ == "__main__":
    main()
