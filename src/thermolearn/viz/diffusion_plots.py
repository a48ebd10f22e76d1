"""Pictures of diffusion models: the paper's Swiss-roll figure, sample grids, losses, bound terms."""

from __future__ import annotations

import numpy as np

from thermolearn.viz.figures import new_figure, save_figure


def _scatter(ax, pts, title, lim=2.6, color="C0"):
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, color=color, linewidths=0)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_diffusion_2d(path, forward: np.ndarray, reverse: np.ndarray, drift, *, grid: int = 21, lim: float = 2.6):
    """Sohl-Dickstein et al.'s Figure 1 for 2D data: rows forward q, reverse p, drift; columns t = 0, T/2, T.

    ``forward`` and ``reverse`` are trajectories ``(T + 1, n, 2)`` indexed by t; ``drift(points, t)``
    returns mu(x_t, t) - x_t (the reverse step's mean displacement), drawn as arrows at t = 1, T/2, T
    over the reverse samples at that step.
    """
    T = forward.shape[0] - 1
    times = (0, T // 2, T)
    fig, axes = new_figure(ncols=3, nrows=3, width=3.2, height=3.2)
    for j, t in enumerate(times):
        _scatter(axes[0, j], forward[t], f"forward q(x$_{{{t}}}$)", lim)
        _scatter(axes[1, j], reverse[t], f"reverse p(x$_{{{t}}}$)", lim, color="C1")
        td = max(t, 1)
        g = np.linspace(-lim * 0.9, lim * 0.9, grid)
        gx, gy = np.meshgrid(g, g)
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        d = drift(pts, td)
        ax = axes[2, j]
        _scatter(ax, reverse[td], f"drift $\\mu(x_{{{td}}}, {td}) - x_{{{td}}}$", lim, color="0.7")
        factor = (g[1] - g[0]) / max(float(np.max(np.linalg.norm(d, axis=1))), 1e-12)  # longest arrow = grid spacing
        ax.quiver(
            pts[:, 0],
            pts[:, 1],
            d[:, 0] * factor,
            d[:, 1] * factor,
            angles="xy",
            scale_units="xy",
            scale=1.0,
            width=0.004,
            color="C3",
        )
    save_figure(fig, path)


def plot_losses(path, losses: np.ndarray, *, title: str = "training loss"):
    fig, axes = new_figure(width=5.0, height=3.2)
    ax = axes[0, 0]
    losses = np.asarray(losses, dtype=float)
    k = max(1, len(losses) // 200)
    smooth = np.convolve(losses, np.ones(k) / k, mode="valid") if len(losses) >= k else losses
    ax.plot(np.arange(len(smooth)) + k, smooth)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)


def plot_bound_terms(path, kl_bits: np.ndarray, reconstruction_bits: float, prior_bits: float, *, unit: str = "bits"):
    """The bound's terms against the step t: log p(x_0|x_1) at t = 1, -KL at t = 2..T, the prior at T + 1."""
    T = len(kl_bits) + 1
    fig, axes = new_figure(width=6.0, height=3.2)
    ax = axes[0, 0]
    ax.bar([1], [reconstruction_bits], color="C2", label="log p(x0|x1)")
    ax.bar(np.arange(2, T + 1), kl_bits, color="C0", label="-KL at step t")
    ax.bar([T + 1], [prior_bits], color="C3", label="-KL prior")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("step t")
    ax.set_ylabel(unit)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_entropy_bounds(path, lower_bits: np.ndarray, upper_bits: np.ndarray, learned_bits: np.ndarray | None = None):
    """The paper's bounds on the reverse step's entropy per dimension against t, with the learned one."""
    T = len(upper_bits)
    t = np.arange(1, T + 1)
    fig, axes = new_figure(width=5.0, height=3.2)
    ax = axes[0, 0]
    lo = np.where(np.isfinite(lower_bits), lower_bits, np.nan)
    ax.fill_between(t, lo, upper_bits, color="C0", alpha=0.25, label="allowed (paper's bounds)")
    ax.plot(t, upper_bits, "C0-", lw=1)
    ax.plot(t, lo, "C0-", lw=1)
    if learned_bits is not None:
        ax.plot(t, learned_bits, "C1o-", ms=3, label="learned reverse step")
    ax.set_xlabel("step t")
    ax.set_ylabel("H(x$_{t-1}$ | x$_t$) per dim (bits)")
    ax.legend(fontsize=8)
    save_figure(fig, path)
