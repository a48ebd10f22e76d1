"""The fixed binarised MNIST of Larochelle & Murray (2011), and binarisation of grey images.

The ``.amat`` files (``binarized_mnist_{train,valid,test}.amat``, 50,000 / 10,000 / 10,000
images, optionally gzipped) hold one image per line: 784 values ``0`` or ``1`` separated by
single spaces. Each line is therefore exactly 1,568 bytes, which lets the reader check the
whole file and decode it without a text parser. :func:`binarize` turns grey images into
{0, 1} pixels either by a fixed threshold or by sampling each pixel as a Bernoulli variable
with its intensity as probability ("dynamic" binarisation, seeded).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from thermolearn.randomness.seeds import numpy_generator

BINARIZED_MNIST_SPLITS = ("train", "valid", "test")
BINARIZED_MNIST_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
BINARIZATION_METHODS = ("threshold", "bernoulli")
_PIXELS = 784
_LINE = 2 * _PIXELS  # "d " * 783 + "d\n"


def binarized_mnist_file(path: str | os.PathLike, split: str = "train") -> Path:
    """The ``.amat`` file of ``split`` in folder ``path`` (or ``path`` itself when it is a file)."""
    if split not in BINARIZED_MNIST_SPLITS:
        raise ValueError(f"split must be one of {BINARIZED_MNIST_SPLITS}, got {split!r}")
    source = Path(path)
    if source.is_file():
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
    such file (then ``split`` is ignored). ``limit`` keeps the first ``limit`` images.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    source = binarized_mnist_file(path, split)
    raw = source.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{source} is not a readable gzip file: {exc}") from None
    if not raw or len(raw) % _LINE:
        raise ValueError(
            f"{source} is not a binarised-MNIST .amat file: {len(raw)} bytes is not a whole number of "
            f"{_PIXELS}-pixel lines of {_LINE} bytes"
        )
    lines = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _LINE)
    if limit is not None:
        lines = lines[:limit]
    separators = lines[:, 1::2]
    if not (np.all(separators[:, :-1] == ord(" ")) and np.all(separators[:, -1] == ord("\n"))):
        raise ValueError(
            f"{source} is not a binarised-MNIST .amat file: expected 784 values separated by single spaces on each line"
        )
    digits = lines[:, 0::2] - np.uint8(ord("0"))
    if digits.max(initial=0) > 1:
        raise ValueError(f"{source} holds values other than 0 and 1")
    return np.ascontiguousarray(digits)


def binarize(images: np.ndarray, *, method: str = "threshold", levels: int = 256, seed=None) -> np.ndarray:
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
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > levels - 1 or np.isnan(x).any()):
        raise ValueError(f"images must hold grey levels in [0, {levels - 1}]")
    if method == "threshold":
        return (x >= (levels - 1) / 2.0).astype(np.uint8)
    rng = numpy_generator(seed)
    return (rng.random(x.shape) < x / (levels - 1)).astype(np.uint8)
