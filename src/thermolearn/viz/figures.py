"""Saving matplotlib figures: headless backend, atomic PNG writes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no screen here or in CI; must precede pyplot's import
import matplotlib.pyplot as plt  # noqa: E402

from thermolearn.storage import atomic_write  # noqa: E402


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6):
    """A figure with a grid of axes sized ``width`` x ``height`` inches per panel."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically and close it."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ValueError(f"plots are written as PNG: the path must end in .png, got {target.name}")
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write(target, lambda handle: handle.write(buffer.getvalue()))


def plot_image_grid(
    path,
    images: np.ndarray,
    shape: tuple[int, int],
    *,
    title: str = "samples",
    ncols: int = 8,
    vmin: float = -1.0,
    vmax: float = 1.0,
):
    """A grid of images ``(n, h*w)`` in model coordinates (grey scale from vmin to vmax)."""
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    h, w = shape
    canvas = np.full((nrows * (h + 1) + 1, ncols * (w + 1) + 1), vmin, dtype=float)
    for k, img in enumerate(images):
        r, c = divmod(k, ncols)
        canvas[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = np.asarray(img).reshape(
            h, w
        )
    fig, axes = new_figure(width=0.45 * ncols * max(w, 8) / 8 + 0.5, height=0.45 * nrows * max(h, 8) / 8 + 0.6)
    ax = axes[0, 0]
    ax.imshow(
        np.clip(canvas, vmin, vmax),
        cmap="gray_r" if vmin == 0 else "gray",
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
    )
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)
