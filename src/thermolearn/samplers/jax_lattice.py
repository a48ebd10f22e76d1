"""Checkerboard Metropolis of periodic 2D lattices in JAX: the same updates on a CPU or a GPU.

Every site of one checkerboard colour is updated at once (its four neighbours are all of the
other colour), with Delta E = 2 s_i (sum_j J_ij s_j + h_i) and acceptance min(1, exp(-beta
Delta E)); a sweep is the two colours in turn. Any nearest-neighbour couplings (per bond) and
fields are allowed; rows and columns must be even (a periodic checkerboard).

Layout, made for a GPU, where a half sweep is one memory-bound elementwise pass that XLA fuses:
each colour is its own (chains, R, C/2) int8 array (:func:`split_colours`), so a half sweep
draws and touches only the N/2 sites it updates; the neighbours are the other colour's array
at the same index (up, down, and one side) and shifted by one column (the other side: left on
rows where the colour starts at column 0, right where it starts at column 1). Each colour's
couplings to those four neighbours are laid out once per model (:func:`colour_couplings`).
With one coupling J on every bond and no field, Delta E = 2 J s_i n_i takes five values, and
the acceptance is looked up in a per-chain table (computed in float64 on the host) instead of
reading coupling arrays and taking exp.

``device`` picks where it runs: ``"cpu"``, ``"gpu"`` (an error when JAX sees none: install a
CUDA build of jax), or ``"auto"`` (JAX's default device: a GPU when there is one). Randomness:
each sweep of each chain takes one 64-bit word from the chain's own generator as its JAX key
(split in two, one per colour), so ``sweep(n)`` equals n calls of ``sweep(1)`` and the result
does not depend on how the sweeps are grouped into calls; spins travel to the device and back
once per call, so give it many sweeps per call. The acceptance test compares float32 numbers
on the device (float64 when JAX runs with ``jax_enable_x64``), the usual precision of GPU Monte
Carlo; energies and magnetisations are recomputed exactly on the host after each call.

Changed in 0.6.6: the compact layout draws N/2 uniforms per half sweep (it drew N) and the
uniform-coupling table replaced exp there, so the stream of ``metropolis-jax`` differs from
0.6.5 (same distribution; 0.6.5 checkpoints resume with the new stream).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import uniforms
from thermolearn.samplers.base import Sampler, SweepStats, as_betas
from thermolearn.samplers.rules import warn_fixed_order_trap
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
def _sweeps_function(table: bool) -> Any:
    """The compiled sweeps on the checkerboard-compact layout: ``(even, odd, keys, n, betas,
    plan...) -> (even, odd, flips)``, where ``even`` / ``odd`` (chains, R, C/2) int8 hold the
    spins of colour (r + c) % 2 = 0 / 1 and ``table`` picks the uniform-coupling, zero-field
    lookup of the acceptance (plan: per-chain probabilities) over exp of the local field (plan:
    each colour's four coupling arrays and fields)."""
    import jax
    import jax.numpy as jnp

    def neighbours(other, odd_rows):
        # the four neighbours of every site of one colour, all of the other colour: up and down
        # share the column index j; left/right is j itself and j - 1 (rows where the colour
        # starts at column 0) or j + 1 (rows where it starts at column 1)
        side = jnp.where(odd_rows, jnp.roll(other, -1, axis=2), jnp.roll(other, 1, axis=2))
        return jnp.roll(other, 1, axis=1), jnp.roll(other, -1, axis=1), other, side

    def half_sweep(mine, other, key_column, betas, odd_rows, couplings):
        u = jax.vmap(lambda k: jax.random.uniform(k, mine.shape[1:], dtype=couplings[0].dtype))(key_column)
        if table:
            # Delta E = 2 J s_i n_i with n_i in {-4, ..., 4}: five probabilities per chain
            (p,) = couplings
            sn = mine * sum(neighbours(other, odd_rows))  # int8, exact
            pick = [p[:, k, None, None] for k in range(5)]
            prob = jnp.where(
                sn == 4,
                pick[4],
                jnp.where(sn == 2, pick[3], jnp.where(sn == -2, pick[1], jnp.where(sn == -4, pick[0], pick[2]))),
            )
            accept = u < prob
        else:
            dtype = couplings[0].dtype
            up, down, same, side = (x.astype(dtype) for x in neighbours(other, odd_rows))
            j_up, j_down, j_same, j_side, h = couplings
            local = j_up * up + j_down * down + j_same * same + j_side * side + h
            delta = 2.0 * mine.astype(dtype) * local
            accept = u < jnp.exp(-betas[:, None, None] * delta)
        return jnp.where(accept, -mine, mine), jnp.sum(accept, axis=(1, 2), dtype=jnp.int32)

    def run(even, odd, keys, n, betas, odd_rows, plan_even, plan_odd):
        def body(t, carry):
            a, b, flips = carry
            pair = jax.vmap(lambda k: jax.random.split(k, 2))(jax.random.wrap_key_data(keys[t]))
            a, fa = half_sweep(a, b, pair[:, 0], betas, odd_rows[0], plan_even)
            b, fb = half_sweep(b, a, pair[:, 1], betas, odd_rows[1], plan_odd)
            return a, b, flips + fa + fb

        return jax.lax.fori_loop(0, n, body, (even, odd, jnp.zeros(even.shape[0], dtype=jnp.int32)))

    return jax.jit(run)


def split_colours(spins: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(chains, R*C) spins -> the checkerboard-compact ``(even, odd)``, each (chains, R, C/2):
    ``even[:, r, j]`` is site (r, 2j + r % 2) and ``odd[:, r, j]`` site (r, 2j + 1 - r % 2)."""
    pairs = spins.reshape(spins.shape[0], rows, cols // 2, 2)
    even = np.empty(pairs.shape[:3], dtype=spins.dtype)
    odd = np.empty_like(even)
    even[:, 0::2], even[:, 1::2] = pairs[:, 0::2, :, 0], pairs[:, 1::2, :, 1]
    odd[:, 0::2], odd[:, 1::2] = pairs[:, 0::2, :, 1], pairs[:, 1::2, :, 0]
    return even, odd


def join_colours(even: np.ndarray, odd: np.ndarray) -> np.ndarray:
    """The inverse of :func:`split_colours`: (chains, R*C) spins."""
    chains, rows, half = even.shape
    pairs = np.empty((chains, rows, half, 2), dtype=even.dtype)
    pairs[:, 0::2, :, 0], pairs[:, 1::2, :, 1] = even[:, 0::2], even[:, 1::2]
    pairs[:, 0::2, :, 1], pairs[:, 1::2, :, 0] = odd[:, 0::2], odd[:, 1::2]
    return pairs.reshape(chains, rows * half * 2)


def colour_couplings(bonds: LatticeBonds) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Each colour's ``(J_up, J_down, J_same, J_side, h)`` on the compact layout, (R, C/2) each:
    the couplings to the neighbours that :func:`_sweeps_function` reads as up, down, same column
    index j and the shifted one, computed once per model instead of rolled every half sweep."""
    rows, cols = bonds.rows, bonds.cols
    r = np.arange(rows)[:, None]
    j = np.arange(cols // 2)[None, :]
    left = np.roll(bonds.right, 1, axis=1)  # left[r, c] couples (r, c)-(r, c - 1)
    up = np.roll(bonds.down, 1, axis=0)  # up[r, c] couples (r, c)-(r - 1, c)
    out = []
    for colour in (0, 1):
        starts_at_one = (r + colour) % 2 == 1
        c = 2 * j + starts_at_one
        # rows starting at column 0: same index j is the right neighbour, j - 1 the left one
        same = np.where(starts_at_one, left[r, c], bonds.right[r, c])
        side = np.where(starts_at_one, bonds.right[r, c], left[r, c])
        out.append((up[r, c], bonds.down[r, c], same, side, bonds.fields[r, c]))
    return tuple(out[0]), tuple(out[1])


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
        self.device = device  # checked by the property

    @property
    def device(self) -> str:
        """Where the sweeps run: "auto", "cpu" or "gpu". Setting it takes effect at the next sweep
        (the arrays on the old device are dropped)."""
        return self._device

    @device.setter
    def device(self, device: str) -> None:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
        self._device = device
        # (model, bonds, device, dtype, table?, odd-row masks, device arrays), made once per model and device
        self._plan: tuple[Ising, LatticeBonds, Any, Any, bool, Any, tuple[Any, ...]] | None = None

    def options(self) -> dict:
        return {"device": self.device}

    def __deepcopy__(self, memo: dict) -> JaxCheckerboardMetropolis:
        # the plan holds device arrays (not copyable, and only a cache): a copy starts without one
        return type(self)(self.device)

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        lattice_bonds(model, self.name)
        warn_fixed_order_trap(model, self.name)

    def _prepared(self, model: Ising) -> tuple[LatticeBonds, Any, Any, bool, Any, tuple[Any, ...]]:
        """The model's arrays on the device, made once per model: rows' parity masks and, for
        the general path, each colour's couplings and fields (float32; float64 under x64)."""
        if self._plan is None or self._plan[0] is not model:
            import jax
            import jax.numpy as jnp

            bonds = lattice_bonds(model, self.name)
            device = jax_device(self.device)
            dtype = jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32
            coupling = bonds.right.flat[0]
            # one coupling everywhere and no field: Delta E takes five values, looked up per chain
            table = bool(
                np.all(bonds.right == coupling) and np.all(bonds.down == coupling) and not np.any(bonds.fields)
            )
            parity = np.arange(bonds.rows)[:, None] % 2
            odd_rows = jax.device_put(jnp.asarray(np.stack([parity == 1, parity == 0]), dtype=jnp.bool_), device)
            if table:
                arrays: tuple[Any, ...] = (float(coupling),)
            else:
                arrays = tuple(
                    tuple(jax.device_put(jnp.asarray(a, dtype=dtype), device) for a in colour)
                    for colour in colour_couplings(bonds)
                )
            self._plan = (model, bonds, device, dtype, table, odd_rows, arrays)
        return self._plan[1:]

    def sweep(self, model: Ising, state: ChainState, betas, n_sweeps: int = 1) -> SweepStats:
        n_sweeps = self._check_call(model, state, n_sweeps)  # the chains (in full on first sight), n_sweeps >= 0
        import jax

        bonds, device, dtype, table, odd_rows, arrays = self._prepared(model)
        n_chains = state.n_chains
        betas = as_betas(betas, n_chains)
        n_sweeps = int(n_sweeps)
        # one 64-bit word per sweep and chain from the chain's stream: the sweep's JAX key
        words = np.zeros((_bucket(n_sweeps), n_chains, 2), dtype=np.uint32)
        for c in range(n_chains):
            draws = (uniforms(state.rng[c], n_sweeps) * 2.0**53).astype(np.uint64)
            words[:n_sweeps, c, 0] = (draws >> np.uint64(21)).astype(np.uint32)
            words[:n_sweeps, c, 1] = (draws & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        # beta = inf is the largest finite float32: exp(-beta * 0) stays 1 and downhill moves are taken
        finite = np.minimum(betas, np.finfo(np.float32).max)
        real = np.dtype(dtype)
        table_p = np.zeros((n_chains, 0), dtype=real)
        if table:
            (coupling,) = arrays
            with np.errstate(over="ignore"):
                # P(accept) for s_i n_i = -4, -2, 0, 2, 4 (Delta E = 2 J s_i n_i), in float64 then rounded
                table_p = np.minimum(1.0, np.exp(-finite[:, None] * (2.0 * coupling * np.arange(-4, 5, 2))[None, :]))
        even, odd = split_colours(state.spins, bonds.rows, bonds.cols)
        # one batched transfer each way: a device_put costs tens of microseconds, which small lattices feel
        even, odd, words, beta_device, table_p = jax.device_put(
            (even, odd, words, finite.astype(real), table_p.astype(real)), device
        )
        plans = ((table_p,),) * 2 if table else arrays
        even, odd, flips = jax.device_get(
            _sweeps_function(table)(even, odd, words, n_sweeps, beta_device, odd_rows, *plans)
        )
        state.spins[:] = join_colours(even, odd)
        state.energy[:] = np.asarray(model.energy(state.spins), dtype=np.float64)
        state.magnetization[:] = state.spins.sum(axis=1, dtype=np.int64)
        return SweepStats(
            accepted=np.asarray(flips, dtype=np.int64), attempted=np.full(n_chains, n_sweeps * model.n_spins)
        )
