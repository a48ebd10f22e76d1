"""The general Boltzmann machine: binary units with any symmetric pairwise couplings.

Units x = (v, h) in {0, 1}^n are the visible units v (the first ``n_visible``) followed by
the hidden units h. The energy is E(x) = -1/2 x^T W x - b^T x with W symmetric and a zero
diagonal (couplings within and between layers allowed), p(x) = exp(-E(x)) / Z (k_B = 1,
T = 1: the temperature is absorbed into W and b). A boolean ``connectivity`` mask says
which couplings exist; learning leaves the others at zero. With s = 2x - 1 the machine is
an Ising model plus a constant (:meth:`BoltzmannMachine.to_ising`), so every sampler in
:mod:`thermolearn.samplers` can draw from it; :meth:`BoltzmannMachine.gibbs` is its own
compiled Gibbs sampler, which can clamp the visible units to data (the positive phase).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.file_contents import FileContents
from thermolearn.kernel_cache import njit
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.models.ising_form import IsingForm
from thermolearn.models.qubo import ising_to_qubo, qubo_to_ising
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.randomness.xoshiro import next_uniform, seed_chains
from thermolearn.storage import save_arrays
from thermolearn.validation import check_finite_array, check_finite_float, check_positive_int

FILE_FORMAT = "thermolearn.BoltzmannMachine"
FILE_VERSION = 1
CONNECTIVITIES = ("full", "restricted", "semi-restricted")
"""Named coupling patterns: every pair; visible-hidden only (an RBM); no hidden-hidden."""


def check_binary(states: ArrayLike, n_units: int, name: str = "states") -> np.ndarray:
    """Binary states as an int8 array (n_samples, n_units) with values in {0, 1}.

    A single state of shape (n_units,) is returned with a leading axis of 1.
    """
    arr = np.asarray(states)
    if arr.dtype == object or not (
        arr.dtype == bool or np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold binary units 0/1 as numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_units:
        raise ValueError(f"{name} must have shape (n_samples, {n_units}) or ({n_units},), got {np.shape(states)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one state, got shape {arr.shape}")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must contain only binary units 0 and 1 (spins -1/+1: use spins_to_binary)")
    return np.ascontiguousarray(arr, dtype=np.int8)


def connectivity_mask(n_visible: int, n_hidden: int, connectivity: str | np.ndarray = "full") -> np.ndarray:
    """Boolean (n, n) mask of the couplings that exist: a name in :data:`CONNECTIVITIES` or a
    symmetric boolean array with a zero diagonal."""
    n = n_visible + n_hidden
    if isinstance(connectivity, str):
        if connectivity not in CONNECTIVITIES:
            raise ValueError(
                f"connectivity must be one of {', '.join(CONNECTIVITIES)} or a boolean array, got {connectivity!r}"
            )
        mask = np.ones((n, n), dtype=bool)
        if connectivity in ("restricted", "semi-restricted"):
            mask[n_visible:, n_visible:] = False
        if connectivity == "restricted":
            mask[:n_visible, :n_visible] = False
    else:
        mask = np.asarray(connectivity)
        if mask.dtype != bool:
            raise TypeError(f"connectivity must be a name or a boolean array, got dtype {mask.dtype}")
        if mask.shape != (n, n):
            raise ValueError(f"connectivity mask must have shape ({n}, {n}), got {mask.shape}")
        if not np.array_equal(mask, mask.T):
            raise ValueError("connectivity mask must be symmetric (a coupling W_ij is W_ji)")
        mask = mask.copy()
    np.fill_diagonal(mask, False)
    return mask


@njit(cache=True)
def _gibbs_sweeps(states, rng, W, b, first, n_sweeps):
    # sequential heat bath over units first..n-1 of every chain; units before `first` stay clamped
    n_chains, n = states.shape
    for c in range(n_chains):
        s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
        x = states[c]
        for _ in range(n_sweeps):
            for i in range(first, n):
                a = b[i]
                for j in range(n):
                    if x[j]:
                        a += W[i, j]
                u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                # p(x_i = 1 | rest) = sigmoid(a), written to stay finite for any a
                if a >= 0.0:
                    p = 1.0 / (1.0 + math.exp(-a))
                else:
                    e = math.exp(a)
                    p = e / (1.0 + e)
                x[i] = 1 if u < p else 0
        rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3


class BoltzmannMachine:
    """Binary units (visible first, then hidden) with symmetric couplings W and biases b.

    E(x) = -1/2 x^T W x - b^T x for x in {0, 1}^n (energy units, T = 1). ``connectivity``
    (a name in :data:`CONNECTIVITIES` or a boolean mask) fixes which couplings may be
    non-zero. The machine is immutable; learning returns new machines.
    """

    def __init__(
        self,
        weights: np.ndarray,
        biases: np.ndarray,
        n_visible: int,
        *,
        connectivity: str | np.ndarray = "full",
        name: str = "",
    ) -> None:
        W = check_finite_array("weights W", weights, ndim=2)
        if W.shape[0] != W.shape[1]:
            raise ValueError(f"weights W must be a square (n, n) matrix, got shape {W.shape}")
        n = W.shape[0]
        if n < 1:
            raise ValueError("a Boltzmann machine needs at least one unit")
        if np.any(np.diag(W) != 0):
            raise ValueError("weights W must have a zero diagonal (x_i^2 = x_i belongs in the bias b_i)")
        if np.max(np.abs(W - W.T), initial=0.0) > 1e-12 * max(1.0, float(np.max(np.abs(W), initial=0.0))):
            raise ValueError("weights W must be symmetric (W_ij == W_ji)")
        b = check_finite_array("biases b", biases, ndim=1)
        if b.shape != (n,):
            raise ValueError(f"biases b must have shape ({n},) to match W, got {b.shape}")
        nv = check_positive_int("n_visible", n_visible, minimum=0)
        if nv > n:
            raise ValueError(f"n_visible must be between 0 and the number of units {n}, got {nv}")
        mask = connectivity_mask(nv, n - nv, connectivity)
        if np.any(W[~mask] != 0):
            raise ValueError("weights W are non-zero on couplings the connectivity mask excludes")
        self._W = np.array(0.5 * (W + W.T))
        self._b = np.array(b)
        self._mask = mask
        for arr in (self._W, self._b, self._mask):
            arr.setflags(write=False)
        self._n_visible = nv
        self.name = str(name)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def random(
        cls,
        n_visible: int,
        n_hidden: int,
        *,
        weight_std: float = 0.1,
        bias_std: float = 0.0,
        connectivity: str | np.ndarray = "full",
        seed: int | np.random.Generator | None = 0,
        name: str = "",
    ) -> BoltzmannMachine:
        """A machine with W_ij ~ Normal(0, weight_std^2) on the allowed couplings and
        b_i ~ Normal(0, bias_std^2) (energy units)."""
        nv = check_positive_int("n_visible", n_visible, minimum=0)
        nh = check_positive_int("n_hidden", n_hidden, minimum=0)
        if nv + nh < 1:
            raise ValueError("a Boltzmann machine needs at least one unit")
        ws = check_finite_float("weight_std", weight_std)
        bs = check_finite_float("bias_std", bias_std)
        if ws < 0 or bs < 0:
            raise ValueError(f"weight_std and bias_std must be >= 0, got {ws} and {bs}")
        mask = connectivity_mask(nv, nh, connectivity)
        rng = numpy_generator(seed)
        upper = np.triu(rng.normal(0.0, ws, size=(nv + nh, nv + nh)), k=1)
        W = (upper + upper.T) * mask
        b = rng.normal(0.0, bs, size=nv + nh) if bs > 0 else np.zeros(nv + nh)
        return cls(W, b, nv, connectivity=mask, name=name)

    @classmethod
    def zeros(
        cls, n_visible: int, n_hidden: int, *, connectivity: str | np.ndarray = "full", name: str = ""
    ) -> BoltzmannMachine:
        """A machine with W = 0 and b = 0: every state equally likely."""
        nv = check_positive_int("n_visible", n_visible, minimum=0)
        nh = check_positive_int("n_hidden", n_hidden, minimum=0)
        n = nv + nh
        return cls(np.zeros((n, n)), np.zeros(n), nv, connectivity=connectivity, name=name)

    @classmethod
    def from_ising(cls, model: Ising, n_visible: int | None = None) -> tuple[BoltzmannMachine, float]:
        """The machine and offset with E_bm(x) + offset == E_ising(s) for x = (1 + s) / 2.

        The first ``n_visible`` spins (default: all) become visible units.
        """
        check_ising_model(model)
        Q, offset = ising_to_qubo(model)
        Q = Q.toarray()
        # x^T Q x = -1/2 x^T W x - b^T x with x_i^2 = x_i: off-diagonal pairs give W, the diagonal gives b
        off = Q - np.diag(np.diag(Q))
        W = -(off + off.T)
        b = -np.diag(Q).copy()
        nv = model.n_spins if n_visible is None else n_visible
        return cls(W, b, nv, name=model.name), float(offset)

    # ------------------------------------------------------------------ structure
    @property
    def n_visible(self) -> int:
        """Number of visible units (the first ``n_visible`` units)."""
        return self._n_visible

    @property
    def n_hidden(self) -> int:
        """Number of hidden units."""
        return self.n_units - self._n_visible

    @property
    def n_units(self) -> int:
        """Total number of units, visible plus hidden."""
        return int(self._b.size)

    @property
    def weights(self) -> np.ndarray:
        """Symmetric couplings W, shape (n_units, n_units), zero diagonal (read-only)."""
        return self._W

    @property
    def biases(self) -> np.ndarray:
        """Biases b, shape (n_units,) (read-only)."""
        return self._b

    @property
    def connectivity(self) -> np.ndarray:
        """Boolean (n_units, n_units) mask of the couplings that may be non-zero (read-only)."""
        return self._mask

    def with_parameters(self, weights: np.ndarray, biases: np.ndarray) -> BoltzmannMachine:
        """The same architecture (units, connectivity, name) with new W and b."""
        return BoltzmannMachine(weights, biases, self._n_visible, connectivity=self._mask, name=self.name)

    # ------------------------------------------------------------------ physics
    def energy(self, states: np.ndarray) -> np.ndarray | float:
        """Energy E(x) = -1/2 x^T W x - b^T x of one state (n_units,) -> float or a batch
        (n_samples, n_units) -> (n_samples,)."""
        x = check_binary(states, self.n_units).astype(np.float64)
        e = -0.5 * np.einsum("ki,ki->k", x, x @ self._W) - x @ self._b
        return float(e[0]) if np.ndim(states) == 1 else e

    def conditional_probabilities(self, states: np.ndarray) -> np.ndarray:
        """p(x_i = 1 | all other units) = sigmoid(b_i + sum_j W_ij x_j), same shape as ``states``."""
        x = check_binary(states, self.n_units).astype(np.float64)
        a = x @ self._W + self._b
        p = 0.5 * (1.0 + np.tanh(0.5 * a))  # the logistic function without overflow
        return p[0] if np.ndim(states) == 1 else p

    def to_ising(self) -> IsingForm:
        """The Ising form (the model protocol): ``form.ising`` and ``form.offset`` with
        E_ising(s) + offset == E(x) for s = 2x - 1 (vartype 'binary', visible units first).

        The spin form has J = W / 4 and h_i = b_i / 2 + sum_j W_ij / 4, so any sampler of
        :mod:`thermolearn.samplers` run at T = 1 draws from this machine's distribution.
        """
        # -1/2 x^T W x - b^T x is the QUBO x^T Q x with Q = -W/2 - diag(b), since x_i^2 = x_i
        Q = -0.5 * self._W - np.diag(self._b)
        form = qubo_to_ising(Q)
        model = Ising(form.ising.couplings, form.ising.fields, name=self.name or "Boltzmann machine")
        return IsingForm(model, form.offset, vartype="binary")

    def gibbs(
        self,
        states: np.ndarray,
        n_sweeps: int = 1,
        *,
        clamp_visible: bool = False,
        seed: int | np.random.Generator | np.ndarray | None = 0,
    ) -> np.ndarray:
        """Heat-bath (Gibbs) sweeps of every chain in ``states`` (n_chains, n_units), units in
        order; with ``clamp_visible`` the visible units stay fixed and only the hidden units
        are resampled, which draws h ~ p(h | v) (the positive phase). Returns new states.

        ``seed`` may also be a (n_chains, 4) uint64 array of generator states (as from
        :func:`thermolearn.randomness.xoshiro.seed_chains`), which is advanced in place, so chains
        can be continued exactly across calls.
        """
        x = check_binary(states, self.n_units).copy()
        n_sweeps = check_positive_int("n_sweeps", n_sweeps, minimum=0)
        rng = chain_generators(seed, x.shape[0])
        first = self._n_visible if clamp_visible else 0
        if n_sweeps and first < self.n_units:
            _gibbs_sweeps(x, rng, self._W, self._b, first, n_sweeps)
        return x

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the machine to ``path`` (.npz arrays + JSON header), atomically; exact round trip."""
        header: dict[str, Any] = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "n_visible": self.n_visible,
            "n_hidden": self.n_hidden,
            "name": self.name,
        }
        arrays = {"weights": self._W, "biases": self._b, "connectivity": self._mask.astype(np.uint8)}
        return save_arrays(path, arrays, header)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BoltzmannMachine:
        """Read a machine written by :meth:`save`.

        Nothing in the file is trusted: the header (format, version, unit counts, name) and the
        arrays (names, dtypes, shapes, finite real weights and biases, a 0/1 connectivity mask)
        are checked, and every fault raises :class:`~thermolearn.storage.FileFormatError`
        naming the file.
        """
        contents = FileContents.read(path)
        contents.expect_format(FILE_FORMAT, range(1, FILE_VERSION + 1), what="Boltzmann machine")
        contents.expect_names(["weights", "biases", "connectivity"])
        n_visible = contents.value("n_visible", int, minimum=0)
        n_hidden = contents.value("n_hidden", int, minimum=0)
        n = n_visible + n_hidden
        if n < 1:
            raise contents.fail("a Boltzmann machine needs at least one unit (n_visible + n_hidden >= 1)")
        name = contents.value("name", str, default="")
        weights = contents.array("weights", shape=(n, n), dtype=np.float64)
        biases = contents.array("biases", shape=(n,), dtype=np.float64)
        mask = contents.array("connectivity", kinds="biu", shape=(n, n), values=(0, 1))
        try:
            return cls(weights, biases, n_visible, connectivity=mask.astype(bool), name=name)
        except (ValueError, TypeError) as exc:
            raise contents.fail(str(exc)) from None

    # ------------------------------------------------------------------ comparison
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoltzmannMachine):
            return NotImplemented
        return (
            self._n_visible == other._n_visible
            and np.array_equal(self._W, other._W)
            and np.array_equal(self._b, other._b)
            and np.array_equal(self._mask, other._mask)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        n_couplings = int(np.count_nonzero(np.triu(self._mask, k=1)))
        return f"<BoltzmannMachine{label}: {self.n_visible} visible, {self.n_hidden} hidden, {n_couplings} couplings>"


def chain_generators(seed: int | np.random.Generator | np.ndarray | None, n_chains: int) -> np.ndarray:
    """Per-chain generator states (n_chains, 4) uint64: from a seed, or a given state array
    (returned as is, so the caller's chains continue where they stopped)."""
    if isinstance(seed, np.ndarray):
        if seed.dtype != np.uint64 or seed.shape != (n_chains, 4) or not seed.flags.c_contiguous:
            raise ValueError(
                f"generator states must be a C-contiguous uint64 array of shape ({n_chains}, 4), "
                f"got {seed.dtype} {seed.shape}"
            )
        return seed
    return seed_chains(seed, n_chains)  # seed_chains applies the seed policy
