"""The exact 2D Ising curves: Onsager's infinite lattice, Kaufman's finite ones, T_c marked."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thermolearn.exact import onsager
from thermolearn.exact.kaufman import kaufman
from thermolearn.viz.figures import new_figure, save_figure


def plot_onsager(
    path: str | os.PathLike,
    temperatures: np.ndarray,
    sizes: Sequence[int] = (),
    coupling: float = 1.0,
) -> Path:
    """Free energy, energy, specific heat and spontaneous magnetisation per spin against T
    for the infinite square lattice, with Kaufman's exact L x L curves for ``sizes``.

    The axes carry the absolute values (k_B = 1: T, f and u in the energy units that J is given
    in; c and m are pure numbers), the numbers ``thermolearn onsager --coupling J`` prints, so a
    table and its plot agree for every J; J itself is named in the legend.
    """
    T = np.asarray(temperatures, dtype=float)
    tc = onsager.critical_temperature(coupling)
    panels = [
        ("free energy per spin f", onsager.free_energy_per_spin(T, coupling), "free_energy_per_spin"),
        ("energy per spin u", onsager.energy_per_spin(T, coupling), "energy_per_spin"),
        ("specific heat per spin c", onsager.specific_heat_per_spin(T, coupling), "specific_heat_per_spin"),
        ("spontaneous magnetisation m", onsager.spontaneous_magnetization(T, coupling), None),
    ]
    finite = {L: [kaufman(L, t, coupling) for t in T] for L in sizes}
    fig, axes = new_figure(ncols=2, nrows=2, width=4.8, height=3.4)
    for ax, (label, values, attr) in zip(axes.ravel(), panels):
        ax.plot(
            T,
            np.where(np.isfinite(values), values, np.nan),
            color="black",
            lw=2,
            label=f"Onsager (L = inf), J = {coupling:g}",
        )
        if attr is not None:
            for L, results in finite.items():
                ax.plot(T, [getattr(r, attr) for r in results], lw=1.2, ls="--", label=f"Kaufman L = {L}")
        ax.axvline(tc, color="tab:red", lw=1, ls=":", label=f"T_c = {tc:.4f}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel(label)
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].set_ylim(bottom=0)
    return save_figure(fig, path)
