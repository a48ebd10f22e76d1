"""Pictures of the transverse-field Ising model: low spectra against the field, ln Z against T with the
exact curve, PIMC estimates against the Trotter number with the a + b/M^2 extrapolation, and the
energies of quantum and classical annealing reads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.viz.figures import new_figure, require_items, save_figure


def plot_spectrum_scan(path, fields: np.ndarray, levels: np.ndarray, *, n_spins: int, title: str = ""):
    """Left: the lowest levels E_k(h) - E_0(h) against the transverse field; right: E_0 / N.

    ``levels`` has shape (n_fields, n_levels), totals in units of J.
    """
    fig, axes = new_figure(ncols=2, width=4.2, height=3.2)
    fields = np.asarray(fields, dtype=float)
    levels = np.asarray(levels, dtype=float)
    ax = axes[0, 0]
    for k in range(1, levels.shape[1]):
        ax.plot(fields, levels[:, k] - levels[:, 0], "o-", ms=3, label=f"E_{k} - E_0")
    ax.set_xlabel("transverse field h (units of J)")
    ax.set_ylabel("excitation energy")
    ax.set_title(title or "low spectrum", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    ax.plot(fields, levels[:, 0] / n_spins, "o-", ms=3, color="C3")
    ax.set_xlabel("transverse field h (units of J)")
    ax.set_ylabel("E_0 / N")
    ax.set_title("ground-state energy per spin", fontsize=9)
    return save_figure(fig, path)


def plot_log_z(
    path,
    temperatures: np.ndarray,
    log_z: np.ndarray,
    *,
    curve: tuple[np.ndarray, np.ndarray] | None = None,
    curve_label: str = "exact",
    label: str = "diagonalisation",
    title: str = "",
):
    """ln Z against T: the computed points and, when given, an exact curve (free fermions or ED on a grid)."""
    fig, axes = new_figure(width=4.6, height=3.4)
    ax = axes[0, 0]
    if curve is not None:
        ax.plot(curve[0], curve[1], "-", color="0.4", lw=1.2, label=curve_label)
    ax.plot(temperatures, log_z, "o", color="C0", label=label)
    ax.set_xlabel("temperature T (units of J)")
    ax.set_ylabel("ln Z")
    ax.set_title(title or "partition function", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_trotter_extrapolation(
    path,
    slices: Sequence[int],
    means: Sequence[float],
    stderrs: Sequence[float],
    *,
    trotter_exact: Sequence[float | None] | None = None,
    exact: float | None = None,
    fit: tuple[float, float] | None = None,
    title: str = "",
):
    """PIMC energy against 1/M^2 with error bars, the exact Trotterised values, the fit a + b/M^2 and
    the exact (M -> infinity) energy."""
    fig, axes = new_figure(width=4.8, height=3.5)
    ax = axes[0, 0]
    M = np.asarray(slices, dtype=float)
    x = 1.0 / M**2
    ax.errorbar(x, means, yerr=stderrs, fmt="o", color="C0", capsize=3, label="PIMC")
    if trotter_exact is not None and all(v is not None for v in trotter_exact):
        ax.plot(x, list(trotter_exact), "x", color="C1", ms=8, label="exact Trotterised")
    if fit is not None:
        grid = np.linspace(0.0, x.max() * 1.05, 50)
        ax.plot(grid, fit[0] + fit[1] * grid, "--", color="C2", label=f"a + b/M^2, a = {fit[0]:.4f}")
    if exact is not None:
        ax.plot([0.0], [exact], "*", color="C3", ms=11, label=f"exact {exact:.4f}")
    ax.set_xlabel("1 / M^2")
    ax.set_ylabel("energy E (units of J)")
    ax.set_title(title or "Trotter extrapolation", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_anneal_energies(path, energies: dict[str, np.ndarray], *, n_spins: int, title: str = ""):
    """Histogram of every read's final energy per spin, one colour per method, best marked.

    Every method needs at least one read with a finite energy (the best one is marked)."""
    require_items("energies", energies, "method (name -> final energy of each read)")
    series = {}
    for name, values in energies.items():  # checked before a figure is opened (none left behind)
        e = np.asarray(values, dtype=float).ravel() / n_spins
        require_items(f"energies[{name!r}]", e, "read")
        finite = e[np.isfinite(e)]  # np.histogram refuses a range that is not finite
        require_items(f"energies[{name!r}]", finite, "read with a finite energy")
        series[name] = (finite, e.size - finite.size)
    fig, axes = new_figure(width=4.8, height=3.4)
    ax = axes[0, 0]
    for k, (name, (e, dropped)) in enumerate(series.items()):
        label = f"{name} (best {e.min():.4f})" + (f", {dropped} reads not finite" if dropped else "")
        ax.hist(e, bins=min(30, max(5, e.size)), alpha=0.55, color=f"C{k}", label=label)
        ax.axvline(e.min(), color=f"C{k}", lw=1.0)
    ax.set_xlabel("energy per spin (units of J)")
    ax.set_ylabel("reads")
    ax.set_title(title or "annealing reads", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
