"""Data for the learning chapters: 2D toy generators, scikit-learn's digits, MNIST from IDX files,
the fixed binarised MNIST (.amat) and binarisation of grey images.

Every generator takes ``n`` and ``seed`` and returns a float64 array with the sample axis
first, ``(n, 2)`` for the toys. The library never downloads anything: MNIST is read from
IDX files that the user points at. :func:`load_dataset` turns a name on the command line
into data with a description (its kind, shape and how it was scaled).
"""

from thermolearn.datasets.binarized_mnist import binarize, load_binarized_mnist
from thermolearn.datasets.binary_images import load_binary_images
from thermolearn.datasets.digits import load_digits
from thermolearn.datasets.mnist import load_mnist, read_idx
from thermolearn.datasets.registry import DATASET_NAMES, Dataset, load_dataset, standardize
from thermolearn.datasets.toy2d import (
    gaussian_mixture,
    gaussian_mixture_log_density,
    swiss_roll,
    swiss_roll_log_density,
    two_moons,
)

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "binarize",
    "gaussian_mixture",
    "gaussian_mixture_log_density",
    "load_binarized_mnist",
    "load_binary_images",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "read_idx",
    "standardize",
    "swiss_roll",
    "swiss_roll_log_density",
    "two_moons",
]
