"""Default diffusion models and training settings per data set, as the CLI uses them.

The presets follow Sohl-Dickstein et al. (2015) for 2D points (T = 40 steps, the paper's
parameterisation trained on the variational bound) and Ho et al. (2020) / Nichol and
Dhariwal (2021) for images (T = 100, noise prediction trained on the hybrid loss, the snr
schedule starting with one grey-level bin of noise). Any field given explicitly wins.

    from thermolearn.datasets import load_dataset
    from thermolearn.diffusion import DiffusionModel, train
    from thermolearn.diffusion.presets import preset_config, preset_training
    data = load_dataset("digits", seed=0)
    config = preset_config(data)
    settings = preset_training(data, config)
    model = train(DiffusionModel.create(config, seed=0), data.data, seed=0, **settings.as_dict()).model
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from thermolearn.diffusion.model import DiffusionConfig

TOY_DEFAULT_ITERATIONS = 3000
"""Optimiser steps for 2D point data."""
IMAGE_DEFAULT_ITERATIONS = 10000
"""Optimiser steps for images."""
TOY_STEPS = 40
"""Diffusion steps T for 2D points (the paper's)."""
IMAGE_STEPS = 100
"""Diffusion steps T for images."""
RESMLP_ABOVE_DIM = 256
"""Data of more dimensions than this get the residual MLP by default."""


@dataclass(frozen=True)
class TrainingPreset:
    """Optimiser settings: steps, minibatch, Adam step size (cosine-decayed), loss."""

    iterations: int
    batch_size: int
    learning_rate: float
    objective: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_mnist(data: Any) -> bool:
    return getattr(data, "name", None) == "mnist"


def preset_config(
    data: Any,
    *,
    process: str = "gaussian",
    steps: int | None = None,
    schedule: str | None = None,
    beta_1: float | None = None,
    parameterization: str | None = None,
    learn_variance: bool = True,
    network: str | None = None,
    hidden: int | None = None,
    depth: int | None = None,
    channels: int | None = None,
) -> DiffusionConfig:
    """The default :class:`DiffusionConfig` for a :class:`~thermolearn.datasets.Dataset`; None fields get the preset.

    Points: T = 40, the paper's parameterisation, an MLP of width 128 and depth 3. Images: T = 100,
    noise prediction (eps), width 512 (1024 for MNIST, with a residual MLP above 256 pixels), depth 4;
    the snr schedule's first variance is (2 / levels)^2, one grey-level bin, for quantised images.
    """
    binary = process == "binomial"
    schedule = schedule or ("binomial" if binary else "snr")
    if beta_1 is None and schedule == "snr" and data.levels:
        beta_1 = (2.0 / data.levels) ** 2  # the first step's noise spans one grey-level bin
    return DiffusionConfig(
        dim=data.dim,
        steps=steps or (IMAGE_STEPS if data.is_image else TOY_STEPS),
        process=process,
        schedule=schedule,
        beta_1=beta_1,
        parameterization=parameterization or ("eps" if data.is_image else "paper"),
        learn_variance=learn_variance,
        network=network or ("resmlp" if data.dim > RESMLP_ABOVE_DIM else "mlp"),
        hidden=hidden or (1024 if _is_mnist(data) else 512 if data.is_image else 128),
        depth=depth or (4 if data.is_image else 3),
        channels=channels or (16 if _is_mnist(data) else 32),
        image_shape=data.image_shape,
    )


def preset_training(
    data: Any,
    config: DiffusionConfig,
    *,
    iterations: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    objective: str | None = None,
) -> TrainingPreset:
    """The default training settings for ``data`` and ``config``; None fields get the preset.

    Points: 3000 steps of minibatch 256 at learning rate 2e-3 on the variational bound (vb). Images:
    10000 steps of 256 (128 for MNIST) at 1e-3; Gaussian eps models of grey images train on the
    hybrid loss (the simple loss with a fixed variance), every other model on the bound.
    """
    if objective is None:  # the noise-prediction losses where they apply, else the bound itself
        eps_images = data.is_image and config.process != "binomial" and config.parameterization == "eps"
        objective = ("hybrid" if config.learn_variance else "simple") if eps_images else "vb"
    return TrainingPreset(
        iterations=iterations or (IMAGE_DEFAULT_ITERATIONS if data.is_image else TOY_DEFAULT_ITERATIONS),
        batch_size=batch_size or (128 if _is_mnist(data) else 256),
        learning_rate=learning_rate or (1e-3 if data.is_image else 2e-3),
        objective=objective,
    )
