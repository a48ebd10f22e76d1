"""Checkpoints of PIMC and SQA runs: one atomic .npz file, refused unless it belongs to the run resuming it.

The file holds the run's arguments (its identity), the sweeps done, the spins, the generator
states and (PIMC) the recorded series. On resume every array is checked against the run (shapes,
spins +-1, non-zero generator states, finite series of the right length) before it is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from thermolearn.file_contents import FileContents
from thermolearn.storage import save_arrays

PIMC_FORMAT = "thermolearn.pimc-checkpoint"
SQA_FORMAT = "thermolearn.sqa-checkpoint"
VERSION = 1


def check_checkpoint_path(path: str | os.PathLike | None) -> None:
    """Refuse a checkpoint path whose folder does not exist (before any work)."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {path}: its folder does not exist")


def save_run(path: str | os.PathLike, fmt: str, run_id: dict, arrays: dict[str, np.ndarray], done: int) -> None:
    """Write the run's arrays and identity atomically."""
    header = {"format": fmt, "version": VERSION, "run": run_id, "progress": {"sweeps_done": int(done)}}
    save_arrays(path, arrays, header)


def load_run(path: str | os.PathLike, fmt: str, run_id: dict, total: int, *, what: str) -> tuple[FileContents, int]:
    """The checked contents of a checkpoint of this run and the sweeps it had done."""
    contents = FileContents.read(path)
    contents.expect_format(fmt, [VERSION], what=what)
    contents.expect_run(run_id)
    progress = contents.value("progress", dict)
    done = int(
        contents.value("sweeps_done", int, minimum=0, maximum=total, within=progress, label="progress 'sweeps_done'")
    )
    return contents, done


def checked_chains(contents: FileContents, chains: int, slices: int, n_spins: int) -> tuple[np.ndarray, np.ndarray]:
    """Spins (chains, M, N) of +-1 and generator states (chains, 4) with no all-zero row."""
    spins = contents.array("spins", kinds="i", shape=(chains, slices, n_spins), values=(-1, 1), dtype=np.int8)
    rng = contents.array("rng", kinds="u", shape=(chains, 4), dtype=np.uint64)
    if not np.all(rng.any(axis=1)):
        raise contents.fail("array 'rng' holds an all-zero generator state (it could only ever draw zeros)")
    return spins, rng
