"""Figures for restricted Boltzmann machines: filters, training curves, image repair."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.viz.figures import new_figure, save_figure


def plot_filters(
    path,
    weights: np.ndarray,
    image_shape: tuple[int, int],
    *,
    n: int = 64,
    ncols: int = 8,
    title: str = "filters (weights into each hidden unit)",
):
    """The weights W[:, j] of the first ``n`` hidden units drawn as images, each on its own
    symmetric colour scale (red positive, blue negative)."""
    w = np.asarray(weights, dtype=float)
    n = min(n, w.shape[1])
    nrows = int(np.ceil(n / ncols))
    h, wd = image_shape
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=0.8, height=0.8 * h / wd)
    for k in range(nrows * ncols):
        ax = axes[k // ncols, k % ncols]
        ax.set_axis_off()
        if k < n:
            img = w[:, k].reshape(h, wd)
            lim = float(np.max(np.abs(img))) or 1.0
            ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_training(
    path, reconstruction_error: np.ndarray, log_likelihood: np.ndarray | None = None, *, title: str = "training"
):
    """Reconstruction error per epoch and, where computed, the exact log-likelihood (nats/image)."""
    rec = np.asarray(reconstruction_error, dtype=float)
    ll = None if log_likelihood is None else np.asarray(log_likelihood, dtype=float)
    has_ll = ll is not None and np.isfinite(ll).any()
    fig, axes = new_figure(ncols=2 if has_ll else 1, width=4.2, height=3.0)
    epochs = np.arange(1, len(rec) + 1)
    axes[0, 0].plot(epochs, rec, "o-", ms=3)
    axes[0, 0].set_xlabel("epoch")
    axes[0, 0].set_ylabel("reconstruction error (per unit)")
    if has_ll:
        axes[0, 1].plot(epochs, ll, "o-", ms=3, color="C1")
        axes[0, 1].set_xlabel("epoch")
        axes[0, 1].set_ylabel("exact log-likelihood (nats/image)")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def _strip(images: np.ndarray, image_shape: tuple[int, int], k: int) -> np.ndarray:
    """``k`` images side by side on one canvas, one blank pixel apart (missing ones left blank)."""
    h, w = image_shape
    canvas = np.zeros((h, k * (w + 1) - 1))
    for c in range(min(k, len(images))):
        canvas[:, c * (w + 1) : c * (w + 1) + w] = np.asarray(images[c], dtype=float).reshape(h, w)
    return canvas


def plot_repair(
    path,
    rows: Sequence[tuple[str, np.ndarray]],
    image_shape: tuple[int, int],
    sweeps: np.ndarray,
    free_energy: np.ndarray,
    *,
    title: str = "image repair",
):
    """Rows of images (e.g. original, damaged, repaired; each ``(k, n_pixels)`` in [0, 1]) and
    the free energy F(v) of each image against the Gibbs sweep (``free_energy`` (records, k))."""
    k = max(len(imgs) for _, imgs in rows)
    h, w = image_shape
    strip_width = 0.75 * k * (w + 1) / max(h, w)
    fig, unused = new_figure(width=strip_width + 4.0, height=0.75 * len(rows) * max(1.0, h / w) + 0.6)
    unused[0, 0].remove()  # laid out on a grid of its own below
    grid = fig.add_gridspec(len(rows), 2, width_ratios=[strip_width, 3.2])
    for r, (label, imgs) in enumerate(rows):
        ax = fig.add_subplot(grid[r, 0])
        ax.imshow(_strip(imgs, image_shape, k), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, fontsize=8)
    ax = fig.add_subplot(grid[:, 1])
    ax.plot(np.asarray(sweeps), np.asarray(free_energy, dtype=float), lw=1)
    ax.set_xlabel("Gibbs sweep (known pixels clamped)")
    ax.set_ylabel("free energy F(v) (nats)")
    ax.set_title("F(v) falls as the image is restored", fontsize=8)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)
