"""MNIST from IDX files on disk: plain or gzipped, whole or split in byte slices.

The library never downloads. :func:`load_mnist` takes a folder holding the four files as
LeCun distributed them (``train-images-idx3-ubyte`` and friends, each optionally ``.gz``; a
file split with ``split -b`` into ``NAME.part-00``, ``NAME.part-01``, ... is joined in the
order of the slices' numbers), or the path of one images file. :func:`read_idx` reads any
IDX file and checks its header.

Files are never trusted: a gzipped file is inflated as a stream, the header first, and no
more than the header declares is ever read (a small file that would inflate to gigabytes is
refused, not inflated), after the declared size has passed the memory check.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import io
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
import numpy.typing as npt

from thermolearn.resources import check_memory

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

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
MNIST_IMAGE_SHAPE = (28, 28)
"""Height and width of an MNIST image (pixels)."""
MNIST_CLASSES = 10
"""Labels are the digits 0..9."""

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # inflate a megabyte at a time: the inflater's own buffers stay this small
_SHOWN_NAMES = 6  # file names quoted in a message about slices


def _parts(path: Path) -> list[Path]:
    """The ``NAME.part-N`` slices of ``path`` in the order of their number N (empty when none).

    Numbers are compared as integers (``part-2`` before ``part-10``); slices that leave a gap,
    repeat a number, or mix zero-padded and other widths are refused: joined in a wrong order
    the bytes would still pass the IDX size check and come back as scrambled images.
    """
    prefix = path.name + ".part-"
    found = []
    for candidate in path.parent.glob(glob.escape(prefix) + "*"):  # a name may hold [, * or ?
        suffix = candidate.name[len(prefix) :]
        if suffix.isascii() and suffix.isdigit():
            found.append((int(suffix), suffix, candidate))
    if not found:
        return []
    found.sort()
    numbers = [number for number, _, _ in found]

    def named(items: list[tuple[int, str, Path]]) -> str:
        shown = ", ".join(p.name for _, _, p in items[:_SHOWN_NAMES])
        return shown + (f" and {len(items) - _SHOWN_NAMES} more" if len(items) > _SHOWN_NAMES else "")

    where = f"{path.parent}: the slices of {path.name}"
    repeated = [item for item in found if numbers.count(item[0]) > 1]
    if repeated:
        raise ValueError(f"{where} repeat a number ({named(repeated)}); keep one file per slice number")
    widths = {len(suffix) for _, suffix, _ in found}
    if len(widths) > 1 and any(len(s) > 1 and s.startswith("0") for _, s, _ in found):
        raise ValueError(
            f"{where} mix zero-padded and other numbers ({named(found)}); their order is ambiguous: "
            "number them all with the same width (part-00, part-01, ...) or all without padding"
        )
    first = numbers[0]
    missing = sorted(set(range(first, numbers[-1] + 1)) - set(numbers))
    if first not in (0, 1) or missing:
        gap = f"missing number(s) {', '.join(map(str, missing[:_SHOWN_NAMES]))}" if missing else f"first is {first}"
        raise ValueError(
            f"{where} are not numbered consecutively from 0 or 1 ({gap}; found {named(found)}); "
            "a slice is missing or misnamed"
        )
    return [p for _, _, p in found]


class _JoinedFiles(io.RawIOBase):
    """The bytes of several files one after the other, read without joining them in memory."""

    def __init__(self, paths: list[Path]):
        super().__init__()
        self._paths = paths
        self._next = 0
        self._handle: io.BufferedReader | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while True:
            if self._handle is None:
                if self._next == len(self._paths):
                    return 0
                self._handle = open(self._paths[self._next], "rb")  # closed at its end, or by close()
                self._next += 1
            n = self._handle.readinto(view)
            if n:
                return n
            self._handle.close()
            self._handle = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        super().close()


class InflatedContent:
    """The content of one data file (inflated if gzipped), read in exact amounts as a stream.

    ``disk_bytes`` is the size on disk (all slices together); ``compressed`` says it is gzip.
    A damaged gzip stream raises ``ValueError`` naming the file, never zlib's own error.
    """

    def __init__(self, source: Path, stream: io.BufferedIOBase, disk_bytes: int, compressed: bool):
        self.source = source
        self.stream = stream
        self.disk_bytes = disk_bytes
        self.compressed = compressed

    def fill(self, view: memoryview) -> int:
        """Read into ``view`` until it is full or the content ends; the number of bytes read."""
        got = 0
        try:
            while got < len(view):
                n = self.stream.readinto(view[got : got + _CHUNK])
                if not n:
                    break
                got += n
        except (OSError, EOFError, zlib.error) as exc:
            if not self.compressed:
                raise
            raise ValueError(f"{self.source} is not a readable gzip file: {exc}") from None
        return got

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the content)."""
        buffer = bytearray(n)
        return bytes(buffer[: self.fill(memoryview(buffer))])


@contextlib.contextmanager
def open_inflated(source: Path) -> Iterator[InflatedContent]:
    """Open ``source`` (a file, or the ``.part-N`` slices of that name) for reading as a stream,
    inflated if it starts with the gzip magic bytes: nothing is read before the caller asks.
    Shared by the IDX and the binarised-MNIST ``.amat`` readers."""
    if source.is_file():
        files = [source]
    else:
        files = _parts(source)
        if not files:
            raise ValueError(f"no such IDX file: {source}")
    head = b""
    for name in files:  # the gzip magic may straddle a slice boundary
        with open(name, "rb") as handle:
            head += handle.read(len(_GZIP_MAGIC) - len(head))
        if len(head) == len(_GZIP_MAGIC):
            break
    disk_bytes = sum(name.stat().st_size for name in files)
    with contextlib.ExitStack() as stack:
        raw: io.BufferedIOBase
        if files == [source]:
            raw = stack.enter_context(open(source, "rb"))
        else:
            raw = stack.enter_context(io.BufferedReader(_JoinedFiles(files)))
        compressed = head == _GZIP_MAGIC
        stream = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")) if compressed else raw
        yield InflatedContent(source, stream, disk_bytes, compressed)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not, or joined from ``.part-NN`` slices) as a NumPy array.

    The header is read first; the data it declares (the product of its dimensions times the
    item size, in bytes) must fit in memory and must be exactly what the file holds.
    """
    source = Path(path)
    with open_inflated(source) as content:
        magic = content.read(4)
        if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES:
            raise ValueError(f"{source} is not an IDX file (bad magic number {magic.hex()})")
        dtype = np.dtype(_IDX_TYPES[magic[2]])
        ndim = magic[3]
        dims = content.read(4 * ndim)
        if ndim == 0 or len(dims) < 4 * ndim:
            raise ValueError(f"{source} has a truncated IDX header")
        shape = tuple(int.from_bytes(dims[4 * k : 4 * k + 4], "big") for k in range(ndim))
        if 0 in shape:
            raise ValueError(f"{source}: IDX header declares shape {shape}, which holds no data")
        data_bytes = math.prod(shape) * dtype.itemsize  # Python ints: dimensions up to 2^32 - 1 never wrap
        expected = 4 + 4 * ndim + data_bytes

        def mismatch(found: str) -> ValueError:
            return ValueError(f"{source}: IDX header says shape {shape} ({expected} bytes) but the file {found}")

        if not content.compressed and content.disk_bytes != expected:
            raise mismatch(f"has {content.disk_bytes} bytes")
        check_memory(
            f"{source} (IDX data of shape {shape})",
            data_bytes,
            hint="the header declares more data than this machine can hold; is the file damaged?",
        )
        buffer = np.empty(data_bytes, dtype=np.uint8)
        got = content.fill(buffer.data)
        if got < data_bytes:
            raise mismatch(f"inflates to {4 + 4 * ndim + got} bytes")
        if content.read(1):  # one byte past the declared end: stop there, whatever follows
            raise mismatch(f"inflates to more than {expected} bytes")
    data = buffer.view(dtype).reshape(shape)
    if not dtype.isnative:
        data = data.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return data


def _find(folder: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = folder / name
        if candidate.is_file() or _parts(candidate):
            return candidate
    raise ValueError(
        f"{folder} has no {stem}[.gz] (nor .part-NN slices of it); give the folder holding the MNIST IDX files"
    )


def _single_file_split(path: Path) -> str | None:
    """The split a lone images file's name says (LeCun's file names, with or without ``.gz``),
    or None for any other name."""
    name = path.name.removesuffix(".gz")
    for split, (images, _) in MNIST_FILES.items():
        if name in (images, images.replace("-idx", ".idx")):
            return split
    return None


def _check_single_file_split(path: Path, split: str) -> None:
    # one file is one split: answering another split with its images would score a model on
    # the very images it was trained on (or take RAISE's base rates from the images scored)
    named = _single_file_split(path)
    holds = named or "train"
    if split != holds:
        what = f"MNIST's {named!r} split by its name" if named else "the 'train' split (its name is none of MNIST's)"
        raise ValueError(
            f"{path} is one images file, {what}; it has no {split!r} split: ask for split {holds!r}, or give "
            "the folder holding both splits' IDX files"
        )


def _check_images(images: np.ndarray, path: Path) -> None:
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{path} is not an IDX image file (got shape {images.shape}, dtype {images.dtype})")
    if images.shape[1:] != MNIST_IMAGE_SHAPE:
        raise ValueError(
            f"{path} holds images of {images.shape[1]} x {images.shape[2]} pixels; MNIST images are "
            f"{MNIST_IMAGE_SHAPE[0]} x {MNIST_IMAGE_SHAPE[1]}"
        )


def _check_labels(labels: np.ndarray, path: Path, n_images: int, images_path: Path) -> None:
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"{path} is not an IDX labels file: it must hold one integer per image (unsigned bytes, IDX type 0x08), "
            f"got shape {labels.shape}, dtype {labels.dtype}"
        )
    if len(labels) != n_images:
        raise ValueError(
            f"{path} holds {len(labels)} labels for the {n_images} images of {images_path}; "
            "there must be exactly one label per image"
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= MNIST_CLASSES:
        raise ValueError(
            f"{path} holds labels from {low} to {high}; MNIST labels are the digits 0..{MNIST_CLASSES - 1}"
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
    """MNIST images as a uint8 array ``(n, 784)`` (values 0..255), and the labels (int64, 0..9) if asked.

    ``path`` is a folder with the IDX files (``split`` chooses ``"train"`` or ``"test"``) or
    one images file, which is one split: the one its name says (``t10k-images-idx3-ubyte``
    is ``"test"``), else ``"train"``; another split is refused. Images must be 28 x 28; the
    labels file must hold one digit 0..9 per image. ``limit`` keeps the first ``limit`` images.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    source = Path(path)
    if source.is_dir():
        images_path = _find(source, MNIST_FILES[split][0])
        labels_path = _find(source, MNIST_FILES[split][1]) if return_labels else None
    elif source.is_file() or _parts(source):
        if return_labels:
            raise ValueError("labels need the folder holding both IDX files, not one images file")
        _check_single_file_split(source, split)
        images_path, labels_path = source, None
    else:
        raise ValueError(f"no such MNIST file or folder: {source}")
    images = read_idx(images_path)
    _check_images(images, images_path)
    labels = None
    if labels_path is not None:
        labels = read_idx(labels_path)
        _check_labels(labels, labels_path, len(images), images_path)  # the whole file, before limit
    if limit is not None:
        images = images[:limit]
    flat = images.reshape(len(images), -1)
    if labels is None:
        return flat
    return flat, labels[: len(flat)].astype(np.int64)
