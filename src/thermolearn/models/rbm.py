"""Restricted Boltzmann machines: visible units v, hidden units h, no couplings within a layer.

Bernoulli-Bernoulli (:class:`RBM`, units in {0, 1}):

    E(v, h) = -v^T W h - b^T v - c^T h,     F(v) = -b^T v - sum_j softplus(c_j + (v^T W)_j)

Gaussian-Bernoulli (:class:`GaussianBernoulliRBM`, real v, fixed per-visible sigma_i):

    E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c^T h - (v / sigma)^T W h
    F(v)    = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + ((v / sigma)^T W)_j)

with p(v, h) = exp(-E) / Z and p(v) = exp(-F(v)) / Z; energies in nats (k_B T = 1). Because
neither layer couples to itself, p(h | v) and p(v | h) factorise over units and block Gibbs
sampling updates a whole layer at once. ``weights`` has shape (n_visible, n_hidden).

Parameters are NumPy float64 arrays at the public boundary; the dense work (free energies,
conditionals, Gibbs chains) runs in compiled JAX on the default float type (float32 unless
``jax_enable_x64`` is set), on a GPU when one is present. The pure functions of one layer
family (:data:`BERNOULLI`, :data:`GAUSSIAN`) are what training (``learning.contrastive_divergence``)
builds its compiled steps from.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal, overload

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from thermolearn.file_contents import FileContents
from thermolearn.randomness.seeds import SeedLike, jax_key, numpy_generator
from thermolearn.resources import check_memory
from thermolearn.storage import load_arrays, save_arrays
from thermolearn.validation import check_finite_float, check_positive_int

FILE_FORMAT = "thermolearn.RBM"
FILE_VERSION = 1
EXACT_MAX_UNITS = 25
"""Largest smaller layer for which the exact log partition function is summed
(:func:`thermolearn.exact.rbm_model_log_partition`)."""

PARAM_NAMES = ("weights", "visible_bias", "hidden_bias")
"""The trained parameters of every RBM (a Gaussian-Bernoulli RBM also carries a fixed ``sigma``)."""


def float_dtype() -> np.dtype:
    """The float type JAX computes in here: float64 with ``jax_enable_x64``, else float32."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))


def as_key(seed: Any) -> jax.Array:
    """A typed JAX PRNG key from ``seed`` under the library's seed policy
    (:func:`thermolearn.randomness.jax_key`): an int, a NumPy Generator (one draw) or a JAX key."""
    return jax_key(seed, typed=True)


def bernoulli(key: jax.Array, p: jax.Array) -> jax.Array:
    """0/1 draws with probabilities ``p`` (same shape and float dtype as ``p``)."""
    return (jax.random.uniform(key, p.shape, dtype=p.dtype) < p).astype(p.dtype)


def uniforms(key: jax.Array, shapes, dtype) -> list[jax.Array]:
    """Uniform draws in (0, 1) for several shapes from one generator call.

    One call site per compiled step matters: XLA compiles each threefry expansion
    separately, and on a CPU each one adds about half a second of compilation.
    """
    sizes = [math.prod(s) for s in shapes]
    flat = jax.random.uniform(key, (sum(sizes),), dtype=dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)
    out, start = [], 0
    for shape, size in zip(shapes, sizes):
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out


# ---------------------------------------------------------------------------- layer families
class BernoulliFamily:
    """Pure JAX functions of a Bernoulli-Bernoulli RBM; ``p`` is a dict of parameter arrays.

    ``beta`` (a scalar or an array broadcasting against the batch) tempers the model to
    exp(-beta E); the visible "input" is the pre-activation b + W h.
    """

    name: ClassVar[str] = "bernoulli"
    tempers_to_uniform: ClassVar[bool] = True  # beta = 0 is a proper (uniform) distribution

    @staticmethod
    def hidden_input(p, v):
        return v @ p["weights"] + p["hidden_bias"]

    @staticmethod
    def visible_input(p, h):
        return h @ p["weights"].T + p["visible_bias"]

    @staticmethod
    def visible_mean(p, a, beta=1.0):
        return jax.nn.sigmoid(beta * a)

    @staticmethod
    def sample_visible(p, a, u, beta=1.0):
        """A draw of v given the visible input ``a``, from uniforms ``u`` of the same shape."""
        return (u < jax.nn.sigmoid(beta * a)).astype(a.dtype)

    @staticmethod
    def free_energy(p, v, x, beta=1.0):
        """F_beta(v) = -beta b^T v - sum_j softplus(beta x_j), x = c + v^T W (given)."""
        # beta multiplies per-unit terms before the sums so a (R, 1, 1) ladder broadcasts over (R, C, n)
        return -((beta * v) @ p["visible_bias"]) - jnp.sum(jax.nn.softplus(beta * x), axis=-1)

    @staticmethod
    def energy(p, v, h):
        return -jnp.sum((v @ p["weights"]) * h, axis=-1) - v @ p["visible_bias"] - h @ p["hidden_bias"]

    @staticmethod
    def weight_input(p, v):
        """The visible factor of -dE/dW = x h^T (x = v for binary units)."""
        return v

    @staticmethod
    def statistics_visible(p, v):
        """Batch mean of -dE/db."""
        return jnp.mean(v, axis=0)

    @staticmethod
    def statistics(p, v, ph):
        """Batch means of -dE/dtheta with h replaced by p(h | v): the moments training matches."""
        n = v.shape[0]
        return {"weights": v.T @ ph / n, "visible_bias": jnp.mean(v, axis=0), "hidden_bias": jnp.mean(ph, axis=0)}

    @staticmethod
    def visible_flip_free_energy_change(p, v, x):
        """F(v with unit i flipped) - F(v) for every i: shape (n, n_visible), one pass per sample."""
        s = 1.0 - 2.0 * v  # +1 where v_i = 0 (flip to 1), -1 where v_i = 1
        base = jnp.sum(jax.nn.softplus(x), axis=-1)
        flipped = jnp.sum(jax.nn.softplus(x[:, None, :] + s[:, :, None] * p["weights"][None, :, :]), axis=-1)
        return -s * p["visible_bias"] - (flipped - base[:, None])


class GaussianFamily:
    """Pure JAX functions of a Gaussian-Bernoulli RBM (``p["sigma"]`` fixed, not trained)."""

    name: ClassVar[str] = "gaussian"
    tempers_to_uniform: ClassVar[bool] = False  # beta = 0 is improper: the variance sigma^2/beta diverges

    @staticmethod
    def hidden_input(p, v):
        return (v / p["sigma"]) @ p["weights"] + p["hidden_bias"]

    @staticmethod
    def visible_input(p, h):
        return p["visible_bias"] + p["sigma"] * (h @ p["weights"].T)

    @staticmethod
    def visible_mean(p, a, beta=1.0):
        return a  # tempering scales the variance (sigma^2 / beta), not the mean

    @staticmethod
    def sample_visible(p, a, u, beta=1.0):
        # u in (0, 1) -> standard normal by the inverse CDF
        return a + p["sigma"] / jnp.sqrt(beta) * jax.scipy.special.ndtri(u)

    @staticmethod
    def free_energy(p, v, x, beta=1.0):
        quad = jnp.sum(beta * (v - p["visible_bias"]) ** 2 / (2.0 * p["sigma"] ** 2), axis=-1)
        return quad - jnp.sum(jax.nn.softplus(beta * x), axis=-1)

    @staticmethod
    def energy(p, v, h):
        quad = jnp.sum((v - p["visible_bias"]) ** 2 / (2.0 * p["sigma"] ** 2), axis=-1)
        return quad - h @ p["hidden_bias"] - jnp.sum(((v / p["sigma"]) @ p["weights"]) * h, axis=-1)

    @staticmethod
    def weight_input(p, v):
        """The visible factor of -dE/dW = (v / sigma) h^T."""
        return v / p["sigma"]

    @staticmethod
    def statistics_visible(p, v):
        """Batch mean of -dE/db = (v - b) / sigma^2."""
        return jnp.mean((v - p["visible_bias"]) / p["sigma"] ** 2, axis=0)

    @staticmethod
    def statistics(p, v, ph):
        n = v.shape[0]
        return {
            "weights": (v / p["sigma"]).T @ ph / n,
            "visible_bias": jnp.mean((v - p["visible_bias"]) / p["sigma"] ** 2, axis=0),
            "hidden_bias": jnp.mean(ph, axis=0),
        }


BERNOULLI = BernoulliFamily()
GAUSSIAN = GaussianFamily()


# ---------------------------------------------------------------------------- compiled kernels
@partial(jax.jit, static_argnums=0)
def _free_energy(family, p, v):
    return family.free_energy(p, v, family.hidden_input(p, v))


@partial(jax.jit, static_argnums=0)
def _energy(family, p, v, h):
    return family.energy(p, v, h)


@partial(jax.jit, static_argnums=0)
def _hidden_probabilities(family, p, v, beta):
    return jax.nn.sigmoid(beta * family.hidden_input(p, v))


@partial(jax.jit, static_argnums=0)
def _visible_mean(family, p, h, beta):
    return family.visible_mean(p, family.visible_input(p, h), beta)


@partial(jax.jit, static_argnums=0)
def _sample_hidden(family, p, v, key, beta):
    return bernoulli(key, jax.nn.sigmoid(beta * family.hidden_input(p, v)))


@partial(jax.jit, static_argnums=0)
def _sample_visible(family, p, h, key, beta):
    a = family.visible_input(p, h)
    return family.sample_visible(p, a, uniforms(key, [a.shape], a.dtype)[0], beta)


@partial(jax.jit, static_argnums=0)
def _reconstruction(family, p, v, key, sampled):
    ph = jax.nn.sigmoid(family.hidden_input(p, v))
    h = jnp.where(sampled, bernoulli(key, ph), ph)
    return family.visible_mean(p, family.visible_input(p, h))


def gibbs_step(family, p, v, u_h, u_v, beta=1.0, clamp=None, clamp_values=None):
    """One block Gibbs sweep h ~ p(h | v), v' ~ p(v' | h) from uniforms ``u_h`` (n, n_hidden) and
    ``u_v`` (n, n_visible); clamped visible units keep ``clamp_values``.

    Returns ``(v', h, a)`` with ``a`` the visible input (the mean of v' is ``visible_mean(a)``).
    """
    h = (u_h < jax.nn.sigmoid(beta * family.hidden_input(p, v))).astype(v.dtype)
    a = family.visible_input(p, h)
    v_new = family.sample_visible(p, a, u_v, beta)
    if clamp is not None:
        v_new = jnp.where(clamp, clamp_values, v_new)
    return v_new, h, a


@partial(jax.jit, static_argnums=0)
def _gibbs(family, p, v, key, n_steps, beta, clamp):
    def body(i, v):
        u_h, u_v = uniforms(jax.random.fold_in(key, i), [h_shape, v.shape], v.dtype)
        return gibbs_step(family, p, v, u_h, u_v, beta, clamp, v0)[0]

    h_shape = v.shape[:-1] + p["hidden_bias"].shape

    v0 = v
    v = jax.lax.fori_loop(0, n_steps, body, v)
    h = bernoulli(jax.random.fold_in(key, n_steps), jax.nn.sigmoid(beta * family.hidden_input(p, v)))
    return v, h


@partial(jax.jit, static_argnums=(0, 4, 5))
def _gibbs_trace(family, p, v, key, n_records, every, clamp):
    def step(v, i):
        u_h, u_v = uniforms(jax.random.fold_in(key, i), [h_shape, v.shape], v.dtype)
        v, h, a = gibbs_step(family, p, v, u_h, u_v, 1.0, clamp, v0)
        return v, (h, a)

    h_shape = v.shape[:-1] + p["hidden_bias"].shape

    def record(v, r):
        v, (h, a) = jax.lax.scan(step, v, r * every + jnp.arange(every))
        mean = family.visible_mean(p, a[-1])
        x = family.hidden_input(p, v)
        return v, (v, mean, family.free_energy(p, v, x), family.energy(p, v, h[-1]))

    v0 = v
    _, out = jax.lax.scan(record, v, jnp.arange(n_records))
    return out


@partial(jax.jit, static_argnums=0)
def _pseudo_log_likelihood(family, p, v):
    delta = family.visible_flip_free_energy_change(p, v, family.hidden_input(p, v))
    # log p(v_i | v_-i) = -log(1 + exp(F(v) - F(v with i flipped)))
    return -jnp.sum(jax.nn.softplus(-delta), axis=-1)


# ---------------------------------------------------------------------------- the models
@dataclass(frozen=True)
class GibbsTrace:
    """A recorded block Gibbs run: states and energies every ``every`` sweeps (row 0: the start).

    ``visible`` (n_records + 1, n_chains, n_visible): states; ``probabilities``: the mean of v
    given the last hidden draw (the start row repeats the start); ``free_energy`` F(v) and
    ``energy`` E(v, h) in nats, shape (n_records + 1, n_chains) (``energy`` row 0 is NaN: no h yet).
    """

    visible: np.ndarray
    probabilities: np.ndarray
    free_energy: np.ndarray
    energy: np.ndarray
    every: int

    @property
    def sweeps(self) -> np.ndarray:
        """The sweep number of each record."""
        return np.arange(self.visible.shape[0]) * self.every


class _RBMBase(ABC):
    """Shared machinery of the RBM classes (parameters, checks, sampling, files)."""

    family: ClassVar[Any]
    kind: ClassVar[str]

    def __init__(
        self, weights: ArrayLike, visible_bias: ArrayLike | None = None, hidden_bias: ArrayLike | None = None
    ) -> None:
        w = _finite("weights", weights, 2)
        n_visible, n_hidden = w.shape
        if n_visible == 0 or n_hidden == 0:
            raise ValueError(f"weights must have shape (n_visible, n_hidden) with both >= 1, got {w.shape}")
        b = np.zeros(n_visible) if visible_bias is None else _finite("visible_bias", visible_bias, 1)
        c = np.zeros(n_hidden) if hidden_bias is None else _finite("hidden_bias", hidden_bias, 1)
        if b.shape != (n_visible,):
            raise ValueError(f"visible_bias must have shape ({n_visible},) to match weights {w.shape}, got {b.shape}")
        if c.shape != (n_hidden,):
            raise ValueError(f"hidden_bias must have shape ({n_hidden},) to match weights {w.shape}, got {c.shape}")
        self._weights, self._visible_bias, self._hidden_bias = w, b, c
        for arr in (self._weights, self._visible_bias, self._hidden_bias):
            arr.setflags(write=False)
        self._jax_params: dict | None = None

    # ------------------------------------------------------------------ parameters
    @property
    def n_visible(self) -> int:
        """Number of visible units."""
        return self._weights.shape[0]

    @property
    def n_hidden(self) -> int:
        """Number of hidden units."""
        return self._weights.shape[1]

    @property
    def weights(self) -> np.ndarray:
        """W, shape (n_visible, n_hidden) (read-only)."""
        return self._weights

    @property
    def visible_bias(self) -> np.ndarray:
        """Visible biases b, shape (n_visible,)."""
        return self._visible_bias

    @property
    def hidden_bias(self) -> np.ndarray:
        """Hidden biases c, shape (n_hidden,)."""
        return self._hidden_bias

    def arrays(self) -> dict[str, np.ndarray]:
        """Every parameter by name (what :meth:`save` writes)."""
        return {"weights": self._weights, "visible_bias": self._visible_bias, "hidden_bias": self._hidden_bias}

    def jax_params(self) -> dict[str, jax.Array]:
        """The parameters as JAX arrays of the compute float type (cached)."""
        if self._jax_params is None:
            dt = float_dtype()
            self._jax_params = {k: jnp.asarray(v, dtype=dt) for k, v in self.arrays().items()}
        return self._jax_params

    def with_params(self, **params) -> _RBMBase:
        """A new model of the same kind with some parameters replaced (others kept)."""
        merged = {**self.arrays(), **{k: np.asarray(v, dtype=np.float64) for k, v in params.items()}}
        unknown = set(params) - set(self.arrays())
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; allowed: {sorted(self.arrays())}")
        return type(self)(**merged)

    # ------------------------------------------------------------------ input checks
    @abstractmethod
    def check_visible(self, visible: ArrayLike, name: str = "visible") -> np.ndarray:
        """``visible`` as a 2D float array (n, n_visible); a single state (n_visible,) gets a leading axis."""

    def check_hidden(self, hidden: ArrayLike, name: str = "hidden") -> np.ndarray:
        """Hidden states in {0, 1} as a float array (n, n_hidden)."""
        return _check_binary(hidden, self.n_hidden, name, "n_hidden")

    def _check_beta(self, beta) -> float:
        b = _check_beta(beta)
        if b == 0 and not self.family.tempers_to_uniform:
            raise ValueError("beta must be > 0 for real-valued visible units (at beta = 0 their variance diverges)")
        return b

    def _j(self, x: np.ndarray) -> jax.Array:
        return jnp.asarray(x, dtype=float_dtype())

    # ------------------------------------------------------------------ energies
    def energy(self, visible: ArrayLike, hidden: ArrayLike) -> np.ndarray:
        """Joint energy E(v, h) in nats, one value per row."""
        v, h = self.check_visible(visible), self.check_hidden(hidden)
        if v.shape[0] != h.shape[0]:
            raise ValueError(f"visible and hidden must have the same number of rows, got {v.shape[0]} and {h.shape[0]}")
        return np.asarray(_energy(self.family, self.jax_params(), self._j(v), self._j(h)), dtype=np.float64)

    def free_energy(self, visible: ArrayLike) -> np.ndarray:
        """F(v) = -log sum_h exp(-E(v, h)) in nats, one value per row (p(v) = exp(-F(v)) / Z)."""
        v = self.check_visible(visible)
        return np.asarray(_free_energy(self.family, self.jax_params(), self._j(v)), dtype=np.float64)

    def hidden_probabilities(self, visible: ArrayLike, *, beta: float = 1.0) -> np.ndarray:
        """p(h_j = 1 | v) = sigmoid(beta (c_j + input_j)), shape (n, n_hidden)."""
        v = self.check_visible(visible)
        beta = _check_beta(beta)
        return np.asarray(_hidden_probabilities(self.family, self.jax_params(), self._j(v), beta), dtype=np.float64)

    def visible_mean(self, hidden: ArrayLike, *, beta: float = 1.0) -> np.ndarray:
        """E[v | h]: p(v_i = 1 | h) for binary units, the Gaussian mean for real ones; (n, n_visible)."""
        h = self.check_hidden(hidden)
        beta = _check_beta(beta)
        return np.asarray(_visible_mean(self.family, self.jax_params(), self._j(h), beta), dtype=np.float64)

    def sample_hidden(self, visible: ArrayLike, *, seed: SeedLike | jax.Array = 0, beta: float = 1.0) -> np.ndarray:
        """One draw h ~ p(h | v) per row (0/1 as float64)."""
        v = self.check_visible(visible)
        beta = _check_beta(beta)
        out = _sample_hidden(self.family, self.jax_params(), self._j(v), as_key(seed), beta)
        return np.asarray(out, dtype=np.float64)

    def sample_visible(self, hidden: ArrayLike, *, seed: SeedLike | jax.Array = 0, beta: float = 1.0) -> np.ndarray:
        """One draw v ~ p(v | h) per row."""
        h = self.check_hidden(hidden)
        beta = self._check_beta(beta)
        out = _sample_visible(self.family, self.jax_params(), self._j(h), as_key(seed), beta)
        return np.asarray(out, dtype=np.float64)

    # ------------------------------------------------------------------ block Gibbs
    def _clamp(self, clamp, v: np.ndarray) -> jax.Array | None:
        if clamp is None:
            return None
        m = np.asarray(clamp)
        if m.dtype != bool:
            raise TypeError(f"clamp must be a boolean mask (True = keep the given value), got dtype {m.dtype}")
        if m.ndim == 1:
            m = m[None, :]
        if m.ndim != 2 or m.shape[1] != self.n_visible or m.shape[0] not in (1, v.shape[0]):
            raise ValueError(
                f"clamp must have shape ({self.n_visible},) or ({v.shape[0]}, {self.n_visible}), got {np.shape(clamp)}"
            )
        return jnp.asarray(np.broadcast_to(m, v.shape))

    @overload
    def gibbs(
        self,
        visible: ArrayLike,
        n_steps: int = ...,
        *,
        seed: SeedLike | jax.Array = ...,
        beta: float = ...,
        clamp: ArrayLike | None = ...,
        return_hidden: Literal[False] = ...,
    ) -> np.ndarray: ...

    @overload
    def gibbs(
        self,
        visible: ArrayLike,
        n_steps: int = ...,
        *,
        seed: SeedLike | jax.Array = ...,
        beta: float = ...,
        clamp: ArrayLike | None = ...,
        return_hidden: Literal[True],
    ) -> tuple[np.ndarray, np.ndarray]: ...

    @overload
    def gibbs(
        self,
        visible: ArrayLike,
        n_steps: int = ...,
        *,
        seed: SeedLike | jax.Array = ...,
        beta: float = ...,
        clamp: ArrayLike | None = ...,
        return_hidden: bool,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def gibbs(
        self,
        visible: ArrayLike,
        n_steps: int = 1,
        *,
        seed: SeedLike | jax.Array = 0,
        beta: float = 1.0,
        clamp: ArrayLike | None = None,
        return_hidden: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Run ``n_steps`` block Gibbs sweeps (h ~ p(h|v), then v ~ p(v|h)) from every row of ``visible``.

        All rows are independent chains run together. ``clamp`` (boolean mask, per unit or
        per row and unit) holds those visible units at their starting values (conditional
        sampling, image repair). ``beta`` samples exp(-beta E). With ``return_hidden`` also
        returns h ~ p(h | v_final), so (v, h) is a draw of the joint distribution.
        """
        v = self.check_visible(visible)
        n_steps = check_positive_int("n_steps", n_steps, minimum=0)
        beta = self._check_beta(beta)
        out_v, out_h = _gibbs(
            self.family, self.jax_params(), self._j(v), as_key(seed), n_steps, beta, self._clamp(clamp, v)
        )
        out_v = np.asarray(out_v, dtype=np.float64)
        return (out_v, np.asarray(out_h, dtype=np.float64)) if return_hidden else out_v

    def gibbs_trace(
        self,
        visible: ArrayLike,
        n_steps: int,
        *,
        seed: SeedLike | jax.Array = 0,
        every: int = 1,
        clamp: ArrayLike | None = None,
    ) -> GibbsTrace:
        """Block Gibbs from ``visible`` recording states, p(v|h), F(v) and E(v,h) every ``every`` sweeps.

        With ``clamp`` this is image repair: the known pixels stay fixed and the free energy
        of the image falls as the rest relaxes toward the model's typical states.
        """
        v = self.check_visible(visible)
        n_steps = check_positive_int("n_steps", n_steps)
        every = check_positive_int("every", every)
        if n_steps % every:
            raise ValueError(f"n_steps ({n_steps}) must be a multiple of every ({every})")
        self.check_chains_memory(f"a Gibbs trace of {v.shape[0]} chains", v.shape[0], n_steps // every + 1)
        p = self.jax_params()
        vj = self._j(v)
        vs, means, fe, en = _gibbs_trace(
            self.family, p, vj, as_key(seed), n_steps // every, every, self._clamp(clamp, v)
        )
        f0 = _free_energy(self.family, p, vj)
        return GibbsTrace(
            visible=np.concatenate([v[None], np.asarray(vs, dtype=np.float64)]),
            probabilities=np.concatenate([v[None], np.asarray(means, dtype=np.float64)]),
            free_energy=np.concatenate([np.asarray(f0, dtype=np.float64)[None], np.asarray(fe, dtype=np.float64)]),
            energy=np.concatenate([np.full((1, v.shape[0]), np.nan), np.asarray(en, dtype=np.float64)]),
            every=every,
        )

    def check_chains_memory(self, what: str, n_chains: int, n_records: int = 1) -> None:
        """Raise ``ValueError`` if ``n_chains`` Gibbs chains (``n_records`` recorded states each)
        cannot fit in memory: checked before JAX allocates, since XLA aborts the process on a
        buffer it cannot get instead of raising."""
        units = float(self.n_visible + self.n_hidden)
        # float64 results and float32/64 working copies of states, inputs and uniforms per sweep
        per_chain = 8.0 * units * 6 + 8.0 * (2 * self.n_visible + 2) * n_records
        check_memory(what, float(n_chains) * per_chain, hint="choose fewer chains (samples)")

    def sample(
        self, n_samples: int, *, n_steps: int = 1000, seed: SeedLike | jax.Array = 0, init: ArrayLike | None = None
    ) -> np.ndarray:
        """``n_samples`` visible states from independent chains after ``n_steps`` Gibbs sweeps.

        Chains start from ``init`` (rows, or one state broadcast) or from v ~ p(v | h = 0).
        """
        n_samples = check_positive_int("n_samples", n_samples)
        self.check_chains_memory(f"sampling {n_samples} chains", n_samples)
        key = as_key(seed)
        k_init, k_run = jax.random.split(key)
        if init is None:
            v0 = np.asarray(
                _sample_visible(
                    self.family,
                    self.jax_params(),
                    jnp.zeros((n_samples, self.n_hidden), dtype=float_dtype()),
                    k_init,
                    1.0,
                ),
                dtype=np.float64,
            )
        else:
            v0 = self.check_visible(init, "init")
            if v0.shape[0] == 1:
                v0 = np.repeat(v0, n_samples, axis=0)
            elif v0.shape[0] != n_samples:
                raise ValueError(f"init must have 1 or n_samples={n_samples} rows, got {v0.shape[0]}")
        return self.gibbs(v0, n_steps, seed=k_run)

    def reconstruction_error(self, visible: ArrayLike, *, seed: SeedLike | jax.Array = None) -> float:
        """Mean squared error per unit between v and E[v | h], h = p(h | v) (``seed=None``) or h ~ p(h | v)."""
        v = self.check_visible(visible)
        sampled = seed is not None
        key = as_key(seed) if sampled else jax.random.key(0)
        rec = _reconstruction(self.family, self.jax_params(), self._j(v), key, sampled)
        return float(np.mean((v - np.asarray(rec, dtype=np.float64)) ** 2))

    # ------------------------------------------------------------------ likelihood
    def log_probability(self, visible: ArrayLike, log_z: float) -> np.ndarray:
        """log p(v) = -F(v) - log Z per row, in nats (a density for real-valued units)."""
        log_z = check_finite_float("log_z", log_z)
        return -self.free_energy(visible) - log_z

    def log_likelihood(self, data: ArrayLike, log_z: float) -> float:
        """Mean log-likelihood mean(-F(v)) - log Z of the rows of ``data``, in nats per image."""
        return float(np.mean(self.log_probability(data, log_z)))

    # ------------------------------------------------------------------ files
    def header(self, **extra) -> dict:
        """The JSON header of this model's file (plus ``extra`` records)."""
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "kind": self.kind,
            "n_visible": self.n_visible,
            "n_hidden": self.n_hidden,
            **extra,
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` (.npz arrays + JSON header), atomically; exact round trip."""
        return save_arrays(path, self.arrays(), self.header())

    @classmethod
    def load(cls, path: str | os.PathLike) -> _RBMBase:
        """Read a model written by :meth:`save` (or a training checkpoint); refuses other kinds."""
        arrays, header = load_arrays(path)
        model = model_from_arrays(arrays, header, what=str(path))
        if cls is not _RBMBase and not isinstance(model, cls):
            raise ValueError(f"{path} holds a {model.kind} RBM, not a {cls.kind} RBM ({cls.__name__})")
        return model

    # ------------------------------------------------------------------ comparison
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self.arrays(), other.arrays()
        return all(np.array_equal(mine[k], theirs[k]) for k in mine)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.n_visible} visible, {self.n_hidden} hidden>"


class RBM(_RBMBase):
    """Bernoulli-Bernoulli RBM: E(v, h) = -v^T W h - b^T v - c^T h over v, h in {0, 1}."""

    family = BERNOULLI
    kind = "bernoulli"

    @classmethod
    def random(
        cls, n_visible: int, n_hidden: int, *, scale: float = 0.01, data: ArrayLike | None = None, seed: SeedLike = 0
    ) -> RBM:
        """Small random weights W_ij ~ N(0, scale^2), c = 0, and b = 0 or, given ``data``, the
        log-odds of each pixel's mean (so p(v | h = 0) starts at the data's marginals)."""
        n_visible = check_positive_int("n_visible", n_visible)
        n_hidden = check_positive_int("n_hidden", n_hidden)
        check_parameter_memory(n_visible, n_hidden)
        scale = check_finite_float("scale", scale)
        rng = numpy_generator(seed)
        w = scale * rng.standard_normal((n_visible, n_hidden))
        b = np.zeros(n_visible)
        if data is not None:
            x = _check_binary(data, n_visible, "data", "n_visible", np.uint8)
            m = np.clip(x.mean(axis=0, dtype=np.float64), 1e-3, 1 - 1e-3)
            b = np.log(m) - np.log1p(-m)
        return cls(w, b, np.zeros(n_hidden))

    def check_visible(self, visible: ArrayLike, name: str = "visible", dtype: DTypeLike = np.float64) -> np.ndarray:
        """Binary visible states in {0, 1} as ``dtype`` (default float64), shape (n, n_visible)."""
        return _check_binary(visible, self.n_visible, name, "n_visible", dtype)

    def pseudo_log_likelihood(self, visible: ArrayLike, *, batch_size: int = 256) -> np.ndarray:
        """sum_i log p(v_i | v_-i) per row, in nats: every unit, exactly (no random unit picked)."""
        v = self.check_visible(visible)
        batch_size = check_positive_int("batch_size", batch_size)
        if v.shape[0] == 0:
            # no rows, no values: an empty result, as free_energy and the other per-row methods give
            return np.empty(0, dtype=np.float64)
        p = self.jax_params()
        # the per-sample work is an (n_visible, n_hidden) tensor; chunk to bound memory
        chunk = max(1, min(batch_size, (1 << 24) // max(1, self.n_visible * self.n_hidden)))
        out = [
            np.asarray(_pseudo_log_likelihood(self.family, p, self._j(v[i : i + chunk])), dtype=np.float64)
            for i in range(0, v.shape[0], chunk)
        ]
        return np.concatenate(out)


class GaussianBernoulliRBM(_RBMBase):
    """Gaussian-Bernoulli RBM: E = sum (v-b)^2/(2 sigma^2) - c^T h - (v/sigma)^T W h, v real, h in {0, 1}.

    ``sigma`` (per visible unit, > 0) is a fixed parameter; training leaves it unchanged
    (standardise the data, or pass the data's standard deviations).
    """

    family = GAUSSIAN
    kind = "gaussian"

    def __init__(
        self,
        weights: ArrayLike,
        visible_bias: ArrayLike | None = None,
        hidden_bias: ArrayLike | None = None,
        sigma: ArrayLike | None = None,
    ) -> None:
        super().__init__(weights, visible_bias, hidden_bias)
        if sigma is None:
            sigma = 1.0
        s = _finite("sigma", np.full(self.n_visible, sigma) if np.ndim(sigma) == 0 else sigma, 1)
        if s.shape != (self.n_visible,):
            raise ValueError(f"sigma must be a number or have shape ({self.n_visible},), got {s.shape}")
        if np.any(s <= 0):
            raise ValueError("sigma must be > 0 for every visible unit (it is a standard deviation)")
        self._sigma = np.array(s, dtype=np.float64)
        self._sigma.setflags(write=False)

    @property
    def sigma(self) -> np.ndarray:
        """Standard deviation sigma_i of each visible unit (units of the data)."""
        return self._sigma

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "sigma": self._sigma}

    @classmethod
    def random(
        cls,
        n_visible: int,
        n_hidden: int,
        *,
        scale: float = 0.01,
        sigma: ArrayLike = 1.0,
        data: ArrayLike | None = None,
        seed: SeedLike = 0,
    ) -> GaussianBernoulliRBM:
        """Small random weights, c = 0, b = 0 or the data's mean, and the given ``sigma``."""
        n_visible = check_positive_int("n_visible", n_visible)
        n_hidden = check_positive_int("n_hidden", n_hidden)
        check_parameter_memory(n_visible, n_hidden)
        scale = check_finite_float("scale", scale)
        rng = numpy_generator(seed)
        w = scale * rng.standard_normal((n_visible, n_hidden))
        b = np.zeros(n_visible) if data is None else _check_real(data, n_visible, "data").mean(axis=0)
        return cls(w, b, np.zeros(n_hidden), sigma)

    def check_visible(self, visible: ArrayLike, name: str = "visible", dtype: DTypeLike = np.float64) -> np.ndarray:
        """Real visible states (finite) as ``dtype`` (default float64), shape (n, n_visible)."""
        return _check_real(visible, self.n_visible, name).astype(dtype, copy=False)


def check_parameter_memory(n_visible: int, n_hidden: int, copies: float = 4.0) -> None:
    """Raise ``ValueError`` if an RBM of this size (``copies`` float64 copies of its weights:
    the model, its JAX parameters, draws) cannot fit in memory, before any is allocated."""
    check_memory(
        f"an RBM of {n_visible} visible x {n_hidden} hidden units",
        copies * 8.0 * (float(n_visible) * n_hidden + n_visible + n_hidden),
        hint="choose fewer hidden units",
    )


RBM_CLASSES = {"bernoulli": RBM, "gaussian": GaussianBernoulliRBM}


def model_from_arrays(arrays: dict, header: dict, *, what: str = "file") -> RBM | GaussianBernoulliRBM:
    """Rebuild a model from the arrays and header of an RBM file; clear errors for anything else.

    Every header value and array is checked (types, ranges, exact shapes, real and finite
    numbers) before a model is built; failures raise ``FileFormatError`` naming ``what``.
    """
    contents = FileContents(what, arrays, header)
    found = header.get("format")
    if found != FILE_FORMAT:
        raise contents.fail(f"holds {found!r}, not an RBM ({FILE_FORMAT})"[:300])
    version = contents.value("version", int, minimum=0, default=0)
    if version > FILE_VERSION:
        raise contents.fail(
            f"was written by a newer thermolearn (RBM file version {version}; this one reads {FILE_VERSION})"
        )
    kind = contents.value("kind", str, choices=list(RBM_CLASSES))
    cls = RBM_CLASSES[kind]
    needed = PARAM_NAMES + (("sigma",) if kind == "gaussian" else ())
    missing = [k for k in needed if k not in arrays]
    if missing:
        raise contents.fail(f"is missing RBM arrays {missing}")
    n_visible = contents.value("n_visible", int, minimum=1)
    n_hidden = contents.value("n_hidden", int, minimum=1)
    weights_shape = np.shape(arrays["weights"])
    if weights_shape != (n_visible, n_hidden):
        raise contents.fail(f"weights have shape {weights_shape} but the header says ({n_visible}, {n_hidden})")
    shapes = {"weights": (n_visible, n_hidden), "visible_bias": (n_visible,), "hidden_bias": (n_hidden,)}
    shapes["sigma"] = (n_visible,)
    checked = {name: contents.array(name, shape=shapes[name], dtype=np.float64) for name in needed}
    if kind == "gaussian" and np.any(checked["sigma"] <= 0):
        raise contents.fail("array 'sigma' must be > 0 for every visible unit (it is a standard deviation)")
    try:
        return cls(**checked)
    except ValueError as exc:
        raise contents.fail(str(exc)) from None


def load_rbm(path: str | os.PathLike) -> RBM | GaussianBernoulliRBM:
    """Read any RBM file (Bernoulli or Gaussian-Bernoulli; a training checkpoint also works)."""
    model = _RBMBase.load(path)
    assert isinstance(model, (RBM, GaussianBernoulliRBM))  # model_from_arrays builds one of the two
    return model


# ---------------------------------------------------------------------------- checks
def _finite(name: str, value, ndim: int) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; only finite values are allowed")
    return arr


def _as_2d(value, n: int, name: str, layer: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or not (arr.dtype == bool or np.issubdtype(arr.dtype, np.number)):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"{name} must have shape (n_samples, {n}) or ({n},) ({layer} = {n}), got {np.shape(value)}")
    return arr


def _check_binary(value, n: int, name: str, layer: str, dtype=np.float64) -> np.ndarray:
    arr = _as_2d(value, n, name, layer)
    if arr.dtype == bool:
        return arr.astype(dtype)
    ok = (arr == 0) | (arr == 1)
    if not np.all(ok):
        bad = arr[~ok].ravel()[0]
        raise ValueError(
            f"{name} must contain only binary units 0 and 1 (spins -1/+1: use spins_to_binary; "
            f"grey levels: binarise first), got {bad}"
        )
    return arr.astype(dtype, copy=False)


def _check_real(value, n: int, name: str) -> np.ndarray:
    arr = _as_2d(value, n, name, "n_visible").astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; only finite values are allowed")
    return arr


def _check_beta(beta) -> float:
    b = check_finite_float("beta", beta)
    if b < 0:
        raise ValueError(f"beta must be >= 0 (beta = 1/T), got {b}")
    return b


__all__ = [
    "RBM",
    "GaussianBernoulliRBM",
    "GibbsTrace",
    "load_rbm",
    "model_from_arrays",
    "BERNOULLI",
    "GAUSSIAN",
    "as_key",
    "bernoulli",
    "gibbs_step",
    "float_dtype",
    "EXACT_MAX_UNITS",
]
