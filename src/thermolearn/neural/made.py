"""MADE: a masked autoencoder that is an exactly normalised autoregressive distribution over spins.

q(s) = prod_i q(s_i | s_<i), each conditional logistic with logit l_i(s_<i):

    q(s_i | s_<i) = exp(s_i l_i) / (2 cosh l_i),   log q(s) = sum_i [s_i l_i - log 2cosh l_i],

the convention of the autoregressive family of black-box VI (:mod:`thermolearn.variational.bbvi`,
logits ``a + W s`` with W strictly lower triangular). MADE (Germain et al. 2015) computes every
l_i in one pass through ``depth`` masked tanh layers of ``hidden`` units, with masks that let l_i
see only s_<i; a direct masked connection ``W s`` and the output bias ``a`` are exactly the BBVI
family, so ``depth = 0`` *is* that family and a BBVI fit is a starting point (:meth:`MADE.from_bbvi`).

Exact sampling draws s_1, s_2, ... in turn, one pass per spin, from uniforms u: s_i = +1 iff
u_i < sigmoid(2 l_i). With ``symmetric`` the distribution is made Z2 symmetric,
q_sym(s) = (q(s) + q(-s)) / 2 (sample s from q, then flip every spin with probability 1/2),
the choice of Wu, Wang and Zhang (PRL 2019) for models without fields.

The functions come in two forms: JAX (float32, for the compiled training loop) and NumPy
(float64, for the bound, importance weights and Metropolis-Hastings ratios, where log q must be
the log probability of exactly the sampler used).
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

ACTIVATION = "tanh"
MAX_SPINS = 1024
"""Largest model a MADE is built for (its weights grow as depth x hidden x n)."""


@dataclass(frozen=True)
class MADEConfig:
    """The architecture: ``n_spins`` spins, ``depth`` masked hidden layers of ``hidden`` units
    (``depth = 0``: only the direct connection, the BBVI autoregressive family), and whether
    the distribution is symmetrised under s -> -s."""

    n_spins: int
    hidden: int
    depth: int
    symmetric: bool = False

    def __post_init__(self) -> None:
        n = check_positive_int("n_spins", self.n_spins)
        if n > MAX_SPINS:
            raise ValueError(f"a MADE is limited to {MAX_SPINS} spins (its weights grow as hidden x n); got {n}")
        if isinstance(self.depth, bool) or not isinstance(self.depth, (int, np.integer)) or self.depth < 0:
            raise ValueError(f"depth must be an integer >= 0 (the masked hidden layers), got {self.depth!r}")
        if self.depth > 0:
            check_positive_int("hidden", self.hidden)
            if n < 2:
                raise ValueError("a MADE with hidden layers needs at least 2 spins (use depth = 0)")
            if self.hidden > 8 * n + 64:
                raise ValueError(
                    f"hidden = {self.hidden} units is too large for a model of {n} spins "
                    f"(at most 8 n + 64 = {8 * n + 64}: wider layers add only noise to the gradient)"
                )
        if not isinstance(self.symmetric, bool):
            raise TypeError(f"symmetric must be True or False, got {self.symmetric!r}")

    def as_dict(self) -> dict[str, Any]:
        """The architecture as a JSON-ready dict."""
        return {"n_spins": self.n_spins, "hidden": self.hidden, "depth": self.depth, "symmetric": self.symmetric}

    @property
    def n_parameters(self) -> int:
        """Free parameters: the unmasked weights, the biases and the direct connection."""
        n = self.n_spins
        free = sum(int(m.sum()) for m in masks(self)) + self.depth * self.hidden
        return free + n + n * (n - 1) // 2


def masks(config: MADEConfig) -> list[np.ndarray]:
    """The 0/1 masks of the hidden layers and the output layer (float32), in order.

    Degrees: input i has degree i + 1 (1..n), hidden unit k degree (k mod (n - 1)) + 1
    (1..n-1); a hidden unit sees inputs of degree <= its own, output i sees hidden units of
    degree < i + 1, so l_i depends on s_<i only."""
    n, h = config.n_spins, config.hidden
    if config.depth == 0:
        return []
    inputs = np.arange(1, n + 1)
    hidden = (np.arange(h) % (n - 1)) + 1
    out = [(hidden[:, None] >= inputs[None, :]).astype(np.float32)]
    for _ in range(config.depth - 1):
        out.append((hidden[:, None] >= hidden[None, :]).astype(np.float32))
    out.append((inputs[:, None] > hidden[None, :]).astype(np.float32))
    return out


def init_params(config: MADEConfig, seed: int | np.random.Generator = 0) -> dict[str, np.ndarray]:
    """Parameters of a near-uniform q: small random hidden weights (scaled by the fan-in of the
    mask), zero output weights, zero direct connection and zero output bias, so q starts at the
    uniform distribution (the optimum at beta = 0, where annealing starts)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n, h = config.n_spins, config.hidden
    params: dict[str, np.ndarray] = {
        "bias": np.zeros(n, dtype=np.float32),
        "direct": np.zeros((n, n), dtype=np.float32),
    }
    ms = masks(config)
    for layer, m in enumerate(ms[:-1]):
        fan_in = np.maximum(m.sum(axis=1, keepdims=True), 1.0)
        params[f"w{layer}"] = (rng.normal(size=m.shape) / np.sqrt(fan_in)).astype(np.float32)
        params[f"b{layer}"] = np.zeros(h, dtype=np.float32)
    if ms:
        params["out"] = np.zeros((n, h), dtype=np.float32)
    return params


def parameter_shapes(config: MADEConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter array of this architecture."""
    return {k: v.shape for k, v in init_params(config, 0).items()}


# ----------------------------------------------------------------------------- NumPy (float64)
def _log2cosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax))


def masked_weights(config: MADEConfig, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parameters in float64 with their masks applied (the direct connection made strictly
    lower triangular): what the NumPy functions compute with."""
    ms = masks(config)
    out = {
        "bias": np.asarray(params["bias"], dtype=np.float64),
        "direct": np.tril(np.asarray(params["direct"], dtype=np.float64), k=-1),
    }
    for layer in range(config.depth):
        out[f"w{layer}"] = np.asarray(params[f"w{layer}"], dtype=np.float64) * ms[layer]
        out[f"b{layer}"] = np.asarray(params[f"b{layer}"], dtype=np.float64)
    if config.depth:
        out["out"] = np.asarray(params["out"], dtype=np.float64) * ms[-1]
    return out


def _hidden64(config: MADEConfig, wts: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    for layer in range(config.depth):
        x = np.tanh(x @ wts[f"w{layer}"].T + wts[f"b{layer}"])
    return x


def _logits64(config: MADEConfig, wts: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    logits = wts["bias"] + x @ wts["direct"].T
    if config.depth:
        logits = logits + _hidden64(config, wts, x) @ wts["out"].T
    return logits


def _plain_log_prob64(config: MADEConfig, wts: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    logits = _logits64(config, wts, x)
    return np.sum(x * logits - _log2cosh(logits), axis=1)


def log_prob64(config: MADEConfig, wts: dict[str, np.ndarray], s: np.ndarray) -> np.ndarray:
    """log q(s) in float64 for states s (n_samples, n) of +-1 (exact, normalised), from
    :func:`masked_weights`."""
    x = np.asarray(s, dtype=np.float64)
    lq = _plain_log_prob64(config, wts, x)
    if config.symmetric:
        lq = np.logaddexp(lq, _plain_log_prob64(config, wts, -x)) - math.log(2.0)
    return lq


def log_prob_numpy(config: MADEConfig, params: dict[str, np.ndarray], s: np.ndarray) -> np.ndarray:
    """log q(s) in float64 for states s (n_samples, n) of +-1 (exact, normalised)."""
    return log_prob64(config, masked_weights(config, params), s)


def logits_numpy(config: MADEConfig, params: dict[str, np.ndarray], s: np.ndarray) -> np.ndarray:
    """The logits l (n_samples, n) of q(s_i | s_<i) for states s (n_samples, n), float64."""
    return _logits64(config, masked_weights(config, params), np.asarray(s, dtype=np.float64))


def sample64(config: MADEConfig, wts: dict[str, np.ndarray], uniforms: np.ndarray) -> np.ndarray:
    """Exact samples of q (int8, (n_samples, n)) from uniforms (n_samples, n + symmetric) in [0, 1).

    Spin i is +1 iff u_i < sigmoid(2 l_i); with ``symmetric`` the last uniform flips the whole
    state with probability 1/2. One hidden layer is updated incrementally (its input is linear
    in s), so a sample costs O(n hidden) per spin instead of a full pass."""
    u = np.asarray(uniforms, dtype=np.float64)
    n = config.n_spins
    if u.ndim != 2 or u.shape[1] != n + int(config.symmetric):
        raise ValueError(f"uniforms must have shape (n_samples, {n + int(config.symmetric)}), got {u.shape}")
    k = u.shape[0]
    x = np.zeros((k, n))
    bias, direct = wts["bias"], wts["direct"]
    if config.depth == 1:
        w0, out = wts["w0"], wts["out"]
        pre = np.broadcast_to(wts["b0"], (k, w0.shape[0])).copy()
    for i in range(n):
        logit = bias[i] + x[:, :i] @ direct[i, :i]
        if config.depth == 1:
            logit = logit + np.tanh(pre) @ out[i]
        elif config.depth > 1:
            logit = logit + _hidden64(config, wts, x) @ wts["out"][i]
        x[:, i] = np.where(u[:, i] < expit(2.0 * logit), 1.0, -1.0)
        if config.depth == 1:
            pre += np.outer(x[:, i], w0[:, i])
    if config.symmetric:
        x = np.where(u[:, n : n + 1] < 0.5, -x, x)
    return x.astype(np.int8)


def sample_numpy(config: MADEConfig, params: dict[str, np.ndarray], uniforms: np.ndarray) -> np.ndarray:
    """Exact samples of q from uniforms: :func:`sample64` from the raw parameters."""
    return sample64(config, masked_weights(config, params), uniforms)


# ----------------------------------------------------------------------------- JAX (float32)
def logits_jax(config: MADEConfig, ms: tuple, params: dict[str, Any], s: Any) -> Any:
    """The logits of q(s_i | s_<i) (JAX); ``ms`` the masks as JAX constants."""
    import jax.numpy as jnp

    logits = params["bias"] + s @ jnp.tril(params["direct"], k=-1).T
    if config.depth:
        x = s
        for layer in range(config.depth):
            x = jnp.tanh(x @ (params[f"w{layer}"] * ms[layer]).T + params[f"b{layer}"])
        logits = logits + x @ (params["out"] * ms[-1]).T
    return logits


def log_prob_jax(config: MADEConfig, ms: tuple, params: dict[str, Any], s: Any) -> Any:
    """log q(s) (JAX), symmetrised when the config says so."""
    import jax.numpy as jnp

    def plain(x):
        logits = logits_jax(config, ms, params, x)
        ax = jnp.abs(logits)
        return jnp.sum(x * logits - (ax + jnp.log1p(jnp.exp(-2.0 * ax))), axis=1)

    lq = plain(s)
    if config.symmetric:
        lq = jnp.logaddexp(lq, plain(-s)) - math.log(2.0)
    return lq


def jax_constants(config: MADEConfig) -> tuple:
    """The masks as JAX arrays (the constants of the compiled functions)."""
    import jax.numpy as jnp

    return tuple(jnp.asarray(m) for m in masks(config))


def sample_jax(config: MADEConfig, ms: tuple, params: dict[str, Any], key: Any, n_samples: int) -> Any:
    """Exact samples of q (float32 +-1, (n_samples, n)), spin by spin. With at most one hidden
    layer the layer's pre-activation is updated as each spin is drawn (its input is linear in s),
    O(n hidden) per spin; deeper networks make one full pass per spin."""
    import jax
    import jax.numpy as jnp

    n = config.n_spins
    u = jax.random.uniform(key, (n_samples, n + 1))
    direct = jnp.tril(params["direct"], k=-1)

    if config.depth <= 1:
        w0 = params["w0"] * ms[0] if config.depth else None
        out = params["out"] * ms[-1] if config.depth else None

        def incremental(carry, i):
            s, pre = carry
            logit = params["bias"][i] + s @ direct[i]
            if config.depth:
                logit = logit + jnp.tanh(pre) @ out[i]
            column = jnp.where(u[:, i] < jax.nn.sigmoid(2.0 * logit), 1.0, -1.0)
            if config.depth:
                pre = pre + column[:, None] * w0[:, i][None, :]
            return (s.at[:, i].set(column), pre), None

        pre0 = (
            jnp.broadcast_to(params["b0"], (n_samples, config.hidden))
            if config.depth
            else jnp.zeros((n_samples, 1), dtype=jnp.float32)
        )
        (s, _), _ = jax.lax.scan(incremental, (jnp.zeros((n_samples, n), dtype=jnp.float32), pre0), jnp.arange(n))
    else:

        def body(s, i):
            logit = logits_jax(config, ms, params, s)[:, i]
            column = jnp.where(u[:, i] < jax.nn.sigmoid(2.0 * logit), 1.0, -1.0)
            return s.at[:, i].set(column), None

        s, _ = jax.lax.scan(body, jnp.zeros((n_samples, n), dtype=jnp.float32), jnp.arange(n))
    if config.symmetric:
        s = jnp.where(u[:, n : n + 1] < 0.5, -s, s)
    return s


@dataclass(frozen=True)
class MADE(AutoregressiveNetwork):
    """A MADE distribution q: its :class:`MADEConfig` and parameters (NumPy arrays).

    :meth:`log_prob` is the exact, normalised log q(s) in float64; :meth:`sample` draws exact
    samples (int8) from ``seed``; :meth:`sample_from_uniforms` from given uniforms (what a
    Markov chain with its own generator needs)."""

    config: MADEConfig
    params: Mapping[str, np.ndarray] = field(repr=False)

    network: ClassVar[str] = "made"

    @cached_property
    def _weights(self) -> dict[str, np.ndarray]:
        return masked_weights(self.config, self.params)

    def log_prob(self, states: np.ndarray) -> np.ndarray:
        return log_prob64(self.config, self._weights, np.atleast_2d(states))

    def sample_from_uniforms(self, uniforms: np.ndarray) -> np.ndarray:
        return sample64(self.config, self._weights, uniforms)

    @classmethod
    def from_bbvi(cls, result: Any, *, hidden: int = 0, depth: int = 0, symmetric: bool = False) -> MADE:
        """A MADE equal to the autoregressive q of a black-box VI fit (``black_box_vi(...,
        family="autoregressive")``): bias a and direct weights W copied, hidden layers (if any)
        added with zero output weights, so the distribution is the same."""
        if getattr(result, "family", None) != "autoregressive":
            raise ValueError("MADE.from_bbvi needs a BBVIResult of the autoregressive family")
        n = int(result.n_spins)
        config = MADEConfig(n, hidden, depth, symmetric)
        params = init_params(config, 0)
        params["bias"] = np.asarray(result.params["a"], dtype=np.float32)
        params["direct"] = np.tril(np.asarray(result.params["W"], dtype=np.float32), k=-1)
        return cls(config, params)
