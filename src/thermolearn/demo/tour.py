"""The tour: the demo's sections in order, and :func:`run_demo`, which runs them all into one
HTML page."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from thermolearn.demo.boltzmann import section_two_spins
from thermolearn.demo.diffusion import section_diffusion
from thermolearn.demo.exact_2d import section_exact_2d
from thermolearn.demo.hopfield import section_hopfield
from thermolearn.demo.monte_carlo import section_annealing, section_ising
from thermolearn.demo.pbits import section_pbits
from thermolearn.demo.quantum import section_quantum
from thermolearn.demo.quantum_learning import section_quantum_learning
from thermolearn.demo.rbm import section_rbm
from thermolearn.demo.rg import section_rg
from thermolearn.demo.variational import (
    section_elbo_regression,
    section_mean_field_lattice,
    section_variational_inference,
)
from thermolearn.viz.report import Report

SECTIONS: list[Callable[[Report], None]] = [
    section_two_spins,
    section_exact_2d,
    section_ising,
    section_annealing,
    section_mean_field_lattice,
    section_variational_inference,
    section_elbo_regression,
    section_hopfield,
    section_rbm,
    section_diffusion,
    section_pbits,
    section_rg,
    section_quantum,
    section_quantum_learning,
]
"""The tour, in order. A new capability adds its section function here."""


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
