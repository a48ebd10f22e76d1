"""Checkerboard Metropolis of periodic 2D lattices in JAX: the same updates on a CPU or a GPU.

Every site of one checkerboard colour is updated at once (its four neighbours are all of the
other colour), with Delta E = 2 s_i (sum_j J_ij s_j + h_i) and acceptance min(1, exp(-beta
Delta E)); a sweep is the two colours in turn. Any nearest-neighbour couplings (per bond) and
fields are allowed; rows and columns must be even (a periodic checkerboard).

``device`` picks where it runs: ``"cpu"``, ``"gpu"`` (an error when JAX sees none: install a
CUDA build of jax), or ``"auto"`` (JAX's default device: a GPU when there is one). Randomness:
each sweep of each chain takes one 64-bit word from the chain's own generator as its JAX key, so
``sweep(n)`` equals n calls of ``sweep(1)`` and the result does not depend on how the sweeps are
grouped into calls; spins travel to the device and back once per call, so give it many sweeps
per call. The acceptance test compares float32 numbers on the device (float64 when JAX runs with
``jax_enable_x64``), the usual precision of GPU Monte Carlo; energies and magnetisations are
recomputed exactly on the host after each call.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import uniforms
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.state import ChainState

DEVICES = ("auto", "cpu", "gpu")


class LatticeBonds:
    """A periodic R x C lattice's bonds: ``right[r, c]`` couples (r, c)-(r, c + 1) and ``down[r, c]``
    couples (r, c)-(r + 1, c) (periodically); ``fields`` (R, C)."""

    def __init__(self, rows: int, cols: int, right: np.ndarray, down: np.ndarray, fields: np.ndarray) -> None:
        self.rows, self.cols, self.right, self.down, self.fields = rows, cols, right, down, fields


def lattice_bonds(model: Ising, name: str) -> LatticeBonds:
    """The nearest-neighbour bonds of a periodic 2D lattice with even sides; ``ValueError`` naming
    what is wrong for any other model."""
    n = model.n_spins
    g = model.geometry
    if g is not None:
        if g.dim != 2 or not all(g.periodic):
            raise ValueError(f"{name} needs a periodic 2D square lattice; use 'metropolis' for other models")
        rows, cols = (int(x) for x in g.shape)
    else:
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(f"{name} needs a periodic 2D square lattice (L x L sites without a stored geometry)")
        rows = cols = side
    if rows % 2 or cols % 2 or min(rows, cols) < 4:
        raise ValueError(f"{name} needs even lattice sides >= 4 (a periodic checkerboard), got {rows} x {cols}")
    grid = np.arange(n).reshape(rows, cols)
    right_of, down_of = np.roll(grid, -1, 1), np.roll(grid, -1, 0)
    neighbours = np.sort(
        np.stack([np.roll(grid, 1, 1).ravel(), right_of.ravel(), np.roll(grid, 1, 0).ravel(), down_of.ravel()], 1),
        axis=1,
    )
    if not (
        np.array_equal(model.indptr, np.arange(n + 1) * 4) and np.array_equal(model.indices.reshape(n, 4), neighbours)
    ):
        raise ValueError(f"{name} needs nearest-neighbour bonds of a periodic square lattice; use 'metropolis'")
    J = model.couplings
    right = np.asarray(J[grid.ravel(), right_of.ravel()]).reshape(rows, cols)
    down = np.asarray(J[grid.ravel(), down_of.ravel()]).reshape(rows, cols)
    return LatticeBonds(rows, cols, right, down, np.asarray(model.fields, dtype=np.float64).reshape(rows, cols))


def jax_device(device: str) -> Any:
    """The JAX device for ``device`` in :data:`DEVICES`."""
    import jax

    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "auto":
        return jax.devices()[0]
    try:
        found = jax.devices(device)
    except RuntimeError:
        found = []
    if not found:
        raise ValueError(
            f"JAX sees no {device.upper()} here (devices: {', '.join(str(d) for d in jax.devices())}); "
            "a GPU needs a CUDA build of jax (pip install 'jax[cuda12]')"
        )
    return found[0]


@cache
def _sweeps_function() -> Any:
    """The compiled sweeps: (spins, keys, n, betas, right, down, fields, colours) -> (spins, flips)."""
    import jax
    import jax.numpy as jnp

    def local_fields(s, right, down, fields):
        # sum_j J_ij s_j + h_i on the periodic lattice, for every chain (axis 0)
        return (
            right * jnp.roll(s, -1, axis=2)
            + jnp.roll(right, 1, axis=1) * jnp.roll(s, 1, axis=2)
            + down * jnp.roll(s, -1, axis=1)
            + jnp.roll(down, 1, axis=0) * jnp.roll(s, 1, axis=1)
            + fields
        )

    def half_sweep(s, keys, beta, right, down, fields, colour):
        delta = 2.0 * s * local_fields(s, right, down, fields)
        u = jax.vmap(lambda k: jax.random.uniform(k, s.shape[1:], dtype=s.dtype))(keys)
        accept = colour & (u < jnp.exp(-beta[:, None, None] * delta))
        return jnp.where(accept, -s, s), jnp.sum(accept, axis=(1, 2))

    def run(spins, keys, n, betas, right, down, fields, colours):
        def body(t, carry):
            s, flips = carry
            pair = jax.vmap(lambda k: jax.random.split(k, 2))(jax.random.wrap_key_data(keys[t]))
            s, a = half_sweep(s, pair[:, 0], betas, right, down, fields, colours[0])
            s, b = half_sweep(s, pair[:, 1], betas, right, down, fields, colours[1])
            return s, flips + a + b

        return jax.lax.fori_loop(0, n, body, (spins, jnp.zeros(spins.shape[0], dtype=jnp.int32)))

    return jax.jit(run)


def _bucket(n: int) -> int:
    """Key arrays are padded to a power of two, so a handful of shapes serve every sweep count."""
    return 1 << max(0, (int(n) - 1).bit_length())


class JaxCheckerboardMetropolis(Sampler):
    """Checkerboard Metropolis of periodic 2D lattices in JAX, on the CPU or a GPU (``device``)."""

    name = "metropolis-jax"
    supports_any_graph = False  # periodic 2D lattices with even sides, nearest-neighbour bonds
    sweep_blocks = True  # one key per sweep from the chain's generator; E and M recomputed per call
    order = "checkerboard"

    def __init__(self, device: str = "auto") -> None:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
        self.device = device
        self._plan: tuple[Ising, LatticeBonds, Any, tuple[Any, ...]] | None = None

    def options(self) -> dict:
        return {"device": self.device}

    def __deepcopy__(self, memo: dict) -> JaxCheckerboardMetropolis:
        # the plan holds device arrays (not copyable, and only a cache): a copy starts without one
        return type(self)(self.device)

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        lattice_bonds(model, self.name)

    def _prepared(self, model: Ising) -> tuple[LatticeBonds, Any, tuple[Any, ...]]:
        if self._plan is None or self._plan[0] is not model:
            import jax
            import jax.numpy as jnp

            bonds = lattice_bonds(model, self.name)
            device = jax_device(self.device)
            dtype = jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32
            parity = (np.arange(bonds.rows)[:, None] + np.arange(bonds.cols)[None, :]) % 2
            arrays = tuple(
                jax.device_put(jnp.asarray(a, dtype=t), device)
                for a, t in (
                    (bonds.right, dtype),
                    (bonds.down, dtype),
                    (bonds.fields, dtype),
                    (np.stack([parity == 0, parity == 1]), jnp.bool_),
                )
            )
            self._plan = (model, bonds, device, arrays)
        return self._plan[1], self._plan[2], self._plan[3]

    def sweep(self, model: Ising, state: ChainState, betas, n_sweeps: int = 1) -> SweepStats:
        import jax
        import jax.numpy as jnp

        bonds, device, (right, down, fields, colours) = self._prepared(model)
        n_chains = state.n_chains
        betas = as_betas(betas, n_chains)
        n_sweeps = int(n_sweeps)
        # one 64-bit word per sweep and chain from the chain's stream: the sweep's JAX key
        words = np.zeros((_bucket(n_sweeps), n_chains, 2), dtype=np.uint32)
        for c in range(n_chains):
            draws = (uniforms(state.rng[c], n_sweeps) * 2.0**53).astype(np.uint64)
            words[:n_sweeps, c, 0] = (draws >> np.uint64(21)).astype(np.uint32)
            words[:n_sweeps, c, 1] = (draws & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        dtype = right.dtype
        spins = jax.device_put(jnp.asarray(state.spins.reshape(n_chains, bonds.rows, bonds.cols), dtype=dtype), device)
        beta_device = jax.device_put(jnp.asarray(np.minimum(betas, np.finfo(np.float32).max), dtype=dtype), device)
        out, flips = _sweeps_function()(
            spins, jax.device_put(words, device), n_sweeps, beta_device, right, down, fields, colours
        )
        state.spins[:] = np.asarray(out).reshape(n_chains, -1).astype(np.int8)
        state.energy[:] = np.asarray(model.energy(state.spins), dtype=np.float64)
        state.magnetization[:] = state.spins.sum(axis=1, dtype=np.int64)
        return SweepStats(
            accepted=np.asarray(flips, dtype=np.int64), attempted=np.full(n_chains, n_sweeps * model.n_spins)
        )
