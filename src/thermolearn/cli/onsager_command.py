"""``thermolearn onsager``: the exact 2D square-lattice curves against temperature."""

from __future__ import annotations

import argparse

from thermolearn.cli.arguments import check_output_path, parse_temperatures
from thermolearn.cli.options import add_json, add_plot, add_sizes, add_temperature, finite_float, write_json
from thermolearn.cli.table import format_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "onsager",
        help="exact 2D Ising curves (Onsager, Yang, Kaufman) against temperature",
        description="Onsager's free energy, energy and specific heat, Yang's spontaneous magnetisation for the "
        "infinite square lattice (and Kaufman's exact finite L x L values with --size), T_c = 2/ln(1+sqrt 2).",
    )
    add_temperature(p, help="temperatures: numbers and/or ranges start:stop:count (default 1:4:13)")
    p.add_argument(
        "--coupling",
        type=finite_float,
        default=1.0,
        metavar="J",
        help="ferromagnetic coupling J > 0 (default 1)",
    )
    add_sizes(p, required=False, help="also Kaufman's periodic L x L lattice, L >= 3 (--size 8 16 or -L 8 -L 16)")
    add_json(p, "the table")
    add_plot(p, "the curves with T_c marked")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.exact import onsager
    from thermolearn.exact.kaufman import kaufman

    temps = parse_temperatures(args.temperature or ["1:4:13"])
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    J = args.coupling
    if not J > 0:
        raise ValueError(f"--coupling must be > 0 (ferromagnet) for Onsager's solution, got {J}")
    for L in args.size:
        if L < 3:
            raise ValueError(f"--size must be >= 3, got {L}")
    tc = onsager.critical_temperature(J)
    f = onsager.free_energy_per_spin(temps, J)
    u = onsager.energy_per_spin(temps, J)
    c = onsager.specific_heat_per_spin(temps, J)
    m = onsager.spontaneous_magnetization(temps, J)
    finite = {L: [kaufman(L, T, J) for T in temps] for L in args.size}
    print(f"2D square-lattice Ising, J = {J:g}: T_c = 2J/ln(1+sqrt 2) = {tc:.10f}")
    header = ["T", "f/spin", "e/spin", "c/spin", "m (Yang)"]
    # c diverges like -ln|T - T_c| at T_c: the table says so, the JSON stores null
    rows: list[list[object]] = [
        [float(t), float(a), float(b), float(x) if np.isfinite(x) else "inf (log divergence at T_c)", float(y)]
        for t, a, b, x, y in zip(temps, f, u, c, m)
    ]
    for L, results in finite.items():
        header += [f"e/spin L={L}", f"c/spin L={L}"]
        for row, r in zip(rows, results):
            row += [r.energy_per_spin, r.specific_heat_per_spin]
    print(format_table(header, rows))
    if args.json:
        record = {
            "coupling": J,
            "critical_temperature": tc,
            "infinite_lattice": [
                {
                    "temperature": float(t),
                    "free_energy_per_spin": float(a),
                    "energy_per_spin": float(b),
                    "specific_heat_per_spin": float(x) if np.isfinite(x) else None,
                    "spontaneous_magnetization": float(y),
                }
                for t, a, b, x, y in zip(temps, f, u, c, m)
            ],
            "finite_lattices": {str(L): [r.as_dict() for r in results] for L, results in finite.items()},
        }
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.exact_plots import plot_onsager

        fine = np.linspace(min(temps.min(), 0.8 * tc), max(temps.max(), 1.4 * tc), 300)
        plot_onsager(args.plot, fine, sizes=args.size, coupling=J)
        print(f"wrote {args.plot}")
    return 0
