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
    """``seed`` itself (an integer as a Python int) if the policy allows it; else
    ``TypeError``/``ValueError`` naming ``name``."""
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
    return int(seed)


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


def is_jax_key(seed: Any) -> bool:
    """Whether ``seed`` is a JAX PRNG key: a typed key array, or raw key data (uint32, shape (2,)).
    Imports JAX only when ``seed`` is a JAX array, so the check is free for plain seeds."""
    if "jax" not in type(seed).__module__:
        return False
    import jax
    import jax.numpy as jnp

    return isinstance(seed, jax.Array) and (
        jnp.issubdtype(seed.dtype, jax.dtypes.prng_key) or (seed.dtype == jnp.uint32 and seed.shape == (2,))
    )


def jax_key(seed: Any, *, name: str = "seed", typed: bool = False) -> Any:
    """A JAX PRNG key for ``seed``: a JAX key is returned as it is (raw key data is wrapped
    when ``typed``), an int ``s`` gives ``PRNGKey(s)`` (``key(s mod 2^63)`` when ``typed``), a
    NumPy Generator gives the key of one int drawn from it (below 2^31, or 2^63 when ``typed``,
    the ranges the two flavours always used), a SeedSequence or None likewise from a new
    generator. JAX is imported only here, so the policy itself costs nothing."""
    import jax

    if is_jax_key(seed):
        if typed and not jax.numpy.issubdtype(seed.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(seed)
        return seed
    high = 2**63 - 1 if typed else 2**31 - 1
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, high))
    elif isinstance(seed, np.random.SeedSequence) or seed is None:
        seed = int(np.random.default_rng(seed).integers(0, high))
    elif isinstance(seed, bool | np.bool_) or not isinstance(seed, Integral):
        raise TypeError(f"{name} must be {_ALLOWED}, or a JAX key, got {type(seed).__name__} {seed!r}")
    elif seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    # PRNGKey overflowed past int64 (seed = 2^70 raised OverflowError); it keeps the low 32 bits of
    # smaller seeds, which the reduction mod 2^63 leaves unchanged
    return jax.random.key(int(seed) % 2**63) if typed else jax.random.PRNGKey(int(seed) % 2**63)


def int_seed(seed: Any, *, name: str = "seed") -> int:
    """An int seed for a NumPy stream in code that also takes JAX keys: an int is checked by
    :func:`check_int_seed`, a JAX key gives an int hashed from its key data (through a
    SeedSequence), so a key seeds NumPy draws reproducibly."""
    if is_jax_key(seed):
        import jax
        import jax.numpy as jnp

        typed = jnp.issubdtype(seed.dtype, jax.dtypes.prng_key)
        data = np.asarray(jax.random.key_data(seed) if typed else seed)
        return int(np.random.SeedSequence(data.astype(np.uint64).tolist()).generate_state(1)[0])
    try:
        return check_int_seed(seed, name=name)
    except TypeError:
        raise TypeError(f"{name} must be a non-negative int or a JAX key, got {type(seed).__name__} {seed!r}") from None
