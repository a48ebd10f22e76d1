"""``thermolearn spinglass``: population annealing and ground-state search on spin glasses.

- ``pa``: ln Z and <E> of one model at one temperature by population annealing (R replicas
  annealed from beta = 0 with resampling), error bars from independent populations, the exact
  ln Z (enumeration for N <= 24, Kaufman for the 2D ferromagnet) beside it, and the family
  diagnostics rho_f, rho_t.
- ``overlaps``: over K disorder samples, P(q), [<q^2>], chi_SG = N [<q^2>], the Binder ratio of q
  and the link overlap at one or more temperatures, from pairs of independent annealed populations,
  with [<q^2>] from enumeration beside them (N <= 20).
- ``pt``: two replicas per temperature of one instance, parallel tempering with Houdayer cluster
  moves: <E>, <q^2>, the Binder ratio and P(q) per temperature with autocorrelation-aware errors, the
  exact values beside them (N <= 20) and the logarithmic-binning equilibration test.
- ``groundstate``: over K disorder samples (SK or Edwards-Anderson), one run of SA, PT or
  population annealing per sample with S sweeps, against the exact ground state (enumeration,
  N <= 24): the hit probability with its error and Wilson interval, and the mean E / N.
"""

from __future__ import annotations

import argparse
import math
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_ladder_size,
    add_no_progress,
    add_plot,
    add_seed,
    add_sweeps,
    add_temperature,
    check_distinct_paths,
    nonnegative_int,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.sweep_command import add_parallel_options, parallel_executor
from thermolearn.cli.table import format_table

if TYPE_CHECKING:
    from thermolearn.models.ising import Ising

# thermolearn.spinglass's COUPLING_KINDS and ALGORITHMS, named here so that --help loads nothing
COUPLING_CHOICES = ("pm", "gaussian", "ferro")
ALGORITHM_CHOICES = ("sa", "pt", "pa")
# population_annealing's MIN_POPULATION and MIN_RUNS (checked again there)
_MIN_POPULATION = 16
_MIN_RUNS = 2
# exact ln Z by enumeration up to this many spins from the command line (2^24 states: about a second)
_MAX_ENUMERATED = 24


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spinglass",
        help="spin glasses: population annealing (ln Z with error bars) and ground-state search",
        description="Spin glasses made runnable: population annealing of any model (ln Z and <E> with error bars "
        "from independent populations, checked against enumeration or Kaufman), and ground-state search over "
        "disorder samples of Sherrington-Kirkpatrick or Edwards-Anderson glasses with SA, PT or population "
        "annealing, against exact ground states.",
    )
    psub = p.add_subparsers(dest="spinglass_command", metavar="ACTION")
    p.set_defaults(run=missing_action("spinglass", "pa, pt, overlaps or groundstate"))

    a = psub.add_parser(
        "pa",
        help="ln Z and <E> at one temperature by population annealing",
        description="Population annealing (Machta; Wang, Machta, Katzgraber 2015): R replicas start uniformly "
        "random (beta = 0) and are annealed to 1/T in equal steps of beta; each step multiplies Z by the mean "
        "reweighting factor Q_k = <exp(-dbeta E)>, resamples the replicas by those factors and makes Metropolis "
        "sweeps, so ln Z = N ln 2 + sum_k ln Q_k. The error bar is a jackknife over --runs independent "
        "populations. Prints the exact ln Z where one is known (N <= 24: enumeration; 2D ferromagnet: Kaufman).",
    )
    a.add_argument("model", nargs="?", help="model file: a .npz written by Ising.save, or an edge-list text file")
    a.add_argument("--lattice", metavar="LxL[xL]", help="a periodic square or cubic lattice instead, e.g. 8x8 or 4x4x4")
    a.add_argument(
        "--couplings",
        choices=COUPLING_CHOICES,
        default=None,
        help="couplings of --lattice: ferro (J = 1), pm (+-1) or gaussian (default pm); drawn with --seed",
    )
    a.add_argument("--sk", type=positive_int, metavar="N", help="a Sherrington-Kirkpatrick instance of N spins instead")
    add_temperature(a, required=True, help="the temperature T > 0 (k_B = 1) at which ln Z and <E> are estimated")
    a.add_argument(
        "--population",
        type=positive_int,
        default=1000,
        metavar="R",
        help=f"replicas per population, >= {_MIN_POPULATION} (default 1000)",
    )
    a.add_argument(
        "--steps", type=positive_int, default=100, metavar="K", help="steps of beta from 0 to 1/T (default 100)"
    )
    add_sweeps(a, default=10, help="Metropolis sweeps of every replica per step (default 10)")
    a.add_argument(
        "--runs",
        type=positive_int,
        default=8,
        metavar="M",
        help=f"independent populations for the error bar, >= {_MIN_RUNS} (default 8)",
    )
    add_seed(a, "the instance (for --lattice and --sk) and the populations")
    add_json(a, "log_z, energy (mean, stderr), exact_log_z (or null), rho_f, rho_t and per-run results")
    add_plot(a, "the running estimate of ln Z against beta of every population, with the exact value")
    add_no_progress(a)
    a.set_defaults(run=run_pa_command)

    t = psub.add_parser(
        "pt",
        help="two-replica parallel tempering with Houdayer cluster moves: <E>, <q^2>, P(q) per temperature",
        description="Two replicas at every temperature of a ladder, each round a Metropolis sweep of every replica, "
        "a Houdayer cluster move between the two replicas of each temperature (flip a cluster of sites where they "
        "disagree in both: rejection-free, E_a + E_b unchanged; zero field only) and replica exchange between "
        "neighbouring temperatures. Prints <E>, <q^2> and the Binder ratio of q per temperature with "
        "autocorrelation-aware errors, the exact values where N <= 20, exchange rates, cluster sizes and the "
        "logarithmic-binning equilibration test (the windows [n/4, n/2) and [n/2, n) of E and q^2 agree).",
    )
    t.add_argument("model", nargs="?", help="model file: a .npz written by Ising.save, or an edge-list text file")
    t.add_argument("--lattice", metavar="LxL[xL]", help="a periodic square or cubic lattice instead, e.g. 4x4")
    t.add_argument(
        "--couplings",
        choices=COUPLING_CHOICES,
        default=None,
        help="couplings of --lattice: pm (+-1), gaussian or ferro (default pm); drawn with --seed",
    )
    t.add_argument("--sk", type=positive_int, metavar="N", help="a Sherrington-Kirkpatrick instance of N spins instead")
    add_temperature(t, required=True, help="the ladder: temperatures T > 0 (k_B = 1), numbers or start:stop:count")
    add_sweeps(t, default=20000, help="rounds of sweeps, cluster moves and exchanges (default 20000)")
    t.add_argument(
        "--burn-in", type=nonnegative_int, default=None, metavar="N", help="rounds left out of averages (default 1/10)"
    )
    t.add_argument("--no-houdayer", action="store_true", help="no Houdayer cluster moves (plain two-replica PT)")
    t.add_argument(
        "--houdayer-below",
        type=positive_float,
        default=None,
        metavar="T",
        help="Houdayer moves only at temperatures <= T (isoenergetic cluster moves in 3D, where the clusters "
        "percolate at high T; default: every temperature)",
    )
    add_seed(t, "the instance (for --lattice and --sk) and the run")
    add_json(t, "per temperature: energy, q2, binder (mean, stderr), exact values, exchange rates, equilibration")
    add_plot(t, "P(q) at every temperature")
    add_no_progress(t)
    t.set_defaults(run=run_pt_command)

    o = psub.add_parser(
        "overlaps",
        help="P(q), chi_SG and the Binder ratio of q over disorder samples",
        description="For each of K disorder samples (seeds drawn from --seed) two independent populations of R "
        "replicas are annealed to 1/T (population annealing); replica i of one and of the other give an overlap "
        "q = (1/N) sum_j a_j b_j. Prints the disorder averages [<q^2>], chi_SG = N [<q^2>], the Binder ratio "
        "g = (3 - [<q^4>] / [<q^2>]^2) / 2 and the link overlap, with jackknife errors over samples, and the exact "
        "[<q^2>] of the same samples by enumeration where N <= 20.",
    )
    omodel = o.add_mutually_exclusive_group()
    omodel.add_argument("--sk", type=positive_int, metavar="N", help="Sherrington-Kirkpatrick instances of N spins")
    omodel.add_argument(
        "--lattice", metavar="LxL[xL]", help="Edwards-Anderson instances on a periodic lattice, e.g. 4x4"
    )
    o.add_argument(
        "--couplings", choices=("pm", "gaussian"), default="pm", help="couplings of --lattice: pm (+-1) or gaussian"
    )
    o.add_argument("--samples", type=positive_int, default=10, metavar="K", help="disorder samples, >= 2 (default 10)")
    add_temperature(o, required=True, help="temperatures T > 0 (k_B = 1): numbers or start:stop:count")
    o.add_argument(
        "--population",
        type=positive_int,
        default=500,
        metavar="R",
        help=f"replicas per population (two per sample), >= {_MIN_POPULATION} (default 500)",
    )
    o.add_argument(
        "--steps", type=positive_int, default=50, metavar="K", help="steps of beta from 0 to 1/T (default 50)"
    )
    add_sweeps(o, default=5, help="Metropolis sweeps of every replica per step (default 5)")
    add_seed(o, "the disorder samples and the populations")
    add_json(
        o, "per temperature: q_values, p_of_q, q2, q4, chi_sg, binder, link_overlap, exact_q2 and per-sample moments"
    )
    add_plot(o, "the disorder-averaged P(q) at every temperature and the Binder ratio of q against T")
    add_parallel_options(o, "the temperatures")
    add_no_progress(o)
    o.set_defaults(run=run_overlaps_command)

    g = psub.add_parser(
        "groundstate",
        help="probability of reaching the exact ground state over disorder samples (SA, PT, PA)",
        description="For each of K disorder samples (seeds drawn from --seed), one run of simulated annealing, "
        "parallel tempering or population annealing with S sweeps, and the exact ground-state energy by "
        "enumeration (N <= 24): the hit probability with its standard error and 95% Wilson interval, and the "
        "mean best energy per spin. Budgets: sa, one read of S sweeps; pt, S sweeps of each of --ladder-size "
        "replicas; pa, S sweeps of each of --population replicas (S / 4 steps of 4 sweeps).",
    )
    model = g.add_mutually_exclusive_group()
    model.add_argument("--sk", type=positive_int, metavar="N", help="Sherrington-Kirkpatrick instances of N spins")
    model.add_argument(
        "--lattice", metavar="LxL[xL]", help="Edwards-Anderson instances on a periodic lattice, e.g. 4x4"
    )
    g.add_argument(
        "--couplings",
        choices=("pm", "gaussian"),
        default="pm",
        help="couplings of --lattice: pm (+-1) or gaussian (default pm)",
    )
    g.add_argument("--samples", type=positive_int, default=10, metavar="K", help="disorder samples (default 10)")
    g.add_argument("--algorithm", choices=ALGORITHM_CHOICES, default="sa", help="search algorithm (default sa)")
    add_sweeps(g, default=1000, help="sweeps per run (default 1000; see the budgets above)")
    add_ladder_size(g, default=8, help="parallel-tempering rungs (pt, default 8)")
    g.add_argument(
        "--population",
        type=positive_int,
        default=64,
        metavar="R",
        help=f"population annealing replicas (pa, >= {_MIN_POPULATION}, default 64)",
    )
    add_seed(g, "the disorder samples and the runs")
    add_checkpoint(g, "the samples done so far (after the first sample, then at most once a second)")
    add_json(g, "samples (seed, best_energy, exact_ground_energy, hit), hit_probability and mean_energy_per_spin")
    add_plot(g, "best energy per spin of every sample against the exact ground state")
    add_parallel_options(g, "the samples")
    add_no_progress(g)
    g.set_defaults(run=run_groundstate_command)


# ------------------------------------------------------------------------------------ helpers
def _lattice_shape(text: str) -> tuple[int, ...]:
    """``LxL`` or ``LxLxL``, every side >= 3 (a periodic side of 2 doubles its bonds)."""
    try:
        dims = tuple(int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--lattice must look like 8x8 or 4x4x4, got {text!r}") from None
    if len(dims) not in (2, 3):
        raise ValueError(f"--lattice must be a square (LxL) or cubic (LxLxL) lattice, got {text!r}")
    if any(d < 3 for d in dims):
        raise ValueError(f"--lattice sides must be at least 3 (periodic, distinct neighbours), got {text!r}")
    return dims


def _check_sk_size(n: int) -> None:
    from thermolearn.resources import check_memory

    if n < 2:
        raise ValueError(f"--sk needs at least 2 spins, got {n}")
    # the SK constructor draws and checks a dense N x N matrix (several float64 copies)
    check_memory(f"an SK instance of {n} spins", 40.0 * n * n, hint="choose a smaller --sk")


def _pa_model(args: argparse.Namespace) -> Ising:
    from thermolearn.models.ising import Ising
    from thermolearn.spinglass.ensembles import edwards_anderson_instance

    # "" is a (bad) --lattice, not a missing one: its own error names it
    given = [
        name for name, v in (("MODEL", args.model), ("--lattice", args.lattice), ("--sk", args.sk)) if v is not None
    ]
    if len(given) != 1:
        raise ValueError(
            "give one model: a model file, --lattice LxL[xL] or --sk N"
            + (f" (got {' and '.join(given)})" if given else "")
        )
    if args.couplings is not None and args.lattice is None:
        raise ValueError("--couplings applies to --lattice only")
    if args.lattice is not None:
        return edwards_anderson_instance(_lattice_shape(args.lattice), args.couplings or "pm", args.seed)
    if args.sk is not None:
        _check_sk_size(args.sk)
        return Ising.sherrington_kirkpatrick(args.sk, seed=args.seed)
    path = Path(args.model)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    return Ising.load(path) if path.suffix == ".npz" else Ising.from_edgelist(path)


def _exact(model: Ising, temperature: float) -> tuple[Any, str | None]:
    """The exact thermodynamics where a method applies: enumeration (N <= 24) or Kaufman / transfer
    matrices; ``(None, None)`` otherwise."""
    from thermolearn.exact.enumeration import enumerate_exact
    from thermolearn.exact.solve import ExactMethodUnavailable, choose_method, solve

    if model.n_spins <= _MAX_ENUMERATED:
        return enumerate_exact(model, temperature, correlations=False)[0], "enumeration"
    try:
        method = choose_method(model)
    except ExactMethodUnavailable:
        return None, None
    if method not in ("kaufman", "transfer_matrix"):
        return None, None
    return solve(model, temperature, method=method)[0], method


def _pair(value: tuple[float, float]) -> dict[str, float]:
    return {"mean": float(value[0]), "stderr": float(value[1])}


# -------------------------------------------------------------------------------------- pa
def run_pa_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.population < _MIN_POPULATION:
        raise ValueError(
            f"--population must be at least {_MIN_POPULATION} replicas to estimate ln Z (the mean reweighting "
            f"factor of every step needs many replicas; use hundreds or more at low T), got {args.population}"
        )
    if args.runs < _MIN_RUNS:
        raise ValueError(
            f"--runs must be at least {_MIN_RUNS}: the error bar of ln Z comes from independent populations "
            f"(4 or more make it usable), got {args.runs}"
        )
    from thermolearn.cli.arguments import parse_temperatures
    from thermolearn.progress import progress_bar
    from thermolearn.spinglass.population_annealing import check_population_memory, population_annealing

    temperatures = parse_temperatures(args.temperature)
    if temperatures.size != 1:
        raise ValueError(f"give one --temperature for pa, got {temperatures.size}")
    T = float(temperatures[0])
    model = _pa_model(args)
    check_population_memory(args.population, model.n_spins)
    work = args.runs * args.steps * args.sweeps * args.population * max(1, model.n_edges)
    with progress_bar(
        total=args.runs * args.steps,
        desc="population annealing",
        unit="step",
        progress=False if args.no_progress else None,
        worthwhile=work > 10**8,
    ) as bar:
        result = population_annealing(
            model,
            T,
            population=args.population,
            steps=args.steps,
            sweeps=args.sweeps,
            runs=args.runs,
            seed=args.seed,
            progress=bar.update if not bar.disable else None,
        )
    solved, method = _exact(model, T)
    exact = None if solved is None else float(solved.log_z)
    exact_energy = None if solved is None else float(solved.energy)
    name = model.name or "model"
    print(f"population annealing: {name}, N = {model.n_spins}, T = {T:g}")
    print(
        f"R = {result.population} replicas x {result.runs} independent runs, {result.steps} steps of beta, "
        f"{result.sweeps} Metropolis sweeps per step ({result.seconds:.2f} s)"
    )
    lz, lz_err = result.log_z
    rows = [
        [
            "ln Z",
            f"{lz:.6f}",
            f"{lz_err:.6f}",
            "" if exact is None else f"{exact:.6f}",
            "" if exact is None or lz_err == 0 else f"{(lz - exact) / lz_err:+.2f}",
        ],
        [
            "<E>",
            f"{result.energy[0]:.6f}",
            f"{result.energy[1]:.6f}",
            "" if exact_energy is None else f"{exact_energy:.6f}",
            ""
            if exact_energy is None or result.energy[1] == 0
            else f"{(result.energy[0] - exact_energy) / result.energy[1]:+.2f}",
        ],
    ]
    print(format_table(["quantity", "estimate", "stderr", "exact" + (f" ({method})" if method else ""), "z"], rows))
    print(
        f"family diagnostics: rho_f = R / exp(S_f) = {result.rho_f:.2f} (mean over runs), "
        f"rho_t = R Var(ln Z) = {result.rho_t:.2f}; trustworthy when R >> both"
    )
    import sys

    for note in result.warnings:
        print(f"warning: {note}", file=sys.stderr)
    record: dict[str, Any] = {
        "log_z": _pair(result.log_z),
        "energy": _pair(result.energy),
        "exact_log_z": exact,
        "exact_energy": exact_energy,
        "exact_method": method,
        "model": name,
        "n_spins": model.n_spins,
        **{k: v for k, v in result.as_dict().items() if k not in ("log_z", "energy")},
    }
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot_pa(args.plot, result, exact)
        print(f"wrote {args.plot}")
    return 0


def _plot_pa(path: str, result: Any, exact: float | None) -> None:
    import numpy as np

    from thermolearn.spinglass.population_annealing import linear_beta_schedule
    from thermolearn.viz.figures import new_figure, save_figure

    betas = linear_beta_schedule(1.0 / result.temperature, result.steps)
    fig, axes = new_figure(width=5.0, height=3.6)
    ax = axes[0, 0]
    for k, run in enumerate(result.run_results):
        running = result.n_spins * math.log(2.0) + np.cumsum(run.log_q)
        ax.plot(betas, running / result.n_spins, color=f"C{k % 10}", lw=0.8, alpha=0.8)
    if exact is not None:
        ax.axhline(exact / result.n_spins, color="k", ls="--", lw=0.8, label="exact at 1/T")
        ax.legend(fontsize=8)
    ax.set_xlabel("beta")
    ax.set_ylabel("ln Z(beta) / N (running estimate)")
    ax.set_title(f"population annealing, R = {result.population}, {result.runs} runs", fontsize=9)
    save_figure(fig, path)


# --------------------------------------------------------------------------------------- pt
def run_pt_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    import numpy as np

    from thermolearn.cli.arguments import parse_temperatures
    from thermolearn.exact.enumeration import enumerate_exact
    from thermolearn.progress import progress_bar
    from thermolearn.spinglass.houdayer import tempering_with_houdayer

    if args.no_houdayer and args.houdayer_below is not None:
        raise ValueError("--houdayer-below applies with Houdayer moves: drop --no-houdayer")
    burn_in = args.sweeps // 10 if args.burn_in is None else args.burn_in
    if args.sweeps - burn_in < 32:
        raise ValueError(
            f"--sweeps must leave at least 32 rounds after --burn-in {burn_in} for averages and the "
            f"equilibration test, got --sweeps {args.sweeps}"
        )
    temperatures = np.sort(parse_temperatures(args.temperature))
    if np.unique(temperatures).size != temperatures.size:
        raise ValueError("--temperature values of the ladder must be distinct")
    model = _pa_model(args)
    n = model.n_spins
    with progress_bar(
        total=1,
        desc="tempering",
        unit="run",
        progress=False if args.no_progress else None,
        worthwhile=args.sweeps * temperatures.size * 2 * max(1, model.n_edges) > 10**8,
    ) as bar:
        if args.no_houdayer:
            flags: Any = False
        elif args.houdayer_below is not None:
            flags = temperatures <= args.houdayer_below
        else:
            flags = True
        run = tempering_with_houdayer(model, temperatures, args.sweeps, houdayer=flags, seed=args.seed)
        bar.update(1)
    exact = enumerate_exact(model, run.temperatures) if n <= _MAX_EXACT_Q2 else None
    import sys
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        # short series make the estimators warn once per temperature: said once below instead
        warnings.simplefilter("always", RuntimeWarning)
        results, rows = _pt_tables(run, burn_in, exact, n)
    if caught:
        print(
            f"warning: {args.sweeps - burn_in} rounds after burn-in are few for reliable autocorrelation times; "
            "the error bars are rough: run more --sweeps",
            file=sys.stderr,
        )
    houdayer = "without" if args.no_houdayer else "with"
    print(
        f"parallel tempering {houdayer} Houdayer moves: {model.name or 'model'}, N = {n}, "
        f"{run.temperatures.size} temperatures x 2 replicas, {args.sweeps} rounds ({burn_in} burn-in)"
    )
    header = ["T", "<E>", "exact <E>", "<q^2>", "exact <q^2>", "Binder g", "exchange", "cluster", "equilibrated"]
    print(format_table(header, rows))
    if not all(r["equilibrated"] for r in results):
        print("warning: some temperatures fail the equilibration test: run more --sweeps", file=sys.stderr)
    if args.json:
        record = {
            "model": model.name,
            "n_spins": n,
            "houdayer": not args.no_houdayer,
            "houdayer_below": args.houdayer_below,
            "sweeps": args.sweeps,
            "burn_in": burn_in,
            "temperatures": run.temperatures.tolist(),
            "results": results,
            "equilibrated": all(r["equilibrated"] for r in results),
        }
        write_json(args, record)
    if args.plot:
        _plot_p_of_q(args.plot, results, model.name or "model")
        print(f"wrote {args.plot}")
    return 0


def _pt_tables(run: Any, burn_in: int, exact: Any, n: int) -> tuple[list[dict], list[list]]:
    """Per temperature: the JSON record and the table row of a tempering run."""
    import numpy as np

    from thermolearn.estimators.autocorrelation import error_of_mean, integrated_autocorrelation_time
    from thermolearn.estimators.jackknife import choose_block_size, jackknife
    from thermolearn.spinglass.houdayer import equilibration_check

    results = []
    rows = []
    for k, T in enumerate(run.temperatures):
        e = run.energies[burn_in:, k].mean(axis=1)  # the two replicas' mean energy each round
        q = run.overlaps[burn_in:, k]
        q2 = q**2
        e_err = error_of_mean(e) if np.ptp(e) > 0 else 0.0
        q2_err = error_of_mean(q2) if np.ptp(q2) > 0 else 0.0
        binder = None
        if np.mean(q2) > 0 and np.ptp(q2) > 0:
            # blocks from tau_int of q^2; a short run gets smaller blocks (said by the equilibration column)
            block = choose_block_size(q2.size, integrated_autocorrelation_time(q2).tau, warn=False)
            jk = jackknife(lambda a, b: 0.5 * (3.0 - b / a**2), q2, q2**2, block_size=block)
            binder = (float(jk.estimate), float(jk.stderr))
        checks = [equilibration_check(run.energies[:, k].mean(axis=1)), equilibration_check(run.overlaps[:, k] ** 2)]
        ex_e = None if exact is None else float(exact[k].energy)
        ex_q2 = None if exact is None else float(np.sum(exact[k].extras["correlations"] ** 2) / n**2)
        values, p_q = _p_of_q(q, n)
        results.append(
            {
                "temperature": float(T),
                "energy": {"mean": float(e.mean()), "stderr": float(e_err)},
                "q2": {"mean": float(q2.mean()), "stderr": float(q2_err)},
                "binder": None if binder is None else {"mean": binder[0], "stderr": binder[1]},
                "exact_energy": ex_e,
                "exact_q2": ex_q2,
                "exchange_acceptance": float(run.exchange_acceptance[k]) if k < run.temperatures.size - 1 else None,
                "mean_cluster_size": float(run.mean_cluster_size[k]),
                "equilibrated": all(c.equilibrated for c in checks),
                "q_values": values,
                "p_of_q": p_q,
            }
        )
        rows.append(
            [
                f"{T:g}",
                f"{e.mean():.5f} +- {e_err:.5f}",
                "" if ex_e is None else f"{ex_e:.5f}",
                f"{q2.mean():.5f} +- {q2_err:.5f}",
                "" if ex_q2 is None else f"{ex_q2:.5f}",
                "" if binder is None else f"{binder[0]:.4f} +- {binder[1]:.4f}",
                "" if k == run.temperatures.size - 1 else f"{run.exchange_acceptance[k]:.2f}",
                f"{run.mean_cluster_size[k]:.1f}",
                "yes" if results[-1]["equilibrated"] else "NO",
            ]
        )
    return results, rows


def _p_of_q(q: Any, n: int) -> tuple[list[float], list[float]]:
    from thermolearn.spinglass.overlaps import overlap_distribution

    values, p = overlap_distribution(q, n)
    return values.tolist(), p.tolist()


def _plot_p_of_q(path: str, results: list[dict], title: str) -> None:
    from thermolearn.viz.figures import new_figure, save_figure

    fig, axes = new_figure(width=5.0, height=3.6)
    ax = axes[0, 0]
    for k, r in enumerate(results):
        ax.plot(r["q_values"], r["p_of_q"], "o-", ms=2.5, lw=0.8, color=f"C{k % 10}", label=f"T = {r['temperature']:g}")
    ax.set_xlabel("q")
    ax.set_ylabel("P(q)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path)


# --------------------------------------------------------------------------------- overlaps
def _ensemble(args: argparse.Namespace) -> Any:
    """The disorder ensemble of ``--sk N`` or ``--lattice LxL[xL]`` with ``--samples`` and ``--seed``."""
    from thermolearn.spinglass.ensembles import ea_ensemble, sk_ensemble

    if args.sk is None and args.lattice is None:
        raise ValueError("give the instances: --sk N or --lattice LxL[xL]")
    if args.sk is not None:
        _check_sk_size(args.sk)
        return sk_ensemble(args.sk, args.samples, seed=args.seed)
    return ea_ensemble(_lattice_shape(args.lattice), args.samples, couplings=args.couplings, seed=args.seed)


# exact [<q^2>] = (1/N^2) sum_ij <s_i s_j>^2 by enumeration with pair correlations up to this size
_MAX_EXACT_Q2 = 20


def overlaps_job(point: dict, seed: int) -> Any:
    """The overlap study of ``spinglass overlaps`` at one temperature, here or on a worker
    (``--workers``, ``--dask``); ``seed`` is unused: the ensemble seeds every population."""
    from thermolearn.spinglass.measurements import overlap_study

    return overlap_study(
        point["ensemble"],
        point["temperature"],
        population=point["population"],
        steps=point["steps"],
        sweeps=point["sweeps"],
        progress=point["progress"],
    )


def run_overlaps_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.samples < 2:
        raise ValueError(
            f"--samples must be at least 2 (error bars come from the spread over samples), got {args.samples}"
        )
    if args.population < _MIN_POPULATION:
        raise ValueError(f"--population must be at least {_MIN_POPULATION} replicas, got {args.population}")
    import numpy as np

    from thermolearn.cli.arguments import parse_temperatures
    from thermolearn.exact.enumeration import enumerate_exact
    from thermolearn.progress import progress_bar
    from thermolearn.resources import check_memory
    from thermolearn.runs.sweep import as_finished
    from thermolearn.spinglass.population_annealing import check_population_memory

    temperatures = parse_temperatures(args.temperature)
    ensemble = _ensemble(args)
    n = ensemble.n_spins
    check_population_memory(2 * args.population, n)
    check_memory(f"a schedule of {args.steps} steps", 16.0 * args.steps, hint="choose fewer --steps")
    # every sample keeps its overlaps and link overlaps at each temperature
    check_memory(
        f"the overlaps of {args.samples} samples x {args.population} pairs at {temperatures.size} temperatures",
        24.0 * args.samples * args.population + 16.0 * temperatures.size * args.samples * (n + 8),
        hint="choose fewer --samples or a smaller --population",
    )
    studies: list[Any] = [None] * temperatures.size
    parallel = bool(args.workers or args.dask or args.scheduler)
    with (
        parallel_executor(args) as executor,
        progress_bar(
            total=args.samples * temperatures.size,
            desc="overlaps",
            unit="sample",
            progress=False if args.no_progress else None,
            worthwhile=2 * args.samples * temperatures.size * args.population * args.steps * args.sweeps * n > 10**8,
        ) as bar,
    ):
        # one job per temperature; a study's seeds come from the ensemble, not from where it runs
        settings = {"ensemble": ensemble, "population": args.population, "steps": args.steps, "sweeps": args.sweeps}
        jobs = [
            (k, {**settings, "temperature": float(T), "progress": None if parallel or bar.disable else bar.update}, 0)
            for k, T in enumerate(temperatures)
        ]
        for k, (study, _) in as_finished(executor, overlaps_job, jobs):
            studies[k] = study
            if parallel:
                bar.update(args.samples)
    exact_q2: list[float | None] = []
    for T in temperatures:
        if n <= _MAX_EXACT_Q2:
            per_sample = [
                float(np.sum(enumerate_exact(m, float(T))[0].extras["correlations"] ** 2)) / n**2 for m in ensemble
            ]
            exact_q2.append(float(np.mean(per_sample)))
        else:
            exact_q2.append(None)
    print(
        f"overlaps: {ensemble.describe()}, {args.samples} samples, two populations of {args.population} replicas "
        f"per sample ({args.steps} steps x {args.sweeps} sweeps)"
    )
    rows = []
    for st, ex in zip(studies, exact_q2):
        a = st.average
        rows.append(
            [
                f"{st.temperature:g}",
                f"{a.q2[0]:.5f} +- {a.q2[1]:.5f}",
                "" if ex is None else f"{ex:.5f}",
                f"{a.chi_sg[0]:.4f} +- {a.chi_sg[1]:.4f}",
                f"{a.binder[0]:.4f} +- {a.binder[1]:.4f}",
                "" if a.link is None else f"{a.link[0]:.4f} +- {a.link[1]:.4f}",
            ]
        )
    print(format_table(["T", "[<q^2>]", "exact [<q^2>]", "chi_SG", "Binder g", "[q_link]"], rows))
    if args.json:
        results = [{**st.as_dict(), "exact_q2": ex} for st, ex in zip(studies, exact_q2)]
        write_json(args, {"ensemble": ensemble.as_dict(), "temperatures": temperatures.tolist(), "results": results})
    if args.plot:
        _plot_overlaps(args.plot, studies)
        print(f"wrote {args.plot}")
    return 0


def _plot_overlaps(path: str, studies: list) -> None:
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    fig, axes = new_figure(ncols=2, width=4.5, height=3.4)
    ax = axes[0, 0]
    for k, st in enumerate(studies):
        ax.plot(st.q_values, st.p_of_q, "o-", ms=2.5, lw=0.8, color=f"C{k % 10}", label=f"T = {st.temperature:g}")
    ax.set_xlabel("q")
    ax.set_ylabel("P(q) (disorder average)")
    ax.set_title(studies[0].ensemble.describe(), fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    temps = np.array([st.temperature for st in studies])
    g = np.array([st.average.binder for st in studies])
    ax.errorbar(temps, g[:, 0], yerr=g[:, 1], fmt="o-", ms=3, color="C3")
    ax.set_xlabel("T")
    ax.set_ylabel("Binder ratio g of q")
    ax.set_title("g = (3 - [<q^4>] / [<q^2>]^2) / 2", fontsize=9)
    save_figure(fig, path)


# ----------------------------------------------------------------------------- groundstate
def run_groundstate_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.checkpoint == "-":
        raise ValueError("--checkpoint must be a file (PATH.npz), not the standard output")
    check_output_path(args.checkpoint, ".npz")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot, "--checkpoint": args.checkpoint})
    if args.sk is None and args.lattice is None:
        raise ValueError("give the instances: --sk N or --lattice LxL[xL]")
    # checked whatever the algorithm, so that a wrong value never passes unnoticed
    if args.ladder_size < 2:
        raise ValueError(f"--ladder-size must be at least 2 (a hot and a cold end), got {args.ladder_size}")
    if args.population < _MIN_POPULATION:
        raise ValueError(f"--population must be at least {_MIN_POPULATION} replicas, got {args.population}")
    if args.algorithm == "pa" and args.sweeps < 4:
        raise ValueError(f"--sweeps must be at least 4 for pa (one step of 4 sweeps), got {args.sweeps}")
    from thermolearn.progress import progress_bar
    from thermolearn.spinglass.groundstate import MAX_EXACT_SPINS, ground_state_study
    from thermolearn.spinglass.population_annealing import check_population_memory

    ensemble = _ensemble(args)
    n = ensemble.n_spins
    if args.algorithm == "pa":
        check_population_memory(args.population, n)
    if args.algorithm == "pt":
        from thermolearn.resources import check_memory

        # the ladder's replicas: int8 spins, float64 copies for the final energies, generator states
        check_memory(
            f"parallel tempering with --ladder-size {args.ladder_size} replicas of {n} spins",
            float(args.ladder_size) * (40.0 * n + 128.0),
            hint="choose a smaller --ladder-size",
        )
    replicas = {"sa": 1, "pt": args.ladder_size, "pa": args.population}[args.algorithm]
    from thermolearn.runs.sweep import as_finished

    with (
        parallel_executor(args) as executor,
        progress_bar(
            total=args.samples,
            desc=f"ground states ({args.algorithm})",
            unit="sample",
            progress=False if args.no_progress else None,
            worthwhile=args.samples * args.sweeps * replicas * n > 10**7,
        ) as bar,
    ):
        study = ground_state_study(
            ensemble,
            args.algorithm,
            args.sweeps,
            ladder=args.ladder_size,
            population=args.population,
            progress=bar.update if not bar.disable else None,
            checkpoint=args.checkpoint,
            map_samples=None if executor is None else partial(as_finished, executor),
        )
    if study.resumed:
        print(f"resumed from {args.checkpoint}: {study.resumed} of {args.samples} samples were done")
    print(f"ground-state search: {ensemble.describe()}, {args.samples} samples, {args.algorithm}, {args.sweeps} sweeps")
    rows = []
    for k, s in enumerate(study.samples):
        e0 = s["exact_ground_energy"]
        rows.append(
            [
                k,
                s["seed"],
                f"{s['best_energy']:.6f}",
                "" if e0 is None else f"{e0:.6f}",
                "" if s["hit"] is None else ("yes" if s["hit"] else "no"),
            ]
        )
    print(format_table(["sample", "seed", "best E", "exact E0", "hit"], rows))
    e_mean, e_err = study.mean_energy_per_spin
    print(f"mean best E / N = {e_mean:.6f}" + ("" if e_err is None else f" +- {e_err:.6f}"))
    if study.hit_probability is None:
        print(f"no exact ground states: N = {n} is above the enumeration limit {MAX_EXACT_SPINS}")
    else:
        p, p_err = study.hit_probability
        low, high = study.wilson if study.wilson is not None else (math.nan, math.nan)
        print(f"hit probability = {p:.3f} +- {p_err:.3f} (95% Wilson interval [{low:.3f}, {high:.3f}])")
    record = study.as_dict()
    record["hit_probability"] = (
        None
        if study.hit_probability is None
        else {**_pair(study.hit_probability), "wilson_95": list(study.wilson or ())}
    )
    record["mean_energy_per_spin"] = {"mean": e_mean, "stderr": e_err}  # stderr null for one sample
    record["ensemble"] = ensemble.as_dict()
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot_groundstate(args.plot, study)
        print(f"wrote {args.plot}")
    return 0


def _plot_groundstate(path: str, study: Any) -> None:
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    n = study.ensemble.n_spins
    k = np.arange(len(study.samples))
    best = np.array([s["best_energy"] for s in study.samples]) / n
    fig, axes = new_figure(width=5.5, height=3.6)
    ax = axes[0, 0]
    ax.plot(k, best, "o", color="C0", label=f"best ({study.algorithm}, {study.sweeps} sweeps)")
    exact = [s["exact_ground_energy"] for s in study.samples]
    if all(e is not None for e in exact):
        ax.plot(k, np.array(exact) / n, "x", color="C3", label="exact ground state")
    ax.set_xlabel("disorder sample")
    ax.set_ylabel("E / N")
    ax.legend(fontsize=8)
    ax.set_title(study.ensemble.describe(), fontsize=9)
    save_figure(fig, path)
