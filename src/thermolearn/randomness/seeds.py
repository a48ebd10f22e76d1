"""One seed policy for the whole library: what a ``seed`` argument may be, and how it becomes
a NumPy generator, per-chain kernel states or a JAX key.

Allowed seeds: a non-negative int (reproducible), a ``numpy.random.Generator`` (used as it
is, so draws continue its stream), a ``numpy.random.SeedSequence``, or ``None`` (fresh OS
entropy: not reproducible, refused where a run must be resumable). JAX code also takes a JAX
key. Booleans, floats, negative ints and anything else raise with the allowed list.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, TypeAlias

import numpy as np

SeedLike: TypeAlias = int | np.integer | np.random.Generator | np.random.SeedSequence | None

_ALLOWED = "a non-negative int, a numpy Generator or SeedSequence, or None"


def check_seed(seed: Any, *, name: str = "seed", allow_none: bool = True) -> SeedLike:
    """``seed`` itself if the policy allows it; else ``TypeError``/``ValueError`` naming ``name``."""
    if seed is None:
        if not allow_none:
            raise TypeError(f"{name} must be a non-negative int here (the run must be reproducible), got None")
        return None
    if isinstance(seed, np.random.Generator | np.random.SeedSequence):
        return seed
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, Integral):
        raise TypeError(f"{name} must be {_ALLOWED}, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return seed


def check_int_seed(seed: Any, *, name: str = "seed") -> int:
    """``seed`` as a Python int; only non-negative ints are allowed (runs whose checkpoints
    record the seed and resume from it)."""
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, Integral):
        raise TypeError(f"{name} must be a non-negative int (the run is reproducible from it), got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return int(seed)


def numpy_generator(seed: Any, *, name: str = "seed") -> np.random.Generator:
    """A NumPy generator for ``seed``: a Generator is returned as it is (its stream goes on),
    an int or SeedSequence seeds a new PCG64 stream, None draws fresh entropy."""
    seed = check_seed(seed, name=name)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, Integral):
        return np.random.default_rng(int(seed))
    return np.random.default_rng(seed)


def _is_jax_key(seed: Any) -> bool:
    import jax
    import jax.numpy as jnp

    return isinstance(seed, jax.Array) and (
        jnp.issubdtype(seed.dtype, jax.dtypes.prng_key) or (seed.dtype == jnp.uint32 and seed.shape == (2,))
    )


def jax_key(seed: Any, *, name: str = "seed", typed: bool = False) -> Any:
    """A JAX PRNG key for ``seed``: a JAX key is returned as it is, an int ``s`` gives
    ``PRNGKey(s)`` (``key(s)`` when ``typed``), a NumPy Generator gives the key of one int
    drawn from it. JAX is imported only here, so the policy itself costs nothing."""
    import jax

    if "jax" in type(seed).__module__ and _is_jax_key(seed):
        return seed
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**31 - 1))
    elif isinstance(seed, np.random.SeedSequence) or seed is None:
        seed = int(np.random.default_rng(seed).integers(0, 2**31 - 1))
    else:
        try:
            seed = check_int_seed(seed, name=name)
        except TypeError:
            raise TypeError(f"{name} must be {_ALLOWED}, or a JAX key, got {type(seed).__name__}") from None
    return jax.random.key(seed) if typed else jax.random.PRNGKey(seed)
