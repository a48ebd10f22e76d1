"""``thermolearn anneal``: low-energy states (or max cuts) by simulated annealing or replica exchange."""

from __future__ import annotations

import argparse
from pathlib import Path

from thermolearn.cli.arguments import check_output_path
from thermolearn.cli.table import format_table
from thermolearn.models.ising import Ising
from thermolearn.models.maxcut import MaxCut
from thermolearn.samplers.annealing import ALGORITHMS, DEFAULT_PT_TEMPERATURES, DEFAULT_SWEEPS, anneal
from thermolearn.samplers.schedules import SCHEDULES
from thermolearn.storage import write_json_atomic


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
    p.add_argument("--sweeps", type=int, default=DEFAULT_SWEEPS, help=f"sweeps per read (default {DEFAULT_SWEEPS})")
    p.add_argument("--reads", type=int, default=32, help="independent reads (default 32)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        default="sa",
        help="sa: simulated annealing; pt: parallel tempering, lowest energy seen (default sa)",
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="geometric",
        help="how beta goes from hot to cold for sa (default geometric)",
    )
    p.add_argument(
        "--beta-range",
        type=float,
        nargs=2,
        metavar=("HOT", "COLD"),
        help="inverse temperatures at the start and end (default: chosen from the couplings)",
    )
    p.add_argument(
        "--sampler",
        choices=("metropolis", "heatbath"),
        default="metropolis",
        help="single-spin update rule (default metropolis)",
    )
    p.add_argument(
        "--temperatures",
        type=int,
        default=DEFAULT_PT_TEMPERATURES,
        metavar="K",
        help=f"ladder size for --algorithm pt (default {DEFAULT_PT_TEMPERATURES})",
    )
    p.add_argument("--json", metavar="PATH", help="write best energy, every read's energy, cut and time as JSON")
    p.set_defaults(run=run)


def _load(path_text: str, maxcut: bool) -> tuple[Ising, MaxCut | None]:
    path = Path(path_text)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    if maxcut:
        if path.suffix == ".npz":
            raise ValueError("--maxcut reads a graph's edge list (i j w lines, Gset format), not a .npz model")
        problem = MaxCut.from_edgelist(path)
        return problem.model, problem
    if path.suffix == ".npz":
        return Ising.load(path), None
    return Ising.from_edgelist(path), None


def run(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    model, problem = _load(args.model, args.maxcut)
    result = anneal(
        model,
        args.sweeps,
        args.reads,
        schedule=args.schedule,
        beta_range=None if args.beta_range is None else tuple(args.beta_range),
        sampler=args.sampler,
        seed=args.seed,
        algorithm=args.algorithm,
        temperatures=args.temperatures,
    )
    hot, cold = result.beta_range
    print(
        f"{model!r}: {args.algorithm} with {args.sampler}, {result.sweeps} sweeps x {result.reads} reads, "
        f"beta {hot:.4g} -> {cold:.4g}, {result.seconds:.3f} s"
    )
    headers = ["best energy", "mean energy", "reads at best"]
    row = [result.best_energy, float(result.energies.mean()), f"{result.fraction_at_best():.0%}"]
    record = {
        "best_energy": result.best_energy,
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
        write_json_atomic(args.json, record)
        print(f"wrote {args.json}")
    return 0
