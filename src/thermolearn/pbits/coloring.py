"""Graph colouring for chromatic (graph-coloured parallel) p-bit updates.

Two p-bits that share no coupling do not read each other, so every p-bit of one colour
class can be drawn at the same instant from the same state: a sweep over the colour
classes in turn is exactly a sequential Gibbs sweep in the order of the classes, and so
leaves exp(-beta E) invariant (the sparse Ising machines of Aadit et al. 2022 update each
class on one clock edge). Fewer colours mean more parallel work per clock.

A bipartite graph (square lattices with even sides, trees, RBMs) gets its optimal two
colours by breadth-first search; any other graph a greedy colouring in order of decreasing
degree (Welsh and Powell 1967: at most max degree + 1 colours).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.csgraph as csgraph
from numba import njit

from thermolearn.models.ising import Ising


@njit(cache=True)
def _greedy_colours(indptr, indices, order):
    """Each site in ``order`` takes the smallest colour none of its coloured neighbours has."""
    n = indptr.size - 1
    colour = np.full(n, -1, dtype=np.int64)
    taken = np.full(n + 1, -1, dtype=np.int64)  # taken[k] == i: colour k is used by a neighbour of i
    for i in order:
        for p in range(indptr[i], indptr[i + 1]):
            k = colour[indices[p]]
            if k >= 0:
                taken[k] = i
        k = 0
        while taken[k] == i:
            k += 1
        colour[i] = k
    return colour


def _two_colouring(model: Ising) -> np.ndarray | None:
    """Colours 0/1 of a bipartite interaction graph, or None if the graph has an odd cycle."""
    n = model.n_spins
    colour = np.full(n, -1, dtype=np.int64)
    for root in range(n):
        if colour[root] >= 0:
            continue
        nodes, predecessors = csgraph.breadth_first_order(
            model.couplings, root, directed=False, return_predecessors=True
        )
        colour[root] = 0
        for v in nodes[1:]:
            colour[v] = 1 - colour[predecessors[v]]
    i, j, _ = model.edges()
    return None if np.any(colour[i] == colour[j]) else colour


def graph_coloring(model: Ising) -> np.ndarray:
    """A proper colouring of the interaction graph of ``model``: colour[i] (int64, shape (n,)),
    colours 0..k-1, with J_ij != 0 implying colour[i] != colour[j].

    Bipartite graphs get two colours (one if there is no coupling); others a greedy colouring
    in order of decreasing degree.
    """
    if not isinstance(model, Ising):
        raise TypeError(f"model must be a thermolearn.Ising, got {type(model).__name__}")
    if model.n_edges == 0:
        return np.zeros(model.n_spins, dtype=np.int64)
    two = _two_colouring(model)
    if two is not None:
        return two
    degree = np.diff(model.indptr)
    order = np.argsort(-degree, kind="stable").astype(np.int64)
    return _greedy_colours(model.indptr.astype(np.int64), model.indices.astype(np.int64), order)


def color_classes(colour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colour classes as CSR-like arrays ``(class_ptr, class_sites)``: the sites of colour k
    are ``class_sites[class_ptr[k]:class_ptr[k + 1]]`` (int64, increasing)."""
    colour = np.asarray(colour, dtype=np.int64)
    k = int(colour.max()) + 1 if colour.size else 0
    sites = np.argsort(colour, kind="stable").astype(np.int64)
    ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(colour, minlength=k), out=ptr[1:])
    return ptr, sites
