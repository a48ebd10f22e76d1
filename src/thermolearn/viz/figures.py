"""Saving matplotlib figures: headless backend, atomic PNG writes."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sized
from pathlib import Path

import matplotlib
import numpy as np
from numpy.typing import ArrayLike

matplotlib.use("Agg")  # no screen here or in CI; must precede pyplot's import
import matplotlib.pyplot as plt  # noqa: E402

from thermolearn.storage import atomic_write  # noqa: E402


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6):
    """A figure with a grid of axes sized ``width`` x ``height`` inches per panel."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


NO_ERROR_BAR_NOTE = "open markers: no error bar"
"""Legend or caption text for points drawn by :func:`errorbar_marking_missing` without an error bar."""


def require_items(name: str, items: Sized, needed: str) -> None:
    """Raise ``ValueError`` naming the argument ``name`` when ``items`` is empty.

    A figure of nothing would otherwise fail deep inside matplotlib (``max()`` of an empty
    sequence, a grid of zero columns) with a message naming neither the argument nor the fix.
    """
    if len(items) == 0:
        raise ValueError(f"{name} is empty: the plot needs at least one {needed}")


def finite_range(*arrays: ArrayLike) -> tuple[float, float] | None:
    """The smallest and largest finite value over ``arrays`` (None when no value is finite).

    Axis limits come from here: a diverged estimate (NaN, +-inf) in a trace stays a gap in its
    line instead of making matplotlib refuse the limits ("Axis limits cannot be NaN or Inf").
    """
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays]) if arrays else np.empty(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return float(values.min()), float(values.max())


def as_errors(errors: Iterable[float | None] | ArrayLike) -> np.ndarray:
    """Standard errors as floats with a missing one (``None``, NaN, inf, negative) made NaN.

    NaN is matplotlib's "no bar": a missing error must never become 0, which draws the point as
    if it were exact.
    """
    raw = np.asarray(errors, dtype=object)
    out = np.array([np.nan if e is None else float(e) for e in raw.ravel()], dtype=float).reshape(raw.shape)
    with np.errstate(invalid="ignore"):
        out[~np.isfinite(out) | (out < 0)] = np.nan
    return out


def errorbar_marking_missing(
    ax,
    x: ArrayLike,
    y: ArrayLike,
    errors: Iterable[float | None] | ArrayLike,
    *,
    color,
    label: str | None = None,
    line: bool = False,
    ms: float = 4.0,
    capsize: float = 2.0,
) -> int:
    """Points with one-standard-error bars; points whose error is missing as open markers, no bar.

    ``errors`` may hold ``None`` or NaN where no error bar could be estimated (one block, a
    failed fit); those points are drawn hollow so that a reader never takes them for exact
    values. ``line`` joins all finite points in order. Returns how many points have no error
    bar, so that the caller can add :data:`NO_ERROR_BAR_NOTE` to its legend or caption.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    err = as_errors(errors)
    if not (x.shape == y.shape == err.shape):
        raise ValueError(f"x, y and errors must have one shape, got {x.shape}, {y.shape} and {err.shape}")
    missing = np.isnan(err) & np.isfinite(y)
    barred = ~np.isnan(err)
    if line:
        ax.plot(x, y, "-", color=color, lw=1)
    if barred.any():
        ax.errorbar(x[barred], y[barred], yerr=err[barred], fmt="o", ms=ms, capsize=capsize, color=color, label=label)
    if missing.any():
        # the label goes to the filled series; with none filled, the open markers carry it
        ax.plot(
            x[missing],
            y[missing],
            "o",
            ms=ms,
            color=color,
            mfc="none",
            ls="none",
            label=label if not barred.any() else None,
        )
    return int(missing.sum())


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
