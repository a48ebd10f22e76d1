"""``thermolearn ising``: Monte Carlo temperature sweeps of periodic square (or cubic)
lattices, with error bars, exact values where they exist and the Binder-crossing T_c."""

from __future__ import annotations

import argparse
import csv
import io
import math
from pathlib import Path

from thermolearn.cli.arguments import check_output_path, parse_temperatures
from thermolearn.cli.options import (
    add_checkpoint,
    add_deprecated_alias,
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_sizes,
    add_sweeps,
    add_temperature,
    nonnegative_int,
    positive_int,
    write_json,
)
from thermolearn.cli.sweep_command import add_parallel_options, parallel_executor
from thermolearn.cli.table import format_number, format_table, format_value_error

SAMPLER_CHOICES = (
    "heatbath",
    "heatbath-packed",
    "metropolis",
    "metropolis-jax",
    "metropolis-msc",
    "metropolis-packed",
    "pt",
    "quench",
    "sw",
    "wolff",
)
"""The names of thermolearn.samplers.registry.SAMPLERS, here so that --help does not load the samplers."""
DEVICE_CHOICES = ("auto", "cpu", "gpu")  # thermolearn.samplers.jax_lattice.DEVICES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ising",
        help="Monte Carlo sweep of periodic lattices over temperature, with error bars and exact values",
        description="Samples the periodic L x L (or L^3 with --dim 3) ferromagnet at each temperature, prints "
        "E/N, |m|, C, chi, U4 with error bars and tau_int, the exact values where known (Kaufman, 2D), and the "
        "T_c estimate from the crossing of Binder cumulants of two or more sizes.",
    )
    add_sizes(p, required=True, help="lattice sides, L >= 2 (--size 4 8 or -L 4 -L 8)")
    p.add_argument("--dim", type=int, choices=(2, 3), default=2, help="2 (square, default) or 3 (cubic)")
    temperature = add_temperature(
        p, required=True, help="temperatures: numbers and/or ranges start:stop:count, e.g. 1.5:3.5:21"
    )
    add_deprecated_alias(p, "--temperatures", temperature)
    p.add_argument(
        "--algorithm",
        default="metropolis",
        metavar="NAME",
        help=f"sampler: one of {', '.join(SAMPLER_CHOICES)} (default metropolis)",
    )
    p.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default=None,
        help="where metropolis-jax runs: auto (a GPU when JAX sees one, default), cpu or gpu",
    )
    add_sweeps(p, default=10000, help="measurement sweeps per temperature (default 10000)")
    p.add_argument(
        "--burn-in", type=nonnegative_int, default=1000, metavar="N", help="discarded sweeps first (default 1000)"
    )
    p.add_argument(
        "--chains", type=positive_int, default=1, metavar="N", help="independent chains per temperature (default 1)"
    )
    add_seed(p, "the chains (size L uses seed + 1000 L)")
    add_checkpoint(p, "folder of checkpoints, one per size and temperature", metavar="DIR")
    p.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=1000,
        metavar="SWEEPS",
        help="sweeps between checkpoints (default 1000)",
    )
    add_json(p)
    p.add_argument("--csv", metavar="PATH", help="write the results as CSV to PATH")
    add_plot(p, "the curves with the exact lines")
    add_parallel_options(p, "the (size, temperature) jobs")
    add_no_progress(p)
    p.set_defaults(run=run)


def _temperature_tag(T: float) -> str:
    """The checkpoint name's temperature: 10 digits when they give T back exactly (the names
    earlier versions wrote), else every digit of ``repr``, so two temperatures never share a file."""
    short = f"{T:.10g}"
    return short if float(short) == T else repr(float(T))


def _check_lattice_memory(L: int, dim: int) -> None:
    """Refuse a side whose lattice cannot be built, before building it (-L is checked as given)."""
    from thermolearn.resources import check_memory

    n_spins = float(L) ** dim
    # the bonds are built as COO (row, column, value) lists, concatenated and converted to CSR:
    # about 80 bytes per directed bond, 2 * dim of them per spin, plus the fields and the chains
    check_memory(f"-L {L} (a {'x'.join([str(L)] * dim)} lattice of {n_spins:.3g} spins)", n_spins * (160.0 * dim + 64))


def ising_job(point: dict, seed: int) -> list[dict]:
    """The records of one job of ``thermolearn ising``: size ``point['size']`` at temperature
    ``point['temperature']`` (None: every temperature, for parallel tempering), run here or on a
    worker process (``--workers``, ``--dask``)."""
    from thermolearn.models.ising import Ising
    from thermolearn.runs.sample import sample
    from thermolearn.samplers.registry import SAMPLERS, make_sampler

    L, T, dim, algorithm = point["size"], point["temperature"], point["dim"], point["algorithm"]
    model = Ising.lattice((L,) * dim)
    pt = SAMPLERS[algorithm].needs_ladder
    if pt:
        sampler = make_sampler(algorithm, temperatures=point["temperatures"])
    elif point.get("device"):
        sampler = make_sampler(algorithm, device=point["device"])
    else:
        sampler = make_sampler(algorithm)
    result = sample(
        model,
        sampler,
        T,
        sweeps=point["sweeps"],
        burn_in=point["burn_in"],
        n_chains=point["chains"],
        seed=seed,
        checkpoint=point["checkpoint"],
        checkpoint_every=point["checkpoint_every"],
        site_means=False,  # the table needs E and M only; site sums were 8 bytes per chain, batch and spin
        progress=point["progress"],
    )
    from thermolearn.runs.sweep import ising_record

    return [
        ising_record(L, dim, float(temp), algorithm, obs, result.acceptance)
        for temp, obs in zip(result.temperatures, result.observables)
    ]


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.estimators.binder import binder_crossing
    from thermolearn.progress import progress_bar
    from thermolearn.runs.sample import DEFAULT_BATCHES, check_run_memory
    from thermolearn.runs.sweep import as_finished
    from thermolearn.samplers.registry import SAMPLERS
    from thermolearn.storage import write_text_atomic

    temps = np.sort(parse_temperatures(args.temperature))
    if args.algorithm not in SAMPLERS:
        raise ValueError(f"--algorithm must be one of {', '.join(sorted(SAMPLERS))}, got {args.algorithm!r}")
    if args.device is not None and args.algorithm != "metropolis-jax":
        raise ValueError(f"--device chooses where metropolis-jax runs; --algorithm {args.algorithm} runs on the CPU")
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
    pt = SAMPLERS[args.algorithm].needs_ladder
    for L in sizes:  # every size before the first runs: a refusal should not come after hours of work
        _check_lattice_memory(L, args.dim)
        slots = args.chains * (temps.size if pt else 1)
        check_run_memory(L**args.dim, slots, args.sweeps, min(DEFAULT_BATCHES, args.sweeps), False)
    jobs = [(L, None) for L in sizes] if pt else [(L, float(T)) for L in sizes for T in temps]
    settings = {
        "dim": args.dim,
        "algorithm": args.algorithm,
        "device": args.device,
        "temperatures": [float(t) for t in temps],
        "sweeps": args.sweeps,
        "burn_in": args.burn_in,
        "chains": args.chains,
        "checkpoint_every": args.checkpoint_every,
        # a bar within one temperature too (on a terminal, for long runs), under the outer one; none on workers
        "progress": False if args.no_progress or args.workers or args.dask or args.scheduler else None,
    }
    points = []
    for L, T in jobs:
        ckpt = None
        if folder is not None:
            tag = "pt" if T is None else f"T{_temperature_tag(T)}"
            ckpt = str(folder / f"ising-d{args.dim}-L{L}-{args.algorithm}-{tag}.npz")
        points.append({**settings, "size": L, "temperature": T, "checkpoint": ckpt})
    finished: list[list[dict]] = [[] for _ in jobs]
    with (
        parallel_executor(args) as executor,
        progress_bar(
            total=len(jobs), desc=f"ising ({args.algorithm})", progress=False if args.no_progress else None
        ) as bar,
    ):
        # the seed of size L is seed + 1000 L wherever the job runs, so --workers and --dask change nothing
        work = [(k, point, args.seed + 1000 * int(point["size"])) for k, point in enumerate(points)]
        for k, (rows, _) in as_finished(executor, ising_job, work):
            finished[k] = rows
            bar.update(1)
    records = [row for rows in finished for row in rows]
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
                f"T_c from Binder-cumulant crossings: {format_value_error(crossing.mean, crossing.stderr, style='pm')}"
                + (f"  (exact 2D: {2 / math.log(1 + math.sqrt(2)):.4f})" if args.dim == 2 else "")
            )
    if args.json:
        write_json(args, {"results": records, "tc_estimate": None if crossing is None else crossing.as_dict()})
    if args.csv:
        write_text_atomic(args.csv, _csv(records))
        print(f"wrote {args.csv}")
    if args.plot:
        from thermolearn.viz.monte_carlo_plots import plot_ising_sweep

        plot_ising_sweep(args.plot, records, args.dim)
        print(f"wrote {args.plot}")
    return 0


def _pm(est: dict) -> str:
    """value(error) with the digits the error bar supports; "-" for a missing error."""
    if est["mean"] is None:
        return "-"
    return format_value_error(est["mean"], est["stderr"])


def _print_table(records: list[dict]) -> None:
    header = ["L", "T", "E/N", "|m|", "C/N", "chi/N", "U4", "tau_E", "tau_|m|", "exact E/N", "exact C/N"]
    rows = []
    for r in records:
        ex = r["exact"]
        rows.append(
            [
                str(r["size"]),
                f"{r['temperature']:.6g}",
                _pm(r["energy_per_spin"]),
                _pm(r["abs_magnetization"]),
                _pm(r["specific_heat_per_spin"]),
                _pm(r["susceptibility_per_spin"]),
                _pm(r["binder_cumulant"]),
                # a frozen chain has no autocorrelation time (the 0.5 of a constant series is none)
                "-" if r.get("frozen") else f"{r['tau_int']['energy']:.1f}",
                "-" if r.get("frozen") else f"{r['tau_int']['abs_magnetization']:.1f}",
                "-" if ex is None else format_number(ex["energy_per_spin"]),
                "-" if ex is None else format_number(ex["specific_heat_per_spin"]),
            ]
        )
    print(format_table(header, rows))
    print("value(error): one standard error, (-) none; chi/N = beta N (<m^2> - <|m|>^2); tau in sweeps")
    frozen = [r for r in records if r.get("frozen")]
    short = [r for r in records if not r["reliable"] and not r.get("frozen")]
    for rows_of, why in (
        (frozen, "the chain never left one state (E and M constant): no error bar; a cluster algorithm or more sweeps"),
        (short, "the run is short for its autocorrelation time: the error bars are likely too small"),
    ):
        if rows_of:
            where = ", ".join(f"L = {r['size']} T = {r['temperature']:.4g}" for r in rows_of)
            print(f"warning: {where}: {why}")


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
