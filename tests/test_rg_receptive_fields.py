"""The geometry of coarse-grainings: block-spin kernels, receptive-field centres and locality,
the assignment of units to coarse sites, and the nearest-neighbour part of a coupling matrix."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.models.ising import Ising
from thermolearn.rg.block_spins import block_spins
from thermolearn.rg.receptive_fields import (
    assign_to_lattice,
    block_spin_kernels,
    check_layer_sides,
    lattice_side,
    nearest_neighbour_coupling,
    nearest_neighbour_pairs,
    receptive_field_centres,
    receptive_field_locality,
)


def test_block_spin_kernel_applied_to_spins_is_majority_rule_without_ties():
    # b = 3: 9 spins per block, never a tie, so sign(s @ kernel) is exactly the majority rule
    rng = np.random.default_rng(0)
    s = np.where(rng.random((20, 6, 6)) < 0.5, -1, 1).astype(np.int8)
    kernel = block_spin_kernels(6, 3)
    assert kernel.shape == (36, 4)
    np.testing.assert_array_equal(kernel.sum(axis=0), 9)
    np.testing.assert_array_equal(kernel.sum(axis=1), 1)
    via_kernel = np.sign(s.reshape(20, 36) @ kernel).astype(np.int8)
    np.testing.assert_array_equal(via_kernel, block_spins(s, 3, "majority").reshape(20, 4))


def test_block_spin_kernels_are_perfectly_local_and_centred_on_their_blocks():
    kernel = block_spin_kernels(8, 2)
    np.testing.assert_array_equal(receptive_field_locality(kernel, 8, 2), 1.0)
    centres = receptive_field_centres(kernel, 8)
    bx, by = np.divmod(np.arange(16), 4)
    np.testing.assert_allclose(centres, np.stack([2 * bx + 0.5, 2 * by + 0.5], axis=1), atol=1e-12)


def test_evenly_spread_weights_have_the_uniform_baseline_locality():
    w = np.ones((64, 3))
    np.testing.assert_allclose(receptive_field_locality(w, 8, 2), 4 / 64)
    np.testing.assert_allclose(receptive_field_locality(w, 8, 4), 16 / 64)


def test_a_field_wrapping_round_the_boundary_is_centred_across_it():
    # weight on sites (0, 0), (0, 7), (7, 0), (7, 7): the block straddling the corner
    w = np.zeros((64, 1))
    w[[0, 7, 56, 63], 0] = [1.0, -2.0, 1.0, 2.0]  # the sign does not matter, |W| does
    centre = receptive_field_centres(w, 8)[0]
    # circular mean of columns {0 (weight 2), 7 (weight 4)}: between 7 and 8, nearer 7
    assert 7.0 < centre[1] < 8.0 and (centre[0] > 7.0 or centre[0] < 0.5)
    assert receptive_field_locality(w, 8, 2)[0] == pytest.approx(1.0)


def test_locality_is_the_fraction_inside_the_block():
    w = np.zeros((64, 1))
    w[[9, 10, 17, 18], 0] = 1.0  # the 2 x 2 block at rows 1-2, columns 1-2
    w[45, 0] = 1.0  # a far site: 1/5 of |W| outside
    loc = receptive_field_locality(w, 8, 2)[0]
    # the far site pulls the centre a little, but the nearest 2 x 2 window is still the block
    assert loc == pytest.approx(4 / 5)


def test_assignment_recovers_a_permutation_of_block_kernels():
    rng = np.random.default_rng(1)
    perm = rng.permutation(16)
    kernel = block_spin_kernels(8, 2)[:, perm]  # unit j sees block perm[j]
    site_of_unit = assign_to_lattice(receptive_field_centres(kernel, 8), 8, 2)
    np.testing.assert_array_equal(site_of_unit, perm)


def test_nearest_neighbour_pairs_are_the_bonds_of_the_periodic_lattice():
    pairs = nearest_neighbour_pairs(4)
    model = Ising.lattice((4, 4), 1.0)
    dense = model.to_dense() if hasattr(model, "to_dense") else None
    assert pairs.shape == (32, 2)
    bonds = {tuple(sorted(p)) for p in pairs.tolist()}
    assert len(bonds) == 32
    if dense is not None:
        i, j = np.nonzero(np.triu(dense[0] if isinstance(dense, tuple) else dense))
        assert bonds == set(zip(i.tolist(), j.tolist()))


def test_nearest_neighbour_coupling_of_an_exact_lattice_matrix():
    side = 5
    j = np.zeros((25, 25))
    pairs = nearest_neighbour_pairs(side)
    j[pairs[:, 0], pairs[:, 1]] = 0.44
    j[pairs[:, 1], pairs[:, 0]] = 0.44
    j[0, 12] = j[12, 0] = 5.0  # a far pair does not count
    mean, err = nearest_neighbour_coupling(j, side)
    assert mean == pytest.approx(0.44, abs=1e-15)
    assert err == pytest.approx(0.0, abs=1e-15)


def test_layer_sides_and_bad_block_sizes_are_refused_with_what_is_allowed():
    assert check_layer_sides(32, 2, 3) == [32, 16, 8, 4]
    assert lattice_side(1024) == 32
    with pytest.raises(ValueError, match=r"b = 3 does not divide the lattice side 16.*multiple of b\^levels = 9"):
        check_layer_sides(16, 3, 2)
    with pytest.raises(ValueError, match="leaves a 2 x 2 lattice"):
        check_layer_sides(16, 2, 3)
    with pytest.raises(ValueError, match="n_units must be a perfect square"):
        lattice_side(60, "n_units")
    with pytest.raises(ValueError, match=r"weights must have shape .* = \(64, n_hidden\)"):
        receptive_field_locality(np.ones((60, 4)), 8, 2)
    with pytest.raises(ValueError, match="window must be at most"):
        receptive_field_locality(np.ones((64, 4)), 8, 9)
    with pytest.raises(ValueError, match=r"centres must have shape \(16, 2\)"):
        assign_to_lattice(np.zeros((15, 2)), 8, 2)
    with pytest.raises(ValueError, match="does not divide"):
        block_spin_kernels(9, 2)
