"""Pictures of p-bit machines: sampled state histograms against the exact law, one panel per
update model, and factorisation success against sweeps with confidence bands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.viz.figures import new_figure, require_items, save_figure


def plot_distributions(
    path,
    panels: Sequence[tuple[str, Sequence[str], np.ndarray, np.ndarray]],
    *,
    title: str = "",
):
    """One panel per entry ``(panel title, state labels, sampled, exact)``: sampled frequencies
    as bars and the exact probabilities as markers, over the same states."""
    require_items("panels", panels, "(title, state labels, sampled, exact) panel")
    ncols = min(2, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    width = max(4.5, 0.35 * max(len(p[1]) for p in panels))
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=width, height=3.2)
    for k, (name, labels, sampled, exact) in enumerate(panels):
        ax = axes[k // ncols, k % ncols]
        x = np.arange(len(labels))
        ax.bar(x, sampled, color="0.6", label="sampled")
        ax.plot(x, exact, "o", color="C3", ms=5, label="exact")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=90 if len(labels) > 8 else 0, fontsize=7)
        ax.set_ylabel("probability")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols, k % ncols].axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_success_curve(
    path,
    curves: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    *,
    title: str = "",
):
    """Success probability against sweeps for each ``(label, sweeps, success, low, high)``,
    with the (low, high) confidence band shaded; sweeps on a log axis."""
    fig, axes = new_figure()
    ax = axes[0, 0]
    for k, (label, sweeps, success, low, high) in enumerate(curves):
        ax.plot(sweeps, success, "-o", ms=3, color=f"C{k}", label=label)
        ax.fill_between(sweeps, low, high, color=f"C{k}", alpha=0.2)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("sweeps")
    ax.set_ylabel("P(factor found)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
