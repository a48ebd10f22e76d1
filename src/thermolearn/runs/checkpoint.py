"""Checkpoints of a run: everything needed to continue it exactly, in one atomic file.

A checkpoint holds the chains (spins, generator states, running E and M), the sampler's
own state, the counters and every series recorded so far, plus a fingerprint of the run's
arguments. A run restarted with the same arguments continues from it and ends with results
identical to a run that never stopped; a checkpoint of a different run is refused.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.file_contents import FileContents
from thermolearn.models.ising import Ising, csr_blocks
from thermolearn.storage import save_arrays

FORMAT = "thermolearn.run-checkpoint"
VERSION = 1


def model_fingerprint(model: Ising) -> str:
    """A hash of the model's couplings and fields (what defines its energy function); a periodic
    lattice is hashed a block of rows at a time, never building its CSR matrix.

    The CSR index arrays are hashed as int64 whatever scipy chose to hold them in (int32 for a
    matrix built in memory, int64 for one read from a file or made by :meth:`Ising.lattice`), so
    the same model has one fingerprint however it was made; int64 models keep the fingerprint
    earlier versions gave them."""
    digest = hashlib.sha256()
    current, dtype = None, None
    for name, block in csr_blocks(model):
        if name in ("indptr", "indices") and block.dtype.kind in "iu" and block.dtype != np.int64:
            block = block.astype(np.int64)
        if current is not None and name != current:
            digest.update(str(dtype).encode())
        current, dtype = name, block.dtype
        digest.update(np.ascontiguousarray(block).tobytes())
    digest.update(str(dtype).encode())
    digest.update(np.ascontiguousarray(model.fields).tobytes())
    digest.update(str(model.fields.dtype).encode())
    digest.update(str(model.n_spins).encode())
    return digest.hexdigest()


def save_checkpoint(
    path: str | os.PathLike, arrays: dict[str, np.ndarray], run: dict[str, Any], progress: dict[str, Any]
) -> Path:
    """Write the checkpoint atomically: ``run`` identifies the run, ``progress`` its counters."""
    header = {"format": FORMAT, "version": VERSION, "run": run, "progress": progress}
    return save_arrays(path, arrays, header)


def read_checkpoint(path: str | os.PathLike, run: dict[str, Any]) -> FileContents | None:
    """The checkpoint at ``path`` for checked access, or None if there is none.

    Refuses (``FileFormatError`` naming the file) anything that is not a run checkpoint of this
    version, whose ``run`` or ``progress`` is not a JSON object, or that belongs to a different
    run (other arguments). The arrays and counters are the caller's to check against the run:
    only it knows the shapes its chains and series must have.
    """
    source = Path(path)
    if not source.exists():
        return None
    contents = FileContents.read(source)
    contents.expect_format(FORMAT, [VERSION], what="run checkpoint")
    contents.value("progress", dict)
    contents.expect_run(run)
    return contents


def load_checkpoint(
    path: str | os.PathLike, run: dict[str, Any]
) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """``(arrays, progress)`` from the checkpoint at ``path``, or None if there is none.

    Raises ``ValueError`` (a ``FileFormatError`` naming the file) if the file is not a run
    checkpoint or belongs to a different run; see :func:`read_checkpoint`.
    """
    contents = read_checkpoint(path, run)
    if contents is None:
        return None
    return contents.arrays, contents.header["progress"]
