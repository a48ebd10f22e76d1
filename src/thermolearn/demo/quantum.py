"""Demo section: the transverse-field Ising model. Exact diagonalisation of a chain against free
fermions, the low spectrum of a small square lattice across h_c, and a PIMC point against the exact
Trotterised and exact energies with the a + b/M^2 extrapolation."""

from __future__ import annotations

import numpy as np

from thermolearn.demo.wording import plus_minus, sigmas
from thermolearn.viz.report import Report

SECTION_TITLE = "Quantum: the transverse-field Ising model, exactly and by path integrals"
FIGURES = ("quantum_chain_log_z.png", "quantum_spectrum.png", "quantum_pimc_trotter.png")


def section_quantum(report: Report, *, seed: int = 0) -> None:
    from thermolearn.models.ising import Ising
    from thermolearn.quantum.exact import low_spectrum, thermodynamics
    from thermolearn.quantum.free_fermions import chain_low_levels, chain_thermodynamics
    from thermolearn.quantum.pimc import extrapolate_trotter, run_pimc, trotter_exact
    from thermolearn.viz.quantum_plots import plot_log_z, plot_spectrum_scan, plot_trotter_extrapolation

    sec = report.section(SECTION_TITLE)
    sec.text(
        "A quantum Boltzmann machine is an Ising Hamiltonian with a term that does not commute with the energy: "
        "H = &minus;&Sigma; J<sub>ij</sub> &sigma;<sup>z</sup><sub>i</sub>&sigma;<sup>z</sup><sub>j</sub> "
        "&minus; &Sigma; &Gamma; &sigma;<sup>x</sup><sub>i</sub>. On the chain it is solved exactly by free fermions "
        "(Jordan-Wigner; on a ring each fermion parity has its own boundary condition, and Z keeps only the states "
        "of matching parity). Below, the whole spectrum of a 10-spin ring by diagonalisation in momentum and "
        "spin-flip sectors against that closed form."
    )
    n, h = 10, 0.9
    chain = Ising.lattice(n, 1.0, 0.0)
    temps = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    ed = thermodynamics(chain, h, temps)
    ff = chain_thermodynamics(n, h, temps)
    low = chain_low_levels(n, h)
    sec.table(
        [
            "T",
            "ln Z (diagonalisation)",
            "ln Z (free fermions)",
            f"E (all {n} spins)",
            f"C (all {n} spins)",
            "<sx> per spin",
        ],
        [
            [f"{t:g}", f"{a:.12f}", f"{b:.12f}", f"{e:.6f}", f"{c:.5f}", f"{x:.5f}"]
            for t, a, b, e, c, x in zip(temps, ed.log_z, ff.log_z, ed.energy, ed.specific_heat, ed.sx)
        ],
    )
    sec.text(
        f"Ground energy {ed.ground_energy:.12f} (free fermions {low[0]:.12f}), gap {ed.gap:.6g} "
        f"(free fermions {low[1] - low[0]:.6g}); largest |&Delta; ln Z| {np.max(np.abs(ed.log_z - ff.log_z)):.1e}."
    )
    grid = np.linspace(0.2, 5.0, 80)
    plot_log_z(
        report.figure_path(FIGURES[0]),
        temps,
        ed.log_z,
        curve=(grid, chain_thermodynamics(n, h, grid).log_z),
        curve_label="free fermions",
        label="diagonalisation (sectors)",
        title=f"TFIM ring N = {n}, h = {h}",
    )
    sec.figure(FIGURES[0], "ln Z of the 10-spin ring: diagonalisation (points) on the free-fermion curve.")

    square = Ising.lattice((3, 3), 1.0, 0.0)
    fields = np.linspace(0.0, 5.0, 11)
    levels = np.array([low_spectrum(square, float(f), 3, method="dense").energies for f in fields])
    plot_spectrum_scan(report.figure_path(FIGURES[1]), fields, levels, n_spins=9, title="TFIM 3 x 3 lattice")
    sec.text(
        "In two dimensions there is no closed form; Lanczos in symmetry sectors reaches 4 &times; 4 and beyond. On "
        "the 3 &times; 3 torus the two lowest levels are degenerate in the ordered phase and split as h grows "
        "towards h<sub>c</sub> &asymp; 3.044, the infinite lattice's critical field (on 9 spins the crossover is "
        "smeared and comes earlier)."
    )
    sec.figure(FIGURES[1], "The 3 x 3 periodic lattice: excitation energies and E_0 / N against the transverse field.")

    small = Ising.lattice(6, 1.0, 0.0)
    T, gamma = 1.0, 1.0
    slices = [4, 6, 8, 12]
    runs = [run_pimc(small, gamma, T, m, 4000, chains=4, seed=seed + m) for m in slices]
    exact_m = [trotter_exact(small, gamma, T, m).energy for m in slices]
    exact = float(thermodynamics(small, gamma, [T], method="dense").energy[0])
    fit = extrapolate_trotter(np.array(slices), [r.energy.mean for r in runs], [r.energy.stderr for r in runs])
    sec.text(
        "Path-integral Monte Carlo maps the quantum model at temperature T to M classical copies coupled along "
        "imaginary time by K = &minus;&frac12; ln tanh(&beta;&Gamma;/M). At each M the sampled energy must equal the "
        "exact Trotterised energy (product formula), not the exact one; the M &rarr; &infin; limit comes from the fit "
        "a + b/M<sup>2</sup>."
    )
    sec.table(
        ["M", "PIMC energy", "exact at this M", "(PIMC - exact_M) / stderr"],
        [
            [
                str(m),
                plus_minus(r.energy.mean, r.energy.stderr),
                f"{e:.5f}",
                f"{(r.energy.mean - e) / r.energy.stderr:+.2f}",
            ]
            for m, r, e in zip(slices, runs, exact_m)
        ],
    )
    sec.text(
        f"Extrapolated: {plus_minus(fit.a, fit.a_stderr)}; exact diagonalisation: {exact:.4f} "
        f"({sigmas(fit.a - exact, fit.a_stderr):.1f} error bars apart)."
    )
    plot_trotter_extrapolation(
        report.figure_path(FIGURES[2]),
        slices,
        [r.energy.mean for r in runs],
        [r.energy.stderr for r in runs],
        trotter_exact=exact_m,
        exact=exact,
        fit=(fit.a, fit.b),
        title="PIMC, ring N = 6, h = 1, T = 1",
    )
    sec.figure(
        FIGURES[2], "PIMC energies against 1/M^2 with the exact Trotterised values, the fit and the exact energy."
    )
