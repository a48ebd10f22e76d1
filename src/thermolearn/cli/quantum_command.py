"""``thermolearn quantum``: the transverse-field Ising model (exact, pimc, anneal, qbm, vmc).

- ``exact``: ground state, gap and low spectrum (dense, Lanczos, Lanczos in momentum / spin-flip
  sectors) and ln Z, E, C at each temperature (full diagonalisation, free fermions on long chains);
  ``--field-scan`` gives the spectrum against the transverse field.
- ``pimc``: path-integral Monte Carlo at one temperature and one or more Trotter numbers M, against
  the exact Trotterised value at each M and the exact energy; several M are extrapolated a + b/M^2.
- ``anneal``: simulated quantum annealing of any Ising model (a file, or an SK instance), optionally
  side by side with thermolearn's simulated annealing at equal work.

The learning actions (qbm, vmc) are registered from :mod:`thermolearn.cli.quantum_learning_command`.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_checkpoint,
    add_json,
    add_no_progress,
    add_plot,
    add_seed,
    add_sweeps,
    add_temperature,
    check_distinct_paths,
    finite_float,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.quantum_learning_command import register_learning_actions
from thermolearn.cli.table import format_table, format_tau, format_value_error, value_error_parts

# thermolearn.quantum's SPECTRUM_METHODS, PIMC_SAMPLERS and size limits, named here so that --help loads nothing
SPECTRUM_METHOD_CHOICES = ("auto", "dense", "lanczos", "lanczos-sectors")
PIMC_SAMPLER_CHOICES = ("worldline", "metropolis", "wolff", "sw")
MAX_TROTTER_EXACT_SPINS = 11
MAX_FULL_DIAGONALISATION = 14
MAX_EXACT_SPINS = 30
MAX_LEVELS = 50


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quantum",
        help="transverse-field Ising model: exact, path-integral Monte Carlo, annealing, QBM, VMC",
        description="The transverse-field Ising model H = -sum J_ij sz_i sz_j - sum h_i sz_i - sum Gamma_i sx_i.",
    )
    psub = p.add_subparsers(dest="quantum_command", metavar="ACTION")
    p.set_defaults(run=missing_action("quantum", "exact, pimc, anneal, qbm or vmc"))

    e = psub.add_parser(
        "exact",
        help="ground state, gap, low spectrum and ln Z, E, C of a TFIM chain or square lattice",
        description="Exact answers for H = -J sum sz sz - h_z sum sz - h sum sx on a chain (--chain N) or an L x L "
        "lattice (--lattice LxL): the lowest levels by dense diagonalisation, Lanczos, or Lanczos in translation-"
        "momentum and spin-flip sectors (24+ spins), and with -T the thermodynamics from every eigenvalue "
        f"(N <= {MAX_FULL_DIAGONALISATION}; long chains by free fermions). Chains are compared with free fermions.",
    )
    _add_system(e)
    add_temperature(e, help="temperatures for ln Z, E, C: numbers or start:stop:count (default: none)")
    e.add_argument("--levels", type=positive_int, default=2, metavar="K", help="lowest levels to find (default 2)")
    e.add_argument(
        "--method",
        choices=SPECTRUM_METHOD_CHOICES,
        default="auto",
        help="eigensolver for the low spectrum (default auto)",
    )
    e.add_argument(
        "--field-scan",
        metavar="H0:H1:COUNT",
        help="also the low spectrum at COUNT transverse fields from H0 to H1 (for --plot: spectra against h)",
    )
    add_json(e, "ground_energy, gap, method, levels and thermal [{temperature, log_z, energy, specific_heat}]")
    add_plot(e, "the spectrum against h (with --field-scan) or ln Z against T with the exact curve")
    add_no_progress(e)
    e.set_defaults(run=run_exact_command)

    m = psub.add_parser(
        "pimc",
        help="path-integral Monte Carlo at M Trotter slices against the exact Trotterised and exact energies",
        description="Suzuki-Trotter path-integral Monte Carlo: M slices coupled by K = -1/2 ln tanh(beta h / M), "
        "sampled by Metropolis plus imaginary-time segment flips (worldline), Metropolis alone, or Wolff / "
        "Swendsen-Wang on the mapped classical model (J >= 0). Prints the Trotter-corrected energy, <sx> and "
        "<sz sz> with error bars against the exact values at the same M (product formula, N <= "
        f"{MAX_TROTTER_EXACT_SPINS}) and the exact energy; several --slices are extrapolated a + b/M^2.",
    )
    _add_system(m)
    add_temperature(m, required=True, help="the temperature T > 0 (one value)")
    m.add_argument(
        "--slices",
        type=positive_int,
        nargs="+",
        action="extend",
        required=True,
        metavar="M",
        help="Trotter numbers M >= 1 (several: one run each and the a + b/M^2 extrapolation)",
    )
    add_sweeps(m, default=10000, help="measured sweeps per chain (default 10000)")
    m.add_argument("--burn-in", type=nonnegative_int, metavar="N", help="unrecorded sweeps first (default sweeps/5)")
    m.add_argument("--chains", type=positive_int, default=4, metavar="N", help="independent chains (default 4)")
    m.add_argument(
        "--sampler", choices=PIMC_SAMPLER_CHOICES, default="worldline", help="update scheme (default worldline)"
    )
    add_seed(m, "the chains")
    add_json(m, "energy {mean, stderr}, trotter_exact_energy, exact_energy, sx, szsz, reliable and every M's run")
    add_plot(m, "the PIMC energy against 1/M^2 with the exact Trotterised values, the fit and the exact energy")
    add_no_progress(m)
    add_checkpoint(m, "the chains and recorded series (one --slices value)")
    m.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=1000,
        metavar="N",
        help="checkpoint period in sweeps (default 1000)",
    )
    m.set_defaults(run=run_pimc_command)

    a = psub.add_parser(
        "anneal",
        help="simulated quantum annealing of an Ising model, optionally against simulated annealing",
        description="Simulated quantum annealing: M Trotter slices at temperature T while the transverse field "
        "falls linearly from Gamma_start to Gamma_end; each read's best slice is quenched. The model is a file "
        "(.npz or Gset edge list; --maxcut for max-cut weights) or a Sherrington-Kirkpatrick instance (--sk N). "
        "--compare-sa also runs simulated annealing with sweeps x M single-spin sweeps per read (equal work).",
    )
    a.add_argument("model", nargs="?", help="model file: a .npz written by Ising.save, or an edge-list text file")
    a.add_argument("--sk", type=positive_int, metavar="N", help="a Sherrington-Kirkpatrick instance of N spins instead")
    a.add_argument(
        "--instance-seed", type=nonnegative_int, default=0, metavar="N", help="seed of the --sk couplings (default 0)"
    )
    a.add_argument("--maxcut", action="store_true", help="read the edge list as max-cut weights (J = -w); report cuts")
    add_sweeps(a, default=1000, help="SQA sweeps per read (default 1000)")
    a.add_argument("--reads", type=positive_int, default=8, metavar="N", help="independent reads (default 8)")
    a.add_argument("--slices", type=positive_int, default=8, metavar="M", help="Trotter slices (default 8)")
    a.add_argument(
        "--gamma-range",
        type=positive_float,
        nargs=2,
        metavar=("START", "END"),
        help="transverse field at the start and end (default 3 and 0.001 times the RMS local field)",
    )
    add_temperature(
        a, help="the temperature T (one value; default 16 / (M beta_cold), beta_cold of simulated annealing)"
    )
    a.add_argument("--no-segments", action="store_true", help="local moves only (no imaginary-time segment flips)")
    a.add_argument(
        "--compare-sa", action="store_true", help="also run simulated annealing at equal work (sweeps x slices)"
    )
    add_seed(a, "the reads")
    add_json(a, "best_energy, mean_energy, every read's energy (and the SA reads with --compare-sa)")
    add_plot(a, "histogram of the reads' energies per spin (SQA and SA)")
    add_no_progress(a)
    add_checkpoint(a, "the SQA reads (slices, generators, schedule position)")
    a.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=500,
        metavar="N",
        help="checkpoint period in sweeps (default 500)",
    )
    a.set_defaults(run=run_anneal_command)

    register_learning_actions(psub)


def _add_system(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--chain", type=positive_int, metavar="N", help="a chain of N spins (periodic unless --open)")
    group.add_argument("--lattice", metavar="LxL", help="a square lattice, e.g. 4x4 (periodic unless --open)")
    parser.add_argument("--open", action="store_true", help="open boundaries (default periodic)")
    parser.add_argument(
        "--field", type=nonnegative_float, required=True, metavar="H", help="transverse field h = Gamma >= 0"
    )
    parser.add_argument("--coupling", type=finite_float, default=1.0, metavar="J", help="coupling J (default 1)")
    parser.add_argument(
        "--longitudinal", type=finite_float, default=0.0, metavar="HZ", help="longitudinal field h_z (default 0)"
    )


def _system(args: argparse.Namespace) -> tuple[Any, str, bool]:
    """(Ising model, description, is a chain) from --chain / --lattice."""
    from thermolearn.cli.arguments import parse_shape
    from thermolearn.models.ising import Ising

    if args.chain is not None:
        if args.chain < 2:
            raise ValueError(f"--chain needs at least 2 spins, got {args.chain}")
        from thermolearn.resources import check_memory

        # the model's CSR couplings and the chain's arrays: about 200 bytes a spin
        check_memory(f"--chain {args.chain}", 200.0 * args.chain, hint="choose a shorter --chain")
        model = Ising.lattice(args.chain, args.coupling, args.longitudinal, periodic=not args.open)
        return model, f"chain N = {args.chain} ({'open' if args.open else 'periodic'})", True
    dims = parse_shape(args.lattice)
    if len(dims) != 2:
        raise ValueError(f"--lattice takes a square-lattice shape like 4x4, got {args.lattice!r}")
    if dims[0] * dims[1] > MAX_EXACT_SPINS:
        raise ValueError(
            f"--lattice {args.lattice} has {dims[0] * dims[1]} spins; exact methods reach at most {MAX_EXACT_SPINS}"
        )
    model = Ising.lattice(dims, args.coupling, args.longitudinal, periodic=not args.open)
    return model, f"{dims[0]} x {dims[1]} lattice ({'open' if args.open else 'periodic'})", False


def _one_temperature(tokens: list[str] | None) -> float | None:
    from thermolearn.cli.arguments import parse_temperatures

    if not tokens:
        return None
    temps = parse_temperatures(tokens)
    if temps.size != 1:
        raise ValueError(f"--temperature takes one value here, got {temps.size}")
    return float(temps[0])


def _scan(text: str) -> Any:
    import numpy as np

    parts = text.split(":")
    try:
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise ValueError(f"--field-scan must look like H0:H1:COUNT, e.g. 0:3:13, got {text!r}") from None
    if len(parts) != 3 or not (math.isfinite(start) and math.isfinite(stop)) or min(start, stop) < 0 or count < 2:
        raise ValueError(f"--field-scan needs finite fields >= 0 and COUNT >= 2, got {text!r}")
    if count > 200:
        raise ValueError(f"--field-scan COUNT must be at most 200, got {count}")
    return np.linspace(start, stop, count)


def _has_error(stderr: float | None) -> bool:
    return stderr is not None and math.isfinite(stderr) and stderr > 0


def _fmt(value: float | None, digits: int = 8) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


# ----------------------------------------------------------------------------------------- exact
def run_exact_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot})
    import numpy as np

    from thermolearn.cli.arguments import parse_temperatures
    from thermolearn.quantum.exact import low_spectrum, thermodynamics, too_large_for_full_diagonalisation
    from thermolearn.quantum.free_fermions import chain_low_levels, chain_thermodynamics

    model, label, is_chain = _system(args)
    n = model.n_spins
    temps = parse_temperatures(args.temperature) if args.temperature else np.zeros(0)
    scan = _scan(args.field_scan) if args.field_scan is not None else None
    free_fermions = is_chain and args.longitudinal == 0.0
    if temps.size and n > MAX_FULL_DIAGONALISATION and not free_fermions:
        raise ValueError(too_large_for_full_diagonalisation(n))
    if args.method == "dense" and n > MAX_FULL_DIAGONALISATION:
        raise ValueError(
            f"--method dense diagonalises the full 2^{n} x 2^{n} matrix and is limited to N <= "
            f"{MAX_FULL_DIAGONALISATION}; use --method lanczos or lanczos-sectors"
        )
    if args.levels > MAX_LEVELS:
        raise ValueError(f"--levels must be at most {MAX_LEVELS} (the lowest levels by Lanczos), got {args.levels}")
    if n > MAX_EXACT_SPINS and not (free_fermions and args.method == "auto" and args.levels <= 2):
        raise ValueError(
            f"--chain/--lattice: N = {n} spins is beyond exact diagonalisation (Lanczos in symmetry sectors reaches "
            f"N <= {MAX_EXACT_SPINS}); a chain with --longitudinal 0 uses free fermions for any N (--levels <= 2)"
        )
    if n > MAX_EXACT_SPINS:
        spectrum = _free_fermion_spectrum(n, args)
    else:
        spectrum = low_spectrum(model, args.field, args.levels, method=args.method)
    record: dict[str, Any] = {
        "system": label,
        "n_spins": n,
        "field": args.field,
        "coupling": args.coupling,
        "longitudinal": args.longitudinal,
        **spectrum.as_dict(),
    }
    print(f"TFIM {label}: J = {args.coupling:g}, h = {args.field:g}, h_z = {args.longitudinal:g}")
    rows = [[k, _fmt(e, 12), _fmt(e - spectrum.ground_energy, 8), s] for k, e, s in
            zip(range(spectrum.energies.size), spectrum.energies, spectrum.sectors)]  # fmt: skip
    if free_fermions:
        ff = chain_low_levels(n, args.field, args.coupling, periodic=not args.open)
        record["free_fermion_ground_energy"] = float(ff[0])
        record["free_fermion_gap"] = float(ff[1] - ff[0])
    print(format_table(["level", "energy", "E - E0", "sector"], rows))
    print(f"method: {spectrum.method}; ground energy per spin {spectrum.ground_energy / n:.10g}")
    for note in spectrum.notes:
        print(f"note: {note}")
    if free_fermions:
        print(
            f"free fermions: E0 = {record['free_fermion_ground_energy']:.12g}, gap = {record['free_fermion_gap']:.8g} "
            f"(|diff| {abs(record['free_fermion_ground_energy'] - spectrum.ground_energy):.2g})"
        )
    thermal: list[dict] = []
    if temps.size:
        if n <= MAX_FULL_DIAGONALISATION and not (free_fermions and _largest_block(model, args.field) > 4096):
            th = thermodynamics(model, args.field, temps)
            thermal = th.as_dict()["thermal"]
            record["thermal_method"] = th.method
        else:
            ch = chain_thermodynamics(n, args.field, temps, args.coupling, periodic=not args.open)
            thermal = [
                {"temperature": float(t), "log_z": float(z), "energy": float(u), "specific_heat": float(c),
                 "free_energy": float(-t * z)}
                for t, z, u, c in zip(ch.temperatures, ch.log_z, ch.energy, ch.specific_heat)
            ]  # fmt: skip
            record["thermal_method"] = "free fermions"
        if free_fermions and n <= MAX_FULL_DIAGONALISATION:
            ch = chain_thermodynamics(n, args.field, temps, args.coupling, periodic=not args.open)
            for row, z in zip(thermal, ch.log_z):
                row["free_fermion_log_z"] = float(z)
        print(
            format_table(
                ["T", "ln Z", "E", "C", "<sx>", "<sz sz>"],
                [[_fmt(r["temperature"], 6), _fmt(r["log_z"], 12), _fmt(r["energy"], 10), _fmt(r["specific_heat"], 8),
                  _fmt(r.get("sx"), 8), _fmt(r.get("szsz"), 8)] for r in thermal],
            )
        )  # fmt: skip
        print(f"thermal: {record['thermal_method']} (totals, k_B = 1)")
    record["thermal"] = thermal
    if scan is not None:
        from thermolearn.progress import progress_bar

        levels = []
        with progress_bar(scan.size, desc="field scan", progress=False if args.no_progress else None) as bar:
            for h in scan:
                levels.append(low_spectrum(model, float(h), max(2, args.levels), method=args.method).energies)
                bar.update(1)
        width = min(len(x) for x in levels)
        table = np.array([x[:width] for x in levels])
        record["scan"] = [
            {"field": float(h), "ground_energy": float(row[0]), "gap": float(row[1] - row[0]), "levels": row.tolist()}
            for h, row in zip(scan, table)
        ]
        print(
            format_table(
                ["h", "E0", "E0 / N", "gap"],
                [[_fmt(h, 6), _fmt(row[0], 10), _fmt(row[0] / n, 8), _fmt(row[1] - row[0], 8)] for h, row in zip(scan, table)],
            )
        )  # fmt: skip
    if args.json:
        write_json(args, record)
    if args.plot:
        _exact_plot(args, record, model, label, scan, temps, free_fermions)
    return 0


def _largest_block(model: Any, field: float) -> float:
    """The largest block full diagonalisation would face: 2^N over the symmetry group's order (an
    open chain has only the flip; its 2^13 blocks take minutes, where free fermions take microseconds)."""
    from thermolearn.quantum.hamiltonian import check_transverse
    from thermolearn.quantum.symmetry import find_symmetries

    group = find_symmetries(model, check_transverse(field, model.n_spins))
    return 2.0**model.n_spins / group.order


def _free_fermion_spectrum(n: int, args: argparse.Namespace) -> Any:
    from thermolearn.quantum.exact import LowSpectrum
    from thermolearn.quantum.free_fermions import chain_low_levels

    levels = chain_low_levels(n, args.field, args.coupling, periodic=not args.open)[: args.levels]
    return LowSpectrum(n, levels, ["all"] * levels.size, "free fermions")


def _exact_plot(args, record, model, label, scan, temps, free_fermions) -> None:
    import numpy as np

    from thermolearn.viz.quantum_plots import plot_log_z, plot_spectrum_scan

    n = model.n_spins
    if scan is not None:
        plot_spectrum_scan(
            args.plot, scan, np.array([row["levels"] for row in record["scan"]]), n_spins=n, title=f"TFIM {label}"
        )
    elif record["thermal"]:
        curve = None
        if free_fermions:
            from thermolearn.quantum.free_fermions import chain_thermodynamics

            grid = np.linspace(min(temps) * 0.8, max(temps) * 1.2, 120)
            curve = (grid, chain_thermodynamics(n, args.field, grid, args.coupling, periodic=not args.open).log_z)
        plot_log_z(
            args.plot,
            np.array([r["temperature"] for r in record["thermal"]]),
            np.array([r["log_z"] for r in record["thermal"]]),
            curve=curve,
            curve_label="free fermions",
            label=record.get("thermal_method", ""),
            title=f"TFIM {label}, h = {args.field:g}",
        )
    else:
        raise ValueError("--plot needs --field-scan (spectrum against h) or --temperature (ln Z against T)")
    print(f"wrote {args.plot}")


# ------------------------------------------------------------------------------------------ pimc
def run_pimc_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_output_path(args.checkpoint, ".npz")
    check_distinct_paths({}, {"--json": args.json, "--plot": args.plot, "--checkpoint": args.checkpoint})
    import numpy as np

    from thermolearn.quantum.exact import thermodynamics
    from thermolearn.quantum.free_fermions import chain_thermodynamics
    from thermolearn.quantum.pimc import extrapolate_trotter, run_pimc, trotter_exact

    model, label, is_chain = _system(args)
    n = model.n_spins
    T = _one_temperature(args.temperature)
    assert T is not None  # required option
    if args.field <= 0:
        raise ValueError(
            "--field must be > 0 for PIMC (Gamma = 0 is the classical model: use thermolearn sample or ising)"
        )
    slices = sorted(set(args.slices))
    if args.checkpoint and len(slices) > 1:
        raise ValueError("--checkpoint takes one --slices value (one run); run each M with its own checkpoint")
    if args.sweeps < 2:
        raise ValueError(f"--sweeps must be at least 2 (an error bar needs two samples), got {args.sweeps}")
    exact_energy = None
    exact_method = None
    chain_ff = is_chain and args.longitudinal == 0.0
    if n <= MAX_FULL_DIAGONALISATION and not (chain_ff and _largest_block(model, args.field) > 4096):
        ed = thermodynamics(model, args.field, [T])
        exact_energy, exact_method = float(ed.energy[0]), f"diagonalisation ({ed.method})"
    elif chain_ff:
        ch = chain_thermodynamics(n, args.field, [T], args.coupling, periodic=not args.open)
        exact_energy, exact_method = float(ch.energy[0]), "free fermions"
    runs = []
    for M in slices:
        result = run_pimc(
            model,
            args.field,
            T,
            M,
            args.sweeps,
            burn_in=args.burn_in,
            chains=args.chains,
            seed=args.seed,
            sampler=args.sampler,
            progress=False if args.no_progress else None,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
        )
        row = result.as_dict()
        row["trotter_exact_energy"] = (
            trotter_exact(model, args.field, T, M).energy if n <= MAX_TROTTER_EXACT_SPINS else None
        )
        runs.append(row)
    main = runs[-1]  # the largest M
    record: dict[str, Any] = {
        "system": label,
        "n_spins": n,
        "field": args.field,
        "coupling": args.coupling,
        "longitudinal": args.longitudinal,
        "temperature": T,
        "slices": main["slices"],
        "energy": main["energy"],
        "trotter_exact_energy": main["trotter_exact_energy"],
        "exact_energy": exact_energy,
        "exact_method": exact_method,
        "sx": main["sx"],
        "szsz": main["szsz"],
        # False when some run's error bars are likely too small (its RuntimeWarning said why)
        "reliable": all(r["reliable"] for r in runs),
        "runs": runs,
    }
    fit = None
    if len(runs) >= 2:
        fit = extrapolate_trotter(
            np.array(slices),
            np.array([r["energy"]["mean"] for r in runs]),
            np.array([r["energy"]["stderr"] for r in runs]),
        )
        record["extrapolation"] = fit.as_dict() | {"dof": len(runs) - 2}
    print(f"PIMC of the TFIM {label}: J = {args.coupling:g}, h = {args.field:g}, T = {T:g}, {args.sampler}")
    print(
        format_table(
            ["M", "E", "± stderr", "E_M exact", "z", "<sx>", "<sz sz>", "tau_E"],
            [
                [
                    r["slices"],
                    *value_error_parts(r["energy"]["mean"], r["energy"]["stderr"]),
                    _fmt(r["trotter_exact_energy"], 8),
                    _fmt(_z(r["energy"], r["trotter_exact_energy"]), 3),
                    format_value_error(r["sx"]["mean"], r["sx"]["stderr"], style="pm"),
                    format_value_error(r["szsz"]["mean"], r["szsz"]["stderr"], style="pm"),
                    format_tau(r["tau_energy"], r["energy"]["stderr"]),
                ]
                for r in runs
            ],
        )
    )
    if any(not _has_error(r[q]["stderr"]) for r in runs for q in ("energy", "sx", "szsz")):
        print("- for an error: the quantity never changed in the recorded samples, so it has no error bar")
    if fit is not None:
        # two slice numbers fix a + b/M^2 exactly: no degree of freedom is left to judge the fit
        dof = len(runs) - 2
        chi2_text = "n/a (0 dof)" if dof == 0 else f"{fit.chi2_per_dof:.2g}"
        print(
            "a + b/M^2: E(M -> infinity) = "
            f"{format_value_error(fit.a, fit.a_stderr, style='pm')} (chi2/dof {chi2_text})"
        )
    if exact_energy is not None:
        print(f"exact energy (M -> infinity): {exact_energy:.10g} by {exact_method}")
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.quantum_plots import plot_trotter_extrapolation

        plot_trotter_extrapolation(
            args.plot,
            slices,
            [r["energy"]["mean"] for r in runs],
            [r["energy"]["stderr"] for r in runs],
            trotter_exact=[r["trotter_exact_energy"] for r in runs],
            exact=exact_energy,
            fit=None if fit is None else (fit.a, fit.b),
            title=f"PIMC, TFIM {label}, h = {args.field:g}, T = {T:g}",
        )
        print(f"wrote {args.plot}")
    return 0


def _z(estimate: dict, exact: float | None) -> float | None:
    if exact is None or not estimate["stderr"]:
        return None
    return (estimate["mean"] - exact) / estimate["stderr"]


# ---------------------------------------------------------------------------------------- anneal
def _anneal_model(args: argparse.Namespace) -> tuple[Any, Any]:
    from thermolearn.models.ising import Ising

    if (args.model is None) == (args.sk is None):
        raise ValueError("give a model file or --sk N (one of them)")
    if args.sk is not None:
        if args.maxcut:
            raise ValueError("--maxcut reads an edge-list file; it does not apply to --sk")
        if args.sk < 2:
            raise ValueError(f"--sk needs at least 2 spins, got {args.sk}")
        from thermolearn.resources import check_memory

        check_memory(f"--sk {args.sk} (dense couplings)", 8.0 * args.sk * args.sk * 4, hint="choose a smaller --sk")
        return Ising.sherrington_kirkpatrick(args.sk, seed=args.instance_seed), None
    path = Path(args.model)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    if args.maxcut:
        from thermolearn.models.maxcut import MaxCut

        if path.suffix == ".npz":
            raise ValueError(f"{path}: --maxcut reads a graph's edge list (i j w lines, Gset format), not a .npz model")
        problem = MaxCut.from_edgelist(path)
        return problem.model, problem
    return (Ising.load(path) if path.suffix == ".npz" else Ising.from_edgelist(path)), None


def run_anneal_command(args: argparse.Namespace) -> int:
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_output_path(args.checkpoint, ".npz")
    inputs = {"model": args.model}
    check_distinct_paths(inputs, {"--json": args.json, "--plot": args.plot, "--checkpoint": args.checkpoint})
    import numpy as np

    from thermolearn.quantum.quantum_annealing import simulated_quantum_annealing

    if args.gamma_range is not None and args.gamma_range[0] < args.gamma_range[1]:
        g0, g1 = args.gamma_range
        raise ValueError(f"--gamma-range START END must fall (START >= END), got {g0:g} {g1:g}")
    temperature: float | tuple[float, float] | None = None
    if args.temperature:
        from thermolearn.cli.arguments import parse_temperatures

        temps = parse_temperatures(args.temperature)
        if temps.size > 2:
            raise ValueError(f"--temperature takes T or T_START T_END (beta rising) here, got {temps.size} values")
        if temps.size == 2 and temps[1] > temps[0]:
            raise ValueError(f"--temperature T_START T_END must cool (T_END <= T_START), got {temps[0]:g} {temps[1]:g}")
        temperature = float(temps[0]) if temps.size == 1 else (float(temps[0]), float(temps[1]))
    model, problem = _anneal_model(args)
    result = simulated_quantum_annealing(
        model,
        args.sweeps,
        args.reads,
        slices=args.slices,
        gamma_range=None if args.gamma_range is None else tuple(args.gamma_range),
        temperature=temperature,
        segments=not args.no_segments,
        seed=args.seed,
        progress=False if args.no_progress else None,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
    )
    record: dict[str, Any] = {"model": model.name, "n_spins": model.n_spins, **result.as_dict()}
    rows = [["SQA", _fmt(result.best_energy, 10), _fmt(float(np.mean(result.energies)), 10),
             _fmt(result.best_energy / model.n_spins, 6), f"{result.seconds:.2f}"]]  # fmt: skip
    energies = {"SQA": result.energies}
    if args.compare_sa:
        from thermolearn.samplers.annealing import anneal

        sa = anneal(model, args.sweeps * args.slices, args.reads, seed=args.seed)
        record["sa"] = {
            "best_energy": float(sa.best_energy),
            "mean_energy": float(np.mean(sa.energies)),
            "energies": [float(x) for x in sa.energies],
            "sweeps": int(args.sweeps * args.slices),
            "seconds": float(sa.seconds),
        }
        rows.append(["SA", _fmt(sa.best_energy, 10), _fmt(float(np.mean(sa.energies)), 10),
                     _fmt(sa.best_energy / model.n_spins, 6), f"{sa.seconds:.2f}"])  # fmt: skip
        energies["SA"] = sa.energies
    if problem is not None:
        record["best_cut"] = float(problem.cut_from_energy(result.best_energy))
        if args.compare_sa:
            record["sa"]["best_cut"] = float(problem.cut_from_energy(float(record["sa"]["best_energy"])))
    print(
        f"SQA on {model.name} (N = {model.n_spins}): {args.reads} reads, {args.sweeps} sweeps x {args.slices} slices, "
        f"T = {result.temperature:.4g}, Gamma {result.gamma_range[0]:.4g} -> {result.gamma_range[1]:.4g}"
    )
    print(format_table(["method", "best E", "mean E", "best E / N", "seconds"], rows))
    if problem is not None:
        print(f"best cut: {record['best_cut']:g}" + (f" (SA: {record['sa']['best_cut']:g})" if args.compare_sa else ""))
    if args.json:
        write_json(args, record)
    if args.plot:
        from thermolearn.viz.quantum_plots import plot_anneal_energies

        plot_anneal_energies(args.plot, energies, n_spins=model.n_spins, title=f"annealing {model.name}")
        print(f"wrote {args.plot}")
    return 0
