"""Pictures of the variational methods: the graphical mean-field solution, m(T) by mean field,
Bethe and exact with the critical temperatures, ELBO traces, and the Gaussian posterior that
mean field shrinks."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from thermolearn.viz.figures import new_figure, require_items, save_figure


def plot_graphical_solution(
    path: str | os.PathLike,
    coordination: int = 4,
    coupling: float = 1.0,
    field: float = 0.0,
    ratios: Sequence[float] = (0.6, 1.0, 1.6),
) -> Path:
    """The Weiss equation solved graphically: tanh(beta (z J m + H)) against the line y = m, at
    T = ratio x T_c (T_c = z J). Intersections are the solutions (filled: stable, open: unstable);
    below T_c the slope z J / T at m = 0 exceeds 1 and two ordered solutions appear."""
    from thermolearn.variational.lattice_mean_field import mean_field_critical_temperature, mean_field_solutions

    tc = mean_field_critical_temperature(coordination, coupling)
    m = np.linspace(-1.2, 1.2, 481)
    fig, axes = new_figure(width=5.6, height=4.2)
    ax = axes[0, 0]
    ax.plot(m, m, color="black", lw=1.5, label="y = m")
    colors = ("tab:blue", "tab:purple", "tab:red", "tab:orange", "tab:green")
    for k, (ratio, color) in enumerate(zip(ratios, colors)):
        T = ratio * tc
        ax.plot(
            m,
            np.tanh((coordination * coupling * m + field) / T),
            color=color,
            lw=1.5,
            label=f"tanh(β(zJm+H)), T = {ratio:g} T_c",
        )
        for s in mean_field_solutions(T, coordination, coupling, field):
            # shrinking markers so solutions shared by several curves (m = 0) all stay visible
            ax.plot(
                [s.magnetization],
                [s.magnetization],
                "o",
                color=color,
                ms=12 - 3 * k,
                mew=1.5,
                mfc=color if s.stable else "white",
                zorder=3 + k,
            )
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-1.2, 1.2)
    ax.set_xlabel("magnetisation m")
    ax.set_ylabel("y")
    ax.set_title(
        f"mean field: m = tanh(β(zJm + H)), z = {coordination}, T_c = zJ = {tc:g}\n"
        "filled: stable solutions, open: unstable",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def plot_magnetization_curves(
    path: str | os.PathLike,
    temperatures: np.ndarray,
    curves: Mapping[str, np.ndarray | None],
    critical_temperatures: Mapping[str, float | None],
    points: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    title: str = "",
) -> Path:
    """m(T) curves (lines) with optional solver points (markers) and each method's T_c as a
    dotted vertical line in the curve's colour. Keys of ``curves``, ``critical_temperatures``
    and ``points`` are method labels (shared labels share a colour)."""
    colors = {}
    palette = ["tab:blue", "tab:green", "black", "tab:red", "tab:purple", "tab:orange"]
    labels = list(dict.fromkeys([*curves, *critical_temperatures, *(points or {})]))
    for k, label in enumerate(labels):
        colors[label] = palette[k % len(palette)]
    fig, axes = new_figure(width=6.4, height=4.2)
    ax = axes[0, 0]
    T = np.asarray(temperatures, dtype=float)
    for label, values in curves.items():
        if values is not None:
            ax.plot(T, values, color=colors[label], lw=2, label=label)
    for label, (t, m) in (points or {}).items():
        ax.plot(t, m, "o", color=colors[label], ms=4, mfc="white", label=f"{label} (solver on the lattice)")
    for label, tc in critical_temperatures.items():
        if tc is not None and tc > 0:
            ax.axvline(tc, color=colors[label], ls=":", lw=1.2)
            ax.annotate(
                f"T_c = {tc:.3f}",
                (tc, 1.02),
                color=colors[label],
                fontsize=8,
                ha="center",
                xycoords=("data", "axes fraction"),
            )
    ax.set_xlabel("temperature T")  # absolute (k_B = 1), as passed: not divided by J
    ax.set_ylabel("magnetisation per spin m")
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    if title:
        ax.set_title(title, pad=16)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_elbo_traces(
    path: str | os.PathLike,
    histories: Mapping[str, np.ndarray],
    references: Mapping[str, float],
    title: str = "",
    smooth: int = 20,
) -> Path:
    """ELBO estimates per optimisation step (running mean over ``smooth`` steps) against
    horizontal reference values (exact log Z, the mean-field bound, ...).

    A step whose estimate is not finite (NaN or -inf: a diverged Monte Carlo ELBO) leaves a gap
    in its running mean, and a reference that is not finite is named in the legend but not drawn;
    the y range comes from the finite values only. Every history needs at least one step.
    """
    require_items("histories", histories, "ELBO history (name -> estimates per step)")
    traces = {label: np.asarray(h, dtype=float).ravel() for label, h in histories.items()}
    for label, h in traces.items():  # checked before a figure is opened (none left behind)
        require_items(f"histories[{label!r}]", h, "step (an ELBO estimate per optimisation step)")
    fig, axes = new_figure(width=6.4, height=4.0)
    ax = axes[0, 0]
    lows = []
    for label, h in traces.items():
        k = max(1, min(smooth, h.size))
        running = np.convolve(h, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k, h.size + 1), running, lw=1.5, label=label)
        finite = running[np.isfinite(running)]
        if finite.size:
            # the 10th percentile: early steps far below the optimum would squeeze the converged part flat
            lows.append(float(np.percentile(finite, 10)))
    for (label, value), style in zip(references.items(), ("-", "--", "-.", ":")):
        if np.isfinite(value):
            ax.axhline(value, color="black", ls=style, lw=1, label=f"{label} = {value:.4f}")
        else:  # named in the legend, so that its absence from the axes is never silent
            ax.plot([], [], color="black", ls=style, lw=1, label=f"{label} = {value} (not drawn)")
    values = [float(v) for v in references.values() if np.isfinite(v)]
    if values and lows:
        top = max(values)
        bottom = min(min(lows), min(values))
        pad = 0.1 * (top - bottom + 1e-9)
        ax.set_ylim(bottom - pad, top + pad)
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("ELBO (nats)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def _ellipse(mean: np.ndarray, cov: np.ndarray, n_std: float = 2.0, points: int = 200) -> np.ndarray:
    vals, vecs = np.linalg.eigh(cov)
    t = np.linspace(0, 2 * np.pi, points)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (mean[:, None] + vecs @ (n_std * np.sqrt(vals)[:, None] * circle)).T


def plot_regression_posterior(path: str | os.PathLike, problem, result, true_weights: np.ndarray | None = None) -> Path:
    """Left: the exact posterior over two regression weights against the mean-field Gaussian
    (2-sigma ellipses: same centre, too narrow along the correlated direction). Right: the
    coordinate-ascent ELBO per sweep below the exact log evidence; the final gap is the KL."""
    mean, cov = problem.posterior()
    fig, axes = new_figure(ncols=2, width=4.8, height=4.0)
    ax = axes[0, 0]
    if mean.size >= 2:
        exact = _ellipse(mean[:2], cov[:2, :2])
        approx = _ellipse(result.mean[:2], np.diag(result.variances[:2]))
        ax.plot(exact[:, 0], exact[:, 1], color="black", lw=2, label="exact posterior (2σ)")
        ax.plot(approx[:, 0], approx[:, 1], color="tab:blue", lw=2, ls="--", label="mean-field q (2σ)")
        ax.plot([mean[0]], [mean[1]], "k+", ms=10)
        if true_weights is not None:
            ax.plot([true_weights[0]], [true_weights[1]], "r*", ms=10, label="true weights")
        ax.set_xlabel("w_1")
        ax.set_ylabel("w_2")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(fontsize=8)
        ax.set_title("posterior over the latent weights")
    ax = axes[0, 1]
    ax.plot(np.arange(result.history.size), result.history, "o-", ms=3, color="tab:blue", label="ELBO (CAVI sweeps)")
    ax.axhline(result.log_evidence, color="black", lw=1.5, label=f"log evidence = {result.log_evidence:.4f}")
    ax.set_xlabel("coordinate-ascent sweep")
    ax.set_ylabel("nats")
    span = max(result.gap, 1e-6)
    ax.set_ylim(result.elbo - 1.5 * span, result.log_evidence + 0.5 * span)
    ax.set_title(f"gap = KL(q || posterior) = {result.gap:.4f}")
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)
