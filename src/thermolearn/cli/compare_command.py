"""``thermolearn compare``: one model at one temperature by every method that fits, in one table."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from thermolearn.cli.arguments import add_model_arguments, check_output_path, model_from_arguments, parse_temperatures
from thermolearn.cli.table import format_table
from thermolearn.storage import write_json_atomic


def register(sub: argparse._SubParsersAction) -> None:
    from thermolearn.variational.comparison import registered_methods

    p = sub.add_parser(
        "compare",
        help="log Z, free energy, energy and magnetisation of one model by every method, side by side",
        description="Compare exact answers (enumeration, transfer matrices, Kaufman) with naive mean field "
        "(a lower bound on log Z), TAP, the Bethe approximation (belief propagation) and black-box variational "
        "inference (a stochastic lower bound), each labelled exact, lower_bound, approximation or estimate.",
    )
    add_model_arguments(p)
    p.add_argument("--temperature", "-T", required=True, metavar="T", help="the temperature (k_B = 1)")
    p.add_argument(
        "--methods",
        nargs="+",
        metavar="METHOD",
        help=f"run only these ({', '.join(registered_methods())}); default: every method that fits",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the stochastic methods (default 0)")
    p.add_argument("--bbvi-steps", type=int, default=1000, metavar="N", help="optimisation steps of black-box VI")
    p.add_argument("--json", metavar="PATH", help="write the rows as JSON to PATH")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _plus_minus(value: float | None) -> str:
    return "" if value is None else f"{value:.2g}"


def run(args: argparse.Namespace) -> int:
    from thermolearn.variational.comparison import compare

    temps = parse_temperatures([args.temperature])
    if temps.size != 1:
        raise ValueError(f"compare runs at one temperature, got {temps.size} from {args.temperature!r}")
    T = float(temps[0])
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.bbvi_steps < 1:
        raise ValueError(f"--bbvi-steps must be >= 1, got {args.bbvi_steps}")
    check_output_path(args.json, ".json")
    model = model_from_arguments(args)
    show = not args.no_progress and sys.stderr.isatty()
    with tqdm(desc="compare", disable=not show, file=sys.stderr) as bar:
        result = compare(
            model,
            T,
            args.methods,
            seed=args.seed,
            settings={"bbvi": {"steps": args.bbvi_steps}} if args.methods is None or "bbvi" in args.methods else None,
            progress=lambda name: (bar.set_postfix_str(name), bar.update()),
        )
    print(f"{model!r} at T = {T:g}")
    rows = [
        [
            r.method,
            r.kind,
            r.log_z,
            _plus_minus(r.log_z_stderr),
            r.free_energy_per_spin,
            r.energy_per_spin,
            r.magnetization_per_spin,
            "yes" if r.converged else "NO",
            r.detail,
        ]
        for r in result.rows
    ]
    print(format_table(["method", "kind", "log Z", "+-", "f/spin", "e/spin", "m/spin", "converged", "how"], rows))
    for name, why in result.skipped:
        print(f"skipped {name}: {why}")
    if args.json:
        write_json_atomic(args.json, result.as_dict())
        print(f"wrote {args.json}")
    return 0
