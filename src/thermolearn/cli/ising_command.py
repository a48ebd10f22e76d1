"""``thermolearn ising``: Monte Carlo temperature sweeps of periodic square (or cubic)
lattices, with error bars, exact values where they exist and the Binder-crossing T_c."""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from thermolearn.cli.arguments import check_output_path, parse_temperatures
from thermolearn.cli.table import format_table
from thermolearn.estimators.binder import binder_crossing
from thermolearn.models.ising import Ising
from thermolearn.samplers.registry import SAMPLERS, make_sampler
from thermolearn.samplers.run import sample
from thermolearn.storage import write_json_atomic, write_text_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ising",
        help="Monte Carlo sweep of periodic lattices over temperature, with error bars and exact values",
        description="Samples the periodic L x L (or L^3 with --dim 3) ferromagnet at each temperature, prints "
        "E/N, |m|, C, chi, U4 with error bars and tau_int, the exact values where known (Kaufman, 2D), and the "
        "T_c estimate from the crossing of Binder cumulants of two or more sizes.",
    )
    p.add_argument(
        "--size",
        "-L",
        type=int,
        action="append",
        required=True,
        metavar="L",
        help="lattice side (repeat for several sizes)",
    )
    p.add_argument("--dim", type=int, choices=(2, 3), default=2, help="2 (square, default) or 3 (cubic)")
    p.add_argument(
        "--temperatures",
        "-T",
        nargs="+",
        required=True,
        metavar="T",
        help="temperatures: numbers and/or ranges start:stop:count, e.g. 1.5:3.5:21",
    )
    p.add_argument(
        "--algorithm",
        default="metropolis",
        metavar="NAME",
        help=f"sampler: one of {', '.join(sorted(SAMPLERS))} (default metropolis)",
    )
    p.add_argument("--sweeps", type=int, default=10000, help="measurement sweeps per temperature (default 10000)")
    p.add_argument("--burn-in", type=int, default=1000, help="discarded sweeps first (default 1000)")
    p.add_argument("--chains", type=int, default=1, help="independent chains per temperature (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", metavar="DIR", help="folder of checkpoints: a killed sweep resumes where it stopped")
    p.add_argument("--checkpoint-every", type=int, default=1000, metavar="SWEEPS")
    p.add_argument("--json", metavar="PATH", help="write results as JSON")
    p.add_argument("--csv", metavar="PATH", help="write results as CSV")
    p.add_argument("--plot", metavar="PATH.png", help="plot the curves with the exact lines")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def _estimate(obs, name: str) -> dict:
    return getattr(obs, name).as_dict()


def run(args: argparse.Namespace) -> int:
    temps = np.sort(parse_temperatures(args.temperatures))
    if args.algorithm not in SAMPLERS:
        raise ValueError(f"--algorithm must be one of {', '.join(sorted(SAMPLERS))}, got {args.algorithm!r}")
    for L in args.size:
        if L < 2:
            raise ValueError(f"--size must be >= 2, got {L}")
    for name in ("sweeps", "burn_in", "chains", "checkpoint_every"):
        if getattr(args, name) < (0 if name == "burn_in" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be >= {0 if name == 'burn_in' else 1}")
    check_output_path(args.json, ".json")
    check_output_path(args.csv, ".csv")
    check_output_path(args.plot, ".png")
    folder = None
    if args.checkpoint:
        folder = Path(args.checkpoint)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"--checkpoint must be a folder, got the file {folder}")
        folder.mkdir(parents=True, exist_ok=True)
    sizes = sorted(set(args.size))
    pt = args.algorithm == "pt"
    jobs = [(L, None) for L in sizes] if pt else [(L, float(T)) for L in sizes for T in temps]
    show = not args.no_progress and sys.stderr.isatty()
    records = []
    with tqdm(total=len(jobs), desc=f"ising ({args.algorithm})", disable=not show, file=sys.stderr) as bar:
        for L, T in jobs:
            model = Ising.lattice((L,) * args.dim)
            sampler = make_sampler("pt", temperatures=temps) if pt else make_sampler(args.algorithm)
            ckpt = None
            if folder is not None:
                tag = "pt" if pt else f"T{T:.10g}"
                ckpt = folder / f"ising-d{args.dim}-L{L}-{args.algorithm}-{tag}.npz"
            result = sample(
                model,
                sampler,
                T,
                sweeps=args.sweeps,
                burn_in=args.burn_in,
                n_chains=args.chains,
                seed=args.seed + 1000 * L,
                checkpoint=ckpt,
                checkpoint_every=args.checkpoint_every,
                progress=False,
            )
            for temp, obs in zip(result.temperatures, result.observables):
                exact = None
                if args.dim == 2:
                    from thermolearn.exact.kaufman import kaufman

                    k = kaufman(L, float(temp))
                    exact = {"energy_per_spin": k.energy_per_spin, "specific_heat_per_spin": k.specific_heat_per_spin}
                records.append(
                    {
                        "size": L,
                        "temperature": float(temp),
                        "algorithm": args.algorithm,
                        "energy_per_spin": _estimate(obs, "energy_per_spin"),
                        "abs_magnetization": _estimate(obs, "abs_magnetization"),
                        "specific_heat_per_spin": _estimate(obs, "specific_heat"),
                        "susceptibility_per_spin": _estimate(obs, "susceptibility_abs"),
                        "binder_cumulant": _estimate(obs, "binder_cumulant"),
                        "tau_int": {
                            "energy": float(obs.tau_energy.tau),
                            "abs_magnetization": float(obs.tau_abs_magnetization.tau),
                        },
                        "exact": exact,
                        "reliable": bool(obs.reliable),
                        "acceptance": result.acceptance,
                    }
                )
            bar.update(1)
    crossing = None
    if len(sizes) >= 2:
        cumulants = {}
        for L in sizes:
            rows = [r for r in records if r["size"] == L]
            cumulants[L] = (
                np.array(
                    [r["binder_cumulant"]["mean"] if r["binder_cumulant"]["mean"] is not None else np.nan for r in rows]
                ),
                np.array(
                    [
                        r["binder_cumulant"]["stderr"] if r["binder_cumulant"]["stderr"] is not None else np.nan
                        for r in rows
                    ]
                ),
            )
        crossing = binder_crossing(temps, cumulants, seed=args.seed)
    _print_table(records)
    if len(sizes) >= 2:
        if crossing is None:
            print("Binder cumulants of these sizes do not cross in this temperature range: no T_c estimate")
        else:
            print(
                f"T_c from Binder-cumulant crossings: {crossing.mean:.4f} +- {crossing.stderr:.4f}"
                + (f"  (exact 2D: {2 / math.log(1 + math.sqrt(2)):.4f})" if args.dim == 2 else "")
            )
    if args.json:
        write_json_atomic(
            args.json, {"results": records, "tc_estimate": None if crossing is None else crossing.as_dict()}
        )
        print(f"wrote {args.json}")
    if args.csv:
        write_text_atomic(args.csv, _csv(records))
        print(f"wrote {args.csv}")
    if args.plot:
        from thermolearn.viz.monte_carlo_plots import plot_ising_sweep

        plot_ising_sweep(args.plot, records, args.dim)
        print(f"wrote {args.plot}")
    return 0


def _pm(est: dict, digits: int = 4) -> str:
    if est["mean"] is None:
        return "-"
    if est["stderr"] is None:
        return f"{est['mean']:.{digits}f}"
    return f"{est['mean']:.{digits}f}({est['stderr']:.{digits}f})"


def _print_table(records: list[dict]) -> None:
    header = ["L", "T", "E/N", "|m|", "C/N", "chi/N", "U4", "tau_E", "tau_|m|", "exact E/N", "exact C/N"]
    rows = []
    for r in records:
        ex = r["exact"]
        rows.append(
            [
                str(r["size"]),
                f"{r['temperature']:.4f}",
                _pm(r["energy_per_spin"]),
                _pm(r["abs_magnetization"]),
                _pm(r["specific_heat_per_spin"]),
                _pm(r["susceptibility_per_spin"], 3),
                _pm(r["binder_cumulant"]),
                f"{r['tau_int']['energy']:.1f}",
                f"{r['tau_int']['abs_magnetization']:.1f}",
                "-" if ex is None else f"{ex['energy_per_spin']:.4f}",
                "-" if ex is None else f"{ex['specific_heat_per_spin']:.4f}",
            ]
        )
    print(format_table(header, rows))
    print("value(error): one standard error; chi/N = beta N (<m^2> - <|m|>^2); tau in sweeps")


def _csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [
        "energy_per_spin",
        "abs_magnetization",
        "specific_heat_per_spin",
        "susceptibility_per_spin",
        "binder_cumulant",
    ]
    writer.writerow(
        ["size", "temperature", "algorithm"]
        + [f"{n}{s}" for n in names for s in ("", "_stderr")]
        + ["tau_energy", "tau_abs_magnetization", "exact_energy_per_spin", "exact_specific_heat_per_spin"]
    )
    for r in records:
        row = [r["size"], r["temperature"], r["algorithm"]]
        for n in names:
            row += [r[n]["mean"], r[n]["stderr"]]
        ex = r["exact"] or {}
        row += [
            r["tau_int"]["energy"],
            r["tau_int"]["abs_magnetization"],
            ex.get("energy_per_spin"),
            ex.get("specific_heat_per_spin"),
        ]
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()
