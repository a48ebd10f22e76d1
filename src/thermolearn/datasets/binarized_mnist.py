"""The fixed binarised MNIST of Larochelle & Murray (2011), and binarisation of grey images.

The ``.amat`` files (``binarized_mnist_{train,valid,test}.amat``, 50,000 / 10,000 / 10,000
images, optionally gzipped) hold one image per line: 784 values ``0`` or ``1`` separated by
single spaces. Each line is therefore exactly 1,568 bytes, which lets the reader check the
whole file and decode it without a text parser. :func:`binarize` turns grey images into
{0, 1} pixels either by a fixed threshold or by sampling each pixel as a Bernoulli variable
with its intensity as probability ("dynamic" binarisation, seeded).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from thermolearn.datasets.mnist import open_inflated
from thermolearn.randomness.seeds import SeedLike, numpy_generator
from thermolearn.resources import check_memory

BINARIZED_MNIST_SPLITS = ("train", "valid", "test")
BINARIZED_MNIST_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
BINARIZATION_METHODS = ("threshold", "bernoulli")
_PIXELS = 784
_LINE = 2 * _PIXELS  # "d " * 783 + "d\n"
AMAT_MAX_IMAGES = 200_000
"""The most lines (images) an ``.amat`` file may hold: four times the largest real split
(train: 50,000 images, 78,400,000 bytes of text). A file that would inflate past
``AMAT_MAX_IMAGES * 1,568`` bytes (313.6 MB) is refused as it is read, never inflated in full."""
_BLOCK_LINES = 1024  # lines checked and decoded at a time (1.6 MB of text)


def _named_split(path: Path) -> str | None:
    """The split a lone ``.amat`` file's name says (``binarized_mnist_test.amat.gz``: test), or None."""
    for split in BINARIZED_MNIST_SPLITS:
        if path.name in (f"binarized_mnist_{split}.amat", f"binarized_mnist_{split}.amat.gz"):
            return split
    return None


def binarized_mnist_file(path: str | os.PathLike, split: str = "train") -> Path:
    """The ``.amat`` file of ``split`` in folder ``path`` (or ``path`` itself when it is a file).

    A lone file is one split: the one its name says, else ``train``; asking it for another
    split is refused (its images would be scored as held-out data, or serve as base rates
    for the very images scored).
    """
    if split not in BINARIZED_MNIST_SPLITS:
        raise ValueError(f"split must be one of {BINARIZED_MNIST_SPLITS}, got {split!r}")
    source = Path(path)
    if source.is_file():
        named = _named_split(source)
        holds = named or "train"
        if split != holds:
            what = f"the {named!r} split by its name" if named else "the 'train' split (its name names no split)"
            raise ValueError(
                f"{source} is one .amat file, {what}; it has no {split!r} split: ask for split {holds!r}, or "
                "give the folder holding the binarized_mnist_{train,valid,test}.amat[.gz] files"
            )
        return source
    if source.is_dir():
        for name in (f"binarized_mnist_{split}.amat", f"binarized_mnist_{split}.amat.gz"):
            if (source / name).is_file():
                return source / name
        raise ValueError(f"{source} has no binarized_mnist_{split}.amat[.gz]")
    raise ValueError(f"no such binarised-MNIST file or folder: {source}")


def is_binarized_mnist(path: str | os.PathLike) -> bool:
    """True when ``path`` is an ``.amat[.gz]`` file or a folder holding binarised-MNIST files."""
    source = Path(path)
    if source.is_file():
        return source.name.endswith((".amat", ".amat.gz"))
    return source.is_dir() and any(source.glob("binarized_mnist_*.amat*"))


def load_binarized_mnist(path: str | os.PathLike, *, split: str = "train", limit: int | None = None) -> np.ndarray:
    """Binarised MNIST images as a uint8 array ``(n, 784)`` of 0 and 1.

    ``path`` is a folder holding ``binarized_mnist_{split}.amat`` (or ``.amat.gz``), or one
    such file (see :func:`binarized_mnist_file` for its split). ``limit`` keeps the first
    ``limit`` images; the whole file is checked all the same. A file is read as a stream, a
    block of lines at a time, and refused as soon as it holds more than
    :data:`AMAT_MAX_IMAGES` lines.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    source = binarized_mnist_file(path, split)
    max_bytes = AMAT_MAX_IMAGES * _LINE

    def not_amat(n_bytes: int) -> ValueError:
        return ValueError(
            f"{source} is not a binarised-MNIST .amat file: {n_bytes} bytes is not a whole number of "
            f"{_PIXELS}-pixel lines of {_LINE} bytes"
        )

    def too_big() -> ValueError:
        return ValueError(
            f"{source} holds more than {AMAT_MAX_IMAGES:,} lines of {_PIXELS} pixels ({max_bytes:,} bytes), the most "
            "a binarised-MNIST .amat file may hold (its largest split has 50,000)"
        )

    with open_inflated(source) as content:
        if not content.compressed:  # the size is known before reading
            if content.disk_bytes > max_bytes:
                raise too_big()
            if not content.disk_bytes or content.disk_bytes % _LINE:
                raise not_amat(content.disk_bytes)
        most = (max_bytes if content.compressed else content.disk_bytes) // _LINE
        most = most if limit is None else min(most, int(limit))
        check_memory(f"{source} ({most:,} binarised images)", float(most) * _PIXELS, hint="give a smaller limit")
        kept: list[np.ndarray] = []
        n_kept = 0
        total = 0
        block = np.empty(_BLOCK_LINES * _LINE, dtype=np.uint8)
        while got := content.fill(block.data):
            total += got
            if total > max_bytes:
                raise too_big()
            if got % _LINE:  # a short block is the last one, so total is the file's size
                raise not_amat(total)
            lines = block[:got].reshape(-1, _LINE)
            separators = lines[:, 1::2]
            if not (np.all(separators[:, :-1] == ord(" ")) and np.all(separators[:, -1] == ord("\n"))):
                raise ValueError(
                    f"{source} is not a binarised-MNIST .amat file: expected 784 values separated by single spaces "
                    "on each line"
                )
            digits = lines[:, 0::2] - np.uint8(ord("0"))  # other characters wrap around to large values
            if digits.max(initial=0) > 1:
                raise ValueError(f"{source} holds values other than 0 and 1")
            if limit is None or n_kept < limit:
                take = len(digits) if limit is None else min(len(digits), int(limit) - n_kept)
                kept.append(digits[:take].copy())
                n_kept += take
        if not total:
            raise not_amat(0)
    return np.concatenate(kept)


def binarize(images: np.ndarray, *, method: str = "threshold", levels: int = 256, seed: SeedLike = None) -> np.ndarray:
    """Grey images with integer levels ``0..levels-1`` to {0, 1} pixels (uint8).

    ``threshold``: a pixel is 1 when it is at least half of the full range. ``bernoulli``:
    a pixel is 1 with probability ``value / (levels - 1)`` (dynamic binarisation; pass
    ``seed`` for the same images every time).
    """
    if method not in BINARIZATION_METHODS:
        raise ValueError(f"binarisation must be one of {BINARIZATION_METHODS}, got {method!r}")
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ValueError(f"levels must be an integer >= 2, got {levels!r}")
    x = np.asarray(images)
    if x.size and (np.isnan(x).any() or x.min() < 0 or x.max() > levels - 1):  # NaN first: min/max skip none
        raise ValueError(f"images must hold grey levels in [0, {levels - 1}]")
    if x.size and np.issubdtype(x.dtype, np.inexact) and not np.array_equal(x, np.round(x)):
        # a fractional grey (already rescaled to [0, 1]?) would be thresholded against the wrong range
        raise ValueError(
            f"images must hold integer grey levels 0..{levels - 1}; got fractional values "
            f"(e.g. {x[x != np.round(x)].flat[0]!r}): pass the raw levels, not rescaled images"
        )
    if method == "threshold":
        return (x >= (levels - 1) / 2.0).astype(np.uint8)
    rng = numpy_generator(seed)
    return (rng.random(x.shape) < x / (levels - 1)).astype(np.uint8)
