"""``thermolearn dynamics``: the thermodynamics of training (langevin, sgd-temperature, ensemble, ebm).

- ``langevin``: unadjusted Langevin, SGLD, MALA or HMC on the posterior of Bayesian linear
  regression (exact Gaussian) or Welling and Teh's two-parameter mixture (exact mode weights by
  quadrature): mean and covariance with autocorrelation-aware errors against the exact ones.
- ``sgd-temperature``: constant-learning-rate SGD on a quadratic loss as a sampler: the
  stationary variance against the discrete-time theory eta B / (S A (2 - eta A)) and its SDE
  limit eta B / (2 S A).
- ``ensemble``: K seeds of a small network as an ensemble (macrostate spread against parameter
  distance after aligning hidden units), and on random features against the exact predictive.
- ``ebm``: a neural energy on a 2D toy trained by short-run Langevin; exact log-likelihood and KL.
  ``--data digits``: an energy over binarised digits trained with Gibbs or discrete-Langevin
  negatives, against the library's RBM at equal parameter count by AIS log-likelihood.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    check_distinct_paths,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_number, format_table, format_value_error, with_error_columns

# thermolearn.dynamics' SAMPLERS and the models the command offers, named here so --help loads nothing
SAMPLER_CHOICES = ("ula", "sgld", "mala", "hmc")
MODEL_CHOICES = ("linear-regression", "mixture")
LOSS_CHOICES = ("quadratic", "linear-regression")  # thermolearn.dynamics.LOSSES
ENSEMBLE_TASK_CHOICES = ("digits", "cubic", "random-features")  # ENSEMBLE_TASKS + the exact random-features case
EBM_DATA_CHOICES = ("gaussians", "swiss-roll", "digits")  # thermolearn.dynamics.EBM_DATASETS + binarised digits
BINARY_SAMPLER_CHOICES = ("gibbs", "langevin")  # thermolearn.dynamics.binary_ebm.BINARY_SAMPLERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dynamics",
        help="the thermodynamics of training: Langevin samplers, the temperature of SGD, seed ensembles, EBMs",
        description="Training read as stochastic dynamics in the energy U(theta) = -log p(theta | data): Langevin "
        "samplers (ULA, SGLD, MALA, HMC) measured against exact posteriors, constant-learning-rate SGD as a "
        "sampler at a temperature set by eta / S, seeds of a network as an ensemble, and energy-based models "
        "trained by short-run Langevin sampling with exact 2D likelihoods.",
    )
    psub = p.add_subparsers(dest="dynamics_command", metavar="ACTION")
    p.set_defaults(run=missing_action("dynamics", "langevin, sgd-temperature, ensemble or ebm"))

    lg = psub.add_parser(
        "langevin",
        help="Langevin samplers (ULA, SGLD, MALA, HMC) against an exact posterior",
        description="Sample the posterior of Bayesian linear regression (20 points, 2 weights: the exact posterior "
        "is Gaussian) or Welling and Teh's two-parameter Gaussian mixture (bimodal; exact mode weights P(theta_2 > "
        "0) by quadrature) with several chains, and compare the mean and covariance (errors from the integrated "
        "autocorrelation time) with the exact ones. Steps: theta -> theta - (eta/2) grad U + sqrt(eta) xi; ULA is "
        "biased (on N(0, s^2) its variance is s^2 / (1 - eta / (4 s^2))), MALA and HMC are exact.",
    )
    lg.add_argument(
        "--model", choices=MODEL_CHOICES, default="linear-regression", help="the posterior (default linear-regression)"
    )
    lg.add_argument("--sampler", choices=SAMPLER_CHOICES, default="mala", help="the dynamics (default mala)")
    lg.add_argument(
        "--step",
        type=positive_float,
        default=0.02,
        metavar="E",
        help="step size: eta (noise variance) for ula/sgld/mala, the first eta_0 for sgld, the leapfrog eps for hmc "
        "(default 0.02)",
    )
    lg.add_argument("--steps", type=positive_int, default=20000, metavar="K", help="steps per chain (default 20000)")
    lg.add_argument("--chains", type=positive_int, default=8, metavar="N", help="independent chains (default 8)")
    lg.add_argument(
        "--burn-in", type=nonnegative_int, default=None, metavar="N", help="steps discarded first (default steps/5)"
    )
    lg.add_argument("--thin", type=positive_int, default=1, metavar="N", help="keep every N-th state (default 1)")
    lg.add_argument("--batch", type=positive_int, default=10, metavar="S", help="sgld minibatch size (default 10)")
    lg.add_argument(
        "--decay-offset",
        type=positive_float,
        default=1000.0,
        metavar="B",
        help="sgld steps eta_t = step (b / (b + t))^gamma: b (default 1000)",
    )
    lg.add_argument(
        "--decay-power", type=nonnegative_float, default=0.55, metavar="G", help="sgld gamma (default 0.55)"
    )
    lg.add_argument("--mass", type=positive_float, default=1.0, metavar="M", help="hmc particle mass (default 1)")
    lg.add_argument(
        "--friction",
        type=positive_float,
        default=None,
        metavar="GAMMA",
        help="hmc friction: the momentum keeps exp(-gamma eps L) of itself per move (default: full refresh)",
    )
    lg.add_argument("--leapfrog", type=positive_int, default=1, metavar="L", help="hmc leapfrog steps (default 1)")
    lg.add_argument(
        "--data-seed", type=nonnegative_int, default=0, metavar="N", help="seed of the model's data (default 0)"
    )
    add_seed(lg, "the chains")
    add_json(lg, "mean, cov, exact_mean, exact_cov, mean_stderr (and mode weights for the mixture)")
    add_plot(lg, "the samples over the exact posterior's contours")
    add_no_progress(lg)
    add_checkpoint(lg, "the chains, their samples and the step reached")
    lg.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=2000,
        metavar="N",
        help="checkpoint period in steps (default 2000)",
    )
    lg.set_defaults(run=run_langevin_command)

    sg = psub.add_parser(
        "sgd-temperature",
        help="constant-lr SGD as a sampler: stationary variance against eta B / (S A (2 - eta A))",
        description="Run chains of constant-learning-rate SGD on the quadratic loss (A/2)(theta - z)^2 averaged over "
        "minibatches of S data z (per-sample gradient variance B) and measure the stationary variance of theta "
        "(error from tau_int) against the exact discrete-time value eta B / (S A (2 - eta A)) and the SDE limit "
        "eta B / (2 S A): SGD samples exp(-L / T) at T = eta B / (S (2 - eta A)), set by eta / S.",
    )
    sg.add_argument(
        "--loss",
        choices=LOSS_CHOICES,
        default="quadratic",
        help="quadratic (additive gradient noise) or linear-regression (fresh Gaussian inputs: multiplicative noise, "
        "variance eta B / (S A (2 - eta A) - 2 eta A^2)) (default quadratic)",
    )
    sg.add_argument("--curvature", type=positive_float, default=1.0, metavar="A", help="curvature A (default 1)")
    sg.add_argument(
        "--noise", type=positive_float, default=1.0, metavar="B", help="per-sample gradient variance B (default 1)"
    )
    sg.add_argument("--batch", type=positive_int, default=4, metavar="S", help="batch size S (default 4)")
    sg.add_argument("--lr", type=positive_float, default=0.1, metavar="E", help="learning rate eta (default 0.1)")
    sg.add_argument("--steps", type=positive_int, default=20000, metavar="K", help="SGD steps (default 20000)")
    sg.add_argument("--chains", type=positive_int, default=16, metavar="N", help="independent runs (default 16)")
    sg.add_argument(
        "--burn-in",
        type=nonnegative_int,
        default=None,
        metavar="N",
        help="steps discarded first (default 10 / (eta A), at most steps/2)",
    )
    sg.add_argument(
        "--data-size",
        type=positive_int,
        default=None,
        metavar="N",
        help="draw batches without replacement from N fixed data (default: fresh data every step)",
    )
    add_seed(sg, "the data and minibatches")
    add_json(sg, "variance (mean, stderr), theory_variance, sde_variance, excess loss and temperature")
    add_plot(sg, "variance against eta / S for several eta at S and 2S, with the theory lines")
    sg.add_argument(
        "--network-plot",
        metavar="PATH.png",
        help="also run plain SGD on a small digits MLP (4 hidden units) at eta / S = 1/160, 1/80, 1/40 with S = 8 and "
        "16, and plot the training loss's fluctuations against eta / S (about 20 s; the JSON gains 'network')",
    )
    sg.add_argument(
        "--network-steps",
        type=positive_int,
        default=6000,
        metavar="K",
        help="SGD steps per (eta, S) of --network-plot, the first half burn-in (default 6000; at least 200)",
    )
    add_no_progress(sg)
    add_checkpoint(sg, "the runs and their series")
    sg.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=5000,
        metavar="N",
        help="checkpoint period in steps (default 5000)",
    )
    sg.set_defaults(run=run_sgd_command)

    en = psub.add_parser(
        "ensemble",
        help="K seeds of a small network as an ensemble: macrostate spread against parameter distance",
        description="Train K seeds of a one-hidden-layer ReLU network together (Adam) on the digits or on the x^3 "
        "toy of deep ensembles: the spread of test NLL and accuracy across seeds (with its error), the distance "
        "between the seeds' parameters before and after aligning hidden units (Hungarian algorithm), the ensemble's "
        "NLL against single models, rho(t) = corr(theta(t), theta(0)) with its 1/e epoch (the memory of the "
        "initialisation, often longer than the run), and the stationary decorrelation time: the 1/e lag of the "
        "autocorrelation of the parameters' fluctuations about their mean (drift removed) over the second half of "
        "training. "
        "--task random-features: a linear model on random Fourier features of the x^3 data, whose posterior "
        "predictive is exact, against a randomised-MAP ensemble, plain gradient-descent seeds and SGLD.",
    )
    en.add_argument("--task", choices=ENSEMBLE_TASK_CHOICES, default="digits", help="the problem (default digits)")
    en.add_argument("--seeds", type=positive_int, default=5, metavar="K", help="networks trained (default 5)")
    en.add_argument(
        "--epochs", type=positive_int, default=None, metavar="N", help="epochs (default 20 digits, 300 cubic)"
    )
    en.add_argument(
        "--hidden", type=positive_int, default=None, metavar="H", help="hidden units (default 32 digits, 50 cubic)"
    )
    en.add_argument(
        "--lr", type=positive_float, default=None, metavar="E", help="Adam's learning rate (default 3e-3; cubic 1e-2)"
    )
    en.add_argument("--batch", type=positive_int, default=64, metavar="S", help="digits minibatch size (default 64)")
    en.add_argument(
        "--members", type=positive_int, default=100, metavar="M", help="random-features ensemble size (default 100)"
    )
    en.add_argument(
        "--features", type=positive_int, default=50, metavar="D", help="random Fourier features (default 50)"
    )
    en.add_argument(
        "--data-seed", type=nonnegative_int, default=0, metavar="N", help="seed of the data split (default 0)"
    )
    add_seed(en, "the initialisations and minibatches")
    add_json(
        en,
        "test_loss, test_accuracy (mean, stderr, spread), ensemble_loss, distances, rho, decorrelation_epochs, "
        "stationary (window, autocorrelation, decorrelation mean and stderr)",
    )
    add_plot(en, "seed spreads, rho(t) and distances (random-features: the predictive bands)")
    add_no_progress(en)
    add_checkpoint(en, "the K networks and their optimiser states after every epoch")
    en.set_defaults(run=run_ensemble_command)

    eb = psub.add_parser(
        "ebm",
        help="an energy-based model trained by short-run Langevin: exact log-likelihood and KL by quadrature",
        description="Train a neural energy E(x) on a 2D toy by contrastive divergence with short-run Langevin "
        "negatives from a replay buffer (Du and Mordatch 2019). log Z is a quadrature over the box [-2.5, 2.5]^2, so "
        "the held-out log-likelihood and KL(data || model) are exact at every evaluation; at the end, short-run and "
        "long-run Langevin samples from noise are compared with the exact mean energy of the model. --data digits: "
        "an energy -b.x - sum_j a_j swish(c_j + (xW)_j) over the binarised 8 x 8 digits, trained the same way with "
        "Gibbs-sweep or discrete-Langevin negatives, and a Bernoulli RBM with (nearly) the same number of parameters "
        "trained by CD for as many updates; both held-out log-likelihoods by AIS (same schedule and runs).",
    )
    eb.add_argument(
        "--data",
        choices=EBM_DATA_CHOICES,
        default="gaussians",
        help="a 2D toy, or digits (binarised 8 x 8 images, against the RBM) (default gaussians)",
    )
    eb.add_argument("--iterations", type=positive_int, default=2000, metavar="N", help="CD iterations (default 2000)")
    eb.add_argument("--hidden", type=positive_int, default=64, metavar="H", help="units per hidden layer (default 64)")
    eb.add_argument("--batch", type=positive_int, default=128, metavar="S", help="minibatch size (default 128)")
    eb.add_argument(
        "--langevin-steps",
        type=positive_int,
        default=None,
        metavar="K",
        help="short-run steps per negative: Langevin steps, or for digits Gibbs sweeps / discrete-Langevin steps "
        "(default 20; digits: 1 Gibbs sweep or 4 discrete-Langevin steps, about the same work; the RBM does CD-1)",
    )
    eb.add_argument(
        "--langevin-step",
        type=positive_float,
        default=None,
        metavar="E",
        help="Langevin eta (default 0.005); digits with --sampler langevin: the flip step alpha (default 0.3)",
    )
    eb.add_argument(
        "--sampler",
        choices=BINARY_SAMPLER_CHOICES,
        default=None,
        help="digits only: the negative phase, heat-bath Gibbs sweeps or discrete Langevin (default gibbs)",
    )
    eb.add_argument(
        "--ais-runs", type=positive_int, default=None, metavar="R", help="digits only: AIS runs (default 100)"
    )
    eb.add_argument(
        "--ais-steps",
        type=positive_int,
        default=None,
        metavar="K",
        help="digits only: K uniform AIS steps (default: the 'fast' schedule, 1,450 steps)",
    )
    eb.add_argument("--lr", type=positive_float, default=1e-3, metavar="E", help="Adam's learning rate (default 1e-3)")
    eb.add_argument(
        "--eval-every",
        type=positive_int,
        default=250,
        metavar="N",
        help="evaluation (and checkpoint) period (default 250)",
    )
    eb.add_argument(
        "--long-steps",
        type=positive_int,
        default=None,
        metavar="N",
        help="long-run Langevin steps (default 2000; not for digits)",
    )
    add_seed(eb, "the data, initialisation, buffer and chains")
    add_json(
        eb,
        "test_log_likelihood and kl_data_model per evaluation, the short/long-run energy gaps (digits: the EBM's and "
        "the RBM's AIS test log-likelihoods, parameter counts and budgets)",
    )
    add_plot(
        eb,
        "the model density, short- and long-run samples, log-likelihood and KL against iteration (digits: negatives "
        "and the log-likelihoods)",
    )
    add_no_progress(eb)
    add_checkpoint(eb, "the energy network, its optimiser and the replay buffer at every evaluation (digits: the EBM)")
    eb.set_defaults(run=run_ebm_command)


def run(args: argparse.Namespace) -> int:
    return int(args.run(args))


def _z(measured: float, stderr: float, exact: float | None) -> float | None:
    if exact is None or not (stderr > 0):
        return None
    return (measured - exact) / stderr


def _check_outputs(args: argparse.Namespace) -> None:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_output_path(args.checkpoint, ".npz")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot, "--checkpoint": args.checkpoint})


def run_langevin_command(args: argparse.Namespace) -> int:
    _check_outputs(args)
    import numpy as np

    from thermolearn.dynamics.langevin import run_langevin
    from thermolearn.dynamics.posteriors import make_posterior

    if args.batch != 10 and args.sampler != "sgld":
        raise ValueError("--batch is a setting of --sampler sgld only")
    burn_in = args.steps // 5 if args.burn_in is None else args.burn_in
    if burn_in + args.thin > args.steps:
        raise ValueError(f"--burn-in ({burn_in}) + --thin ({args.thin}) must not exceed --steps ({args.steps})")
    posterior = make_posterior(args.model, seed=args.data_seed)
    result = run_langevin(
        posterior,
        args.sampler,
        step=args.step,
        steps=args.steps,
        n_chains=args.chains,
        burn_in=burn_in,
        thin=args.thin,
        batch_size=args.batch,
        decay_offset=args.decay_offset,
        decay_power=args.decay_power,
        mass=args.mass,
        friction=args.friction,
        leapfrog_steps=args.leapfrog,
        seed=args.seed,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=False if args.no_progress else None,
    )
    record: dict[str, Any] = result.as_dict()
    record.pop("settings")
    if posterior.name == "mixture":
        record["quadrature_mean"] = posterior.details["quadrature_mean"]
        record["quadrature_cov"] = posterior.details["quadrature_cov"]
    exact_mean = posterior.exact_mean
    if exact_mean is None and posterior.name == "mixture":
        exact_mean = np.asarray(posterior.details["quadrature_mean"])
    acc = "" if result.acceptance is None else f", acceptance {result.acceptance:.3f}"
    print(
        f"{args.sampler} on the {args.model} posterior: {args.chains} chains x {args.steps} steps of {args.step:g}{acc}"
    )
    rows = []
    for k, e in enumerate(result.mean_estimates()):
        ex = None if exact_mean is None else float(exact_mean[k])
        rows.append([f"<theta_{k + 1}>", e.mean, e.stderr, ex, _z(e.mean, e.stderr, ex), e.tau])
    cov, err = result.cov_estimates()
    exact_cov = posterior.exact_cov
    if exact_cov is None and posterior.name == "mixture":
        exact_cov = np.asarray(posterior.details["quadrature_cov"])
    for i in range(cov.shape[0]):
        for j in range(i, cov.shape[0]):
            ex = None if exact_cov is None else float(exact_cov[i, j])
            rows.append(
                [f"cov_{i + 1}{j + 1}", float(cov[i, j]), float(err[i, j]), ex, _z(cov[i, j], err[i, j], ex), ""]
            )
    weights = result.mode_weights()
    if weights is not None and posterior.exact_mode_weights is not None:
        for m, w in enumerate(weights):
            ex = float(posterior.exact_mode_weights[m])
            rows.append([f"weight mode {m + 1}", w.mean, w.stderr, ex, _z(w.mean, w.stderr, ex), w.tau])
    label = "exact" if posterior.exact_mean is not None else "exact (quadrature)"
    print(
        format_table(["quantity", "estimate", "± stderr", label, "z", "tau_int"], [with_error_columns(r) for r in rows])
    )
    if not record["reliable"]:
        short = [f"<theta_{k + 1}>" for k, e in enumerate(result.mean_estimates()) if not e.reliable]
        print(
            f"warning: not reliable: the run is short for the autocorrelation time of {', '.join(short)}; "
            "the error bars are likely too small (more --steps or --chains)"
        )
    if "ula_predicted_cov" in record and record["ula_predicted_cov"] is not None:
        pred = np.asarray(record["ula_predicted_cov"])
        print(
            "ULA's own stationary covariance (exact, biased): "
            + ", ".join(format_number(float(x)) for x in pred.ravel())
        )
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.dynamics_plots import plot_posterior_samples

        grid = None
        if posterior.name == "mixture":
            quad = posterior.details["quadrature"]
            grid = (quad.theta1, quad.theta2, quad.density)
        plot_posterior_samples(
            args.plot,
            result.samples,
            exact_mean=exact_mean,
            exact_cov=posterior.exact_cov,
            grid=grid,
            title=f"{args.sampler}, step {args.step:g}: {args.model} posterior",
        )
        print(f"wrote {args.plot}")
    return 0


def run_sgd_command(args: argparse.Namespace) -> int:
    _check_outputs(args)
    check_output_path(args.network_plot, ".png")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot, "--network-plot": args.network_plot})
    if args.plot and args.loss != "quadratic":
        raise ValueError("--plot draws the quadratic loss's sweep; leave it out with --loss linear-regression")
    if args.network_steps != 6000 and not args.network_plot:
        raise ValueError("--network-steps is a setting of --network-plot")
    if args.network_plot and args.network_steps < 200:
        raise ValueError(f"--network-steps must be at least 200 (20 loss records), got {args.network_steps}")
    if args.data_size is not None and args.loss != "quadratic":
        raise ValueError("--data-size applies to --loss quadratic only (linear regression draws fresh data)")
    from thermolearn.dynamics.sgd_temperature import run_sgd_temperature

    if args.burn_in is not None and args.steps - args.burn_in < 2:
        raise ValueError(f"--steps ({args.steps}) must exceed --burn-in ({args.burn_in}) by at least 2")
    result = run_sgd_temperature(
        args.curvature,
        args.noise,
        args.batch,
        args.lr,
        args.steps,
        n_chains=args.chains,
        burn_in=args.burn_in,
        data_size=args.data_size,
        loss=args.loss,
        seed=args.seed,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=False if args.no_progress else None,
    )
    record = result.as_dict()
    record.pop("settings")
    record["loss"] = args.loss
    print(
        f"constant-lr SGD on a {args.loss} loss: A = {args.curvature:g}, B = {args.noise:g}, S = {args.batch}, "
        f"eta = {args.lr:g} (eta/S = {args.lr / args.batch:.4g}), {args.chains} runs x {args.steps} steps"
    )
    rows = [
        ["variance", result.variance, result.variance_stderr, result.theory_variance, result.sde_variance],
        [
            "excess loss",
            result.excess_loss,
            result.excess_loss_stderr,
            0.5 * args.curvature * result.theory_variance,
            0.5 * args.curvature * result.sde_variance,
        ],
    ]
    rows = [[*r, _z(r[1], r[2], r[3])] for r in rows]
    print(
        format_table(
            ["quantity", "measured", "± stderr", "theory", "SDE limit", "z"], [with_error_columns(r) for r in rows]
        )
    )
    if not result.reliable:
        if not result.error_bar_defined:
            print(
                "warning: not reliable: theta is heavy-tailed at this lr (E[(1 - lr h)^4] >= 1), so the variance "
                "has no finite error bar (-)"
                + (
                    ""
                    if result.finite_error_lr is None
                    else f"; finite error bars need lr < {result.finite_error_lr:.4g}"
                )
            )
        else:
            print(
                "warning: not reliable: the run is short for its autocorrelation time; "
                "the error bars are likely too small (more --steps or --chains)"
            )
    if args.plot:
        from thermolearn.viz.dynamics_plots import plot_sgd_variance

        runs = [{"lr": args.lr, "batch": args.batch, "variance": record["variance"]}]
        sweep_steps = min(args.steps, 5000)
        for s in (args.batch, 2 * args.batch):
            for f in (0.25, 0.5, 1.0, 2.0):
                lr = args.lr * f * s / args.batch
                if (s == args.batch and f == 1.0) or lr * args.curvature >= 1.9:
                    continue
                if args.data_size is not None and s > args.data_size:
                    continue
                r = run_sgd_temperature(
                    args.curvature,
                    args.noise,
                    s,
                    lr,
                    max(sweep_steps, min(int(40 / (lr * args.curvature)) + 100, 200000)),
                    n_chains=args.chains,
                    data_size=args.data_size,
                    seed=args.seed + 1,
                    progress=False,
                )
                runs.append({"lr": lr, "batch": s, "variance": r.as_dict()["variance"]})
        record["sweep"] = runs
        if args.data_size is None:
            plot_sgd_variance(args.plot, runs, curvature=args.curvature, noise=args.noise)
        else:
            n = args.data_size
            plot_sgd_variance(
                args.plot,
                [
                    r
                    | {
                        "variance": {
                            k: v * (n - 1) / (n - r["batch"]) if n > r["batch"] else math.nan
                            for k, v in r["variance"].items()
                        }
                    }
                    for r in runs
                ],
                curvature=args.curvature,
                noise=args.noise,
                title=f"SGD on {n} data (variance / ((N - S)/(N - 1)))",
            )
    if args.network_plot:
        from thermolearn.dynamics.network_temperature import network_loss_fluctuations
        from thermolearn.viz.dynamics_plots import plot_network_temperature

        grid = [(0.05, 8), (0.1, 8), (0.2, 8), (0.1, 16), (0.2, 16), (0.4, 16)]
        fluct = network_loss_fluctuations(grid, steps=args.network_steps, hidden=4, pretrain_epochs=40, seed=args.seed)
        record["network"] = [f.as_dict() for f in fluct]
        plot_network_temperature(args.network_plot, record["network"])
    if args.json:
        write_json(args, record)
    if args.plot:
        print(f"wrote {args.plot}")
    if args.network_plot:
        print(f"wrote {args.network_plot}")
    return 0


def run_ensemble_command(args: argparse.Namespace) -> int:
    _check_outputs(args)
    if args.task == "random-features":
        return _run_random_features(args)
    from thermolearn.dynamics.ensembles import train_ensemble

    digits = args.task == "digits"
    if args.members != 100 or args.features != 50:
        raise ValueError("--members and --features are settings of --task random-features only")
    result = train_ensemble(
        args.task,
        seeds=args.seeds,
        epochs=args.epochs or (20 if digits else 300),
        hidden=args.hidden or (32 if digits else 50),
        lr=args.lr or (3e-3 if digits else 1e-2),
        batch_size=args.batch,
        seed=args.seed,
        data_seed=args.data_seed,
        checkpoint=args.checkpoint,
        progress=False if args.no_progress else None,
    )
    record = result.as_dict()
    record["settings"] = result.settings
    print(f"{args.seeds} seeds on {args.task}: {result.settings['epochs']} epochs, {result.settings['hidden']} hidden")
    rows: list[list[Any]] = [
        ["test NLL (nats)", record["test_loss"]["mean"], record["test_loss"]["stderr"], record["test_loss"]["spread"]],
        ["ensemble NLL", record["ensemble_loss"], None, None],
    ]
    if "test_accuracy" in record:
        acc = record["test_accuracy"]
        rows.append(["test accuracy", acc["mean"], acc["stderr"], acc["spread"]])
    for name in ("distance_raw", "distance_aligned"):
        if record[name] is not None:
            rows.append([name.replace("_", " "), record[name]["mean"], record[name]["stderr"], record[name]["spread"]])
    rows.append(["rho(final)", record["rho"][-1], None, None])
    rows.append(["decorrelation epochs (from init)", record["decorrelation_epochs"], None, None])
    if record["stationary"] is not None:
        st = record["stationary"]
        rows.append(
            [
                f"stationary decorrelation epochs ({st['window'][0]}-{st['window'][1] - 1})",
                st["decorrelation"]["mean"],
                st["decorrelation"]["stderr"],
                None,
            ]
        )
    print(format_table(["quantity", "mean", "± stderr", "spread (sd)"], [with_error_columns(r) for r in rows]))
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.dynamics_plots import plot_ensemble

        plot_ensemble(args.plot, record, title=f"{args.seeds} seeds on {args.task}")
        print(f"wrote {args.plot}")
    return 0


def _run_random_features(args: argparse.Namespace) -> int:
    from thermolearn.dynamics.ensembles import random_features_ensemble

    if args.checkpoint:
        raise ValueError("--checkpoint is for --task digits or cubic (random-features runs in seconds)")
    if args.members < 2:
        raise ValueError(f"--members must be at least 2 (a variance needs two), got {args.members}")
    comparison = random_features_ensemble(
        n_features=args.features, members=args.members, seed=args.seed, data_seed=args.data_seed
    )
    record = comparison.as_dict()
    print(f"random features (D = {args.features}) on the x^3 toy: predictive against the exact one")
    rows = [[name, s["mean_error_in_sd"], s["variance_ratio"]] for name, s in record["summary"].items()]
    print(format_table(["method", "<|mean - exact| / sd>", "<var / exact var>"], rows))
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.dynamics_plots import plot_predictive

        plot_predictive(args.plot, comparison)
        print(f"wrote {args.plot}")
    return 0


def run_ebm_command(args: argparse.Namespace) -> int:
    _check_outputs(args)
    if args.data == "digits":
        return _run_binary_ebm(args)
    for flag, value in (("--sampler", args.sampler), ("--ais-runs", args.ais_runs), ("--ais-steps", args.ais_steps)):
        if value is not None:
            raise ValueError(f"{flag} is a setting of --data digits only")
    from thermolearn.dynamics.ebm import train_ebm

    args.langevin_steps = 20 if args.langevin_steps is None else args.langevin_steps
    result = train_ebm(
        args.data,
        iterations=args.iterations,
        hidden=args.hidden,
        batch_size=args.batch,
        langevin_steps=args.langevin_steps,
        langevin_step=0.005 if args.langevin_step is None else args.langevin_step,
        lr=args.lr,
        eval_every=args.eval_every,
        long_steps=2000 if args.long_steps is None else args.long_steps,
        seed=args.seed,
        checkpoint=args.checkpoint,
        progress=False if args.no_progress else None,
    )
    record = result.as_dict()
    print(f"EBM on {args.data}: {args.iterations} CD iterations, {args.langevin_steps} Langevin steps per negative")
    rows = [
        [it, ll, kl, gap]
        for it, ll, kl, gap in zip(
            record["iterations"], record["test_log_likelihood"], record["kl_data_model"], record["cd_gap"]
        )
    ]
    print(format_table(["iteration", "held-out log-lik", "KL(data||model)", "CD gap"], rows))
    print(f"the data's own density gives {record['data_test_log_likelihood']:.4f} nats on the test set")
    s = record["sampling"]
    print(
        format_table(
            ["samples", "<E>", "± stderr", "exact <E>_model", "gap"],
            [
                with_error_columns(row)
                for row in (
                    [
                        f"short run ({s['short_run']['steps']})",
                        s["short_run"]["mean_energy"],
                        s["short_run"]["stderr"],
                        s["model"]["mean_energy"],
                        s["short_run"]["gap"],
                    ],
                    [
                        f"long run ({s['long_run']['steps']})",
                        s["long_run"]["mean_energy"],
                        s["long_run"]["stderr"],
                        s["model"]["mean_energy"],
                        s["long_run"]["gap"],
                    ],
                )
            ],
        )
    )
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.dynamics.ebm import ebm_data
        from thermolearn.viz.dynamics_plots import plot_ebm

        plot_ebm(args.plot, result, data=ebm_data(args.data, 300, args.seed))
        print(f"wrote {args.plot}")
    return 0


def _run_binary_ebm(args: argparse.Namespace) -> int:
    if args.long_steps is not None:
        raise ValueError("--long-steps is a setting of the 2D toys only (digits are scored by AIS)")
    if args.ais_runs is not None and args.ais_runs < 2:
        raise ValueError(
            f"--ais-runs must be at least 2 (the error bar needs a spread of weights), got {args.ais_runs}"
        )
    sampler = args.sampler or "gibbs"
    if args.langevin_step is not None and sampler != "langevin":
        raise ValueError("--langevin-step with --data digits is the step of --sampler langevin only")
    from thermolearn.dynamics.binary_ebm import compare_with_rbm

    comparison = compare_with_rbm(
        sampler=sampler,
        iterations=args.iterations,
        hidden=args.hidden,
        batch_size=args.batch,
        mcmc_steps=(1 if sampler == "gibbs" else 4) if args.langevin_steps is None else args.langevin_steps,
        langevin_step=0.3 if args.langevin_step is None else args.langevin_step,
        lr=args.lr,
        eval_every=args.eval_every,
        ais_schedule="fast" if args.ais_steps is None else args.ais_steps,
        ais_runs=100 if args.ais_runs is None else args.ais_runs,
        seed=args.seed,
        checkpoint=args.checkpoint,
        progress=False if args.no_progress else None,
    )
    record = {"dataset": "digits", **comparison.as_dict()}
    e, r = record["ebm"], record["rbm"]
    print(
        f"binarised digits (1,497 training, 300 test images): EBM ({sampler}, {e['hidden']} swish units, "
        f"{e['parameters']} parameters) against an RBM ({r['hidden']} hidden units, {r['parameters']} parameters); "
        f"{args.iterations} updates of {args.batch} images each, {comparison.ebm.settings['mcmc_steps']} "
        f"{'Gibbs sweep(s)' if sampler == 'gibbs' else 'discrete-Langevin step(s)'} per negative (the RBM: CD-1)"
    )
    rows = [
        [
            f"EBM ({sampler})",
            e["parameters"],
            e["test_log_likelihood"]["mean"],
            e["test_log_likelihood"]["stderr"],
            e["log_z"]["mean"],
            e["ais"]["effective_sample_size"],
            e["train_seconds"],
        ],
        [
            f"RBM ({r['method'].upper()}-{r['gibbs_steps']})",
            r["parameters"],
            r["test_log_likelihood"]["mean"],
            r["test_log_likelihood"]["stderr"],
            r["log_z"]["mean"],
            r["ais"]["effective_sample_size"],
            r["train_seconds"],
        ],
        ["independent pixels", 64, record["independent_pixels_test_log_likelihood"], None, None, None, None],
    ]
    header = ["model", "parameters", "test log-lik (AIS, nats/image)", "± stderr", "log Z", "AIS ESS", "train s"]
    print(format_table(header, [with_error_columns(r, 2, 3) for r in rows]))
    diff = record["difference_ebm_minus_rbm"]
    print(
        f"EBM - RBM: {'+' if diff['mean'] > 0 else ''}{format_value_error(diff['mean'], diff['stderr'], style='pm')} "
        "nats per image (AIS: optimistic for both)"
    )
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot_binary_ebm(args.plot, comparison)
        print(f"wrote {args.plot}")
    return 0


def _plot_binary_ebm(path: str, comparison: Any) -> None:
    """Left: 64 negatives from the EBM's replay buffer; right: held-out AIS log-likelihoods."""
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    fig, axes = new_figure(ncols=2, width=3.8, height=3.4)
    samples = comparison.ebm.samples[:64].reshape(-1, 8, 8)
    tiles = np.ones((8 * 9 + 1, 8 * 9 + 1))
    for k, img in enumerate(samples):
        i, j = divmod(k, 8)
        tiles[1 + 9 * i : 9 + 9 * i, 1 + 9 * j : 9 + 9 * j] = img
    axes[0, 0].imshow(tiles, cmap="gray_r", interpolation="nearest")
    axes[0, 0].set_axis_off()
    axes[0, 0].set_title(f"EBM negatives ({comparison.ebm.settings['sampler']}, replay buffer)", fontsize=9)
    rec = comparison.as_dict()
    names = ["EBM", "RBM", "independent\npixels"]
    values = [
        rec["ebm"]["test_log_likelihood"]["mean"],
        rec["rbm"]["test_log_likelihood"]["mean"],
        rec["independent_pixels_test_log_likelihood"],
    ]
    errors = [rec["ebm"]["test_log_likelihood"]["stderr"], rec["rbm"]["test_log_likelihood"]["stderr"], 0.0]
    ax = axes[0, 1]
    ax.bar(names, values, yerr=errors, color=["C0", "C1", "0.6"], capsize=4)
    ax.set_ylim(min(values) - 2.0, max(values) + 1.0)
    ax.set_ylabel("held-out log-likelihood (nats / image)")
    ax.set_title(f"equal parameters ({rec['ebm']['parameters']} vs {rec['rbm']['parameters']}), AIS", fontsize=9)
    save_figure(fig, path)
