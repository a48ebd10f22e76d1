"""Pictures of Hopfield networks: pattern grids before and after recall, energy traces,
restoration against corruption, and capacity curves against the load alpha = P / N."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.viz.figures import new_figure, require_items, save_figure

AGS_ALPHA_C = 0.138
AGS_OVERLAP = 0.967


def _image_shape(n: int, shape: Sequence[int] | None) -> tuple[int, int]:
    if shape is not None:
        return int(shape[0]), int(shape[1])
    side = int(round(np.sqrt(n)))
    return (side, side) if side * side == n else (1, n)


def plot_pattern_rows(
    path,
    rows: Sequence[tuple[str, np.ndarray]],
    image_shape: Sequence[int] | None = None,
    *,
    title: str = "",
    captions: Sequence[str] | None = None,
):
    """A grid of spin states: one row per ``(label, states (k, N))`` pair (e.g. stored,
    corrupted, recalled), +1 drawn black; ``captions`` go under the last row's images."""
    require_items("rows", rows, "(label, states) row")
    ncols = max(len(states) for _, states in rows)
    if ncols == 0:
        raise ValueError("rows hold no states: the plot needs at least one state (k >= 1) in some row")
    n = rows[0][1].shape[1]
    h, w = _image_shape(n, image_shape)
    cell = 0.9 if w > 1 else 2.0
    fig, axes = new_figure(ncols=ncols, nrows=len(rows), width=cell, height=max(0.9, cell * h / w) if w > 1 else 0.5)
    for r, (label, states) in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(states):
                ax.imshow(
                    np.asarray(states[c]).reshape(h, w),
                    cmap="gray_r",
                    vmin=-1,
                    vmax=1,
                    interpolation="nearest",
                    aspect="equal" if w > 1 else "auto",
                )
            else:
                ax.set_axis_off()
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            if captions is not None and r == len(rows) - 1 and c < len(captions):
                ax.set_xlabel(captions[c], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_energy_traces(
    path,
    traces: Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    *,
    title: str = "energy during recall",
    xlabel: str = "sweep",
):
    """Energy against sweep for several recalls (one line each)."""
    fig, axes = new_figure(width=5.0, height=3.2)
    ax = axes[0, 0]
    for k, trace in enumerate(traces):
        ax.plot(np.arange(len(trace)), trace, "o-", ms=3, lw=1, label=None if labels is None else labels[k])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("E(s)")
    ax.set_title(title, fontsize=10)
    if labels is not None and len(labels) <= 10:
        ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_restoration(
    path,
    levels: np.ndarray,
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    mode: str = "flip",
    ylabel: str = "fraction restored",
):
    """Fraction of corrupted patterns restored against the corruption level, one line per
    network: ``curves[label] = (fractions, standard errors)``."""
    fig, axes = new_figure(width=5.0, height=3.2)
    ax = axes[0, 0]
    for label, (frac, err) in curves.items():
        ax.errorbar(levels, frac, yerr=err, marker="o", ms=3, capsize=2, label=label)
    ax.set_xlabel(f"fraction of units {'flipped' if mode == 'flip' else 'masked'}")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_capacity(path, results: Sequence, *, title: str = ""):
    """Mean final overlap (left) and fraction retrieved (right) against alpha = P / N for one or
    more :class:`~thermolearn.learning.capacity.CapacityResult`, with the Hebbian theory
    (alpha_c = 0.138, m = 0.967 just below it) marked."""
    require_items("results", results, "CapacityResult")
    fig, axes = new_figure(ncols=2, width=4.6, height=3.4)
    top = max(float(r.loads[-1]) for r in results)
    for k, r in enumerate(results):
        label = f"{r.rule} (N = {r.n_neurons})"
        if r.alpha_c is not None:
            label += f", $\\alpha_c$ = {r.alpha_c:.3f}" + (f" ± {r.alpha_c_stderr:.3f}" if r.alpha_c_stderr else "")
        axes[0, 0].errorbar(
            r.loads, r.overlap, yerr=r.overlap_stderr, marker="o", ms=2.5, lw=1, capsize=1.5, color=f"C{k}", label=label
        )
        axes[0, 1].errorbar(
            r.loads,
            r.retrieval_fraction,
            yerr=r.retrieval_fraction_stderr,
            marker="o",
            ms=2.5,
            lw=1,
            capsize=1.5,
            color=f"C{k}",
        )
    for ax in axes[0]:
        ax.axvline(AGS_ALPHA_C, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel(r"load $\alpha = P/N$")
        ax.set_xscale("log" if top > 2.0 else "linear")
    axes[0, 0].plot([AGS_ALPHA_C], [AGS_OVERLAP], "k*", ms=8, label="AGS 1985: m = 0.967 at 0.138")
    axes[0, 0].set_ylabel("final overlap m (started at the pattern)")
    axes[0, 1].set_ylabel("fraction retrieved (m ≥ 0.9)")
    axes[0, 1].axhline(0.5, color="0.7", lw=0.6)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    save_figure(fig, path)
