"""Edge-list files: ``i j [w]`` per line, optionally headed by ``n m`` (the Gset format)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class EdgeList:
    """Edges as read from a file: endpoints as written (not yet shifted) and weights."""

    i: np.ndarray
    j: np.ndarray
    w: np.ndarray
    n_spins: int | None  # from an ``n m`` header line, if the file has one


def read_edgelist(path: str | os.PathLike) -> EdgeList:
    """Parse an edge-list file. ``#`` and ``%`` start comments; a leading ``n m`` line is a
    Gset-style header, and the number of edges it announces is checked."""
    source = Path(path)
    if not source.is_file():
        raise ValueError(f"no such edge-list file: {source}")
    rows: list[list[Any]] = []  # [line number, field, field, ...]
    with open(source, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].split("%", 1)[0].strip()
            if text:
                rows.append([number, *text.split()])
    if not rows:
        raise ValueError(f"{source} holds no edges")
    header_n = header_m = None
    if len(rows[0]) == 3 and (len(rows) == 1 or len(rows[1]) == 4):
        try:
            header_n, header_m = int(rows[0][1]), int(rows[0][2])
        except ValueError:
            raise ValueError(
                f"{source}, line {rows[0][0]}: expected integers 'n m', got {' '.join(rows[0][1:])!r}"
            ) from None
        rows = rows[1:]
    i = np.empty(len(rows), dtype=np.int64)
    j = np.empty(len(rows), dtype=np.int64)
    w = np.ones(len(rows), dtype=np.float64)
    for k, (number, *fields) in enumerate(rows):
        if len(fields) not in (2, 3):
            raise ValueError(f"{source}, line {number}: expected 'i j' or 'i j w', got {' '.join(fields)!r}")
        try:
            i[k], j[k] = int(fields[0]), int(fields[1])
            if len(fields) == 3:
                w[k] = float(fields[2])
        except ValueError:
            raise ValueError(
                f"{source}, line {number}: expected integers i j and a number w, got {' '.join(fields)!r}"
            ) from None
        if not np.isfinite(w[k]):
            raise ValueError(f"{source}, line {number}: weight must be finite, got {fields[2]}")
    if header_m is not None and header_m != len(rows):
        raise ValueError(f"{source}: header announces {header_m} edges but the file has {len(rows)}")
    return EdgeList(i=i, j=j, w=w, n_spins=header_n)


def edges_to_matrix(i: np.ndarray, j: np.ndarray, w: np.ndarray, n_spins: int | None) -> sp.csr_array:
    """Symmetric CSR matrix with J_ij = J_ji = w for 0-based endpoints (repeats add up)."""
    if i.size and (min(i.min(), j.min()) < 0):
        raise ValueError("edge endpoints must be >= 0 after the index base is removed (1-based files start at 1)")
    top = int(max(i.max(), j.max()) + 1) if i.size else 0
    n = top if n_spins is None else int(n_spins)
    if n <= 0:
        raise ValueError(f"an edge list needs at least one spin, got n = {n}")
    if top > n:
        raise ValueError(f"edge endpoint {top - 1} (0-based) is out of range for {n} spins")
    if np.any(i == j):
        k = int(np.flatnonzero(i == j)[0])
        raise ValueError(f"self-loop on spin {i[k]} (0-based): the diagonal of J must be zero")
    mat = sp.coo_array((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    return mat.tocsr()
