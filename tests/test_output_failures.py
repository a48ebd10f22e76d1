"""Outputs that fail while they are written (a full disk, a quota): one line naming the file and
the outputs already written, exit 2, no temporary file left, no target half-written."""

from __future__ import annotations

import errno

from tests.fuzz_runner import fail_on_call, run_forked

TRAIN = ["rbm", "train", "--data", "digits", "--limit", "50", "--hidden", "4", "--epochs", "1", "--batch-size", "50"]
TRAIN += ["--engine", "jax", "--save", "model.npz", "--json", "out.json", "--no-progress"]


def test_a_full_disk_at_the_second_output_names_it_and_the_output_already_written(tmp_path):
    outcome = run_forked(TRAIN, tmp_path, timeout=300, before=fail_on_call("os", "fsync", 2, errno.ENOSPC))
    assert outcome.code == 2, outcome.describe()
    [line] = [line for line in outcome.error_lines if "error:" in line]
    assert "No space left on device" in line and "out.json" in line, line
    assert "written before the error: model.npz" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary, no half JSON


def test_a_full_disk_at_the_first_output_leaves_nothing(tmp_path):
    outcome = run_forked(TRAIN, tmp_path, timeout=300, before=fail_on_call("os", "fsync", 1, errno.ENOSPC))
    assert outcome.code == 2, outcome.describe()
    [line] = [line for line in outcome.error_lines if "error:" in line]
    assert "No space left on device" in line and "model.npz" in line, line
    assert "written before" not in line
    assert list(tmp_path.iterdir()) == []
