"""RBM neural quantum states (Carleo and Troyer, Science 2017) and the transverse-field Ising local energy.

The wave function of N spins in the sigma^z basis is an RBM with the hidden units summed out,

    psi(s) = exp(sum_i a_i s_i) prod_j cosh(b_j + sum_i W_ij s_i),

with M = alpha N hidden units. Parameters are real, or complex (a complex psi can carry signs
and phases). The translation-symmetric variant keeps alpha filters W_f of length N, a bias b_f
per filter and one visible bias a, and gives every filter all N translations as hidden units:
theta_{f,t} = b_f + sum_k W_{f,k} s_{k+t}; the state is then invariant under translations.

Every ansatz is handled through one flat REAL vector ``theta`` (a complex model stores real parts
then imaginary parts), so stochastic reconfiguration works on real parameters for any psi:
O_k(s) = d ln psi(s) / d theta_k (complex). Spins are +-1 floats inside JAX and int8 at the
boundary; ``ln psi`` omits the constant ln 2 per hidden unit (only ratios matter).

The Hamiltonian is H = -sum_{i<j} J_ij sz_i sz_j - sum_i h_i sz_i - sum_i Gamma_i sx_i
(k_B = 1, energies are totals); its local energy is E_loc(s) = <s|H|psi> / <s|psi>
= E_Ising(s) - sum_i Gamma_i psi(s with spin i flipped) / psi(s).

JAX is imported here, so this module loads only when a neural quantum state is used.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from thermolearn.quantum.hamiltonian import check_ising, check_transverse, transverse_chain
from thermolearn.resources import check_memory
from thermolearn.validation import check_positive_int

if TYPE_CHECKING:
    from thermolearn.models.ising import Ising

PARAMETER_TYPES = ("real", "complex")
"""Kinds of RBM parameters: real (a positive psi, enough for stoquastic H) or complex."""

MAX_HIDDEN_DENSITY = 64
"""The largest alpha = M / N accepted (a bound on memory, not on physics)."""


def log_cosh(z: jax.Array) -> jax.Array:
    """ln cosh z - ln 2 (elementwise) without overflow: cosh is even, so fold Re z >= 0 and
    ln cosh z = z + ln(1 + e^{-2z}) - ln 2 with |e^{-2z}| <= 1 (real or complex z)."""
    sign = jnp.where(jnp.real(z) < 0, -1.0, 1.0).astype(z.dtype)
    z = z * sign
    return z + jnp.log1p(jnp.exp(-2.0 * z)) - jnp.log(2.0).astype(z.dtype)


@dataclass(frozen=True)
class RBMWaveFunction:
    """An RBM wave function of ``n_spins`` spins with ``alpha * n_spins`` hidden units.

    ``parameters``: "real" or "complex"; ``symmetric``: the translation-invariant variant (a
    periodic chain's symmetry, alpha filters). A description only; the numbers are a flat real
    vector ``theta`` (see :meth:`init`).
    """

    n_spins: int
    alpha: int = 1
    parameters: str = "real"
    symmetric: bool = False

    def __post_init__(self) -> None:
        check_positive_int("n_spins", self.n_spins)
        check_positive_int("alpha", self.alpha)
        if self.alpha > MAX_HIDDEN_DENSITY:
            raise ValueError(f"alpha must be at most {MAX_HIDDEN_DENSITY} (hidden units per spin), got {self.alpha}")
        if self.parameters not in PARAMETER_TYPES:
            raise ValueError(f"parameters must be one of {', '.join(PARAMETER_TYPES)}, got {self.parameters!r}")
        if not isinstance(self.symmetric, bool):
            raise TypeError(f"symmetric must be True or False, got {self.symmetric!r}")

    @property
    def n_hidden(self) -> int:
        """Hidden units M = alpha N (for the symmetric model: alpha filters times N translations)."""
        return self.alpha * self.n_spins

    @property
    def is_complex(self) -> bool:
        """Whether the parameters are complex (a wave function with phases)."""
        return self.parameters == "complex"

    @property
    def n_complex_parameters(self) -> int:
        """Independent (possibly complex) parameters: N + M + N M, or 1 + alpha + alpha N if symmetric."""
        n, m = self.n_spins, self.n_hidden
        return 1 + self.alpha + self.alpha * n if self.symmetric else n + m + n * m

    @property
    def n_parameters(self) -> int:
        """Length of the real vector theta (twice the parameters for a complex model)."""
        return self.n_complex_parameters * (2 if self.is_complex else 1)

    def as_dict(self) -> dict:
        """The ansatz as a JSON-ready dict: size, hidden density alpha, parameter kind and count."""
        return {
            "n_spins": self.n_spins,
            "alpha": self.alpha,
            "parameters": self.parameters,
            "symmetric": self.symmetric,
            "n_parameters": self.n_parameters,
        }

    def init(self, key: jax.Array, scale: float = 0.01) -> jax.Array:
        """Random parameters theta ~ N(0, scale^2) (real and imaginary parts alike), float64 under x64."""
        dtype = jnp.zeros(0, dtype=float).dtype  # float64 when the caller enabled x64
        return scale * jax.random.normal(key, (self.n_parameters,), dtype=dtype)

    # ------------------------------------------------------------------------ parameters
    def _complex_vector(self, theta: jax.Array) -> jax.Array:
        if self.is_complex:
            p = self.n_complex_parameters
            return theta[:p] + 1j * theta[p:]
        return theta

    def _split(self, theta: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        v = self._complex_vector(theta)
        n = self.n_spins
        if self.symmetric:
            f = self.alpha
            return v[0], v[1 : 1 + f], v[1 + f :].reshape(f, n)
        m = self.n_hidden
        return v[:n], v[n : n + m], v[n + m :].reshape(n, m)

    def dense(self, theta: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The plain-RBM form (a (N,), b (M,), W (N, M)) of theta; the symmetric model expands to
        W[i, f N + t] = W_f[(i - t) mod N], b[f N + t] = b_f, a_i = a."""
        a, b, w = self._split(theta)
        if not self.symmetric:
            return a, b, w
        n = self.n_spins
        idx = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n  # (i, t) -> i - t
        full = w[:, idx]  # (f, i, t)
        w_dense = jnp.transpose(full, (1, 0, 2)).reshape(n, self.alpha * n)
        return jnp.full((n,), a), jnp.repeat(b, n), w_dense

    # ------------------------------------------------------------------------ amplitudes
    @functools.partial(jax.jit, static_argnums=0)
    def log_psi(self, theta: jax.Array, states: jax.Array) -> jax.Array:
        """ln psi(s) for a batch of states (n, N) of +-1 (complex for a complex model)."""
        a, b, w = self.dense(theta)
        s = states.astype(w.real.dtype)
        return s @ a + jnp.sum(log_cosh(s @ w + b), axis=-1)

    @functools.partial(jax.jit, static_argnums=0)
    def log_derivatives(self, theta: jax.Array, states: jax.Array) -> jax.Array:
        """O_k(s) = d ln psi(s) / d theta_k, shape (n, n_parameters), complex for a complex model.

        Analytic: d/da_i = s_i, d/db_j = tanh theta_j, d/dW_ij = s_i tanh theta_j (summed over
        translations for the symmetric model); an imaginary part's derivative is i times its
        real part's, because ln psi is holomorphic in the complex parameters.
        """
        a, b, w = self.dense(theta)
        s = states.astype(w.real.dtype)
        t = jnp.tanh(s @ w + b)
        n_batch, n = s.shape
        if self.symmetric:
            shifted = s[:, (np.arange(n)[:, None] + np.arange(n)[None, :]) % n]  # (batch, t, k) = s_{k+t}
            tf = t.reshape(n_batch, self.alpha, n)
            o = jnp.concatenate(
                [
                    jnp.sum(s, axis=1, keepdims=True).astype(t.dtype),
                    jnp.sum(tf, axis=2),
                    jnp.einsum("bft,btk->bfk", tf, shifted.astype(t.dtype)).reshape(n_batch, -1),
                ],
                axis=1,
            )
        else:
            o = jnp.concatenate([s.astype(t.dtype), t, (s[:, :, None] * t[:, None, :]).reshape(n_batch, -1)], axis=1)
        if self.is_complex:
            o = jnp.concatenate([o, 1j * o], axis=1)
        return o

    @functools.partial(jax.jit, static_argnums=0)
    def flip_log_ratios(self, theta: jax.Array, states: jax.Array) -> jax.Array:
        """ln psi(s^i) - ln psi(s) for every single-spin flip i, shape (n, N)."""
        a, b, w = self.dense(theta)
        s = states.astype(w.real.dtype)
        hidden = s @ w + b
        # cosh(theta_j - d) / cosh(theta_j) = sigma(2 theta_j) e^{-d} + sigma(-2 theta_j) e^{d} with
        # d = 2 s_i W_ij: two positive terms for real parameters (no cancellation, unlike cosh d -
        # tanh(theta) sinh d), and one logarithm per flip and hidden unit instead of two ln cosh
        up, down = jax.nn.sigmoid(2.0 * hidden), jax.nn.sigmoid(-2.0 * hidden)  # (n, M)
        grow, shrink = jnp.exp(2.0 * w), jnp.exp(-2.0 * w)  # (N, M)
        plus = s[:, :, None] > 0  # d = +2 W_ij where s_i = +1
        factors = jnp.where(
            plus,
            up[:, None, :] * shrink[None] + down[:, None, :] * grow[None],
            up[:, None, :] * grow[None] + down[:, None, :] * shrink[None],
        )
        return -2.0 * s * a + jnp.sum(jnp.log(factors), axis=-1)


class TransverseIsing(NamedTuple):
    """H = -sum_{i<j} J_ij sz_i sz_j - sum_i h_i sz_i - sum_i Gamma_i sx_i as dense float64 arrays
    (NumPy here; the compiled VMC step receives them as JAX arrays)."""

    couplings: np.ndarray  # (N, N) symmetric, zero diagonal
    fields: np.ndarray  # (N,)
    transverse: np.ndarray  # (N,)

    @property
    def n_spins(self) -> int:
        """Number of spins N."""
        return int(self.fields.shape[0])


def transverse_ising(ising: Ising, transverse: float | np.ndarray) -> TransverseIsing:
    """The TFIM of a classical ``Ising`` model plus transverse fields Gamma_i >= 0 (a number: all equal)."""
    model = check_ising(ising)
    gamma = check_transverse(transverse, model.n_spins, "transverse")
    n = model.n_spins
    check_memory(f"the dense couplings of {n} spins", 8.0 * n * n, hint="use fewer spins")
    couplings, fields = model.to_dense()
    return TransverseIsing(np.asarray(couplings, dtype=np.float64), np.asarray(fields, dtype=np.float64), gamma)


def chain(n_spins: int, field: float, *, coupling: float = 1.0, periodic: bool = True) -> TransverseIsing:
    """The 1D TFIM H = -J sum_i sz_i sz_{i+1} - h sum_i sx_i (periodic: bond N-1 -> 0 included)."""
    n = check_positive_int("n_spins", n_spins, minimum=3 if periodic else 2)
    return transverse_ising(*transverse_chain(n, field, coupling, periodic=periodic))


def ising_energies(h: TransverseIsing, states: jax.Array) -> jax.Array:
    """The diagonal part E(s) = -1/2 s J s - h s of a batch of states (n, N)."""
    s = states.astype(h.couplings.dtype)
    return -0.5 * jnp.einsum("bi,ij,bj->b", s, h.couplings, s) - s @ h.fields


@functools.partial(jax.jit, static_argnums=0)
def local_energies(ansatz: RBMWaveFunction, theta: jax.Array, h: TransverseIsing, states: jax.Array) -> jax.Array:
    """E_loc(s) = E_Ising(s) - sum_i Gamma_i psi(s^i) / psi(s) (complex for a complex psi); its
    |psi|^2-average is the variational energy <psi|H|psi> / <psi|psi>."""
    ratios = jnp.exp(ansatz.flip_log_ratios(theta, states))
    return ising_energies(h, states) - ratios @ h.transverse.astype(ratios.dtype)
