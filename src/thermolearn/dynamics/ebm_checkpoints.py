"""Checkpoints of an energy network trained by contrastive divergence with a replay buffer.

Both EBMs of this package (the 2D toys' and the binary images') checkpoint the same state: the
network's parameters, the optimiser's state, the replay buffer of negative samples and the
per-evaluation history, with the run's settings and the iterations done. One atomic file; a file
of another run, another format or with arrays of the wrong shape is refused naming the entry.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from thermolearn.file_contents import FileContents
from thermolearn.storage import save_arrays


def save_ebm_checkpoint(
    path: str | os.PathLike,
    fmt: str,
    version: int,
    settings: dict,
    params: dict,
    opt_state: Any,
    buf: Any,
    history: dict,
    done: int,
) -> None:
    """Write parameters, optimiser state, replay buffer and history atomically (``done`` iterations)."""
    import jax

    arrays = {f"param:{k}": np.asarray(v) for k, v in params.items()}
    for i, leaf in enumerate(jax.tree.leaves(opt_state)):
        arrays[f"opt:{i}"] = np.asarray(leaf)
    arrays["buffer"] = np.asarray(buf)
    for k, v in history.items():
        arrays[f"history:{k}"] = v
    header = {"format": fmt, "version": version, "run": settings, "iterations_done": done}
    save_arrays(path, arrays, header)


def resume_ebm_checkpoint(
    path: str | os.PathLike,
    fmt: str,
    version: int,
    what: str,
    settings: dict,
    params: dict,
    opt_state: Any,
    buf: Any,
    history: dict,
) -> tuple[dict, Any, Any, dict, int]:
    """The checked state of a checkpoint of this run, shaped like the fresh ``params``,
    ``opt_state``, ``buf`` and ``history``, and the iterations it had done."""
    import jax
    import jax.numpy as jnp

    contents = FileContents.read(path)
    contents.expect_format(fmt, [version], what=what)
    contents.expect_run(settings)
    done = int(contents.value("iterations_done", int, minimum=0, maximum=settings["iterations"]))
    new_params = {
        k: jnp.asarray(contents.array(f"param:{k}", shape=v.shape, dtype=np.float32)) for k, v in params.items()
    }
    leaves, treedef = jax.tree.flatten(opt_state)
    new_leaves = []
    for i, leaf in enumerate(leaves):
        like = np.asarray(leaf)
        kinds = "iu" if like.dtype.kind in "iu" else "f"
        new_leaves.append(jnp.asarray(contents.array(f"opt:{i}", kinds=kinds, shape=like.shape, dtype=like.dtype)))
    new_buf = jnp.asarray(contents.array("buffer", shape=buf.shape, dtype=np.float32))
    new_history = {
        k: contents.array(f"history:{k}", shape=v.shape, finite=False, dtype=np.float64).copy()
        for k, v in history.items()
    }
    return new_params, jax.tree.unflatten(treedef, new_leaves), new_buf, new_history, done
