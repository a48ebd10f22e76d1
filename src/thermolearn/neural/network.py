"""What every autoregressive network of :mod:`thermolearn.neural` offers: exact samples and exact log q.

A network is a frozen ``config`` (the architecture, hashable) and ``params`` (NumPy arrays by
name). Subclasses implement :meth:`log_prob` (float64, normalised) and
:meth:`sample_from_uniforms` (one spin at a time, s_i = +1 iff u_i < q(s_i = +1 | s_<i)); the
samplers, estimators, files and command line use only this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from thermolearn.validation import check_positive_int


class AutoregressiveNetwork(ABC):
    """An exactly normalised autoregressive distribution q(s) = prod_i q(s_i | s_<i) over +-1 spins."""

    network: ClassVar[str] = ""
    config: Any
    params: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        # the networks cache what they compute from their parameters (masked weights): they hold
        # their own read-only copies in a read-only mapping, so neither an edit of the caller's
        # arrays nor a replaced or added entry (q.params["bias"] = x) can leave the cache stale
        own = {}
        for key, value in self.params.items():
            arr = np.array(value)
            arr.setflags(write=False)
            own[key] = arr
        object.__setattr__(self, "params", MappingProxyType(own))

    def __reduce__(self) -> tuple:
        # a mapping proxy does not pickle: rebuilt from the architecture and plain parameters
        return type(self), (self.config, dict(self.params))

    @property
    def n_spins(self) -> int:
        """Number of spins N the network models."""
        return int(self.config.n_spins)

    @property
    def uniforms_per_sample(self) -> int:
        """Uniforms one sample takes: one per spin, and one more for the global flip of a
        Z2-symmetrised q."""
        return self.n_spins + int(self.config.symmetric)

    @abstractmethod
    def log_prob(self, states: np.ndarray) -> np.ndarray:
        """log q(s) in float64 of states (n_samples, n) of +-1."""

    @abstractmethod
    def sample_from_uniforms(self, uniforms: np.ndarray) -> np.ndarray:
        """Exact samples (int8, (n_samples, n)) from uniforms (n_samples, uniforms_per_sample)."""

    def sample(self, n_samples: int, seed: Any = 0) -> np.ndarray:
        """``n_samples`` exact samples of q (int8) from ``seed``."""
        from thermolearn.randomness.seeds import numpy_generator

        k = check_positive_int("n_samples", n_samples)
        rng = numpy_generator(seed)
        return self.sample_from_uniforms(rng.random((k, self.uniforms_per_sample)))
