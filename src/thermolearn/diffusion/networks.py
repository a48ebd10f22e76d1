"""The reverse process's networks (equinox): MLPs for points and flattened images, a small CNN.

Both take one example ``x`` of shape ``(dim,)`` and a step ``t`` (a scalar) and return
``out_per_dim * dim`` numbers: block k (``out[k*dim:(k+1)*dim]``) is the k-th output map,
e.g. the mean and the variance coefficients. Time enters as sinusoidal features of t that
shift every hidden layer (a learned projection per layer); in the residual MLP they also
scale it (FiLM), which lets the output depend multiplicatively on t, as the noise
prediction x_t / sigma_t does. The last layer starts at zero, so an untrained model's
reverse step is the parameterisation's neutral one.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

NETWORKS = ("mlp", "resmlp", "conv")


def time_features(t, n_features: int, max_steps: int) -> jnp.ndarray:
    """Sinusoidal features of the step t (scalar), frequencies from 1/max_steps to ~1."""
    half = n_features // 2
    freqs = jnp.exp(jnp.linspace(0.0, math.log(max(float(max_steps), 2.0)), half))
    angle = jnp.asarray(t, dtype=jnp.float32) * math.pi / max_steps * freqs
    return jnp.concatenate([jnp.sin(angle), jnp.cos(angle)])


def _zero_last(linear):
    return eqx.tree_at(
        lambda m: (m.weight, m.bias), linear, (jnp.zeros_like(linear.weight), jnp.zeros_like(linear.bias))
    )


class TimeMLP(eqx.Module):
    """x -> depth hidden layers (SiLU; each shifted by a projection of the time features) -> out."""

    layers: list
    time_layers: list
    out: eqx.nn.Linear
    dim: int = eqx.field(static=True)
    n_time: int = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        out_per_dim: int,
        *,
        hidden: int = 128,
        depth: int = 3,
        n_time: int = 32,
        max_steps: int = 1000,
        key: jax.Array,
    ):
        keys = jax.random.split(key, 2 * depth + 1)
        sizes = [dim] + [hidden] * depth
        self.layers = [eqx.nn.Linear(sizes[i], sizes[i + 1], key=keys[i]) for i in range(depth)]
        self.time_layers = [eqx.nn.Linear(n_time, hidden, key=keys[depth + i]) for i in range(depth)]
        self.out = _zero_last(eqx.nn.Linear(hidden, out_per_dim * dim, key=keys[-1]))
        self.dim, self.n_time, self.max_steps = dim, n_time, max_steps

    def __call__(self, x, t):
        e = time_features(t, self.n_time, self.max_steps)
        h = x
        for lin, tl in zip(self.layers, self.time_layers):
            h = jax.nn.silu(lin(h) + tl(e))
        return self.out(h)


class TimeResMLP(eqx.Module):
    """x -> linear -> depth residual blocks h += silu(W LayerNorm(h) * (1 + scale(t)) + shift(t)) -> out.

    The residual stream carries x through every block, so a stream at least as wide as the
    data (MNIST: 784 -> 1024) learns the noise of high-dimensional data where the plain MLP,
    which must rebuild x through each SiLU layer, barely improves on predicting zero.
    """

    inp: eqx.nn.Linear
    norms: list
    blocks: list
    films: list
    out: eqx.nn.Linear
    dim: int = eqx.field(static=True)
    n_time: int = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        out_per_dim: int,
        *,
        hidden: int = 1024,
        depth: int = 4,
        n_time: int = 32,
        max_steps: int = 1000,
        key: jax.Array,
    ):
        keys = jax.random.split(key, 2 * depth + 2)
        self.inp = eqx.nn.Linear(dim, hidden, key=keys[0])
        self.norms = [eqx.nn.LayerNorm(hidden) for _ in range(depth)]
        self.blocks = [eqx.nn.Linear(hidden, hidden, key=keys[1 + i]) for i in range(depth)]
        self.films = [eqx.nn.Linear(n_time, 2 * hidden, key=keys[1 + depth + i]) for i in range(depth)]
        self.out = _zero_last(eqx.nn.Linear(hidden, out_per_dim * dim, key=keys[-1]))
        self.dim, self.n_time, self.max_steps = dim, n_time, max_steps

    def __call__(self, x, t):
        e = time_features(t, self.n_time, self.max_steps)
        h = self.inp(x)
        for norm, lin, film in zip(self.norms, self.blocks, self.films):
            scale, shift = jnp.split(film(e), 2)
            h = h + jax.nn.silu(lin(norm(h)) * (1.0 + scale) + shift)
        return self.out(h)


class TimeConvNet(eqx.Module):
    """A stack of 3x3 convolutions with growing dilation and residual connections.

    Input channels: the image and two coordinate maps (so the net knows where a pixel is).
    Dilations 1, 2, 4, ... (capped below the image size) give a receptive field covering
    the image at a fixed cost per layer.
    """

    inp: eqx.nn.Conv2d
    blocks: list
    time_layers: list
    out: eqx.nn.Conv2d
    shape: tuple = eqx.field(static=True)
    out_per_dim: int = eqx.field(static=True)
    n_time: int = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        shape: tuple[int, int],
        out_per_dim: int,
        *,
        channels: int = 32,
        depth: int = 4,
        n_time: int = 32,
        max_steps: int = 1000,
        key: jax.Array,
    ):
        h, w = shape
        keys = jax.random.split(key, 2 * depth + 3)
        self.inp = eqx.nn.Conv2d(3, channels, 3, padding=1, key=keys[0])
        dilations = []
        d = 1
        for _ in range(depth):
            dilations.append(d)
            d = d * 2 if d * 2 < max(h, w) // 2 else 1
        self.blocks = [
            eqx.nn.Conv2d(channels, channels, 3, padding=dl, dilation=dl, key=keys[1 + i])
            for i, dl in enumerate(dilations)
        ]
        self.time_layers = [eqx.nn.Linear(n_time, channels, key=keys[1 + depth + i]) for i in range(depth + 1)]
        self.out = _zero_last(eqx.nn.Conv2d(channels, out_per_dim, 3, padding=1, key=keys[-1]))
        self.shape, self.out_per_dim, self.n_time, self.max_steps = tuple(shape), out_per_dim, n_time, max_steps

    def __call__(self, x, t):
        h_, w_ = self.shape
        e = time_features(t, self.n_time, self.max_steps)
        yy, xx = jnp.meshgrid(jnp.linspace(-1, 1, h_), jnp.linspace(-1, 1, w_), indexing="ij")
        img = jnp.stack([x.reshape(h_, w_), yy, xx])
        h = jax.nn.silu(self.inp(img) + self.time_layers[0](e)[:, None, None])
        for conv, tl in zip(self.blocks, self.time_layers[1:]):
            h = h + jax.nn.silu(conv(h) + tl(e)[:, None, None])
        return self.out(h).reshape(-1)
