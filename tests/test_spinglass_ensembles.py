"""Disorder ensembles: one seed per instance, reproducible, with the couplings each kind promises."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.exact.solve import choose_method
from thermolearn.spinglass.ensembles import (
    ea_ensemble,
    edwards_anderson_instance,
    sample_seeds,
    sk_ensemble,
)


def test_seeds_are_reproducible_and_a_longer_list_extends_a_shorter_one():
    assert sample_seeds(7, 5) == sample_seeds(7, 5)
    assert sample_seeds(7, 8)[:5] == sample_seeds(7, 5)
    assert sample_seeds(7, 5) != sample_seeds(8, 5)
    assert len(set(sample_seeds(0, 200))) == 200
    assert all(0 <= s < 2**63 for s in sample_seeds(3, 50))


def test_each_instance_is_rebuilt_from_its_own_seed_alone():
    ens = ea_ensemble((4, 4), 6, couplings="pm", seed=11)
    for k in (0, 5):
        again = edwards_anderson_instance((4, 4), "pm", ens.seeds[k])
        assert ens.model(k) == again
    assert ens.model(0) != ens.model(1)  # different seeds, different disorder
    sk = sk_ensemble(10, 3, seed=2)
    assert sk.model(2) == sk_ensemble(10, 3, seed=2).model(2)
    assert sk.model(0) != sk.model(1)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 3, 3)])
def test_pm_edwards_anderson_has_2d_unit_bonds_per_site_on_the_periodic_lattice(shape):
    model = edwards_anderson_instance(shape, "pm", 0)
    n = int(np.prod(shape))
    i, j, w = model.edges()
    assert i.size == len(shape) * n  # d bonds per site on the periodic lattice
    assert set(np.abs(w)) == {1.0}
    degree = np.diff(model.indptr)
    assert np.all(degree == 2 * len(shape))
    # each bond joins nearest neighbours: index differences along one axis (mod the side)
    coords_i = np.array(np.unravel_index(i, shape)).T
    coords_j = np.array(np.unravel_index(j, shape)).T
    diff = (coords_i - coords_j) % np.array(shape)
    steps = np.minimum(diff, np.array(shape) - diff)
    assert np.all(steps.sum(axis=1) == 1)


def test_pm_signs_are_fair_and_gaussian_couplings_standard_normal_within_their_error():
    w = np.concatenate([edwards_anderson_instance((8, 8), "pm", s).edges()[2] for s in range(10)])
    # mean of +-1 draws: standard error 1 / sqrt(n)
    assert abs(w.mean()) < 4 / np.sqrt(w.size)
    g = np.concatenate([edwards_anderson_instance((8, 8), "gaussian", s).edges()[2] for s in range(10)])
    assert abs(g.mean()) < 4 / np.sqrt(g.size)
    assert abs(g.var() - 1.0) < 4 * np.sqrt(2.0 / g.size)  # Var of a sample variance of N(0,1): 2 / n


def test_sk_couplings_have_variance_one_over_n():
    n = 40
    w = np.concatenate([m.edges()[2] for m in sk_ensemble(n, 4, seed=0)])
    assert abs(w.var() * n - 1.0) < 4 * np.sqrt(2.0 / w.size)


def test_ferro_couplings_keep_the_lattice_geometry_so_kaufman_applies():
    model = ea_ensemble((6, 6), 2, couplings="ferro").model(0)
    assert model.is_ferromagnetic
    assert choose_method(model) == "kaufman"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ea_ensemble((2, 2), 3), "lattice side must be an integer >= 3"),
        (lambda: ea_ensemble((4,), 3), "2 \\(square\\) or 3 \\(cubic\\)"),
        (lambda: ea_ensemble(4, 3), "2 or 3 sides"),
        (lambda: ea_ensemble((4, 4), 3, couplings="ising"), "couplings must be one of"),
        (lambda: ea_ensemble((4, 4), 0), "n_samples"),
        (lambda: sk_ensemble(1, 3), "n_spins"),
        (lambda: sk_ensemble(10**8, 3), "memory"),
        (lambda: ea_ensemble((10**5, 10**5), 3), "lattice 100000x100000 .* memory"),
        (lambda: edwards_anderson_instance((10**5, 10**5), "ferro"), "memory"),
        (lambda: sample_seeds(-1, 3), "seed"),
        (lambda: ea_ensemble((4, 4), 2).model(2), "sample index"),
    ],
)
def test_bad_ensembles_are_refused_naming_what_is_allowed(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_derived_seeds_are_reproducible_and_apart_from_the_instance_and_other_streams():
    from thermolearn.spinglass.ensembles import derived_seed

    assert derived_seed(7, 0x50) == derived_seed(7, 0x50)
    seeds = {derived_seed(s, stream) for s in (7, 8) for stream in (0, 1, 0x50, 0x51)}
    assert len(seeds) == 8 and all(0 <= s < 2**63 for s in seeds)
    with pytest.raises(ValueError, match="stream"):
        derived_seed(7, -1)


def test_a_sample_checkpoint_reads_back_bit_for_bit_and_refuses_another_run_or_an_edited_file(tmp_path):
    import json

    from thermolearn.spinglass.ensembles import SampleCheckpoint, as_record
    from thermolearn.storage import load_arrays, save_arrays

    path = tmp_path / "ck.npz"
    keys = [str(k) for k in range(3)]
    records = {"2": as_record({"x": np.float64(0.1) + 0.2, "q": np.array([1 / 3, np.pi]), "t": (1, None)})}
    writer = SampleCheckpoint(path, {"n": 1}, keys)
    assert writer.save(records) and not writer.save(records)  # the second within a second: skipped
    assert SampleCheckpoint(path, {"n": 1}, keys).load() == records  # floats exactly, tuples as lists
    assert records["2"]["x"] == 0.1 + 0.2 and records["2"]["t"] == [1, None]
    with pytest.raises(ValueError, match="different run .*n"):
        SampleCheckpoint(path, {"n": 2}, keys).load()
    with pytest.raises(ValueError, match="array 'records'"):  # a key this study does not have
        SampleCheckpoint(path, {"n": 1}, keys[:2]).load()
    arrays, header = load_arrays(path)
    edited = json.dumps([["2", {"x": 5}]]).encode()
    save_arrays(path, {"records": np.frombuffer(edited, np.uint8)}, header)
    with pytest.raises(ValueError, match="digest"):
        SampleCheckpoint(path, {"n": 1}, keys).load()
    header["progress"]["records"] = 10**9
    save_arrays(path, arrays, header)
    with pytest.raises(ValueError, match="records"):
        SampleCheckpoint(path, {"n": 1}, keys).load()
    assert SampleCheckpoint(tmp_path / "none.npz", {"n": 1}, keys).load() == {}
    with pytest.raises(ValueError, match="folder does not exist"):
        SampleCheckpoint(tmp_path / "no" / "ck.npz", {}, keys)
