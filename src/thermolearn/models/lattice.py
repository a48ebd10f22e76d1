"""Hypercubic lattice geometry: sites in row-major order and their nearest-neighbour bonds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thermolearn.validation import check_positive_int


@dataclass(frozen=True)
class LatticeGeometry:
    """A d-dimensional hypercubic lattice of ``shape`` sites, numbered in row-major order.

    ``periodic[a]`` says whether axis ``a`` wraps around; ``couplings[a]`` is the coupling
    J of the bonds along axis ``a`` (energy units).
    """

    shape: tuple[int, ...]
    periodic: tuple[bool, ...]
    couplings: tuple[float, ...]
    field: float

    @property
    def dim(self) -> int:
        """Number of lattice dimensions d."""
        return len(self.shape)

    @property
    def n_sites(self) -> int:
        """Number of sites: the product of the sides."""
        return int(np.prod(self.shape))

    @property
    def coordination(self) -> int:
        """Neighbours per site in the bulk (2 d)."""
        return 2 * self.dim

    def as_dict(self) -> dict:
        """The geometry as a JSON-ready dict (:meth:`from_dict` reads it back)."""
        return {
            "kind": "hypercubic",
            "shape": list(self.shape),
            "periodic": list(self.periodic),
            "couplings": list(self.couplings),
            "field": self.field,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LatticeGeometry:
        """The geometry from :meth:`as_dict`'s dict."""
        return cls(
            shape=tuple(int(x) for x in data["shape"]),
            periodic=tuple(bool(x) for x in data["periodic"]),
            couplings=tuple(float(x) for x in data["couplings"]),
            field=float(data["field"]),
        )


def normalise_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of 1 to 3 positive side lengths."""
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not 1 <= len(dims) <= 3:
        raise ValueError(f"lattice shape must have 1, 2 or 3 side lengths, got {len(dims)}")
    return tuple(check_positive_int("lattice side length", int(d) if isinstance(d, np.integer) else d) for d in dims)


def lattice_bytes_per_site(dim: int, direct: bool = False) -> int:
    """Peak bytes per site of building a ``dim``-dimensional lattice model, measured with
    tracemalloc and rounded up: from bond lists (their COO concatenation, the CSR matrix and its
    symmetry check) about 40 + 240 dim; ``direct`` (periodic, every side >= 3: CSR rows built at
    once) about 30 + 64 dim."""
    return 48 + 72 * int(dim) if direct else 64 + 256 * int(dim)


def lattice_bonds(shape: tuple[int, ...], periodic: tuple[bool, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Nearest-neighbour bonds, one ``(i, j)`` pair of index arrays per axis.

    A periodic axis of length 2 has two bonds between the same pair (they add up, as
    in the periodic transfer matrix); a periodic axis of length 1 has none.
    """
    n = int(np.prod(shape))
    index = np.arange(n).reshape(shape)
    bonds = []
    for axis, (length, wrap) in enumerate(zip(shape, periodic)):
        if wrap:
            if length == 1:
                bonds.append((np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)))
                continue
            i = index.ravel()
            j = np.roll(index, -1, axis=axis).ravel()
        else:
            sl_from = [slice(None)] * len(shape)
            sl_to = [slice(None)] * len(shape)
            sl_from[axis] = slice(0, length - 1)
            sl_to[axis] = slice(1, length)
            i = index[tuple(sl_from)].ravel()
            j = index[tuple(sl_to)].ravel()
        bonds.append((i.astype(np.int64), j.astype(np.int64)))
    return bonds
