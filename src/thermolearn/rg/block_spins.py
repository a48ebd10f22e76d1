"""Block-spin transformations of sampled configurations on periodic hypercubic lattices.

A configuration of side L in d dimensions is cut into (L / b)^d blocks of b^d spins, each
replaced by one block spin: the sign of the block's sum (majority rule; a tie, possible when
b^d is even, is broken by a fair coin) or the spin at the block's first corner (decimation).
The block lattice has side L / b and keeps the periodic boundary. Spins are int8 {-1, +1};
arrays have the sample axis first, shape (n_samples, L, ..., L).
"""

from __future__ import annotations

import numpy as np

from thermolearn.randomness.seeds import SeedLike, numpy_generator
from thermolearn.validation import check_positive_int

__all__ = ["BLOCKING_RULES", "block_spins", "check_configurations"]

#: The block-spin rules: majority (random tie-break) and decimation (first corner).
BLOCKING_RULES = ("majority", "decimation")


def check_configurations(configurations: np.ndarray, name: str = "configurations") -> np.ndarray:
    """Return ``configurations`` as int8 of shape (n_samples, L, ..., L), 1 <= d <= 3, or raise."""
    arr = np.asarray(configurations)
    if arr.ndim < 2 or arr.ndim > 4:
        raise ValueError(
            f"{name} must have shape (n_samples, L), (n_samples, L, L) or (n_samples, L, L, L), got shape {arr.shape}"
        )
    if len(set(arr.shape[1:])) != 1:
        raise ValueError(f"{name} must be on a lattice with equal sides, got sides {arr.shape[1:]}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one sample of at least one spin, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) or not np.all(np.abs(arr) == 1):
        raise ValueError(f"{name} must hold spins in {{-1, +1}}")
    return arr.astype(np.int8, copy=False)


def block_spins(configurations: np.ndarray, b: int, rule: str = "majority", seed: SeedLike = 0) -> np.ndarray:
    """One block-spin step: (n_samples, L, ..., L) int8 -> (n_samples, L/b, ..., L/b) int8.

    ``rule`` 'majority': sign of each b^d block's sum, ties by a fair coin drawn from ``seed``
    (an int or a Generator whose stream goes on); 'decimation': the block's first spin.
    ``b`` must divide L."""
    arr = check_configurations(configurations)
    b = check_positive_int("b", b, minimum=2)
    if rule not in BLOCKING_RULES:
        raise ValueError(f"rule must be one of {', '.join(BLOCKING_RULES)}, got {rule!r}")
    side = arr.shape[1]
    if side % b:
        raise ValueError(f"block size b = {b} does not divide the lattice side L = {side}")
    d = arr.ndim - 1
    m = side // b
    if rule == "decimation":
        return np.ascontiguousarray(arr[(slice(None),) + (slice(None, None, b),) * d])
    shape = (arr.shape[0],) + (m, b) * d
    sums = arr.reshape(shape).sum(axis=tuple(range(2, 2 * d + 1, 2)), dtype=np.int32)
    out = np.sign(sums).astype(np.int8)
    ties = out == 0
    n_ties = int(ties.sum())
    if n_ties:
        rng = numpy_generator(seed)
        out[ties] = rng.choice(np.array([-1, 1], dtype=np.int8), size=n_ties)
    return out
