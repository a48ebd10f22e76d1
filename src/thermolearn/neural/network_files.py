"""Trained networks on disk: one .npz of parameter arrays with a JSON header (never pickle).

The header names the format, the network kind and its architecture, the temperature it was
trained at and a fingerprint of the model; every array is checked against the architecture
(names, shapes, finite float32 values) before a network is built from it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.file_contents import FileContents
from thermolearn.neural.made import MADE, MADEConfig, parameter_shapes
from thermolearn.storage import save_arrays

NETWORK_FORMAT = "thermolearn.neural-network"
NETWORK_VERSION = 1


def save_network(path: str | os.PathLike, network: MADE, *, info: dict[str, Any] | None = None) -> Path:
    """Write ``network`` atomically to ``path`` (.npz + JSON header); ``info`` (JSON values:
    temperature, model fingerprint, training settings) is stored in the header."""
    if not isinstance(network, MADE):
        raise TypeError(f"network must be a thermolearn.neural.MADE, got {type(network).__name__}")
    header = {
        "format": NETWORK_FORMAT,
        "version": NETWORK_VERSION,
        "network": network.network,
        "architecture": network.config.as_dict(),
        "info": dict(info or {}),
    }
    arrays = {f"param:{k}": np.asarray(v, dtype=np.float32) for k, v in network.params.items()}
    return save_arrays(path, arrays, header)


def load_network(path: str | os.PathLike) -> tuple[MADE, dict[str, Any]]:
    """The network stored at ``path`` and the header's ``info``; every fault raises
    :class:`~thermolearn.storage.FileFormatError` naming the file."""
    contents = FileContents.read(path)
    contents.expect_format(NETWORK_FORMAT, [NETWORK_VERSION], what="thermolearn neural network")
    kind = contents.value("network", str)
    if kind != "made":
        raise contents.fail(f"network kind {kind!r} is not one this thermolearn reads (made)")
    arch = contents.value("architecture", dict)
    try:
        config = MADEConfig(
            n_spins=contents.value("n_spins", int, minimum=1, within=arch, label="architecture 'n_spins'"),
            hidden=contents.value("hidden", int, minimum=0, within=arch, label="architecture 'hidden'"),
            depth=contents.value("depth", int, minimum=0, within=arch, label="architecture 'depth'"),
            symmetric=contents.value("symmetric", bool, within=arch, label="architecture 'symmetric'"),
        )
    except (ValueError, TypeError) as exc:
        raise contents.fail(str(exc)) from None
    shapes = parameter_shapes(config)
    contents.expect_names([f"param:{k}" for k in shapes])
    params = {k: contents.array(f"param:{k}", shape=shape, dtype=np.float32) for k, shape in shapes.items()}
    info = contents.header.get("info", {})
    if not isinstance(info, dict):
        raise contents.fail("header entry 'info' must be an object")
    return MADE(config, params), info
