"""``thermolearn pbits``: probabilistic computing with p-bits (gate, factor, sample).

- ``gate``: an invertible logic gate run forward or inverted (``--clamp``), P(valid) and the
  visible-state law against exact enumeration.
- ``factor``: factorisation by a p-bit multiplier run backwards, success against sweeps.
- ``sample``: a model under each p-bit update model, the bias against Boltzmann measured.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_sweeps,
    nonnegative_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_number, format_table, format_value_error

# thermolearn.pbits' GATE_NAMES and UPDATE_MODELS, named here so that --help loads no kernels
GATE_CHOICES = ("and", "or", "xor", "half-adder", "full-adder")
UPDATE_CHOICES = ("sequential", "chromatic", "synchronous", "asynchronous")


def eta_value(text: str) -> float:
    """argparse type of ``--eta``: f_comm / f_pbit, a number > 0 or ``inf``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or inf, got {text!r}") from None
    if math.isnan(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a number > 0 or inf, got {text!r} (eta <= 0 never delivers neighbour states: not ergodic)"
        )
    return value


def clamp_value(text: str) -> tuple[str, int]:
    """argparse type of ``--clamp``: ``NAME=VALUE`` with VALUE the bit 0 or 1."""
    name, sep, value = text.partition("=")
    if not sep or not name or value not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"expected NAME=0 or NAME=1 (a terminal and a bit), got {text!r}")
    return name, int(value)


def _common(p: argparse.ArgumentParser, *, i0: float, sweeps: int, chains: int, what: str) -> None:
    p.add_argument(
        "--i0",
        type=nonnegative_float,
        default=i0,
        metavar="I",
        help=f"inverse temperature I0 (beta) that scales every coupling and field, >= 0 (default {i0:g})",
    )
    add_sweeps(p, default=sweeps, help=f"sweeps per chain (default {sweeps})")
    p.add_argument(
        "--chains", type=positive_int, default=chains, metavar="N", help=f"independent chains (default {chains})"
    )
    p.add_argument(
        "--eta",
        type=eta_value,
        default=10.0,
        metavar="ETA",
        help="asynchronous updates only: f_comm / f_pbit, how often the state is broadcast per p-bit update "
        "time, > 0 or inf (default 10)",
    )
    p.add_argument(
        "--update-time",
        type=nonnegative_float,
        default=None,
        metavar="TAU",
        help="asynchronous updates only: mean duration of a p-bit update, >= 0, in units of the mean time between "
        "a p-bit's clock ticks (default 0: instant)",
    )
    p.add_argument(
        "--partitions",
        type=positive_int,
        default=None,
        metavar="K",
        help="asynchronous updates only: cut the free p-bits, in index order, into K contiguous partitions that "
        "read each other at once (others through the --eta broadcasts); default: every p-bit alone",
    )
    add_seed(p, what)


def _async_knobs(args: argparse.Namespace, updates: list[str]) -> dict[str, Any]:
    """``update_time`` and ``partitions`` for the library, refused unless asynchronous updates run."""
    for option, value in (("--update-time", args.update_time), ("--partitions", args.partitions)):
        if value is not None and "asynchronous" not in updates:
            raise ValueError(
                f"{option} applies to --update asynchronous only (got --update {', '.join(updates)}); "
                f"drop {option} or pass --update asynchronous"
            )
    return {"update_time": args.update_time or 0.0, "partitions": args.partitions}


def _async_record(args: argparse.Namespace, update: str) -> dict[str, Any]:
    """The asynchronous knobs as a JSON record (None for other update models)."""
    on = update == "asynchronous"
    return {
        "eta": args.eta if on else None,
        "update_time": (args.update_time or 0.0) if on else None,
        "partitions": args.partitions if on else None,
    }


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pbits",
        help="probabilistic computing with p-bits: invertible gates, factoring, update models",
        description="p-bit machines (m = sgn(tanh(I0 I) - u)) simulated honestly: what each hardware update rule "
        "samples against the exact Boltzmann distribution, invertible logic compiled from truth tables, and "
        "factorisation by a multiplier run backwards.",
    )
    psub = p.add_subparsers(dest="pbits_command", metavar="ACTION")
    p.set_defaults(run=missing_action("pbits", "gate, factor or sample"))

    g = psub.add_parser(
        "gate",
        help="an invertible gate run forward or inverted, against enumeration",
        description="Sample a p-bit gate with some terminals clamped and compare P(valid) and the law of the free "
        "terminals with exact enumeration. Clamp the inputs to compute forward, the outputs to invert.",
    )
    g.add_argument("gate", choices=GATE_CHOICES, help="the gate")
    g.add_argument(
        "--update",
        choices=UPDATE_CHOICES,
        default="sequential",
        help="p-bit update model (default sequential)",
    )
    g.add_argument(
        "--clamp",
        type=clamp_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a terminal (A, B, C; full adder A, B, Cin, S, Cout; half adder A, B, S, C) to the bit 0 or 1; "
        "repeatable",
    )
    _common(g, i0=1.0, sweeps=10_000, chains=8, what="the chains")
    add_json(g, "p_valid, p_valid_exact, tv_distance and the sampled and exact laws")
    add_plot(g, "sampled against exact probabilities of the free terminals")
    add_no_progress(g)
    g.set_defaults(run=run_gate_command)

    f = psub.add_parser(
        "factor",
        help="factor N by running a p-bit multiplier backwards",
        description="Clamp the product of a W x W-bit multiplier of p-bits to N and sample: the chains wander "
        "into the factorisations p q = N. Prints the factors, the chance of finding them within --sweeps with "
        "its error bar, and the exact stationary chance where the free p-bits can be enumerated.",
    )
    f.add_argument("n", type=positive_int, metavar="N", help="the composite number to factor (>= 4)")
    f.add_argument(
        "--width",
        type=positive_int,
        default=None,
        metavar="W",
        help="bits per factor (default: the fewest that hold a factorisation)",
    )
    f.add_argument(
        "--update",
        choices=UPDATE_CHOICES,
        default="sequential",
        help="p-bit update model (default sequential)",
    )
    _common(f, i0=0.5, sweeps=1000, chains=64, what="the chains")
    add_json(f, "factors, success_probability, p_bits and the success curve")
    add_plot(f, "P(factor found) against sweeps with 95%% Wilson intervals")
    add_no_progress(f)
    f.set_defaults(run=run_factor_command)

    s = psub.add_parser(
        "sample",
        help="a small model under each p-bit update model, against the exact distribution",
        description="Run a model (at most 20 p-bits) under each update model and measure the total-variation "
        "distance of the sampled states from exp(-I0 E) / Z, with its error bar over chains, next to the exact "
        "bias of the update model (synchronous: Peretto's law; asynchronous: the chain with delayed "
        "broadcasts, up to 7 p-bits).",
    )
    s.add_argument("model", help="model file: a .npz written by Ising.save, or an edge-list text file (Gset format)")
    s.add_argument(
        "--update",
        choices=UPDATE_CHOICES,
        action="append",
        default=None,
        help="an update model to run; repeatable (default: all four)",
    )
    _common(s, i0=1.0, sweeps=20_000, chains=8, what="the chains")
    add_json(s, "per update model the TV distance to Boltzmann and the exact bias")
    add_plot(s, "sampled against exact state probabilities, one panel per update model")
    add_no_progress(s)
    s.set_defaults(run=run_sample_command)


def _progress(args: argparse.Namespace) -> bool | None:
    return False if args.no_progress else None


def _fmt(estimate: Any) -> str:
    """mean +- stderr with the digits the error bar supports ("-" for an undefined or zero error)."""
    if estimate.stderr == 0:
        return f"{format_number(float(estimate.mean))} (the same in every chain: no error bar)"
    return format_value_error(estimate.mean, estimate.stderr, style="pm").replace("±", "+-")


def _found(result: Any) -> tuple[int, tuple[float, float]]:
    """How many chains found a factorisation within the sweeps, and its 95% Wilson interval."""
    from thermolearn.estimators.proportions import wilson_interval

    found = round(result.success_probability.mean * result.n_chains)
    return found, wilson_interval(found, result.n_chains)


def _found_text(result: Any) -> str:
    found, (low, high) = _found(result)
    return f"{found} of {result.n_chains} chains (95% Wilson [{low:.3g}, {high:.3g}])"


def run_gate_command(args: argparse.Namespace) -> int:
    from thermolearn.pbits.invertible import run_gate

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    from thermolearn.pbits.gates import truth_table

    terminals = truth_table(args.gate).names
    clamps: dict[str, int] = {}
    for name, bit in args.clamp:
        if name not in terminals:
            raise ValueError(f"--clamp {name}={bit}: the {args.gate} gate has terminals {', '.join(terminals)}")
        if name in clamps and clamps[name] != bit:
            raise ValueError(f"--clamp {name} is given twice with different bits ({clamps[name]} and {bit})")
        clamps[name] = bit
    if args.chains < 2:
        raise ValueError(f"--chains must be at least 2 (error bars come from independent chains), got {args.chains}")
    if len(clamps) == len(terminals):
        raise ValueError(f"--clamp fixes every terminal of the {args.gate} gate: leave at least one free to sample")
    knobs = _async_knobs(args, [args.update])
    result = run_gate(
        args.gate,
        i0=args.i0,
        update=args.update,
        n_sweeps=args.sweeps,
        n_chains=args.chains,
        clamps=clamps,
        eta=args.eta,
        seed=args.seed,
        progress=_progress(args),
        **knobs,
    )
    clamp_text = ", ".join(f"{k}={v}" for k, v in clamps.items()) or "none"
    print(
        f"{args.gate} gate, I0 = {result.i0:g}, {result.update} updates, {result.n_sweeps} sweeps x "
        f"{result.n_chains} chains, clamped: {clamp_text}"
    )
    rows = [["".join(str(r["bits"][v]) for v in result.visible), r["sampled"], r["exact"]] for r in result.rows()]
    print(format_table([" ".join(result.visible) + " (bits)", "sampled", "exact"], rows))
    print(
        f"P(valid): {_fmt(result.p_valid)}   exact {result.p_valid_exact:.4f}   Boltzmann {result.p_valid_boltzmann:.4f}"
    )
    print(f"TV distance to the exact law: {_fmt(result.tv_distance)} (noise floor {result.tv_noise_floor:.4f})")
    if args.json:
        write_json(args, result.as_dict() | _async_record(args, result.update))
    if args.plot:
        from thermolearn.viz.pbits_plots import plot_distributions

        labels = [row[0] for row in rows]
        plot_distributions(
            args.plot,
            [(f"{result.update}, I0 = {result.i0:g}", labels, result.sampled, result.exact)],
            title=f"{args.gate} gate, clamped: {clamp_text}",
        )
        print(f"wrote {args.plot}")
    return 0


def run_factor_command(args: argparse.Namespace) -> int:
    from thermolearn.pbits.factoring import factor

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.chains < 2:
        raise ValueError(f"--chains must be at least 2 (error bars come from independent chains), got {args.chains}")
    knobs = _async_knobs(args, [args.update])
    result = factor(
        args.n,
        width=args.width,
        i0=args.i0,
        n_sweeps=args.sweeps,
        n_chains=args.chains,
        update=args.update,
        eta=args.eta,
        seed=args.seed,
        progress=_progress(args),
        **knobs,
    )
    print(
        f"N = {result.n}: {result.width} x {result.width}-bit multiplier, {result.p_bits} p-bits "
        f"({result.free_p_bits} free), I0 = {result.i0:g}, {result.update} updates, {result.n_sweeps} sweeps x "
        f"{result.n_chains} chains"
    )
    exact = result.stationary_probability_exact
    rows = [
        ["found within the sweeps", _found_text(result), ""],
        ["fraction of sweeps on it", _fmt(result.stationary_probability), "" if exact is None else f"{exact:.4f}"],
    ]
    print(format_table(["success probability", "sampled", "exact"], rows))
    if result.factors:
        print(f"factors: {result.factors[0]} x {result.factors[1]}")
    else:
        print("no factorisation found: try more --sweeps or --chains, or another --i0")
    if args.json:
        found, wilson = _found(result)
        extra = {"success_chains": found, "success_wilson_95": list(wilson)}
        write_json(args, result.as_dict() | extra | _async_record(args, result.update))
    if args.plot:
        from thermolearn.viz.pbits_plots import plot_success_curve

        plot_success_curve(
            args.plot,
            [
                (
                    f"N = {result.n}, I0 = {result.i0:g}",
                    result.curve_sweeps,
                    result.curve_success,
                    result.curve_low,
                    result.curve_high,
                )
            ],
            title=f"{result.p_bits} p-bits, {result.n_chains} chains, {result.update}",
        )
        print(f"wrote {args.plot}")
    return 0


def _delayed_law(model: Any, i0: float, args: argparse.Namespace) -> Any:
    """The exact law of the delayed asynchronous chain, or None where it is too large to solve."""
    from thermolearn.pbits.stationary import MAX_DELAYED_STATES, stationary_distribution

    n = model.n_spins
    size = 2**n * (1 if math.isinf(args.eta) else 2**n) * (3**n if args.update_time else 1)
    if size > MAX_DELAYED_STATES:
        return None
    return stationary_distribution(
        model, i0, "asynchronous", eta=args.eta, update_time=args.update_time or 0.0, partitions=args.partitions
    )


def run_sample_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from thermolearn.models.ising import Ising
    from thermolearn.pbits.stationary import (
        MAX_ASYNCHRONOUS_SPINS,
        boltzmann_distribution,
        stationary_distribution,
        total_variation,
        tv_distance,
        tv_noise_floor,
    )
    from thermolearn.pbits.updates import MAX_HISTOGRAM_BITS, check_ergodic_beta, run_pbits

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.chains < 2:
        raise ValueError(f"--chains must be at least 2 (error bars come from independent chains), got {args.chains}")
    path = Path(args.model)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    model = Ising.load(path) if path.suffix == ".npz" else Ising.from_edgelist(path)
    if model.n_spins > MAX_HISTOGRAM_BITS:
        raise ValueError(
            f"pbits sample compares with the exact distribution: at most {MAX_HISTOGRAM_BITS} p-bits, "
            f"this model has {model.n_spins}"
        )
    i0 = check_ergodic_beta(model, args.i0, name="--i0")
    updates = list(dict.fromkeys(args.update or UPDATE_CHOICES))
    knobs = _async_knobs(args, updates)
    boltzmann = boltzmann_distribution(model, i0)
    print(f"{model!r}: I0 = {i0:g}, {args.sweeps} sweeps x {args.chains} chains")
    record: dict[str, Any] = {"model": str(path), "n_spins": model.n_spins, "i0": i0, "updates": {}}
    rows, panels = [], []
    for k, update in enumerate(updates):
        run = run_pbits(
            model,
            beta=i0,
            update=update,
            n_sweeps=args.sweeps,
            n_chains=args.chains,
            eta=args.eta,
            seed=args.seed + k,
            progress=_progress(args),
            **(knobs if update == "asynchronous" else {}),
        )
        tv = total_variation(run, boltzmann)
        floor = tv_noise_floor(run)
        own = None
        delayed = update == "asynchronous" and (args.update_time or args.partitions is not None)
        if delayed:
            own = _delayed_law(model, i0, args)
        elif update != "asynchronous" or model.n_spins <= MAX_ASYNCHRONOUS_SPINS or math.isinf(args.eta):
            own = stationary_distribution(model, i0, update, eta=args.eta)
        bias = None if own is None else tv_distance(own, boltzmann)
        to_own = None if own is None else total_variation(run, own)
        record["updates"][update] = {
            "tv_distance": tv.as_dict(),
            "tv_noise_floor": floor,
            "bias_exact": bias,
            "tv_to_own_law": None if to_own is None else to_own.as_dict(),
        } | _async_record(args, update)
        rows.append([update, _fmt(tv), f"{floor:.4f}", "" if bias is None else f"{bias:.4f}"])
        labels = [format(code, f"0{model.n_spins}b")[::-1] for code in range(boltzmann.size)]
        panels.append((f"{update}: TV {tv.mean:.3g}", labels, run.frequencies().mean(axis=0), boltzmann))
    print(format_table(["update", "TV to Boltzmann", "noise floor", "exact bias"], rows))
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.pbits_plots import plot_distributions

        plot_distributions(args.plot, panels, title=f"{model.n_spins} p-bits at I0 = {i0:g} (exact: Boltzmann)")
        print(f"wrote {args.plot}")
    return 0
