"""``thermolearn sweep CONFIG.toml``: one library task over a grid of parameters, serially, on a
process pool (``--workers N``) or on Dask (``--dask``, ``--scheduler ADDRESS``), one result file
per point so that a killed sweep rerun computes only the missing points.

Also home of the ``--workers/--dask/--scheduler`` options the ``ising`` and ``spinglass``
commands share (:func:`add_parallel_options`, :func:`parallel_executor`).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from thermolearn.cli.arguments import check_output_path
from thermolearn.cli.options import add_json, add_no_progress, positive_int, write_json
from thermolearn.cli.table import format_table, format_value_error

CONFIG_HELP = """\
CONFIG.toml:

  task = "ising"            # ising | population-annealing | groundstate
  seed = 0                  # base seed; each point's seed comes from its coordinates
  output = "ising-sweep"    # folder of point files + manifest.json, relative to the
                            # config file (default: <config stem>-sweep beside it)

  [parameters]              # shared by every point
  sweeps = 2000
  burn_in = 200

  [grid]                    # every combination; the first name varies slowest
  size = [8, 16]
  temperature = [2.0, 2.269, 2.5]
  replica = [0, 1]          # 'replica' only enters the seed (independent repetitions)

tasks and their parameters (defaults in brackets):
  ising                 size, temperature, dim [2], algorithm [metropolis], sweeps [10000],
                        burn_in [1000], chains [1]
  population-annealing  temperature, sk or lattice ("8x8"), couplings [pm], instance [0],
                        population [1000], steps [100], sweeps [10], runs [8]
  groundstate           sk or lattice, couplings [pm], instance [0], algorithm [sa: sa, pt, pa],
                        sweeps [1000]

Every finished point is written at once to OUTPUT/point-<hash>.json; rerunning the same
config computes only the points missing there. Results are bit-identical serially, with
--workers and on Dask."""


def add_parallel_options(parser: argparse.ArgumentParser, what: str = "the points") -> None:
    """``--workers N``, ``--dask`` and ``--scheduler ADDRESS``: where ``what`` run."""
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"run {what} on N worker processes (with --dask: N Dask workers; default: serially)",
    )
    parser.add_argument(
        "--dask",
        action="store_true",
        help=f"run {what} on a Dask LocalCluster on this machine (pip install 'thermolearn[dask]'); "
        "prints the dashboard address",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help=f"run {what} on an existing Dask cluster, e.g. tcp://host:8786 (dask-jobqueue on SLURM)",
    )


@contextlib.contextmanager
def parallel_executor(args: argparse.Namespace) -> Iterator[Any]:
    """The executor ``--workers/--dask/--scheduler`` ask for (None: serial), announced on stderr."""
    import sys

    from thermolearn.runs.sweep import open_executor

    if args.dask and args.scheduler:
        raise ValueError("give --dask (a local cluster) or --scheduler ADDRESS (an existing one), not both")
    if args.scheduler is not None and not args.scheduler.strip():
        raise ValueError("--scheduler needs an address, e.g. tcp://host:8786")
    with open_executor(
        args.workers,
        dask=args.dask,
        scheduler=args.scheduler,
        announce=lambda line: print(line, file=sys.stderr, flush=True),
    ) as executor:
        yield executor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a library task over a grid of parameters (serial, --workers N, or Dask), resumable",
        description="Runs a task (ising, population-annealing, groundstate) at every point of the [grid]\n"
        "of CONFIG.toml with its [parameters], each point seeded from its coordinates (a SeedSequence\n"
        "keyed on the point), so results do not depend on where or in which order points ran. Each\n"
        "point's result is its own atomic file beside a manifest; a killed sweep rerun computes only\n"
        "the missing points.",
        epilog=CONFIG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", metavar="CONFIG.toml", help="the sweep: task, seed, output, [parameters], [grid]")
    p.add_argument("--output", metavar="DIR", default=None, help="folder of the point files (overrides the config)")
    add_parallel_options(p)
    add_json(p, "every point with its seed and result")
    add_no_progress(p)
    p.set_defaults(run=run)


_HEADERS = {
    "energy": "energy (total)",
    "best_energy": "best_energy (total)",
    "exact_ground_energy": "exact_ground_energy (total)",
}
"""Table headers that say what a column's number is (the JSON keeps the field names)."""


def _cell(value: Any) -> Any:
    if isinstance(value, dict) and "mean" in value:
        mean, err = value.get("mean"), value.get("stderr")
        if mean is None:
            return "-"
        return format_value_error(mean, err)
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value).lower()
    if isinstance(value, float):
        return value
    return str(value)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from thermolearn.runs.sweep import TASKS, load_config, sweep

    check_output_path(args.json, ".json")
    if args.output is not None and not args.output.strip():
        raise ValueError("--output needs a folder name")
    config = load_config(args.config)
    output = Path(args.output) if args.output is not None else config.output
    with parallel_executor(args) as executor:
        result = sweep(
            config.grid,
            config.task,
            executor,
            parameters=config.parameters,
            seed=config.seed,
            output=output,
            progress=False if args.no_progress else None,
        )
    columns = TASKS[result.task].columns
    names = list(result.grid)
    rows = [
        [_cell(p[n]) for n in names] + [_cell(r.get(c)) for c in columns] for p, r in zip(result.points, result.records)
    ]
    print(format_table(names + [_HEADERS.get(c, c) for c in columns], rows))
    print(
        f"{len(result.points)} points of {result.task}: {result.computed} computed, {result.reused} read back "
        f"from {output} (value(error): one standard error, (-) none)"
    )
    if args.json:
        write_json(args, result.as_dict())
    return 0
