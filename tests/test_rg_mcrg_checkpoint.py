"""run_mcrg checkpoints: a killed MCRG run resumes to the very numbers of a run never stopped,
and a checkpoint of another run, or one whose contents do not fit this run, is refused."""

from __future__ import annotations

import numpy as np
import pytest

import thermolearn.rg.critical_sampling as cs
from thermolearn.file_contents import FileContents
from thermolearn.rg.critical_sampling import run_mcrg
from thermolearn.storage import save_arrays

PLAN = dict(blockings=2, n_samples=400, burn_in=20, n_bootstrap=20, seed=3, progress=False)


class Killed(Exception):
    pass


def _kill_after(monkeypatch, saves: int) -> None:
    original = cs._save_mcrg
    count = [0]

    def save(*args, **kwargs):
        original(*args, **kwargs)
        count[0] += 1
        if count[0] == saves:
            raise Killed

    monkeypatch.setattr(cs, "_save_mcrg", save)


@pytest.fixture(scope="module")
def straight():
    return run_mcrg(16, 2, **PLAN)


def _same(a, b) -> None:
    for la, lb in zip(a.levels, b.levels):
        assert la.y_t == lb.y_t and la.y_h == lb.y_h
        np.testing.assert_array_equal(la.even_eigenvalues, lb.even_eigenvalues)
    assert a.extras["tau_int_nn"] == b.extras["tau_int_nn"]


@pytest.mark.parametrize("saves", [1, 3])  # killed in burn-in, then while recording
def test_a_killed_mcrg_run_resumes_bit_identical(tmp_path, monkeypatch, straight, saves):
    path = tmp_path / "mcrg.npz"
    _kill_after(monkeypatch, saves)
    with pytest.raises(Killed):
        run_mcrg(16, 2, checkpoint=path, checkpoint_every=15, **PLAN)
    monkeypatch.undo()
    done = FileContents.read(path).header["progress"]["sweeps_done"]
    assert done == 15 * saves
    _same(run_mcrg(16, 2, checkpoint=path, checkpoint_every=15, **PLAN), straight)


def test_a_checkpointed_run_that_is_never_killed_gives_the_same_numbers(tmp_path, straight):
    _same(run_mcrg(16, 2, checkpoint=tmp_path / "c.npz", checkpoint_every=7, **PLAN), straight)


@pytest.fixture()
def saved(tmp_path, monkeypatch):
    path = tmp_path / "mcrg.npz"
    _kill_after(monkeypatch, 3)
    with pytest.raises(Killed):
        run_mcrg(16, 2, checkpoint=path, checkpoint_every=15, **PLAN)
    monkeypatch.undo()
    contents = FileContents.read(path)
    return path, dict(contents.arrays), dict(contents.header)


def _rewrite(path, arrays, header) -> None:
    save_arrays(path, arrays, header)


def test_a_checkpoint_of_another_run_is_refused(saved):
    path, _, _ = saved
    with pytest.raises(ValueError, match="different run .*seed"):
        run_mcrg(16, 2, checkpoint=path, **{**PLAN, "seed": 4})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, h: a.__setitem__("chain_spins", np.zeros_like(a["chain_spins"])), "chain_spins"),
        (lambda a, h: a.__setitem__("even", a["even"][:-1]), "'even' must have shape"),
        (lambda a, h: a.__setitem__("tie_rng", a["tie_rng"] * 0), "PCG64"),
        (lambda a, h: a.__setitem__("chain_energy", a["chain_energy"] + 8.0), "energy"),
        (lambda a, h: h["progress"].__setitem__("sweeps_done", 10**9), "sweeps_done"),
        (lambda a, h: h.__setitem__("format", "thermolearn.run-checkpoint"), "MCRG checkpoint"),
        (lambda a, h: a.__setitem__("extra", np.zeros(2)), "unexpected array"),
    ],
)
def test_a_crafted_checkpoint_is_refused_naming_what_is_wrong(saved, change, message):
    path, arrays, header = saved
    change(arrays, header)
    _rewrite(path, arrays, header)
    with pytest.raises(ValueError, match=message):
        run_mcrg(16, 2, checkpoint=path, checkpoint_every=15, **PLAN)


def test_a_checkpoint_in_a_missing_folder_is_refused_before_sampling(tmp_path):
    with pytest.raises(ValueError, match="folder does not exist"):
        run_mcrg(16, 2, checkpoint=tmp_path / "no" / "c.npz", **PLAN)


@pytest.mark.parametrize("seed", range(6))
def test_the_tie_break_generator_state_round_trips_exactly(seed):
    rng = np.random.default_rng(seed)
    rng.integers(0, 2, size=7)
    rng.random(3, dtype=np.float32)  # leaves a buffered 32-bit half behind
    words = cs._generator_words(rng)
    other = np.random.default_rng(12345)
    cs._set_generator_words(other, words)
    np.testing.assert_array_equal(other.integers(0, 2**62, size=20), rng.integers(0, 2**62, size=20))


def test_a_finished_run_leaves_a_complete_checkpoint_and_run_again_gives_the_same_numbers(tmp_path, straight):
    path = tmp_path / "done.npz"
    first = run_mcrg(16, 2, checkpoint=path, checkpoint_every=10**6, **PLAN)
    contents = FileContents.read(path)
    assert contents.header["progress"]["sweeps_done"] == 20 + 100  # burn-in + 400 samples over 4 chains
    _same(first, straight)
    _same(run_mcrg(16, 2, checkpoint=path, checkpoint_every=10**6, **PLAN), straight)
