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

from thermolearn.diffusion.binomial import BinomialDiffusion, bernoulli_kl, bernoulli_log_prob, binary_entropy
from thermolearn.diffusion.bound import (
    PAPER_SWISS_ROLL_BITS,
    PAPER_SWISS_ROLL_GAIN_BITS,
    BoundResult,
    entropy_bounds_bits,
    log_likelihood_bound,
)
from thermolearn.diffusion.gaussian import GaussianDiffusion, gaussian_kl, gaussian_log_density
from thermolearn.diffusion.model import (
    OBJECTIVES,
    PARAMETERIZATIONS,
    PROCESSES,
    DiffusionConfig,
    DiffusionModel,
)
from thermolearn.diffusion.networks import NETWORKS, TimeConvNet, TimeMLP, TimeResMLP
from thermolearn.diffusion.quality import (
    NearestNeighbourResult,
    TwoSampleResult,
    energy_distance,
    nearest_neighbour_check,
    one_nn_accuracy,
    two_sample_check,
)
from thermolearn.diffusion.schedules import SCHEDULES, beta_schedule
from thermolearn.diffusion.training import TrainResult, train

__all__ = [
    "BinomialDiffusion",
    "BoundResult",
    "DiffusionConfig",
    "DiffusionModel",
    "GaussianDiffusion",
    "NETWORKS",
    "NearestNeighbourResult",
    "OBJECTIVES",
    "PAPER_SWISS_ROLL_BITS",
    "PAPER_SWISS_ROLL_GAIN_BITS",
    "PARAMETERIZATIONS",
    "PROCESSES",
    "SCHEDULES",
    "TimeConvNet",
    "TimeMLP",
    "TimeResMLP",
    "TrainResult",
    "TwoSampleResult",
    "bernoulli_kl",
    "bernoulli_log_prob",
    "beta_schedule",
    "binary_entropy",
    "energy_distance",
    "entropy_bounds_bits",
    "gaussian_kl",
    "gaussian_log_density",
    "log_likelihood_bound",
    "nearest_neighbour_check",
    "one_nn_accuracy",
    "train",
    "two_sample_check",
]
