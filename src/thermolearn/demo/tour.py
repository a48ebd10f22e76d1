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
from thermolearn.viz.report import Report, Section

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


def _section_in_worker(number: int, folder: str) -> tuple[list[Section], float]:
    """Run ``SECTIONS[number]`` in a worker process on a report of its own over the same folder (its
    figures have names of their own); returns its sections and seconds."""
    import numba

    numba.set_num_threads(1)  # the workers share the cores: one thread each
    report = Report(folder, "")
    start = time.perf_counter()
    SECTIONS[number](report)
    return report.sections, time.perf_counter() - start


def _explorer_in_worker(folder: str) -> str:
    import numba

    numba.set_num_threads(1)
    return write_explorer(Path(folder)).name


def demo_jobs() -> int:
    """Worker processes :func:`run_demo` uses by default: two where there are two cores or more."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def run_demo(output: str | os.PathLike = "thermolearn-demo", *, quiet: bool = False, jobs: int | None = None) -> Path:
    """Run every demo section and write ``output/index.html``; returns the page's path.

    Unless ``quiet``, one line on stderr as each section starts (the first ones compile kernels
    and can take a while) and one with its time when it ends. The page links the interactive
    explorer (:func:`thermolearn.viz.explorer.write_explorer`), written beside it.

    ``jobs`` > 1 (default :func:`demo_jobs`) runs the sections in that many worker processes, one
    Numba thread each, so a cold start compiles the kernels of different sections at once; the page
    and the order of the lines are the same, and every number too (seeded, and no kernel's result
    depends on its thread count). The seconds shown are each section's own, with the cores shared.
    """
    jobs = demo_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    report = Report(
        output,
        "thermolearn demo",
        intro="A short tour of thermolearn: every figure below was computed just now on this machine.",
    )
    width = len(str(len(SECTIONS)))
    pad = " " * (2 * width + 3)

    def announce(number: int, section: Callable[[Report], None]) -> None:
        if not quiet:
            print(f"[{number:>{width}}/{len(SECTIONS)}] {section_label(section)} ...", file=sys.stderr, flush=True)

    def finished(seconds: float) -> None:
        report.sections[-1].seconds = seconds
        if not quiet:
            print(f"{pad}{seconds:.1f} s: {report.sections[-1].title}", file=sys.stderr, flush=True)

    if jobs == 1:
        for number, section in enumerate(SECTIONS, start=1):
            announce(number, section)
            start = time.perf_counter()
            section(report)
            finished(time.perf_counter() - start)
        if not quiet:
            print("  the interactive explorer (an RBM trained for it) ...", file=sys.stderr, flush=True)
        explorer_name = write_explorer(report.folder).name
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned, not forked: a fork of a process that has started JAX's or Numba's threads can hang
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            folder = str(report.folder)
            futures = [pool.submit(_section_in_worker, k, folder) for k in range(len(SECTIONS))]
            explorer = pool.submit(_explorer_in_worker, folder)
            for number, (section, future) in enumerate(zip(SECTIONS, futures), start=1):
                announce(number, section)
                sections, seconds = future.result()
                report.sections.extend(sections)
                finished(seconds)
            if not quiet:
                print("  the interactive explorer (an RBM trained for it) ...", file=sys.stderr, flush=True)
            explorer_name = explorer.result()
    report.intro += (
        f' Then <a href="{explorer_name}">explore it yourself</a>: one offline page whose sliders move the two spins, '
        "an Ising lattice, mean field, an RBM repairing digits and a Hopfield network, computed live in your browser."
    )
    return report.write()
