"""Outputs that fail while they are written (a full disk, a quota): one line naming the file and
the outputs already written, exit 2, no temporary file left, no target half-written."""

from __future__ import annotations

import errno
import os

import pytest

from tests.fuzz_runner import run_forked

TRAIN = ["rbm", "train", "--data", "digits", "--limit", "50", "--hidden", "4", "--epochs", "1", "--batch-size", "50"]
TRAIN += ["--engine", "jax", "--save", "model.npz", "--json", "out.json", "--no-progress"]


def _disk_full_on_write(call: int):
    """A ``before`` hook: the ``call``-th fsync of a written file fails as on a full disk."""

    def install() -> None:
        real = os.fsync
        count = [0]

        def fsync(fd):
            count[0] += 1
            if count[0] == call:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(fd)

        os.fsync = fsync

    return install


@pytest.fixture(scope="module", autouse=True)
def _jax_loaded_before_forks():
    import jax  # noqa: F401

    import thermolearn.learning.contrastive_divergence  # noqa: F401


def test_a_full_disk_at_the_second_output_names_it_and_the_output_already_written(tmp_path):
    outcome = run_forked(TRAIN, tmp_path, timeout=300, before=_disk_full_on_write(2))
    assert outcome.code == 2, outcome.describe()
    [line] = [line for line in outcome.error_lines if "error:" in line]
    assert "No space left on device" in line and "out.json" in line, line
    assert "written before the error: model.npz" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary, no half JSON


def test_a_full_disk_at_the_first_output_leaves_nothing(tmp_path):
    outcome = run_forked(TRAIN, tmp_path, timeout=300, before=_disk_full_on_write(1))
    assert outcome.code == 2, outcome.describe()
    [line] = [line for line in outcome.error_lines if "error:" in line]
    assert "No space left on device" in line and "model.npz" in line, line
    assert "written before" not in line
    assert list(tmp_path.iterdir()) == []
