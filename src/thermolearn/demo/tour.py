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
from thermolearn.demo.dynamics import section_training_dynamics
from thermolearn.demo.exact_2d import section_exact_2d
from thermolearn.demo.hopfield import section_hopfield
from thermolearn.demo.monte_carlo import section_annealing, section_ising
from thermolearn.demo.neural import section_neural_samplers
from thermolearn.demo.pbits import section_pbits
from thermolearn.demo.quantum import section_quantum
from thermolearn.demo.quantum_learning import section_quantum_learning
from thermolearn.demo.rbm import section_rbm
from thermolearn.demo.rg import section_rg
from thermolearn.demo.spinglass import section_spin_glass
from thermolearn.demo.variational import (
    section_elbo_regression,
    section_mean_field_lattice,
    section_variational_inference,
)
from thermolearn.viz.explorer import write_explorer
from thermolearn.viz.report import Report

SECTIONS: list[Callable[[Report], None]] = [
    section_two_spins,
    section_exact_2d,
    section_ising,
    section_annealing,
    section_spin_glass,
    section_mean_field_lattice,
    section_variational_inference,
    section_elbo_regression,
    section_neural_samplers,
    section_hopfield,
    section_rbm,
    section_diffusion,
    section_training_dynamics,
    section_pbits,
    section_rg,
    section_quantum,
    section_quantum_learning,
]
"""The tour, in order. A new capability adds its section function here."""


def section_label(section: Callable[[Report], None]) -> str:
    """A short human name of a section function: ``section_two_spins`` -> ``two spins``."""
    return section.__name__.removeprefix("section_").replace("_", " ")


def run_demo(output: str | os.PathLike = "thermolearn-demo", *, quiet: bool = False) -> Path:
    """Run every demo section and write ``output/index.html``; returns the page's path.

    Unless ``quiet``, one line on stderr as each section starts (the first ones compile kernels
    and can take a while) and one with its time when it ends. The page links the interactive
    explorer (:func:`thermolearn.viz.explorer.write_explorer`), written beside it.
    """
    report = Report(
        output,
        "thermolearn demo",
        intro="A short tour of thermolearn: every figure below was computed just now on this machine.",
    )
    width = len(str(len(SECTIONS)))
    for number, section in enumerate(SECTIONS, start=1):
        if not quiet:
            print(f"[{number:>{width}}/{len(SECTIONS)}] {section_label(section)} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        section(report)
        report.sections[-1].seconds = time.perf_counter() - start
        if not quiet:
            pad = " " * (2 * width + 3)
            print(f"{pad}{report.sections[-1].seconds:.1f} s: {report.sections[-1].title}", file=sys.stderr, flush=True)
    if not quiet:
        print("  the interactive explorer (an RBM trained for it) ...", file=sys.stderr, flush=True)
    explorer = write_explorer(report.folder)
    report.intro += (
        f' Then <a href="{explorer.name}">explore it yourself</a>: one offline page whose sliders move the two spins, '
        "an Ising lattice, mean field, an RBM repairing digits and a Hopfield network, computed live in your browser."
    )
    return report.write()
