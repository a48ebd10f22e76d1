"""The capacity experiment: Hebb's collapse near alpha_c = 0.138 (shifted up at finite N), the
larger capacities of the Storkey, projection and dense rules, the definition of alpha_c."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn.learning.capacity import AGS_ALPHA_C, AGS_OVERLAP_AT_ALPHA_C, capacity_curve, crossing


@pytest.fixture(scope="module")
def hebbian_200():
    return capacity_curve(200, "hebbian", n_sets=6, seed=1, progress=False)


def test_crossing_interpolates_the_first_drop_below_the_level():
    loads = np.array([0.1, 0.2, 0.3, 0.4])
    assert math.isclose(crossing(loads, np.array([1.0, 0.8, 0.4, 0.6]), 0.5), 0.2 + 0.1 * 0.3 / 0.4)
    assert math.isnan(crossing(loads, np.array([1.0, 0.9, 0.8, 0.7]), 0.5))  # never below: censored
    assert math.isnan(crossing(loads, np.array([0.4, 0.3, 0.2, 0.1]), 0.5))  # no bracket


def test_hebbian_overlap_stays_near_one_at_low_load_and_collapses_past_alpha_c(hebbian_200):
    r = hebbian_200
    low = r.loads <= 0.08
    # below the collapse the final overlap is 1 - (a few flipped units); every set agrees to its error bar
    assert np.all(r.overlap[low] > 1 - 0.01)
    # near the theory's alpha_c the overlap is still high (0.967 at N -> infinity)
    k = int(np.argmin(np.abs(r.loads - 0.12)))
    assert r.overlap[k] > AGS_OVERLAP_AT_ALPHA_C - 4 * r.overlap_stderr[k] - 0.02
    # far past it the pattern is lost: overlaps of the spin-glass states reached are ~0.3-0.6 at N = 200
    assert r.overlap[-1] + 4 * r.overlap_stderr[-1] < 0.75
    assert r.retrieval_fraction[-1] < 0.3


def test_hebbian_finite_size_alpha_c_lies_above_the_infinite_n_value(hebbian_200):
    r = hebbian_200
    assert r.alpha_c is not None and r.alpha_c_stderr > 0
    assert np.all(np.isfinite(r.set_alpha_c))
    # finite-size shift is upward (the drop is smeared into larger alpha), and not by more than ~2x at N = 200
    assert r.alpha_c - 4 * r.alpha_c_stderr > AGS_ALPHA_C
    assert r.alpha_c + 4 * r.alpha_c_stderr < 2 * AGS_ALPHA_C
    # the stderr is the spread over independent sets over sqrt(sets)
    assert math.isclose(r.alpha_c_stderr, np.std(r.set_alpha_c, ddof=1) / math.sqrt(6))


def test_capacity_is_reproducible_and_json_has_the_documented_shape(hebbian_200):
    again = capacity_curve(200, "hebbian", n_sets=6, seed=1, progress=False)
    assert np.array_equal(again.set_overlap, hebbian_200.set_overlap)
    d = hebbian_200.as_dict()
    assert set(d["alpha_c"]) >= {"mean", "stderr"}
    assert len(d["loads"]) == len(d["overlap"]) == len(d["overlap_stderr"])
    assert d["alpha_c"]["mean"] == hebbian_200.alpha_c


def test_storkey_and_projection_rules_hold_more_patterns_than_hebb(hebbian_200):
    storkey = capacity_curve(200, "storkey", n_sets=4, seed=2, progress=False)
    assert storkey.alpha_c - 4 * storkey.alpha_c_stderr > hebbian_200.alpha_c + 4 * hebbian_200.alpha_c_stderr
    projection = capacity_curve(100, "projection", n_sets=3, seed=3, progress=False)
    assert np.all(projection.overlap == 1.0)  # every pattern is a fixed point for P < N
    assert projection.alpha_c == 1.0 and "rule's limit" in projection.note


def test_dense_memory_retrieves_far_past_hebbs_capacity():
    loads = np.array([0.14, 0.5, 1.0])
    with pytest.warns(RuntimeWarning, match="3 of 3 sets show no collapse"):  # right-censored: a lower bound only
        r = capacity_curve(100, "dense", loads=loads, n_sets=3, seed=4, max_recalls=30, progress=False)
    assert np.all(r.overlap > 0.99) and np.all(r.retrieval_fraction == 1.0)
    assert r.alpha_c is None and r.as_dict()["alpha_c"]["lower_bound"] == 1.0


def test_capacity_refuses_bad_arguments():
    with pytest.raises(ValueError, match="rule must be one of"):
        capacity_curve(100, "oja")
    with pytest.raises(ValueError, match="at most N - 1"):
        capacity_curve(50, "projection", loads=[0.5, 1.0])
    with pytest.raises(ValueError, match="loads"):
        capacity_curve(50, "hebbian", loads=[0.1, -0.2])
    with pytest.raises(ValueError, match="n_neurons"):
        capacity_curve(5, "hebbian")
    with pytest.raises(ValueError, match="n_sets"):
        capacity_curve(50, "hebbian", n_sets=1)


@pytest.mark.slow
def test_hebbian_collapse_at_n_1000_reproduces_amit_gutfreund_sompolinsky():
    r = capacity_curve(1000, "hebbian", loads=np.arange(0.02, 0.2501, 0.01), n_sets=4, seed=5, progress=False)
    k = int(np.argmin(np.abs(r.loads - 0.13)))
    # just below alpha_c the theory's 0.967; at N = 1000 the measured overlap sits within a few
    # hundredths of it (finite-size corrections push it up)
    assert abs(r.overlap[k] - AGS_OVERLAP_AT_ALPHA_C) < 0.03 + 4 * r.overlap_stderr[k]
    assert r.overlap[-1] < 0.5
    assert AGS_ALPHA_C < r.alpha_c < 0.2
