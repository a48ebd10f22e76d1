"""The geometry of a learned coarse-graining: receptive fields against block spins.

A layer maps the spins of a periodic ``side x side`` lattice (rows of a weight matrix, in
row-major site order) onto hidden units (columns). Majority-rule blocking by ``b`` is the layer
whose unit J sits on the block (X, Y) of the coarse ``side/b`` lattice and sees exactly the b x b
spins of that block (:func:`block_spin_kernels`). For a learned layer (an RBM, Mehta and Schwab
2014) the questions are geometric: is each unit's |W| concentrated on one block
(:func:`receptive_field_locality`), and where is that block (:func:`receptive_field_centres`,
:func:`assign_to_lattice`)? Once units have lattice sites, a coupling matrix fitted to their
samples has a nearest-neighbour part (:func:`nearest_neighbour_coupling`), comparable with the
same fit on majority-rule block spins. Pure NumPy/SciPy: no training here.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from thermolearn.number_text import power_text
from thermolearn.validation import check_positive_int

__all__ = [
    "assign_to_lattice",
    "block_spin_kernels",
    "check_layer_sides",
    "lattice_side",
    "nearest_neighbour_coupling",
    "nearest_neighbour_pairs",
    "receptive_field_centres",
    "receptive_field_locality",
]


def lattice_side(n_units: int, name: str = "n_units") -> int:
    """The side l of a square lattice of ``n_units`` = l^2 sites, or a ValueError."""
    n_units = check_positive_int(name, n_units)
    side = math.isqrt(n_units)
    if side * side != n_units:
        raise ValueError(f"{name} must be a perfect square (a square lattice of sites), got {n_units}")
    return side


def check_layer_sides(size: int, b: int, levels: int, *, minimum_side: int = 3) -> list[int]:
    """The lattice sides [L, L/b, ..., L/b^levels] of a stack of ``levels`` coarse-grainings of
    the periodic L x L lattice, or a ValueError when b does not divide a side or the last side is
    below ``minimum_side`` (a periodic side of 2 doubles each bond, so its nn coupling is not one bond)."""
    size = check_positive_int("size", size, minimum=2)
    b = check_positive_int("b", b, minimum=2)
    levels = check_positive_int("levels", levels)
    minimum_side = check_positive_int("minimum_side", minimum_side)
    sides = [size]
    for level in range(1, levels + 1):
        if sides[-1] % b:
            raise ValueError(
                f"block size b = {b} does not divide the lattice side {sides[-1]} at level {level - 1}: "
                f"size = {size} must be a multiple of b^levels = {power_text(b, levels)}"
            )
        sides.append(sides[-1] // b)
    if sides[-1] < minimum_side:
        raise ValueError(
            f"levels = {levels} leaves a {sides[-1]} x {sides[-1]} lattice, below the {minimum_side} x {minimum_side} "
            f"needed for a nearest-neighbour coupling: use fewer levels or a larger size"
        )
    return sides


def _check_weights(weights: np.ndarray, side: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != side * side:
        raise ValueError(
            f"weights must have shape (side^2, n_hidden) = ({side * side}, n_hidden) for a {side} x {side} "
            f"lattice, got shape {w.shape}"
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    return w


def block_spin_kernels(side: int, b: int) -> np.ndarray:
    """Majority-rule blocking as a layer: (side^2, (side/b)^2) with 1 where the visible site lies
    in the hidden unit's b x b block (row-major sites and blocks), else 0."""
    side = check_positive_int("side", side, minimum=2)
    b = check_positive_int("b", b, minimum=2)
    if side % b:
        raise ValueError(f"block size b = {b} does not divide the lattice side {side}")
    m = side // b
    x, y = np.divmod(np.arange(side * side), side)
    block = (x // b) * m + (y // b)
    out = np.zeros((side * side, m * m))
    out[np.arange(side * side), block] = 1.0
    return out


def receptive_field_centres(weights: np.ndarray, side: int) -> np.ndarray:
    """Each hidden unit's |W|-weighted centre on the periodic lattice, (n_hidden, 2) in site units
    in [0, side): the circular mean per axis (angles 2 pi x / side), so a field that wraps round
    the boundary has its centre where it is. A unit with all-zero weights gets (nan, nan)."""
    side = check_positive_int("side", side, minimum=2)
    a = np.abs(_check_weights(weights, side))
    x, y = np.divmod(np.arange(side * side), side)
    out = np.empty((a.shape[1], 2))
    for axis, coord in enumerate((x, y)):
        angle = 2.0 * np.pi * coord / side
        c = np.cos(angle) @ a
        s = np.sin(angle) @ a
        theta = np.arctan2(s, c)
        out[:, axis] = np.mod(theta * side / (2.0 * np.pi), side)
        out[np.abs(c) + np.abs(s) < 1e-12 * np.maximum(a.sum(axis=0), 1e-300), axis] = np.nan
    out[a.sum(axis=0) == 0] = np.nan
    return out


def receptive_field_locality(weights: np.ndarray, side: int, window: int) -> np.ndarray:
    """The fraction of each hidden unit's sum |W_ij| inside the ``window x window`` block of sites
    nearest its centre (periodic), per unit. 1 for a block-spin kernel of block ``window``;
    window^2 / side^2 for weights spread evenly over the lattice (the no-locality baseline). A unit
    with all-zero weights gets NaN."""
    side = check_positive_int("side", side, minimum=2)
    window = check_positive_int("window", window)
    if window > side:
        raise ValueError(f"window must be at most the lattice side {side}, got {window}")
    a = np.abs(_check_weights(weights, side))
    centres = receptive_field_centres(a, side)
    x, y = np.divmod(np.arange(side * side), side)
    total = a.sum(axis=0)
    out = np.full(a.shape[1], np.nan)
    for j in range(a.shape[1]):
        if total[j] == 0:
            continue
        inside = np.ones(side * side, dtype=bool)
        for axis, coord in enumerate((x, y)):
            # the window of `window` consecutive sites whose middle is nearest the centre (an axis
            # with no centre, weights spread evenly round it, starts anywhere: site 0)
            centre = centres[j, axis] if np.isfinite(centres[j, axis]) else (window - 1) / 2.0
            start = math.floor(centre - (window - 1) / 2.0 + 0.5)
            inside &= np.mod(coord - start, side) < window
        out[j] = a[inside, j].sum() / total[j]
    return out


def assign_to_lattice(centres: np.ndarray, side: int, b: int) -> np.ndarray:
    """Give each hidden unit a site of the coarse (side/b)^2 lattice: the one-to-one assignment
    minimising the summed squared periodic distance between unit centres and block centres
    (Hungarian algorithm). Returns ``site_of_unit`` (n_hidden,), a permutation of the sites."""
    side = check_positive_int("side", side, minimum=2)
    b = check_positive_int("b", b, minimum=2)
    if side % b:
        raise ValueError(f"block size b = {b} does not divide the lattice side {side}")
    m = side // b
    c = np.asarray(centres, dtype=np.float64)
    if c.shape != (m * m, 2):
        raise ValueError(
            f"centres must have shape ({m * m}, 2): one per site of the {m} x {m} coarse lattice, got {c.shape}"
        )
    c = np.where(np.isfinite(c), c, 0.0)  # a unit with no weights goes anywhere
    bx, by = np.divmod(np.arange(m * m), m)
    block = np.stack([b * bx + (b - 1) / 2.0, b * by + (b - 1) / 2.0], axis=1)
    d = np.abs(c[:, None, :] - block[None, :, :])
    d = np.minimum(d, side - d)
    cost = (d**2).sum(axis=2)
    units, sites = linear_sum_assignment(cost)
    out = np.empty(m * m, dtype=np.int64)
    out[units] = sites
    return out


def nearest_neighbour_pairs(side: int) -> np.ndarray:
    """The 2 side^2 nearest-neighbour bonds (i, j) of the periodic side x side lattice (row-major
    sites; the bond to the right and the bond below of every site)."""
    side = check_positive_int("side", side, minimum=3)
    x, y = np.divmod(np.arange(side * side), side)
    right = x * side + (y + 1) % side
    down = ((x + 1) % side) * side + y
    i = np.concatenate([np.arange(side * side)] * 2)
    return np.stack([i, np.concatenate([right, down])], axis=1)


def nearest_neighbour_coupling(couplings: np.ndarray, side: int) -> tuple[float, float]:
    """The mean and standard error of J_ij over the nearest-neighbour bonds of a coupling matrix
    on the periodic ``side x side`` lattice (sites row-major): the nn part of a fitted model, in
    the matrix's units (reduced couplings K = J / T for a fit at T = 1). The error is the spread
    of the bonds over sqrt(bonds): for a translation-invariant model, the fit's noise."""
    side = check_positive_int("side", side, minimum=3)
    j = np.asarray(couplings, dtype=np.float64)
    if j.shape != (side * side, side * side):
        raise ValueError(
            f"couplings must have shape ({side * side}, {side * side}) for a {side} x {side} lattice, got {j.shape}"
        )
    pairs = nearest_neighbour_pairs(side)
    bonds = j[pairs[:, 0], pairs[:, 1]]
    return float(bonds.mean()), float(bonds.std(ddof=1) / math.sqrt(bonds.size))
