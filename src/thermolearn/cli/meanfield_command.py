"""``thermolearn meanfield``: m(T) of a lattice by mean field, Bethe and exact, with their T_c."""

from __future__ import annotations

import argparse
import math

from thermolearn.cli.arguments import add_model_arguments, check_output_path, model_from_arguments, parse_temperatures
from thermolearn.cli.options import add_json, add_no_progress, add_plot, add_temperature, positive_int, write_json
from thermolearn.cli.table import chop, format_table

DEFAULT_LATTICE = "32x32"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "meanfield",
        help="magnetisation against T of a lattice by mean field, Bethe and exact, critical temperatures marked",
        description="The spontaneous magnetisation m(T) of a ferromagnetic lattice by naive mean field "
        "(T_c = zJ), the Bethe approximation (T_c = 2J/ln(z/(z-2))) and the exact answer where one is known "
        "(Yang's formula on the square lattice, T_c = 2.269J; the chain in any field). Lines: the closed forms "
        "of the infinite lattice; the table and the markers: the solvers run on the given lattice. "
        f"Default lattice {DEFAULT_LATTICE}.",
    )
    add_model_arguments(p)
    add_temperature(p, help="temperatures: numbers and/or ranges start:stop:count (default 0.2 zJ to 1.25 zJ)")
    p.add_argument(
        "--max-iter",
        type=positive_int,
        default=3000,
        metavar="N",
        help="iteration limit of the mean-field and belief-propagation solvers (default 3000)",
    )
    add_json(p, "the curves")
    add_plot(p, "m(T) with the three critical temperatures")
    add_no_progress(p)
    p.set_defaults(run=run)


def lattice_parameters(model) -> tuple[int, int, float, float]:
    """(dimension, coordination z, coupling J, field H) of a uniform ferromagnetic lattice model."""
    g = model.geometry
    if g is None:
        raise ValueError(
            "meanfield draws m(T) for a lattice: give --lattice LxL (or a model saved from Ising.lattice); "
            "for any other model use `thermolearn compare`"
        )
    axes = [J for side, J in zip(g.shape, g.couplings) if side > 1]
    if not axes:
        raise ValueError(f"lattice {g.shape} has no bonds (every side is 1)")
    if any(J != axes[0] for J in axes) or axes[0] <= 0:
        raise ValueError(f"meanfield needs one ferromagnetic coupling J > 0 on every axis, got {tuple(axes)}")
    return len(axes), 2 * len(axes), float(axes[0]), float(g.field)


def symmetric_stand_in(model):
    """A small lattice whose mean-field and BP iterations are those of every site of ``model``, or None.

    On a periodic lattice with one coupling and one field (checked by the geometry against J and
    h) and even sides, every site obeys the same equations: from the uniform start of each
    solver, the synchronous BP messages stay uniform, and the sequential mean-field sweep
    visits the two checkerboard colours in turn, each colour uniform. A 4 x 4 (x 4) lattice
    has the same colouring and the same equations, so it gives the same magnetisation per
    spin, iterations and residuals, at any size (and a 3000 x 3000 lattice is solved at once).
    """
    from thermolearn.models.ising import Ising

    g = model.geometry
    if g is None or not all(g.periodic) or any(side != 1 and (side < 4 or side % 2) for side in g.shape):
        return None
    shape = tuple(1 if side == 1 else 4 for side in g.shape)
    if shape == g.shape:
        return None
    return Ising.lattice(shape, g.couplings, g.field, periodic=True)


def critical_temperatures(dimension: int, z: int, J: float, H: float) -> dict[str, float | None]:
    """The three critical temperatures (None where there is no transition or no known value)."""
    from thermolearn.exact.critical_temperature import lattice_critical_temperature
    from thermolearn.variational.lattice_mean_field import bethe_critical_temperature, mean_field_critical_temperature

    if H != 0.0:
        return {"mean_field": None, "bethe": None, "exact": None}  # a field removes the transition
    exact = lattice_critical_temperature(dimension, J)
    bethe = bethe_critical_temperature(z, J)
    return {"mean_field": mean_field_critical_temperature(z, J), "bethe": bethe if bethe > 0 else None, "exact": exact}


def critical_temperature_source(dimension: int, H: float) -> str | None:
    """Where the reference ("exact") critical temperature comes from."""
    from thermolearn.exact.critical_temperature import critical_temperature_source as source

    return None if H != 0.0 else source(dimension)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.progress import progress_bar
    from thermolearn.variational.belief_propagation import belief_propagation
    from thermolearn.variational.lattice_mean_field import (
        bethe_magnetization,
        exact_lattice_magnetization,
        mean_field_magnetization,
    )
    from thermolearn.variational.mean_field import mean_field

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.max_iter < 1:
        raise ValueError(f"--max-iter must be >= 1, got {args.max_iter}")
    if not args.model and args.lattice is None:  # --lattice '' is an error, not the default
        args.lattice = DEFAULT_LATTICE
    model = model_from_arguments(args)
    d, z, J, H = lattice_parameters(model)
    temps = (np.linspace(0.2, 1.25, 43) * z * J) if args.temperature is None else parse_temperatures(args.temperature)
    direction = "down" if H < 0 else "up"
    tcs = critical_temperatures(d, z, J, H)
    mf_curve = np.asarray(mean_field_magnetization(temps, z, J, H))
    bethe_curve = np.asarray(bethe_magnetization(temps, z, J, H))
    exact_curve = exact_lattice_magnetization(temps, d, J, H)
    # the solvers run on a small stand-in when every site of the lattice has the same equations
    solved = symmetric_stand_in(model) or model
    records = []
    bar = progress_bar(
        iterable=temps, desc="meanfield", progress=False if args.no_progress else None, worthwhile=len(temps) > 1
    )
    for k, T in enumerate(bar):
        mf = mean_field(solved, float(T), starts=(direction,), n_random=0, stability=False, max_iter=args.max_iter).best
        bp = belief_propagation(solved, float(T), init=direction, max_iter=args.max_iter, tol=1e-9)
        records.append(
            {
                "temperature": float(T),
                "mean_field": mf.magnetization_per_spin,
                "mean_field_converged": mf.converged,
                "mean_field_iterations": mf.iterations,
                "mean_field_residual": mf.residual,
                "bethe": bp.magnetization_per_spin,
                "bethe_converged": bp.converged,
                "bethe_iterations": bp.iterations,
                "bethe_residual": bp.residual,
                "exact": None if exact_curve is None else float(exact_curve[k]),
                "mean_field_closed_form": float(mf_curve[k]),
                "bethe_closed_form": float(bethe_curve[k]),
            }
        )

    print(f"{model!r}: z = {z}, J = {J:g}, H = {H:g}")
    if solved is not model and solved.geometry is not None:
        shape = "x".join(map(str, solved.geometry.shape))
        print(f"(solved on the periodic {shape} lattice: every site of this lattice has the same equations)")
    source = critical_temperature_source(d, H)
    print(
        "critical temperatures: "
        + ", ".join(f"{name.replace('_', ' ')} {'none' if tc is None else f'{tc:.6g}'}" for name, tc in tcs.items())
        + (f" ({source})" if source else "")
    )
    exact_label = {1: "exact (infinite chain)", 2: "exact (Yang, infinite lattice)"}.get(d, "exact")
    rows = []
    chopped = False
    for r in records:
        flags = []
        if not r["mean_field_converged"]:
            flags.append(
                f"mean field NOT converged ({r['mean_field_iterations']} it, residual {r['mean_field_residual']:.2g})"
            )
        if not r["bethe_converged"]:
            flags.append(f"BP NOT converged ({r['bethe_iterations']} it, residual {r['bethe_residual']:.2g})")
        m_mf = _shown(r["mean_field"], r["mean_field_residual"])
        m_bp = _shown(r["bethe"], r["bethe_residual"])
        chopped = chopped or m_mf != r["mean_field"] or m_bp != r["bethe"]
        rows.append([r["temperature"], m_mf, m_bp, r["exact"], "; ".join(flags)])
    print(format_table(["T", "m mean field", "m Bethe", f"m {exact_label}", "notes"], rows))
    if chopped:
        print(
            f"0 in the table: |m| below {_NOISE:g}, or below {_RESIDUALS:g} x the solver's residual, is rounding "
            "or convergence noise about m = 0 (the JSON keeps the raw values)"
        )
    if exact_curve is None:
        print("exact m(T): no closed form for this lattice" + (" in a field" if H else ""))
    if args.json:
        write_json(
            args,
            {
                "model": repr(model),
                "n_spins": model.n_spins,
                "dimension": d,
                "coordination": z,
                "coupling": J,
                "field": H,
                "critical_temperatures": tcs,
                "exact_critical_temperature_source": source,
                "results": records,
            },
        )
    if args.plot:
        from thermolearn.viz.variational_plots import plot_magnetization_curves

        t = np.array([r["temperature"] for r in records])
        fine = np.union1d(
            np.linspace(temps.min(), temps.max(), 400),
            [tc * (1 + e) for tc in tcs.values() if tc for e in (-1e-9, 0.0)],
        )
        fine = fine[(fine >= temps.min()) & (fine <= temps.max())]
        plot_magnetization_curves(
            args.plot,
            fine,
            {
                "mean field": np.asarray(mean_field_magnetization(fine, z, J, H)),
                "Bethe": np.asarray(bethe_magnetization(fine, z, J, H)),
                exact_label: exact_lattice_magnetization(fine, d, J, H),
            },
            {"mean field": tcs["mean_field"], "Bethe": tcs["bethe"], exact_label: tcs["exact"]},
            points={
                "mean field": (t, np.array([r["mean_field"] for r in records])),
                "Bethe": (t, np.array([r["bethe"] for r in records])),
            },
            title=f"{model.name}: z = {z}, J = {J:g}, H = {H:g}",
        )
        print(f"wrote {args.plot}")
    return 0


_NOISE = 1e-12  # |m| below this (m per spin is at most 1) is rounding noise
_RESIDUALS = 100.0  # a fixed point is known to about its residual (more near T_c, where convergence is slow)


def _shown(m: float | None, residual: float | None) -> float | None:
    """m as the table shows it: 0.0 where it is indistinguishable from 0 (see _NOISE, _RESIDUALS)."""
    if m is None:
        return None
    floor = max(_NOISE, _RESIDUALS * residual) if residual is not None and math.isfinite(residual) else _NOISE
    return chop(m, 1.0, floor)
