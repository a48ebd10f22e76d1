"""Pictures of renormalisation: the 1D decimation flow, Migdal-Kadanoff flow diagrams with
their fixed points, and MCRG exponents against the blocking level with error bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.viz.figures import NO_ERROR_BAR_NOTE, errorbar_marking_missing, new_figure, require_items, save_figure


def plot_chain_flow(path, couplings: np.ndarray, free_energy_by_level: np.ndarray, exact: float, *, b: int):
    """Left: K_n against the level n (flow to the disordered fixed point K = 0); right: ln Z / N
    assembled at each level against the exact value (invariant along the flow)."""
    fig, axes = new_figure(ncols=2, width=4.5, height=3.2)
    n = np.arange(len(couplings))
    ax = axes[0, 0]
    ax.plot(n, couplings, "o-", color="C0")
    ax.set_xlabel("level n")
    ax.set_ylabel("K_n")
    ax.set_title(f"1D decimation by b = {b}", fontsize=9)
    ax = axes[0, 1]
    ax.plot(n, free_energy_by_level - exact, "o-", color="C3")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("level n")
    ax.set_ylabel("ln Z/N (flow) - exact")
    ax.set_title("F invariant along the flow", fontsize=9)
    return save_figure(fig, path)


def plot_mk_flow(path, curves: Sequence[tuple[str, np.ndarray, np.ndarray, float]], *, k_max: float = 1.0):
    """One panel per ``(title, K grid, K' on the grid, K*)``: the recursion against the diagonal,
    a staircase of iterations from starts on either side of K*, and the fixed point marked."""
    require_items("curves", curves, "(title, K grid, K' on the grid, K*) curve")
    fig, axes = new_figure(ncols=len(curves), width=3.8, height=3.4)
    for k, (title, grid, image, k_star) in enumerate(curves):
        ax = axes[0, k]
        ax.plot(grid, image, color="C0", label="K'(K)")
        ax.plot(grid, grid, color="0.5", lw=0.8, label="K' = K")
        for start in (0.8 * k_star, 1.08 * k_star):
            x = start
            for _ in range(8):
                y = float(np.interp(x, grid, image))
                if not np.isfinite(y) or y > grid[-1]:
                    break
                ax.plot([x, x, y], [x, y, y], color="C1", lw=0.7)
                x = y
        ax.plot([k_star], [k_star], "o", color="C3", label=f"K* = {k_star:.4f}")
        ax.set_xlim(0, grid[-1])
        ax.set_ylim(0, grid[-1])
        ax.set_xlabel("K")
        ax.set_ylabel("K'")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_mcrg_exponents(path, levels: Sequence[dict], *, y_t_exact: float | None, y_h_exact: float | None, title=""):
    """y_T and y_h against the blocking level with bootstrap error bars, the exact values dashed.

    A level whose bootstrap gave no error (stderr None) is an open marker without a bar, named in
    the legend: never a bar of zero, which would claim an exact exponent."""
    require_items("levels", levels, "blocking level (a dict with level, y_t and y_h {mean, stderr})")
    fig, axes = new_figure(ncols=2, width=4.0, height=3.2)
    n = [lv["level"] for lv in levels]
    for ax, key, exact, label in ((axes[0, 0], "y_t", y_t_exact, "y_T"), (axes[0, 1], "y_h", y_h_exact, "y_h")):
        mean = [np.nan if lv[key]["mean"] is None else lv[key]["mean"] for lv in levels]
        err = [lv[key]["stderr"] for lv in levels]
        if errorbar_marking_missing(ax, n, mean, err, color="C0", label="MCRG", line=True, capsize=3.0):
            ax.plot([], [], "o", color="C0", mfc="none", ls="none", label=NO_ERROR_BAR_NOTE)
        if exact is not None:
            ax.axhline(exact, color="C3", ls="--", lw=1, label=f"exact {exact:.4g}")
        ax.set_xlabel("blocking level")
        ax.set_ylabel(label)
        ax.set_xticks(n)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_rbm_rg(path, fields: Sequence[np.ndarray], kernels: Sequence[np.ndarray], record: dict, *, n_units: int = 4):
    """The RBM-as-RG experiment in one figure. Per level (rows): the receptive fields of
    ``n_units`` hidden units (|W| on the input lattice, gauge-fixed weights in lattice order) next
    to the majority-rule kernel of the same coarse site; last column: the fitted nn coupling K_nn
    per level for the three ensembles, RBM (solid) and block spins (dashed)."""
    levels = len(fields)
    fig, axes = new_figure(ncols=2 * n_units + 1, nrows=levels, width=1.6, height=1.7)
    names = ("below", "critical", "above")
    for m in range(levels):
        w, kern = np.asarray(fields[m]), np.asarray(kernels[m])
        side = int(round(np.sqrt(w.shape[0])))
        # units spread over the coarse lattice (sites 0, n/4, ...), each next to its block kernel
        picks = np.linspace(0, w.shape[1] - 1, n_units).round().astype(int)
        for k, j in enumerate(picks):
            for col, (mat, label) in enumerate(((w, "RBM"), (kern, "block"))):
                ax = axes[m, 2 * k + col]
                img = mat[:, j].reshape(side, side)
                lim = float(np.max(np.abs(img))) or 1.0
                ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"L{m + 1} {label} {j}", fontsize=6)
        ax = axes[m, -1]
        if m:
            ax.axis("off")
            continue
        layers = record["layers"]
        x = np.arange(len(layers) + 1)
        for c, name in enumerate(names):
            base = record["couplings"][name]
            for mapping, style in (("rbm", "o-"), ("block", "s--")):
                ys = [base] + [np.nan if lv[mapping][name]["coupling"] is None else lv[mapping][name]["coupling"]
                               for lv in layers]  # fmt: skip
                ax.plot(x, ys, style, color=f"C{c}", ms=3, lw=1, label=f"{mapping} {name}")
        ax.set_xticks(x)
        ax.set_xlabel("level", fontsize=7)
        ax.set_ylabel("K_nn", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=4)
    return save_figure(fig, path)
