"""Binary image data for Boltzmann machines: what ``rbm --data`` accepts.

* ``digits``: scikit-learn's 8 x 8 digits (fixed split: 1,497 training, 300 held-out images),
  binarised from their 17 grey levels;
* a folder of MNIST IDX files: 60,000 training and 10,000 test images of 28 x 28 pixels,
  binarised from 256 grey levels;
* a binarised-MNIST ``.amat`` file or a folder of them (Larochelle & Murray): already {0, 1},
  with splits ``train``, ``valid`` and ``test``.

A single file (IDX images or ``.amat``) is one split: the one its name says
(``t10k-images-idx3-ubyte.gz``: test; ``binarized_mnist_valid.amat``: valid), else ``train``.
Another split of it is refused, never answered with the same images.

Grey images are binarised by a fixed threshold at half range, or dynamically (each pixel a
Bernoulli draw with its intensity as probability, seeded). The data are uint8 in {0, 1}.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np

from thermolearn.datasets.binarized_mnist import binarize, is_binarized_mnist, load_binarized_mnist
from thermolearn.datasets.digits import DIGITS_LEVELS, load_digits
from thermolearn.datasets.mnist import MNIST_IMAGE_SHAPE, load_mnist
from thermolearn.datasets.registry import DIGITS_HELD_OUT, Dataset
from thermolearn.randomness.seeds import check_seed

BINARY_SPLITS = ("train", "valid", "test")


def _stream(seed: int, source: int) -> np.random.SeedSequence:
    """The Bernoulli binarisation stream of ``seed`` for one source (1 digits, 2 MNIST): the stream
    ``default_rng([seed, source])`` draws. Up to 0.6.13 the list itself was passed, which the seed
    check refuses: ``bernoulli`` binarisation raised TypeError for every seed."""
    value = check_seed(seed, allow_none=False)
    if not isinstance(value, int):
        raise TypeError(f"seed must be a non-negative int here (one stream per data source), got {type(seed).__name__}")
    return np.random.SeedSequence([value, source])


def load_binary_images(
    source: str | os.PathLike,
    *,
    split: str = "train",
    binarization: str = "threshold",
    seed: int = 0,
    limit: int | None = None,
) -> Dataset:
    """Binary images from ``digits``, MNIST IDX files or binarised-MNIST ``.amat`` files.

    ``split`` is ``train`` or ``test`` (and ``valid`` for ``.amat`` data); ``binarization``
    is ``threshold`` or ``bernoulli`` for grey images (ignored for ``.amat``, which is
    binary already); ``seed`` seeds Bernoulli binarisation; ``limit`` keeps the first images.
    """
    if split not in BINARY_SPLITS:
        raise ValueError(f"split must be one of {BINARY_SPLITS}, got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    info = {"split": split, "binarization": binarization}
    if str(source) == "digits":
        if split == "valid":
            raise ValueError("the digits have a train and a test split only")
        images = load_digits()
        order = np.random.default_rng(20150000).permutation(len(images))  # the same split as load_dataset
        idx = order[DIGITS_HELD_OUT:] if split == "train" else order[:DIGITS_HELD_OUT]
        if limit is not None:
            idx = idx[:limit]
        data = binarize(images[idx], method=binarization, levels=DIGITS_LEVELS, seed=_stream(seed, 1))
        return Dataset("digits", data, (8, 8), None, True, None, info)
    path = Path(source)
    if is_binarized_mnist(path):
        data = load_binarized_mnist(path, split=split, limit=limit)
        return Dataset(
            "binarized-mnist",
            data,
            MNIST_IMAGE_SHAPE,  # 784 pixels a line
            None,
            True,
            None,
            {"split": split, "binarization": "fixed (Larochelle & Murray)", "path": str(path)},
        )
    if split == "valid":
        raise ValueError(
            "MNIST IDX files have a train and a test split only (valid is for binarised-MNIST .amat files)"
        )
    if not path.exists() and not list(path.parent.glob(glob.escape(path.name) + ".part-*")):  # a name may hold * [ ?
        raise ValueError(
            f"unknown data {str(source)!r}: give 'digits', a folder of MNIST IDX files, or a binarised-MNIST "
            ".amat file or folder"
        )
    images = load_mnist(path, split=split, limit=limit)  # 28 x 28 images, or refused
    data = binarize(images, method=binarization, levels=256, seed=_stream(seed, 2))
    return Dataset("mnist", data, MNIST_IMAGE_SHAPE, None, True, None, {**info, "path": str(path)})
