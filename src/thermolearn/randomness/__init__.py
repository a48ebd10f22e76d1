"""Randomness, the foundation below every model and sampler: one seed policy
(:mod:`.seeds`: int / Generator / SeedSequence / None, JAX keys), one xoshiro256** step for
the per-chain kernel generators (:mod:`.xoshiro`) and one counter-based stream
(:mod:`.counter`). The seed policy imports neither Numba nor JAX.
"""

from thermolearn.randomness.seeds import SeedLike, check_int_seed, check_seed, jax_key, numpy_generator

__all__ = ["SeedLike", "check_int_seed", "check_seed", "jax_key", "numpy_generator"]
