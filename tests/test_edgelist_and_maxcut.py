"""Edge-list files (including Gset) and the max-cut mapping cut = (W - E) / 2."""

import numpy as np
import pytest

from tests.brute_force import all_states
from tests.shared_data import SHARED_DATA
from thermolearn import Ising, MaxCut

GSET = SHARED_DATA / "gset"


def test_gset_style_file_is_read_one_based_with_header(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("4 3\n1 2 1\n2 3 -1\n4 1 2.5\n")
    model = Ising.from_edgelist(path)
    J, h = model.to_dense()
    assert model.n_spins == 4
    assert J[0, 1] == 1 and J[1, 2] == -1 and J[3, 0] == 2.5 and J[0, 3] == 2.5
    assert np.all(h == 0)


def test_plain_edge_list_with_comments_and_unit_weights(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("# a triangle\n1 2\n2 3\n3 1  # closing edge\n")
    model = Ising.from_edgelist(path)
    assert model.n_spins == 3 and model.n_edges == 3
    assert model.energy(np.ones(3)) == -3.0


def test_edge_array_is_zero_based():
    model = Ising.from_edgelist(np.array([[0, 1, 2.0], [1, 2, 3.0]]), n_spins=4)
    assert model.n_spins == 4 and model.to_dense()[0][1, 2] == 3.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("3 2\n1 2 1\n", "announces 2 edges"),
        ("1 1 1\n", "self-loop"),
        ("2 1\n1 3 1\n", "out of range"),
        ("1 x 1\n", "expected integers"),
        ("1 2 3 4\n", "expected 'i j' or 'i j w'"),
        ("", "no edges"),
    ],
)
def test_bad_edge_list_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Ising.from_edgelist(path)


def test_maxcut_cut_values_equal_counted_cut_weights_for_every_partition():
    edges = np.array([[0, 1, 1.0], [1, 2, 2.0], [2, 3, 1.5], [3, 0, 1.0], [0, 2, 0.5]])
    problem = MaxCut.from_edgelist(edges)
    s = all_states(4)
    counted = np.array([sum(w for i, j, w in edges if x[int(i)] != x[int(j)]) for x in s])
    np.testing.assert_allclose(problem.cut_value(s), counted)
    np.testing.assert_allclose(problem.energy_from_cut(counted), problem.model.energy(s))
    assert problem.cut_value(s).max() == pytest.approx(5.5)  # the best cut of this graph


@pytest.mark.skipif(not (GSET / "G1.txt").exists(), reason="shared Gset data not present")
def test_gset_g1_reads_with_its_header_counts():
    problem = MaxCut.from_edgelist(GSET / "G1.txt")
    assert problem.model.n_spins == 800 and problem.model.n_edges == 19176
    assert problem.total_weight == 19176.0
    assert problem.model.to_dense()[0].max() <= 0  # the antiferromagnet J = -w
    rng = np.random.default_rng(0)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=800)
    i, j, w = Ising.from_edgelist(GSET / "G1.txt").edges()
    assert problem.cut_value(s) == pytest.approx(w[s[i] != s[j]].sum())
