"""Block operators for Monte Carlo renormalisation: translation-invariant spin products.

An operator is S = sum over sites i and over its orientations of prod_{a in shape} s_{i + a},
on the periodic lattice; it is extensive (a total, never per site), because the RG matrix
relates the couplings conjugate to the totals of two levels. Even operators (products of
an even number of spins) carry the thermal direction, odd ones the magnetic direction.

Per dimension, in order:

- d = 1: even ``nn`` (s_i s_{i+1}), ``nn2`` (s_i s_{i+2}); odd ``magnetization``, ``three_spin_line``.
- d = 2: even ``nn``, ``nnn`` (diagonals), ``nn2`` (two steps along an axis), ``plaquette``
  (four spins of a unit square); odd ``magnetization``, ``three_spin_corner`` (three spins of a
  unit square, four ways), ``three_spin_line`` (three in a row).
- d = 3: the same names, over every axis, face diagonal and plane; ``nnn`` is the face
  diagonals (six per site), and ``body`` (four body diagonals per site) is added to the even set.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["EVEN_OPERATORS", "ODD_OPERATORS", "operator_span", "operator_values", "operator_terms"]

Offsets = tuple[tuple[int, ...], ...]


def _unit(d: int, axis: int, step: int = 1) -> tuple[int, ...]:
    v = [0] * d
    v[axis] = step
    return tuple(v)


def _plus(*vs: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(sum(x)) for x in zip(*vs))


def _terms(name: str, d: int) -> list[Offsets]:
    """Each orientation of the operator ``name`` in d dimensions, as offsets from a site."""
    zero = (0,) * d
    axes = range(d)
    planes = list(itertools.combinations(axes, 2))
    if name == "magnetization":
        return [(zero,)]
    if name == "nn":
        return [(zero, _unit(d, a)) for a in axes]
    if name == "nn2":
        return [(zero, _unit(d, a, 2)) for a in axes]
    if name == "three_spin_line":
        return [(_unit(d, a, -1), zero, _unit(d, a)) for a in axes]
    if name == "nnn":
        return [
            t
            for a, c in planes
            for t in ((zero, _plus(_unit(d, a), _unit(d, c))), (zero, _plus(_unit(d, a), _unit(d, c, -1))))
        ]
    if name == "plaquette":
        return [(zero, _unit(d, a), _unit(d, c), _plus(_unit(d, a), _unit(d, c))) for a, c in planes]
    if name == "three_spin_corner":
        out = []
        for a, c in planes:
            square = (zero, _unit(d, a), _unit(d, c), _plus(_unit(d, a), _unit(d, c)))
            out += [tuple(p for k, p in enumerate(square) if k != drop) for drop in range(4)]
        return out
    if name == "body":
        signs = [(1,) + s for s in itertools.product((1, -1), repeat=d - 1)]
        return [(zero, s) for s in signs]
    raise ValueError(f"unknown operator {name!r}")


#: Even operators per dimension, in the order the RG matrix uses them.
EVEN_OPERATORS: dict[int, tuple[str, ...]] = {
    1: ("nn", "nn2"),
    2: ("nn", "nnn", "nn2", "plaquette"),
    3: ("nn", "nnn", "nn2", "plaquette", "body"),
}
#: Odd operators per dimension.
ODD_OPERATORS: dict[int, tuple[str, ...]] = {
    1: ("magnetization", "three_spin_line"),
    2: ("magnetization", "three_spin_corner", "three_spin_line"),
    3: ("magnetization", "three_spin_corner", "three_spin_line"),
}


def operator_terms(name: str, dimension: int) -> list[Offsets]:
    """The orientations of operator ``name`` on the d-dimensional lattice, as site offsets."""
    allowed = set(EVEN_OPERATORS.get(dimension, ())) | set(ODD_OPERATORS.get(dimension, ()))
    if name not in allowed:
        raise ValueError(f"operator must be one of {', '.join(sorted(allowed))} in d = {dimension}, got {name!r}")
    return _terms(name, dimension)


def operator_span(name: str, dimension: int) -> int:
    """The largest extent of the operator along one axis (2 for ``nn2`` and ``three_spin_line``).
    On a periodic side below 2 x span the operator folds onto itself (``nn2`` on side 2 is the
    constant 1), so a block lattice must have a side of at least 2 x span to measure it."""
    terms = operator_terms(name, dimension)
    return max(max(p[a] for p in t) - min(p[a] for p in t) for t in terms for a in range(dimension))


def operator_values(configurations: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """The totals of the operators ``names`` in each configuration: (n_samples, L, ..., L) int8
    -> (n_samples, len(names)) float64, on the periodic lattice."""
    arr = np.asarray(configurations)
    d = arr.ndim - 1
    axes = tuple(range(1, d + 1))
    out = np.empty((arr.shape[0], len(names)), dtype=np.float64)
    for k, name in enumerate(names):
        total = np.zeros(arr.shape[0], dtype=np.int64)
        for term in operator_terms(name, d):
            prod = None
            for offset in term:
                # s_{i + a} at site i is the array rolled by -a
                shifted = np.roll(arr, tuple(-x for x in offset), axis=axes) if any(offset) else arr
                prod = shifted if prod is None else prod * shifted
            assert prod is not None
            total += prod.reshape(arr.shape[0], -1).sum(axis=1, dtype=np.int64)
        out[:, k] = total
    return out
