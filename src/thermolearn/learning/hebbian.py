"""Storage rules of the Hopfield network: Hebbian, projection (pseudo-inverse) and Storkey.

Each rule turns P patterns xi^mu in {-1, +1}^N into symmetric couplings J with a zero
diagonal (dimensionless; E(s) = -1/2 s^T J s - b^T s). Biases, when asked for, come from
the same rule applied to patterns augmented by one always-on unit (+1): b_i is the coupling
of unit i to that unit. Patterns are spins; binary {0, 1} patterns are converted only when
``binary=True`` is passed (s = 2x - 1), never guessed.
"""

from __future__ import annotations

import os
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.kernel_cache import njit
from thermolearn.models.hopfield import Hopfield, check_patterns
from thermolearn.storage import FileFormatError

RULES = ("hebbian", "projection", "storkey")
__all__ = [
    "RULES",
    "binarize_images",
    "binary_to_patterns",
    "check_patterns",
    "couplings",
    "hebbian_couplings",
    "load_patterns",
    "projection_couplings",
    "store",
    "storkey_add",
    "storkey_couplings",
    "storkey_step",
]


def binary_to_patterns(binary: ArrayLike) -> np.ndarray:
    """Binary {0, 1} patterns (P, N) or (N,) as spin patterns s = 2x - 1 (int8, shape (P, N))."""
    return check_patterns(binary, binary=True)


def binarize_images(images: ArrayLike, threshold: float) -> np.ndarray:
    """Grey images (n, pixels) as spin patterns: +1 where the value exceeds ``threshold``, else -1."""
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or not np.all(np.isfinite(arr)):
        raise ValueError(f"images must be a finite 2D array (n_images, n_pixels), got shape {np.shape(images)}")
    return np.where(arr > threshold, 1, -1).astype(np.int8)


def _augment(xi: np.ndarray) -> np.ndarray:
    return np.concatenate([xi, np.ones((xi.shape[0], 1), dtype=np.int8)], axis=1)


def _with_biases(
    rule: Callable[[np.ndarray], np.ndarray], xi: np.ndarray, biases: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    if not biases:
        return rule(xi), None
    W = rule(_augment(xi))
    n = xi.shape[1]
    return np.ascontiguousarray(W[:n, :n]), W[:n, n].copy()


def _hebbian(xi: np.ndarray) -> np.ndarray:
    x = xi.astype(np.float64)
    J = x.T @ x / x.shape[1]
    np.fill_diagonal(J, 0.0)
    return J


def _projection(xi: np.ndarray) -> np.ndarray:
    p, n = xi.shape
    if p >= n:
        raise ValueError(
            f"the projection rule stores at most n_neurons - 1 = {n - 1} patterns (load P/N < 1); "
            f"got {p} patterns of {n} neurons"
        )
    x = xi.astype(np.float64)
    # the projector onto the patterns' span, J = X^T (X X^T)^{-1} X, needs X X^T invertible
    sv = np.linalg.svd(x, compute_uv=False)
    if sv[-1] <= 1e-9 * sv[0] * max(p, n):
        raise ValueError(
            f"the projection rule needs linearly independent patterns; these {p} patterns span only "
            f"{int(np.sum(sv > 1e-9 * sv[0] * max(p, n)))} dimensions (remove repeated or dependent patterns)"
        )
    J = x.T @ np.linalg.solve(x @ x.T, x)
    J = 0.5 * (J + J.T)
    np.fill_diagonal(J, 0.0)
    return J


def _storkey(xi: np.ndarray) -> np.ndarray:
    n = xi.shape[1]
    W = np.zeros((n, n))
    storkey_add(W, xi)
    return W


@njit(cache=True)
def _storkey_kernel(W, X):
    n = W.shape[0]
    h = np.empty(n)
    inv_n = 1.0 / n
    for p in range(X.shape[0]):
        x = X[p]
        for i in range(n):
            acc = 0.0
            row = W[i]
            for j in range(n):
                acc += row[j] * x[j]
            h[i] = acc
        # the update is symmetric in (i, j), so each row is computed on its own: contiguous writes
        for i in range(n):
            xi_i = float(x[i])
            hi = h[i]
            row = W[i]
            for j in range(n):
                xj = float(x[j])
                row[j] += (xi_i * xj - xi_i * h[j] - hi * xj + 2.0 * row[j]) * inv_n
            row[i] = 0.0


def storkey_add(W: np.ndarray, patterns: np.ndarray) -> None:
    """Apply :func:`storkey_step` for each pattern (P, N) in order to ``W`` in place (compiled)."""
    if W.dtype != np.float64 or not W.flags.c_contiguous or W.shape[0] != W.shape[1]:
        raise ValueError("W must be a C-contiguous square float64 array")
    X = check_patterns(patterns, W.shape[0])
    _storkey_kernel(W, X)


def storkey_step(W: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """One Storkey (1997) update: W_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / N, zero diagonal.

    h_ij = sum_{k != i, j} W_ik xi_k is the local field at i without units i and j. With
    h = W xi (zero diagonal) this is h_i - W_ij xi_j, which makes the update
    (xi xi^T - xi h^T - h xi^T + 2 W) / N.
    """
    x = np.asarray(pattern, dtype=np.float64)
    n = x.size
    h = W @ x
    dW = (np.outer(x, x) - np.outer(x, h) - np.outer(h, x) + 2.0 * W) / n
    out = W + dW
    np.fill_diagonal(out, 0.0)
    return out


_RULE_FUNCTIONS = {"hebbian": _hebbian, "projection": _projection, "storkey": _storkey}


def hebbian_couplings(
    patterns: ArrayLike, *, biases: bool = False, binary: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Hebb's rule J = (1/N) sum_mu xi^mu xi^mu^T with a zero diagonal; returns ``(J, b or None)``.

    Dimensionless couplings; any number of patterns is allowed (retrieval fails above the
    load alpha_c ~ 0.138).
    """
    return _with_biases(_hebbian, check_patterns(patterns, binary=binary), biases)


def projection_couplings(
    patterns: ArrayLike, *, biases: bool = False, binary: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Projection (pseudo-inverse) rule J = (1/N) Xi^T C^{-1} Xi, C = Xi Xi^T / N, zero diagonal.

    J is the orthogonal projector onto the patterns' span, so every pattern is a fixed point
    (field (1 - P_ii) xi_i) even for correlated patterns. Needs P < N linearly independent
    patterns (P < N + 1 with biases, counting the always-on unit).
    """
    return _with_biases(_projection, check_patterns(patterns, binary=binary), biases)


def storkey_couplings(
    patterns: ArrayLike, *, biases: bool = False, binary: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Storkey's incremental, local rule (one :func:`storkey_step` per pattern, in order)."""
    return _with_biases(_storkey, check_patterns(patterns, binary=binary), biases)


def couplings(
    patterns: ArrayLike, rule: str = "hebbian", *, biases: bool = False, binary: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Couplings (and biases) of ``rule`` in ('hebbian', 'projection', 'storkey')."""
    if rule not in _RULE_FUNCTIONS:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    return _with_biases(_RULE_FUNCTIONS[rule], check_patterns(patterns, binary=binary), biases)


def store(
    patterns: ArrayLike,
    rule: str = "hebbian",
    *,
    biases: bool = False,
    binary: bool = False,
    image_shape: tuple[int, int] | None = None,
    name: str = "",
) -> Hopfield:
    """A :class:`Hopfield` network storing ``patterns`` (P, N) by ``rule``; it keeps the patterns
    so recall can report overlaps with each of them."""
    xi = check_patterns(patterns, binary=binary)
    J, b = couplings(xi, rule, biases=biases)
    return Hopfield(J, b, patterns=xi, rule=rule, image_shape=image_shape, name=name)


def _read_npy(handle: Any, size: int, source: str) -> np.ndarray:
    """One ``.npy`` stream of patterns, declared shape checked against its bytes before reading."""
    from thermolearn.storage import read_npy_stream

    return read_npy_stream(handle, size, source)


def load_patterns(path: str | os.PathLike, *, binary: bool = False) -> np.ndarray:
    """Patterns (P, N) int8 spins from a file; every fault raises ``FileFormatError`` naming it.

    ``.npy``: one array. ``.npz``: a plain NumPy archive with an array ``patterns`` or a single
    array, or a Hopfield network file (its stored patterns). Anything else: text, one pattern per
    line. Values are spins -1/+1, or 0/1 with ``binary=True`` (s = 2x - 1). Declared shapes are
    checked against the bytes before reading, nothing is unpickled, and damaged archives,
    complex or non-numeric values, ragged or empty text are refused.
    """
    from thermolearn.storage import HEADER_KEY

    source = Path(path)
    if source.is_dir():
        raise FileFormatError(f"{source} is a folder; give a pattern file (.npy, .npz or text)")
    if not source.is_file():
        raise FileFormatError(f"no such pattern file: {source}")
    try:
        if source.suffix == ".npy":
            with open(source, "rb") as handle:
                raw = _read_npy(handle, source.stat().st_size, str(source))
        elif source.suffix == ".npz":
            with zipfile.ZipFile(source) as archive:
                members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
                if HEADER_KEY in members:
                    # a thermolearn file: only a Hopfield network holds patterns (it is checked whole)
                    net = Hopfield.load(source)
                    if net.patterns is None:
                        raise FileFormatError(f"{source}: the network keeps no stored patterns")
                    raw = np.array(net.patterns)
                else:
                    names = sorted(members)
                    if "patterns" in members:
                        chosen = "patterns"
                    elif len(names) == 1:
                        chosen = names[0]
                    else:
                        raise FileFormatError(
                            f"{source} holds arrays {names}; name the patterns array 'patterns'"[:300]
                        )
                    info = members[chosen]
                    if not info.filename.endswith(".npy"):
                        raise FileFormatError(f"{source}: member {info.filename!r} is not a NumPy array")
                    with archive.open(info) as handle:
                        raw = _read_npy(handle, info.file_size, str(source))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an empty file is refused below, not warned about
                raw = np.loadtxt(source, ndmin=2, encoding="utf-8")
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, ValueError, OSError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise FileFormatError(f"cannot read patterns from {source}: {detail}"[:400]) from None
    if raw.dtype.kind == "c":
        raise FileFormatError(f"{source}: patterns must be real spins -1/+1, got complex numbers ({raw.dtype})")
    try:
        return check_patterns(raw, binary=binary, name=f"patterns in {source}")
    except TypeError as exc:
        raise FileFormatError(str(exc)) from None
