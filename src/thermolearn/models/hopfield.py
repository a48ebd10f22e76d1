"""The Hopfield network: an Ising model whose couplings store patterns.

E(s) = -1/2 s^T J s - b^T s for spins s in {-1, +1}^N, J symmetric with a zero diagonal
(dimensionless couplings, k_B = 1): the Ising energy with fields h = b. Recall is a descent
of this energy from a corrupted pattern:

* asynchronous zero-temperature dynamics: one unit at a time, flipped only when that lowers
  E (Delta E = 2 s_i h_i < 0 with the local field h_i = sum_j J_ij s_j + b_i), so E never
  rises and the run ends in a fixed point (a local minimum under single flips);
* synchronous dynamics: every unit at once, s <- sign(J s + b); it ends in a fixed point or
  a 2-cycle (its Lyapunov function L(t) = -s(t)^T J s(t-1) - b^T (s(t) + s(t-1)) never rises);
* finite-temperature recall: a Boltzmann sampler of exp(-E/T) from :mod:`thermolearn.samplers`
  run on :meth:`Hopfield.to_ising`.

Every recall reports the final state, the energy trace, its overlaps m^mu = xi^mu . s / N with
every stored pattern, and whether it ended in a stored pattern, its negative, a mixture of an
odd number of patterns, or a spurious state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import prange
from numpy.typing import ArrayLike

from thermolearn.file_contents import FileContents
from thermolearn.fixed_settings import FixedSettings
from thermolearn.kernel_cache import njit
from thermolearn.models.ising import Ising
from thermolearn.models.ising_form import IsingForm
from thermolearn.randomness.seeds import numpy_generator
from thermolearn.randomness.xoshiro import next_uniform, seed_chains
from thermolearn.storage import save_arrays
from thermolearn.validation import check_finite_array, check_finite_float, check_positive_int, check_spins

FILE_FORMAT = "thermolearn.Hopfield"
FILE_VERSION = 1
RETRIEVAL_THRESHOLD = 0.9
"""Default overlap at or above which a state counts as a stored pattern (or its negative)."""
CLASSES = ("pattern", "negative", "mixture", "spurious")
RECALL_METHODS = ("async", "sync")  # zero temperature; thermal recall is thermolearn.runs.recall
_MIXTURE_SIZES = (3, 5, 7)
_PARALLEL_MIN_WORK = 200_000  # below this many unit-updates, waking the thread pool costs more than it saves


# ---------------------------------------------------------------------------------------- kernels
@njit(cache=True)
def shuffle_in_place(perm, s0, s1, s2, s3):
    """Fisher-Yates shuffle of ``perm`` from one chain's xoshiro state; returns the new state."""
    for k in range(perm.size - 1, 0, -1):
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        j = min(int(u * (k + 1)), k)
        tmp = perm[k]
        perm[k] = perm[j]
        perm[j] = tmp
    return s0, s1, s2, s3


@njit(cache=True)
def _relax_one(J, s, h, rng, c, max_sweeps, random_order, tol, energy, energy_trace, state_trace):
    """Zero-temperature asynchronous sweeps of one state ``s`` (int8, in place) with its local
    fields ``h`` (kept current). Flips only when Delta E = 2 s_i h_i < -tol. Returns
    ``(sweeps, converged, energy)``; traces are written when they have room."""
    n = s.size
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    perm = np.arange(n)
    record_e = energy_trace.size > 0
    record_s = state_trace.shape[0] > 0
    if record_e:
        energy_trace[0] = energy
    if record_s:
        for j in range(n):  # element loops: a slice copy compiles Numba's generic broadcasting copy
            state_trace[0, j] = s[j]
    sweeps = 0
    converged = False
    for _ in range(max_sweeps):
        if random_order:
            s0, s1, s2, s3 = shuffle_in_place(perm, s0, s1, s2, s3)
        flips = 0
        for k in range(n):
            i = perm[k]
            de = 2.0 * s[i] * h[i]
            if de < -tol:
                energy += de
                s[i] = -s[i]
                two_si = 2.0 * s[i]
                row = J[i]
                for j in range(n):
                    h[j] += two_si * row[j]
                flips += 1
        sweeps += 1
        if record_e:
            energy_trace[sweeps] = energy
        if record_s:
            for j in range(n):
                state_trace[sweeps, j] = s[j]
        if flips == 0:
            converged = True
            break
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3
    return sweeps, converged, energy


@njit(cache=True)
def _relax_batch_serial(J, S, H, rng, max_sweeps, random_order, tol, sweeps, converged):
    no_e = np.empty(0)
    no_s = np.empty((0, S.shape[1]), dtype=np.int8)
    for c in range(S.shape[0]):
        k, ok, _ = _relax_one(J, S[c], H[c], rng, c, max_sweeps, random_order, tol, 0.0, no_e, no_s)
        sweeps[c] = k
        converged[c] = ok


@njit(cache=True, parallel=True)
def _relax_batch_parallel(J, S, H, rng, max_sweeps, random_order, tol, sweeps, converged):
    for ch in prange(S.shape[0]):
        # int64: Numba also types a prange body with an unsigned index, which would compile
        # _relax_one a second time
        c = np.int64(ch)
        no_e = np.empty(0)
        no_s = np.empty((0, S.shape[1]), dtype=np.int8)
        k, ok, _ = _relax_one(J, S[c], H[c], rng, c, max_sweeps, random_order, tol, 0.0, no_e, no_s)
        sweeps[c] = k
        converged[c] = ok


def field_tolerance(J: np.ndarray, b: np.ndarray | None = None) -> float:
    """Energy changes smaller than this count as zero (round-off of incrementally kept fields)."""
    scale = float(np.max(np.abs(J).sum(axis=1))) if J.size else 0.0
    if b is not None and b.size:
        scale += float(np.max(np.abs(b)))
    return 1e-11 * max(1.0, scale)


def relax_async(
    J: np.ndarray,
    b: np.ndarray | None,
    states: np.ndarray,
    *,
    max_sweeps: int = 100,
    order: str = "random",
    seed: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asynchronous zero-temperature descent of many states (K, N) on couplings ``J`` (dense,
    symmetric, zero diagonal) and biases ``b``; returns ``(final states, sweeps, converged)``.

    Each state draws its own random site orders (``order='random'``) from ``seed``; the local
    fields are computed once (a matrix product) and then updated by one row of J per flip.
    """
    if order not in ("random", "sequential"):
        raise ValueError(f"order must be 'random' or 'sequential', got {order!r}")
    max_sweeps = check_positive_int("max_sweeps", max_sweeps)
    Jc = np.ascontiguousarray(J, dtype=np.float64)
    n = Jc.shape[0]
    S = np.array(check_spins(states, n), dtype=np.int8, order="C", copy=True)
    bb = np.zeros(n) if b is None else np.asarray(b, dtype=np.float64)
    H = np.ascontiguousarray(S.astype(np.float64) @ Jc + bb)  # J symmetric: (J s)^T = s^T J
    rng = seed_chains(seed, S.shape[0])
    sweeps = np.zeros(S.shape[0], dtype=np.int64)
    converged = np.zeros(S.shape[0], dtype=np.bool_)
    tol = field_tolerance(Jc, bb)
    kernel = (
        _relax_batch_parallel
        if S.shape[0] > 1 and S.size * 4 > _PARALLEL_MIN_WORK and numba.get_num_threads() > 1
        else _relax_batch_serial
    )
    kernel(Jc, S, H, rng, max_sweeps, order == "random", tol, sweeps, converged)
    return S, sweeps, converged


# ---------------------------------------------------------------------------------------- results
def overlaps_with(patterns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Overlaps m^mu = xi^mu . s / N of states (K, N) with patterns (P, N): shape (K, P)."""
    x = np.atleast_2d(states).astype(np.float64)
    return x @ patterns.astype(np.float64).T / x.shape[1]


def check_threshold(threshold: object) -> float:
    """A retrieval threshold: an overlap level in (0, 1] (-1 called every state a pattern, NaN none)."""
    t = check_finite_float("threshold", threshold)
    if not 0.0 < t <= 1.0:
        raise ValueError(f"threshold must be an overlap level in (0, 1], got {t}")
    return t


def classify_state(
    state: np.ndarray, patterns: np.ndarray | None, threshold: float = RETRIEVAL_THRESHOLD
) -> tuple[str | None, int | None, tuple[int, ...]]:
    """Classify a state against stored patterns: ``(label, pattern index, mixture members)``.

    'pattern' (or 'negative'): overlap >= ``threshold`` (<= -threshold) with some pattern;
    'mixture': overlap >= ``threshold`` with sign(sum of +-xi^mu) over the 3, 5 or 7 patterns
    of largest |overlap| (the symmetric mixture states of Amit, Gutfreund and Sompolinsky);
    'spurious': anything else. The label is None when the network keeps no patterns.
    """
    threshold = check_threshold(threshold)
    if patterns is None or len(patterns) == 0:
        return None, None, ()
    s = np.asarray(state).astype(np.float64)
    xi = patterns.astype(np.float64)
    m = xi @ s / s.size
    best = int(np.argmax(np.abs(m)))
    if m[best] >= threshold:
        return "pattern", best, ()
    if m[best] <= -threshold:
        return "negative", best, ()
    order = np.argsort(-np.abs(m), kind="stable")
    for k in _MIXTURE_SIZES:
        if k > len(m):
            break
        members = order[:k]
        mix = np.sign(np.sign(m[members]) @ xi[members])  # k odd: no zeros
        if mix @ s / s.size >= threshold:
            return "mixture", None, tuple(int(i) for i in sorted(members))
    return "spurious", None, ()


def check_patterns(
    patterns: ArrayLike, n_neurons: int | None = None, *, binary: bool = False, name: str = "patterns"
) -> np.ndarray:
    """Patterns as an int8 array (P, N) of spins in {-1, +1}; one pattern (N,) becomes (1, N).

    ``binary=True`` reads {0, 1} units and maps them to spins s = 2x - 1. ``n_neurons``, when
    given, is the length every pattern must have.
    """
    arr = np.asarray(patterns)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be numbers (spins -1/+1, or 0/1 with binary=True), got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise ValueError(
            f"{name} must have shape (n_patterns, n_neurons) with n_neurons >= 2, got {np.shape(patterns)}"
        )
    if n_neurons is not None and arr.shape[1] != n_neurons:
        raise ValueError(f"{name} must have length {n_neurons} (one value per neuron), got length {arr.shape[1]}")
    if binary:
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} with binary=True must contain only 0 and 1")
        return (2 * arr - 1).astype(np.int8)
    if not np.all((arr == 1) | (arr == -1)):
        if np.all((arr == 0) | (arr == 1)):
            raise ValueError(
                f"{name} hold 0/1 values; Hopfield patterns are spins -1/+1: pass binary=True "
                "(or use binary_to_patterns) to convert 0/1 units with s = 2x - 1"
            )
        raise ValueError(f"{name} must contain only spins -1 and +1 (or 0/1 with binary=True)")
    return arr.astype(np.int8)


@dataclass
class RecallResult:
    """One recall. ``energies`` is E after each sweep (index 0: the initial state); for
    synchronous runs ``lyapunov`` holds L(t) = -s(t)^T J s(t-1) - b^T(s(t) + s(t-1)).
    ``overlaps`` are m^mu of the final state with every stored pattern (empty if none are
    kept); ``classification`` is one of :data:`CLASSES` (None without stored patterns)."""

    method: str
    initial: np.ndarray
    final: np.ndarray
    energies: np.ndarray
    overlaps: np.ndarray
    classification: str | None
    pattern_index: int | None
    mixture_of: tuple[int, ...]
    sweeps: int
    converged: bool
    cycle: bool = False
    states: np.ndarray | None = None  # (steps + 1, N): the trajectory (per sweep), or the samples (thermal)
    lyapunov: np.ndarray | None = None
    temperature: float | None = None
    mean_overlaps: np.ndarray | None = None  # thermal: <m^mu> over the recorded samples
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final_energy(self) -> float:
        """Energy of the final state (units of J)."""
        return float(self.energies[-1])

    @property
    def retrieved(self) -> bool:
        """True when the state ended at a stored pattern (not its negative)."""
        return self.classification == "pattern"

    def as_dict(self) -> dict[str, Any]:
        """The recall as a JSON-ready dict: outcome, sweeps, overlaps and energies (units of J)."""
        return {
            "method": self.method,
            "classification": self.classification,
            "pattern_index": self.pattern_index,
            "mixture_of": list(self.mixture_of),
            "sweeps": self.sweeps,
            "converged": self.converged,
            "cycle": self.cycle,
            "final_energy": self.final_energy,
            "overlaps": self.overlaps.tolist(),
            "energies": self.energies.tolist(),
            "temperature": self.temperature,
        }


def make_result(
    method: str,
    initial: np.ndarray,
    final: np.ndarray,
    energies: ArrayLike,
    patterns: np.ndarray | None,
    threshold: float,
    **kwargs: Any,
) -> RecallResult:
    """A :class:`RecallResult` with overlaps and class of ``final`` against ``patterns``."""
    label, index, members = classify_state(final, patterns, threshold)
    ov = overlaps_with(patterns, final)[0] if patterns is not None and len(patterns) else np.zeros(0)
    return RecallResult(
        method=method,
        initial=np.asarray(initial, dtype=np.int8).copy(),
        final=np.asarray(final, dtype=np.int8).copy(),
        energies=np.asarray(energies, dtype=np.float64),
        overlaps=ov,
        classification=label,
        pattern_index=index,
        mixture_of=members,
        **kwargs,
    )


def corrupt(
    patterns: np.ndarray, fraction: float, *, mode: str = "flip", seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Corrupted copies of spin patterns (P, N) or (N,): exactly round(fraction * N) units per
    pattern, chosen at random, are flipped (``mode='flip'``) or set to -1 (``'mask'``, an
    occluded pixel reads as background)."""
    x = np.array(np.atleast_2d(patterns), dtype=np.int8)
    check_spins(x, x.shape[1], "patterns")
    if mode not in ("flip", "mask"):
        raise ValueError(f"corruption mode must be 'flip' or 'mask', got {mode!r}")
    f = float(fraction)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"corruption fraction must be in [0, 1], got {fraction}")
    rng = numpy_generator(seed)
    k = int(round(f * x.shape[1]))
    for row in x:
        idx = rng.choice(x.shape[1], size=k, replace=False)
        row[idx] = -row[idx] if mode == "flip" else -1
    return x if np.ndim(patterns) == 2 else x[0]


# ---------------------------------------------------------------------------------------- model
class Hopfield(FixedSettings):
    """A Hopfield network: couplings J (N, N), symmetric with a zero diagonal, and biases b.

    ``patterns`` (P, N) are the stored memories, kept for overlaps and classification (build
    a network from patterns with :func:`thermolearn.learning.hebbian.store`). ``image_shape``
    says how to draw a state. The network is immutable.
    """

    _fixed_settings = frozenset({"rule", "image_shape"})  # checked once, and written to its files

    def __init__(
        self,
        couplings: np.ndarray,
        biases: np.ndarray | None = None,
        *,
        patterns: np.ndarray | None = None,
        rule: str = "",
        image_shape: tuple[int, int] | None = None,
        name: str = "",
    ) -> None:
        for label, value in (("couplings J", couplings), ("biases b", biases)):
            # a cast to float64 would drop the imaginary part with only a warning
            if value is not None and np.asarray(value).dtype.kind == "c":
                raise TypeError(f"{label} must be real numbers, got dtype {np.asarray(value).dtype}")
        J = np.array(check_finite_array("couplings J", couplings, ndim=2), dtype=np.float64, order="C")
        if J.shape[0] != J.shape[1] or J.shape[0] < 2:
            raise ValueError(f"couplings J must be a square (N, N) matrix with N >= 2, got shape {J.shape}")
        n = J.shape[0]
        if np.any(np.diag(J) != 0):
            raise ValueError("couplings J must have a zero diagonal (no self-coupling J_ii)")
        if np.max(np.abs(J - J.T)) > 1e-12 * max(1.0, float(np.max(np.abs(J)))):
            raise ValueError("couplings J must be symmetric (J_ij == J_ji): asymmetric networks have no energy")
        J = 0.5 * (J + J.T)
        if biases is None:
            b = np.zeros(n)
        else:
            b = np.array(check_finite_array("biases b", biases, ndim=1), dtype=np.float64)
            if b.shape != (n,):
                raise ValueError(f"biases b must have shape ({n},) to match J, got {b.shape}")
        xi = None
        if patterns is not None:
            xi = check_patterns(patterns, n)
            xi.setflags(write=False)
        if image_shape is not None:
            sides = tuple(int(v) for v in image_shape)
            if len(sides) != 2 or sides[0] * sides[1] != n:
                raise ValueError(f"image_shape must be (height, width) with height * width = {n}, got {sides}")
            image_shape = (sides[0], sides[1])
        for arr in (J, b):
            arr.setflags(write=False)
        self._J, self._b, self._patterns = J, b, xi
        self.rule = str(rule)
        self.image_shape = image_shape
        self.name = str(name)
        self.header: dict[str, Any] = {}  # the file header, for networks read by load()

    # ------------------------------------------------------------------ structure
    @property
    def n_neurons(self) -> int:
        """Number of neurons N."""
        return int(self._J.shape[0])

    @property
    def couplings(self) -> np.ndarray:
        """J (N, N), read-only."""
        return self._J

    @property
    def biases(self) -> np.ndarray:
        """b (N,), read-only (zeros when the network has none)."""
        return self._b

    @property
    def patterns(self) -> np.ndarray | None:
        """Stored patterns (P, N) int8, or None."""
        return self._patterns

    @property
    def n_patterns(self) -> int:
        """Number of stored patterns (0 if the couplings were given without patterns)."""
        return 0 if self._patterns is None else int(self._patterns.shape[0])

    @property
    def alpha(self) -> float:
        """The load alpha = P / N."""
        return self.n_patterns / self.n_neurons

    def to_ising(self) -> IsingForm:
        """The Ising form (the model protocol): the same energy as an :class:`Ising` model
        (J, h = b) with offset 0 (J has a zero diagonal), neuron k = spin k, for the samplers."""
        model = Ising.from_dense(
            np.array(self._J), np.array(self._b), name=self.name or f"Hopfield {self.rule}".strip()
        )
        return IsingForm(model)

    # ------------------------------------------------------------------ physics
    def energy(self, states: np.ndarray) -> np.ndarray | float:
        """E(s) = -1/2 s^T J s - b^T s for one state (N,) -> float or a batch (K, N) -> (K,)."""
        x = check_spins(states, self.n_neurons).astype(np.float64)
        e = -0.5 * np.einsum("ki,ki->k", x, x @ self._J) - x @ self._b
        return float(e[0]) if np.ndim(states) == 1 else e

    def local_fields(self, states: np.ndarray) -> np.ndarray:
        """h_i = sum_j J_ij s_j + b_i, same shape as ``states``."""
        x = check_spins(states, self.n_neurons).astype(np.float64)
        h = x @ self._J + self._b
        return h[0] if np.ndim(states) == 1 else h

    def is_fixed_point(self, states: np.ndarray) -> np.ndarray | bool:
        """True where no single flip lowers the energy (s_i h_i >= 0 for every unit, up to round-off)."""
        s = check_spins(states, self.n_neurons)
        h = np.atleast_2d(self.local_fields(s))
        ok = np.all(s * h >= -field_tolerance(self._J, self._b), axis=1)
        return bool(ok[0]) if np.ndim(states) == 1 else ok

    def overlaps(self, states: np.ndarray) -> np.ndarray:
        """m^mu = xi^mu . s / N with every stored pattern: (P,) for one state, (K, P) for a batch."""
        if self._patterns is None:
            raise ValueError("this network keeps no patterns; build it with learning.hebbian.store to get overlaps")
        s = check_spins(states, self.n_neurons)
        m = overlaps_with(self._patterns, s)
        return m[0] if np.ndim(states) == 1 else m

    def classify(
        self, state: np.ndarray, threshold: float = RETRIEVAL_THRESHOLD
    ) -> tuple[str | None, int | None, tuple[int, ...]]:
        """``(label, pattern index, mixture members)``; see :func:`classify_state`."""
        return classify_state(check_spins(state, self.n_neurons)[0], self._patterns, threshold)

    # ------------------------------------------------------------------ recall
    def relax(
        self,
        states: np.ndarray,
        *,
        max_sweeps: int = 100,
        order: str = "random",
        seed: int | np.random.Generator | None = 0,
    ) -> np.ndarray:
        """Final states (K, N) of zero-temperature asynchronous descent from each of ``states``."""
        final, _, _ = relax_async(
            self._J, self._b, np.atleast_2d(states), max_sweeps=max_sweeps, order=order, seed=seed
        )
        return final

    def recall(
        self,
        initial: np.ndarray,
        *,
        method: str = "async",
        max_sweeps: int = 100,
        order: str = "random",
        seed: int = 0,
        threshold: float = RETRIEVAL_THRESHOLD,
    ) -> RecallResult:
        """Zero-temperature recall from ``initial`` (N,): 'async' (energy never rises) or 'sync'
        (all units at once; stops at a fixed point or a 2-cycle). Recall at T > 0 samples
        exp(-E/T) with a Markov chain: :func:`thermolearn.runs.recall` with ``method='thermal'``."""
        if method == "async":
            return self.recall_async(initial, max_sweeps=max_sweeps, order=order, seed=seed, threshold=threshold)
        if method == "sync":
            return self.recall_sync(initial, max_steps=max_sweeps, threshold=threshold)
        if method == "thermal":  # a model never runs a sampler: that is a run, one layer up
            raise ValueError(
                "thermal recall runs a Markov chain: use thermolearn.runs.recall(network, initial, method='thermal', "
                "temperature=T) or thermolearn.runs.thermal_recall"
            )
        raise ValueError(f"method must be one of {', '.join(RECALL_METHODS)}, got {method!r}")

    def recall_async(
        self,
        initial: np.ndarray,
        *,
        max_sweeps: int = 100,
        order: str = "random",
        seed: int | np.random.Generator | None = 0,
        threshold: float = RETRIEVAL_THRESHOLD,
    ) -> RecallResult:
        """Asynchronous zero-temperature recall: a unit flips only if Delta E = 2 s_i h_i < 0, so the
        energy trace (one value per sweep) never rises; stops after a sweep without flips."""
        if order not in ("random", "sequential"):
            raise ValueError(f"order must be 'random' or 'sequential', got {order!r}")
        max_sweeps = check_positive_int("max_sweeps", max_sweeps)
        s0 = check_spins(initial, self.n_neurons, "initial")[0]
        s = s0.copy()
        h = s.astype(np.float64) @ self._J + self._b
        e0 = self.energy(s)
        etrace = np.zeros(max_sweeps + 1)
        strace = np.zeros((max_sweeps + 1, self.n_neurons), dtype=np.int8)
        rng = seed_chains(seed, 1)
        k, ok, _ = _relax_one(
            self._J, s, h, rng, 0, max_sweeps, order == "random", field_tolerance(self._J, self._b), e0, etrace, strace
        )
        return make_result(
            "async",
            s0,
            s,
            etrace[: k + 1],
            self._patterns,
            threshold,
            sweeps=int(k),
            converged=bool(ok),
            states=strace[: k + 1],
        )

    def recall_sync(
        self, initial: np.ndarray, *, max_steps: int = 100, threshold: float = RETRIEVAL_THRESHOLD
    ) -> RecallResult:
        """Synchronous recall s(t+1) = sign(J s(t) + b) (a zero field keeps the unit). Ends in a fixed
        point or a 2-cycle s(t+1) = s(t-1) (``cycle=True``); E may rise, L(t) may not."""
        max_steps = check_positive_int("max_steps", max_steps)
        s = check_spins(initial, self.n_neurons, "initial")[0].copy()
        tol = field_tolerance(self._J, self._b)
        states = [s]
        lyap: list[float] = []
        converged = cycle = False
        for _ in range(max_steps):
            h = s.astype(np.float64) @ self._J + self._b
            new = np.where(h > tol, 1, np.where(h < -tol, -1, s)).astype(np.int8)
            lyap.append(float(-new.astype(np.float64) @ self._J @ s - self._b @ (new + s)))
            if np.array_equal(new, s):
                converged = True
                break
            states.append(new)
            if len(states) >= 3 and np.array_equal(new, states[-3]):
                cycle = True
                break
            s = new
        traj = np.array(states, dtype=np.int8)
        return make_result(
            "sync",
            traj[0],
            traj[-1],
            self.energy(traj),
            self._patterns,
            threshold,
            sweeps=len(traj) - 1,
            converged=converged,
            cycle=cycle,
            states=traj,
            lyapunov=np.array(lyap),
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike, **header_extra: Any) -> Path:
        """Write the network (.npz arrays + JSON header) atomically; extra keys go in the header
        (any but the network's own entries: format, version, n_neurons, rule, image_shape, name)."""
        reserved = sorted(set(header_extra) & {"format", "version", "n_neurons", "rule", "image_shape", "name"})
        if reserved:
            raise ValueError(
                f"header entries {', '.join(map(repr, reserved))} are the network's own and cannot be given "
                "as extra header keys; choose other names"
            )
        header = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "n_neurons": self.n_neurons,
            "rule": self.rule,
            "image_shape": None if self.image_shape is None else list(self.image_shape),
            "name": self.name,
            **header_extra,
        }
        arrays = {"couplings": self._J, "biases": self._b}
        if self._patterns is not None:
            arrays["patterns"] = self._patterns
        return save_arrays(path, arrays, header)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Hopfield:
        """Read a network written by :meth:`save`.

        Nothing in the file is trusted: names, dtypes, shapes, finiteness and values of the
        arrays, and the types of the header entries are checked, and every fault raises
        :class:`~thermolearn.storage.FileFormatError` naming the file.
        """
        contents = FileContents.read(path)
        contents.expect_format(FILE_FORMAT, range(1, FILE_VERSION + 1), what="Hopfield network")
        contents.expect_names(["couplings", "biases"], optional=["patterns"])
        n = contents.value("n_neurons", int, minimum=2)
        couplings = contents.array("couplings", shape=(n, n), dtype=np.float64)
        biases = contents.array("biases", shape=(n,), dtype=np.float64)
        patterns = None
        if contents.has("patterns"):
            patterns = contents.array("patterns", kinds="i", shape=(None, n), values=(-1, 1), dtype=np.int8)
            if patterns.shape[0] == 0:
                raise contents.fail("array 'patterns' holds no pattern; a network without patterns omits the array")
        rule = contents.value("rule", str, default="")
        name = contents.value("name", str, default="")
        image_shape = contents.value("image_shape", (list, type(None)), default=None)
        if image_shape is not None:
            sides = image_shape
            if (
                len(sides) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in sides)
                or sides[0] * sides[1] != n
            ):
                raise contents.fail(
                    f"header entry 'image_shape' must be [height, width] with height * width = {n}, got {sides!r}"[:300]
                )
            image_shape = (sides[0], sides[1])
        try:
            net = cls(couplings, biases, patterns=patterns, rule=rule, image_shape=image_shape, name=name)
        except (ValueError, TypeError) as exc:
            raise contents.fail(str(exc)) from None
        net.header = contents.header
        return net

    def __repr__(self) -> str:
        rule = f" {self.rule}" if self.rule else ""
        return f"<Hopfield{rule}: {self.n_neurons} neurons, {self.n_patterns} patterns>"
