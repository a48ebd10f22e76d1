"""The seed policy and the one generator step (thermolearn.randomness)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from thermolearn.randomness import check_int_seed, check_seed, int_seed, is_jax_key, jax_key, numpy_generator
from thermolearn.randomness.xoshiro import MANTISSA, next64, next_bits53, next_uniform, seed_chains, uniforms


# ------------------------------------------------------------------------------ the policy
@pytest.mark.parametrize("seed", [0, 7, 2**40, np.int64(3), np.uint32(5)])
def test_non_negative_ints_are_accepted(seed):
    assert check_seed(seed) == seed
    assert check_int_seed(seed) == int(seed) and type(check_int_seed(seed)) is int


def test_generators_seed_sequences_and_none_are_accepted_where_allowed():
    g = np.random.default_rng(1)
    ss = np.random.SeedSequence(2)
    assert check_seed(g) is g and check_seed(ss) is ss and check_seed(None) is None
    with pytest.raises(TypeError, match="must be reproducible"):
        check_seed(None, allow_none=False)


@pytest.mark.parametrize(
    "seed, error, message",
    [
        (True, TypeError, "seed must be a non-negative int, a numpy Generator or SeedSequence, or None, got bool"),
        (1.0, TypeError, "got float 1.0"),
        ("3", TypeError, "got str '3'"),
        ([1, 2], TypeError, "got list"),
        (np.random.RandomState(0), TypeError, "got RandomState"),
        (-1, ValueError, "seed must be >= 0, got -1"),
    ],
)
def test_everything_else_is_refused_with_the_allowed_list(seed, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        check_seed(seed)


@pytest.mark.parametrize("seed", [None, np.random.default_rng(0), np.random.SeedSequence(0), 1.5, True])
def test_reproducible_runs_take_only_ints(seed):
    with pytest.raises(TypeError, match="non-negative int"):
        check_int_seed(seed)
    with pytest.raises(ValueError, match="my_seed must be >= 0"):
        check_int_seed(-3, name="my_seed")


def test_the_argument_name_appears_in_the_message():
    with pytest.raises(TypeError, match="^init_seed must be"):
        check_seed(2.5, name="init_seed")


# ------------------------------------------------------------------------------ NumPy
def test_same_int_seed_same_numbers_as_default_rng():
    a = numpy_generator(12).random(5)
    assert np.array_equal(a, numpy_generator(12).random(5))
    assert np.array_equal(a, np.random.default_rng(12).random(5))  # the numbers the library always drew
    assert not np.array_equal(a, numpy_generator(13).random(5))


def test_a_generator_passes_through_and_its_stream_goes_on():
    g = np.random.default_rng(4)
    assert numpy_generator(g) is g
    first = g.random()
    reference = np.random.default_rng(4)
    reference.random()
    assert numpy_generator(g).random() == reference.random() != first


# ------------------------------------------------------------------------------ kernel states
def test_same_seed_same_chain_states_and_different_seeds_differ():
    a = seed_chains(5, 3)
    assert a.shape == (3, 4) and a.dtype == np.uint64
    assert np.array_equal(a, seed_chains(5, 3))
    assert np.array_equal(a, seed_chains(np.random.SeedSequence(5), 3))
    assert not np.array_equal(a, seed_chains(6, 3))
    assert len({tuple(row) for row in a}) == 3  # chains get independent streams


def test_chain_states_from_a_generator_continue_its_stream():
    g = np.random.default_rng(9)
    first, second = seed_chains(g, 2), seed_chains(g, 2)
    assert not np.array_equal(first, second)
    g2 = np.random.default_rng(9)
    assert np.array_equal(first, seed_chains(g2, 2))


def test_chain_states_refuse_what_the_policy_refuses():
    with pytest.raises(TypeError, match="seed must be"):
        seed_chains(1.0, 2)
    with pytest.raises(ValueError, match=">= 0"):
        seed_chains(-2, 2)


def test_the_one_step_matches_the_reference_xoshiro256starstar():
    # reference: Blackman and Vigna's C code, state (1, 2, 3, 4); first outputs
    s = [np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)]
    expected = [11520, 0, 1509978240, 1215971899390074240]
    out = []
    for _ in range(4):
        x, *s = next64(*s)
        out.append(int(x))
    assert out == expected


def test_bits_uniforms_and_batches_are_views_of_one_stream():
    state = seed_chains(3, 1)[0]
    s = tuple(state)
    x, *_ = next64(*s)
    k, *_ = next_bits53(*s)
    u, *_ = next_uniform(*s)
    assert int(k) == int(x) >> 11 and u == int(k) * MANTISSA and 0.0 <= u < 1.0
    batch = uniforms(state.copy(), 3)
    assert batch[0] == u


# ------------------------------------------------------------------------------ JAX keys
def test_jax_keys_keep_their_flavours_and_numbers():
    jax = pytest.importorskip("jax")
    raw = jax_key(3)
    assert raw.dtype == np.uint32 and np.array_equal(raw, jax.random.PRNGKey(3))
    typed = jax_key(3, typed=True)
    assert jax.numpy.issubdtype(typed.dtype, jax.dtypes.prng_key)
    assert np.array_equal(jax.random.key_data(typed), jax.random.key_data(jax.random.key(3)))
    assert jax_key(raw) is raw and jax_key(typed) is typed and is_jax_key(raw) and is_jax_key(typed)
    assert np.array_equal(jax.random.key_data(jax_key(raw, typed=True)), np.asarray(raw))  # raw data wrapped
    # a Generator gives the key of one draw, in the range each flavour always used
    assert np.array_equal(
        jax_key(np.random.default_rng(0)), jax.random.PRNGKey(np.random.default_rng(0).integers(0, 2**31 - 1))
    )
    with pytest.raises(TypeError, match="or a JAX key, got float"):
        jax_key(0.5)
    with pytest.raises(ValueError, match=">= 0"):
        jax_key(-1)


def test_int_seed_from_ints_and_keys():
    jax = pytest.importorskip("jax")
    assert int_seed(7) == 7
    from_key = int_seed(jax.random.PRNGKey(7))
    assert from_key == int_seed(jax.random.PRNGKey(7)) != int_seed(jax.random.PRNGKey(8))
    assert not is_jax_key(np.array([1, 2], dtype=np.uint32))  # a NumPy array is not a key
    with pytest.raises(TypeError, match="non-negative int or a JAX key"):
        int_seed(None)


def test_the_seed_policy_imports_neither_numba_nor_jax():
    code = (
        "import sys\n"
        "from thermolearn.randomness import check_seed, numpy_generator\n"
        "numpy_generator(check_seed(1)).random()\n"
        "print(sorted(m for m in ('numba', 'jax', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
