"""``thermolearn sample``: Monte Carlo on any model file at one temperature."""

from __future__ import annotations

import argparse

import numpy as np

from thermolearn.cli.arguments import add_model_arguments, check_output_path, model_from_arguments
from thermolearn.cli.table import format_table
from thermolearn.samplers.registry import SAMPLERS, make_sampler
from thermolearn.samplers.run import sample
from thermolearn.storage import write_json_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        help="Monte Carlo samples of any model at one temperature: energy, <s_i>, tau_int, acceptance",
        description="Runs a sampler on a model file (.npz or edge list) or --lattice and reports the mean energy "
        "and every <s_i> with error bars.",
    )
    add_model_arguments(p)
    p.add_argument("--temperature", "-T", type=float, required=True, help="temperature T > 0 (k_B = 1)")
    p.add_argument(
        "--algorithm",
        default="metropolis",
        metavar="NAME",
        help=f"sampler: one of {', '.join(sorted(SAMPLERS))} (default metropolis)",
    )
    p.add_argument("--sweeps", type=int, default=10000)
    p.add_argument("--burn-in", type=int, default=1000)
    p.add_argument("--chains", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", metavar="PATH", help="checkpoint file: a killed run resumes from it")
    p.add_argument("--checkpoint-every", type=int, default=1000, metavar="SWEEPS")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.algorithm not in SAMPLERS or args.algorithm == "pt":
        allowed = sorted(k for k in SAMPLERS if k != "pt")
        raise ValueError(
            f"--algorithm must be one of {', '.join(allowed)} (pt needs a ladder: use `thermolearn ising`), "
            f"got {args.algorithm!r}"
        )
    check_output_path(args.json, ".json")
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
    )
    obs = result.at()
    e = obs.energy_per_spin
    print(
        f"{model!r} at T = {args.temperature:g} by {args.algorithm}: {result.sweeps} sweeps x {args.chains} chain(s), "
        f"{result.wall_time:.2f} s"
    )
    rows = [
        ["energy", f"{e.mean * model.n_spins:.6g}", f"{e.stderr * model.n_spins:.2g}"],
        ["energy per spin", f"{e.mean:.6g}", f"{e.stderr:.2g}"],
        ["|m|", f"{obs.abs_magnetization.mean:.6g}", f"{obs.abs_magnetization.stderr:.2g}"],
        ["tau_int (energy, sweeps)", f"{obs.tau_energy.tau * result.thin:.3g}", f"{obs.tau_energy.tau_stderr:.2g}"],
        ["acceptance", f"{result.acceptance:.4g}", ""],
    ]
    print(format_table(["quantity", "mean", "stderr"], rows))
    if not obs.reliable:
        print("warning: the run is short for its autocorrelation time; error bars are likely too small")
    if args.json:
        write_json_atomic(
            args.json,
            {
                "n_spins": model.n_spins,
                "temperature": args.temperature,
                "algorithm": args.algorithm,
                "energy": {"mean": e.mean * model.n_spins, "stderr": e.stderr * model.n_spins},
                "energy_per_spin": e.as_dict(),
                "mean_spin": result.mean_spin[0].tolist(),
                "mean_spin_stderr": np.nan_to_num(result.mean_spin_stderr[0], nan=0.0).tolist(),
                "tau_int": float(obs.tau_energy.tau * result.thin),
                "acceptance": result.acceptance,
                "seconds": result.wall_time,
                "reliable": bool(obs.reliable),
            },
        )
        print(f"wrote {args.json}")
    return 0
