"""The state of many independent Markov chains: spins, generator states, running E and M."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.randomness.seeds import SeedLike
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.validation import check_positive_int, check_spins

#: the rounding a running energy (a sum of many flip differences) may carry, relative to the
#: model's energy scale + 1; a checkpoint's running and recorded energies are held to it
RUNNING_ENERGY_ROUNDING = 1e-6


@dataclass
class ChainState:
    """Chains of one model: ``spins`` (n_chains, n_spins) int8, ``rng`` (n_chains, 4) uint64,
    and each chain's current total ``energy`` and ``magnetization`` (kept up to date by the
    kernels so recording an observable costs nothing).

    The four arrays are fixed at construction and change only in place: the samplers keep them
    as the arguments of their per-sweep calls (:meth:`Sampler.bind`), so assigning another array
    to a field raises ``FrozenInstanceError`` (in-place arithmetic such as ``state.energy += d``,
    which assigns the same array back, is fine). To change the running energy after changing the
    model write into the array (``state.energy[:] = model.energy(state.spins)``); for other chains
    make a new state."""

    spins: np.ndarray
    rng: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray

    def __setattr__(self, name: str, value: object) -> None:
        fields = self.__dict__
        if name in fields and value is not fields[name]:
            raise FrozenInstanceError(
                f"cannot assign to field {name!r}: a ChainState's arrays are fixed (samplers keep them); "
                f"write into it in place (state.{name}[:] = ...) or make a new ChainState"
            )
        object.__setattr__(self, name, value)

    @property
    def n_chains(self) -> int:
        """Number of chains."""
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
        """An independent copy of the chains (spins, RNG states, energies, magnetisations)."""
        return ChainState(self.spins.copy(), self.rng.copy(), self.energy.copy(), self.magnetization.copy())

    def chain_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(spins, rng, energy, magnetization), the objects themselves: what a sampler keeps to know
        it is handed the same chains again (:meth:`holds`)."""
        return self.spins, self.rng, self.energy, self.magnetization

    def holds(self, kept: tuple) -> bool:
        """Whether these chains' four arrays are the very objects in ``kept`` (from
        :meth:`chain_arrays`): then a sampler's checks of them, and its kernel arguments, still
        hold (the per-sweep lean paths test the same inline, where a call costs too much)."""
        return (
            self.spins is kept[0] and self.rng is kept[1] and self.energy is kept[2] and self.magnetization is kept[3]
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that define the state exactly (for checkpoints)."""
        return {"spins": self.spins, "rng": self.rng, "energy": self.energy, "magnetization": self.magnetization}

    def check_layout(self, model: Ising, *, n_chains: int | None = None) -> None:
        """Raise ``ValueError`` unless the four arrays have the dtypes, shapes and C layout the
        kernels of ``model`` index without bounds checks (a state made for another model, or arrays
        of disagreeing rows); a few microseconds, so the samplers' calls check it (not the values:
        :meth:`check`)."""
        n = model.n_spins
        spins = self.spins
        rows = (spins.shape[0] if isinstance(spins, np.ndarray) and spins.ndim else 0) if n_chains is None else n_chains
        for name, arr, dtype, shape in (
            ("spins", spins, np.int8, (rows, n)),
            ("rng", self.rng, np.uint64, (rows, 4)),
            ("energy", self.energy, np.float64, (rows,)),
            ("magnetization", self.magnetization, np.float64, (rows,)),
        ):
            if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != shape:
                got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
                raise ValueError(
                    f"chain {name} must be {np.dtype(dtype)} of shape {shape} for this model of {n} spins, got {got}"
                )
            flags = arr.flags
            if not flags.c_contiguous:
                raise ValueError(f"chain {name} must be C-contiguous")
            if not (flags.writeable and flags.aligned):
                raise ValueError(f"chain {name} must be a writable, aligned array (the sweeps update it in place)")

    def check(self, model: Ising, *, n_chains: int | None = None) -> None:
        """Raise ``ValueError`` unless these chains can be swept on ``model`` and their running
        E and M are those of their spins.

        The kernels index ``spins`` and ``rng`` without bounds checks and trust the running
        totals, so a state from outside (a checkpoint) is checked here first: shapes and dtypes,
        spins in {-1, +1}, no all-zero xoshiro state (it would stay zero and draw 0 forever),
        M equal to the sum of the spins and E equal to the model's energy up to the rounding a
        long run of energy differences accumulates.
        """
        self.check_layout(model, n_chains=n_chains)
        if not np.all((self.spins == 1) | (self.spins == -1)):
            raise ValueError("chain spins may hold only -1 and +1")
        stuck = np.flatnonzero(~self.rng.any(axis=1))
        if stuck.size:
            raise ValueError(f"chain {int(stuck[0])} has an all-zero generator state (xoshiro256** would only draw 0)")
        if not (np.all(np.isfinite(self.energy)) and np.all(np.isfinite(self.magnetization))):
            raise ValueError("chain energy and magnetization must be finite")
        m = self.spins.sum(axis=1, dtype=np.int64)
        bad = np.flatnonzero(self.magnetization != m)
        if bad.size:
            c = int(bad[0])
            raise ValueError(f"chain {c} magnetization {self.magnetization[c]!r} is not the sum of its spins ({m[c]})")
        energy = np.atleast_1d(model.energy(self.spins)).astype(np.float64)
        # the running energy is a sum of many flip differences: allow rounding relative to the
        # largest energy the couplings and fields can give, nothing more
        scale = model.energy_scale() + 1.0
        bad = np.flatnonzero(np.abs(self.energy - energy) > RUNNING_ENERGY_ROUNDING * scale)
        if bad.size:
            c = int(bad[0])
            raise ValueError(f"chain {c} energy {self.energy[c]!r} is not the energy of its spins ({energy[c]!r})")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ChainState:
        """The chains from the arrays a checkpoint holds (spins, rng, energy, magnetization)."""
        return cls(
            spins=np.ascontiguousarray(arrays["spins"], dtype=np.int8),
            rng=np.ascontiguousarray(arrays["rng"], dtype=np.uint64),
            energy=np.array(arrays["energy"], dtype=np.float64),
            magnetization=np.array(arrays["magnetization"], dtype=np.float64),
        )


def kernel_views(state: ChainState) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views of the chains' four arrays (the same memory) for a kernel call a sampler keeps: a
    caller that sets the shape of one of its arrays in place (``state.spins.shape = ...``)
    changes the array, not the view, whose shape and strides the kernel's compiled entry takes
    without checking; and an array with a view cannot be resized in place under the kernel."""
    return state.spins.view(), state.rng.view(), state.energy.view(), state.magnetization.view()
