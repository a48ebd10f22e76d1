"""The transverse-field Ising Hamiltonian on any graph, as a dense, sparse or matrix-free operator.

H = -sum_{i<j} J_ij sz_i sz_j - sum_i h_i sz_i - sum_i Gamma_i sx_i, with (J, h) from a
:class:`thermolearn.models.Ising` and transverse fields Gamma_i >= 0 (k_B = 1, energies are totals,
in units of the couplings).

Basis convention (used by every quantum module): basis index k in [0, 2^N); spin i is +1 when
bit i of k is 0 and -1 when it is 1. sz is diagonal in this basis, so the diagonal of H is the
classical Ising energy of each basis state, and sx_i flips bit i.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.resources import check_memory, format_bytes
from thermolearn.validation import check_finite_array, check_positive_int

# 2^14 x 2^14 float64 is 2 GiB: the largest dense matrix worth diagonalising on a workstation
MAX_DENSE_SPINS = 14
# a state vector of 2^30 float64 is 8 GiB; beyond that even matrix-free Lanczos is out of reach
MAX_BASIS_SPINS = 30
# rows of the basis handled at once when computing the diagonal (bounds the temporaries)
_CHUNK = 1 << 20


def check_ising(ising: object, name: str = "ising") -> Ising:
    """Return ``ising`` if it is a :class:`thermolearn.models.Ising`, else raise ``TypeError``."""
    return check_ising_model(ising, name)


def check_transverse(transverse: object, n_spins: int, name: str = "transverse field Gamma") -> np.ndarray:
    """Per-site transverse fields Gamma_i >= 0 as a float64 array of length ``n_spins``.

    ``transverse`` is one number (the same Gamma on every site) or one number per site; complex,
    NaN, infinite and negative values are refused (Gamma >= 0 is the sign convention: the sign of
    Gamma_i can always be absorbed by rotating spin i about z).
    """
    if isinstance(transverse, bool):
        raise TypeError(f"{name} must be a real number >= 0 or one per spin, got {transverse!r}")
    if isinstance(transverse, complex | np.complexfloating):
        raise TypeError(f"{name} must be real, got the complex value {transverse!r}")
    if isinstance(transverse, Real):
        values = np.full(n_spins, float(transverse))
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be a finite number >= 0, got {transverse}")
    else:
        values = check_finite_array(name, transverse, ndim=1)  # type: ignore[arg-type]
        if values.shape != (n_spins,):
            raise ValueError(f"{name} must be one number or {n_spins} numbers (one per spin), got shape {values.shape}")
    if np.any(values < 0):
        raise ValueError(
            f"{name} must be >= 0 on every site (the sign is a rotation about z), got {float(values.min())}"
        )
    return values.astype(np.float64)


def check_basis_size(n_spins: int, bytes_per_state: float, what: str, *, limit: int = MAX_BASIS_SPINS) -> None:
    """Refuse a Hilbert space of 2^n_spins states that is beyond ``limit`` spins or the free memory."""
    if n_spins > limit:
        raise ValueError(
            f"{what} for N = {n_spins} spins is out of reach: the Hilbert space has 2^{n_spins} states "
            f"and this method handles N <= {limit}"
        )
    check_memory(f"{what} for N = {n_spins} spins", float(2.0**n_spins) * bytes_per_state, hint="use fewer spins")


def spin_table(n_spins: int) -> np.ndarray:
    """All 2^N basis states as int8 spins, shape (2^N, N): row k, column i is +1 if bit i of k is 0."""
    n_spins = check_positive_int("n_spins", n_spins)
    check_basis_size(n_spins, n_spins + 8.0, "the spin table", limit=24)
    k = np.arange(2**n_spins, dtype=np.int64)
    bits = (k[:, None] >> np.arange(n_spins, dtype=np.int64)[None, :]) & 1
    return (1 - 2 * bits).astype(np.int8)


def basis_energies(ising: Ising, basis: np.ndarray) -> np.ndarray:
    """Classical Ising energy (total) of the basis states with indices ``basis`` (int64 array)."""
    model = check_ising(ising)
    k = np.asarray(basis, dtype=np.int64)
    rows, cols, weights = model.edges()
    fields = model.fields
    energy = np.zeros(k.shape)
    for i in range(model.n_spins):
        if fields[i] != 0.0:
            energy -= fields[i] * (1 - 2 * ((k >> i) & 1))
    for i, j, w in zip(rows, cols, weights):
        # s_i s_j = +1 when bits i and j agree, -1 when they differ
        energy -= w * (1 - 2 * (((k >> i) ^ (k >> j)) & 1))
    return energy


def diagonal_energies(ising: Ising) -> np.ndarray:
    """Classical Ising energy E(s_k) of every basis state k (float64, length 2^N, totals).

    This is the diagonal of H in the sz basis: -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i.
    """
    model = check_ising(ising)
    n = model.n_spins
    check_basis_size(n, 8.0 * 3, "the diagonal of H")
    size = 2**n
    out = np.empty(size, dtype=np.float64)
    for start in range(0, size, _CHUNK):
        stop = min(size, start + _CHUNK)
        out[start:stop] = basis_energies(model, np.arange(start, stop, dtype=np.int64))
    return out


def _flip_bit(vector: np.ndarray, site: int, n_spins: int) -> np.ndarray:
    """``vector[k ^ (1 << site)]`` for every k, as a view: bit ``site`` is axis 1 of this reshape."""
    return vector.reshape(2 ** (n_spins - 1 - site), 2, 2**site)[:, ::-1, :].reshape(-1)


def dense_hamiltonian(ising: Ising, transverse: object) -> np.ndarray:
    """The TFIM Hamiltonian as a dense (2^N, 2^N) float64 matrix (energy units of J; N <= 14).

    H = -sum J_ij sz_i sz_j - sum h_i sz_i - sum Gamma_i sx_i in the basis of the module docstring.
    """
    model = check_ising(ising)
    n = model.n_spins
    gamma = check_transverse(transverse, n)
    if n > MAX_DENSE_SPINS:
        raise ValueError(
            f"a dense Hamiltonian for N = {n} spins would be a 2^{n} x 2^{n} matrix "
            f"({format_bytes(8.0 * 4.0**n)}); full diagonalisation is limited to N <= {MAX_DENSE_SPINS}: "
            "use sparse_hamiltonian / hamiltonian_operator with Lanczos (method 'lanczos')"
        )
    check_memory(f"a dense Hamiltonian for N = {n} spins", 8.0 * 4.0**n * 1.1, hint="use Lanczos (method 'lanczos')")
    size = 2**n
    H = np.zeros((size, size))
    H[np.diag_indices(size)] = diagonal_energies(model)
    k = np.arange(size)
    for i in range(n):
        if gamma[i] != 0.0:
            H[k, k ^ (1 << i)] = -gamma[i]
    return H


def sparse_hamiltonian(ising: Ising, transverse: object) -> sp.csr_array:
    """The TFIM Hamiltonian as a scipy CSR array of shape (2^N, 2^N) (energy units of J).

    One diagonal entry (the classical energy) and one entry -Gamma_i per site i with Gamma_i != 0
    in every row.
    """
    model = check_ising(ising)
    n = model.n_spins
    gamma = check_transverse(transverse, n)
    active = np.flatnonzero(gamma != 0.0)
    per_row = 1 + active.size
    # data (8) + column index (8 while building, 4 after) per entry, plus the diagonal's temporaries
    check_basis_size(n, per_row * 24.0 + 32.0, "a sparse Hamiltonian", limit=26)
    size = 2**n
    k = np.arange(size, dtype=np.int64)
    cols = np.empty((size, per_row), dtype=np.int64)
    data = np.empty((size, per_row))
    cols[:, 0] = k
    data[:, 0] = diagonal_energies(model)
    for slot, i in enumerate(active, start=1):
        cols[:, slot] = k ^ (1 << int(i))
        data[:, slot] = -gamma[i]
    indptr = np.arange(0, size * per_row + 1, per_row, dtype=np.int64)
    H = sp.csr_array((data.reshape(-1), cols.reshape(-1), indptr), shape=(size, size))
    H.sort_indices()
    return H


class HamiltonianOperator(LinearOperator):
    """The TFIM Hamiltonian as a matrix-free symmetric operator (for ``scipy.sparse.linalg.eigsh``).

    Stores only the diagonal (2^N float64); a product costs one pass per site with Gamma_i != 0.
    """

    def __init__(self, ising: Ising, transverse: object) -> None:
        model = check_ising(ising)
        n = model.n_spins
        self.n_spins = n
        self._transverse = np.array(check_transverse(transverse, n), dtype=np.float64)  # its own copy, read-only
        self._transverse.setflags(write=False)
        # the diagonal plus a few vectors of Lanczos work space
        check_basis_size(n, 8.0 * 6, "a matrix-free Hamiltonian")
        self.diagonal = diagonal_energies(model)
        super().__init__(dtype=np.float64, shape=(2**n, 2**n))

    @property
    def transverse(self) -> np.ndarray:
        """Gamma_i per site (read-only; for another field make another operator, or reuse its
        diagonal: it does not depend on Gamma)."""
        return self._transverse

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        v = np.asarray(x).reshape(-1)
        y = self.diagonal * v
        for i in np.flatnonzero(self._transverse != 0.0):
            y -= self._transverse[i] * _flip_bit(v, int(i), self.n_spins)
        return y

    def _rmatvec(self, x: np.ndarray) -> np.ndarray:
        return self._matvec(x)  # H is real symmetric

    def _adjoint(self) -> HamiltonianOperator:
        return self


def hamiltonian_operator(ising: Ising, transverse: object) -> HamiltonianOperator:
    """The TFIM Hamiltonian as a matrix-free :class:`scipy.sparse.linalg.LinearOperator` (units of J)."""
    return HamiltonianOperator(ising, transverse)


def transverse_chain(
    n_spins: int, field: float, coupling: float = 1.0, *, periodic: bool = True
) -> tuple[Ising, np.ndarray]:
    """The 1D chain H = -J sum sz_i sz_{i+1} - Gamma sum sx_i as ``(ising, transverse)``."""
    model = Ising.lattice(n_spins, coupling, 0.0, periodic=periodic)
    return model, check_transverse(field, model.n_spins, "field")
