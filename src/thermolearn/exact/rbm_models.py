"""Exact log partition functions of the RBM model objects (Bernoulli and Gaussian-Bernoulli).

The sums live here, in the exact layer, and take a model from :mod:`thermolearn.models.rbm`:
a model describes an energy; computing its partition function is an exact method on it.
"""

from __future__ import annotations

import math

import numpy as np

from thermolearn.exact.rbm_partition import rbm_log_partition
from thermolearn.models.rbm import EXACT_MAX_UNITS, RBM, GaussianBernoulliRBM

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


def _gaussian_log_partition(model: GaussianBernoulliRBM) -> float:
    if model.n_hidden > EXACT_MAX_UNITS:
        raise ValueError(
            f"exact log Z of a Gaussian-Bernoulli RBM sums 2^n_hidden terms; n_hidden = "
            f"{model.n_hidden} (at most {EXACT_MAX_UNITS} allowed)"
        )
    # float64 throughout: this is the exact reference the float32 training path is checked
    # against (in float32 the sum was off by 3e-4 nats at weight scale 10)
    W, b, c, sigma = (
        np.asarray(x, dtype=np.float64) for x in (model.weights, model.visible_bias, model.hidden_bias, model.sigma)
    )
    n = model.n_hidden
    drive = W.T @ (b / sigma)  # (b / sigma)^T W h = h . drive
    gram = W.T @ W  # |W h|^2 = h^T (W^T W) h: per state n_hidden^2 work, not n_visible x n_hidden
    low = min(n, 12)
    low_states = ((np.arange(2**low)[:, None] >> np.arange(low)) & 1).astype(np.float64)
    parts = []
    for high in range(2 ** (n - low)):
        high_bits = ((high >> np.arange(n - low)) & 1).astype(np.float64)
        states = np.concatenate([low_states, np.broadcast_to(high_bits, (len(low_states), n - low))], axis=1)
        terms = states @ (c + drive) + 0.5 * np.einsum("ij,ij->i", states @ gram, states)
        top = float(terms.max())
        parts.append(top + math.log(float(np.sum(np.exp(terms - top)))))
    log_gauss = float(np.sum(np.log(sigma)) + model.n_visible * _LOG_SQRT_2PI)
    m = max(parts)
    return log_gauss + m + math.log(sum(math.exp(x - m) for x in parts))
