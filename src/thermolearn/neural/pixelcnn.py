"""A small PixelCNN: masked convolutions over a 2D lattice as an exactly normalised autoregressive q.

The spins of an R x C lattice are ordered row by row (site i = r C + c, the order of
``Ising.lattice``). Each layer is a k x k convolution (zero padding) whose kernel is masked so
that a site sees only sites earlier in that order: the first layer (mask "A") sees the rows above
and the sites to the left, later layers (mask "B") also their own site's features, which depend
only on earlier spins (van den Oord et al. 2016; the network Wu, Wang and Zhang use for the 2D
Ising model). ``depth`` masked layers of ``channels`` tanh units, then a 1 x 1 convolution and a
bias per site give the logits l_i of q(s_i | s_<i) = exp(s_i l_i) / (2 cosh l_i), the convention
of :mod:`~thermolearn.neural.made`. Sampling makes one pass per spin; log q is one pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy.special import expit

from thermolearn.neural.network import AutoregressiveNetwork
from thermolearn.validation import check_positive_int

MAX_SPINS = 4096
MAX_CHANNELS = 256


@dataclass(frozen=True)
class PixelCNNConfig:
    """The architecture: lattice ``shape`` (rows, columns), ``depth`` masked layers of ``channels``
    units with ``kernel`` x ``kernel`` (odd) kernels, and whether q is symmetrised under s -> -s."""

    shape: tuple[int, int]
    channels: int
    depth: int
    kernel: int = 3
    symmetric: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.shape, tuple) or len(self.shape) != 2:
            raise ValueError(f"a PixelCNN needs a 2D lattice shape (rows, columns), got {self.shape!r}")
        rows = check_positive_int("rows", self.shape[0])
        cols = check_positive_int("columns", self.shape[1])
        if rows * cols > MAX_SPINS:
            raise ValueError(f"a PixelCNN is limited to {MAX_SPINS} spins here; got {rows} x {cols}")
        channels = check_positive_int("channels", self.channels)
        if channels > MAX_CHANNELS:
            raise ValueError(
                f"channels = {channels} is too large (at most {MAX_CHANNELS}: wider layers add only noise to the gradient)"
            )
        check_positive_int("depth", self.depth)
        k = check_positive_int("kernel", self.kernel)
        if k % 2 == 0 or k < 3:
            raise ValueError(f"kernel must be an odd size >= 3, got {k}")
        if k > 2 * max(rows, cols) + 1:
            raise ValueError(
                f"kernel {k} is larger than the lattice {rows} x {cols} can use (at most {2 * max(rows, cols) + 1})"
            )
        if not isinstance(self.symmetric, bool):
            raise TypeError(f"symmetric must be True or False, got {self.symmetric!r}")

    @property
    def n_spins(self) -> int:
        """Number of spins N = rows x columns."""
        return self.shape[0] * self.shape[1]

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters (masked weights, biases and the output layer)."""
        a, b = masks(self)
        c = self.channels
        first = int(a.sum()) * c + c
        later = (self.depth - 1) * (int(b.sum()) * c * c + c)
        return first + later + c + self.n_spins

    def as_dict(self) -> dict[str, Any]:
        """The architecture as a JSON-ready dict."""
        return {
            "n_spins": self.n_spins,
            "shape": list(self.shape),
            "channels": self.channels,
            "depth": self.depth,
            "kernel": self.kernel,
            "symmetric": self.symmetric,
        }


def masks(config: PixelCNNConfig) -> tuple[np.ndarray, np.ndarray]:
    """The k x k masks "A" (first layer: rows above, and left of the centre) and "B" (later
    layers: the centre too), float32."""
    k, h = config.kernel, config.kernel // 2
    a = np.zeros((k, k), dtype=np.float32)
    a[:h, :] = 1.0
    a[h, :h] = 1.0
    b = a.copy()
    b[h, h] = 1.0
    return a, b


def init_params(config: PixelCNNConfig, seed: int | np.random.Generator = 0) -> dict[str, np.ndarray]:
    """Small random kernels (scaled by the fan-in of the mask), zero output weights and biases:
    q starts uniform, the optimum at beta = 0."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k, c = config.kernel, config.channels
    a, b = masks(config)
    params = {
        "w0": (rng.normal(size=(c, 1, k, k)) / math.sqrt(a.sum())).astype(np.float32),
        "b0": np.zeros(c, dtype=np.float32),
    }
    for layer in range(1, config.depth):
        params[f"w{layer}"] = (rng.normal(size=(c, c, k, k)) / math.sqrt(b.sum() * c)).astype(np.float32)
        params[f"b{layer}"] = np.zeros(c, dtype=np.float32)
    params["out"] = np.zeros(c, dtype=np.float32)
    params["bias"] = np.zeros(config.shape, dtype=np.float32)
    return params


def parameter_shapes(config: PixelCNNConfig) -> dict[str, tuple[int, ...]]:
    k, c = config.kernel, config.channels
    shapes: dict[str, tuple[int, ...]] = {"w0": (c, 1, k, k), "b0": (c,)}
    for layer in range(1, config.depth):
        shapes[f"w{layer}"] = (c, c, k, k)
        shapes[f"b{layer}"] = (c,)
    shapes["out"] = (c,)
    shapes["bias"] = tuple(config.shape)
    return shapes


# ----------------------------------------------------------------------------- NumPy (float64)
def _log2cosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax))


def _conv64(x: np.ndarray, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Masked 'same' convolution (cross-correlation) with zero padding: x (B, I, R, C), w (O, I, k, k)."""
    k = w.shape[-1]
    h = k // 2
    _, _, rows, cols = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (h, h), (h, h)))
    out = np.zeros((x.shape[0], w.shape[0], rows, cols))
    for dy, dx in zip(*np.nonzero(mask)):
        out += np.einsum("bihw,oi->bohw", xp[:, :, dy : dy + rows, dx : dx + cols], w[:, :, dy, dx], optimize=True)
    return out


def _logits64(config: PixelCNNConfig, wts: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    rows, cols = config.shape
    a, b = masks(config)
    h = x.reshape(-1, 1, rows, cols)
    for layer in range(config.depth):
        h = np.tanh(_conv64(h, wts[f"w{layer}"], a if layer == 0 else b) + wts[f"b{layer}"][None, :, None, None])
    logits = np.einsum("bchw,c->bhw", h, wts["out"]) + wts["bias"]
    return logits.reshape(x.shape[0], rows * cols)


def _plain_log_prob64(config: PixelCNNConfig, wts: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    logits = _logits64(config, wts, x)
    return np.sum(x * logits - _log2cosh(logits), axis=1)


@dataclass(frozen=True)
class PixelCNN(AutoregressiveNetwork):
    """A PixelCNN distribution q over a 2D lattice: its :class:`PixelCNNConfig` and parameters."""

    config: PixelCNNConfig
    params: Mapping[str, np.ndarray] = field(repr=False)

    network: ClassVar[str] = "pixelcnn"

    @cached_property
    def _weights(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.params.items()}

    def logits(self, states: np.ndarray) -> np.ndarray:
        """The logits l (n_samples, n) of q(s_i | s_<i), float64."""
        return _logits64(self.config, self._weights, np.atleast_2d(np.asarray(states, dtype=np.float64)))

    def log_prob(self, states: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(states, dtype=np.float64))
        lq = _plain_log_prob64(self.config, self._weights, x)
        if self.config.symmetric:
            lq = np.logaddexp(lq, _plain_log_prob64(self.config, self._weights, -x)) - math.log(2.0)
        return lq

    def sample_from_uniforms(self, uniforms: np.ndarray) -> np.ndarray:
        u = np.asarray(uniforms, dtype=np.float64)
        n = self.n_spins
        if u.ndim != 2 or u.shape[1] != self.uniforms_per_sample:
            raise ValueError(f"uniforms must have shape (n_samples, {self.uniforms_per_sample}), got {u.shape}")
        x = np.zeros((u.shape[0], n))
        for i in range(n):
            logit = _logits64(self.config, self._weights, x)[:, i]
            x[:, i] = np.where(u[:, i] < expit(2.0 * logit), 1.0, -1.0)
        if self.config.symmetric:
            x = np.where(u[:, n : n + 1] < 0.5, -x, x)
        return x.astype(np.int8)


# ----------------------------------------------------------------------------- JAX (float32)
def jax_constants(config: PixelCNNConfig) -> tuple:
    import jax.numpy as jnp

    return tuple(jnp.asarray(m) for m in masks(config))


def _conv_jax(x: Any, w: Any, mask: np.ndarray) -> Any:
    """The masked 'same' convolution as a sum over the kernel's open offsets of shifted inputs
    contracted over channels: on a CPU, for lattices this small, far faster than a general
    convolution (the offsets are static, so the loop unrolls at compile time)."""
    import jax.numpy as jnp

    k = mask.shape[0]
    h = k // 2
    _, _, rows, cols = x.shape
    xp = jnp.pad(x, ((0, 0), (0, 0), (h, h), (h, h)))
    out = None
    for dy, dx in zip(*np.nonzero(mask)):
        term = jnp.einsum("bihw,oi->bohw", xp[:, :, dy : dy + rows, dx : dx + cols], w[:, :, dy, dx])
        out = term if out is None else out + term
    return out


def logits_jax(config: PixelCNNConfig, consts: tuple, params: dict[str, Any], s: Any) -> Any:
    import jax.numpy as jnp

    rows, cols = config.shape
    a, b = masks(config)
    h = s.reshape(-1, 1, rows, cols)
    for layer in range(config.depth):
        h = _conv_jax(h, params[f"w{layer}"], a if layer == 0 else b)
        h = jnp.tanh(h + params[f"b{layer}"][None, :, None, None])
    logits = jnp.einsum("bchw,c->bhw", h, params["out"]) + params["bias"]
    return logits.reshape(s.shape[0], rows * cols)


def log_prob_jax(config: PixelCNNConfig, consts: tuple, params: dict[str, Any], s: Any) -> Any:
    import jax.numpy as jnp

    def plain(x):
        logits = logits_jax(config, consts, params, x)
        ax = jnp.abs(logits)
        return jnp.sum(x * logits - (ax + jnp.log1p(jnp.exp(-2.0 * ax))), axis=1)

    lq = plain(s)
    if config.symmetric:
        lq = jnp.logaddexp(lq, plain(-s)) - math.log(2.0)
    return lq


def sample_jax(config: PixelCNNConfig, consts: tuple, params: dict[str, Any], key: Any, n_samples: int) -> Any:
    """Exact samples (float32 +-1), one pass of the network per spin."""
    import jax
    import jax.numpy as jnp

    n = config.n_spins
    u = jax.random.uniform(key, (n_samples, n + 1))

    def body(s, i):
        logit = logits_jax(config, consts, params, s)[:, i]
        column = jnp.where(u[:, i] < jax.nn.sigmoid(2.0 * logit), 1.0, -1.0)
        return s.at[:, i].set(column), None

    s, _ = jax.lax.scan(body, jnp.zeros((n_samples, n), dtype=jnp.float32), jnp.arange(n))
    if config.symmetric:
        s = jnp.where(u[:, n : n + 1] < 0.5, -s, s)
    return s
