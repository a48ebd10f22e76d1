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
from thermolearn.neural import made, pixelcnn
from thermolearn.neural.made import MADE, MADEConfig
from thermolearn.neural.network import AutoregressiveNetwork
from thermolearn.neural.pixelcnn import PixelCNN, PixelCNNConfig
from thermolearn.storage import FileFormatError, save_arrays

NETWORK_FORMAT = "thermolearn.neural-network"
NETWORK_VERSION = 1


def save_network(
    path: str | os.PathLike, network: AutoregressiveNetwork, *, info: dict[str, Any] | None = None
) -> Path:
    """Write ``network`` atomically to ``path`` (.npz + JSON header); ``info`` (JSON values:
    temperature, model fingerprint, training settings) is stored in the header."""
    if not isinstance(network, AutoregressiveNetwork):
        raise TypeError(f"network must be a thermolearn.neural MADE or PixelCNN, got {type(network).__name__}")
    header = {
        "format": NETWORK_FORMAT,
        "version": NETWORK_VERSION,
        "network": network.network,
        "architecture": network.config.as_dict(),
        "info": dict(info or {}),
    }
    arrays = {f"param:{k}": np.asarray(v, dtype=np.float32) for k, v in network.params.items()}
    return save_arrays(path, arrays, header)


def load_network(path: str | os.PathLike) -> tuple[AutoregressiveNetwork, dict[str, Any]]:
    """The network stored at ``path`` and the header's ``info``; every fault raises
    :class:`~thermolearn.storage.FileFormatError` naming the file."""
    contents = FileContents.read(path)
    contents.expect_format(NETWORK_FORMAT, [NETWORK_VERSION], what="thermolearn neural network")
    kind = contents.value("network", str, choices=("made", "pixelcnn"))
    arch = contents.value("architecture", dict)

    def entry(key: str, kind: type, minimum: int | None = None) -> Any:
        return contents.value(key, kind, minimum=minimum, within=arch, label=f"architecture {key!r}")

    config: MADEConfig | PixelCNNConfig
    try:
        if kind == "made":
            config = MADEConfig(
                entry("n_spins", int, 1), entry("hidden", int, 0), entry("depth", int, 0), entry("symmetric", bool)
            )
            shapes = made.parameter_shapes(config)
        else:
            shape = entry("shape", list)
            if len(shape) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in shape):
                raise contents.fail("architecture 'shape' must be two integers (rows, columns)")
            config = PixelCNNConfig(
                (shape[0], shape[1]),
                entry("channels", int, 1),
                entry("depth", int, 1),
                entry("kernel", int, 1),
                entry("symmetric", bool),
            )
            shapes = pixelcnn.parameter_shapes(config)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise contents.fail(str(exc)) from None
    contents.expect_names([f"param:{k}" for k in shapes])
    params = {k: contents.array(f"param:{k}", shape=shape, dtype=np.float32) for k, shape in shapes.items()}
    info = contents.header.get("info", {})
    if not isinstance(info, dict):
        raise contents.fail("header entry 'info' must be an object")
    return (MADE(config, params) if isinstance(config, MADEConfig) else PixelCNN(config, params)), info
