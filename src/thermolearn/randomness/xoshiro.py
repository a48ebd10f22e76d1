"""Per-chain random numbers inside compiled kernels: xoshiro256** (Blackman and Vigna 2018)
with explicit state.

Every chain owns four uint64 words of generator state, stored in an array of shape
(n_chains, 4). The state is plain data: it is saved in checkpoints and restored exactly,
so a resumed run draws the same numbers as one that never stopped, and chains running on
different threads never share a generator. :func:`next64` is the one generator step; the
other draws are views of its output, so every kernel draws the same stream.
"""

from __future__ import annotations

import numpy as np
from numba import uint64

from thermolearn.kernel_cache import njit
from thermolearn.randomness.seeds import check_seed

MANTISSA = 1.0 / 9007199254740992.0  # 2^-53: the spacing of uniforms built from 53 bits
#: a non-zero state for a chain whose seed words came out all zero (xoshiro's fixed point)
_ZERO_STATE_FIX = np.uint64(0x9E3779B97F4A7C15)


def seed_chains(seed: object, n_chains: int) -> np.ndarray:
    """Independent generator states for ``n_chains`` chains, shape (n_chains, 4), uint64.

    The same int ``seed`` gives the same states on every run and machine; a Generator gives
    states from its next raw words.
    """
    seed = check_seed(seed)
    words: np.ndarray
    if isinstance(seed, np.random.Generator):
        words = seed.bit_generator.random_raw(4 * n_chains).astype(np.uint64)
    else:
        sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        words = sequence.generate_state(4 * n_chains, dtype=np.uint64)
    state = words.reshape(n_chains, 4).copy()
    state[~state.any(axis=1), 0] = _ZERO_STATE_FIX
    return state


def valid_chain_states(state: np.ndarray) -> bool:
    """Whether every row of ``state`` (n_chains, 4) can generate: an all-zero row would only
    ever give zeros."""
    return bool(np.all(state.any(axis=1)))


@njit(inline="always")
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(inline="always")
def next64(s0, s1, s2, s3):
    """One 64-bit xoshiro256** output and the advanced state: ``x, s0, s1, s2, s3``."""
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(inline="always")
def next_bits53(s0, s1, s2, s3):
    """The top 53 bits k of one output (uint64, u = k 2^-53 is :func:`next_uniform`) and the
    advanced state. An event of probability p is ``k < ceil(p 2^53)``, exactly ``u < p``."""
    result, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
    return result >> uint64(11), s0, s1, s2, s3


@njit(inline="always")
def next_uniform(s0, s1, s2, s3):
    """One uniform draw in [0, 1) (53 bits) and the advanced state: ``u, s0, s1, s2, s3``."""
    result, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
    return float(result >> uint64(11)) * MANTISSA, s0, s1, s2, s3


@njit(cache=True)
def uniforms(state, count):
    """``count`` draws from one chain's state (a view of 4 words, advanced in place)."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(count)
    for k in range(count):
        out[k], s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out
