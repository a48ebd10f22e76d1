"""``thermolearn rg``: renormalisation (decimate, migdal-kadanoff, mcrg).

- ``decimate``: the exact decimation flow of the 1D chain, (K, h) -> (K', h') with its constants,
  and ln Z / N rebuilt from them against the transfer matrix.
- ``migdal-kadanoff``: the fixed point K*, thermal eigenvalue and nu of bond moving on the square
  or cubic lattice, and its flow diagram.
- ``mcrg``: Swendsen's Monte Carlo RG at the critical point: y_T and y_h per blocking level with
  bootstrap error bars, from Swendsen-Wang (or Wolff) samples.
"""

from __future__ import annotations

import argparse
import math

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_sizes,
    finite_float,
    nonnegative_int,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table

# thermolearn.rg's LATTICE_DIMENSIONS, ORDERINGS, BLOCKING_RULES and MCRG_SAMPLERS, named here so
# that --help loads nothing
LATTICE_CHOICES = ("square", "cubic")
ORDERING_CHOICES = ("move-then-decimate", "decimate-then-move")
RULE_CHOICES = ("majority", "decimation")
SAMPLER_CHOICES = ("sw", "wolff")
# exact exponents of the Ising model (2D: Onsager; 3D: conformal bootstrap, Kos et al. 2016)
_EXACT_EXPONENTS = {2: (1.0, 15 / 8), 3: (1.0 / 0.629971, 2.481852)}


def factor_value(text: str) -> int:
    """argparse type of ``--b``: an integer >= 2."""
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2 (a change of scale), got {value}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rg",
        help="renormalisation: exact 1D decimation, Migdal-Kadanoff, Monte Carlo RG exponents",
        description="The renormalisation group made runnable: the exact decimation flow of the 1D chain and its "
        "free energy, Migdal-Kadanoff bond moving on the square and cubic lattices, and Swendsen's Monte Carlo RG "
        "(block spins at the critical point, the linearised RG matrix, y_T and y_h with bootstrap errors).",
    )
    psub = p.add_subparsers(dest="rg_command", metavar="ACTION")
    p.set_defaults(run=missing_action("rg", "decimate, migdal-kadanoff or mcrg"))

    d = psub.add_parser(
        "decimate",
        help="exact decimation flow of the 1D Ising chain and its free energy",
        description="Sum out b - 1 of every b spins of the chain -beta E = K sum s s' + h sum s, level after level: "
        "tanh K' = tanh^b K in zero field (the three-parameter flow K, h, g in a field). Prints K_n, h_n and the "
        "constants, and ln Z / N rebuilt from the constants against the transfer-matrix value.",
    )
    d.add_argument("--coupling", "-K", type=finite_float, required=True, metavar="K", help="reduced coupling J / T")
    d.add_argument("--field", type=finite_float, default=0.0, metavar="H", help="reduced field H / T (default 0)")
    d.add_argument("--levels", type=nonnegative_int, default=5, metavar="N", help="levels of the flow (default 5)")
    d.add_argument("--b", type=factor_value, default=2, metavar="B", help="decimation factor, >= 2 (default 2)")
    add_json(d, "couplings, fields, constants, free_energy_per_spin and exact_free_energy_per_spin")
    add_plot(d, "K_n against the level and ln Z / N assembled at each level")
    d.set_defaults(run=run_decimate_command)

    m = psub.add_parser(
        "migdal-kadanoff",
        help="Migdal-Kadanoff fixed point, thermal eigenvalue and nu",
        description="Bond moving then decimation (or the other way round) rescales the square or cubic lattice by "
        "b: K' = atanh(tanh^b(b^(d-1) K)). Prints the non-trivial fixed point K*, lambda_T = dK'/dK there, y_T and "
        "nu = 1 / y_T (an approximation: exact 2D Ising has K_c = 0.4407, nu = 1).",
    )
    m.add_argument("--lattice", choices=LATTICE_CHOICES, default="square", help="the lattice (default square)")
    m.add_argument("--b", type=factor_value, default=2, metavar="B", help="rescaling factor, >= 2 (default 2)")
    m.add_argument(
        "--ordering",
        choices=ORDERING_CHOICES,
        default="move-then-decimate",
        help="order of the two steps (default move-then-decimate)",
    )
    add_json(m, "fixed_point, thermal_eigenvalue and nu")
    add_plot(m, "the flow diagram K' against K with the fixed point")
    m.set_defaults(run=run_mk_command)

    c = psub.add_parser(
        "mcrg",
        help="Monte Carlo RG exponents y_T and y_h of the Ising model at its critical point",
        description="Sample the periodic L^d Ising model at K_c with a cluster sampler, block every configuration "
        "(b^d blocks, majority rule with random tie-breaks, or decimation), and from the correlations of block "
        "operators between consecutive levels form the linearised RG matrix; its leading eigenvalues give y_T = "
        "1/nu (even operators) and y_h (odd operators) per level, with bootstrap error bars.",
    )
    add_sizes(c, required=True, help="lattice side (one value)")
    c.add_argument("--dim", type=int, choices=(2, 3), default=2, help="dimension (default 2)")
    c.add_argument("--blockings", type=nonnegative_int, default=2, metavar="N", help="blocking levels (default 2)")
    c.add_argument("--samples", type=positive_int, default=2000, metavar="S", help="configurations (default 2000)")
    c.add_argument("--b", type=factor_value, default=2, metavar="B", help="block side, >= 2 (default 2)")
    c.add_argument("--rule", choices=RULE_CHOICES, default="majority", help="block-spin rule (default majority)")
    c.add_argument("--sampler", choices=SAMPLER_CHOICES, default="sw", help="cluster sampler (default sw)")
    c.add_argument("--burn-in", type=nonnegative_int, default=100, metavar="N", help="burn-in sweeps (default 100)")
    c.add_argument(
        "--sweeps-between", type=positive_int, default=1, metavar="N", help="sweeps between samples (default 1)"
    )
    c.add_argument("--chains", type=positive_int, default=4, metavar="N", help="independent chains (default 4)")
    c.add_argument(
        "--bootstrap", type=positive_int, default=200, metavar="N", help="bootstrap resamplings, >= 2 (default 200)"
    )
    add_seed(c, "the chains, tie-breaks and bootstrap")
    add_json(c, "levels with y_t and y_h (mean, stderr) and the run's plan")
    add_plot(c, "y_T and y_h against the blocking level with error bars")
    add_no_progress(c)
    c.set_defaults(run=run_mcrg_command)


def _fmt(x: float | None, digits: int = 6) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def run_decimate_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    from thermolearn.rg.decimation import decimate_chain

    flow = decimate_chain(args.coupling, args.field, b=args.b, levels=args.levels)
    print(f"1D chain, decimation by b = {flow.b}: K = {args.coupling:g}, h = {args.field:g}")
    rows = []
    for n in range(flow.levels + 1):
        g = _fmt(float(flow.constants[n]), 10) if n < flow.levels else ""
        rows.append([n, f"{flow.couplings[n]:.10g}", f"{flow.fields[n]:.10g}", g, f"{flow.correlation_lengths[n]:.6g}"])
    print(format_table(["level", "K", "h", "g (to next)", "xi"], rows))
    print(
        f"ln Z / N from the flow constants: {flow.free_energy_per_spin:.15f}   transfer matrix: "
        f"{flow.exact_free_energy_per_spin:.15f}   difference {flow.free_energy_per_spin - flow.exact_free_energy_per_spin:.2e}"
    )
    if args.json:
        write_json(args, flow.as_dict())
    if args.plot:
        from thermolearn.viz.rg_plots import plot_chain_flow

        plot_chain_flow(args.plot, flow.couplings, flow.free_energy_by_level, flow.exact_free_energy_per_spin, b=flow.b)
        print(f"wrote {args.plot}")
    return 0


def run_mk_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    from thermolearn.rg.migdal_kadanoff import mk_fixed_point

    fp = mk_fixed_point(args.lattice, args.b, args.ordering)
    print(f"Migdal-Kadanoff, {fp.lattice} lattice (d = {fp.dimension}), b = {fp.b}, {fp.ordering}")
    print(
        format_table(
            ["K*", "T*/J", "lambda_T", "y_T", "nu"],
            [
                [
                    f"{fp.fixed_point:.12f}",
                    f"{1 / fp.fixed_point:.8f}",
                    f"{fp.thermal_eigenvalue:.10f}",
                    f"{fp.y_t:.10f}",
                    f"{fp.nu:.10f}",
                ]
            ],
        )
    )
    if args.json:
        write_json(args, fp.as_dict())
    if args.plot:
        _plot_mk(args.plot, [fp])
        print(f"wrote {args.plot}")
    return 0


def _plot_mk(path: str, fixed_points: list) -> None:
    import numpy as np

    from thermolearn.rg.migdal_kadanoff import mk_recursion
    from thermolearn.viz.rg_plots import plot_mk_flow

    curves = []
    for fp in fixed_points:
        grid = np.linspace(0.0, 2.2 * fp.fixed_point, 400)
        image = mk_recursion(grid, fp.lattice, fp.b, fp.ordering)
        curves.append((f"{fp.lattice}, b = {fp.b}, {fp.ordering}", grid, image, fp.fixed_point))
    plot_mk_flow(path, curves)


def run_mcrg_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    from thermolearn.rg.critical_sampling import run_mcrg
    from thermolearn.rg.mcrg import check_mcrg_plan, minimum_samples

    if len(args.size) != 1:
        raise ValueError(f"--size takes one lattice side for mcrg, got {len(args.size)}: {args.size}")
    args.size = args.size[0]
    try:
        even, odd = check_mcrg_plan(args.size, args.dim, b=args.b, blockings=args.blockings)
    except ValueError as exc:
        message = str(exc).replace("block size b =", "block size --b")
        raise ValueError(("--" + message) if message.startswith("blockings") else message) from None
    need = minimum_samples(len(even), len(odd))
    if args.samples < need:
        raise ValueError(
            f"--samples {args.samples} is too few for a stable RG matrix of {max(len(even), len(odd))} operators: "
            f"need at least {need}"
        )
    if args.bootstrap < 2:
        raise ValueError(f"--bootstrap must be at least 2 (an error bar needs two resamplings), got {args.bootstrap}")
    result = run_mcrg(
        args.size,
        args.dim,
        blockings=args.blockings,
        n_samples=args.samples,
        b=args.b,
        rule=args.rule,
        sampler=args.sampler,
        n_chains=args.chains,
        burn_in=args.burn_in,
        sweeps_between=args.sweeps_between,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        progress=False if args.no_progress else None,
    )
    record = result.as_dict()
    y_t_exact, y_h_exact = _EXACT_EXPONENTS[args.dim]
    record["exact"] = {"y_t": y_t_exact, "y_h": y_h_exact}
    print(
        f"MCRG: {args.dim}D Ising, L = {args.size}, K = {result.extras['coupling']:.7f}, {result.n_samples} samples "
        f"({args.sampler}, tau_int of the nn total {result.extras['tau_int_nn']:.2f}, bins of {result.bin_size}), "
        f"b = {args.b} {args.rule}; even: {', '.join(result.even_operators)}; odd: {', '.join(result.odd_operators)}"
    )
    rows = [
        [
            lv["level"],
            f"{_fmt(lv['y_t']['mean'], 4)} ± {_fmt(lv['y_t']['stderr'], 4)}",
            f"{_fmt(lv['nu']['mean'], 4)} ± {_fmt(lv['nu']['stderr'], 4)}",
            f"{_fmt(lv['y_h']['mean'], 4)} ± {_fmt(lv['y_h']['stderr'], 4)}",
        ]
        for lv in record["levels"]
    ]
    print(format_table(["level", "y_T", "nu", "y_h"], rows))
    print(f"exact: y_T = {y_t_exact:.4f}, y_h = {y_h_exact:.4f}")
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.rg_plots import plot_mcrg_exponents

        plot_mcrg_exponents(
            args.plot,
            record["levels"],
            y_t_exact=y_t_exact,
            y_h_exact=y_h_exact,
            title=f"MCRG, {args.dim}D Ising at K_c, L = {args.size}",
        )
        print(f"wrote {args.plot}")
    return 0
