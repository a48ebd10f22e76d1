"""Randomness, the foundation below every model and sampler: one seed policy
(:mod:`.seeds`: int / Generator / SeedSequence / None, JAX keys), one xoshiro256** step for
the per-chain kernel generators (:mod:`.xoshiro`) and one counter-based stream
(:mod:`.counter`). The seed policy imports neither Numba nor JAX.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.randomness.seeds import (
        SeedLike,
        check_int_seed,
        check_seed,
        int_seed,
        is_jax_key,
        jax_key,
        numpy_generator,
    )


_EXPORTS = {
    "check_int_seed": "seeds",
    "check_seed": "seeds",
    "int_seed": "seeds",
    "is_jax_key": "seeds",
    "jax_key": "seeds",
    "numpy_generator": "seeds",
    "SeedLike": "seeds",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
