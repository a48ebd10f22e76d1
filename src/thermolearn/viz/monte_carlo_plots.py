"""Monte Carlo temperature sweeps drawn with their error bars and the exact curves."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from thermolearn.viz.figures import NO_ERROR_BAR_NOTE, errorbar_marking_missing, new_figure, require_items, save_figure

_PANELS = [
    ("energy_per_spin", "energy per spin E/N"),
    ("abs_magnetization", "|m|"),
    ("specific_heat_per_spin", "specific heat per spin C/N"),
    ("susceptibility_per_spin", "susceptibility per spin chi/N"),
    ("binder_cumulant", "Binder cumulant U4"),
]


def plot_ising_sweep(path: str | os.PathLike, records: list[dict], dim: int = 2) -> Path:
    """Five panels against T, one series per lattice size with error bars; for 2D the exact
    Kaufman curves of each size (energy, specific heat) and T_c are drawn too.

    A point whose standard error is missing (None: too few blocks to estimate one) is drawn as an
    open marker without a bar, and the caption says so: a bar of zero would claim an exact value.
    """
    require_items("records", records, "sweep record (one lattice size at one temperature)")
    fig, axes = new_figure(ncols=3, nrows=2, width=4.2, height=3.2)
    sizes = sorted({r["size"] for r in records})
    temps_all = np.array(sorted({r["temperature"] for r in records}))
    unbarred = 0
    for ax, (key, label) in zip(axes.ravel(), _PANELS):
        for L in sizes:
            rows = [r for r in records if r["size"] == L]
            T = np.array([r["temperature"] for r in rows])
            mean = np.array([np.nan if r[key]["mean"] is None else r[key]["mean"] for r in rows])
            err = [r[key]["stderr"] for r in rows]
            (line,) = ax.plot([], [])  # the next colour of the cycle, shared by the points and the exact curve
            unbarred += errorbar_marking_missing(
                ax, T, mean, err, color=line.get_color(), label=f"L = {L}", ms=3.0, capsize=2.0
            )
            if dim == 2 and key in ("energy_per_spin", "specific_heat_per_spin") and len(temps_all) > 1:
                from thermolearn.exact.kaufman import kaufman

                fine = np.linspace(temps_all.min(), temps_all.max(), 200)
                attr = "energy_per_spin" if key == "energy_per_spin" else "specific_heat_per_spin"
                ax.plot(fine, [getattr(kaufman(L, t), attr) for t in fine], lw=1, color=line.get_color())
        if dim == 2:
            ax.axvline(2 / math.log(1 + math.sqrt(2)), color="grey", lw=0.8, ls=":")
        ax.set_xlabel("temperature T")
        ax.set_ylabel(label)
    axes[0, 0].legend(fontsize=8)
    ax = axes[1, 2]
    ax.axis("off")
    algorithm = records[0]["algorithm"]
    ax.text(
        0.0,
        0.6,
        f"{'square' if dim == 2 else 'cubic'} lattice, {algorithm}\n"
        "points: Monte Carlo (1 standard error)\n"
        + (f"{NO_ERROR_BAR_NOTE}\n" if unbarred else "")
        + ("lines: exact (Kaufman)\ndotted: T_c (Onsager)" if dim == 2 else ""),
        fontsize=10,
        va="top",
    )
    return save_figure(fig, path)
