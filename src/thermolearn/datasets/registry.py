"""Data sets by name: what ``--dataset`` accepts, in the coordinates the models use.

* ``swiss-roll``, ``moons``, ``gaussians``: 2D points, standardised by fixed constants of the
  distribution (unit variance per coordinate). The training split and the held-out split are
  independent draws (different streams of the same seed), so held-out data are always fresh.
* ``digits``: scikit-learn's 8 x 8 digits (17 grey levels); a fixed shuffled split of 1,497
  training and 300 held-out images.
* a path: MNIST IDX files (a folder, see :func:`~thermolearn.datasets.load_mnist`): the
  training split is ``train``, the held-out split ``t10k``.

Images with ``levels`` grey levels are mapped to bin centres in [-1, 1]: level k becomes
(2k + 1)/levels - 1, a bin of width 2/levels. Continuous models train on dequantised data
(uniform noise across the bin), and their density bound is scored the same way: averaged over
uniform noise across each pixel's bin, plus log(bin width) per pixel, it bounds the log
probability of the discrete image (Theis et al. 2016; reported in bits per pixel). With
``binary=True`` images are thresholded at half range to {0, 1} for binomial diffusion.
"""

from __future__ import annotations

import glob
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thermolearn.datasets.binarized_mnist import binarize
from thermolearn.datasets.digits import DIGITS_LEVELS, load_digits
from thermolearn.datasets.mnist import MNIST_IMAGE_SHAPE, load_mnist
from thermolearn.datasets.toy2d import MOONS_NOISE, SWISS_ROLL_NOISE, gaussian_mixture, swiss_roll, two_moons
from thermolearn.randomness.seeds import check_int_seed

DATASET_NAMES = ("swiss-roll", "moons", "gaussians", "digits")
"""Named data sets; anything else given to :func:`load_dataset` is read as a path to MNIST IDX files."""

TOY_GENERATORS: dict[str, Callable[..., np.ndarray]] = {
    "swiss-roll": swiss_roll,
    "moons": two_moons,
    "gaussians": gaussian_mixture,
}
NOISY_CURVES = {"swiss-roll": SWISS_ROLL_NOISE, "moons": MOONS_NOISE}
"""The toy sets drawn around a curve, with their default noise (raw units)."""
_SPLITS = {"train": 0, "test": 1}
DIGITS_HELD_OUT = 300


@dataclass
class Dataset:
    """Data in model coordinates, with what is needed to score and show them.

    ``data`` is float64 ``(n, dim)``; ``image_shape`` is ``(height, width)`` for images and
    ``None`` for points; ``levels`` is the number of grey levels of quantised images (``None``
    for continuous or binary data); ``binary`` says the values are in {0, 1}.
    """

    name: str
    data: np.ndarray
    image_shape: tuple[int, int] | None = None
    levels: int | None = None
    binary: bool = False
    labels: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        """Coordinates per sample (pixels for images): ``data.shape[1]``."""
        return int(self.data.shape[1])

    @property
    def n(self) -> int:
        """Number of samples: ``data.shape[0]``."""
        return int(self.data.shape[0])

    @property
    def is_image(self) -> bool:
        """Whether the samples are images (``image_shape`` is set)."""
        return self.image_shape is not None

    @property
    def log_bin_width(self) -> float:
        """log of the bin width per pixel (nats) for quantised images, else 0."""
        return math.log(2.0 / self.levels) if self.levels else 0.0

    def header(self) -> dict:
        """A JSON description (stored in model files so a model knows its data)."""
        return {
            "name": self.name,
            "dim": self.dim,
            "image_shape": list(self.image_shape) if self.image_shape else None,
            "levels": self.levels,
            "binary": self.binary,
            **self.info,
        }


def standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre and divide by one constant to unit average variance per coordinate: ``(y, mean, scale)``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or len(arr) < 2:
        raise ValueError(f"standardize needs an array (n >= 2, dim), got shape {arr.shape}")
    mean = arr.mean(axis=0)
    scale = float(np.sqrt(np.mean(arr.var(axis=0))))
    if scale == 0:
        raise ValueError("cannot standardise data with zero variance")
    return (arr - mean) / scale, mean, scale


def _levels_to_model(k: np.ndarray, levels: int) -> np.ndarray:
    return (2.0 * np.asarray(k, dtype=np.float64) + 1.0) / levels - 1.0


def model_to_levels(x: np.ndarray, levels: int) -> np.ndarray:
    """Inverse of the image map: model coordinates in [-1, 1] to integer grey levels 0..levels-1."""
    return np.clip(np.floor((np.asarray(x) + 1.0) * levels / 2.0), 0, levels - 1).astype(np.int64)


def _split_seed(seed, split: str):
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return np.random.default_rng([check_int_seed(seed), _SPLITS[split]])


def load_dataset(
    name: str,
    *,
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    binary: bool = False,
    noise: float | None = None,
) -> Dataset:
    """The data set ``name`` (one of :data:`DATASET_NAMES` or a path to MNIST), one split of it.

    ``n`` is how many points to draw from a toy distribution (default 10,000 for training and
    2,000 held out), or at most how many images to keep. ``binary`` thresholds images to {0, 1}.
    ``noise`` is the Gaussian thickness (raw units, before standardising) of the Swiss roll or
    the moons; ``None`` keeps the generator's default. It is recorded in ``info["noise"]``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"dataset must be a name {DATASET_NAMES} or a path to MNIST IDX files, got {name!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = _split_seed(seed, split)
    if noise is not None and name not in NOISY_CURVES:
        raise ValueError(f"noise sets the thickness of {' and '.join(NOISY_CURVES)}; {name} has no noise parameter")
    if name in TOY_GENERATORS:
        if binary:
            raise ValueError(f"{name} is continuous 2D data; binary (binomial diffusion) needs an image data set")
        count = n if n is not None else (10_000 if split == "train" else 2_000)
        info = {"split": split, "seed": int(seed)}
        if name in NOISY_CURVES:
            info["noise"] = NOISY_CURVES[name] if noise is None else float(noise)
            data = TOY_GENERATORS[name](int(count), seed=rng, noise=info["noise"])
        else:
            data = TOY_GENERATORS[name](int(count), seed=rng)
        return Dataset(name, data, info=info)
    if name == "digits":
        images, labels = load_digits(return_labels=True)
        order = np.random.default_rng(20150000).permutation(len(images))  # fixed split, whatever the seed
        idx = order[DIGITS_HELD_OUT:] if split == "train" else order[:DIGITS_HELD_OUT]
        if n is not None:
            idx = idx[:n]
        return _image_dataset("digits", images[idx], labels[idx], (8, 8), DIGITS_LEVELS, binary, split)
    path = Path(name)
    if not path.exists() and not list(path.parent.glob(glob.escape(path.name) + ".part-*")):  # a name may hold * [ ?
        raise ValueError(
            f"unknown dataset {name!r}: give one of {', '.join(DATASET_NAMES)} or a path to MNIST IDX files"
        )
    mnist_labels: np.ndarray | None = None  # a single images file carries no labels
    if path.is_dir():
        images, mnist_labels = load_mnist(path, split=split, return_labels=True, limit=n)
    else:  # one file is one split: load_mnist refuses a split it does not hold
        images = load_mnist(path, split=split, limit=n)
    return _image_dataset(
        "mnist",
        images.astype(np.float64),
        mnist_labels,
        MNIST_IMAGE_SHAPE,
        256,
        binary,
        split,
        info={"path": str(path)},
    )


def _image_dataset(
    name: str,
    images: np.ndarray,
    labels: np.ndarray | None,
    shape: tuple[int, int],
    levels: int,
    binary: bool,
    split: str,
    info: dict | None = None,
) -> Dataset:
    """Grey images with integer levels ``0..levels-1`` as a :class:`Dataset`: mapped to bin
    centres in [-1, 1], or with ``binary`` thresholded to {0, 1}."""
    info = {"split": split, **(info or {})}
    if binary:
        # the one threshold of the library (binarize: at least half the full range, (levels - 1) / 2),
        # so binomial diffusion and the RBMs see the same binary images
        data = binarize(images, method="threshold", levels=levels).astype(np.float64)
        return Dataset(name, data, shape, None, True, labels, info)
    return Dataset(name, _levels_to_model(images, levels), shape, levels, False, labels, info)
