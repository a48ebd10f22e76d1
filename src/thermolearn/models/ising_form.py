"""The one model protocol: every model's ``to_ising()`` returns an :class:`IsingForm`.

An Ising form says how a model's energy is an Ising energy: for every state x of the model,

    E_model(x) = E_ising(s(x)) + offset,

where s(x) = x for spin models and s(x) = 2x - 1 for models of binary units x in {0, 1}, and
spin k stands for the model's variable ``labels[k]``. The offset is a constant, so the
Boltzmann distributions agree at every temperature (only log Z shifts, by -beta offset),
and any sampler or exact method run on ``form.ising`` serves the model.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.validation import check_spins

VARTYPES = ("spin", "binary")


@dataclass(frozen=True)
class IsingForm:
    """A model as an Ising model: ``ising``, the exact constant ``offset`` (energy units)
    with E_model(x) = E_ising(s(x)) + offset, the model's ``vartype`` ('spin': s = x;
    'binary': s = 2x - 1) and ``labels`` (spin k is the model's variable labels[k];
    default 0..n-1)."""

    ising: Ising
    offset: float = 0.0
    vartype: str = "spin"
    labels: tuple[Hashable, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.ising, Ising):
            raise TypeError(f"ising must be a thermolearn.Ising, got {type(self.ising).__name__}")
        if self.vartype not in VARTYPES:
            raise ValueError(f"vartype must be one of {', '.join(VARTYPES)}, got {self.vartype!r}")
        offset = float(self.offset)
        if not np.isfinite(offset):
            raise ValueError(f"offset must be a finite number, got {self.offset!r}")
        object.__setattr__(self, "offset", offset)
        labels = tuple(self.labels) if self.labels else tuple(range(self.ising.n_spins))
        if len(labels) != self.ising.n_spins:
            raise ValueError(f"labels must name all {self.ising.n_spins} spins, got {len(labels)} labels")
        object.__setattr__(self, "labels", labels)

    @property
    def n_spins(self) -> int:
        """Number of spins N of the Ising form."""
        return self.ising.n_spins

    def to_spins(self, states: np.ndarray | Sequence) -> np.ndarray:
        """Spins s(x) (int8, +-1) of the model's states x, shape (n,) or (n_samples, n)."""
        if self.vartype == "spin":
            return np.asarray(check_spins(states, self.n_spins)).reshape(np.shape(states))
        x = np.asarray(states)
        if x.shape[-1:] != (self.n_spins,) or not np.all((x == 0) | (x == 1)):
            raise ValueError(f"binary states must have {self.n_spins} units of value 0 or 1, got shape {x.shape}")
        return (2 * x - 1).astype(np.int8)

    def from_spins(self, spins: np.ndarray | Sequence) -> np.ndarray:
        """The model's states x(s) (int8) for spins s, the inverse of :meth:`to_spins`."""
        s = np.asarray(check_spins(spins, self.n_spins)).reshape(np.shape(spins))
        return s.copy() if self.vartype == "spin" else ((s + 1) // 2).astype(np.int8)

    def energy(self, states: np.ndarray | Sequence) -> np.ndarray | float:
        """E_model(x) = E_ising(s(x)) + offset for one state (n,) -> float or a batch -> (n_samples,)."""
        return self.ising.energy(self.to_spins(states)) + self.offset
