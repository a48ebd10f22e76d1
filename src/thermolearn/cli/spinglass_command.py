"""``thermolearn spinglass``: population annealing and ground-state search on spin glasses.

- ``pa``: ln Z and <E> of one model at one temperature by population annealing (R replicas
  annealed from beta = 0 with resampling), error bars from independent populations, the exact
  ln Z (enumeration for N <= 24, Kaufman for the 2D ferromagnet) beside it, and the family
  diagnostics rho_f, rho_t. ``--samples K`` (K > 1): K disorder samples of ``--sk`` or a random
  ``--lattice``, each reported, and the disorder averages [ln Z], [<E>] with jackknife errors
  over samples under the same JSON names (K = 1 is the single-instance record).
- ``overlaps``: over K disorder samples, P(q), [<q^2>], chi_SG = N [<q^2>], the Binder ratio of q
  and the link overlap at one or more temperatures, from pairs of independent annealed populations,
  with [<q^2>] from enumeration beside them (N <= 20). Several sizes (``--sk 16,32`` or
  ``--lattice 4x4,6x6,8x8``) give the Binder ratio against T per size (curves cross near T_c).
- ``pt``: two replicas per temperature of one instance, parallel tempering with Houdayer cluster
  moves: <E>, <q^2>, the Binder ratio and P(q) per temperature with autocorrelation-aware errors, the
  exact values beside them (N <= 20) and the logarithmic-binning equilibration test; ``--samples K``
  as for ``pa``, with the Binder ratio g = (3 - [<q^4>] / [<q^2>]^2) / 2 of the disorder averages.
- ``groundstate``: over K disorder samples (SK or Edwards-Anderson), one run of SA, PT, PT with
  Houdayer moves or population annealing per sample with S sweeps, against the exact ground state
  (Gray-code enumeration, N <= 26): the hit probability with its error and Wilson interval, and the mean E / N;
  ``--budgets S,S,...`` gives the hit probability against sweeps.

``--checkpoint`` (every action) keeps the finished samples; a killed run started again with the
same arguments resumes after them and writes the record of a run never stopped (each sample's
runs depend on its own seed only).
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
from thermolearn.cli.table import format_table, format_value_error, value_error_parts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from thermolearn.models.ising import Ising

# thermolearn.spinglass's COUPLING_KINDS and ALGORITHMS, named here so that --help loads nothing
COUPLING_CHOICES = ("pm", "gaussian", "ferro")
ALGORITHM_CHOICES = ("sa", "pt", "pa", "pt-houdayer")
# population_annealing's MIN_POPULATION and MIN_RUNS (checked again there)
_MIN_POPULATION = 16
_MIN_RUNS = 2
# groundstate's --sweeps (told apart from --budgets)
_DEFAULT_SWEEPS = 1000
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
    _add_samples(a)
    add_seed(a, "the instance (for --lattice and --sk; the sample seeds with --samples) and the populations")
    add_checkpoint(a, "the samples done so far (after the first sample, then at most once a second)")
    add_json(
        a,
        "log_z, energy (mean, stderr), exact_log_z (or null), rho_f, rho_t and per-run results; with --samples K > 1 "
        "the disorder averages under the same names and samples (the record of each)",
    )
    add_plot(
        a,
        "the running estimate of ln Z against beta of every population, with the exact value (--samples K > 1: "
        "ln Z / N of every sample)",
    )
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
    _add_samples(t)
    add_seed(t, "the instance (for --lattice and --sk; the sample seeds with --samples) and the run")
    add_checkpoint(t, "the samples done so far (after the first sample, then at most once a second)")
    add_json(
        t,
        "per temperature: energy, q2, binder (mean, stderr), exact values, exchange rates, equilibration; with "
        "--samples K > 1 the disorder averages (also q4, chi_sg) and samples (the record of each)",
    )
    add_plot(t, "P(q) at every temperature and the Binder ratio of q against T")
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
    omodel.add_argument(
        "--sk",
        type=_sizes,
        metavar="N[,N...]",
        help="Sherrington-Kirkpatrick instances of N spins; several sizes separated by commas (16,32,64)",
    )
    omodel.add_argument(
        "--lattice",
        metavar="LxL[xL][,...]",
        help="Edwards-Anderson instances on a periodic lattice, e.g. 4x4; several sizes of one dimension separated "
        "by commas (4x4,6x6,8x8) for the Binder ratio against T at each size",
    )
    o.add_argument(
        "--couplings",
        choices=COUPLING_CHOICES,
        default="pm",
        help="couplings of --lattice: pm (+-1) or gaussian (ferro has no disorder and is refused)",
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
    add_checkpoint(o, "the samples done so far at every temperature (after the first, then at most once a second)")
    add_json(
        o,
        "per temperature: q_values, p_of_q, q2, q4, chi_sg, binder, link_overlap, exact_q2 and per-sample moments "
        "(several sizes: sizes, each with its ensemble and results)",
    )
    add_plot(
        o, "the disorder-averaged P(q) at every temperature (largest size) and the Binder ratio of q against T per size"
    )
    add_parallel_options(o, "the temperatures")
    add_no_progress(o)
    o.set_defaults(run=run_overlaps_command)

    g = psub.add_parser(
        "groundstate",
        help="probability of reaching the exact ground state over disorder samples (SA, PT, PT+Houdayer, PA)",
        description="For each of K disorder samples (seeds drawn from --seed), one run of simulated annealing, "
        "parallel tempering (optionally with Houdayer cluster moves) or population annealing with S sweeps, and "
        "the exact ground-state energy by "
        "enumeration (N <= 26): the hit probability with its standard error and 95% Wilson interval, and the "
        "mean best energy per spin. Budgets: sa, one read of S sweeps; pt, S sweeps of each of --ladder-size "
        "replicas; pt-houdayer, S rounds of two replicas at each of --ladder-size temperatures with a Houdayer "
        "cluster move between them; pa, S sweeps of each of --population replicas (S / 4 steps of 4 sweeps).",
    )
    model = g.add_mutually_exclusive_group()
    model.add_argument("--sk", type=positive_int, metavar="N", help="Sherrington-Kirkpatrick instances of N spins")
    model.add_argument(
        "--lattice", metavar="LxL[xL]", help="Edwards-Anderson instances on a periodic lattice, e.g. 4x4"
    )
    g.add_argument(
        "--couplings",
        choices=COUPLING_CHOICES,
        default="pm",
        help="couplings of --lattice: pm (+-1) or gaussian (default pm; ferro has no disorder and is refused)",
    )
    g.add_argument("--samples", type=positive_int, default=10, metavar="K", help="disorder samples (default 10)")
    g.add_argument("--algorithm", choices=ALGORITHM_CHOICES, default="sa", help="search algorithm (default sa)")
    add_sweeps(g, default=_DEFAULT_SWEEPS, help=f"sweeps per run (default {_DEFAULT_SWEEPS}; see the budgets above)")
    g.add_argument(
        "--budgets",
        type=_int_list,
        metavar="S,S[,S...]",
        help="several sweep budgets instead of --sweeps, e.g. 100,300,1000: the hit probability against sweeps "
        "(with --plot: drawn with its 95%% Wilson intervals)",
    )
    add_ladder_size(g, default=8, help="parallel-tempering rungs (pt and pt-houdayer, default 8)")
    g.add_argument(
        "--population",
        type=positive_int,
        default=64,
        metavar="R",
        help=f"population annealing replicas (pa, >= {_MIN_POPULATION}, default 64)",
    )
    add_seed(g, "the disorder samples and the runs")
    add_checkpoint(g, "the samples done so far (after the first sample, then at most once a second)")
    add_json(
        g,
        "samples (seed, best_energy, exact_ground_energy, hit), hit_probability and mean_energy_per_spin (--budgets: "
        "hit_curve and one such study per budget under studies)",
    )
    add_plot(
        g,
        "best energy per spin of every sample against the exact ground state (--budgets: the hit probability "
        "against sweeps with 95%% Wilson intervals)",
    )
    add_parallel_options(g, "the samples")
    add_no_progress(g)
    g.set_defaults(run=run_groundstate_command)


def _add_samples(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=1,
        metavar="K",
        help="disorder samples: K > 1 runs K instances of --sk or of --lattice with pm or gaussian couplings, "
        "seeds drawn from --seed, and reports each and their disorder averages with jackknife errors over "
        "samples (default 1: the one instance of --seed)",
    )


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


def _lattice_shapes(text: str) -> list[tuple[int, ...]]:
    """``--lattice`` of ``overlaps``: one lattice or several sizes, ``4x4,6x6,8x8`` (one dimension)."""
    shapes = [_lattice_shape(part) for part in text.split(",")]
    if len({len(s) for s in shapes}) != 1:
        raise ValueError(f"--lattice sizes must be all square or all cubic, got {text!r}")
    if len(set(shapes)) != len(shapes):
        raise ValueError(f"--lattice lists a size twice: {text!r}")
    return shapes


def _int_list(text: str) -> list[int]:
    """argparse type: positive integers separated by commas, e.g. ``16,32,64``, none twice."""
    values = [positive_int(part) for part in text.split(",")]
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a value is listed twice: {text!r}")
    return values


def _sizes(text: str) -> int | list[int]:
    """argparse type of ``overlaps --sk``: one size (an int, as before) or several, ``16,32,64``."""
    values = _int_list(text)
    return values[0] if len(values) == 1 else values


def _check_sk_size(n: int) -> None:
    from thermolearn.resources import check_memory

    if n < 2:
        raise ValueError(f"--sk needs at least 2 spins, got {n}")
    # the SK constructor draws and checks a dense N x N matrix (several float64 copies)
    check_memory(f"an SK instance of {n} spins", 40.0 * n * n, hint="choose a smaller --sk")


def _pa_model(args: argparse.Namespace) -> Ising:
    from thermolearn.models.ising import Ising
    from thermolearn.spinglass.ensembles import edwards_anderson_instance

    _check_one_model(args)
    if args.lattice is not None:
        return edwards_anderson_instance(_lattice_shape(args.lattice), args.couplings or "pm", args.seed)
    if args.sk is not None:
        _check_sk_size(args.sk)
        return Ising.sherrington_kirkpatrick(args.sk, seed=args.seed)
    path = Path(args.model)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    return Ising.load(path) if path.suffix == ".npz" else Ising.from_edgelist(path)


def _check_one_model(args: argparse.Namespace) -> None:
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


def _sample_ensemble(args: argparse.Namespace, per_sample_bytes: float) -> Any:
    """The disorder samples of ``pa`` / ``pt --samples K`` (K > 1): K instances of ``--sk N`` or of
    ``--lattice`` with random couplings, seeds drawn from ``--seed``."""
    from thermolearn.resources import check_memory
    from thermolearn.spinglass.ensembles import ea_ensemble, sk_ensemble

    _check_one_model(args)
    if args.model is not None:
        raise ValueError(
            f"--samples {args.samples} needs disorder to sample: a model file is one fixed instance; "
            "give --sk N or --lattice LxL[xL] with --couplings pm or gaussian"
        )
    if args.lattice is not None and args.couplings == "ferro":
        raise ValueError(
            f"--samples {args.samples} needs disorder to sample: --couplings ferro has none (every sample is the "
            "same ferromagnet); use pm or gaussian, or --samples 1"
        )
    # the size first (its own error), then every finished sample's results, kept for the report,
    # the checkpoint and the JSON record
    if args.sk is not None:
        _check_sk_size(args.sk)
    else:
        ea_ensemble(_lattice_shape(args.lattice), 1)  # refuses a lattice that cannot fit
    check_memory(
        f"the results of {args.samples} disorder samples",
        float(args.samples) * (per_sample_bytes + 64.0),
        hint="choose fewer --samples",
    )
    if args.sk is not None:
        return sk_ensemble(args.sk, args.samples, seed=args.seed)
    return ea_ensemble(_lattice_shape(args.lattice), args.samples, couplings=args.couplings or "pm", seed=args.seed)


def _check_checkpoint_path(args: argparse.Namespace) -> None:
    if args.checkpoint == "-":
        raise ValueError("--checkpoint must be a file (PATH.npz), not the standard output")
    check_output_path(args.checkpoint, ".npz")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot, "--checkpoint": args.checkpoint})


def _ensemble_id(ensemble: Any) -> dict[str, Any]:
    """What identifies a disorder ensemble in a checkpoint: its kind, size and seeds (by digest)."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256(np.array(ensemble.seeds, dtype=np.uint64).tobytes()).hexdigest()[:24]
    return {"kind": ensemble.kind, "shape": list(ensemble.shape), "couplings": ensemble.couplings,
            "n_samples": ensemble.n_samples, "seeds_sha256": digest}  # fmt: skip


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


def _over_samples(values: list[float]) -> dict[str, float]:
    """A disorder average: the mean over samples with its delete-one-sample jackknife error."""
    import numpy as np

    from thermolearn.estimators.jackknife import jackknife

    x = np.array(values, dtype=np.float64)
    jk = jackknife(lambda a: a, x, n_blocks=x.size)
    return {"mean": float(jk.estimate), "stderr": float(jk.stderr)}


def _mean_if_all(values: list[float | None]) -> float | None:
    """The mean over samples of an exact value known for every sample, else None."""
    if any(v is None for v in values):
        return None
    return float(sum(values) / len(values))  # type: ignore[arg-type]


# run seeds of a sample's pa and pt runs: streams of its instance seed apart from its couplings'
# (streams 1-3 are groundstate's algorithms, 0x0F the overlap populations)
_PA_STREAM = 0x50
_PT_STREAM = 0x51


# -------------------------------------------------------------------------------------- pa
def run_pa_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    _check_checkpoint_path(args)
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
    from thermolearn.runs.checkpoint import model_fingerprint
    from thermolearn.spinglass.ensembles import SampleCheckpoint, as_record
    from thermolearn.spinglass.population_annealing import (
        PopulationRun,
        check_population_memory,
        population_annealing,
    )

    temperatures = parse_temperatures(args.temperature)
    if temperatures.size != 1:
        raise ValueError(f"give one --temperature for pa, got {temperatures.size}")
    T = float(temperatures[0])
    K = args.samples
    ensemble = None
    if K == 1:
        model = _pa_model(args)
        n = model.n_spins
        identity: dict[str, Any] = {"model": model_fingerprint(model)}
    else:
        ensemble = _sample_ensemble(args, 512.0 * (args.runs + 8))
        model = ensemble.model(0)
        n = ensemble.n_spins
        identity = {"ensemble": _ensemble_id(ensemble)}
    check_population_memory(args.population, n)
    settings = {"population": args.population, "steps": args.steps, "sweeps": args.sweeps, "runs": args.runs}
    run_id = {"command": "spinglass pa", **identity, "temperature": T, **settings, "seed": args.seed, "samples": K}
    # a finished sample under "k"; the populations done of one not finished under "k/runs"
    keys = [str(k) for k in range(K)]
    checkpoint = SampleCheckpoint(args.checkpoint, run_id, keys + [f"{k}/runs" for k in range(K)])
    entries = checkpoint.load()
    resumed = sum(key in entries for key in keys)
    partial = sum(len(v) for key, v in entries.items() if key.endswith("/runs"))
    per_sample = args.runs * args.steps
    work = K * args.runs * args.steps * args.sweeps * args.population * max(1, model.n_edges)
    with progress_bar(
        total=K * per_sample,
        desc="population annealing",
        unit="step",
        progress=False if args.no_progress else None,
        worthwhile=work > 10**8,
    ) as bar:
        if resumed or partial:
            bar.update(resumed * per_sample + partial * args.steps)
        with checkpoint.kept(entries):
            for k, sample_model, seed in _pending_samples(entries, K, ensemble, model, args.seed, _PA_STREAM):
                done_runs = [PopulationRun.from_record(r) for r in entries.get(f"{k}/runs", [])]

                def keep(run: Any, key: str = f"{k}/runs") -> None:
                    # a long sample is kept population by population (at most once a second)
                    entries[key] = [*entries.get(key, []), as_record(run.to_record())]
                    checkpoint.save(entries)

                result = population_annealing(
                    sample_model, T, **settings, seed=seed, progress=bar.update if not bar.disable else None,
                    done_runs=done_runs, on_run=keep,
                )  # fmt: skip
                entries.pop(f"{k}/runs", None)
                record = _pa_record(sample_model, T, result)
                # the running ln Z of every population: the plot of one instance
                log_q = [run.log_q.tolist() for run in result.run_results] if K == 1 else None
                seeded = record if ensemble is None else {"seed": ensemble.seeds[k], **record}
                entries[str(k)] = as_record({"record": seeded, "log_q": log_q})
                checkpoint.save(entries)
        checkpoint.save(entries, force=resumed < K)
    if resumed or partial:
        more = f" (and {partial} populations of the next)" if partial else ""
        print(f"resumed from {args.checkpoint}: {resumed} of {K} samples were done{more}")
    records = [entries[str(k)]["record"] for k in range(K)]
    if ensemble is None:
        record = records[0]
        _print_pa(record, T)
    else:
        record = _pa_average(ensemble, T, records, args)
    if args.json:
        write_json(args, record)
    if args.plot:
        if ensemble is None:
            _plot_pa(args.plot, record, entries["0"]["log_q"])
        else:
            _plot_pa_samples(args.plot, record)
        print(f"wrote {args.plot}")
    return 0


def _pending_samples(
    entries: dict[str, Any], n_samples: int, ensemble: Any, model: Ising, seed: int, stream: int
) -> Iterator[tuple[int, Ising, int]]:
    """The samples a checkpoint's ``entries`` (finished samples under "k") still lack, in order, each
    with its model and seed: sample k of a disorder ensemble gets its instance and a seed derived from
    that instance's seed and ``stream``, so a resumed run draws what an uninterrupted one would; a
    single ``model`` (no ensemble) keeps ``seed``."""
    from thermolearn.spinglass.ensembles import derived_seed

    for k in range(n_samples):
        if str(k) in entries:
            continue
        if ensemble is None:
            yield k, model, seed
        else:
            yield k, ensemble.model(k), derived_seed(ensemble.seeds[k], stream)


def _pa_record(model: Ising, T: float, result: Any) -> dict[str, Any]:
    """The JSON record of population annealing of one instance (the record of ``--samples 1``)."""
    solved, method = _exact(model, T)
    return {
        "log_z": _pair(result.log_z),
        "energy": _pair(result.energy),
        "exact_log_z": None if solved is None else float(solved.log_z),
        "exact_energy": None if solved is None else float(solved.energy),
        "exact_method": method,
        "model": model.name or "model",
        "n_spins": model.n_spins,
        **{k: v for k, v in result.as_dict().items() if k not in ("log_z", "energy")},
    }


def _z_score(estimate: float, stderr: float, exact: float | None) -> str:
    # an error bar at rounding level (every run ended in the same state) gives no z-score
    if exact is None or stderr <= 1e-12 * max(1.0, abs(estimate)):
        return ""
    return f"{(estimate - exact) / stderr:+.2f}"


def _pm(mean: float, stderr: float | None) -> str:
    """mean +- stderr, the digits following the error bar ("-" for an undefined or zero one)."""
    return format_value_error(mean, stderr, style="pm").replace("±", "+-")


def _defined(estimate: dict[str, Any]) -> float | None:
    """An estimate's stderr, or None where it is at rounding level (every run ended the same)."""
    err = estimate["stderr"]
    if err is None or not err > 1e-12 * max(1.0, abs(estimate["mean"])):
        return None
    return err


def _print_pa(record: dict[str, Any], T: float) -> None:
    """The report of one instance, from its record (the same whether computed now or resumed)."""
    import sys

    print(f"population annealing: {record['model']}, N = {record['n_spins']}, T = {T:g}")
    print(
        f"R = {record['population']} replicas x {record['runs']} independent runs, {record['steps']} steps of beta, "
        f"{record['sweeps_per_step']} Metropolis sweeps per step ({record['seconds']:.2f} s)"
    )
    exact, exact_energy, method = record["exact_log_z"], record["exact_energy"], record["exact_method"]
    lz, e = record["log_z"], record["energy"]
    rows = [
        ["ln Z", *value_error_parts(lz["mean"], _defined(lz)), "" if exact is None else f"{exact:.6f}",
         _z_score(lz["mean"], lz["stderr"], exact)],
        ["<E> (total)", *value_error_parts(e["mean"], _defined(e)),
         "" if exact_energy is None else f"{exact_energy:.6f}", _z_score(e["mean"], e["stderr"], exact_energy)],
    ]  # fmt: skip
    print(format_table(["quantity", "estimate", "stderr", "exact" + (f" ({method})" if method else ""), "z"], rows))
    if _defined(lz) is None or _defined(e) is None:
        print(
            "- for a stderr: every run gave the same value (to rounding), so the spread over runs "
            "measures no error bar; the estimate's own error is unknown, not 0"
        )
    print(
        f"family diagnostics: rho_f = R / exp(S_f) = {record['rho_f']:.2f} (mean over runs), "
        f"rho_t = R Var(ln Z) = {record['rho_t']:.2f}; trustworthy when R >> both"
    )
    for note in record["warnings"]:
        print(f"warning: {note}", file=sys.stderr)


def _pa_average(ensemble: Any, T: float, records: list[dict], args: argparse.Namespace) -> dict[str, Any]:
    """Per-sample results and disorder averages [ln Z], [<E>] over samples (jackknife errors over
    samples; ``thermal_stderr``: the populations' own error of the average), with the report."""
    import math
    import sys

    K, n = len(records), ensemble.n_spins
    log_z = _over_samples([r["log_z"]["mean"] for r in records])
    energy = _over_samples([r["energy"]["mean"] for r in records])
    for avg, name in ((log_z, "log_z"), (energy, "energy")):
        avg["thermal_stderr"] = math.sqrt(sum(r[name]["stderr"] ** 2 for r in records)) / K
    exact = _mean_if_all([r["exact_log_z"] for r in records])
    exact_energy = _mean_if_all([r["exact_energy"] for r in records])
    methods = {r["exact_method"] for r in records}
    method = methods.pop() if len(methods) == 1 else None
    notes = [f"sample {k} (seed {r['seed']}): {note}" for k, r in enumerate(records) for note in r["warnings"]]
    print(f"population annealing: {ensemble.describe()}, N = {n}, T = {T:g}, {K} disorder samples")
    print(
        f"R = {args.population} replicas x {args.runs} independent runs per sample, {args.steps} steps of beta, "
        f"{args.sweeps} Metropolis sweeps per step"
    )
    rows = []
    for k, r in enumerate(records):
        lz, e = r["log_z"], r["energy"]
        rows.append(
            [k, r["seed"], _pm(lz['mean'], lz['stderr']),
             "" if r["exact_log_z"] is None else f"{r['exact_log_z']:.6f}",
             _z_score(lz["mean"], lz["stderr"], r["exact_log_z"]), _pm(e['mean'], e['stderr']),
             "" if r["exact_energy"] is None else f"{r['exact_energy']:.6f}", f"{r['rho_f']:.1f}"]
        )  # fmt: skip
    header = ["sample", "seed", "ln Z", "exact ln Z", "z", "<E> (total)", "exact <E>", "rho_f"]
    print(format_table(header, rows))
    for label, avg, ex in (("[ln Z]", log_z, exact), ("[<E>] (total)", energy, exact_energy)):
        print(
            f"{label} = {_pm(avg['mean'], avg['stderr'])} (jackknife over samples; thermal "
            f"{avg['thermal_stderr']:.6f})" + ("" if ex is None else f", exact {ex:.6f}")
        )
    print(
        f"family diagnostics: largest rho_f = {max(r['rho_f'] for r in records):.2f}, largest rho_t = "
        f"{max(r['rho_t'] for r in records):.2f} over samples; trustworthy when R >> both"
    )
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    return {
        "log_z": log_z,
        "energy": energy,
        "exact_log_z": exact,
        "exact_energy": exact_energy,
        "exact_method": method,
        "model": ensemble.describe(),
        "n_spins": n,
        "temperature": T,
        "population": args.population,
        "steps": args.steps,
        "sweeps_per_step": args.sweeps,
        "runs": args.runs,
        "n_samples": K,
        "ensemble": ensemble.as_dict(),
        "log_z_per_spin": {"mean": log_z["mean"] / n, "stderr": log_z["stderr"] / n},
        "rho_f": max(r["rho_f"] for r in records),
        "rho_t": max(r["rho_t"] for r in records),
        "error_bar": "delete-one-sample jackknife over disorder samples",
        "samples": records,
        "warnings": notes,
    }


def _plot_pa(path: str, record: dict[str, Any], log_q: list[list[float]]) -> None:
    import numpy as np

    from thermolearn.spinglass.population_annealing import linear_beta_schedule
    from thermolearn.viz.figures import new_figure, save_figure

    n, exact = record["n_spins"], record["exact_log_z"]
    betas = linear_beta_schedule(1.0 / record["temperature"], record["steps"])
    fig, axes = new_figure(width=5.0, height=3.6)
    ax = axes[0, 0]
    for k, run in enumerate(log_q):
        running = n * math.log(2.0) + np.cumsum(run)
        ax.plot(betas, running / n, color=f"C{k % 10}", lw=0.8, alpha=0.8)
    if exact is not None:
        ax.axhline(exact / n, color="k", ls="--", lw=0.8, label="exact at 1/T")
        ax.legend(fontsize=8)
    ax.set_xlabel("beta")
    ax.set_ylabel("ln Z(beta) / N (running estimate)")
    ax.set_title(f"population annealing, R = {record['population']}, {record['runs']} runs", fontsize=9)
    save_figure(fig, path)


def _plot_pa_samples(path: str, record: dict[str, Any]) -> None:
    """ln Z / N of every disorder sample with its error bar (and exact value), and the average."""
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    n, samples = record["n_spins"], record["samples"]
    k = np.arange(len(samples))
    fig, axes = new_figure(width=5.5, height=3.6)
    ax = axes[0, 0]
    ax.errorbar(k, [s["log_z"]["mean"] / n for s in samples], yerr=[s["log_z"]["stderr"] / n for s in samples],
                fmt="o", ms=3, color="C0", label="population annealing")  # fmt: skip
    if all(s["exact_log_z"] is not None for s in samples):
        ax.plot(k, [s["exact_log_z"] / n for s in samples], "x", color="C3", label="exact")
    avg = record["log_z_per_spin"]
    ax.axhspan(avg["mean"] - avg["stderr"], avg["mean"] + avg["stderr"], color="C0", alpha=0.2, label="[ln Z] / N")
    ax.set_xlabel("disorder sample")
    ax.set_ylabel("ln Z / N")
    ax.set_title(f"{record['model']}, T = {record['temperature']:g}, {len(samples)} samples", fontsize=9)
    ax.legend(fontsize=8)
    save_figure(fig, path)


# --------------------------------------------------------------------------------------- pt
def run_pt_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    _check_checkpoint_path(args)
    import numpy as np

    from thermolearn.cli.arguments import parse_temperatures
    from thermolearn.progress import progress_bar
    from thermolearn.runs.checkpoint import model_fingerprint
    from thermolearn.spinglass.ensembles import SampleCheckpoint, as_record

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
    K = args.samples
    ensemble = None
    if K == 1:
        model = _pa_model(args)
        identity: dict[str, Any] = {"model": model_fingerprint(model)}
    else:
        # per sample and temperature: P(q) on N + 1 points (twice, with its grid) and a few numbers
        n_guess = args.sk if args.sk is not None else _lattice_size(args.lattice)
        ensemble = _sample_ensemble(args, 48.0 * temperatures.size * (n_guess + 32))
        model = ensemble.model(0)
        identity = {"ensemble": _ensemble_id(ensemble)}
    if args.no_houdayer:
        flags: Any = False
    elif args.houdayer_below is not None:
        flags = temperatures <= args.houdayer_below
    else:
        flags = True
    run_id = {"command": "spinglass pt", **identity, "temperatures": temperatures.tolist(), "sweeps": args.sweeps,
              "burn_in": burn_in, "houdayer": not args.no_houdayer, "houdayer_below": args.houdayer_below,
              "seed": args.seed, "samples": K}  # fmt: skip
    checkpoint = SampleCheckpoint(args.checkpoint, run_id, [str(k) for k in range(K)])
    entries = checkpoint.load()
    resumed = len(entries)
    with progress_bar(
        total=K,
        desc="tempering",
        unit="sample" if K > 1 else "run",
        progress=False if args.no_progress else None,
        worthwhile=K * args.sweeps * temperatures.size * 2 * max(1, model.n_edges) > 10**8,
    ) as bar:
        if resumed:
            bar.update(resumed)
        with checkpoint.kept(entries):
            for k, sample_model, seed in _pending_samples(entries, K, ensemble, model, args.seed, _PT_STREAM):
                entry = _pt_sample(sample_model, temperatures, flags, seed, burn_in, args)
                if ensemble is not None:
                    entry["record"] = {"seed": ensemble.seeds[k], **entry["record"]}
                entries[str(k)] = as_record(entry)
                checkpoint.save(entries)
                bar.update(1)
        checkpoint.save(entries, force=resumed < K)
    if resumed:
        print(f"resumed from {args.checkpoint}: {resumed} of {K} samples were done")
    if ensemble is None:
        entry = entries["0"]
        record = entry["record"]
        _print_pt(record, entry["short_series"], args)
        results = record["results"]
        title = record["model"] or "model"
    else:
        record = _pt_average(ensemble, [entries[str(k)] for k in range(K)], args)
        results = record["results"]
        title = f"{ensemble.describe()}, {K} samples"
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot_p_of_q(args.plot, results, title)
        print(f"wrote {args.plot}")
    return 0


def _lattice_size(text: str) -> int:
    import numpy as np

    return int(np.prod(_lattice_shape(text)))


def _pt_sample(model: Ising, temperatures: Any, flags: Any, seed: int, burn_in: int, args: argparse.Namespace) -> dict:
    """One instance: tempering with Houdayer moves, its JSON record (that of ``--samples 1``), its
    moments <q^2>, <q^4>, <|q|> per temperature, and whether its series were short for the errors."""
    import warnings

    from thermolearn.exact.enumeration import enumerate_exact
    from thermolearn.spinglass.houdayer import tempering_with_houdayer

    n = model.n_spins
    run = tempering_with_houdayer(model, temperatures, args.sweeps, houdayer=flags, seed=seed)
    exact = enumerate_exact(model, run.temperatures) if n <= _MAX_EXACT_Q2 else None
    with warnings.catch_warnings(record=True) as caught:
        # short series make the estimators warn once per temperature: said once by the report instead
        warnings.simplefilter("always", RuntimeWarning)
        results = _pt_results(run, burn_in, exact, n)
    q = run.overlaps[burn_in:]
    moments = [[float((q[:, k] ** 2).mean()), float((q[:, k] ** 4).mean()), float(abs(q[:, k]).mean())]
               for k in range(run.temperatures.size)]  # fmt: skip
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
    return {"record": record, "moments": moments, "short_series": bool(caught)}


def _print_pt(record: dict[str, Any], short_series: bool, args: argparse.Namespace) -> None:
    """The report of one instance, from its record."""
    import sys

    if short_series:
        print(
            f"warning: {args.sweeps - record['burn_in']} rounds after burn-in are few for reliable autocorrelation "
            "times; the error bars are rough: run more --sweeps",
            file=sys.stderr,
        )
    houdayer = "without" if args.no_houdayer else "with"
    results = record["results"]
    print(
        f"parallel tempering {houdayer} Houdayer moves: {record['model'] or 'model'}, N = {record['n_spins']}, "
        f"{len(results)} temperatures x 2 replicas, {args.sweeps} rounds ({record['burn_in']} burn-in)"
    )
    rows = []
    for k, r in enumerate(results):
        binder, ex_e, ex_q2 = r["binder"], r["exact_energy"], r["exact_q2"]
        rows.append(
            [
                f"{r['temperature']:g}",
                _pm(r["energy"]["mean"], r["energy"]["stderr"]),
                "" if ex_e is None else f"{ex_e:.5f}",
                _pm(r["q2"]["mean"], r["q2"]["stderr"]),
                "" if ex_q2 is None else f"{ex_q2:.5f}",
                "" if binder is None else _pm(binder["mean"], binder["stderr"]),
                "" if k == len(results) - 1 else f"{r['exchange_acceptance']:.2f}",
                f"{r['mean_cluster_size']:.1f}",
                "yes" if r["equilibrated"] else "NO",
            ]
        )
    header = ["T", "<E> (total)", "exact <E>", "<q^2>", "exact <q^2>", "Binder g", "exchange", "cluster"]
    header.append("equilibrated")
    print(format_table(header, rows))
    if not record["equilibrated"]:
        print("warning: some temperatures fail the equilibration test: run more --sweeps", file=sys.stderr)


def _pt_average(ensemble: Any, entries: list[dict], args: argparse.Namespace) -> dict[str, Any]:
    """Per-sample records and, per temperature, the disorder averages [<E>], [<q^2>], chi_SG, the
    Binder ratio g = (3 - [<q^4>] / [<q^2>]^2) / 2 and P(q) with jackknife errors over samples."""
    import sys

    import numpy as np

    from thermolearn.spinglass.overlaps import disorder_average_of_moments

    K, n = len(entries), ensemble.n_spins
    records = [e["record"] for e in entries]
    temperatures = records[0]["temperatures"]
    results, rows = [], []
    for t, T in enumerate(temperatures):
        per = [r["results"][t] for r in records]
        m = np.array([e["moments"][t] for e in entries])
        avg = disorder_average_of_moments(m[:, 0], m[:, 1], m[:, 2], n).as_dict()
        energy = _over_samples([p["energy"]["mean"] for p in per])
        exact_e = _mean_if_all([p["exact_energy"] for p in per])
        exact_q2 = _mean_if_all([p["exact_q2"] for p in per])
        rates = [p["exchange_acceptance"] for p in per]
        equilibrated = sum(bool(p["equilibrated"]) for p in per)
        results.append(
            {
                "temperature": T,
                "energy": energy,
                "q2": avg["q2"],
                "q4": avg["q4"],
                "abs_q": avg["abs_q"],
                "chi_sg": avg["chi_sg"],
                "binder": avg["binder"],
                "exact_energy": exact_e,
                "exact_q2": exact_q2,
                "exchange_acceptance": None if rates[0] is None else float(np.mean(rates)),
                "equilibrated_samples": equilibrated,
                "q_values": per[0]["q_values"],
                "p_of_q": np.mean([p["p_of_q"] for p in per], axis=0).tolist(),
            }
        )
        rows.append(
            [
                f"{T:g}",
                _pm(energy["mean"], energy["stderr"]),
                "" if exact_e is None else f"{exact_e:.5f}",
                _pm(avg["q2"]["mean"], avg["q2"]["stderr"]),
                "" if exact_q2 is None else f"{exact_q2:.5f}",
                _pm(avg["binder"]["mean"], avg["binder"]["stderr"]),
                _pm(avg["chi_sg"]["mean"], avg["chi_sg"]["stderr"]),
                f"{equilibrated}/{K}",
            ]
        )
    houdayer = "without" if args.no_houdayer else "with"
    burn_in = records[0]["burn_in"]
    if any(e["short_series"] for e in entries):
        print(
            f"warning: {args.sweeps - burn_in} rounds after burn-in are few for reliable autocorrelation times; "
            "the thermal error bars of the samples are rough: run more --sweeps",
            file=sys.stderr,
        )
    print(
        f"parallel tempering {houdayer} Houdayer moves: {ensemble.describe()}, N = {n}, {K} disorder samples, "
        f"{len(temperatures)} temperatures x 2 replicas, {args.sweeps} rounds ({burn_in} burn-in)"
    )
    header = ["T", "[<E>] (total)", "exact [<E>]", "[<q^2>]", "exact [<q^2>]", "Binder g", "chi_SG", "equilibrated"]
    print(format_table(header, rows))
    print("errors: delete-one-sample jackknife over disorder samples")
    equilibrated = all(r["equilibrated"] for r in records)
    if not equilibrated:
        print("warning: some samples fail the equilibration test: run more --sweeps", file=sys.stderr)
    return {
        "model": ensemble.describe(),
        "n_spins": n,
        "houdayer": not args.no_houdayer,
        "houdayer_below": args.houdayer_below,
        "sweeps": args.sweeps,
        "burn_in": burn_in,
        "temperatures": temperatures,
        "n_samples": K,
        "ensemble": ensemble.as_dict(),
        "error_bar": "delete-one-sample jackknife over disorder samples",
        "results": results,
        "equilibrated": equilibrated,
        "samples": records,
    }


def _pt_results(run: Any, burn_in: int, exact: Any, n: int) -> list[dict]:
    """Per temperature: the JSON record of a tempering run."""
    import numpy as np

    from thermolearn.estimators.autocorrelation import error_of_mean, integrated_autocorrelation_time
    from thermolearn.estimators.jackknife import choose_block_size, jackknife
    from thermolearn.spinglass.houdayer import equilibration_check

    results = []
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
    return results


def _p_of_q(q: Any, n: int) -> tuple[list[float], list[float]]:
    from thermolearn.spinglass.overlaps import overlap_distribution

    values, p = overlap_distribution(q, n)
    return values.tolist(), p.tolist()


def _plot_p_of_q(path: str, results: list[dict], title: str) -> None:
    """P(q) at every temperature and the Binder ratio of q against T (with its error bars)."""
    from thermolearn.viz.figures import new_figure, save_figure

    fig, axes = new_figure(ncols=2, width=4.5, height=3.4)
    ax = axes[0, 0]
    for k, r in enumerate(results):
        ax.plot(r["q_values"], r["p_of_q"], "o-", ms=2.5, lw=0.8, color=f"C{k % 10}", label=f"T = {r['temperature']:g}")
    ax.set_xlabel("q")
    ax.set_ylabel("P(q)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    with_binder = [r for r in results if r["binder"] is not None]
    ax.errorbar([r["temperature"] for r in with_binder], [r["binder"]["mean"] for r in with_binder],
                yerr=[r["binder"]["stderr"] for r in with_binder], fmt="o-", ms=3, color="C3")  # fmt: skip
    ax.set_xlabel("T")
    ax.set_ylabel("Binder ratio g of q")
    ax.set_title("g = (3 - <q^4> / <q^2>^2) / 2", fontsize=9)
    save_figure(fig, path)


# --------------------------------------------------------------------------------- overlaps
def _ensemble(args: argparse.Namespace) -> Any:
    """The disorder ensemble of ``--sk N`` or ``--lattice LxL[xL]`` with ``--samples`` and ``--seed``."""
    ensembles = _ensembles(args)
    if len(ensembles) != 1:
        raise ValueError(f"give one --lattice size here, got {args.lattice!r}")
    return ensembles[0]


def _ensembles(args: argparse.Namespace) -> list[Any]:
    """The disorder ensembles of ``--sk N[,N...]`` or ``--lattice LxL[xL][,LxL...]`` (one per size),
    each with ``--samples`` samples whose seeds come from ``--seed``."""
    from thermolearn.spinglass.ensembles import ea_ensemble, sk_ensemble

    if args.sk is None and args.lattice is None:
        raise ValueError("give the instances: --sk N or --lattice LxL[xL]")
    if args.couplings == "ferro":
        raise ValueError(
            "--couplings ferro has no disorder: this command studies spin glasses over disorder samples; "
            "use pm (+-1) or gaussian"
        )
    if args.sk is not None:
        sizes = args.sk if isinstance(args.sk, list) else [args.sk]
        for n in sizes:
            _check_sk_size(n)
        return [sk_ensemble(n, args.samples, seed=args.seed) for n in sizes]
    return [
        ea_ensemble(s, args.samples, couplings=args.couplings, seed=args.seed) for s in _lattice_shapes(args.lattice)
    ]


# exact [<q^2>] = (1/N^2) sum_ij <s_i s_j>^2 by enumeration with pair correlations up to this size
_MAX_EXACT_Q2 = 20


def overlaps_job(point: dict, seed: int) -> Any:
    """The overlaps of one sample at one temperature for ``spinglass overlaps``, here or on a
    worker (``--workers``, ``--dask``); ``seed`` is unused: the ensemble seeds every population."""
    from thermolearn.spinglass.measurements import overlap_sample

    return overlap_sample(
        point["ensemble"],
        point["k"],
        point["temperature"],
        population=point["population"],
        steps=point["steps"],
        sweeps=point["sweeps"],
    )


def run_overlaps_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    _check_checkpoint_path(args)
    if args.samples < 2:
        raise ValueError(
            f"--samples must be at least 2 (error bars come from the spread over samples), got {args.samples}"
        )
    if args.population < _MIN_POPULATION:
        raise ValueError(
            f"--population must be at least {_MIN_POPULATION} replicas: each sample's overlaps pair replica i of "
            f"one population with replica i of another, and P(q) and the anneal's reweighting need many pairs; "
            f"got {args.population}"
        )
    import numpy as np

    from thermolearn.cli.arguments import parse_temperatures
    from thermolearn.exact.enumeration import enumerate_exact
    from thermolearn.progress import progress_bar
    from thermolearn.resources import check_memory
    from thermolearn.runs.sweep import as_finished
    from thermolearn.spinglass.ensembles import SampleCheckpoint, as_record
    from thermolearn.spinglass.measurements import overlap_study_from_samples
    from thermolearn.spinglass.population_annealing import check_population_memory

    temperatures = parse_temperatures(args.temperature)
    if np.unique(temperatures).size != temperatures.size:
        raise ValueError("--temperature values must be distinct")
    ensembles = _ensembles(args)
    largest = max(e.n_spins for e in ensembles)
    check_population_memory(2 * args.population, largest)
    check_memory(f"a schedule of {args.steps} steps", 16.0 * args.steps, hint="choose fewer --steps")
    # every sample keeps its moments and P(q) at each temperature
    check_memory(
        f"the overlaps of {args.samples} samples x {args.population} pairs at {temperatures.size} temperatures",
        24.0 * args.samples * args.population
        + 48.0 * len(ensembles) * temperatures.size * args.samples * (largest + 16),
        hint="choose fewer --samples or a smaller --population",
    )
    units = [(s, t, k) for s in range(len(ensembles)) for t in range(temperatures.size) for k in range(args.samples)]
    run_id = {"command": "spinglass overlaps", "ensembles": [_ensemble_id(e) for e in ensembles],
              "temperatures": temperatures.tolist(), "population": args.population, "steps": args.steps,
              "sweeps": args.sweeps, "seed": args.seed}  # fmt: skip
    keys = [f"{s}:{t}:{k}" for s, t, k in units]
    checkpoint = SampleCheckpoint(args.checkpoint, run_id, keys)
    done = checkpoint.load()
    resumed = len(done)
    settings = {"population": args.population, "steps": args.steps, "sweeps": args.sweeps}
    jobs = [
        (i, {**settings, "ensemble": ensembles[s], "k": k, "temperature": float(temperatures[t])}, 0)
        for i, (s, t, k) in enumerate(units)
        if keys[i] not in done
    ]
    work = sum(2 * e.n_spins for e in ensembles) * args.samples * temperatures.size
    with (
        parallel_executor(args) as executor,
        progress_bar(
            total=len(units),
            desc="overlaps",
            unit="sample",
            progress=False if args.no_progress else None,
            worthwhile=work * args.population * args.steps * args.sweeps > 10**8,
        ) as bar,
    ):
        if resumed:
            bar.update(resumed)
        # a sample's seeds come from its ensemble, not from where or when it runs
        with checkpoint.kept(done):
            for i, (row, _) in as_finished(executor, overlaps_job, jobs):
                done[keys[i]] = as_record(row)
                checkpoint.save(done)
                bar.update(1)
        checkpoint.save(done, force=bool(jobs))
    if resumed:
        print(f"resumed from {args.checkpoint}: {resumed} of {len(units)} samples x temperatures were done")
    sizes = []
    for s, ensemble in enumerate(ensembles):
        studies = [
            overlap_study_from_samples(
                ensemble, float(T), args.population, [done[f"{s}:{t}:{k}"] for k in range(args.samples)]
            )
            for t, T in enumerate(temperatures)
        ]
        n = ensemble.n_spins
        exact_q2: list[float | None] = []
        for T in temperatures:
            if n <= _MAX_EXACT_Q2:
                per_sample = [
                    float(np.sum(enumerate_exact(m, float(T))[0].extras["correlations"] ** 2)) / n**2 for m in ensemble
                ]
                exact_q2.append(float(np.mean(per_sample)))
            else:
                exact_q2.append(None)
        _print_overlaps(ensemble, studies, exact_q2, args)
        sizes.append((ensemble, studies, exact_q2))
    if args.json:
        records = [
            {"ensemble": e.as_dict(), "results": [{**st.as_dict(), "exact_q2": ex} for st, ex in zip(sts, exs)]}
            for e, sts, exs in sizes
        ]
        if len(sizes) == 1:
            write_json(args, {"ensemble": records[0]["ensemble"], "temperatures": temperatures.tolist(),
                              "results": records[0]["results"]})  # fmt: skip
        else:
            write_json(args, {"temperatures": temperatures.tolist(), "sizes": records})
    if args.plot:
        _plot_overlaps(args.plot, [sts for _, sts, _ in sizes])
        print(f"wrote {args.plot}")
    return 0


def _print_overlaps(ensemble: Any, studies: list, exact_q2: list[float | None], args: argparse.Namespace) -> None:
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
                _pm(a.q2[0], a.q2[1]),
                "" if ex is None else f"{ex:.5f}",
                _pm(a.chi_sg[0], a.chi_sg[1]),
                _pm(a.binder[0], a.binder[1]),
                "" if a.link is None else _pm(a.link[0], a.link[1]),
            ]
        )
    print(format_table(["T", "[<q^2>]", "exact [<q^2>]", "chi_SG", "Binder g", "[q_link]"], rows))


def _plot_overlaps(path: str, sizes: list[list]) -> None:
    """The disorder-averaged P(q) at every temperature (of the largest size) and the Binder ratio
    of q against T, one curve per size (curves of several sizes cross near T_c)."""
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    fig, axes = new_figure(ncols=2, width=4.5, height=3.4)
    ax = axes[0, 0]
    studies = sizes[-1]
    for k, st in enumerate(studies):
        ax.plot(st.q_values, st.p_of_q, "o-", ms=2.5, lw=0.8, color=f"C{k % 10}", label=f"T = {st.temperature:g}")
    ax.set_xlabel("q")
    ax.set_ylabel("P(q) (disorder average)")
    ax.set_title(studies[0].ensemble.describe(), fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for k, studies in enumerate(sizes):
        temps = np.array([st.temperature for st in studies])
        g = np.array([st.average.binder for st in studies])
        label = studies[0].ensemble.describe() if len(sizes) > 1 else None
        ax.errorbar(temps, g[:, 0], yerr=g[:, 1], fmt="o-", ms=3, color=f"C{(k + 3) % 10}", label=label)
    if len(sizes) > 1:
        ax.legend(fontsize=7)
    ax.set_xlabel("T")
    ax.set_ylabel("Binder ratio g of q")
    ax.set_title("g = (3 - [<q^4>] / [<q^2>]^2) / 2", fontsize=9)
    save_figure(fig, path)


# ----------------------------------------------------------------------------- groundstate
def run_groundstate_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    _check_checkpoint_path(args)
    if args.sk is None and args.lattice is None:
        raise ValueError("give the instances: --sk N or --lattice LxL[xL]")
    if args.budgets is not None and args.sweeps != _DEFAULT_SWEEPS:
        raise ValueError("give one budget with --sweeps S or several with --budgets S,S,..., not both")
    budgets = sorted(args.budgets) if args.budgets is not None else [args.sweeps]
    # checked whatever the algorithm, so that a wrong value never passes unnoticed
    if args.ladder_size < 2:
        raise ValueError(f"--ladder-size must be at least 2 (a hot and a cold end), got {args.ladder_size}")
    if args.population < _MIN_POPULATION:
        raise ValueError(f"--population must be at least {_MIN_POPULATION} replicas, got {args.population}")
    if args.algorithm == "pa" and budgets[0] < 4:
        flag = "--sweeps" if args.budgets is None else "--budgets"
        raise ValueError(f"{flag} must be at least 4 for pa (one step of 4 sweeps), got {budgets[0]}")
    from thermolearn.progress import progress_bar
    from thermolearn.spinglass.groundstate import MAX_EXACT_SPINS, ground_state_study
    from thermolearn.spinglass.population_annealing import check_population_memory

    ensemble = _ensemble(args)
    n = ensemble.n_spins
    if args.algorithm == "pa":
        check_population_memory(args.population, n)
    replicas = {"sa": 1, "pt": args.ladder_size, "pt-houdayer": 2 * args.ladder_size, "pa": args.population}[
        args.algorithm
    ]
    if args.algorithm in ("pt", "pt-houdayer"):
        from thermolearn.resources import check_memory

        # the ladder's replicas: int8 spins, float64 copies for the final energies, generator states
        check_memory(
            f"parallel tempering with {replicas} replicas of {n} spins (--ladder-size {args.ladder_size})",
            float(replicas) * (40.0 * n + 128.0),
            hint="choose a smaller --ladder-size",
        )
    from thermolearn.runs.sweep import as_finished

    if args.budgets is not None:
        return _hit_curve_command(args, ensemble, budgets, replicas)

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
    one = " (one sample: no error bar)" if len(study.samples) == 1 else ""
    print(f"mean best E / N = {_pm(e_mean, e_err)}{one}")
    if study.hit_probability is None:
        print(f"no exact ground states: N = {n} is above the enumeration limit {MAX_EXACT_SPINS}")
    else:
        p, p_err = study.hit_probability
        low, high = study.wilson if study.wilson is not None else (math.nan, math.nan)
        hits = [s["hit"] for s in study.samples if s["hit"] is not None]
        # at 0 or all hits the binomial error sqrt(p (1 - p) / n) is 0: only the interval says how sure
        spread = f" +- {p_err:.3f}" if p_err > 0 else ""
        print(
            f"hit probability = {p:.3f}{spread}: {sum(hits)} of {len(hits)} samples "
            f"(95% Wilson interval [{low:.3f}, {high:.3f}])"
        )
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


def _hit_curve_command(args: argparse.Namespace, ensemble: Any, budgets: list[int], replicas: int) -> int:
    """``groundstate --budgets``: one study per budget over the same samples, the hit probability
    against sweeps; the checkpoint keeps every finished (budget, sample) in one file."""
    from thermolearn.progress import progress_bar
    from thermolearn.runs.sweep import as_finished
    from thermolearn.spinglass.ensembles import SampleCheckpoint, as_record
    from thermolearn.spinglass.groundstate import MAX_EXACT_SPINS, ground_state_study

    K, n = args.samples, ensemble.n_spins
    run_id = {"command": "spinglass groundstate", "ensemble": _ensemble_id(ensemble), "algorithm": args.algorithm,
              "budgets": budgets, "ladder": args.ladder_size if args.algorithm in ("pt", "pt-houdayer") else None,
              "population": args.population if args.algorithm == "pa" else None}  # fmt: skip
    checkpoint = SampleCheckpoint(args.checkpoint, run_id, [f"{b}:{k}" for b in budgets for k in range(K)])
    done = checkpoint.load()
    resumed = len(done)

    def samples_of(budget: int, executor: Any) -> Any:
        def map_samples(function: Any, jobs: list[tuple[int, dict, int]]) -> Any:
            # a finished sample is read back; the others run (here or on the executor) and are kept
            for k, _, _ in jobs:
                if f"{budget}:{k}" in done:
                    yield k, (done[f"{budget}:{k}"], 0.0)
            todo = [job for job in jobs if f"{budget}:{job[0]}" not in done]
            for k, (result, seconds) in as_finished(executor, function, todo):
                done[f"{budget}:{k}"] = as_record(result)
                checkpoint.save(done)
                yield k, (done[f"{budget}:{k}"], seconds)

        return map_samples

    with (
        parallel_executor(args) as executor,
        progress_bar(
            total=K * len(budgets),
            desc=f"ground states ({args.algorithm})",
            unit="sample",
            progress=False if args.no_progress else None,
            worthwhile=K * sum(budgets) * replicas * n > 10**7,
        ) as bar,
    ):
        with checkpoint.kept(done):
            studies: list[Any] = []
            for b in budgets:
                # the exact ground states are enumerated once, in the first budget's study
                exact: list[Any] = [row["exact_ground_energy"] for row in studies[0].samples] if studies else [None]
                studies.append(
                    ground_state_study(
                        ensemble, args.algorithm, b, ladder=args.ladder_size, population=args.population,
                        progress=bar.update if not bar.disable else None, map_samples=samples_of(b, executor),
                        known_ground_energies=exact if None not in exact else None,
                    )
                )  # fmt: skip
        checkpoint.save(done, force=resumed < len(budgets) * K)
    if resumed:
        print(f"resumed from {args.checkpoint}: {resumed} of {len(budgets) * K} samples x budgets were done")
    print(
        f"ground-state search: {ensemble.describe()}, {K} samples, {args.algorithm}, "
        f"budgets {', '.join(map(str, budgets))} sweeps"
    )
    rows, curve = [], []
    for b, study in zip(budgets, studies):
        e_mean, e_err = study.mean_energy_per_spin
        hit: dict[str, Any] | None = None
        if study.hit_probability is not None:
            hit = {**_pair(study.hit_probability), "wilson_95": list(study.wilson or ())}
        curve.append({"sweeps": b, "hit_probability": hit, "mean_energy_per_spin": {"mean": e_mean, "stderr": e_err}})
        rows.append(
            [
                b,
                "" if hit is None else _pm(hit["mean"], hit["stderr"]),
                "" if hit is None else f"[{hit['wilson_95'][0]:.3f}, {hit['wilson_95'][1]:.3f}]",
                _pm(e_mean, e_err),
            ]
        )
    print(format_table(["sweeps", "hit probability", "95% Wilson", "mean best E / N"], rows))
    if studies[0].hit_probability is None:
        print(f"no exact ground states: N = {n} is above the enumeration limit {MAX_EXACT_SPINS}")
    record = {
        "ensemble": ensemble.as_dict(),
        "n_spins": n,
        "algorithm": args.algorithm,
        "budgets": budgets,
        "hit_curve": curve,
        "studies": [st.as_dict() for st in studies],
    }
    for st in record["studies"]:
        st.pop("resumed")  # how a study was run, not what it found
    if args.json:
        write_json(args, record)
    if args.plot:
        _plot_hit_curve(args.plot, ensemble, args.algorithm, curve)
        print(f"wrote {args.plot}")
    return 0


def _plot_hit_curve(path: str, ensemble: Any, algorithm: str, curve: list[dict]) -> None:
    """The probability of reaching the exact ground state against sweeps, with 95% Wilson
    intervals (without exact ground states: the mean best E / N against sweeps, with its error)."""
    import numpy as np

    from thermolearn.viz.figures import new_figure, save_figure

    sweeps = np.array([c["sweeps"] for c in curve], dtype=np.float64)
    fig, axes = new_figure(width=5.0, height=3.6)
    ax = axes[0, 0]
    if curve[0]["hit_probability"] is not None:
        p = np.array([c["hit_probability"]["mean"] for c in curve])
        wilson = np.array([c["hit_probability"]["wilson_95"] for c in curve])
        ax.errorbar(sweeps, p, yerr=[p - wilson[:, 0], wilson[:, 1] - p], fmt="o-", ms=4, capsize=3, color="C0",
                    label=f"{algorithm} (95% Wilson interval)")  # fmt: skip
        ax.legend(fontsize=8, loc="lower right")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("P(exact ground state)")
    else:
        e = np.array([c["mean_energy_per_spin"]["mean"] for c in curve])
        err = [c["mean_energy_per_spin"]["stderr"] or 0.0 for c in curve]
        ax.errorbar(sweeps, e, yerr=err, fmt="o-", ms=4, capsize=3, color="C0", label=algorithm)
        ax.set_ylabel("mean best E / N")
        ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.minorticks_off()  # the budgets are the ticks: minor labels of a short log axis overlap
    ax.set_xticks(sweeps, [f"{s:g}" for s in sweeps])
    ax.set_xlabel("sweeps")
    ax.set_title(f"{ensemble.describe()}, {ensemble.n_samples} samples", fontsize=9)
    save_figure(fig, path)
