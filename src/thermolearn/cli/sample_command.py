"""``thermolearn sample``: Monte Carlo on any model file at one temperature."""

from __future__ import annotations

import argparse

from thermolearn.cli.arguments import add_model_arguments, check_output_path, model_from_arguments, parse_temperatures
from thermolearn.cli.ising_command import SAMPLER_CHOICES
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_sweeps,
    add_temperature,
    nonnegative_int,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table, value_error_parts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        help="Monte Carlo samples of any model at one temperature: energy, <s_i>, tau_int, acceptance",
        description="Runs a sampler on a model file (.npz or edge list) or --lattice and reports the mean energy "
        "and every <s_i> with error bars.",
    )
    add_model_arguments(p)
    add_temperature(p, required=True, help="the temperature T > 0 (k_B = 1)")
    p.add_argument(
        "--algorithm",
        default="metropolis",
        metavar="NAME",
        help=f"sampler: one of {', '.join(k for k in SAMPLER_CHOICES if k != 'pt')} (default metropolis)",
    )
    add_sweeps(p, default=10000, help="measurement sweeps (default 10000)")
    p.add_argument("--burn-in", type=nonnegative_int, default=1000, metavar="N", help="discarded sweeps (default 1000)")
    p.add_argument("--chains", type=positive_int, default=1, metavar="N", help="independent chains (default 1)")
    add_seed(p, "the chains")
    add_checkpoint(p, "checkpoint file")
    p.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=1000,
        metavar="SWEEPS",
        help="sweeps between checkpoints (default 1000)",
    )
    add_json(p)
    add_plot(p, "the energy of each chain against sweeps and every <s_i> with its error bar")
    add_no_progress(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.estimators.observables import Estimate
    from thermolearn.runs.sample import sample
    from thermolearn.samplers.registry import SAMPLERS, make_sampler

    temps = parse_temperatures(args.temperature)
    if temps.size != 1:
        raise ValueError(f"sample runs at one temperature, got {temps.size} from -T {' '.join(args.temperature)}")
    args.temperature = float(temps[0])
    if args.algorithm not in SAMPLERS or SAMPLERS[args.algorithm].needs_ladder:
        allowed = sorted(k for k, cls in SAMPLERS.items() if not cls.needs_ladder)
        raise ValueError(
            f"--algorithm must be one of {', '.join(allowed)} (pt needs a ladder: use `thermolearn ising`), "
            f"got {args.algorithm!r}"
        )
    if args.sweeps < 2:  # before the run: its error bars need two samples
        raise ValueError(f"--sweeps must be at least 2 (error bars need two samples), got {args.sweeps}")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.checkpoint:
        check_output_path(args.checkpoint, ".npz")
    model = model_from_arguments(args)
    result = sample(
        model,
        make_sampler(args.algorithm),
        args.temperature,
        sweeps=args.sweeps,
        burn_in=args.burn_in,
        n_chains=args.chains,
        seed=args.seed,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=False if args.no_progress else None,
    )
    obs = result.at()
    e = obs.energy_per_spin
    print(
        f"{model!r} at T = {args.temperature:g} by {args.algorithm}: {result.sweeps} sweeps x {args.chains} chain(s), "
        f"{result.wall_time:.2f} s"
    )
    n = model.n_spins
    tau = obs.tau_energy
    rows = [
        ["energy (total)", *value_error_parts(e.mean * n, e.stderr * n)],
        ["energy per spin", *value_error_parts(e.mean, e.stderr)],
        ["|m|", *value_error_parts(obs.abs_magnetization.mean, obs.abs_magnetization.stderr)],
        # a frozen chain has no autocorrelation time to measure (the 0.5 of a constant series is no tau)
        ["tau_int (energy, sweeps)", "- (frozen)", "-"]
        if obs.frozen
        else ["tau_int (energy, sweeps)", *value_error_parts(tau.tau * result.thin, tau.tau_stderr * result.thin)],
        ["acceptance", f"{result.acceptance:.4g}", ""],
    ]
    print(format_table(["quantity", "mean", "stderr"], rows))
    if obs.frozen:
        print(
            "warning: neither E nor M changed in the recorded samples: the chain never left one state, so there "
            "is no error bar (more sweeps, a higher temperature, or --algorithm wolff / sw)"
        )
    elif not obs.reliable:
        print("warning: the run is short for its autocorrelation time; error bars are likely too small")
    assert result.mean_spin is not None and result.mean_spin_stderr is not None  # sample keeps site means
    site_reliable = result.mean_spin_reliable
    assert site_reliable is not None
    if not site_reliable[0]:
        print(
            "warning: the batches behind the <s_i> error bars are shorter than 10 tau_int of m; those error bars "
            "are likely too small (more sweeps)"
        )
    # an undefined error bar (one batch) is null, never 0
    site_errors = [float(x) if np.isfinite(x) else None for x in result.mean_spin_stderr[0]]
    if args.json:
        write_json(
            args,
            {
                "n_spins": model.n_spins,
                "temperature": args.temperature,
                "algorithm": args.algorithm,
                "energy": Estimate(e.mean * model.n_spins, e.stderr * model.n_spins).as_dict(),
                "energy_per_spin": e.as_dict(),
                "mean_spin": result.mean_spin[0].tolist(),
                "mean_spin_stderr": site_errors,
                "mean_spin_reliable": bool(site_reliable[0]),
                "tau_int": float(obs.tau_energy.tau * result.thin),
                "acceptance": result.acceptance,
                "seconds": result.wall_time,
                "reliable": bool(obs.reliable),
                "frozen": bool(obs.frozen),
            },
        )
    if args.plot:
        _plot(args.plot, result, model, args)
        print(f"wrote {args.plot}")
    return 0


def _plot(path: str, result, model, args: argparse.Namespace) -> None:
    import numpy as np

    from thermolearn.viz.figures import NO_ERROR_BAR_NOTE, errorbar_marking_missing, new_figure, save_figure

    fig, axes = new_figure(ncols=2, width=4.6)
    sweeps = args.burn_in + result.thin * (1 + np.arange(result.energy.shape[1]))
    for c, series in enumerate(result.energy):
        axes[0, 0].plot(sweeps, series / model.n_spins, lw=0.6, label=f"chain {c}" if c < 8 else None)
    axes[0, 0].set_xlabel("sweep")
    axes[0, 0].set_ylabel("energy per spin")
    axes[0, 0].set_title(f"T = {args.temperature:g}, {args.algorithm}")
    mean = result.mean_spin[0]
    # a NaN stderr (too few blocks to estimate one) stays NaN: an open marker with no bar, never a
    # bar of zero that would present <s_i> as exact
    unbarred = errorbar_marking_missing(
        axes[0, 1], np.arange(mean.size), mean, result.mean_spin_stderr[0], color="C0", ms=3.0, capsize=0.0
    )
    axes[0, 1].set_title("1 standard error" + (f"; {NO_ERROR_BAR_NOTE} ({unbarred})" if unbarred else ""), fontsize=9)
    axes[0, 1].axhline(0.0, color="0.6", lw=0.8)
    axes[0, 1].set_xlabel("spin i")
    axes[0, 1].set_ylabel("<s_i>")
    save_figure(fig, path)
