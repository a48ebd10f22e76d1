"""``thermolearn exact``: exact thermodynamics of a model by the method that fits."""

from __future__ import annotations

import argparse

from thermolearn.cli.arguments import add_model_arguments, check_output_path, model_from_arguments, parse_temperatures
from thermolearn.cli.options import add_json, add_no_progress, add_plot, add_temperature, write_json
from thermolearn.cli.table import chop, format_table

EXACT_METHOD_CHOICES = ("auto", "enumeration", "transfer_matrix", "kaufman")
"""thermolearn.exact.solve.EXACT_METHODS, named here so that --help does not load the solvers."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exact",
        help="exact log Z, free energy, energy, specific heat, magnetisation of a model",
        description="Exact thermodynamics by enumeration (n <= 30), transfer matrices (chains, strips) or "
        "Kaufman's solution (periodic square lattices in zero field), whichever fits.",
    )
    add_model_arguments(p)
    add_temperature(p, required=True, help="temperatures (k_B = 1): numbers and/or ranges start:stop:count")
    p.add_argument(
        "--method",
        choices=EXACT_METHOD_CHOICES,
        default="auto",
        help="force one exact method (default: the one that fits)",
    )
    add_json(p)
    add_plot(p, "energy, specific heat and magnetisation per spin against T")
    add_no_progress(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from thermolearn.exact.solve import choose_method, solve
    from thermolearn.progress import progress_bar

    temps = parse_temperatures(args.temperature)
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    model = model_from_arguments(args)
    method = choose_method(model, args.method)
    with progress_bar(
        total=len(temps),
        desc=f"exact ({method})",
        progress=False if args.no_progress else None,
        worthwhile=len(temps) > 1,
    ) as bar:
        results = solve(model, temps, method=method, progress=bar.update)
    print(f"{model!r}: exact by {method}")
    rows = [
        [
            r.temperature,
            r.method,
            r.log_z,
            r.free_energy_per_spin,
            r.energy_per_spin,
            r.specific_heat_per_spin,
            # rounding noise (|m| < 1e-12; m per spin is at most 1) shows as 0; the JSON keeps the raw value
            chop(r.magnetization_per_spin, 1.0),
        ]
        for r in results
    ]
    print(format_table(["T", "method", "log Z", "f/spin", "e/spin", "c/spin", "m/spin"], rows))
    if args.json:
        write_json(args, {"model": repr(model), "n_spins": model.n_spins, "results": [r.as_dict() for r in results]})
    if args.plot:
        _plot(args.plot, results)
        print(f"wrote {args.plot}")
    return 0


def _plot(path: str, results: list) -> None:
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    T = np.array([r.temperature for r in results])
    fig, axes = new_figure(ncols=3, width=4.0)
    for ax, attr, label in zip(
        axes[0],
        ("energy_per_spin", "specific_heat_per_spin", "magnetization_per_spin"),
        ("energy per spin", "specific heat per spin", "magnetisation per spin"),
    ):
        ax.plot(T, [getattr(r, attr) for r in results], "o-", ms=3)
        ax.set_xlabel("temperature T")
        ax.set_ylabel(label)
    axes[0, 1].set_title(f"exact ({results[0].method}), n = {results[0].n_spins}")
    save_figure(fig, path)
