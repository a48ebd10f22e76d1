"""Demo section: renormalisation. The exact 1D decimation flow and its invariant free energy, the
Migdal-Kadanoff flow diagram of the square lattice, a small Monte Carlo RG estimate of nu, and a
one-layer RBM-as-RG experiment (receptive fields against block spins, about 5 s)."""

from __future__ import annotations

import math

import numpy as np

from thermolearn.viz.report import Report


def section_rg(report: Report, *, seed: int = 0) -> None:
    from thermolearn.rg.critical_sampling import run_mcrg
    from thermolearn.rg.decimation import decimate_chain
    from thermolearn.rg.migdal_kadanoff import mk_fixed_point, mk_recursion
    from thermolearn.viz.rg_plots import plot_chain_flow, plot_mcrg_exponents, plot_mk_flow

    sec = report.section("Renormalisation: decimation, Migdal-Kadanoff and Monte Carlo RG")
    sec.text(
        "A change of scale sums out degrees of freedom and keeps the free energy F = &minus;ln Z: the couplings of the "
        "coarse model flow, and the flow near a fixed point gives the critical exponents. On the chain it is exact: "
        "summing out every other spin gives tanh K&prime; = tanh<sup>2</sup> K plus a constant g per bond, and "
        "ln Z / N = &Sigma;<sub>n</sub> g<sub>n</sub> / 2<sup>n+1</sup> rebuilds the free energy from the flow alone."
    )
    flow = decimate_chain(1.0, b=2, levels=6)
    rows = [
        [
            str(n),
            f"{flow.couplings[n]:.6g}",
            f"{flow.correlation_lengths[n]:.5g}",
            f"{flow.free_energy_by_level[n]:.15f}",
        ]
        for n in range(flow.levels + 1)
    ]
    sec.table(["level", "K_n", "correlation length", "ln Z / N assembled at this level"], rows)
    sec.text(
        f"K = 1, b = 2: the correlation length halves exactly at each level; ln Z / N from the constants is "
        f"{flow.free_energy_per_spin:.15f} against ln(2 cosh 1) = {math.log(2 * math.cosh(1.0)):.15f}."
    )
    plot_chain_flow(
        report.figure_path("rg_chain_flow.png"),
        flow.couplings,
        flow.free_energy_by_level,
        flow.exact_free_energy_per_spin,
        b=2,
    )
    sec.figure("rg_chain_flow.png", "The 1D flow to K = 0 and the free energy, invariant along it to rounding.")

    curves, mk_rows = [], []
    for lattice in ("square", "cubic"):
        fp = mk_fixed_point(lattice, 2)
        grid = np.linspace(0.0, 2.2 * fp.fixed_point, 400)
        curves.append((f"{lattice}, b = 2", grid, mk_recursion(grid, lattice, 2), fp.fixed_point))
        mk_rows.append([lattice, f"{fp.fixed_point:.6f}", f"{fp.thermal_eigenvalue:.6f}", f"{fp.nu:.4f}"])
    plot_mk_flow(report.figure_path("rg_migdal_kadanoff.png"), curves)
    sec.text(
        "In two and three dimensions Migdal and Kadanoff move the bonds of each 2 &times; 2 cell onto the coarse "
        "lattice before decimating: K&prime; = atanh(tanh<sup>2</sup>(2<sup>d&minus;1</sup>K)). An unstable fixed "
        "point K* separates the flows to disorder and to order; its eigenvalue gives nu. It is an approximation: the "
        "exact square lattice has K<sub>c</sub> = 0.4407 and nu = 1."
    )
    sec.table(["lattice", "K*", "lambda_T", "nu"], mk_rows)
    sec.figure(
        "rg_migdal_kadanoff.png",
        "Migdal-Kadanoff flow diagrams: K' against K, iterations from either side of K* (staircases), K* marked.",
    )

    result = run_mcrg(16, 2, blockings=2, n_samples=1000, burn_in=50, n_bootstrap=100, seed=seed, progress=False)
    record = result.as_dict()
    sec.text(
        "Monte Carlo RG (Swendsen 1979): Swendsen-Wang samples of the 16 &times; 16 Ising model at K<sub>c</sub>, "
        "blocked by 2 &times; 2 majority rule; correlations of block operators between consecutive levels give the "
        "linearised RG matrix, whose leading even and odd eigenvalues are 2<sup>y<sub>T</sub></sup> and "
        "2<sup>y<sub>h</sub></sup> (exact: y<sub>T</sub> = 1/nu = 1, y<sub>h</sub> = 15/8). Errors: bootstrap."
    )
    sec.table(
        ["level", "y_T", "nu", "y_h"],
        [
            [
                str(lv["level"]),
                f"{lv['y_t']['mean']:.3f} ± {lv['y_t']['stderr']:.3f}",
                f"{lv['nu']['mean']:.3f} ± {lv['nu']['stderr']:.3f}",
                f"{lv['y_h']['mean']:.4f} ± {lv['y_h']['stderr']:.4f}",
            ]
            for lv in record["levels"]
        ],
    )
    plot_mcrg_exponents(
        report.figure_path("rg_mcrg.png"), record["levels"], y_t_exact=1.0, y_h_exact=15 / 8, title="MCRG, L = 16"
    )
    sec.figure("rg_mcrg.png", "MCRG exponents against the blocking level, exact values dashed.")

    _rbm_as_rg(report, sec, seed=seed)


def _rbm_as_rg(report: Report, sec, *, seed: int) -> None:
    """One RBM (256 -> 64) on 16 x 16 critical samples against 2 x 2 majority rule."""
    from thermolearn.rg.receptive_fields import block_spin_kernels
    from thermolearn.runs.rbm_rg import rbm_renormalisation
    from thermolearn.viz.rg_plots import plot_rbm_rg

    result = rbm_renormalisation(16, levels=1, n_samples=2560, epochs=40, seed=seed, progress=False)
    record = result.as_dict()
    layer = record["layers"][0]
    sec.text(
        "Is a restricted Boltzmann machine a renormalisation step (Mehta and Schwab 2014)? One RBM with 64 hidden "
        "units, trained by CD-1 with an L1 penalty on Swendsen-Wang samples of the 16 &times; 16 Ising model at "
        "K<sub>c</sub>, is compared with 2 &times; 2 majority-rule blocks of the same samples: the locality of its "
        "receptive fields (the fraction of |W| in the 2 &times; 2 block at each unit's centre) and the nearest-neighbour "
        "coupling of its hidden layer, fitted by pseudo-likelihood, for samples at K<sub>c</sub>(1 &minus; 0.05), "
        "K<sub>c</sub> and K<sub>c</sub>(1 + 0.05). RG says the difference of the couplings doubles (b<sup>y<sub>T"
        "</sub></sup> = 2). <code>thermolearn rg rbm</code> runs deeper stacks; docs/benchmarks.md has the verdict."
    )
    rows = []
    for mapping, label in (("rbm", "RBM"), ("block", "majority rule")):
        fits, rate = layer[mapping], layer[mapping]["rate"]
        loc = layer["locality"]["mean"] if mapping == "rbm" else layer["locality"]["block_spin"]
        rows.append(
            [label, f"{loc:.3f}"]
            + [f"{fits[n]['coupling']:.3f} ± {fits[n]['stderr']:.3f}" for n in ("below", "critical", "above")]
            + [f"{rate['mean']:.2f} ± {rate['stderr']:.2f}"]
        )
    sec.table(["map", "locality", "K_nn below", "K_nn at K_c", "K_nn above", "rate (RG: 2)"], rows)
    plot_rbm_rg(report.figure_path("rg_rbm.png"), result.fields, [block_spin_kernels(16, 2)], record)
    sec.figure(
        "rg_rbm.png",
        f"RBM receptive fields next to the block-spin kernels of the same coarse sites (locality "
        f"{layer['locality']['mean']:.2f}; weights spread evenly would give {layer['locality']['uniform_baseline']:.3f}), "
        "and K_nn per level for the three ensembles.",
    )
