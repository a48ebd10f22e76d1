"""Dense associative memories: Krotov-Hopfield energies and the modern continuous Hopfield network.

* :class:`DenseAssociativeMemory` (Krotov and Hopfield 2016; Demircigil et al. 2017): binary
  units s in {-1, +1}^N and the energy E(s) = -sum_mu F(xi^mu . s) with F(x) = x^n (the
  polynomial energy; ``rectified=True`` uses max(x, 0)^n) or F(x) = exp(x) (the exponential
  energy). F(x) = x^2 is the classical Hopfield network up to a constant; higher powers
  sharpen each memory's basin so that about N^(n-1) patterns fit (polynomial) or
  exponentially many (exponential), against 0.138 N for Hebb's rule. Recall is asynchronous
  zero-temperature descent, as for :class:`thermolearn.models.hopfield.Hopfield`.
* :class:`ModernHopfield` (Ramsauer et al. 2021): continuous states xi in R^d and the update
  xi <- X^T softmax(beta X xi), i.e. one step of attention with the stored patterns X as keys
  and values; it never raises E(xi) = -lse(beta, X xi) + xi.xi / 2 + log(P) / beta + M^2 / 2
  (M = max_mu |x_mu|) and retrieves from exponentially many patterns in one step.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba import prange
from scipy.special import logsumexp

from thermolearn.fixed_settings import FixedSettings
from thermolearn.kernel_cache import njit
from thermolearn.models.hopfield import (
    RETRIEVAL_THRESHOLD,
    RecallResult,
    check_patterns,
    make_result,
    overlaps_with,
    shuffle_in_place,
)
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int, check_spins

ENERGIES = ("polynomial", "exponential")
_POLY, _EXP = 0, 1
_PARALLEL_MIN_WORK = 200_000


# ---------------------------------------------------------------------------------------- kernels
@njit(inline="always")
def _F(x, degree, rectified):
    if rectified and x <= 0.0:
        return 0.0
    y = 1.0
    for _ in range(degree):
        y *= x
    return y


@njit(cache=True)
def _dense_energy(d, kind, degree, rectified):
    if kind == _POLY:
        e = 0.0
        for mu in range(d.size):
            e -= _F(d[mu], degree, rectified)
        return e
    m = d.max()
    acc = 0.0
    for mu in range(d.size):
        acc += math.exp(d[mu] - m)
    return -(m + math.log(acc))


@njit(cache=True)
def _dense_relax_one(XiT, s, d, rng, c, max_sweeps, random_order, kind, degree, rectified, energy_trace, state_trace):
    """Asynchronous zero-T sweeps of one state for E = -sum_mu F(d_mu), d_mu = xi^mu . s kept
    current. Flips a unit only if it lowers E. Returns ``(sweeps, converged)``."""
    n = s.size
    p = d.size
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    perm = np.arange(n)
    record_e = energy_trace.size > 0
    record_s = state_trace.shape[0] > 0
    if record_e:
        energy_trace[0] = _dense_energy(d, kind, degree, rectified)
    if record_s:  # element loops, not slice copies (those compile a generic broadcasting copy)
        for i in range(n):
            state_trace[0, i] = s[i]
    sweeps = 0
    converged = False
    for _ in range(max_sweeps):
        if random_order:
            s0, s1, s2, s3 = shuffle_in_place(perm, s0, s1, s2, s3)
        flips = 0
        for k in range(n):
            i = perm[k]
            row = XiT[i]
            si = s[i]
            if kind == _POLY:
                # polynomial energies of integer overlaps are integers: exact in float64, so a
                # change below 1/2 is exactly zero
                de = 0.0
                for mu in range(p):
                    old = d[mu]
                    de -= _F(old - 2.0 * si * row[mu], degree, rectified) - _F(old, degree, rectified)
                lower = de < -0.5
            else:
                # exp energies relative to the largest term: only the sign of Delta E matters
                m = d.max()
                de = 0.0
                scale = 0.0
                for mu in range(p):
                    w = math.exp(d[mu] - m)
                    de -= w * (math.exp(-2.0 * si * row[mu]) - 1.0)
                    scale += w
                lower = de < -1e-12 * scale
            if lower:
                s[i] = -si
                for mu in range(p):
                    d[mu] -= 2.0 * si * row[mu]
                flips += 1
        sweeps += 1
        if record_e:
            energy_trace[sweeps] = _dense_energy(d, kind, degree, rectified)
        if record_s:
            for i in range(n):
                state_trace[sweeps, i] = s[i]
        if flips == 0:
            converged = True
            break
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3
    return sweeps, converged


@njit(cache=True)
def _dense_batch_serial(XiT, S, D, rng, max_sweeps, random_order, kind, degree, rectified, sweeps, converged):
    no_e = np.empty(0)
    no_s = np.empty((0, S.shape[1]), dtype=np.int8)
    for c in range(S.shape[0]):
        k, ok = _dense_relax_one(XiT, S[c], D[c], rng, c, max_sweeps, random_order, kind, degree, rectified, no_e, no_s)
        sweeps[c] = k
        converged[c] = ok


@njit(cache=True, parallel=True)
def _dense_batch_parallel(XiT, S, D, rng, max_sweeps, random_order, kind, degree, rectified, sweeps, converged):
    for c in prange(S.shape[0]):
        no_e = np.empty(0)
        no_s = np.empty((0, S.shape[1]), dtype=np.int8)
        # c as int64 (the loop's own index is unsigned): the serial kernel's compiled callee serves
        k, ok = _dense_relax_one(
            XiT, S[c], D[c], rng, np.int64(c), max_sweeps, random_order, kind, degree, rectified, no_e, no_s
        )
        sweeps[c] = k
        converged[c] = ok


# ---------------------------------------------------------------------------------------- binary dense memory
class DenseAssociativeMemory(FixedSettings):
    """Krotov-Hopfield dense associative memory storing spin patterns (P, N).

    ``energy='polynomial'``: F(x) = x^degree (``rectified``: max(x, 0)^degree); degree 2 is the
    classical network. ``energy='exponential'``: F(x) = exp(x); its energies are reported as
    -log sum_mu exp(xi^mu . s), which orders states exactly as -sum_mu exp(xi^mu . s) does
    but stays finite for large N. Immutable: its settings are checked once, at construction.
    """

    _fixed_settings = frozenset({"degree", "kind", "rectified", "image_shape"})

    def __init__(
        self,
        patterns: np.ndarray,
        *,
        energy: str = "polynomial",
        degree: int = 3,
        rectified: bool = False,
        binary: bool = False,
        image_shape: tuple[int, int] | None = None,
    ) -> None:
        if energy not in ENERGIES:
            raise ValueError(f"energy must be one of {', '.join(ENERGIES)}, got {energy!r}")
        self.degree = check_positive_int("degree", degree, minimum=2)
        if self.degree > 8:
            raise ValueError(
                f"degree must be at most 8 (larger powers overflow float64 integer exactness), got {degree}"
            )
        self._xi = check_patterns(patterns, binary=binary)
        self._xi.setflags(write=False)
        self._xiT = np.ascontiguousarray(self._xi.T)
        self.kind = energy
        self.rectified = bool(rectified)
        self.image_shape = None if image_shape is None else tuple(int(v) for v in image_shape)
        n = self._xi.shape[1]
        if energy == "polynomial" and float(len(self._xi)) * float(n) ** self.degree >= 2.0**52:
            raise ValueError(
                f"P N^degree = {len(self._xi)} x {n}^{self.degree} exceeds 2^52: the polynomial energy "
                "would lose integer exactness; use a lower degree or the exponential energy"
            )

    @property
    def patterns(self) -> np.ndarray:
        """The stored patterns xi, shape (K, N), entries +-1."""
        return self._xi

    @property
    def n_neurons(self) -> int:
        """Number of neurons N (spins per pattern)."""
        return int(self._xi.shape[1])

    @property
    def n_patterns(self) -> int:
        """Number of stored patterns K."""
        return int(self._xi.shape[0])

    @property
    def alpha(self) -> float:
        """The load alpha = P / N."""
        return self.n_patterns / self.n_neurons

    def _kernel_args(self) -> tuple[int, int, bool]:
        return (_POLY if self.kind == "polynomial" else _EXP), self.degree, self.rectified

    def energy(self, states: np.ndarray) -> np.ndarray | float:
        """E(s) = -sum_mu F(xi^mu . s) (exponential: -log sum_mu exp(xi^mu . s)); one value per state."""
        s = check_spins(states, self.n_neurons).astype(np.float64)
        d = s @ self._xi.T.astype(np.float64)
        if self.kind == "polynomial":
            x = np.maximum(d, 0.0) if self.rectified else d
            e = -np.sum(x**self.degree, axis=1)
        else:
            e = -logsumexp(d, axis=1)
        return float(e[0]) if np.ndim(states) == 1 else e

    def overlaps(self, states: np.ndarray) -> np.ndarray:
        """m^mu = xi^mu . s / N with every stored pattern."""
        s = check_spins(states, self.n_neurons)
        m = overlaps_with(self._xi, s)
        return m[0] if np.ndim(states) == 1 else m

    def relax(
        self,
        states: np.ndarray,
        *,
        max_sweeps: int = 100,
        order: str = "random",
        seed: int | np.random.Generator | None = 0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Asynchronous zero-T descent of many states (K, N): ``(final states, sweeps, converged)``."""
        if order not in ("random", "sequential"):
            raise ValueError(f"order must be 'random' or 'sequential', got {order!r}")
        max_sweeps = check_positive_int("max_sweeps", max_sweeps)
        S = np.array(check_spins(np.atleast_2d(states), self.n_neurons), dtype=np.int8, order="C", copy=True)
        D = np.ascontiguousarray(S.astype(np.float64) @ self._xiT.astype(np.float64))
        rng = seed_chains(seed, S.shape[0])
        sweeps = np.zeros(S.shape[0], dtype=np.int64)
        converged = np.zeros(S.shape[0], dtype=np.bool_)
        kernel = (
            _dense_batch_parallel
            if (S.shape[0] > 1 and S.size * self.n_patterns > _PARALLEL_MIN_WORK and numba.get_num_threads() > 1)
            else _dense_batch_serial
        )
        kernel(self._xiT, S, D, rng, max_sweeps, order == "random", *self._kernel_args(), sweeps, converged)
        return S, sweeps, converged

    def recall(
        self,
        initial: np.ndarray,
        *,
        max_sweeps: int = 100,
        order: str = "random",
        seed: int | np.random.Generator | None = 0,
        threshold: float = RETRIEVAL_THRESHOLD,
    ) -> RecallResult:
        """Asynchronous zero-temperature recall from ``initial`` (N,): the energy never rises."""
        if order not in ("random", "sequential"):
            raise ValueError(f"order must be 'random' or 'sequential', got {order!r}")
        max_sweeps = check_positive_int("max_sweeps", max_sweeps)
        s0 = check_spins(initial, self.n_neurons, "initial")[0]
        s = s0.copy()
        d = s.astype(np.float64) @ self._xiT.astype(np.float64)
        etrace = np.zeros(max_sweeps + 1)
        strace = np.zeros((max_sweeps + 1, self.n_neurons), dtype=np.int8)
        k, ok = _dense_relax_one(
            self._xiT,
            s,
            d,
            seed_chains(seed, 1),
            0,
            max_sweeps,
            order == "random",
            *self._kernel_args(),
            etrace,
            strace,
        )
        return make_result(
            "async",
            s0,
            s,
            etrace[: k + 1],
            self._xi,
            threshold,
            sweeps=int(k),
            converged=bool(ok),
            states=strace[: k + 1],
        )

    def is_fixed_point(self, states: np.ndarray) -> np.ndarray:
        """True for each state (K, N) that no single flip lowers in energy."""
        s = np.atleast_2d(states)
        final, _, _ = self.relax(s, max_sweeps=1, order="sequential")
        return np.all(final == check_spins(s, self.n_neurons), axis=1)

    def __repr__(self) -> str:
        f = f"x^{self.degree}" if self.kind == "polynomial" else "exp(x)"
        return f"<DenseAssociativeMemory F={f}: {self.n_neurons} neurons, {self.n_patterns} patterns>"


# ---------------------------------------------------------------------------------------- modern continuous
_JAX_UPDATE: Any = None


def _jax_update():
    global _JAX_UPDATE
    if _JAX_UPDATE is None:
        import jax

        @jax.jit
        def update(X, Q, beta):
            att = jax.nn.softmax(beta * (Q @ X.T), axis=-1)
            return att @ X, att

        _JAX_UPDATE = update
    return _JAX_UPDATE


class ModernHopfield:
    """Modern continuous Hopfield network (Ramsauer et al. 2021) storing real patterns X (P, d).

    ``beta`` > 0 is the inverse temperature of the softmax: large beta retrieves single
    patterns, small beta averages them (metastable states).
    """

    def __init__(self, patterns: np.ndarray, beta: float = 1.0) -> None:
        X = check_finite_array("patterns", patterns, ndim=2)
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"patterns must have shape (n_patterns, dim) with both >= 1, got {X.shape}")
        self._X = X
        self._X.setflags(write=False)
        self.beta = check_positive_float("beta", beta)

    @property
    def patterns(self) -> np.ndarray:
        """The stored patterns X, shape (K, d), real."""
        return self._X

    @property
    def n_patterns(self) -> int:
        """Number of stored patterns K."""
        return int(self._X.shape[0])

    @property
    def dim(self) -> int:
        """Dimension d of each stored pattern."""
        return int(self._X.shape[1])

    def _queries(self, queries: np.ndarray) -> np.ndarray:
        Q = check_finite_array("queries", queries)
        Q2 = np.atleast_2d(Q)
        if Q2.ndim != 2 or Q2.shape[1] != self.dim:
            raise ValueError(f"queries must have shape (n, {self.dim}) or ({self.dim},), got {Q.shape}")
        return Q2

    def energy(self, queries: np.ndarray) -> np.ndarray | float:
        """E(xi) = -lse(beta, X xi) + xi.xi/2 + log(P)/beta + M^2/2 (Ramsauer et al., eq. 2); >= 0."""
        Q = self._queries(queries)
        lse = logsumexp(self.beta * Q @ self._X.T, axis=1) / self.beta
        M = float(np.max(np.linalg.norm(self._X, axis=1)))
        e = -lse + 0.5 * np.sum(Q * Q, axis=1) + math.log(self.n_patterns) / self.beta + 0.5 * M * M
        return float(e[0]) if np.ndim(queries) == 1 else e

    def attention(self, queries: np.ndarray) -> np.ndarray:
        """softmax(beta X xi) for each query: the weight of each stored pattern, shape (n, P)."""
        _, att = _jax_update()(
            np.asarray(self._X, np.float32), np.asarray(self._queries(queries), np.float32), np.float32(self.beta)
        )
        return np.asarray(att, dtype=np.float64)

    def update(self, queries: np.ndarray) -> np.ndarray:
        """One update xi <- X^T softmax(beta X xi) (JAX, float32), same shape as ``queries``."""
        new, _ = _jax_update()(
            np.asarray(self._X, np.float32), np.asarray(self._queries(queries), np.float32), np.float32(self.beta)
        )
        out = np.asarray(new, dtype=np.float64)
        return out[0] if np.ndim(queries) == 1 else out

    def retrieve(self, queries: np.ndarray, *, steps: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``steps`` updates from ``queries``; returns the states and the energy trace (steps + 1, n)."""
        steps = check_positive_int("steps", steps)
        Q = self._queries(queries)
        energies = [np.atleast_1d(self.energy(Q))]
        for _ in range(steps):
            Q = np.atleast_2d(self.update(Q))
            energies.append(np.atleast_1d(self.energy(Q)))
        return (Q[0] if np.ndim(queries) == 1 else Q), np.array(energies)
