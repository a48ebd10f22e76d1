"""Pictures of spin glasses: the overlap distribution P(q) at several temperatures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thermolearn.viz.figures import new_figure, save_figure


def plot_overlap_distributions(
    path: str | os.PathLike,
    q_values: np.ndarray,
    distributions: Sequence[np.ndarray],
    temperatures: Sequence[float],
    *,
    title: str = "",
) -> Path:
    """P(q) on the grid ``q_values`` (one curve per temperature, disorder-averaged): a single peak
    at q = 0 in the paramagnet, two peaks at +-q_EA joined by a plateau in the glass phase."""
    fig, axes = new_figure(width=5.5, height=3.6)
    ax = axes[0, 0]
    for k, (p, t) in enumerate(zip(distributions, temperatures)):
        ax.plot(q_values, p, "-", color=f"C{k}", label=f"T = {t:g}")
    ax.set_xlabel("overlap q")
    ax.set_ylabel("P(q)")
    ax.set_xlim(-1, 1)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
