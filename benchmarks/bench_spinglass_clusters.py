"""The speed-up of cluster moves in parallel tempering of Edwards-Anderson +-J spin glasses.

Two cases of issue 15, each on a few disorder instances, each instance run twice in one
process (interleaved, the same ladder, the same seed): two-replica parallel tempering
(:func:`thermolearn.spinglass.tempering_with_houdayer`) with and without cluster moves.

- 2D, L = 32 (periodic), T_min = 0.2: Houdayer moves (Houdayer 2001) at every temperature;
- 3D, L = 8 (periodic), T_min = 0.5: isoenergetic cluster moves (Zhu, Ochoa, Katzgraber
  2015): the same move, only at temperatures T <= ``--icm-below`` (default 1.0, below
  T_c ~ 1.1); above it the clusters fill the lattice and the move only costs time. (The move
  grows its cluster in the smaller of the sets q_i = -1 and q_i = +1, which keeps clusters below
  half the lattice; see :mod:`thermolearn.spinglass.houdayer`.)

Time to equilibrate (the operational definition used here). Each run is recorded sweep by
sweep (M = 2^p sweeps without cluster moves, M / 2 with them); for each prefix of n sweeps
(n = 256 x 2^(j/2), a factor sqrt 2 apart, and the whole run), with windows A = [n/4, n/2) and
B = [n/2, n) of the energy per spin at the lowest temperature (mean of the two replicas):
  (1) the logarithmic-binning test passes: A and B agree within 3 autocorrelation-aware errors
      (:func:`thermolearn.spinglass.equilibration_check`), and
  (2) the energy of window B equals the reference energy within 3 errors, the reference being
      the lower of the two runs' second-half mean energies (both runs start from random states,
      so the one further from equilibrium is the higher).
The run has equilibrated at the smallest n where (1) and (2) hold and (2) holds at every longer
prefix. Its time is n times the measured seconds per sweep of that run (cluster moves cost time
too). The speed-up is t(without) / t(with) per instance; where the run without cluster moves
never equilibrates within M sweeps the ratio is a lower bound, the whole run's seconds over
t(with) (written ">"). The same window test on q^2 is recorded (``q2_windows_agree``) but not
required: at T = 0.2 in 2D the replicas wander among degenerate ground states, which changes q
slowly, and the Houdayer move leaves q unchanged by construction.

    .venv/bin/python benchmarks/bench_spinglass_clusters.py            # both cases, 4 instances each, about 10 min
    .venv/bin/python benchmarks/bench_spinglass_clusters.py --quick    # L = 24 (2D), L = 6 (3D), ~1 min

Results (atomically) in benchmarks/results/spinglass_clusters.json (``--quick``:
spinglass_clusters_quick.json); the markdown table is printed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numba
import numpy as np

import thermolearn
from thermolearn.estimators.autocorrelation import error_of_mean
from thermolearn.spinglass import edwards_anderson_instance, equilibration_check, tempering_with_houdayer
from thermolearn.storage import write_json_atomic

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
Z_MAX = 3.0
MIN_WINDOW_SWEEPS = 256  # the shortest prefix tested (windows of 64 and 128): shorter ones pass by chance


def case_setup(dim: int, quick: bool, args) -> dict[str, Any]:
    """Lattice side, ladder, cluster-move mask and sweeps of one case."""
    if dim == 2:
        L = 24 if quick else 32
        t_min, t_max, k = 0.2, 1.6, (16 if quick else 24)
        power = 13 if quick else args.max_power_2d
    else:
        L = 6 if quick else 8
        t_min, t_max, k = 0.5, 2.0, (12 if quick else 16)
        power = 12 if quick else args.max_power_3d
    temps = np.geomspace(t_min, t_max, k)
    mask = np.ones(k, dtype=bool) if dim == 2 else temps <= args.icm_below
    # the run with cluster moves is half as long: it equilibrates far sooner (and costs more a sweep)
    sweeps = {"with": 2 ** (power - 1), "without": 2**power}
    return {"L": L, "dim": dim, "temperatures": temps, "mask": mask, "sweeps": sweeps}


def prefix_lengths(total: int) -> list[int]:
    """Prefix lengths MIN_WINDOW_SWEEPS x 2^(j/2) (a factor sqrt 2 apart) up to ``total``."""
    out = []
    j = 0
    while (n := int(round(MIN_WINDOW_SWEEPS * 2 ** (j / 2)))) <= total:
        out.append(n)
        j += 1
    if out and out[-1] != total:
        out.append(total)
    return out


def prefix_tests(e: np.ndarray, q2: np.ndarray, reference: tuple[float, float]) -> list[dict[str, Any]]:
    """Conditions (1) and (2) at every prefix length of :func:`prefix_lengths`."""
    out = []
    for n in prefix_lengths(e.size):
        with warnings.catch_warnings():
            # short early windows warn that their error bars may be too small: those prefixes are
            # the ones condition (2) and "from n on, at every larger n" are there to catch
            warnings.simplefilter("ignore", RuntimeWarning)
            ce = equilibration_check(e[:n], Z_MAX)
            cq = equilibration_check(q2[:n], Z_MAX)
            b = e[n // 2 : n]
            err_b = error_of_mean(b) if np.ptp(b) > 0 else 0.0
        err = math.hypot(err_b, reference[1])
        diff = abs(float(b.mean()) - reference[0])
        if err > 0:
            z_ref = diff / err
        else:  # both constant (the ground state at T = 0.2): equal up to rounding, or not at all
            z_ref = 0.0 if diff <= 1e-9 else math.inf
        out.append(
            {
                "sweeps": n,
                "energy_windows_agree": ce.equilibrated,
                "q2_windows_agree": cq.equilibrated,
                "energy": float(b.mean()),
                "energy_error": float(err_b),
                "z_to_reference": float(z_ref) if math.isfinite(z_ref) else None,
                "passes": bool(ce.equilibrated and z_ref <= Z_MAX),
            }
        )
    return out


def equilibrated_at(tests: list[dict[str, Any]]) -> int | None:
    """The smallest n where (1) and (2) pass and (2) holds at every longer prefix, or None."""
    for k, t in enumerate(tests):
        if t["passes"] and all(u["z_to_reference"] is not None and u["z_to_reference"] <= Z_MAX for u in tests[k:]):
            return int(t["sweeps"])
    return None


def run_instance(setup: dict[str, Any], seed: int) -> dict[str, Any]:
    shape = (setup["L"],) * setup["dim"]
    model = edwards_anderson_instance(shape, "pm", seed)
    n = model.n_spins
    runs = {}
    for name, mask in (("with", setup["mask"]), ("without", False)):
        start = time.perf_counter()
        run = tempering_with_houdayer(model, setup["temperatures"], setup["sweeps"][name], houdayer=mask, seed=seed)
        seconds = time.perf_counter() - start
        runs[name] = (run, seconds)
    series = {
        name: (run.energies[:, 0, :].mean(axis=1) / n, run.overlaps[:, 0] ** 2) for name, (run, _) in runs.items()
    }

    def half_mean(e: np.ndarray) -> tuple[float, float]:
        h = e[e.size // 2 :]
        return float(h.mean()), float(error_of_mean(h)) if np.ptp(h) > 0 else 0.0

    # the reference: the lower of the two runs' second-half energies (both start hot, so the one
    # further from equilibrium is the higher)
    finals = {name: half_mean(series[name][0]) for name in runs}
    reference_from = min(finals, key=lambda name: finals[name][0])
    reference = finals[reference_from]
    out: dict[str, Any] = {
        "seed": seed,
        "n_spins": n,
        "reference_energy_per_spin": list(reference),
        "reference_from": reference_from,
    }
    for name, (run, seconds) in runs.items():
        tests = prefix_tests(*series[name], reference)
        at = equilibrated_at(tests)
        per_sweep = seconds / setup["sweeps"][name]
        out[name] = {
            "seconds": seconds,
            "seconds_per_sweep": per_sweep,
            "equilibrated_at_sweeps": at,
            "time_to_equilibrate_s": None if at is None else at * per_sweep,
            "final_energy_per_spin": half_mean(series[name][0]),
            "exchange_acceptance_min": float(run.exchange_acceptance.min()),
            "mean_cluster_size_at_t_min": float(run.mean_cluster_size[0]),
            "tests": tests,
        }
    w, wo = out["with"], out["without"]
    if w["time_to_equilibrate_s"] is None:
        out["speedup"], out["speedup_kind"] = None, "with cluster moves not equilibrated either"
    elif wo["time_to_equilibrate_s"] is None:
        out["speedup"], out["speedup_kind"] = wo["seconds"] / w["time_to_equilibrate_s"], "lower bound"
    else:
        out["speedup"], out["speedup_kind"] = wo["time_to_equilibrate_s"] / w["time_to_equilibrate_s"], "ratio"
    return out


def fmt_speedup(r: dict[str, Any]) -> str:
    if r["speedup"] is None:
        return "n/a"
    return (">" if r["speedup_kind"] == "lower bound" else "") + f"{r['speedup']:.1f}"


def fmt_eq(m: dict[str, Any], sweeps: int) -> str:
    if m["equilibrated_at_sweeps"] is None:
        return f"> {sweeps} sweeps (> {m['seconds']:.1f} s)"
    return f"{m['equilibrated_at_sweeps']} sweeps ({m['time_to_equilibrate_s']:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2D L = 24, 3D L = 6, 2 instances, short runs")
    parser.add_argument("--instances", type=int, default=None, help="disorder instances per case (default 4)")
    parser.add_argument("--cases", default="2d,3d", help="2d, 3d or both")
    parser.add_argument("--icm-below", type=float, default=1.0, help="3D: cluster moves at T <= this")
    parser.add_argument(
        "--max-power-2d", type=int, default=15, help="2D: 2^p sweeps without cluster moves, 2^(p-1) with (default 15)"
    )
    parser.add_argument(
        "--max-power-3d", type=int, default=15, help="3D: 2^p sweeps without cluster moves, 2^(p-1) with (default 15)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    instances = args.instances or (2 if args.quick else 4)
    cases = [c.strip().lower() for c in args.cases.split(",")]
    if not set(cases) <= {"2d", "3d"}:
        raise SystemExit(f"--cases: 2d, 3d or both, got {args.cases!r}")
    header = (
        f"thermolearn {thermolearn.__version__}, numpy {np.__version__}, numba {numba.__version__}, "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(header)
    tempering_with_houdayer(edwards_anderson_instance((4, 4), "pm", 0), [0.5, 1.0], 20)  # compile first
    results = []
    rows = []
    for case in cases:
        setup = case_setup(int(case[0]), args.quick, args)
        temps = setup["temperatures"]
        label = f"{setup['dim']}D L={setup['L']}, T={temps[0]:g}"
        print(
            f"{label}: {temps.size} temperatures {temps[0]:g}..{temps[-1]:g} (geometric), cluster moves at "
            f"{int(setup['mask'].sum())} of them (T <= {temps[setup['mask']].max():.3g}), {setup['sweeps']['with']} sweeps "
            f"with them, {setup['sweeps']['without']} without",
            file=sys.stderr,
            flush=True,
        )
        per_instance = []
        for k in range(instances):
            seed = args.seed + k
            r = run_instance(setup, seed)
            per_instance.append(r)
            print(
                f"  instance seed {seed}: with {fmt_eq(r['with'], setup['sweeps']['with'])}, without "
                f"{fmt_eq(r['without'], setup['sweeps']['without'])}, speed-up {fmt_speedup(r)}",
                file=sys.stderr,
                flush=True,
            )
            rows.append(
                [
                    label,
                    str(seed),
                    f"{r['reference_energy_per_spin'][0]:.4f}",
                    fmt_eq(r["with"], setup["sweeps"]["with"]),
                    fmt_eq(r["without"], setup["sweeps"]["without"]),
                    fmt_speedup(r),
                ]
            )
        speedups = [r["speedup"] for r in per_instance if r["speedup"] is not None]
        bound = any(r["speedup_kind"] == "lower bound" for r in per_instance)
        gmean = float(math.exp(np.mean(np.log(speedups)))) if speedups else None
        results.append(
            {
                "case": label,
                "dim": setup["dim"],
                "L": setup["L"],
                "temperatures": temps.tolist(),
                "cluster_moves_at": temps[setup["mask"]].tolist(),
                "sweeps": setup["sweeps"],
                "instances": per_instance,
                "speedup_geometric_mean": gmean,
                "speedup_is_lower_bound": bound,
            }
        )
        if gmean is not None:
            rows.append([label, "geometric mean", "", "", "", (">" if bound else "") + f"{gmean:.1f}"])
    head = ["case", "instance", "e/N reference", "with cluster moves", "without", "speed-up"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print()
    print(table)
    out = args.out or RESULTS / ("spinglass_clusters_quick.json" if args.quick else "spinglass_clusters.json")
    write_json_atomic(
        out,
        {
            "command": " ".join(["benchmarks/bench_spinglass_clusters.py", *sys.argv[1:]]),
            "environment": header,
            "definition": "smallest prefix n where, at the lowest T, E/N windows [n/4,n/2) and [n/2,n) agree (3 errors) "
            "and E/N of [n/2,n) equals the lower of the two runs' second-half means within 3 errors, the latter "
            "also at every longer prefix",
            "cases": results,
            "table": table,
        },
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
