"""Per-chain random numbers inside compiled kernels: xoshiro256** with explicit state.

Every chain owns four uint64 words of generator state, stored in an array of shape
(n_chains, 4). The state is plain data: it is saved in checkpoints and restored exactly,
so a resumed run draws the same numbers as one that never stopped, and chains running on
different threads never share a generator.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_MANTISSA = 1.0 / 9007199254740992.0  # 2^-53


def seed_chains(seed: int | np.random.Generator | np.random.SeedSequence | None, n_chains: int) -> np.ndarray:
    """Independent generator states for ``n_chains`` chains, shape (n_chains, 4), uint64.

    The same ``seed`` gives the same states on every run and machine.
    """
    if isinstance(seed, np.random.Generator):
        words = seed.bit_generator.random_raw(4 * n_chains).astype(np.uint64)
    else:
        sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        words = sequence.generate_state(4 * n_chains, dtype=np.uint64)
    state = words.reshape(n_chains, 4).copy()
    zero = ~state.any(axis=1)
    state[zero, 0] = np.uint64(0x9E3779B97F4A7C15)  # xoshiro's all-zero state is a fixed point
    return state


@njit(inline="always")
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(inline="always")
def next_uniform(s0, s1, s2, s3):
    """One uniform draw in [0, 1) and the advanced state: ``u, s0, s1, s2, s3``."""
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return float(result >> uint64(11)) * _MANTISSA, s0, s1, s2, s3


_GOLDEN = 0x9E3779B97F4A7C15


@njit(inline="always")
def _mix64(z):
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


@njit(inline="always")
def splitmix64(x):
    """SplitMix64 (Steele, Lea & Flood 2014): the next output and the advanced counter
    ``value, x``. The output is a bijective mix of the input, so it also hashes keys such as
    (run, update, row) into the starts of independent streams."""
    x = x + uint64(_GOLDEN)
    return _mix64(x), x


@njit(inline="always")
def counter_uniform32(key, counter):
    """Draw number ``counter`` of the SplitMix64 stream that starts at ``key``, as a float32-exact
    uniform in [0, 1) (24 bits): a stateless counter-based generator, so a loop over draws
    vectorises and any draw can be recomputed."""
    z = _mix64(key + (counter + uint64(1)) * uint64(_GOLDEN))
    return np.float32(z >> uint64(40)) * np.float32(5.9604644775390625e-08)


@njit(cache=True)
def uniforms(state, count):
    """``count`` draws from one chain's state (a view of 4 words, advanced in place)."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(count)
    for k in range(count):
        out[k], s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out
