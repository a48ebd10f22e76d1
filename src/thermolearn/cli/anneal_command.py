"""``thermolearn anneal``: low-energy states (or max cuts) by simulated annealing or replica exchange."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from thermolearn.cli.arguments import check_output_path
from thermolearn.cli.options import (
    add_deprecated_alias,
    add_json,
    add_ladder_size,
    add_no_progress,
    add_plot,
    add_seed,
    add_sweeps,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table

# thermolearn.samplers.annealing's ALGORITHMS, DEFAULT_SWEEPS, DEFAULT_PT_TEMPERATURES and
# samplers.schedules.ANNEALING_SCHEDULES, named here so that --help does not load the samplers
ALGORITHM_CHOICES = ("sa", "pt")
DEFAULT_SWEEPS = 1000
DEFAULT_LADDER_SIZE = 16
SCHEDULE_CHOICES = ("linear", "geometric")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "anneal",
        help="lowest energy (or maximum cut) found by simulated annealing or parallel tempering",
        description="Anneal a model from a file: many independent reads, each cooled from hot to cold by a "
        "schedule of inverse temperatures and quenched to a local minimum (--algorithm sa), or a replica-exchange "
        "run over a ladder of temperatures that keeps the lowest energy it saw (--algorithm pt). Prints the best "
        "energy; with --maxcut the file's edge weights are a max-cut instance and the best cut is printed too.",
    )
    p.add_argument("model", help="model file: a .npz written by Ising.save, or an edge-list text file (Gset format)")
    p.add_argument(
        "--maxcut",
        action="store_true",
        help="read the edge list as a max-cut instance (J = -w) and report the cut weight",
    )
    add_sweeps(p, default=DEFAULT_SWEEPS, help=f"sweeps per read (default {DEFAULT_SWEEPS})")
    p.add_argument("--reads", type=positive_int, default=32, metavar="N", help="independent reads (default 32)")
    add_seed(p, "the reads")
    p.add_argument(
        "--algorithm",
        choices=ALGORITHM_CHOICES,
        default="sa",
        help="sa: simulated annealing; pt: parallel tempering, lowest energy seen (default sa)",
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULE_CHOICES,
        default="geometric",
        help="how beta goes from hot to cold for sa (default geometric)",
    )
    p.add_argument(
        "--beta-range",
        type=positive_float,
        nargs=2,
        metavar=("HOT", "COLD"),
        help="inverse temperatures at the start and end, or of the ladder's hot and cold ends for pt (default: chosen "
        "from the couplings; a typical flip accepted 50%% of the time hot for sa, 15%% for pt)",
    )
    p.add_argument(
        "--sampler",
        choices=("metropolis", "heatbath"),
        default="metropolis",
        help="single-spin update rule (default metropolis)",
    )
    ladder = add_ladder_size(
        p,
        default=DEFAULT_LADDER_SIZE,
        help=f"temperatures in the ladder of --algorithm pt (default {DEFAULT_LADDER_SIZE})",
    )
    add_deprecated_alias(p, "--temperatures", ladder)
    add_json(p, "the best energy, every read's energy, the cut and the time")
    add_plot(p, "the histogram of the reads' energies (or cuts) with the best marked")
    add_no_progress(p)
    p.set_defaults(run=run)


def _load(path_text: str, maxcut: bool) -> tuple[Any, Any]:
    from thermolearn.models.ising import Ising
    from thermolearn.models.maxcut import MaxCut

    path = Path(path_text)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    if maxcut:
        if path.suffix == ".npz":
            raise ValueError(f"{path}: --maxcut reads a graph's edge list (i j w lines, Gset format), not a .npz model")
        problem = MaxCut.from_edgelist(path)
        return problem.model, problem
    if path.suffix == ".npz":
        return Ising.load(path), None
    return Ising.from_edgelist(path), None


def run(args: argparse.Namespace) -> int:
    from thermolearn.progress import progress_bar
    from thermolearn.samplers.annealing import anneal

    if args.ladder_size < 2:
        # checked whatever the algorithm, so that a wrong value never passes unnoticed
        raise ValueError(
            f"--ladder-size must be at least 2 (a ladder has a hot and a cold end), got {args.ladder_size}"
        )
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.beta_range is not None and args.beta_range[0] > args.beta_range[1]:
        hot, cold = args.beta_range
        raise ValueError(f"--beta-range HOT COLD must cool (HOT <= COLD as inverse temperatures), got {hot:g} {cold:g}")
    model, problem = _load(args.model, args.maxcut)
    with progress_bar(
        total=args.reads,
        desc=f"anneal ({args.algorithm})",
        unit="read",
        progress=False if args.no_progress else None,
        worthwhile=args.reads * args.sweeps * model.n_spins * (args.ladder_size if args.algorithm == "pt" else 1)
        > 10**8,
    ) as bar:
        result = anneal(
            model,
            args.sweeps,
            args.reads,
            schedule=args.schedule,
            beta_range=None if args.beta_range is None else tuple(args.beta_range),
            sampler=args.sampler,
            seed=args.seed,
            algorithm=args.algorithm,
            temperatures=args.ladder_size,
            progress=bar.update if not bar.disable else None,
        )
    if result.beta_range is None:  # anneal always reports the range it used
        raise RuntimeError("anneal() returned no beta range")
    hot, cold = result.beta_range
    print(
        f"{model!r}: {args.algorithm} with {args.sampler}, {result.sweeps} sweeps x {result.reads} reads, "
        f"beta {hot:.4g} -> {cold:.4g}, {result.seconds:.3f} s"
    )
    headers = ["best energy", "mean energy", "reads at best"]
    at_best = round(result.fraction_at_best() * result.reads)
    row = [result.best_energy, float(result.energies.mean()), f"{at_best} of {result.reads}"]
    record = {
        "best_energy": result.best_energy,
        "best_energy_reads": at_best,
        "energies": result.energies.tolist(),
        "seconds": result.seconds,
        "algorithm": args.algorithm,
        "sweeps": result.sweeps,
        "reads": result.reads,
        "beta_range": [hot, cold],
    }
    if problem is not None:
        cut = float(problem.cut_from_energy(result.best_energy))
        headers.append("best cut")
        row.append(cut)
        record["cut"] = cut
        record["cuts"] = problem.cut_from_energy(result.energies).tolist()
    print(format_table(headers, [row]))
    print(f"best energy: {result.best_energy:.10g}")
    if problem is not None:
        print(f"best cut: {record['cut']:.10g}")
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot(args.plot, record, str(model.name) if hasattr(model, "name") else "model")
        print(f"wrote {args.plot}")
    return 0


def _plot(path: str, record: dict, name: str) -> None:
    from thermolearn.viz.figures import new_figure, save_figure

    cut = "cuts" in record
    values = record["cuts"] if cut else record["energies"]
    best = record["cut"] if cut else record["best_energy"]
    fig, axes = new_figure()
    ax = axes[0, 0]
    ax.hist(values, bins=min(30, max(5, len(values) // 2)), color="0.55")
    ax.axvline(best, color="C3", lw=1.5, label=f"best {best:.6g}")
    ax.set_xlabel("cut weight" if cut else "energy")
    ax.set_ylabel("reads")
    ax.set_title(f"{name}: {record['algorithm']}, {record['reads']} reads x {record['sweeps']} sweeps")
    ax.legend()
    save_figure(fig, path)
