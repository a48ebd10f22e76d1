"""Clamping p-bits: fix some p-bits and sample the rest, exactly as the conditional law.

Fixing m_c for c in C turns the energy into one of the free p-bits F alone:
E(m_F, m_C) = -sum_{i<j in F} J_ij m_i m_j - sum_{i in F} (h_i + sum_{c in C} J_ic m_c) m_i + E_C,
with the constant E_C = -sum_{c<c' in C} J_cc' m_c m_c' - sum_{c in C} h_c m_c. So a clamped
network is an ordinary (smaller) Ising model whose fields absorb the clamps, and every
sampler and exact method works on it unchanged: p(m_F | m_C) = exp(-beta E) / Z_F.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from thermolearn.models.ising import Ising, check_ising_model


@dataclass(frozen=True, eq=False)
class ClampedModel:
    """A model with some p-bits fixed.

    Attributes
    ----------
    model : the Ising model of the free p-bits (fields include the clamped neighbours).
    free : (n_free,) int64 indices of the free p-bits in the full model, increasing.
    clamped : (n_clamped,) int64 indices of the fixed p-bits; ``values`` their spins (int8).
    offset : E_C, the energy of the clamped p-bits among themselves (energy units), so
        E_full = E_model(m_F) + offset.
    n_spins : p-bits of the full model.
    """

    model: Ising
    free: np.ndarray
    clamped: np.ndarray
    values: np.ndarray
    offset: float
    n_spins: int

    def __post_init__(self) -> None:
        # the free model's fields were computed from these: read-only, so they cannot drift apart
        for arr in (self.free, self.clamped, self.values):
            arr.setflags(write=False)

    def expand(self, free_states: np.ndarray) -> np.ndarray:
        """Full states (..., n_spins) int8 from states of the free p-bits (..., n_free)."""
        free_states = np.asarray(free_states)
        out = np.empty(free_states.shape[:-1] + (self.n_spins,), dtype=np.int8)
        out[..., self.free] = free_states
        out[..., self.clamped] = self.values
        return out


def clamp(model: Ising, clamps: Mapping[int, int]) -> ClampedModel:
    """``model`` with p-bit ``i`` fixed to spin ``clamps[i]`` (+1 or -1) for every key.

    Raises ``ValueError`` for an index outside 0..n-1, a value other than +1/-1, or clamps on
    every p-bit (a model needs at least one free spin: the clamped state is then the whole answer).
    """
    check_ising_model(model)
    if not isinstance(clamps, Mapping):
        raise TypeError(f"clamps must be a mapping {{p-bit index: spin +1 or -1}}, got {type(clamps).__name__}")
    n = model.n_spins
    values = np.zeros(n, dtype=np.int8)
    for key, value in clamps.items():
        if isinstance(key, bool) or not isinstance(key, int | np.integer) or not 0 <= int(key) < n:
            raise ValueError(f"clamped p-bit index must be an int in 0..{n - 1}, got {key!r}")
        if isinstance(value, bool) or value not in (1, -1):
            raise ValueError(f"clamped value of p-bit {key} must be a spin +1 or -1, got {value!r}")
        values[int(key)] = value
    fixed = values != 0
    if fixed.all():
        raise ValueError(f"every p-bit is clamped (all {n}): there is nothing left to sample")
    free = np.flatnonzero(~fixed).astype(np.int64)
    clamped = np.flatnonzero(fixed).astype(np.int64)
    J = model.couplings
    m_c = values[clamped].astype(np.float64)
    h_free = model.fields[free] + J[free][:, clamped] @ m_c
    J_cc = J[clamped][:, clamped]
    offset = float(-0.5 * m_c @ (J_cc @ m_c) - model.fields[clamped] @ m_c)
    reduced = Ising(J[free][:, free], h_free, name=f"{model.name} clamped" if model.name else "clamped")
    return ClampedModel(reduced, free, clamped, values[clamped].copy(), offset, n)
