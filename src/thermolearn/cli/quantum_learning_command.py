"""``thermolearn quantum qbm|vmc``: quantum Boltzmann machines and RBM neural quantum states.

* ``qbm``: a fully visible Boltzmann machine (Gamma = 0), bound-based QBM or exact QBM fitted to
  the mixture-of-modes data of Amin et al. (PRX 2018); KL(data || model) and the exact
  log-likelihood after every epoch.
* ``vmc``: the ground state of the transverse-field Ising chain by an RBM wave function (Carleo and
  Troyer 2017), Metropolis sampling and stochastic reconfiguration; the energy of the last tenth of
  the run against the exact free-fermion energy. ``--checkpoint`` resumes a killed run bit for bit.
"""

from __future__ import annotations

import argparse
import math
import sys

from thermolearn.cli.arguments import check_output_path
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    check_distinct_paths,
    finite_float,
    nonnegative_float,
    nonnegative_int,
    open_fraction,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table

# thermolearn.quantum.qbm's QBM_MODELS and MAX_EXACT_VISIBLE, vmc's SR_SOLVERS and
# MAX_FULL_SUMMATION_SPINS, named here so that --help loads neither JAX nor SciPy
QBM_MODEL_CHOICES = ("bm", "bqbm", "qbm")
MAX_QBM_VISIBLE = 12
SOLVER_CHOICES = ("auto", "direct", "cg")
MAX_FULL_SUMMATION_SPINS = 16


def decay_value(text: str) -> float:
    """argparse type of ``--diag-shift-decay``: a factor in (0, 1]."""
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a factor in (0, 1], got {value}")
    return value


def register_learning_actions(psub: argparse._SubParsersAction) -> None:
    """Add the ``qbm`` and ``vmc`` actions to the ``quantum`` command's subparsers."""
    q = psub.add_parser(
        "qbm",
        help="quantum Boltzmann machine vs classical BM on mixture-of-modes data (exact, N <= 12)",
        description="Fit a fully visible Boltzmann machine (bm, Gamma = 0), a QBM trained on the Golden-Thompson "
        "bound with Gamma fixed (bqbm) or a QBM with exact gradients, Gamma trained (qbm), "
        "H = -sum Gamma sx - sum b sz - sum w sz sz, to the exact distribution of a mixture of random modes "
        "(each spin agrees with its mode's centre with probability p), by Adam on full-batch gradients from "
        f"exact diagonalisation (N <= {MAX_QBM_VISIBLE}). Prints KL(data || model) and the log-likelihood per epoch.",
    )
    q.add_argument("--visible", type=positive_int, default=10, metavar="N", help="visible spins (default 10)")
    q.add_argument("--modes", type=positive_int, default=8, metavar="M", help="modes of the data (default 8)")
    q.add_argument(
        "--p", type=open_fraction, default=0.9, metavar="P", help="probability a spin agrees with its mode (0.9)"
    )
    q.add_argument("--model", choices=QBM_MODEL_CHOICES, default="qbm", help="bm, bqbm or qbm (default qbm)")
    q.add_argument("--epochs", type=positive_int, default=50, metavar="E", help="full-batch updates (default 50)")
    q.add_argument(
        "--learning-rate", type=positive_float, default=0.1, metavar="LR", help="Adam step size (default 0.1)"
    )
    q.add_argument(
        "--gamma",
        type=positive_float,
        default=2.0,
        metavar="G",
        help="transverse field: initial for qbm, fixed for bqbm, unused for bm (default 2)",
    )
    q.add_argument(
        "--compare", action="store_true", help="also train the other two models (JSON 'comparison', the plot)"
    )
    add_seed(q, "the mode centres and the initial parameters")
    add_json(q, "kl and log_likelihood per epoch")
    add_plot(q, "KL(data || model) and the log-likelihood against the epoch")
    add_no_progress(q)
    q.set_defaults(run=run_qbm_command)

    v = psub.add_parser(
        "vmc",
        help="ground state of the transverse-field Ising chain with an RBM wave function (VMC + SR)",
        description="Variational Monte Carlo on the chain H = -J sum sz_i sz_i+1 - h sum sx_i with an RBM neural "
        "quantum state (alpha N hidden units; --symmetric: translation-invariant filters), Metropolis sampling of "
        "|psi|^2 on many chains and stochastic reconfiguration. Prints the energy against iteration; the result is "
        "the mean over the last tenth of the run, compared with the exact free-fermion ground energy.",
    )
    v.add_argument("--chain", type=positive_int, required=True, metavar="N", help="spins of the chain (>= 3)")
    v.add_argument(
        "--field", type=nonnegative_float, default=1.0, metavar="H", help="transverse field h >= 0 (default 1)"
    )
    v.add_argument("--coupling", type=finite_float, default=1.0, metavar="J", help="coupling J (default 1)")
    v.add_argument("--open", action="store_true", help="open chain (default periodic)")
    v.add_argument("--alpha", type=positive_int, default=1, metavar="A", help="hidden units per spin (default 1)")
    v.add_argument("--symmetric", action="store_true", help="translation-symmetric RBM (periodic chains)")
    v.add_argument("--complex", action="store_true", help="complex parameters (default real)")
    v.add_argument("--iterations", type=positive_int, default=300, metavar="K", help="SR iterations (default 300)")
    v.add_argument("--samples", type=positive_int, default=1008, metavar="S", help="samples per iteration (1008)")
    v.add_argument("--chains", type=positive_int, default=16, metavar="C", help="Metropolis chains (default 16)")
    v.add_argument(
        "--discard", type=nonnegative_int, default=None, metavar="D", help="sweeps discarded per iteration (S/C/10)"
    )
    v.add_argument("--learning-rate", type=positive_float, default=0.1, metavar="LR", help="SR step (default 0.1)")
    v.add_argument(
        "--diag-shift", type=positive_float, default=1.0, metavar="EPS", help="initial diagonal shift of S (1)"
    )
    v.add_argument(
        "--diag-shift-decay", type=decay_value, default=0.97, metavar="F", help="shift factor per iteration (0.97)"
    )
    v.add_argument(
        "--diag-shift-min", type=positive_float, default=0.01, metavar="EPS", help="smallest shift (default 0.01)"
    )
    v.add_argument("--solver", choices=SOLVER_CHOICES, default="auto", help="SR solve: direct, cg or auto")
    v.add_argument(
        "--full-summation",
        action="store_true",
        help=f"exact sums over all 2^N states instead of sampling (N <= {MAX_FULL_SUMMATION_SPINS})",
    )
    add_seed(v, "the initial parameters and the chains")
    add_checkpoint(v, "VMC checkpoint (parameters, optimiser, chains, history)")
    v.add_argument(
        "--checkpoint-every", type=positive_int, default=50, metavar="K", help="checkpoint period (default 50)"
    )
    add_json(v, "energy {mean, stderr}, exact_energy, relative_error and the history")
    add_plot(v, "the energy against iteration with the exact line")
    add_no_progress(v)
    v.set_defaults(run=run_vmc_command)


def _rows(n: int) -> list[int]:
    """About ten evenly spaced rows of an n-long history, the last included (0-based)."""
    step = max(1, n // 10)
    return sorted({*range(step - 1, n, step), n - 1})


# ---------------------------------------------------------------------------------- qbm
def run_qbm_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot})
    if args.visible > MAX_QBM_VISIBLE:
        raise ValueError(
            f"--visible {args.visible} is too many for the exact QBM: it diagonalises a 2^N x 2^N matrix every epoch "
            f"and allows N <= {MAX_QBM_VISIBLE}"
        )
    from thermolearn.quantum.qbm import mode_mixture, train_qbm

    q, centres = mode_mixture(args.visible, args.modes, args.p, seed=args.seed)
    models = [args.model] + ([m for m in QBM_MODEL_CHOICES if m != args.model] if args.compare else [])
    runs = {}
    for model in models:
        runs[model] = train_qbm(
            q,
            model,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            gamma=args.gamma,
            seed=args.seed,
            progress=False if args.no_progress else None,
        )
    main = runs[args.model]
    print(
        f"{args.model}: N = {args.visible} visible spins, data from {args.modes} modes with p = {args.p:g} "
        f"(entropy {main.entropy:.6f} nats), {args.epochs} epochs of Adam, LR {args.learning_rate:g}"
    )
    rows = []
    for e in _rows(args.epochs):
        row = [e + 1] + [f"{runs[m].kl[e]:.6f}" for m in models]
        rows.append([*row, f"{main.log_likelihood[e]:.6f}", f"{main.bound[e]:.6f}"])
    print(format_table(["epoch", *[f"KL {m}" for m in models], f"logL {args.model}", "GT bound"], rows))
    gamma = main.params.gamma
    print(
        f"final KL {main.kl[-1]:.6f} nats; Gamma mean {gamma.mean():.4f} (min {gamma.min():.4f}, max {gamma.max():.4f})"
    )
    record = {
        **main.as_dict(),
        "data": {"visible": args.visible, "modes": args.modes, "p": args.p, "centres": centres.tolist()},
    }
    if args.compare:
        record["comparison"] = {
            m: {"kl": r.kl.tolist(), "log_likelihood": r.log_likelihood.tolist()} for m, r in runs.items()
        }
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.quantum_learning_plots import plot_qbm_kl

        plot_qbm_kl(
            args.plot,
            {m: r.kl for m, r in runs.items()},
            title=f"N = {args.visible}, {args.modes} modes, p = {args.p:g}",
            entropy=main.entropy,
        )
        print(f"wrote {args.plot}")
    return 0


# ---------------------------------------------------------------------------------- vmc
def run_vmc_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_output_path(args.checkpoint, ".npz")
    check_distinct_paths({}, {"--checkpoint": args.checkpoint, "--json": args.json, "--plot": args.plot})
    n = args.chain
    if n < 3:
        raise ValueError(f"--chain must be at least 3 spins, got {n}")
    if args.symmetric and args.open:
        raise ValueError("--symmetric needs a periodic chain (translations); leave out --open")
    if args.full_summation and n > MAX_FULL_SUMMATION_SPINS:
        raise ValueError(
            f"--full-summation sums over all 2^N states and allows N <= {MAX_FULL_SUMMATION_SPINS}, got --chain {n}; "
            "leave it out to sample"
        )
    if args.samples % args.chains:
        raise ValueError(
            f"--samples ({args.samples}) must be a multiple of --chains ({args.chains}): each chain gives S / C samples"
        )
    from thermolearn.resources import check_memory

    # the per-sample tensors of one iteration: log-derivatives (N + M + N M per sample) and the
    # flip ratios (N M per sample), before anything is built
    n_hidden = args.alpha * n
    per_sample = 8.0 * (2 * n * n_hidden + n + n_hidden) * (2 if args.complex else 1)
    rows = 2**n if args.full_summation else args.samples
    check_memory(
        f"VMC with --chain {n}, --alpha {args.alpha} and --samples {args.samples}",
        per_sample * rows + 8.0 * n * n,
        hint="choose a smaller --chain, --alpha or --samples",
    )
    from thermolearn.quantum.free_fermions import chain_ground_energy
    from thermolearn.quantum.nqs import RBMWaveFunction, chain
    from thermolearn.quantum.vmc import run_vmc

    hamiltonian = chain(n, args.field, coupling=args.coupling, periodic=not args.open)
    ansatz = RBMWaveFunction(n, args.alpha, "complex" if args.complex else "real", args.symmetric)
    exact = chain_ground_energy(n, args.field, args.coupling, periodic=not args.open)
    result = run_vmc(
        hamiltonian,
        ansatz,
        iterations=args.iterations,
        n_samples=args.samples,
        n_chains=args.chains,
        n_discard=args.discard,
        learning_rate=args.learning_rate,
        diag_shift=args.diag_shift,
        diag_shift_decay=args.diag_shift_decay,
        diag_shift_min=args.diag_shift_min,
        solver=args.solver,
        full_summation=args.full_summation,
        seed=args.seed,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=False if args.no_progress else None,
    )
    mean, err = result.final_energy()
    relative = abs(mean - exact) / abs(exact) if exact != 0 else abs(mean)
    kind = ("symmetric " if args.symmetric else "") + ("complex" if args.complex else "real")
    print(
        f"VMC: {'open' if args.open else 'periodic'} chain N = {n}, h = {args.field:g}, J = {args.coupling:g}; "
        f"{kind} RBM, alpha = {args.alpha} ({ansatz.n_parameters} parameters); "
        + ("full summation" if args.full_summation else f"{args.samples} samples on {args.chains} chains")
        + (f"; resumed at iteration {result.resumed_from}" if result.resumed_from else "")
    )
    rows = [
        [
            k + 1,
            f"{result.energy[k]:.8f}",
            f"{result.stderr[k]:.2e}",
            f"{result.variance[k]:.3e}",
            f"{result.acceptance[k]:.3f}",
            f"{abs(result.energy[k] - exact) / abs(exact):.2e}" if exact != 0 else "",
        ]
        for k in _rows(result.iterations)
    ]
    print(format_table(["iteration", "energy", "stderr", "variance", "acceptance", "rel. error"], rows))
    print(
        f"energy (last tenth) {mean:.8f} ± {err:.2e}   exact (free fermions) {exact:.8f}   relative error "
        f"{relative:.2e}   per spin {mean / n:.8f}   {result.seconds_per_iteration * 1e3:.2f} ms per iteration"
    )
    if result.chains_stuck:
        print(
            "warning: the Metropolis chains stopped moving (acceptance below 1% over the last tenth): psi is "
            "sharply peaked and the error bar means nothing; lower --learning-rate or raise --diag-shift-min",
            file=sys.stderr,
        )
    if args.json:
        record = result.as_dict()
        record.update(
            {
                "exact_energy": exact,
                "relative_error": relative,
                "energy_per_spin": mean / n,
                "exact_energy_per_spin": exact / n,
            }
        )
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.quantum_learning_plots import plot_vmc_energy

        plot_vmc_energy(
            args.plot,
            result.energy,
            result.stderr,
            exact,
            title=f"{kind} RBM, alpha = {args.alpha}, chain N = {n}, h = {args.field:g}",
            n_spins=n,
        )
        print(f"wrote {args.plot}")
    if not math.isfinite(mean):
        raise FloatingPointError("the VMC energy is not finite")
    return 0
