"""Data for the learning chapters: 2D toy generators, scikit-learn's digits, MNIST from IDX files,
the fixed binarised MNIST (.amat) and binarisation of grey images.

Every generator takes ``n`` and ``seed`` and returns a float64 array with the sample axis
first, ``(n, 2)`` for the toys. The library never downloads anything: MNIST is read from
IDX files that the user points at. :func:`load_dataset` turns a name on the command line
into data with a description (its kind, shape and how it was scaled).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
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


_EXPORTS = {
    "binarize": "binarized_mnist",
    "Dataset": "registry",
    "DATASET_NAMES": "registry",
    "gaussian_mixture": "toy2d",
    "gaussian_mixture_log_density": "toy2d",
    "load_binarized_mnist": "binarized_mnist",
    "load_binary_images": "binary_images",
    "load_dataset": "registry",
    "load_digits": "digits",
    "load_mnist": "mnist",
    "read_idx": "mnist",
    "standardize": "registry",
    "swiss_roll": "toy2d",
    "swiss_roll_log_density": "toy2d",
    "two_moons": "toy2d",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
