"""Interop with dimod's BinaryQuadraticModel (optional dependency: ``pip install dimod``).

dimod writes E = sum_i a_i s_i + sum_{i<j} b_ij s_i s_j + offset, so its linear and
quadratic biases are the negatives of our h and J.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # pragma: no cover
    import dimod

    from thermolearn.models.ising import Ising
    from thermolearn.models.ising_form import IsingForm


def _import_dimod() -> Any:
    try:
        import dimod
    except ImportError:
        raise ImportError("dimod interop needs the optional package dimod: pip install 'thermolearn[dimod]'") from None
    return dimod


def ising_to_bqm(model: Ising, offset: float = 0.0) -> dimod.BinaryQuadraticModel:
    """A SPIN-vartype BQM on variables 0..n-1 with the same energy as ``model`` (plus ``offset``)."""
    dimod = _import_dimod()
    i, j, w = model.edges()
    linear = {k: -float(v) for k, v in enumerate(model.fields)}
    quadratic = {(int(a), int(b)): -float(c) for a, b, c in zip(i, j, w)}
    return dimod.BinaryQuadraticModel(linear, quadratic, float(offset), dimod.SPIN)


def ising_from_bqm(bqm: dimod.BinaryQuadraticModel) -> IsingForm:
    """The Ising form of ``bqm``: ``form.ising``, ``form.offset`` and ``form.labels`` (spin
    ``k`` is variable ``labels[k]`` of ``bqm``).

    A BINARY BQM is converted to spins first (``form.vartype`` is then 'binary'); the energy
    of every state is preserved exactly: E_bqm(x) == E_ising(s(x)) + offset.
    """
    dimod = _import_dimod()
    from thermolearn.models.ising import Ising
    from thermolearn.models.ising_form import IsingForm

    spin = bqm.change_vartype(dimod.SPIN, inplace=False) if bqm.vartype is dimod.BINARY else bqm
    labels: list[Any] = list(spin.variables)
    try:
        labels = sorted(labels)
    except TypeError:
        pass  # mixed label types keep the BQM's own order
    n = len(labels)
    # dimod's own vectors: one pass in C instead of a Python loop over every coupling.
    # (no dtype or index_dtype: deprecated since dimod 0.10, announced to go in 0.12; cast here)
    vectors = spin.to_numpy_vectors(variable_order=labels)
    h = -np.asarray(vectors.linear_biases, dtype=np.float64)
    r = np.asarray(vectors.quadratic.row_indices, dtype=np.int64)
    c = np.asarray(vectors.quadratic.col_indices, dtype=np.int64)
    x = -np.asarray(vectors.quadratic.biases, dtype=np.float64)
    J = sp.coo_array((np.concatenate([x, x]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)).tocsr()
    vartype = "binary" if bqm.vartype is dimod.BINARY else "spin"
    return IsingForm(Ising(J, h, name="from dimod BQM"), float(spin.offset), vartype=vartype, labels=tuple(labels))
