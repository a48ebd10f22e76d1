"""Damaged images: which pixels of a batch are unknown, for repair by clamped sampling.

An energy-based model restores an image by clamping the pixels it knows and sampling the
rest from p(unknown | known); this module only says which pixels are unknown.
"""

from __future__ import annotations

import numpy as np

from thermolearn.validation import check_positive_int

DAMAGE_KINDS = ("mask", "noise")
"""How damaged pixels are filled: ``mask`` erases them to 0, ``noise`` replaces them by random bits."""
REGIONS = ("random", "top", "bottom", "left", "right")
"""Which pixels are damaged: a random fraction of each image, or one half of the image."""


def damage_mask(
    n_images: int, image_shape: tuple[int, int], region: str, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask of shape (n_images, h * w): True where a pixel is damaged (unknown to the model).

    ``image_shape`` is ``(h, w)``, two positive integers (pixels); ``region`` is one of
    :data:`REGIONS`; ``fraction`` (in (0, 1)) is the share of pixels damaged for
    ``region="random"``, drawn independently per pixel from ``rng``; a half-image region
    damages rows ``h // 2:`` (bottom), ``:h // 2`` (top), or the same columns (right, left).
    """
    n_images = check_positive_int("n_images", n_images)
    try:
        sides = tuple(image_shape)
    except TypeError:
        raise TypeError(f"image_shape must be (height, width), got {image_shape!r}") from None
    if len(sides) != 2:
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}")
    # integers only: a side of 28.7 truncated to 28 would mask the wrong pixels of every row
    h, w = (check_positive_int("image_shape", s) for s in sides)
    if region not in REGIONS:
        raise ValueError(f"region must be one of {', '.join(REGIONS)}, got {region!r}")
    if region == "random":
        if not 0.0 < float(fraction) < 1.0:
            raise ValueError(f"fraction must be in (0, 1) for region='random', got {fraction}")
        return rng.random((n_images, h * w)) < fraction
    grid = np.zeros((h, w), dtype=bool)
    if region == "top":
        grid[: h // 2] = True
    elif region == "bottom":
        grid[h // 2 :] = True
    elif region == "left":
        grid[:, : w // 2] = True
    else:
        grid[:, w // 2 :] = True
    return np.broadcast_to(grid.reshape(-1), (n_images, h * w)).copy()
