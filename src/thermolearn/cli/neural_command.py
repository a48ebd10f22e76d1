"""``thermolearn neural``: variational autoregressive networks and the samplers that make them exact.

- ``train``: a VAN (MADE) trained on a model file or ``--lattice`` at one temperature; prints the
  bound F_q >= F, the importance-sampling ln Z with its error and effective sample size, and the
  acceptance rate of the network as a Metropolis-Hastings proposal, against the exact answer
  (Kaufman, transfer matrices, enumeration up to 24 spins) and naive mean field.
- ``bound``: the bound and importance sampling of a saved network (``--load``) on a model.
- ``sample``: neural MCMC (the network's q as an independence proposal, mixed with local
  Metropolis sweeps) with its acceptance rate and tau_int.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from thermolearn.cli.arguments import (
    add_model_arguments,
    check_output_path,
    missing_action,
    model_from_arguments,
    parse_temperatures,
)
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_no_progress,
    add_plot,
    add_save,
    add_seed,
    add_sweeps,
    add_temperature,
    check_distinct_paths,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table, format_tau, format_value_error

NETWORK_CHOICES = ("made", "pixelcnn")  # thermolearn.neural.van.NETWORKS, named here so that --help loads nothing
SYMMETRY_CHOICES = ("auto", "on", "off")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "neural",
        help="neural samplers: variational autoregressive networks, importance sampling, neural MCMC",
        description="Autoregressive networks q(s) as variational distributions (F_q >= F) and as proposals that "
        "are made exact by importance weights p/q or by Metropolis-Hastings.",
    )
    psub = p.add_subparsers(dest="neural_command", metavar="ACTION")
    p.set_defaults(run=missing_action("neural", "train, bound or sample"))

    t = psub.add_parser(
        "train",
        help="train a VAN on a model and report F_q, the NIS ln Z, the ESS and the MH acceptance",
        description="Train a variational autoregressive network (Wu, Wang and Zhang 2019): a MADE over the spins, "
        "REINFORCE gradient of F_q = E_q[E] - T S(q) with a leave-one-out baseline and beta annealing. Then the "
        "bound F_q >= F (fresh samples, float64), ln Z by importance sampling with its error and effective sample "
        "size, and the acceptance of q as an independence Metropolis-Hastings proposal, against the exact F "
        "where it is known and naive mean field. Totals, not per spin; F = -T ln Z.",
    )
    add_model_arguments(t)
    add_temperature(t, required=True, help="the temperature T > 0 (one value)")
    _add_architecture(t)
    t.add_argument("--steps", type=positive_int, default=1000, metavar="K", help="training steps (default 1000)")
    t.add_argument(
        "--batch-size", type=positive_int, default=256, metavar="B", help="samples per training step (default 256)"
    )
    t.add_argument(
        "--learning-rate",
        type=positive_float,
        metavar="LR",
        help="Adam step size (default 0.01, or 0.003 above 64 spins)",
    )
    t.add_argument(
        "--anneal",
        type=nonnegative_float,
        default=0.25,  # neural.van.DEFAULT_ANNEAL (not imported: --help stays light)
        metavar="F",
        help="fraction of the steps over which beta rises linearly to 1/T (0: no annealing; default 0.25)",
    )
    _add_estimate_options(t)
    t.add_argument(
        "--mcmc-sweeps",
        type=nonnegative_int,
        default=100,
        metavar="N",
        help="sweeps of 8 independence-sampler chains to measure the MH acceptance (0: skip; default 100)",
    )
    add_seed(t, "the network's initial weights and the samples")
    add_save(t, "the trained network (.npz + JSON header)", required=False)
    add_checkpoint(t, "the network, optimiser state and history every --checkpoint-every steps")
    t.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=100,
        metavar="K",
        help="steps between checkpoints (default 100)",
    )
    add_json(t, '"free_energy_bound", "log_z_nis" {mean, stderr}, "effective_sample_size", "exact_log_z" and more')
    add_plot(t, "F_q per spin against the annealed beta next to the exact and mean-field F, and F_q - F per step")
    add_no_progress(t)
    t.set_defaults(run=run_train)

    b = psub.add_parser(
        "bound",
        help="the bound F_q and importance-sampling ln Z of a saved network on a model",
        description="F_q = E_q[E + T log q] >= F from fresh samples of a saved network, and ln Z from the same "
        "q reweighted by p/q (unbiased Z) with its error and effective sample size, against the exact value "
        "where it is known and naive mean field.",
    )
    add_model_arguments(b)
    _add_load(b)
    add_temperature(b, help="the temperature T > 0 (default: the one the network was trained at)")
    _add_estimate_options(b)
    add_seed(b, "the samples")
    add_json(b, '"free_energy_bound", "log_z_nis" {mean, stderr}, "effective_sample_size", "exact_log_z" and more')
    b.set_defaults(run=run_bound)

    s = psub.add_parser(
        "sample",
        help="neural MCMC with a saved network: acceptance, tau_int, E and <|M|>",
        description="Independence Metropolis-Hastings with the network's q as the proposal, after --local-sweeps "
        "single-spin Metropolis sweeps per sweep: exact at any temperature for a model of the network's size; "
        "prints the acceptance of the network's proposals, tau_int of E and |M|, and E, <|M|> with errors.",
    )
    add_model_arguments(s)
    _add_load(s)
    add_temperature(s, help="the temperature T > 0 (default: the one the network was trained at)")
    add_sweeps(s, default=1000, help="recorded sweeps per chain (default 1000)")
    s.add_argument("--chains", type=positive_int, default=8, metavar="N", help="independent chains (default 8)")
    s.add_argument("--burn-in", type=nonnegative_int, default=100, metavar="N", help="unrecorded sweeps (default 100)")
    s.add_argument(
        "--local-sweeps",
        type=nonnegative_int,
        default=1,
        metavar="K",
        help="single-spin Metropolis sweeps before each network proposal (default 1; 0: the network alone)",
    )
    add_seed(s, "the chains")
    add_json(s, '"acceptance", "tau_int_energy", "energy_mcmc" {mean, stderr} and the exact energy')
    add_plot(s, "the energy per spin of the chains against the sweep with the exact mean, and P(q) between chains")
    add_no_progress(s)
    s.set_defaults(run=run_sample)


def _add_architecture(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--network",
        choices=NETWORK_CHOICES,
        default="made",
        help="made (any model) or pixelcnn (masked convolutions, 2D lattices only); default made",
    )
    parser.add_argument(
        "--hidden",
        type=positive_int,
        metavar="H",
        help="units per hidden layer (made: default 2 per spin, 16 to 128) or channels (pixelcnn: default 16)",
    )
    parser.add_argument(
        "--depth",
        type=nonnegative_int,
        metavar="D",
        help="masked layers (made: default 1, 0 is linear; pixelcnn: default 3, at least 1)",
    )
    parser.add_argument(
        "--kernel", type=positive_int, default=3, metavar="K", help="pixelcnn kernel size, odd (default 3)"
    )
    parser.add_argument(
        "--symmetry",
        choices=SYMMETRY_CHOICES,
        default="auto",
        help="symmetrise q under s -> -s (auto: when the model has no fields)",
    )


def _add_estimate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples", type=positive_int, default=4096, metavar="N", help="samples for the bound and NIS (default 4096)"
    )
    parser.add_argument(
        "--min-ess",
        type=positive_float,
        default=100.0,
        metavar="N",
        help="effective sample size below which the NIS estimate is reported as untrustworthy (default 100)",
    )


def _add_load(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--load", required=True, metavar="NET.npz", help="a network written by neural train --save")


def _one_temperature(tokens: list[str] | None, default: float | None = None) -> float:
    if not tokens:
        if default is None:
            raise ValueError("give the temperature with --temperature T")
        return float(default)
    temps = parse_temperatures(tokens)
    if temps.size != 1:
        raise ValueError(f"--temperature takes one value here, got {temps.size}")
    return float(temps[0])


def _references(model: Any, T: float) -> dict[str, Any]:
    from thermolearn.neural.reference import exact_solution, mean_field_log_z

    exact = exact_solution(model, T)
    mf = mean_field_log_z(model, T)[0]
    return {
        "exact_log_z": None if exact is None else exact[0].log_z,
        "exact_free_energy": None if exact is None else -T * exact[0].log_z,
        "exact_energy": None if exact is None else exact[0].energy,
        "mean_field_log_z": mf,
        "mean_field_free_energy": -T * mf,
    }


def _estimates(network: Any, model: Any, T: float, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """The bound, the NIS estimate and the references as one JSON record (totals)."""
    from thermolearn.neural import free_energy_bound, neural_importance_sampling

    bound = free_energy_bound(network, model, T, n_samples=args.samples, seed=seed + 1)
    nis = neural_importance_sampling(network, model, T, n_samples=args.samples, min_ess=args.min_ess, seed=seed + 2)
    record: dict[str, Any] = {**bound.as_dict(), **nis.as_dict(), **_references(model, T)}
    exact_f = record["exact_free_energy"]
    record["relative_error"] = None if exact_f is None else (bound.free_energy - exact_f) / abs(exact_f)
    record["mean_field_relative_error"] = (
        None if exact_f is None else (record["mean_field_free_energy"] - exact_f) / abs(exact_f)
    )
    return record


def _print_estimates(record: dict[str, Any]) -> None:
    def num(x: Any, digits: int = 6) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    rows = [
        ["VAN bound F_q", num(record["free_energy_bound"]), f"{record['free_energy_bound_stderr']:.1e}", ""],
        [
            "NIS  -T ln Z",
            num(record["free_energy_nis"]["mean"]),
            f"{record['free_energy_nis']['stderr']:.1e}",
            f"ESS {record['effective_sample_size']:.0f} of {record['n_samples']}",
        ],
        ["mean field", num(record["mean_field_free_energy"]), "", ""],
        ["exact", num(record["exact_free_energy"]), "", ""],
    ]
    print(format_table(["free energy F (total)", "value", "stderr", ""], rows))
    if record["relative_error"] is not None:
        print(
            f"relative error of the bound {record['relative_error']:.2e}, of mean field "
            f"{record['mean_field_relative_error']:.2e}"
        )
    if record["warning"]:
        print(f"warning: {record['warning']}", file=sys.stderr)


def _check_samples(args: argparse.Namespace) -> None:
    if args.samples < 2:
        raise ValueError(f"--samples must be at least 2 (for an error bar), got {args.samples}")


def _check_anneal(value: float) -> float:
    if value > 1.0:
        raise ValueError(f"--anneal is a fraction of the steps in [0, 1], got {value:g}")
    return value


def run_train(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_output_path(args.checkpoint, ".npz")
    check_output_path(args.save, ".npz")
    check_distinct_paths(
        {"MODEL": args.model},
        {"--checkpoint": args.checkpoint, "--json": args.json, "--plot": args.plot, "--save": args.save},
    )
    _check_anneal(args.anneal)
    _check_samples(args)
    if args.batch_size < 2:
        raise ValueError(f"--batch-size must be at least 2 (the baseline leaves one sample out), got {args.batch_size}")
    T = _one_temperature(args.temperature)
    model = model_from_arguments(args)
    from thermolearn.neural import neural_mcmc, train_van
    from thermolearn.neural.network_files import save_network
    from thermolearn.neural.van import model_digest

    symmetric = {"auto": None, "on": True, "off": False}[args.symmetry]
    progress = False if args.no_progress else None
    result = train_van(
        model,
        T,
        network=args.network,
        hidden=args.hidden,
        depth=args.depth,
        kernel=args.kernel,
        symmetric=symmetric,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        anneal=args.anneal,
        n_eval=max(args.samples, 2),
        seed=args.seed,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=progress,
    )
    net = result.network
    print(
        f"VAN: {model.name or 'model'} ({model.n_spins} spins) at T = {T:g}; {describe(net)}; "
        f"{result.steps} steps of {args.batch_size} samples"
        + (f"; resumed at step {result.resumed_from}" if result.resumed_from else "")
    )
    record = {**result.as_dict(), **_estimates(net, model, T, args, args.seed)}
    acceptance = None
    if args.mcmc_sweeps:
        run = neural_mcmc(
            net, model, T, n_chains=8, n_sweeps=max(args.mcmc_sweeps, 4), burn_in=10, local_sweeps=0, seed=args.seed
        )
        acceptance = run.global_acceptance
        record["tau_int_energy"] = run.tau_energy
    record["acceptance"] = acceptance
    _print_estimates(record)
    if acceptance is not None:
        tau = format_tau(run.tau_energy, run.energy_stderr, ".2f")
        print(f"independence Metropolis-Hastings with q: acceptance {acceptance:.3f}, tau_int(E) {tau}")
    if args.save:
        info = {"temperature": T, "model": model_digest(model), "n_spins": model.n_spins, "steps": result.steps}
        save_network(args.save, net, info=info)
        print(f"wrote {args.save}")
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot_training(args.plot, result, model, T)
        print(f"wrote {args.plot}")
    if not math.isfinite(record["free_energy_bound"]):
        raise FloatingPointError("the free energy bound is not finite")
    return 0


def describe(network: Any) -> str:
    """One phrase for the architecture of a network."""
    c = network.config
    if network.network == "pixelcnn":
        what = f"PixelCNN depth {c.depth}, {c.channels} channels, {c.kernel}x{c.kernel} kernels"
    else:
        what = f"MADE depth {c.depth}, hidden {c.hidden}"
    return what + (", Z2-symmetric" if c.symmetric else "") + f" ({c.n_parameters} parameters)"


def _plot_training(path: str, result: Any, model: Any, T: float) -> None:
    import numpy as np

    from thermolearn.neural.reference import exact_log_z, mean_field_log_z
    from thermolearn.viz.neural_plots import plot_van_training

    beta = 1.0 / T
    grid = np.linspace(min(float(result.betas[0]), beta), beta, 40)
    exact = exact_log_z(model, 1.0 / grid)
    mf = mean_field_log_z(model, 1.0 / grid)
    plot_van_training(
        path,
        result.betas,
        result.history,
        reference_betas=grid,
        exact_free_energy=None if exact is None else [-z / b for z, b in zip(exact, grid)],
        mean_field_free_energy=[-z / b for z, b in zip(mf, grid)],
        bound=result.bound.free_energy,
        bound_stderr=result.bound.free_energy_stderr,
        n_spins=model.n_spins,
        title=f"VAN on {model.name or 'the model'} ({model.n_spins} spins), T = {T:g}",
    )


def _load(args: argparse.Namespace) -> tuple[Any, Any, float, dict[str, Any]]:
    from pathlib import Path

    from thermolearn.neural.network_files import load_network
    from thermolearn.neural.van import check_network_for, model_digest

    if not Path(args.load).is_file():
        raise ValueError(f"--load: no such network file: {args.load}")
    network, info = load_network(args.load)
    model = model_from_arguments(args)
    if network.n_spins != model.n_spins:
        raise ValueError(
            f"--load {args.load} is a network for {network.n_spins} spins, but the model (MODEL or --lattice) "
            f"has {model.n_spins}"
        )
    check_network_for(network, model)
    trained_T = info.get("temperature")
    T = _one_temperature(args.temperature, trained_T if isinstance(trained_T, (int, float)) else None)
    context = {
        "network_file": str(args.load),
        "architecture": network.config.as_dict(),
        "trained_temperature": trained_T,
        "trained_on_this_model": info.get("model") == model_digest(model),
    }
    return network, model, T, context


def run_bound(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_distinct_paths({"MODEL": args.model, "--load": args.load}, {"--json": args.json})
    _check_samples(args)
    network, model, T, context = _load(args)
    print(f"network {args.load} on {model.name or 'model'} ({model.n_spins} spins) at T = {T:g}")
    record = {**context, **_estimates(network, model, T, args, args.seed)}
    _print_estimates(record)
    if args.json:
        write_json(args, record)
    return 0


def run_sample(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({"MODEL": args.model, "--load": args.load}, {"--json": args.json, "--plot": args.plot})
    if args.sweeps < 4:
        raise ValueError(f"--sweeps must be at least 4 (for tau_int), got {args.sweeps}")
    network, model, T, context = _load(args)
    from thermolearn.neural import neural_mcmc

    run = neural_mcmc(
        network,
        model,
        T,
        n_chains=args.chains,
        n_sweeps=args.sweeps,
        burn_in=args.burn_in,
        local_sweeps=args.local_sweeps,
        seed=args.seed,
        progress=False if args.no_progress else None,
    )
    refs = _references(model, T)
    print(
        f"neural MCMC: {model.name or 'model'} ({model.n_spins} spins) at T = {T:g}, {args.chains} chains x "
        f"{args.sweeps} sweeps, {args.local_sweeps} local sweep(s) per network proposal"
    )
    rows = [
        ["acceptance of q's proposals", f"{run.global_acceptance:.4f}", ""],
        ["tau_int(E) [sweeps]", format_tau(run.tau_energy, run.energy_stderr, ".2f"), ""],
        ["tau_int(|M|) [sweeps]", format_tau(run.tau_abs_magnetization, run.abs_magnetization_stderr, ".2f"), ""],
        ["<E>", format_value_error(run.energy, run.energy_stderr, style="pm"), _fmt(refs["exact_energy"])],
        ["<|M|>", format_value_error(run.abs_magnetization, run.abs_magnetization_stderr, style="pm"), ""],
    ]
    print(format_table(["quantity", "neural MCMC", "exact"], rows))
    if args.json:
        record = {**context, **run.as_dict(), "exact_energy": refs["exact_energy"]}
        if run.overlaps.size:
            centres, probabilities = run.overlap_distribution()
            record["overlap_distribution"] = {"q": centres.tolist(), "probability": probabilities.tolist()}
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.neural_plots import plot_neural_mcmc

        plot_neural_mcmc(
            args.plot,
            run.energies,
            exact_energy=refs["exact_energy"],
            overlap_distribution=run.overlap_distribution() if run.overlaps.size else None,
            n_spins=model.n_spins,
            title=f"neural MCMC, T = {T:g}, acceptance {run.global_acceptance:.2f}",
        )
        print(f"wrote {args.plot}")
    return 0


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6f}"
