"""QUBO <-> Ising: binary x in {0, 1} and spins s = 2x - 1, with the exact constant offset.

A QUBO is f(x) = x^T Q x (linear terms on the diagonal, since x_i^2 = x_i). For every state,
E_ising(s) + offset == f(x) (``qubo_to_ising``, which returns an
:class:`~thermolearn.models.ising_form.IsingForm`, like every model's ``to_ising``) and
f(x) + offset == E_ising(s) (``ising_to_qubo``). :class:`QUBO` is the problem as a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from thermolearn.validation import check_finite_array, check_finite_float

if TYPE_CHECKING:  # pragma: no cover
    from thermolearn.models.ising import Ising
    from thermolearn.models.ising_form import IsingForm


def spins_to_binary(states: np.ndarray) -> np.ndarray:
    """Map spins {-1, +1} to binary units {0, 1}: x = (1 + s) / 2."""
    s = np.asarray(states)
    if not np.all((s == 1) | (s == -1)):
        raise ValueError("spins must be -1 or +1")
    return ((s + 1) // 2).astype(np.int8)


def binary_to_spins(states: np.ndarray) -> np.ndarray:
    """Map binary units {0, 1} to spins {-1, +1}: s = 2x - 1."""
    x = np.asarray(states)
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("binary units must be 0 or 1")
    return (2 * x - 1).astype(np.int8)


def qubo_energy(Q: np.ndarray | sp.spmatrix | sp.sparray, x: np.ndarray, offset: float = 0.0) -> np.ndarray:
    """f(x) = x^T Q x + offset for binary states x of shape (n,) or (n_samples, n): one value per state
    (an array of shape (n_samples,), or (1,) for one state). Q must be square and finite, x in {0, 1}
    with n = Q's side, offset finite."""
    mat = _as_coo(Q).tocsr()
    xb = np.asarray(x)
    if xb.ndim not in (1, 2) or xb.shape[-1] != mat.shape[0]:
        raise ValueError(f"x must have shape (n,) or (n_samples, n) with n = {mat.shape[0]}, got {xb.shape}")
    if not np.all((xb == 0) | (xb == 1)):
        raise ValueError("x must hold binary units (0 or 1)")
    return _qubo_energy(mat, xb, check_finite_float("offset", offset))


def _qubo_energy(Q: sp.csr_array | np.ndarray, x: np.ndarray, offset: float) -> np.ndarray:
    xb = np.atleast_2d(np.asarray(x, dtype=np.float64))
    Qx = (Q @ xb.T).T
    return np.einsum("ki,ki->k", xb, np.asarray(Qx)) + offset


def _as_coo(Q: np.ndarray | sp.spmatrix | sp.sparray) -> sp.coo_array:
    if sp.issparse(Q):
        mat = sp.coo_array(Q, dtype=np.float64)
        if not np.all(np.isfinite(mat.data)):
            raise ValueError("Q contains NaN or infinity")
    else:
        mat = sp.coo_array(check_finite_array("Q", Q, ndim=2))
    if mat.shape[0] != mat.shape[1]:
        raise ValueError(f"Q must be square, got shape {mat.shape}")
    return mat


def qubo_to_ising(Q: np.ndarray | sp.spmatrix | sp.sparray) -> IsingForm:
    """The Ising form of x^T Q x: ``form.ising`` and ``form.offset`` with
    E_ising(s) + offset == x^T Q x for x = (1 + s) / 2 (vartype 'binary').

    Q may be upper-triangular, symmetric or neither: the pair weight is Q_ij + Q_ji.
    """
    from thermolearn.models.ising import Ising
    from thermolearn.models.ising_form import IsingForm

    mat = _as_coo(Q)
    n = mat.shape[0]
    diag_mask = mat.row == mat.col
    q_lin = np.zeros(n)
    np.add.at(q_lin, mat.row[diag_mask], mat.data[diag_mask])
    r, c, v = mat.row[~diag_mask], mat.col[~diag_mask], mat.data[~diag_mask]
    # x_i x_j = (1 + s_i + s_j + s_i s_j) / 4 and x_i = (1 + s_i) / 2
    # each entry Q_ij contributes -Q_ij / 4 to both J_ij and J_ji, so J_ij = -(Q_ij + Q_ji) / 4
    J = sp.coo_array((np.concatenate([-v, -v]) / 4.0, (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n))
    J = J.tocsr()
    h = -q_lin / 2.0
    np.add.at(h, r, -v / 4.0)
    np.add.at(h, c, -v / 4.0)
    offset = float(v.sum() / 4.0 + q_lin.sum() / 2.0)
    return IsingForm(Ising(J, h, name="from QUBO"), offset, vartype="binary")


def ising_to_qubo(model: Ising) -> tuple[sp.csr_array, float]:
    """Upper-triangular Q and offset with x^T Q x + offset == E(s) for x = (1 + s) / 2."""
    i, j, w = model.edges()
    h = model.fields
    n = model.n_spins
    # s_i s_j = 4 x_i x_j - 2 x_i - 2 x_j + 1 and s_i = 2 x_i - 1
    diag = -2.0 * h.copy()
    np.add.at(diag, i, 2.0 * w)
    np.add.at(diag, j, 2.0 * w)
    rows = np.concatenate([i, np.arange(n)])
    cols = np.concatenate([j, np.arange(n)])
    vals = np.concatenate([-4.0 * w, diag])
    Q = sp.coo_array((vals, (rows, cols)), shape=(n, n)).tocsr()
    Q.eliminate_zeros()
    offset = float(-w.sum() + h.sum())
    return Q, offset


class QUBO:
    """A quadratic unconstrained binary optimisation problem f(x) = x^T Q x + offset over
    x in {0, 1}^n, as a model: :meth:`energy` and :meth:`to_ising` (the model protocol)."""

    def __init__(self, Q: np.ndarray | sp.spmatrix | sp.sparray, offset: float = 0.0) -> None:
        mat = _as_coo(Q).tocsr()
        if mat.shape[0] == 0:
            raise ValueError("a QUBO needs at least one variable; got Q of shape (0, 0)")
        self._Q = mat
        self._offset = check_finite_float("offset", offset)

    @property
    def n_variables(self) -> int:
        """Number of binary variables n."""
        return int(self._Q.shape[0])

    @property
    def matrix(self) -> sp.csr_array:
        """Q as given (linear terms on the diagonal), CSR."""
        return self._Q

    @property
    def offset(self) -> float:
        """The constant added to x^T Q x (units of the objective)."""
        return self._offset

    def energy(self, states: np.ndarray) -> np.ndarray | float:
        """f(x) = x^T Q x + offset for binary states (n,) -> float or (n_samples, n) -> (n_samples,)."""
        x = np.asarray(states)
        if x.shape[-1:] != (self.n_variables,) or not np.all((x == 0) | (x == 1)):
            raise ValueError(f"states must have {self.n_variables} binary units (0 or 1), got shape {x.shape}")
        f = _qubo_energy(self._Q, x, self._offset)
        return float(f[0]) if x.ndim == 1 else f

    def to_ising(self) -> IsingForm:
        """The Ising form: E_ising(2x - 1) + form.offset == f(x) for every x (vartype 'binary')."""
        from thermolearn.models.ising_form import IsingForm

        form = qubo_to_ising(self._Q)
        return IsingForm(form.ising, form.offset + self._offset, vartype="binary")
