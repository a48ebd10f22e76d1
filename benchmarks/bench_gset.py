"""Max-cut on the whole Gset (G1-G54): thermolearn SA, PT, population annealing and (on the 2D
grids) PT with Houdayer moves against dwave-samplers' simulated annealing at equal sweeps, and the
time each needs to reach thermolearn's best cut.

Every method spends the same number of single-spin sweeps on a graph (``reads x sweeps``):

- SA: ``anneal(model, sweeps, reads)``, geometric schedule over ``--beta-range`` (default: the
  library's :func:`default_beta_range`), a zero-temperature quench at the end of every read;
- PT: ``anneal(..., algorithm='pt')``, ``--pt-temperatures`` K = 16 replicas per read on a
  geometric ladder from ``default_beta_range(hot_acceptance=0.1)`` (a colder hot end than SA's)
  to the same cold end, ``reads / K`` reads of ``sweeps`` sweeps, or with fewer reads than K one
  read of ``reads x sweeps / K`` sweeps (each read reports the lowest state it saw, quenched);
- PA: population annealing (Machta; Wang, Machta, Katzgraber 2015), one population of
  ``4 reads`` replicas annealed in ``sweeps / 4`` geometric steps of beta between the same ends
  with one Metropolis sweep per step and resampling between steps; its lowest state is quenched;
- PT+H (the toroidal graphs G11-G13, G32-G34, G48-G50 only, 2D grids): two-replica parallel
  tempering with Houdayer cluster moves (:func:`thermolearn.spinglass.tempering_with_houdayer`),
  16 temperatures 0.3..1.5 (geometric; the weights are +-1), ``reads x sweeps / 32`` sweeps of
  all 32 replicas; the best cut is that of the lowest energy any replica reached (the energies
  are tracked exactly: integer weights; its "mean" is over the two coldest replicas' final
  states). On the other graphs (degree 6-48) the clusters of
  disagreeing sites fill the graph and the move is a costly near-global flip, so it is not run;
- dwave-samplers ``SimulatedAnnealingSampler``: its own default beta range, geometric schedule,
  ``reads`` reads of ``sweeps`` sweeps.

Time to target: the target is thermolearn's best cut on the graph (the best of SA, PT, PA, PT+H).
Both sides get the same search, with the same reads: from the budget's sweeps, halve the sweeps
while the best cut still reaches the target, or (dwave-samplers only, where it fell short) double
them up to ``--ttt-cap`` times the budget; the time to target is the time of the shortest run
that reached it (thermolearn: the fastest of its methods that reached it at the budget). ">"
marks a lower bound: dwave-samplers did not reach the target at the cap.

Times are wall-clock seconds of one sampling call, the model already built and every kernel
compiled (a warm-up run first). thermolearn runs on ``--threads`` Numba threads (default: all);
dwave-samplers' annealer is single-threaded: pass ``--threads 1`` for a like-for-like table.

    .venv-bench/bin/python benchmarks/bench_gset.py                    # G1-G54, 2000 x 8, ~15 min
    .venv-bench/bin/python benchmarks/bench_gset.py --sweeps 4000 --reads 16 --ttt-cap 4   # ~40 min
    .venv-bench/bin/python benchmarks/bench_gset.py --quick            # 6 graphs, smaller budget
    .venv-bench/bin/python benchmarks/bench_gset.py --graphs G11-G13,G48 --sweeps 8000

Results go (atomically) to benchmarks/results/gset.json (``--quick``: gset_quick.json); the
markdown table is printed.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

import thermolearn
from thermolearn import MaxCut
from thermolearn.samplers.annealing import anneal
from thermolearn.samplers.schedules import default_beta_range, geometric_schedule
from thermolearn.spinglass.houdayer import tempering_with_houdayer
from thermolearn.spinglass.population_annealing import anneal_population
from thermolearn.storage import write_json_atomic

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GSET = ROOT.parent / "shared" / "data" / "gset"
RESULTS = ROOT / "benchmarks" / "results"
TARGET_GAP = 0.3  # percent: the target is every graph within 0.3% of the best-known cut
QUICK_GRAPHS = "G1,G11,G14,G22,G32,G43"
PTH_K = 16  # PT with Houdayer moves: 16 temperatures, two replicas each
PTH_TEMPERATURES = (0.3, 1.5)  # for +-1 weights on degree-4 grids: T = 0.3 is frozen, 1.5 mixes
HOT_ACCEPTANCE = 0.5  # SA and PA start where a typical flip is accepted half the time (the library's default)
# PT's hottest replica: a typical flip accepted a tenth of the time. With 16 replicas for the whole
# budget, a ladder that starts as hot as SA spends most replicas where nothing is decided (on
# G14, G22, G39 the narrower ladder found cuts 0.2-1% higher at 3000 sweeps)
PT_HOT_ACCEPTANCE = 0.1
QUENCH_BETA = 50.0  # one Metropolis sweep this cold accepts only flips with Delta E <= 0


def parse_graphs(spec: str) -> list[str]:
    """'G1-G54' or 'G1,G5,G11-G13' -> ['G1', ...]."""
    names: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"G(\d+)(?:-G?(\d+))?", part)
        if m is None:
            raise SystemExit(f"--graphs: {part!r} is not a graph name like G1 or a range like G1-G54")
        a = int(m.group(1))
        b = int(m.group(2) or a)
        if b < a:
            raise SystemExit(f"--graphs: the range {part!r} runs backwards")
        names += [f"G{k}" for k in range(a, b + 1)]
    return names


def read_known(gset: Path) -> dict[str, dict[str, str]]:
    path = gset / "best_known.csv"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --gset DIR, the folder with G1.txt ... and best_known.csv")
    with path.open() as handle:
        return {row["instance"]: row for row in csv.DictReader(handle)}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def quench(problem: MaxCut, state: np.ndarray, seed: int) -> float:
    """The cut of ``state`` after one very cold sweep and the zero-temperature quench."""
    res = anneal(problem.model, 1, 1, schedule=np.array([QUENCH_BETA]), initial=state[None, :], seed=seed)
    return float(problem.cut_from_energy(res.best_energy))


def run_sa(problem: MaxCut, sweeps: int, reads: int, beta_range, seed: int) -> tuple[np.ndarray, float]:
    res, seconds = timed(lambda: anneal(problem.model, sweeps, reads, beta_range=beta_range, seed=seed))
    return np.asarray(problem.cut_from_energy(res.energies)), seconds


def pt_budget(sweeps: int, reads: int, k: int) -> tuple[int, int]:
    """PT reads and sweeps per replica with K replicas a read and the same total sweeps as SA
    (``reads x sweeps``): reads / K reads, or one read of fewer sweeps when reads < K."""
    if reads >= k:
        return reads // k, sweeps
    return 1, max(1, sweeps * reads // k)


def run_pt(problem: MaxCut, sweeps: int, reads: int, beta_range, k: int, seed: int) -> tuple[np.ndarray, float]:
    pt_reads, pt_sweeps = pt_budget(sweeps, reads, k)
    res, seconds = timed(
        lambda: anneal(
            problem.model, pt_sweeps, pt_reads, beta_range=beta_range, algorithm="pt", temperatures=k, seed=seed
        )
    )
    return np.asarray(problem.cut_from_energy(res.energies)), seconds


def run_pa(problem: MaxCut, sweeps: int, reads: int, beta_range, seed: int) -> tuple[np.ndarray, float]:
    population = 4 * reads
    steps = max(2, sweeps // 4)  # population x steps x 1 sweep = reads x sweeps

    def go():
        betas = geometric_schedule(beta_range[0], beta_range[1], steps)
        run, final = anneal_population(problem.model, betas, population, 1, np.random.SeedSequence(seed))
        best = quench(problem, run.min_state, seed)
        finals = np.asarray(problem.cut_value(final), dtype=float)
        return np.append(finals, best)

    cuts, seconds = timed(go)
    return cuts, seconds


def run_pt_houdayer(problem: MaxCut, sweeps: int, reads: int, seed: int) -> tuple[np.ndarray, float]:
    temps = np.geomspace(PTH_TEMPERATURES[0], PTH_TEMPERATURES[1], PTH_K)
    n_sweeps = max(1, sweeps * reads // (2 * PTH_K))  # 2 K replicas: the same total sweeps as SA
    res, seconds = timed(lambda: tempering_with_houdayer(problem.model, temps, n_sweeps, houdayer=True, seed=seed))
    # the two coldest replicas' final cuts (the "mean" column) and the lowest energy of the run
    finals = np.asarray(problem.cut_from_energy(res.energies[-1, 0]), dtype=float)
    return np.append(finals, problem.cut_from_energy(res.energies.min())), seconds


def run_dwave(bqm, problem: MaxCut, sweeps: int, reads: int, seed: int) -> tuple[np.ndarray, float]:
    from dwave.samplers import SimulatedAnnealingSampler

    sampler = SimulatedAnnealingSampler()
    sampleset, seconds = timed(
        lambda: sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, seed=seed, beta_schedule_type="geometric")
    )
    return np.asarray(problem.cut_from_energy(np.asarray(sampleset.record.energy, dtype=float))), seconds


def time_to_target(
    run: Callable[[int], tuple[float, float]], target: float, sweeps: int, first: tuple[float, float], cap: float
) -> dict[str, Any]:
    """The shortest run (sweeps halved from ``sweeps`` while the target is still reached, or doubled
    up to ``cap`` times ``sweeps`` until it is) whose best cut reaches ``target``. ``run(sweeps)``
    gives (best cut, seconds); ``first`` is that of the run at ``sweeps``, already made."""
    tries = [{"sweeps": sweeps, "best": first[0], "seconds": first[1]}]
    s = sweeps
    if first[0] >= target:
        while s // 2 >= 16:
            s //= 2
            best, t = run(s)
            tries.append({"sweeps": s, "best": best, "seconds": t})
            if best < target:
                break
    else:
        while 2 * s <= cap * sweeps:
            s *= 2
            best, t = run(s)
            tries.append({"sweeps": s, "best": best, "seconds": t})
            if best >= target:
                break
    hits = [t for t in tries if t["best"] >= target]
    if hits:
        best_try = min(hits, key=lambda t: t["sweeps"])
        return {"reached": True, "sweeps": best_try["sweeps"], "seconds": best_try["seconds"], "tries": tries}
    longest = max(tries, key=lambda t: t["sweeps"])
    return {"reached": False, "sweeps": longest["sweeps"], "seconds": longest["seconds"], "tries": tries}


def summary(cuts: np.ndarray, seconds: float, known: float) -> dict[str, Any]:
    best = float(cuts.max())
    return {
        "best": best,
        "mean": float(cuts.mean()),
        "seconds": float(seconds),
        "gap_percent": 100.0 * (1.0 - best / known),
        "hit_best_known": bool(best >= known),
    }


def bench_graph(name: str, row: dict[str, str], gset: Path, args) -> dict[str, Any]:
    problem = MaxCut.from_edgelist(gset / f"{name}.txt")
    known = float(row["best_known"])
    if args.beta_range is not None:
        beta_range = tuple(args.beta_range)
    else:
        beta_range = default_beta_range(problem.model, hot_acceptance=args.hot_acceptance)
    seed = args.seed
    out: dict[str, Any] = {
        "graph": name,
        "n": problem.model.n_spins,
        "edges": int(row["m"]),
        "type": row["type"],
        "weights": row["weights"],
        "best_known": known,
        "beta_range": [float(b) for b in beta_range],
    }
    methods: dict[str, Any] = {}
    pt_range = (
        beta_range
        if args.beta_range is not None
        else default_beta_range(problem.model, hot_acceptance=args.pt_hot_acceptance)
    )
    every: dict[str, Callable[[int], tuple[np.ndarray, float]]] = {
        "sa": lambda s: run_sa(problem, s, args.reads, beta_range, seed),
        "pt": lambda s: run_pt(problem, s, args.reads, pt_range, args.pt_temperatures, seed),
        "pa": lambda s: run_pa(problem, s, args.reads, beta_range, seed),
        "pth": lambda s: run_pt_houdayer(problem, s, args.reads, seed),
    }
    # PT with Houdayer moves only where its clusters do not percolate: the degree-4 toroidal grids
    runners = {k: every[k] for k in args.methods if k != "pth" or row["type"] == "toroidal"}
    for key, runner in runners.items():
        cuts, t = runner(args.sweeps)
        methods[key] = summary(cuts, t, known)
    target = max(m["best"] for m in methods.values())
    reaching = [k for k, m in methods.items() if m["best"] >= target]
    fastest = min(reaching, key=lambda k: methods[k]["seconds"])
    out["thermolearn"] = methods

    def best_of(runner: Callable[[int], tuple[np.ndarray, float]]) -> Callable[[int], tuple[float, float]]:
        def go(s: int) -> tuple[float, float]:
            cuts, t = runner(s)
            return float(cuts.max()), t

        return go

    # thermolearn's own time to its best: its fastest method at the budget, then fewer sweeps while
    # that still reaches the target (the same search as dwave-samplers gets)
    tl = time_to_target(
        best_of(runners[fastest]), target, args.sweeps, (target, methods[fastest]["seconds"]), args.ttt_cap
    )
    out["target"] = {"cut": target, "method": fastest, **tl}
    if not args.no_dwave:
        bqm = problem.model.to_bqm()
        cuts, t = run_dwave(bqm, problem, args.sweeps, args.reads, seed)
        out["dwave"] = summary(cuts, t, known)
        dw = time_to_target(
            best_of(lambda s: run_dwave(bqm, problem, s, args.reads, seed)),
            target,
            args.sweeps,
            (float(cuts.max()), t),
            args.ttt_cap,
        )
        dw["ratio_to_thermolearn"] = dw["seconds"] / tl["seconds"]
        out["dwave_time_to_target"] = dw
    return out


def fmt_row(r: dict[str, Any], with_dwave: bool) -> list[str]:
    def cell(m: dict[str, Any]) -> str:
        mark = "**" if m["hit_best_known"] else ""
        return f"{mark}{m['best']:.0f}{mark} / {m['mean']:.1f} ({m['seconds']:.2f} s)"

    tl = r["thermolearn"]
    best_gap = min(m["gap_percent"] for m in tl.values())
    cells = [r["graph"], r["type"], f"{r['best_known']:.0f}"]
    cells += [cell(tl[k]) if k in tl else "-" for k in ("sa", "pt", "pa", "pth")]
    cells.append(f"{best_gap:.2f}%")
    if with_dwave:
        cells.append(cell(r["dwave"]))
        ttt = r["dwave_time_to_target"]
        bound = "" if ttt["reached"] else ">"
        tgt = r["target"]
        cells.append(
            f"{tgt['cut']:.0f}: {tgt['seconds']:.2f} s ({tgt['method'].upper()}, {tgt['sweeps']} sw) vs "
            f"{bound}{ttt['seconds']:.2f} s ({ttt['sweeps']} sw)"
        )
        cells.append(f"{bound}{ttt['ratio_to_thermolearn']:.2f}")
    return cells


def markdown(rows: list[dict[str, Any]], args, with_dwave: bool) -> str:
    header = ["graph", "type", "best known", "tl SA best / mean (s)", "tl PT", "tl PA", "tl PT+H", "tl gap"]
    if with_dwave:
        header += ["dwave SA best / mean (s)", "time to thermolearn's best: tl vs dwave", "dwave / tl"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt_row(r, with_dwave)) + " |" for r in rows]
    return "\n".join(lines)


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    gaps = [min(m["gap_percent"] for m in r["thermolearn"].values()) for r in rows]
    out: dict[str, Any] = {
        "graphs": len(rows),
        "within_0.3_percent": sum(g <= TARGET_GAP + 1e-12 for g in gaps),
        "best_known_reached": sum(g <= 0.0 for g in gaps),
        "worst_gap_percent": max(gaps) if gaps else None,
        "thermolearn_seconds": sum(sum(m["seconds"] for m in r["thermolearn"].values()) for r in rows),
    }
    for key in ("sa", "pt", "pa", "pth"):
        got = [r["thermolearn"][key] for r in rows if key in r["thermolearn"]]
        if got:
            out[f"{key}_best_known_reached"] = sum(m["hit_best_known"] for m in got)
            out[f"{key}_within_0.3_percent"] = sum(m["gap_percent"] <= TARGET_GAP + 1e-12 for m in got)
    with_dwave = [r for r in rows if "dwave" in r]
    if with_dwave:
        out["dwave_best_known_reached"] = sum(r["dwave"]["hit_best_known"] for r in with_dwave)
        out["dwave_within_0.3_percent"] = sum(r["dwave"]["gap_percent"] <= TARGET_GAP + 1e-12 for r in with_dwave)
        out["dwave_seconds"] = sum(r["dwave"]["seconds"] for r in with_dwave)
        ratios = [r["dwave_time_to_target"]["ratio_to_thermolearn"] for r in with_dwave]
        out["thermolearn_faster_to_target"] = sum(x > 1.0 for x in ratios)
        out["time_to_target_ratio_geometric_mean"] = float(math.exp(np.mean(np.log(ratios))))
        out["dwave_target_not_reached_at_cap"] = sum(not r["dwave_time_to_target"]["reached"] for r in with_dwave)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gset", type=Path, default=DEFAULT_GSET, help="folder with G<k>.txt and best_known.csv")
    parser.add_argument("--graphs", default=None, help="e.g. G1-G54 (the default) or G1,G5,G11-G13")
    parser.add_argument("--quick", action="store_true", help=f"graphs {QUICK_GRAPHS}, 1000 sweeps x 8 reads")
    parser.add_argument("--sweeps", type=int, default=None, help="sweeps per read (default 2000; quick 1000)")
    parser.add_argument("--reads", type=int, default=None, help="reads (default 8)")
    parser.add_argument(
        "--beta-range", type=float, nargs=2, default=None, metavar=("HOT", "COLD"), help="overrides --hot-acceptance"
    )
    parser.add_argument(
        "--hot-acceptance",
        type=float,
        default=HOT_ACCEPTANCE,
        help=f"SA, PA: beta_hot where a typical flip is accepted with this probability (default {HOT_ACCEPTANCE})",
    )
    parser.add_argument("--pt-temperatures", type=int, default=16, help="PT ladder size K (default 16)")
    parser.add_argument("--pt-hot-acceptance", type=float, default=PT_HOT_ACCEPTANCE, help="PT's hottest replica")
    parser.add_argument(
        "--ttt-cap", type=float, default=2.0, help="dwave runs at most this many times the sweeps (default 2)"
    )
    parser.add_argument("--threads", type=int, default=None, help="Numba threads for thermolearn (default: all)")
    parser.add_argument("--sa-only", action="store_true", help="thermolearn SA only (same as --methods sa)")
    parser.add_argument(
        "--methods",
        default="sa,pt,pa,pth",
        help="thermolearn methods to run, from sa, pt, pa, pth (PT+Houdayer, toroidal graphs only); default all",
    )
    parser.add_argument("--no-dwave", action="store_true", help="thermolearn only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default benchmarks/results/gset.json)")
    args = parser.parse_args()
    # the default budget is what lets G1-G54 run in about 15 minutes on 2 idle cores
    args.sweeps = args.sweeps or (1000 if args.quick else 2000)
    args.reads = args.reads or 8
    args.methods = ["sa"] if args.sa_only else [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(args.methods) - {"sa", "pt", "pa", "pth"})
    if unknown or not args.methods:
        raise SystemExit(f"--methods takes a comma-separated subset of sa, pt, pa, pth; got {unknown or 'none'}")
    if args.sweeps < 8 or args.reads < 1:
        raise SystemExit("--sweeps must be >= 8 and --reads >= 1")
    if args.threads is not None:
        numba.set_num_threads(args.threads)
    names = parse_graphs(args.graphs or (QUICK_GRAPHS if args.quick else "G1-G54"))
    known = read_known(args.gset)
    missing = [g for g in names if g not in known or not (args.gset / f"{g}.txt").exists()]
    if missing:
        raise SystemExit(f"not in {args.gset}: {', '.join(missing)}")
    if args.methods == ["pth"] and any(known[g]["type"] != "toroidal" for g in names):
        raise SystemExit("--methods pth runs only on toroidal graphs: add another method or pick toroidal graphs")
    with_dwave = not args.no_dwave
    versions = f"thermolearn {thermolearn.__version__}"
    if with_dwave:
        import dwave.samplers

        versions += f", dwave-samplers {dwave.samplers.__version__}"
    header = (
        f"{versions}, numpy {np.__version__}, numba {numba.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, thermolearn on {numba.get_num_threads()} Numba threads, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(header)
    print(
        f"budget per graph and method: {args.reads} reads x {args.sweeps} sweeps (PT: {args.pt_temperatures} "
        f"temperatures x {pt_budget(args.sweeps, args.reads, args.pt_temperatures)[0]} reads x "
        f"{pt_budget(args.sweeps, args.reads, args.pt_temperatures)[1]} sweeps; PA: population {4 * args.reads} x "
        f"{max(2, args.sweeps // 4)} steps x 1 sweep); beta range "
        f"{args.beta_range or f'default_beta_range(hot_acceptance={args.hot_acceptance})'}; seed {args.seed}",
        flush=True,
    )
    # compile every kernel (and load dwave-samplers) before anything is timed
    tempering_with_houdayer(MaxCut.from_edgelist(np.array([[1, 2, 1.0], [2, 3, 1.0]])).model, [0.5, 1.0], 4)
    bench_graph(names[0], known[names[0]], args.gset, argparse.Namespace(**{**vars(args), "sweeps": 16, "reads": 8}))
    out = args.out or RESULTS / ("gset_quick.json" if args.quick else "gset.json")
    settings = {
        "command": " ".join(["benchmarks/bench_gset.py", *sys.argv[1:]]),
        "environment": header,
        "sweeps": args.sweeps,
        "reads": args.reads,
        "beta_range": args.beta_range or f"default_beta_range(hot_acceptance={args.hot_acceptance})",
        "pt_temperatures": args.pt_temperatures,
        "pt_hot_acceptance": args.pt_hot_acceptance,
        "pa_population": 4 * args.reads,
        "methods": args.methods,
        "ttt_cap": args.ttt_cap,
        "seed": args.seed,
    }
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name in names:
        r = bench_graph(name, known[name], args.gset, args)
        rows.append(r)
        # the graphs done so far, rewritten (atomically) after each: a run stopped part-way keeps them
        write_json_atomic(out, {**settings, "complete": False, "totals": totals(rows), "graphs": rows})
        tl = r["thermolearn"]
        line = f"  {name}: best known {r['best_known']:.0f}; " + ", ".join(
            f"{k} {m['best']:.0f} ({m['seconds']:.1f} s)" for k, m in tl.items()
        )
        if with_dwave:
            ttt = r["dwave_time_to_target"]
            line += (
                f"; dwave {r['dwave']['best']:.0f} ({r['dwave']['seconds']:.1f} s); to {r['target']['cut']:.0f}: "
                f"thermolearn {r['target']['seconds']:.1f} s, dwave {'' if ttt['reached'] else '>'}{ttt['seconds']:.1f} s"
            )
        print(line, f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    table = markdown(rows, args, with_dwave)
    print()
    print(table)
    tot = totals(rows)
    print()
    print(
        f"thermolearn (best of its methods) within {TARGET_GAP}% of the best known on {tot['within_0.3_percent']} of "
        f"{tot['graphs']} graphs (worst gap {tot['worst_gap_percent']:.2f}%), best known reached on "
        f"{tot['best_known_reached']}."
    )
    if with_dwave:
        print(
            f"dwave-samplers at equal sweeps: within {TARGET_GAP}% on {tot['dwave_within_0.3_percent']}, best known on "
            f"{tot['dwave_best_known_reached']}. Time to thermolearn's best: thermolearn faster on "
            f"{tot['thermolearn_faster_to_target']} of {tot['graphs']} (geometric mean dwave / thermolearn "
            f"{tot['time_to_target_ratio_geometric_mean']:.2f}; dwave short of the target at {args.ttt_cap:g}x the "
            f"sweeps on {tot['dwave_target_not_reached_at_cap']})."
        )
    print(f"total wall time {time.perf_counter() - started:.0f} s")
    write_json_atomic(out, {**settings, "complete": True, "totals": tot, "graphs": rows, "table": table})
    print(f"results: {out}")


if __name__ == "__main__":
    main()
