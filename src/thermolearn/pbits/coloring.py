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

from dataclasses import dataclass

import numpy as np
import scipy.sparse.csgraph as csgraph

from thermolearn.kernel_cache import njit
from thermolearn.models.ising import Ising, check_ising_model


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
    check_ising_model(model)
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


#: sites per random stream in chromatic kernels: a colour class is cut into blocks of this many
#: consecutive sites, each with its own xoshiro stream kept in registers while its block is
#: drawn. The cut depends on the graph only, never on the thread count, so every kernel
#: (serial, chains over threads, sites over threads) makes the same moves.
BLOCK_SITES = 256
#: largest input range (in units of the couplings' common unit) tabulated as thresholds
MAX_TABLE_INPUTS = 1 << 14
#: couplings and fields are tabulated when they are integer multiples of 2^-k for some
#: k <= this: sums of such numbers are exact in float64, so the table gives the same draws
_MAX_UNIT_EXPONENT = 16


@dataclass(frozen=True, eq=False)
class ChromaticPlan:
    """A model relabelled for chromatic p-bit kernels: each colour class is a contiguous range
    of positions, so a class is swept through consecutive CSR rows and spins.

    Attributes
    ----------
    order : (n,) int64, order[p] is the original p-bit at position p; position is its inverse.
    indptr, indices, data, fields : the couplings (CSR: indptr uint64, indices uint32, in
        positions) and fields, in position order.
    block_ptr : (n_blocks + 1,) int64, block b is positions block_ptr[b]:block_ptr[b + 1], all
        of one colour; class_block_ptr : (n_colours + 1,) int64, the blocks of colour k are
        class_block_ptr[k]:class_block_ptr[k + 1]. One random stream per block.
    unit : q when every coupling and field is an integer multiple of q = 2^-k (then every
        input I_i is an integer multiple of q and tanh(beta I) is tabulated), else None.
    reach : max_i (|h_i| + sum_j |J_ij|) / q, the table covers inputs -reach..reach (0 if
        unit is None).
    """

    order: np.ndarray
    position: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    fields: np.ndarray
    block_ptr: np.ndarray
    class_block_ptr: np.ndarray
    unit: float | None
    reach: int

    @property
    def n_blocks(self) -> int:
        return int(self.block_ptr.size - 1)

    @property
    def n_colours(self) -> int:
        return int(self.class_block_ptr.size - 1)

    @property
    def largest_class(self) -> int:
        """Sites in the largest colour class (the parallel work one class step offers)."""
        ends = self.block_ptr[self.class_block_ptr]
        return int(np.diff(ends).max()) if ends.size > 1 else 0

    def to_positions(self, states: np.ndarray) -> np.ndarray:
        """States (..., n) in original labels -> position order (a copy)."""
        return np.ascontiguousarray(np.asarray(states)[..., self.order])

    def to_labels(self, states: np.ndarray) -> np.ndarray:
        """States (..., n) in position order -> original labels (a copy)."""
        return np.ascontiguousarray(np.asarray(states)[..., self.position])

    def thresholds(self, betas: np.ndarray) -> np.ndarray:
        """Draw thresholds for each inverse temperature of ``betas``: (len(betas), 2 reach + 1)
        uint64, T[b, k + reach] such that p-bit i with input I = k q is +1 exactly when the top
        53 bits of its draw are below it (the same decision as tanh(beta I) > 2u - 1 computed in
        float64); shape (len(betas), 0) when the inputs are not tabulated."""
        b = np.ascontiguousarray(np.asarray(betas, dtype=np.float64).reshape(-1))
        if self.unit is None:
            return np.zeros((b.size, 0), dtype=np.uint64)
        from thermolearn.pbits.kernels import threshold_table

        return threshold_table(b, self.unit, self.reach)


def _dyadic_unit(values: np.ndarray) -> float | None:
    """The largest q = 2^-k (k = 0.._MAX_UNIT_EXPONENT) with every value an integer multiple of q."""
    for k in range(_MAX_UNIT_EXPONENT + 1):
        scaled = values * float(2**k)
        if np.all(scaled == np.round(scaled)) and (scaled.size == 0 or np.abs(scaled).max() < 2**40):
            return 2.0**-k
    return None


def chromatic_plan(model: Ising, colour: np.ndarray | None = None, *, block_sites: int = BLOCK_SITES) -> ChromaticPlan:
    """Relabel ``model`` so each colour class of ``colour`` (default :func:`graph_coloring`) is
    contiguous (original order kept inside a class: lattices keep their locality), cut each
    class into blocks of ``block_sites`` sites (one random stream each), and decide whether
    the inputs can be tabulated (couplings and fields integer multiples of a power of two,
    input range at most :data:`MAX_TABLE_INPUTS`)."""
    check_ising_model(model)
    if isinstance(block_sites, bool) or not isinstance(block_sites, int | np.integer) or block_sites < 1:
        raise ValueError(f"block_sites must be an integer >= 1, got {block_sites!r}")
    colour = graph_coloring(model) if colour is None else np.asarray(colour, dtype=np.int64)
    n = model.n_spins
    if colour.shape != (n,):
        raise ValueError(f"colour must have shape ({n},), got {colour.shape}")
    ptr, order = color_classes(colour)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    J = model.couplings[order][:, order].tocsr()
    J.sort_indices()
    i, j, _ = model.edges()
    if np.any(colour[i] == colour[j]):
        raise ValueError("colour is not a proper colouring: two coupled p-bits share a colour")
    blocks = [0]
    class_blocks = [0]
    for k in range(ptr.size - 1):
        start, stop = int(ptr[k]), int(ptr[k + 1])
        blocks.extend(range(start + block_sites, stop, block_sites))
        if stop > start:
            blocks.append(stop)
        class_blocks.append(len(blocks) - 1)
    fields = np.ascontiguousarray(model.fields[order], dtype=np.float64)
    data = np.ascontiguousarray(J.data, dtype=np.float64)
    unit = _dyadic_unit(np.concatenate([data, fields]))
    reach = 0
    if unit is not None:
        row_sums = np.add.reduceat(np.abs(data), J.indptr[:-1]) if data.size else np.zeros(n)
        row_sums[np.diff(J.indptr) == 0] = 0.0
        reach = int(round(float((np.abs(fields) + row_sums).max(initial=0.0)) / unit))
        if reach > MAX_TABLE_INPUTS:
            unit, reach = None, 0
    return ChromaticPlan(
        order=order,
        position=position,
        indptr=J.indptr.astype(np.uint64),  # unsigned: no negative-index check per neighbour
        indices=J.indices.astype(np.uint32),
        data=data,
        fields=fields,
        block_ptr=np.asarray(blocks, dtype=np.int64),
        class_block_ptr=np.asarray(class_blocks, dtype=np.int64),
        unit=unit,
        reach=reach,
    )
