"""MNIST from IDX files on disk: plain or gzipped, whole or split in byte slices.

The library never downloads. :func:`load_mnist` takes a folder holding the four files as
LeCun distributed them (``train-images-idx3-ubyte`` and friends, each optionally ``.gz``; a
file split with ``split -b`` into ``NAME.part-00``, ``NAME.part-01``, ... is joined in order),
or the path of one images file. :func:`read_idx` reads any IDX file and checks its header.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

_IDX_TYPES: dict[int, npt.DTypeLike] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _parts(path: Path) -> list[Path]:
    parts = sorted(path.parent.glob(path.name + ".part-*"))
    return [p for p in parts if p.name[len(path.name) + len(".part-") :].isdigit()]


def _read_bytes(path: Path) -> bytes:
    if path.is_file():
        raw = path.read_bytes()
    else:
        parts = _parts(path)
        if not parts:
            raise ValueError(f"no such IDX file: {path}")
        raw = b"".join(p.read_bytes() for p in parts)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path} is not a readable gzip file: {exc}") from None
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not, or joined from ``.part-NN`` slices) as a NumPy array."""
    source = Path(path)
    raw = _read_bytes(source)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{source} is not an IDX file (bad magic number {raw[:4].hex()})")
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    ndim = raw[3]
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{source} has a truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{source}: IDX header says shape {shape} ({expected} bytes) but the file has {len(raw)} bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def _find(folder: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = folder / name
        if candidate.is_file() or _parts(candidate):
            return candidate
    raise ValueError(
        f"{folder} has no {stem}[.gz] (nor .part-NN slices of it); give the folder holding the MNIST IDX files"
    )


@overload
def load_mnist(
    path: str | os.PathLike, *, split: str = ..., return_labels: Literal[False] = ..., limit: int | None = ...
) -> np.ndarray: ...
@overload
def load_mnist(
    path: str | os.PathLike, *, split: str = ..., return_labels: Literal[True], limit: int | None = ...
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def load_mnist(
    path: str | os.PathLike, *, split: str = ..., return_labels: bool, limit: int | None = ...
) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...
def load_mnist(
    path: str | os.PathLike, *, split: str = "train", return_labels: bool = False, limit: int | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """MNIST images as a uint8 array ``(n, 784)`` (values 0..255), and the labels if asked.

    ``path`` is a folder with the IDX files (``split`` chooses ``"train"`` or ``"test"``) or
    one images file. ``limit`` keeps the first ``limit`` images.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    source = Path(path)
    if source.is_dir():
        images_path = _find(source, MNIST_FILES[split][0])
        labels_path = _find(source, MNIST_FILES[split][1]) if return_labels else None
    elif source.is_file() or _parts(source):
        images_path, labels_path = source, None
        if return_labels:
            raise ValueError("labels need the folder holding both IDX files, not one images file")
    else:
        raise ValueError(f"no such MNIST file or folder: {source}")
    images = read_idx(images_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_path} is not an IDX image file (got shape {images.shape}, dtype {images.dtype})")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        images = images[:limit]
    flat = images.reshape(len(images), -1)
    if not return_labels:
        return flat
    assert labels_path is not None  # return_labels with a single images file raised above
    labels = read_idx(labels_path)
    if labels.ndim != 1 or len(labels) < len(flat):
        raise ValueError(f"{labels_path} does not hold one label per image")
    return flat, labels[: len(flat)].astype(np.int64)
