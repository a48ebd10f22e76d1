"""Pictures of neural samplers: the VAN's free energy against beta while it anneals, next to the
exact and mean-field free energies, and a neural MCMC run's energy trace."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thermolearn.viz.figures import new_figure, save_figure


def plot_van_training(
    path: str | os.PathLike,
    betas: np.ndarray,
    history: np.ndarray,
    *,
    reference_betas: Sequence[float] | np.ndarray,
    exact_free_energy: Sequence[float] | None,
    mean_field_free_energy: Sequence[float] | None,
    bound: float | None = None,
    bound_stderr: float | None = None,
    n_spins: int = 1,
    title: str = "",
) -> Path:
    """Left: beta F_q per spin (= -ln Z_q / N, dimensionless) of each training batch against its
    annealed beta, with the exact and mean-field beta F per spin (the VAN must stay above the exact
    curve). Right: the relative excess (F_q - F) / |F| of the batches (a running mean) against the
    training step, where F is known. Free energies in, totals, energy units."""
    fig, axes = new_figure(ncols=2, width=5.2, height=4.0)
    ax, gap_ax = axes[0, 0], axes[0, 1]
    b = np.asarray(betas, dtype=float)
    h = np.asarray(history, dtype=float)
    ax.plot(b, b * h / n_spins, ".", ms=2, color="tab:blue", alpha=0.5, label="VAN β F_q (training batches)")
    rb = np.asarray(reference_betas, dtype=float)
    if exact_free_energy is not None:
        ax.plot(rb, rb * np.asarray(exact_free_energy) / n_spins, "-", color="black", lw=1.5, label="exact β F")
    if mean_field_free_energy is not None:
        ax.plot(
            rb, rb * np.asarray(mean_field_free_energy) / n_spins, "--", color="tab:red", lw=1.5, label="mean field"
        )
    if bound is not None:
        ax.errorbar(
            [b[-1]],
            [b[-1] * bound / n_spins],
            yerr=[b[-1] * (bound_stderr or 0.0) / n_spins],
            fmt="o",
            color="tab:green",
            label="final bound (fresh samples)",
        )
    ax.set_xlabel("β (annealed)")
    ax.set_ylabel("β F per spin  (= -ln Z / N)")
    ax.legend(fontsize=8)
    steps = np.arange(1, h.size + 1)
    window = max(1, h.size // 50)
    if exact_free_energy is not None and len(rb) > 1:
        exact_at = np.interp(b, rb, np.asarray(exact_free_energy, dtype=float))
        relative = (h - exact_at) / np.abs(exact_at)
        smooth = np.convolve(relative, np.ones(window) / window, mode="valid")
        gap_ax.plot(steps[window - 1 :], smooth, color="tab:blue", lw=1.0, label=f"running mean of {window}")
        gap_ax.set_yscale("symlog", linthresh=1e-4)
        gap_ax.axhline(0, color="black", lw=0.8)
        gap_ax.set_ylabel("(F_q - F) / |F| at the annealed β")
        gap_ax.legend(fontsize=8)
    else:
        gap_ax.plot(steps, h / n_spins, color="tab:blue", lw=0.8)
        gap_ax.set_ylabel("F_q per spin")
    gap_ax.set_xlabel("training step")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_neural_mcmc(
    path: str | os.PathLike,
    energies: np.ndarray,
    *,
    exact_energy: float | None = None,
    overlap_distribution: tuple[np.ndarray, np.ndarray] | None = None,
    n_spins: int = 1,
    title: str = "",
) -> Path:
    """Left: the energy per spin of (up to four) chains against the sweep, with the exact mean
    where known. Right (when given): the overlap distribution P(q) between independent chains."""
    panels = 2 if overlap_distribution is not None else 1
    fig, axes = new_figure(ncols=panels, width=5.2, height=3.8)
    ax = axes[0, 0]
    e = np.asarray(energies, dtype=float) / n_spins
    for row in e[: min(4, e.shape[0])]:
        ax.plot(np.arange(1, row.size + 1), row, lw=0.6, alpha=0.8)
    if exact_energy is not None:
        ax.axhline(exact_energy / n_spins, color="black", lw=1.5, label="exact <E>")
        ax.legend(fontsize=8)
    ax.set_xlabel("sweep")
    ax.set_ylabel("energy per spin")
    if overlap_distribution is not None:
        centres, probabilities = overlap_distribution
        width = float(centres[1] - centres[0]) if len(centres) > 1 else 0.1
        axes[0, 1].bar(centres, probabilities, width=0.9 * width, color="tab:blue")
        axes[0, 1].set_xlabel("overlap q between independent chains")
        axes[0, 1].set_ylabel("P(q)")
        axes[0, 1].set_xlim(-1.05, 1.05)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
