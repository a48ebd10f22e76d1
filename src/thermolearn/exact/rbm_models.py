"""Exact log partition functions of the RBM model objects (Bernoulli and Gaussian-Bernoulli).

The sums live here, in the exact layer, and take a model from :mod:`thermolearn.models.rbm`:
a model describes an energy; computing its partition function is an exact method on it.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from thermolearn.exact.rbm_partition import rbm_log_partition
from thermolearn.models.rbm import EXACT_MAX_UNITS, RBM, GaussianBernoulliRBM, float_dtype

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def rbm_model_log_partition(model: RBM | GaussianBernoulliRBM) -> float:
    """log Z of ``model`` by an exact sum, in nats.

    Bernoulli RBM: log Z = log sum_{v,h} exp(-E(v, h)), summed over the smaller layer (at most
    ``EXACT_MAX_UNITS`` units) with the other layer summed analytically. Gaussian-Bernoulli
    RBM: the visible units are integrated out in closed form, log Z = sum_i log(sqrt(2 pi)
    sigma_i) + log sum_h exp(c^T h + (b/sigma)^T W h + |W h|^2 / 2), over the 2^n_hidden
    hidden states (n_hidden at most ``EXACT_MAX_UNITS``).
    """
    if isinstance(model, GaussianBernoulliRBM):
        return _gaussian_log_partition(model)
    if isinstance(model, RBM):
        if min(model.n_visible, model.n_hidden) > EXACT_MAX_UNITS:
            raise ValueError(
                f"exact log Z sums 2^min(n_visible, n_hidden) terms; the smaller layer has "
                f"{min(model.n_visible, model.n_hidden)} units (at most {EXACT_MAX_UNITS} allowed): use AIS"
            )
        return float(rbm_log_partition(model.weights, model.visible_bias, model.hidden_bias))
    raise TypeError(f"model must be a thermolearn RBM or GaussianBernoulliRBM, got {type(model).__name__}")


@partial(jax.jit, static_argnums=(0,))
def _log_partition_gaussian_chunk(family, p, hidden_states):
    """log sum over the given hidden states of exp(c^T h + (b/sigma)^T W h + |W h|^2 / 2)."""
    wh = hidden_states @ p["weights"].T  # (m, n_visible)
    terms = hidden_states @ p["hidden_bias"] + wh @ (p["visible_bias"] / p["sigma"]) + 0.5 * jnp.sum(wh**2, axis=-1)
    return jax.scipy.special.logsumexp(terms)


def _gaussian_log_partition(model: GaussianBernoulliRBM) -> float:
    if model.n_hidden > EXACT_MAX_UNITS:
        raise ValueError(
            f"exact log Z of a Gaussian-Bernoulli RBM sums 2^n_hidden terms; n_hidden = "
            f"{model.n_hidden} (at most {EXACT_MAX_UNITS} allowed)"
        )
    p = model.jax_params()
    n = model.n_hidden
    low = min(n, 12)
    low_states = ((np.arange(2**low)[:, None] >> np.arange(low)) & 1).astype(float_dtype())
    parts = []
    for high in range(2 ** (n - low)):
        high_bits = ((high >> np.arange(n - low)) & 1).astype(float_dtype())
        states = np.concatenate([low_states, np.broadcast_to(high_bits, (len(low_states), n - low))], axis=1)
        parts.append(float(_log_partition_gaussian_chunk(model.family, p, jnp.asarray(states))))
    log_gauss = float(np.sum(np.log(model.sigma)) + model.n_visible * _LOG_SQRT_2PI)
    m = max(parts)
    return log_gauss + m + math.log(sum(math.exp(x - m) for x in parts))
