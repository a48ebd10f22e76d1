"""``thermolearn compare``: one model at one temperature by every method that fits, in one table."""

from __future__ import annotations

import argparse

from thermolearn.cli.arguments import add_model_arguments, check_output_path, model_from_arguments, parse_temperatures
from thermolearn.cli.options import (
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_temperature,
    positive_int,
    write_json,
)
from thermolearn.cli.table import chop, format_table, value_error_parts

BUILT_IN_METHODS = ("exact", "mean_field", "tap", "bethe", "bbvi", "monte_carlo", "van")
"""The methods thermolearn.runs.comparison registers itself (others may register more)."""
DEFAULT_OFF_METHODS = ("van",)
"""Run only when named with --methods (they train for a while)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="log Z, free energy, energy and magnetisation of one model by every method, side by side",
        description="Compare exact answers (enumeration, transfer matrices, Kaufman) with naive mean field "
        "(a lower bound on log Z), TAP, the Bethe approximation (belief propagation) and black-box variational "
        "inference (a stochastic lower bound), each labelled exact, lower_bound, approximation or estimate.",
    )
    add_model_arguments(p)
    add_temperature(p, required=True, help="the temperature T > 0 (k_B = 1)")
    p.add_argument(
        "--methods",
        nargs="+",
        metavar="METHOD",
        help=f"run only these ({', '.join(BUILT_IN_METHODS)}); default: every method that fits, except "
        f"{', '.join(DEFAULT_OFF_METHODS)} (named only)",
    )
    add_seed(p, "the stochastic methods")
    p.add_argument(
        "--bbvi-steps",
        type=positive_int,
        default=1000,
        metavar="N",
        help="optimisation steps of black-box VI (default 1000)",
    )
    p.add_argument(
        "--van-steps",
        type=positive_int,
        default=1000,
        metavar="N",
        help="training steps of the variational autoregressive network, with --methods van (default 1000)",
    )
    add_json(p, "the rows")
    add_plot(p, "log Z of every method with its error bar, the exact value as a line")
    add_no_progress(p)
    p.set_defaults(run=run)


_M_DEFINITIONS = {
    "exact": "<m> over all states with Boltzmann weights (0 by symmetry in zero field, at every T)",
    "mean_field": "m of the mean-field fixed point found (can break the symmetry below T_c)",
    "tap": "m of the TAP fixed point found (can break the symmetry below T_c)",
    "bethe": "m of the belief-propagation fixed point found (can break the symmetry below T_c)",
    "bbvi": "<m> under the fitted variational distribution q (a factorised q can sit in one mode)",
    "van": "<m> under the trained autoregressive network q (may cover one or both modes)",
    "monte_carlo": "time average of the signed m of the chain at T (stays in one phase below T_c, "
    "so it may read anywhere between the symmetric 0 and the broken-symmetry value)",
}
"""What the m/spin column means for each registered method (the table says, the JSON keeps the numbers)."""


def _plus_minus(value: float | None) -> str:
    return "" if value is None else f"{value:.2g}"


def _log_z_cells(log_z: float | None, stderr: float | None) -> list[object]:
    """log Z and its error, the digits following the error bar; a deterministic method's "" error."""
    if stderr is None or log_z is None:
        return [log_z, _plus_minus(stderr)]
    return list(value_error_parts(log_z, stderr))


def _settings(args: argparse.Namespace) -> dict[str, dict[str, int]]:
    """Per-method settings of the methods that will run."""
    settings = {}
    if args.methods is None or "bbvi" in args.methods:
        settings["bbvi"] = {"steps": args.bbvi_steps}
    if args.methods is not None and "van" in args.methods:
        settings["van"] = {"steps": args.van_steps}
    return settings


def run(args: argparse.Namespace) -> int:
    from thermolearn.progress import progress_bar
    from thermolearn.runs.comparison import compare, registered_methods

    temps = parse_temperatures(args.temperature)
    if temps.size != 1:
        raise ValueError(f"compare runs at one temperature, got {temps.size} from -T {' '.join(args.temperature)}")
    T = float(temps[0])
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.bbvi_steps < 1:
        raise ValueError(f"--bbvi-steps must be >= 1, got {args.bbvi_steps}")
    if args.methods is not None:
        known = registered_methods()
        for name in args.methods:
            if name not in known:
                raise ValueError(f"--methods: unknown method {name!r}; choose from {', '.join(known)}")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    model = model_from_arguments(args)
    with progress_bar(desc="compare", progress=False if args.no_progress else None) as bar:

        def advance(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update()

        result = compare(
            model,
            T,
            args.methods,
            seed=args.seed,
            settings=_settings(args),
            progress=advance,
        )
    print(f"{model!r} at T = {T:g}")
    rows = [
        [
            r.method,
            r.kind,
            *_log_z_cells(r.log_z, r.log_z_stderr),
            r.free_energy_per_spin,
            r.energy_per_spin,
            chop(r.magnetization_per_spin, 1.0),  # rounding noise below 1e-12 shows as 0
            "yes" if r.converged else "NO",
            r.detail,
        ]
        for r in result.rows
    ]
    print(format_table(["method", "kind", "log Z", "+-", "f/spin", "e/spin", "m/spin *", "converged", "how"], rows))
    print("* m/spin is not the same quantity in every row:")
    for method in dict.fromkeys(r.method for r in result.rows):
        print(f"    {method}: {_M_DEFINITIONS.get(method, 'the mean spin as this method defines it')}")
    for name, why in result.skipped:
        print(f"skipped {name}: {why}")
    if args.json:
        write_json(args, result.as_dict())
    if args.plot:
        _plot(args.plot, result)
        print(f"wrote {args.plot}")
    return 0


def _plot(path: str, result) -> None:
    from thermolearn.viz.figures import new_figure, save_figure

    rows = [r for r in result.rows if r.log_z is not None]
    fig, axes = new_figure(width=5.5, height=0.5 * max(4, len(rows)) + 1.2)
    ax = axes[0, 0]
    for k, r in enumerate(rows):
        ax.errorbar(r.log_z, k, xerr=r.log_z_stderr or 0.0, fmt="o", ms=5, capsize=3)
        if r.kind == "exact":
            ax.axvline(r.log_z, color="0.6", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)), [f"{r.method} ({r.kind})" for r in rows])
    ax.set_xlabel("log Z")
    ax.set_title(f"{result.model} at T = {result.temperature:g}")
    save_figure(fig, path)
