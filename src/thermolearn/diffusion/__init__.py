"""Diffusion probabilistic models (Sohl-Dickstein et al. 2015; Ho et al. 2020) in JAX.

A known forward process destroys the structure of data step by step (Gaussian diffusion
towards N(0, I), or binomial diffusion of bits towards fair coins); a network learns the
time-reversed process that rebuilds it. Training maximises the variational bound on the log
likelihood (or Ho et al.'s noise-prediction loss); :func:`log_likelihood_bound` evaluates
the bound on held-out data term by term with every KL in closed form.

    from thermolearn.datasets import load_dataset
    from thermolearn.diffusion import DiffusionConfig, DiffusionModel, train, log_likelihood_bound
    data = load_dataset("swiss-roll", seed=0)
    model = DiffusionModel.create(DiffusionConfig(dim=2, steps=40), seed=0)
    model = train(model, data.data, iterations=3000, seed=0).model
    print(log_likelihood_bound(model, load_dataset("swiss-roll", split="test").data).mean)  # bits
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.diffusion.binomial import BinomialDiffusion, bernoulli_kl, bernoulli_log_prob, binary_entropy
    from thermolearn.diffusion.bound import (
        PAPER_SWISS_ROLL_BITS,
        PAPER_SWISS_ROLL_GAIN_BITS,
        BoundResult,
        entropy_bounds_bits,
        log_likelihood_bound,
    )
    from thermolearn.diffusion.gaussian import GaussianDiffusion, gaussian_kl, gaussian_log_density
    from thermolearn.diffusion.model import OBJECTIVES, PARAMETERIZATIONS, PROCESSES, DiffusionConfig, DiffusionModel
    from thermolearn.diffusion.networks import NETWORKS, TimeConvNet, TimeMLP, TimeResMLP
    from thermolearn.diffusion.quality import (
        NearestNeighbourResult,
        TwoSampleResult,
        energy_distance,
        nearest_neighbour_check,
        one_nn_accuracy,
        two_sample_check,
    )
    from thermolearn.diffusion.schedules import DIFFUSION_SCHEDULES, beta_schedule
    from thermolearn.diffusion.training import TrainResult, train


_EXPORTS = {
    "bernoulli_kl": "binomial",
    "bernoulli_log_prob": "binomial",
    "beta_schedule": "schedules",
    "binary_entropy": "binomial",
    "BinomialDiffusion": "binomial",
    "BoundResult": "bound",
    "DIFFUSION_SCHEDULES": "schedules",
    "DiffusionConfig": "model",
    "DiffusionModel": "model",
    "energy_distance": "quality",
    "entropy_bounds_bits": "bound",
    "gaussian_kl": "gaussian",
    "gaussian_log_density": "gaussian",
    "GaussianDiffusion": "gaussian",
    "log_likelihood_bound": "bound",
    "nearest_neighbour_check": "quality",
    "NearestNeighbourResult": "quality",
    "NETWORKS": "networks",
    "OBJECTIVES": "model",
    "one_nn_accuracy": "quality",
    "PAPER_SWISS_ROLL_BITS": "bound",
    "PAPER_SWISS_ROLL_GAIN_BITS": "bound",
    "PARAMETERIZATIONS": "model",
    "PROCESSES": "model",
    "TimeConvNet": "networks",
    "TimeMLP": "networks",
    "TimeResMLP": "networks",
    "train": "training",
    "TrainResult": "training",
    "two_sample_check": "quality",
    "TwoSampleResult": "quality",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
