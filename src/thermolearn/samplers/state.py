"""The state of many independent Markov chains: spins, generator states, running E and M."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.randomness.seeds import SeedLike
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.validation import check_positive_int, check_spins


@dataclass
class ChainState:
    """Chains of one model: ``spins`` (n_chains, n_spins) int8, ``rng`` (n_chains, 4) uint64,
    and each chain's current total ``energy`` and ``magnetization`` (kept up to date by the
    kernels so recording an observable costs nothing)."""

    spins: np.ndarray
    rng: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray

    @property
    def n_chains(self) -> int:
        return int(self.spins.shape[0])

    @classmethod
    def new(
        cls,
        model: Ising,
        n_chains: int = 1,
        seed: SeedLike = 0,
        initial: str | np.ndarray = "random",
    ) -> ChainState:
        """Fresh chains: ``initial`` is 'random' (hot start), 'up' (all +1), or given states."""
        n_chains = check_positive_int("n_chains", n_chains)
        rng = seed_chains(seed, n_chains + 1)
        if isinstance(initial, str):
            if initial == "random":
                # the extra generator (last row) draws the hot start, so chains' own streams stay untouched
                gen = np.random.Generator(np.random.PCG64(rng[-1].tolist()))
                spins = gen.choice(np.array([-1, 1], dtype=np.int8), size=(n_chains, model.n_spins))
            elif initial == "up":
                spins = np.ones((n_chains, model.n_spins), dtype=np.int8)
            else:
                raise ValueError(f"initial must be 'random', 'up' or an array of spins, got {initial!r}")
        else:
            spins = check_spins(initial, model.n_spins, "initial").copy()
            if spins.shape[0] == 1 and n_chains > 1:
                spins = np.repeat(spins, n_chains, axis=0)
            if spins.shape[0] != n_chains:
                raise ValueError(f"initial states have {spins.shape[0]} rows but n_chains = {n_chains}")
        spins = np.ascontiguousarray(spins, dtype=np.int8)
        return cls(
            spins=spins,
            rng=np.ascontiguousarray(rng[:-1]),
            energy=np.atleast_1d(model.energy(spins)).astype(np.float64),
            magnetization=spins.sum(axis=1, dtype=np.int64).astype(np.float64),
        )

    def copy(self) -> ChainState:
        return ChainState(self.spins.copy(), self.rng.copy(), self.energy.copy(), self.magnetization.copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that define the state exactly (for checkpoints)."""
        return {"spins": self.spins, "rng": self.rng, "energy": self.energy, "magnetization": self.magnetization}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ChainState:
        return cls(
            spins=np.ascontiguousarray(arrays["spins"], dtype=np.int8),
            rng=np.ascontiguousarray(arrays["rng"], dtype=np.uint64),
            energy=np.array(arrays["energy"], dtype=np.float64),
            magnetization=np.array(arrays["magnetization"], dtype=np.float64),
        )
