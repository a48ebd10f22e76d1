"""The demo: a short tour where every capability adds one small, real section.

Each section is a function ``(report) -> None`` in :data:`SECTIONS`; the whole tour must
stay under three minutes on two cores, so each section is small.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from thermolearn.viz.report import Report


def section_two_spins(report: Report) -> None:
    from thermolearn.viz.boltzmann_plots import plot_two_spins

    sec = report.section("The Boltzmann distribution of two coupled spins")
    sec.text(
        "Two spins with energy E = -J s<sub>1</sub> s<sub>2</sub> - h (s<sub>1</sub> + s<sub>2</sub>) and "
        "probabilities p(s) = e<sup>-E/T</sup>/Z, summed exactly over the four states. At low temperature the "
        "lowest-energy state takes all the probability; at high temperature every state tends to 1/4. A positive "
        "coupling makes the spins agree, a negative one makes them disagree, and temperature washes both out. "
        "The correlation &lt;s<sub>1</sub>s<sub>2</sub>&gt; from enumeration lies on the closed form tanh(J/T)."
    )
    plot_two_spins(report.figure_path("two_spins.png"))
    sec.figure("two_spins.png", "Left: p(s) against T for J = 1, h = 0.25. Middle: probability that the spins agree over "
                                  "coupling and temperature. Right: <s1 s2> against T for several J.")


def section_exact_2d(report: Report) -> None:
    from thermolearn import Ising
    from thermolearn.exact import enumerate_exact, onsager
    from thermolearn.exact.kaufman import kaufman
    from thermolearn.viz.exact_plots import plot_onsager

    tc = onsager.critical_temperature()
    sec = report.section("The exact 2D Ising model")
    sec.text(
        f"Onsager's free energy, energy and specific heat of the infinite square lattice, Yang's spontaneous "
        f"magnetisation, and Kaufman's exact partition function of finite periodic L x L lattices. The specific "
        f"heat diverges at T<sub>c</sub> = 2/ln(1+&radic;2) = {tc:.6f}; finite lattices round the peak."
    )
    plot_onsager(report.figure_path("onsager.png"), np.linspace(1.0, 4.0, 301), sizes=(4, 16, 64))
    sec.figure("onsager.png", "Exact curves of the 2D Ising model; dashed: Kaufman's finite lattices; dotted: T_c.")
    model = Ising.lattice((4, 4))
    rows = []
    for T in (1.5, tc, 3.0):
        e = enumerate_exact(model, T, correlations=False)[0]
        k = kaufman(4, T)
        rows.append([f"{T:.4f}", f"{e.log_z:.12f}", f"{k.log_z:.12f}", f"{e.specific_heat_per_spin:.10f}",
                     f"{k.specific_heat_per_spin:.10f}"])
    sec.text("Cross-check on the 4 x 4 periodic lattice: enumeration of all 65,536 states against Kaufman's formula.")
    sec.table(["T", "log Z (enumeration)", "log Z (Kaufman)", "c/spin (enumeration)", "c/spin (Kaufman)"], rows)


SECTIONS: list[Callable[[Report], None]] = [section_two_spins, section_exact_2d]


def run_demo(output: str | os.PathLike = "thermolearn-demo", *, quiet: bool = False) -> Path:
    """Run every demo section and write ``output/index.html``; returns the page's path."""
    report = Report(
        output,
        "thermolearn demo",
        intro="A short tour of thermolearn: every figure below was computed just now on this machine.",
    )
    for section in SECTIONS:
        start = time.perf_counter()
        section(report)
        report.sections[-1].seconds = time.perf_counter() - start
        if not quiet:
            print(f"  {report.sections[-1].title}: {report.sections[-1].seconds:.1f} s", file=sys.stderr)
    return report.write()
