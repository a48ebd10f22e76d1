"""The pairwise Ising model on any graph.

E(s) = - sum_{i<j} J_ij s_i s_j - sum_i h_i s_i, with spins s_i in {-1, +1}, J symmetric
with zero diagonal (stored as CSR holding both triangles), k_B = 1, p(s) = exp(-beta E)/Z.
Energies are totals (energy units of the couplings).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from thermolearn.file_contents import FileContents
from thermolearn.models.lattice import LatticeGeometry, lattice_bonds, lattice_bytes_per_site, normalise_shape
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.resources import check_memory
from thermolearn.storage import FileFormatError, save_arrays
from thermolearn.validation import (
    check_finite_array,
    check_finite_float,
    check_positive_int,
    check_spins,
)

if TYPE_CHECKING:  # pragma: no cover
    import dimod

    from thermolearn.models.ising_form import IsingForm

FILE_FORMAT = "thermolearn.Ising"
FILE_VERSION = 1


def _periodic_lattice_rows(
    dims: tuple[int, ...], couplings: tuple[float, ...], start: int, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR rows ``start:stop`` of a periodic hypercubic lattice whose sides are all >= 3: each
    site's 2d distinct neighbours (sorted) and their couplings, arrays of shape (rows, 2d)."""
    d = len(dims)
    coords = np.unravel_index(np.arange(start, stop, dtype=np.int64), dims)
    neighbours = np.empty((stop - start, 2 * d), dtype=np.int64)
    values = np.empty((stop - start, 2 * d), dtype=np.float64)
    for axis in range(d):
        for k, step in enumerate((1, -1)):
            moved = list(coords)
            moved[axis] = (coords[axis] + step) % dims[axis]
            neighbours[:, 2 * axis + k] = np.ravel_multi_index(tuple(moved), dims)
            values[:, 2 * axis + k] = couplings[axis]
    order = np.argsort(neighbours, axis=1, kind="stable")
    return np.take_along_axis(neighbours, order, axis=1), np.take_along_axis(values, order, axis=1)


def _periodic_lattice_csr(dims: tuple[int, ...], couplings: tuple[float, ...]) -> sp.csr_array:
    """CSR couplings of a periodic hypercubic lattice whose sides are all >= 3 and couplings all
    non-zero (2d distinct coupled neighbours per site), rows sorted, built a block of rows at a time."""
    n = int(np.prod(dims))
    d = len(dims)
    neighbours = np.empty((n, 2 * d), dtype=np.int64)
    values = np.empty((n, 2 * d), dtype=np.float64)
    for start in range(0, n, LATTICE_ROW_BLOCK):
        stop = min(n, start + LATTICE_ROW_BLOCK)
        neighbours[start:stop], values[start:stop] = _periodic_lattice_rows(dims, couplings, start, stop)
    indptr = np.arange(0, 2 * d * n + 1, 2 * d, dtype=np.int64)
    return sp.csr_array((values.ravel(), neighbours.ravel(), indptr), shape=(n, n))


#: rows of a periodic lattice's CSR built (or hashed) at a time: a few MB of temporaries
LATTICE_ROW_BLOCK = 1 << 15


def csr_blocks(model: Ising) -> Iterator[tuple[str, np.ndarray]]:
    """The model's CSR arrays as ``(name, block)`` pairs in the order indptr, indices, data --
    each array's blocks concatenated are the array -- without building the matrix of a periodic
    lattice that has not built it (what a fingerprint of a 4096 x 4096 lattice hashes in O(block))."""
    g = model.geometry
    if model._csr is not None or g is None:
        yield "indptr", model.indptr
        yield "indices", model.indices
        yield "data", model.data
        return
    n, d = model.n_spins, g.dim
    yield "indptr", np.arange(0, 2 * d * n + 1, 2 * d, dtype=np.int64)
    for which in ("indices", "data"):
        for start in range(0, n, LATTICE_ROW_BLOCK):
            neighbours, values = _periodic_lattice_rows(g.shape, g.couplings, start, min(n, start + LATTICE_ROW_BLOCK))
            yield which, (neighbours if which == "indices" else values).ravel()


class Ising:
    """A pairwise Ising model: symmetric sparse couplings J (CSR) and fields h.

    Build one with a constructor (:meth:`lattice`, :meth:`from_dense`, :meth:`from_edgelist`,
    :meth:`sherrington_kirkpatrick`, :meth:`edwards_anderson`, :meth:`from_qubo`,
    :meth:`from_bqm`) or :meth:`load`. The model is immutable after construction.
    """

    def __init__(
        self,
        couplings: sp.spmatrix | sp.sparray | np.ndarray,
        fields: np.ndarray | Sequence[float] | float | None = None,
        *,
        geometry: LatticeGeometry | None = None,
        name: str = "",
    ) -> None:
        if sp.issparse(couplings):
            _refuse_complex("couplings J", couplings.dtype)
            J = sp.csr_array(couplings, dtype=np.float64, copy=True)
        else:
            _refuse_complex("couplings J", np.asarray(couplings).dtype)
            dense = check_finite_array("couplings J", couplings, ndim=2)
            J = sp.csr_array(dense)
        if J.ndim != 2 or J.shape[0] != J.shape[1]:
            raise ValueError(f"couplings J must be a square (n, n) matrix, got shape {J.shape}")
        n = J.shape[0]
        if n == 0:
            raise ValueError("an Ising model needs at least one spin; got couplings J of shape (0, 0)")
        J.sum_duplicates()
        J.eliminate_zeros()
        J.sort_indices()
        if not np.all(np.isfinite(J.data)):
            raise ValueError("couplings J contain NaN or infinity; only finite values are allowed")
        if np.any(J.diagonal() != 0):
            raise ValueError("couplings J must have a zero diagonal (no self-interaction s_i s_i)")
        asym = abs(J - J.T)
        if asym.nnz:
            if asym.max() > 1e-12 * max(1.0, float(abs(J).max())):
                raise ValueError("couplings J must be symmetric (J_ij == J_ji); got an asymmetric matrix")
            # within the tolerance: store the symmetric part, which is what energy() computes
            # with, so edges(), to_qubo() and flip_energy_change() (one triangle or one row)
            # agree with it (as Hopfield and BoltzmannMachine do)
            J = sp.csr_array((J + J.T) * 0.5)
            J.sum_duplicates()
            J.eliminate_zeros()
            J.sort_indices()
        if fields is None:
            h = np.zeros(n)
        elif np.isscalar(fields):
            if isinstance(fields, complex | np.complexfloating):
                raise TypeError(f"field h must be a real number, got {fields!r}")
            h = np.full(n, check_finite_float("field h", fields))
        else:
            _refuse_complex("fields h", np.asarray(fields).dtype)
            h = check_finite_array("fields h", fields, ndim=1)
            if h.shape != (n,):
                raise ValueError(f"fields h must have shape ({n},) to match J, got {h.shape}")
        _check_energy_scale(J, h)
        if geometry is not None:
            # the lattice methods (Kaufman, transfer matrices, lattice kernels) compute from the
            # geometry alone, so a geometry that says something else than J and h is refused
            _check_geometry(geometry, J, h)
        self._csr: sp.csr_array | None = J
        self._h = np.array(h, dtype=np.float64)
        self._h.setflags(write=False)
        for arr in (J.data, J.indices, J.indptr):
            arr.setflags(write=False)
        self._geometry = geometry
        self.name = str(name)

    @classmethod
    def _from_own_csr(cls, J: sp.csr_array, h: np.ndarray, name: str) -> Ising:
        """A model from a CSR matrix built in this module, symmetric with a zero diagonal, finite,
        sorted and without duplicates by construction (the checks of ``__init__`` would copy it)."""
        model = cls.__new__(cls)
        model._csr = J
        model._h = np.array(h, dtype=np.float64)
        model._h.setflags(write=False)
        for arr in (J.data, J.indices, J.indptr):
            arr.setflags(write=False)
        model._geometry = None
        model.name = str(name)
        return model

    @property
    def geometry(self) -> LatticeGeometry | None:
        """The lattice these couplings and fields come from (None: any graph). Fixed, as the model:
        the lattice methods (Kaufman, transfer matrices, the lattice kernels, the energy) compute
        from it alone."""
        return self._geometry

    # ------------------------------------------------------------------ constructors
    @classmethod
    def lattice(
        cls,
        shape: int | Sequence[int],
        coupling: float | Sequence[float] = 1.0,
        field: float = 0.0,
        *,
        periodic: bool | Sequence[bool] = True,
    ) -> Ising:
        """Nearest-neighbour Ising model on a hypercubic lattice (1, 2 or 3 dimensions).

        ``shape`` gives the side lengths (sites numbered row-major); ``coupling`` is one J
        or one per axis; ``periodic`` is one flag or one per axis. Uniform field ``field``.
        """
        dims = normalise_shape(shape)
        d = len(dims)
        n_sites = float(np.prod([float(x) for x in dims]))
        couplings = tuple(check_finite_float("coupling", c) for c in _per_axis("coupling", coupling, d))
        wraps = tuple(_check_bool("periodic", p) for p in _per_axis("periodic", periodic, d))
        # the matrix is left unbuilt only where every site has 2d distinct, coupled neighbours: an
        # axis with J = 0 has no bonds, and the built matrix must hold none (edges(), n_edges and the
        # link overlap count the stored pairs)
        direct = all(wraps) and min(dims) >= 3 and all(c != 0.0 for c in couplings)
        check_memory(f"a {'x'.join(map(str, dims))} lattice", n_sites * lattice_bytes_per_site(d, direct))
        h = check_finite_float("field", field)
        n = int(np.prod(dims))
        label = "x".join(map(str, dims)) + (" periodic" if all(wraps) else " open" if not any(wraps) else " mixed")
        if direct:
            # every site has 2d distinct neighbours. The CSR couplings (72 bytes per site) are built
            # only when something asks for them: the lattice kernels, the energy and the cluster
            # samplers read the geometry alone, so a 4096 x 4096 run never holds the 1.2 GB matrix
            model = cls.__new__(cls)
            model._csr = None
            model._h = np.full(n, h, dtype=np.float64)
            model._h.setflags(write=False)
            model._geometry = LatticeGeometry(shape=dims, periodic=wraps, couplings=couplings, field=h)
            model.name = f"lattice {label}"
            if not np.isfinite(model.energy_scale()):
                raise ValueError(
                    f"the energy scale N sum |J_axis| + N |h| of this lattice is not finite in double precision "
                    f"(couplings {list(couplings)}, field {h}); rescale the couplings and the field"
                )
            return model
        rows, cols, vals = [], [], []
        for (i, j), J in zip(lattice_bonds(dims, wraps), couplings):
            rows += [i, j]
            cols += [j, i]
            vals += [np.full(i.size, J), np.full(i.size, J)]
        if rows:
            mat = sp.coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        else:
            mat = sp.coo_array((n, n))
        model = cls(mat.tocsr(), np.full(n, h), name=f"lattice {label}")
        # J and h were built from this geometry just above: attaching it skips rebuilding them to check
        model._geometry = LatticeGeometry(shape=dims, periodic=wraps, couplings=couplings, field=h)
        return model

    @classmethod
    def from_dense(
        cls, J: np.ndarray, h: np.ndarray | Sequence[float] | float | None = None, *, name: str = ""
    ) -> Ising:
        """Model from a dense symmetric coupling matrix ``J`` (zero diagonal) and fields ``h``."""
        return cls(check_finite_array("couplings J", J, ndim=2), h, name=name)

    @classmethod
    def from_edgelist(
        cls,
        source: str | os.PathLike | np.ndarray | Sequence[Sequence[float]],
        n_spins: int | None = None,
        *,
        fields: np.ndarray | float | None = None,
        one_based: bool | None = None,
    ) -> Ising:
        """Model with J_ij = w from an edge list: a file (``i j [w]`` lines) or an (m, 2|3) array.

        Files in the Gset format (a first line ``n m``, then ``i j w`` with 1-based indices)
        are recognised: a first line of two fields is a header when the edge lines hold three
        fields, or when exactly ``m`` edge lines of two fields with endpoints <= n follow it (see
        :mod:`thermolearn.models.edgelist`; where an unweighted file's header line could also be an
        edge, an ``AmbiguousHeaderWarning`` says so and how to tell). Plain files are read as 1-based unless
        ``one_based=False``; arrays are 0-based unless ``one_based=True``. An edge given twice
        (in either order) is refused, as are self-loops and endpoints out of range; errors
        name the file and the line. For max-cut, use :class:`thermolearn.models.MaxCut`, which
        builds the antiferromagnet J = -w.
        """
        from thermolearn.models.edgelist import edges_to_matrix, read_edgelist

        if one_based is not None and not isinstance(one_based, bool):
            raise TypeError(f"one_based must be True, False or None, got {one_based!r}")
        if isinstance(source, (str, os.PathLike)):
            base = 1 if one_based is None else int(one_based)
            edges = read_edgelist(source, one_based=bool(base))
            n_file, i, j, w, lines = edges.n_spins, edges.i, edges.j, edges.w, edges.lines
            name = Path(source).name
            where = str(source)
        else:
            _refuse_complex("edges", np.asarray(source).dtype)
            arr = check_finite_array("edges", source, ndim=2)
            if arr.shape[1] not in (2, 3):
                raise ValueError(f"edges must have shape (m, 2) or (m, 3) [i, j, w], got {arr.shape}")
            if np.any(arr[:, :2] != np.round(arr[:, :2])) or np.any(np.abs(arr[:, :2]) >= 2.0**62):
                raise ValueError("edge endpoints must be integers (below 2**62)")
            i, j = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
            w = arr[:, 2] if arr.shape[1] == 3 else np.ones(len(arr))
            n_file, lines = None, None
            base = 1 if one_based else 0
            name = where = "edge list"
        if n_spins is None:
            n_spins = n_file
        else:
            n_spins = check_positive_int("n_spins", n_spins)
        J = edges_to_matrix(i - base, j - base, w, n_spins, where=where, lines=lines, base=base)
        try:
            return cls(J, fields, name=name)
        except ValueError as exc:
            if lines is None:
                raise
            raise FileFormatError(f"{where}: {exc}") from None

    @classmethod
    def sherrington_kirkpatrick(
        cls, n_spins: int, *, coupling_std: float = 1.0, field: float = 0.0, seed: int | np.random.Generator | None = 0
    ) -> Ising:
        """Sherrington-Kirkpatrick spin glass: all-to-all J_ij ~ Normal(0, coupling_std^2 / N).

        With this scaling the spin-glass transition sits at T = coupling_std.
        """
        n = check_positive_int("n_spins", n_spins, minimum=2)
        std = check_finite_float("coupling_std", coupling_std)
        if std <= 0:
            raise ValueError(f"coupling_std must be > 0, got {std}")
        rng = numpy_generator(seed)
        upper = np.triu(rng.normal(0.0, std / np.sqrt(n), size=(n, n)), k=1)
        return cls(upper + upper.T, field, name=f"SK n={n}")

    @classmethod
    def edwards_anderson(
        cls,
        size: int,
        dim: int = 2,
        *,
        disorder: str = "pm",
        periodic: bool = True,
        field: float = 0.0,
        seed: int | np.random.Generator | None = 0,
    ) -> Ising:
        """Edwards-Anderson spin glass on an L^d lattice (d = 2 or 3) with random bonds.

        ``disorder='pm'``: J_ij = +-1 with equal probability; ``'gaussian'``: J_ij ~ Normal(0, 1).
        """
        L = check_positive_int("size", size, minimum=2)
        if dim not in (2, 3):
            raise ValueError(f"Edwards-Anderson dim must be 2 or 3, got {dim}")
        if disorder not in ("pm", "gaussian"):
            raise ValueError(f"disorder must be 'pm' (+-J) or 'gaussian', got {disorder!r}")
        rng = numpy_generator(seed)
        dims = (L,) * dim
        n = L**dim
        rows, cols, vals = [], [], []
        for i, j in lattice_bonds(dims, (bool(periodic),) * dim):
            if disorder == "pm":
                w = rng.choice(np.array([-1.0, 1.0]), size=i.size)
            else:
                w = rng.normal(size=i.size)
            rows += [i, j]
            cols += [j, i]
            vals += [w, w]
        mat = sp.coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        return cls(mat.tocsr(), field, name=f"EA {'x'.join(map(str, dims))} {disorder}")

    @classmethod
    def from_qubo(cls, Q: np.ndarray | sp.spmatrix | sp.sparray) -> IsingForm:
        """The Ising form of the QUBO f(x) = x^T Q x: ``form.ising`` and the exact
        ``form.offset`` with E_ising(s) + offset == f(x) for s = 2x - 1 (vartype 'binary')."""
        from thermolearn.models.qubo import qubo_to_ising

        return qubo_to_ising(Q)

    @classmethod
    def from_bqm(cls, bqm: dimod.BinaryQuadraticModel) -> IsingForm:
        """The Ising form of a dimod BinaryQuadraticModel: model, exact offset, and the BQM's
        variable of every spin (``form.labels``)."""
        from thermolearn.models.dimod_bridge import ising_from_bqm

        return ising_from_bqm(bqm)

    # ------------------------------------------------------------------ structure
    @property
    def _J(self) -> sp.csr_array:
        """The CSR couplings, built from the geometry on first use for a periodic lattice."""
        if self._csr is None:
            assert self.geometry is not None  # only Ising.lattice leaves the matrix unbuilt
            J = _periodic_lattice_csr(self.geometry.shape, self.geometry.couplings)
            for arr in (J.data, J.indices, J.indptr):
                arr.setflags(write=False)
            self._csr = J
            self._built_from_geometry = True
        return self._csr

    @property
    def couplings_from_geometry(self) -> bool:
        """True when J is the geometry's by construction (a periodic lattice made by
        :meth:`lattice`, whose CSR matrix is built only on first use): code that reads the
        geometry need not check the matrix against it."""
        return self._csr is None or getattr(self, "_built_from_geometry", False)

    @property
    def _is_periodic_lattice(self) -> bool:
        """A periodic lattice with sides >= 3 whose energy is computed from its geometry."""
        g = self.geometry
        return g is not None and all(g.periodic) and min(g.shape) >= 3

    @property
    def n_spins(self) -> int:
        """Number of spins N."""
        return int(self._h.shape[0])

    def energy_scale(self) -> float:
        """sum_{i<j} |J_ij| + sum_i |h_i| (energy units): no state's |E| exceeds it. A periodic
        lattice made by :meth:`lattice` reads it from its geometry (N sum_axes |J_a| + N |h|)
        without building its CSR matrix (72 bytes per site)."""
        g = self.geometry
        if self._is_periodic_lattice and self._csr is None and g is not None:
            n = self.n_spins
            return n * float(sum(abs(c) for c in g.couplings)) + n * abs(float(g.field))
        return float(np.sum(np.abs(self._J.data))) / 2 + float(np.sum(np.abs(self._h)))

    @property
    def couplings(self) -> sp.csr_array:
        """Symmetric CSR coupling matrix J (read-only; both triangles stored)."""
        return self._J

    @property
    def fields(self) -> np.ndarray:
        """Fields h, shape (n_spins,) (read-only)."""
        return self._h

    @property
    def indptr(self) -> np.ndarray:
        """Row pointers of the CSR coupling matrix J: spin i's neighbours are ``indices[indptr[i]:indptr[i + 1]]``."""
        return self._J.indptr

    @property
    def indices(self) -> np.ndarray:
        """Column indices of the CSR coupling matrix J (neighbours of each spin)."""
        return self._J.indices

    @property
    def data(self) -> np.ndarray:
        """Coupling values J_ij of the CSR matrix (both triangles)."""
        return self._J.data

    @property
    def n_edges(self) -> int:
        """Number of couplings: distinct bonds i < j."""
        if self._csr is None and self.geometry is not None:
            return self.geometry.dim * self.n_spins  # periodic, sides >= 3: d distinct bonds per site
        return int(self._J.nnz // 2)

    @property
    def is_ferromagnetic(self) -> bool:
        """True when every coupling is >= 0 (what cluster algorithms need)."""
        if self._csr is None and self.geometry is not None:
            return all(c >= 0 for c in self.geometry.couplings)
        return bool(np.all(self._J.data >= 0))

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges ``(i, j, J_ij)`` with i < j, as three arrays."""
        upper = sp.triu(self._J, k=1, format="coo")
        order = np.lexsort((upper.col, upper.row))
        return upper.row[order].astype(np.int64), upper.col[order].astype(np.int64), upper.data[order]

    def to_dense(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(J, h)``: J of shape (n, n), h of shape (n,)."""
        return self._J.toarray(), self._h.copy()

    # ------------------------------------------------------------------ physics
    def energy(self, states: np.ndarray) -> np.ndarray | float:
        """Total energy E(s) for one state (n,) -> float, or a batch (n_samples, n) -> (n_samples,)."""
        s = check_spins(states, self.n_spins)
        x = s.astype(np.float64)
        if self._is_periodic_lattice:
            e = self._lattice_energy(s)
        else:
            e = -0.5 * np.einsum("ki,ki->k", x, (self._J @ x.T).T) - x @ self._h
        return float(e[0]) if np.ndim(states) == 1 else e

    def _lattice_energy(self, s: np.ndarray) -> np.ndarray:
        """E = -sum_axes J_a sum_i s_i s_(i + e_a) - h sum_i s_i from the geometry, O(N) memory:
        the bond sums are exact integers, so this equals the CSR sum wherever that one is exact."""
        g = self.geometry
        assert g is not None
        k = s.shape[0]
        grid = s.reshape((k, *g.shape))
        e = np.zeros(k)
        for axis, coupling in enumerate(g.couplings):
            neighbour = np.roll(grid, -1, axis=axis + 1).reshape(k, -1)
            bonds = np.einsum("ki,ki->k", s, neighbour, dtype=np.int64)
            e -= coupling * bonds.astype(np.float64)
        return e - g.field * s.sum(axis=1, dtype=np.int64).astype(np.float64)

    def local_fields(self, states: np.ndarray) -> np.ndarray:
        """Local fields phi_i = h_i + sum_j J_ij s_j (energy units), same shape as ``states``."""
        s = check_spins(states, self.n_spins)
        phi = (self._J @ s.T.astype(np.float64)).T + self._h
        return phi[0] if np.ndim(states) == 1 else phi

    def flip_energy_change(self, states: np.ndarray, site: int) -> np.ndarray | float:
        """Energy change of flipping spin ``site``: Delta E = 2 s_i phi_i (one value per state)."""
        if isinstance(site, bool) or not isinstance(site, (int, np.integer)) or not 0 <= site < self.n_spins:
            raise ValueError(f"site must be an integer in [0, {self.n_spins - 1}], got {site!r}")
        s = check_spins(states, self.n_spins)
        row = slice(self._J.indptr[site], self._J.indptr[site + 1])
        phi = s[:, self._J.indices[row]].astype(np.float64) @ self._J.data[row] + self._h[site]
        de = 2.0 * s[:, site] * phi
        return float(de[0]) if np.ndim(states) == 1 else de

    def magnetization(self, states: np.ndarray) -> np.ndarray | float:
        """Total magnetisation M = sum_i s_i (one value per state)."""
        s = check_spins(states, self.n_spins)
        m = s.sum(axis=1, dtype=np.int64).astype(np.float64)
        return float(m[0]) if np.ndim(states) == 1 else m

    # ------------------------------------------------------------------ conversions
    def to_ising(self) -> IsingForm:
        """The model protocol (:class:`thermolearn.models.ising_form.IsingForm`): this model
        itself, offset 0, spins labelled 0..n-1."""
        from thermolearn.models.ising_form import IsingForm

        return IsingForm(self)

    def to_qubo(self) -> tuple[sp.csr_array, float]:
        """Upper-triangular QUBO ``Q`` (linear terms on the diagonal) and offset with
        x^T Q x + offset == E(s) for x = (1 + s) / 2."""
        from thermolearn.models.qubo import ising_to_qubo

        return ising_to_qubo(self)

    def to_bqm(self, offset: float = 0.0) -> dimod.BinaryQuadraticModel:
        """A dimod SPIN BinaryQuadraticModel with the same energies (plus ``offset``)."""
        from thermolearn.models.dimod_bridge import ising_to_bqm

        return ising_to_bqm(self, offset)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` (.npz arrays + JSON header), atomically; exact round trip."""
        header: dict[str, Any] = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "n_spins": self.n_spins,
            "name": self.name,
            "geometry": None if self.geometry is None else self.geometry.as_dict(),
        }
        arrays = {
            "indptr": np.asarray(self._J.indptr, dtype=np.int64),
            "indices": np.asarray(self._J.indices, dtype=np.int64),
            "couplings": np.asarray(self._J.data, dtype=np.float64),
            "fields": self._h,
        }
        return save_arrays(path, arrays, header)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Ising:
        """Read a model written by :meth:`save`.

        Nothing in the file is trusted: the header and the CSR arrays are checked (shapes,
        dtypes, index ranges, a canonical CSR structure, finite real values, a symmetric J with
        zero diagonal, a geometry that matches J and h) and every fault raises
        :class:`~thermolearn.storage.FileFormatError` naming the file.
        """
        contents = FileContents.read(path)
        contents.expect_format(FILE_FORMAT, range(1, FILE_VERSION + 1), what="thermolearn Ising model")
        contents.expect_names(["indptr", "indices", "couplings", "fields"])
        n = contents.value("n_spins", int, minimum=1)
        name = contents.value("name", str, default="")
        fields = contents.array("fields", shape=(n,), dtype=np.float64)
        indptr = contents.array("indptr", kinds="iu", shape=(n + 1,), minimum=0, dtype=np.int64)
        nnz = int(indptr[-1])
        if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise contents.fail("array 'indptr' must start at 0 and never decrease (a CSR index pointer)")
        indices = contents.array("indices", kinds="iu", shape=(nnz,), minimum=0, maximum=n - 1, dtype=np.int64)
        data = contents.array("couplings", shape=(nnz,), dtype=np.float64)
        # save() writes canonical CSR: strictly increasing columns within a row, so no entry is
        # given twice (scipy would add repeats up)
        if nnz > 1:
            step = np.diff(indices)
            row_start = np.zeros(nnz, dtype=bool)
            row_start[indptr[1:-1][indptr[1:-1] < nnz]] = True
            if np.any((step <= 0) & ~row_start[1:]):
                raise contents.fail("array 'indices' must list each row's columns once, in increasing order")
        geometry = _geometry_from_header(contents, n)
        try:
            J = sp.csr_array((data, indices, indptr), shape=(n, n))
            return cls(J, fields, geometry=geometry, name=name)
        except (ValueError, TypeError) as exc:
            raise contents.fail(str(exc)) from None

    # ------------------------------------------------------------------ comparison
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ising):
            return NotImplemented
        return (
            self.n_spins == other.n_spins
            and np.array_equal(self._h, other._h)
            and (self._J != other._J).nnz == 0
            and self.geometry == other.geometry
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<Ising{label}: {self.n_spins} spins, {self.n_edges} couplings>"


def check_ising_model(model: object, name: str = "model") -> Ising:
    """``model`` itself if it is a :class:`Ising` (couplings J and fields h), else a ``TypeError``
    naming ``name`` (a wrong object otherwise failed deep inside with an AttributeError)."""
    if not isinstance(model, Ising):
        raise TypeError(f"{name} must be a thermolearn.Ising, got {type(model).__name__}")
    return model


def _geometry_from_header(contents: FileContents, n_spins: int) -> LatticeGeometry | None:
    """The header's ``geometry`` (None or a hypercubic lattice of ``n_spins`` sites), checked."""
    data = contents.value("geometry", (dict, type(None)), default=None)
    if data is None:
        return None
    label = "header entry 'geometry'"
    contents.value("kind", str, choices=["hypercubic"], within=data, label=f"{label}: 'kind'")
    shape = contents.value("shape", list, within=data, label=f"{label}: 'shape'")
    if not 1 <= len(shape) <= 3 or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in shape):
        raise contents.fail(f"{label}: 'shape' must list 1 to 3 side lengths >= 1, got {shape!r}"[:300])
    if int(np.prod([float(x) for x in shape])) != n_spins:
        raise contents.fail(f"{label}: 'shape' {shape} has {int(np.prod(shape))} sites but the model has {n_spins}")
    d = len(shape)
    periodic = contents.value("periodic", list, within=data, label=f"{label}: 'periodic'")
    couplings = contents.value("couplings", list, within=data, label=f"{label}: 'couplings'")
    for key, values, ok in (
        ("periodic", periodic, lambda x: isinstance(x, bool)),
        ("couplings", couplings, lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x)),
    ):
        if len(values) != d or not all(ok(x) for x in values):
            kind = "true/false flags" if key == "periodic" else "finite numbers"
            raise contents.fail(f"{label}: {key!r} must hold {d} {kind} (one per axis), got {values!r}"[:300])
    field = contents.value("field", float, within=data, label=f"{label}: 'field'")
    return LatticeGeometry(
        shape=tuple(shape), periodic=tuple(periodic), couplings=tuple(float(c) for c in couplings), field=float(field)
    )


def _per_axis(name: str, value: Any, d: int) -> tuple:
    """One value per axis: ``value`` repeated, or a sequence of exactly ``d`` values."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = tuple(value)
        if len(values) != d:
            raise ValueError(f"{name} needs one value or one per axis ({d}), got {len(values)}")
        return values
    return (value,) * d


def _check_bool(name: str, value: object) -> bool:
    # bool("no") is True: only real booleans are flags
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False (one flag or one per axis), got {value!r}")
    return bool(value)


def _check_energy_scale(J: sp.csr_array, h: np.ndarray) -> None:
    """Refuse J and h whose energy scale sum_{i<j} |J_ij| + sum_i |h_i| overflows a float: every
    energy, bound and result computed from such a model would be infinite or NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        scale = float(np.sum(np.abs(J.data))) / 2 + float(np.sum(np.abs(h)))
    if not np.isfinite(scale):
        raise ValueError(
            "the energy scale sum |J_ij| + sum |h_i| of these couplings and fields is not finite in double "
            f"precision (largest |J| {float(np.max(np.abs(J.data), initial=0.0)):.3g}, largest |h| "
            f"{float(np.max(np.abs(h), initial=0.0)):.3g}); rescale the model so that energies stay below about 1e300"
        )


def _refuse_complex(name: str, dtype: np.dtype) -> None:
    # a cast to float64 would drop the imaginary part with only a warning
    if dtype.kind == "c":
        raise TypeError(f"{name} must be real numbers, got dtype {dtype}")


def _check_geometry(geometry: LatticeGeometry, J: sp.csr_array, h: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``J`` and ``h`` are exactly the lattice that ``geometry`` describes."""
    if not isinstance(geometry, LatticeGeometry):
        raise TypeError(f"geometry must be a LatticeGeometry, got {type(geometry).__name__}")
    n = J.shape[0]
    if geometry.n_sites != n:
        raise ValueError(f"lattice geometry {geometry.shape} has {geometry.n_sites} sites but J has {n}")
    if np.any(h != geometry.field):
        k = int(np.flatnonzero(h != geometry.field)[0])
        raise ValueError(
            f"the fields disagree with the lattice geometry: h[{k}] = {h[k]} but the geometry says a uniform "
            f"field {geometry.field}"
        )
    rows, cols, vals = [], [], []
    for (i, j), coupling in zip(lattice_bonds(geometry.shape, geometry.periodic), geometry.couplings):
        rows += [i, j]
        cols += [j, i]
        vals += [np.full(i.size, coupling), np.full(i.size, coupling)]
    if rows:
        expected = sp.coo_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        ).tocsr()
    else:
        expected = sp.csr_array((n, n))
    difference = abs(J - expected)
    scale = max(1.0, float(abs(J).max()) if J.nnz else 0.0)
    if difference.nnz and difference.max() > 1e-12 * scale:
        d = sp.coo_array(difference)
        k = int(np.argmax(d.data))
        row, col = int(d.row[k]), int(d.col[k])
        raise ValueError(
            f"the couplings disagree with the lattice geometry: J[{row}, {col}] = {J[row, col]} but the geometry "
            f"{geometry.shape} with couplings {list(geometry.couplings)} says {expected[row, col]}"
        )
