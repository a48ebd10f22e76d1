"""``thermolearn rg``: renormalisation (decimate, migdal-kadanoff, mcrg, rbm).

- ``decimate``: the exact decimation flow of the 1D chain, (K, h) -> (K', h') with its constants,
  and ln Z / N rebuilt from them against the transfer matrix.
- ``migdal-kadanoff``: the fixed point K*, thermal eigenvalue and nu of bond moving on the square
  or cubic lattice, and its flow diagram.
- ``mcrg``: Swendsen's Monte Carlo RG at the critical point: y_T and y_h per blocking level with
  bootstrap error bars, from Swendsen-Wang (or Wolff) samples.
- ``rbm``: the RBM-as-RG experiment (Mehta and Schwab 2014): stacked RBMs trained on critical
  Ising samples against majority-rule block spins: locality of receptive fields, the fitted
  nearest-neighbour coupling of every layer, the flow's direction and rate, ln Z / N per layer.
"""

from __future__ import annotations

import argparse
import math

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_sizes,
    finite_float,
    nonnegative_float,
    nonnegative_int,
    open_fraction,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table, format_value_error, no_negative_zero

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
        help="renormalisation: exact 1D decimation, Migdal-Kadanoff, Monte Carlo RG exponents, RBM as RG",
        description="The renormalisation group made runnable: the exact decimation flow of the 1D chain and its "
        "free energy, Migdal-Kadanoff bond moving on the square and cubic lattices, Swendsen's Monte Carlo RG "
        "(block spins at the critical point, the linearised RG matrix, y_T and y_h with bootstrap errors), and the "
        "RBM-as-RG experiment (stacked RBMs against majority-rule block spins).",
    )
    psub = p.add_subparsers(dest="rg_command", metavar="ACTION")
    p.set_defaults(run=missing_action("rg", "decimate, migdal-kadanoff, mcrg or rbm"))

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
    add_checkpoint(c, "the sampling run (chains, tie-breaks, operator series)")
    c.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=200,
        metavar="N",
        help="checkpoint period in sweeps (default 200)",
    )
    c.set_defaults(run=run_mcrg_command)

    r = psub.add_parser(
        "rbm",
        help="the RBM-as-RG experiment: stacked RBMs on critical Ising samples against block spins",
        description="Mehta and Schwab (2014), made to pass or fail: train RBMs L^2 -> (L/b)^2 -> ... layer by layer "
        "(CD-k with an L1 penalty) on Swendsen-Wang samples of the 2D Ising model at K_c; measure whether receptive "
        "fields are local (fraction of |W| in a b x b block), fit every layer's spins by pseudo-likelihood for "
        "ensembles at K_c (1 -+ delta) and K_c, and compare the nearest-neighbour coupling's flow with majority-rule "
        "block spins of the same samples and with RG (differences grow by b^{y_T} = b per level). Also ln Z / N of "
        "each layer's nearest-neighbour model (Kaufman) against the exact visible one.",
    )
    add_sizes(r, required=False, help="visible lattice side (one value; default 16)")
    r.add_argument("--levels", type=positive_int, default=2, metavar="N", help="stacked RBMs (default 2)")
    r.add_argument("--b", type=factor_value, default=2, metavar="B", help="block side per level, >= 2 (default 2)")
    r.add_argument(
        "--samples", type=positive_int, default=4000, metavar="S", help="configurations per ensemble (default 4000)"
    )
    r.add_argument(
        "--delta",
        type=open_fraction,
        default=0.05,
        metavar="D",
        help="ensembles at K_c (1 -+ D), 0 < D < 1 (default 0.05)",
    )
    r.add_argument("--epochs", type=positive_int, default=40, help="epochs per layer (default 40)")
    r.add_argument("--batch-size", type=positive_int, default=50, metavar="B", help="minibatch (default 50)")
    r.add_argument("--learning-rate", type=positive_float, default=0.1, metavar="LR", help="step size (default 0.1)")
    r.add_argument(
        "--momentum", type=nonnegative_float, default=0.5, metavar="M", help="momentum in [0, 1) (default 0.5)"
    )
    r.add_argument(
        "--l1", type=nonnegative_float, default=0.01, metavar="L1", help="L1 penalty on the weights (default 0.01)"
    )
    r.add_argument("--k", type=positive_int, default=1, help="Gibbs sweeps per CD update (default 1)")
    r.add_argument("--sampler", choices=SAMPLER_CHOICES, default="sw", help="cluster sampler (default sw)")
    r.add_argument("--burn-in", type=nonnegative_int, default=100, metavar="N", help="burn-in sweeps (default 100)")
    r.add_argument(
        "--sweeps-between", type=positive_int, default=5, metavar="N", help="sweeps between samples (default 5)"
    )
    add_seed(r, "the samples, initial weights, minibatches and hidden draws")
    add_json(r, "per layer: locality, fitted and block-spin couplings, rates, ln Z / N; the verdict")
    add_plot(r, "receptive fields next to block-spin kernels, and the couplings per level")
    add_no_progress(r)
    add_checkpoint(r, "the training (finished layers, the current layer and its momentum)")
    r.add_argument(
        "--checkpoint-every", type=positive_int, default=1, metavar="N", help="checkpoint period in epochs (default 1)"
    )
    r.set_defaults(run=run_rbm_command)


def _fmt(x: float | None, digits: int = 6) -> str:
    """x to ``digits`` decimals; "-" for a missing (None, NaN) value, "inf"/"-inf" kept, never "-0"."""
    if x is None or math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return no_negative_zero(f"{x:.{digits}f}")


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
    check_output_path(args.checkpoint, ".npz")
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
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
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
            format_value_error(lv["y_t"]["mean"], lv["y_t"]["stderr"], style="pm"),
            format_value_error(lv["nu"]["mean"], lv["nu"]["stderr"], style="pm"),
            format_value_error(lv["y_h"]["mean"], lv["y_h"]["stderr"], style="pm"),
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


def run_rbm_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_output_path(args.checkpoint, ".npz")
    if len(args.size) > 1:
        raise ValueError(f"--size takes one lattice side for rg rbm, got {len(args.size)}: {args.size}")
    size = args.size[0] if args.size else 16
    if not 0.0 <= args.momentum < 1.0:
        raise ValueError(f"--momentum must be in [0, 1), got {args.momentum}")
    from thermolearn.rg.receptive_fields import check_layer_sides
    from thermolearn.runs.rbm_rg import SAMPLES_PER_FITTED_SPIN, rbm_renormalisation

    try:
        sides = check_layer_sides(size, args.b, args.levels)
    except ValueError as exc:
        message = (
            str(exc)
            .replace("block size b =", "block size --b")
            .replace("size =", "--size")
            .replace("levels =", "--levels")
        )
        raise ValueError(message) from None
    need = SAMPLES_PER_FITTED_SPIN * sides[1] ** 2
    if args.samples < need:
        raise ValueError(
            f"--samples {args.samples} is too few to fit the first hidden layer ({sides[1] ** 2} spins) by "
            f"pseudo-likelihood: need at least {need}"
        )
    if args.batch_size > args.samples:
        raise ValueError(f"--batch-size {args.batch_size} is larger than --samples {args.samples}")
    result = rbm_renormalisation(
        size,
        levels=args.levels,
        b=args.b,
        n_samples=args.samples,
        delta=args.delta,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        momentum=args.momentum,
        l1_penalty=args.l1,
        k=args.k,
        sampler=args.sampler,
        burn_in=args.burn_in,
        sweeps_between=args.sweeps_between,
        seed=args.seed,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=False if args.no_progress else None,
    )
    record = result.as_dict()
    k = record["couplings"]
    print(
        f"RBM as RG: {' -> '.join(str(n) for n in record['layer_sizes'])} on the {size} x {size} Ising model, "
        f"{record['samples']} samples per ensemble at K = {k['below']:.4f}, {k['critical']:.4f} (K_c), {k['above']:.4f}; "
        f"CD-{args.k}, {args.epochs} epochs per layer, L1 {args.l1:g}"
    )
    rows = [
        ["0 (visible)", "", ""]
        + [
            (_fmt(record["visible"][n]["fitted"]["coupling"], 4) if "fitted" in record["visible"][n] else "not fitted")
            + f" (exact {k[n]:.4f})"
            for n in k
        ]
        + ["", ""]
    ]
    for layer in record["layers"]:
        for mapping, label in (("rbm", "RBM"), ("block", "majority")):
            loc = layer["locality"]["mean"] if mapping == "rbm" else layer["locality"]["block_spin"]
            rate = layer[mapping]["rate"]
            rows.append(
                [
                    f"{layer['level']} ({layer['side']}x{layer['side']})",
                    label,
                    _fmt(loc, 3),
                    *[
                        format_value_error(layer[mapping][n]["coupling"], layer[mapping][n]["stderr"], style="pm")
                        for n in k
                    ],
                    format_value_error(rate["mean"], rate["stderr"], style="pm"),
                    _fmt(layer[mapping]["critical"].get("log_z_per_spin_nn_model"), 4),
                ]
            )
    print(
        format_table(
            ["level", "map", "locality", "K_nn below", "K_nn at K_c", "K_nn above", "rate (RG: b)", "ln Z/N (nn, K_c)"],
            rows,
        )
    )
    v = record["verdict"]
    print(
        f"locality: fraction of |W| in the b x b block at the unit's centre (in a 2b x 2b block: "
        f"{', '.join(_fmt(lv['locality']['mean_window_2b'], 3) for lv in record['layers'])}); baseline for weights "
        f"spread evenly {record['layers'][0]['locality']['uniform_baseline']:.4f}; "
        f"exact ln Z/N of the visible model at K_c {record['visible']['critical']['exact_log_z_per_spin']:.6f}"
    )
    print(
        f"verdict: receptive fields local (2b x 2b): {v['receptive_fields_local']}, block-like (b x b): "
        f"{v['receptive_fields_block_like']}; RBM flow direction as RG: "
        f"{v['rbm_direction_as_rg']}, rate as RG (b^y_T = {v['rg_rate']:g}): {v['rbm_rate_as_rg']}, rate as block "
        f"spins: {v['rbm_rate_as_block']}; block spins: direction {v['block_direction_as_rg']}, rate "
        f"{v['block_rate_as_rg']}; RBM is RG: {v['rbm_is_rg']}"
    )
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.rg.receptive_fields import block_spin_kernels
        from thermolearn.viz.rg_plots import plot_rbm_rg

        kernels = [block_spin_kernels(sides[m], args.b) for m in range(len(sides) - 1)]
        plot_rbm_rg(args.plot, result.fields, kernels, record)
        print(f"wrote {args.plot}")
    return 0
