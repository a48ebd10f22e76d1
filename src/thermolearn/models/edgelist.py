"""Edge-list files: ``i j [w]`` per line, optionally headed by ``n m`` (the Gset format).

The header rule (one rule, so a file is never read two ways): the first data line is a header
``n m`` when it holds exactly two fields and either

- the edge lines hold three fields (``i j w``: a weighted Gset file), or
- the edge lines hold two fields, there are exactly ``m`` of them after it, and no endpoint
  exceeds ``n`` (so ``3 2 / 1 2 / 2 3`` is a path of 3 spins with a header, while the
  triangle ``1 2 / 2 3 / 3 1`` has none).

Otherwise the first line is an edge. An unweighted file that the rule reads with a header but
whose first line would also be a valid edge (two distinct endpoints in range, not an edge given
again later) can be read both ways -- ``5 3 / 1 2 / 2 3 / 3 4`` is 3 edges on 5 spins after a
header, or a path of 4 edges -- so it is read with the header, as the rule says, never silently:
an :class:`AmbiguousHeaderWarning` names both readings and how to say which is meant (a weight
column on every edge line, ``1 2 1``, makes the header certain; moving another edge to the first
line, or weighting every line including the first, makes it an edge). Turn the warning into an
error (``warnings.simplefilter("error", AmbiguousHeaderWarning)``) to refuse such files.

A header's ``n`` and ``m`` must be integers (n >= 1, m >= 0) and ``m`` must equal the number
of edge lines. Every edge line holds the same number of fields (all ``i j`` or all ``i j w``).
Every error names the file, and the line where there is one.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from thermolearn.resources import check_memory
from thermolearn.storage import FileFormatError

# bytes per spin of an Ising model built from an edge list: the CSR index pointer (int64, and
# the counting copy scipy makes converting COO to CSR), the fields, and a copy of the fields
BYTES_PER_SPIN = 40
# bytes per edge: two COO entries (row, column, value) and the CSR indices and data
BYTES_PER_EDGE = 2 * (8 + 8 + 8) + 2 * (8 + 8)


class AmbiguousHeaderWarning(UserWarning):
    """An unweighted edge list whose first line reads as a header ``n m`` and as an edge alike."""


@dataclass(frozen=True)
class EdgeList:
    """Edges as read from a file: endpoints as written (not yet shifted), weights, and the
    line each edge came from (for messages)."""

    i: np.ndarray
    j: np.ndarray
    w: np.ndarray
    n_spins: int | None  # from an ``n m`` header line, if the file has one
    lines: np.ndarray | None = None


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _unweighted_header(first: list[str], rest: list[tuple[int, list[str]]]) -> bool:
    """Whether ``n m`` heads unweighted edges: m of them follow, and n spins hold their endpoints."""
    if not (_is_int(first[0]) and _is_int(first[1])) or int(first[1]) != len(rest):
        return False
    n = int(first[0])
    try:
        top = max((max(int(f[0]), int(f[1])) for _, f in rest if len(f) == 2), default=0)
    except ValueError:
        return False
    return top <= n


def _also_an_edge(first: list[str], rest: list[tuple[int, list[str]]], base: int) -> bool:
    """Whether the first line ``a b`` read as an edge would be valid too: distinct endpoints
    >= ``base`` that no later line gives again (so a header reading is not the only one)."""
    a, b = int(first[0]), int(first[1])
    if a == b or min(a, b) < base:
        return False
    pair = {a, b}
    return not any(len(f) == 2 and _is_int(f[0]) and _is_int(f[1]) and {int(f[0]), int(f[1])} == pair for _, f in rest)


def read_edgelist(path: str | os.PathLike, *, one_based: bool = True) -> EdgeList:
    """Parse an edge-list file (see the module docstring for the header rule). ``#`` and ``%``
    start comments; ``one_based`` says how endpoints count (only to tell whether a header line
    could also be an edge: :class:`AmbiguousHeaderWarning`). Raises :class:`~thermolearn.storage.FileFormatError` naming
    the file."""
    source = Path(path)
    if not source.is_file():
        raise FileFormatError(f"no such edge-list file: {source}")
    rows: list[tuple[int, list[str]]] = []  # (line number, fields)
    try:
        with open(source, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                text = line.split("#", 1)[0].split("%", 1)[0].strip()
                if text:
                    rows.append((number, text.split()))
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{source}: not a UTF-8 text edge list ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise FileFormatError(f"{source}: cannot read the edge list ({exc.strerror or exc})") from None
    if not rows:
        raise FileFormatError(f"{source} holds no edges (lines 'i j' or 'i j w', optionally after a header 'n m')")
    header_n = header_m = None
    first_number, first = rows[0]
    rest = rows[1:]
    unweighted_header = len(first) == 2 and not (rest and len(rest[0][1]) == 3) and _unweighted_header(first, rest)
    if unweighted_header and _also_an_edge(first, rest, int(one_based)):
        n, m = int(first[0]), int(first[1])
        top = max(n, m, max((max(int(f[0]), int(f[1])) for _, f in rest), default=0))
        warnings.warn(
            f"{source}, line {first_number}: the first line '{n} {m}' is read as a header 'n m' ({n} spins, "
            f"the {m} edges that follow), but it could also be the edge {n}-{m} ({len(rest) + 1} edges on "
            f"{top + int(not one_based)} spins). To make the header certain, add a weight column to every edge "
            "line ('i j 1'); if it is an edge, move another edge to the first line or add a weight to every "
            "line, the first included",
            AmbiguousHeaderWarning,
            stacklevel=3,
        )
    if len(first) == 2 and ((rest and len(rest[0][1]) == 3) or unweighted_header):
        try:
            header_n, header_m = int(first[0]), int(first[1])
        except ValueError:
            raise FileFormatError(
                f"{source}, line {first_number}: a header must be two integers 'n m', got {' '.join(first)!r}"
            ) from None
        if header_n < 1 or header_m < 0:
            raise FileFormatError(
                f"{source}, line {first_number}: a header 'n m' needs n >= 1 spins and m >= 0 edges, "
                f"got {' '.join(first)!r}"
            )
        if header_m != len(rest):
            raise FileFormatError(f"{source}: header announces {header_m} edges but the file has {len(rest)}")
        rows = rest
    width = len(rows[0][1]) if rows else 2
    i = np.empty(len(rows), dtype=np.int64)
    j = np.empty(len(rows), dtype=np.int64)
    w = np.ones(len(rows), dtype=np.float64)
    lines = np.empty(len(rows), dtype=np.int64)
    for k, (number, fields) in enumerate(rows):
        where = f"{source}, line {number}"
        if len(fields) not in (2, 3):
            raise FileFormatError(f"{where}: expected 'i j' or 'i j w', got {' '.join(fields)[:80]!r}")
        if len(fields) != width:
            raise FileFormatError(
                f"{where}: every edge line must hold {width} fields like the first ('i j' or 'i j w'), "
                f"got {' '.join(fields)[:80]!r}"
            )
        try:
            a, b = int(fields[0]), int(fields[1])
            if len(fields) == 3:
                w[k] = float(fields[2])
        except ValueError:
            raise FileFormatError(
                f"{where}: expected integers i j and a number w, got {' '.join(fields)[:80]!r}"
            ) from None
        # endpoints beyond int64 cannot name a spin (and would overflow the array)
        if not -(2**62) < a < 2**62 or not -(2**62) < b < 2**62:
            raise FileFormatError(f"{where}: edge endpoint out of range, got {' '.join(fields[:2])[:80]!r}")
        i[k], j[k] = a, b
        if not np.isfinite(w[k]):
            raise FileFormatError(f"{where}: weight must be a finite number, got {fields[2][:40]!r}")
        lines[k] = number
    return EdgeList(i=i, j=j, w=w, n_spins=header_n, lines=lines)


def edges_to_matrix(
    i: np.ndarray,
    j: np.ndarray,
    w: np.ndarray,
    n_spins: int | None,
    *,
    where: str = "edge list",
    lines: np.ndarray | None = None,
    base: int = 0,
) -> sp.csr_array:
    """Symmetric CSR matrix with J_ij = J_ji = w for 0-based endpoints.

    Refused (``ValueError`` naming ``where`` and the line, or the row when ``lines`` is None):
    negative endpoints, endpoints past ``n_spins``, self-loops, and an edge given twice (in
    either order: repeats are not added up silently). ``base`` is only used to show endpoints
    as they were written. The matrix's memory is checked before it is built.
    """

    # a file's faults are FileFormatErrors (ValueErrors naming the file); an array's plain ValueErrors
    fail = FileFormatError if lines is not None else ValueError

    def at(k: int) -> str:
        return f"{where}, line {int(lines[k])}" if lines is not None else f"{where}, row {k}"

    if i.size:
        low = np.flatnonzero(np.minimum(i, j) < 0)
        if low.size:
            k = int(low[0])
            raise fail(
                f"{at(k)}: edge endpoint {int(min(i[k], j[k])) + base} is below {base} "
                f"(indices are {'1' if base else '0'}-based)"
            )
    top = int(max(i.max(), j.max()) + 1) if i.size else 0
    n = top if n_spins is None else int(n_spins)
    if n <= 0:
        raise fail(f"{where}: an edge list needs at least one spin, got n = {n}")
    if top > n:
        k = int(np.flatnonzero(np.maximum(i, j) >= n)[0])
        raise fail(
            f"{at(k)}: edge endpoint {int(max(i[k], j[k])) + base} is out of range for {n} spins "
            f"(indices {base} to {n - 1 + base})"
        )
    loops = np.flatnonzero(i == j)
    if loops.size:
        k = int(loops[0])
        raise fail(f"{at(k)}: self-loop on spin {int(i[k]) + base}: the diagonal of J must be zero")
    check_memory(f"{where}: a model of {n} spins and {i.size} edges", n * BYTES_PER_SPIN + i.size * BYTES_PER_EDGE)
    if i.size:
        a, b = np.minimum(i, j), np.maximum(i, j)
        order = np.lexsort((b, a))
        same = np.flatnonzero((a[order][1:] == a[order][:-1]) & (b[order][1:] == b[order][:-1]))
        if same.size:
            k1, k2 = sorted((int(order[same[0]]), int(order[same[0] + 1])))
            second = f"line {int(lines[k2])}" if lines is not None else f"row {k2}"
            raise fail(
                f"{at(k1)}: the edge {int(a[k1]) + base}-{int(b[k1]) + base} is given again on {second}; "
                "give each edge once (sum the weights yourself if that is meant)"
            )
    mat = sp.coo_array((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    return mat.tocsr()
