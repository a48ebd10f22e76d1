"""The thermodynamics of training: Langevin samplers of a loss, the temperature of SGD, seed ensembles.

A loss is an energy U(theta) = -log p(theta | data) (nats, T = 1); training dynamics are
stochastic dynamics in it, measured here against exact answers.

- :func:`run_langevin` / :class:`LangevinResult` — unadjusted Langevin, SGLD (steps
  a (b + t)^-gamma, minibatch forces), MALA and HMC with mass and friction, many chains in one
  JAX program, checkpointed and resumed bit-identically; :class:`DivergenceError` when a step
  size diverges (with the last good state); :func:`ula_stationary_covariance`, the exact biased
  stationary law of unadjusted Langevin on a Gaussian.
- :class:`Posterior` and its makers :func:`gaussian_posterior`, :func:`linear_regression_posterior`
  (exact Gaussian posterior), :func:`mixture_posterior` (Welling and Teh's bimodal example, exact
  mode weights by :func:`mixture_quadrature`), :func:`make_posterior` by name.
- :func:`run_sgd_temperature` / :class:`SGDTemperatureResult` — constant-learning-rate SGD on a
  quadratic loss as a sampler, against :func:`sgd_stationary_variance` = eta B / (S A (2 - eta A))
  (exact, discrete time; with the multiplicative noise of a linear-regression loss
  eta B / (S A (2 - eta A) - 2 eta A^2)) and :func:`sgd_sde_variance` = eta B / (2 S A) (the SDE limit);
  :func:`sgd_fourth_moment_factor` and :func:`sgd_finite_error_lr`: where theta^4 stops having a finite
  mean, so the variance estimate stops having an error bar.
- :func:`network_loss_fluctuations` / :class:`LossFluctuation` — the training loss's fluctuations of
  a small digits MLP under plain SGD: an effective temperature against eta / S.
- :func:`train_ensemble` / :class:`EnsembleResult` — K seeds of a small ReLU network on the digits
  or the x^3 toy, trained together and checkpointed: spread of test loss and accuracy, distances
  after :func:`align_hidden_units`, ensemble NLL, corr(theta(t), theta(0)) and
  :func:`decorrelation_time`; :func:`random_features_ensemble` / :class:`RandomFeaturesComparison`
  — randomised-MAP ensemble, plain seeds and SGLD against an exact posterior predictive.
- :func:`train_ebm` / :class:`EBMResult` — a neural energy on a 2D toy trained by contrastive
  divergence with short-run Langevin negatives and a replay buffer; exact held-out
  log-likelihood and KL(data || model) through :func:`log_partition` (quadrature), and the
  short-run against long-run sampling gap.
- :func:`train_binary_ebm` / :func:`compare_with_rbm` — an energy network over binarised digits
  trained by CD with Gibbs-sweep or Metropolis-adjusted discrete-Langevin negatives from a replay
  buffer; log Z by AIS (:func:`binary_ebm_log_partition`, checked against
  :func:`binary_ebm_exact_log_partition`), against the library's RBM at equal parameter count.
- :func:`stationary_decorrelation` — the 1/e time of the parameters' fluctuation autocorrelation
  in the stationary phase (exact on SGD on a quadratic: -1 / ln(1 - eta A)).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.dynamics.binary_ebm import (
        BINARY_SAMPLERS,
        BinaryEBMResult,
        RBMComparison,
        binary_ebm_energy,
        binary_ebm_exact_log_partition,
        binary_ebm_log_partition,
        binary_ebm_parameter_count,
        compare_with_rbm,
        matched_rbm_hidden,
        rbm_parameter_count,
        train_binary_ebm,
    )
    from thermolearn.dynamics.ebm import EBM_DATASETS, EBMResult, ebm_data, log_partition, train_ebm
    from thermolearn.dynamics.ensembles import (
        ENSEMBLE_TASKS,
        EnsembleResult,
        RandomFeaturesComparison,
        StationaryDecorrelation,
        align_hidden_units,
        cubic_data,
        decorrelation_time,
        random_features_ensemble,
        stationary_decorrelation,
        train_ensemble,
    )
    from thermolearn.dynamics.langevin import (
        SAMPLERS,
        DivergenceError,
        Estimate,
        LangevinResult,
        run_langevin,
        ula_stationary_covariance,
    )
    from thermolearn.dynamics.network_temperature import LossFluctuation, network_loss_fluctuations
    from thermolearn.dynamics.posteriors import (
        POSTERIOR_NAMES,
        MixtureQuadrature,
        Posterior,
        gaussian_posterior,
        linear_regression_posterior,
        make_posterior,
        mixture_data,
        mixture_posterior,
        mixture_quadrature,
    )
    from thermolearn.dynamics.sgd_temperature import (
        LOSSES,
        SGDTemperatureResult,
        run_sgd_temperature,
        sgd_finite_error_lr,
        sgd_fourth_moment_factor,
        sgd_sde_variance,
        sgd_stationary_variance,
    )

_EXPORTS = {
    "BINARY_SAMPLERS": "binary_ebm",
    "BinaryEBMResult": "binary_ebm",
    "RBMComparison": "binary_ebm",
    "binary_ebm_energy": "binary_ebm",
    "binary_ebm_exact_log_partition": "binary_ebm",
    "binary_ebm_log_partition": "binary_ebm",
    "binary_ebm_parameter_count": "binary_ebm",
    "compare_with_rbm": "binary_ebm",
    "matched_rbm_hidden": "binary_ebm",
    "rbm_parameter_count": "binary_ebm",
    "train_binary_ebm": "binary_ebm",
    "EBM_DATASETS": "ebm",
    "EBMResult": "ebm",
    "ebm_data": "ebm",
    "log_partition": "ebm",
    "train_ebm": "ebm",
    "ENSEMBLE_TASKS": "ensembles",
    "EnsembleResult": "ensembles",
    "RandomFeaturesComparison": "ensembles",
    "align_hidden_units": "ensembles",
    "cubic_data": "ensembles",
    "decorrelation_time": "ensembles",
    "random_features_ensemble": "ensembles",
    "StationaryDecorrelation": "ensembles",
    "stationary_decorrelation": "ensembles",
    "train_ensemble": "ensembles",
    "SAMPLERS": "langevin",
    "DivergenceError": "langevin",
    "Estimate": "langevin",
    "LangevinResult": "langevin",
    "run_langevin": "langevin",
    "ula_stationary_covariance": "langevin",
    "LossFluctuation": "network_temperature",
    "network_loss_fluctuations": "network_temperature",
    "POSTERIOR_NAMES": "posteriors",
    "MixtureQuadrature": "posteriors",
    "Posterior": "posteriors",
    "gaussian_posterior": "posteriors",
    "linear_regression_posterior": "posteriors",
    "make_posterior": "posteriors",
    "mixture_data": "posteriors",
    "mixture_posterior": "posteriors",
    "mixture_quadrature": "posteriors",
    "LOSSES": "sgd_temperature",
    "SGDTemperatureResult": "sgd_temperature",
    "run_sgd_temperature": "sgd_temperature",
    "sgd_finite_error_lr": "sgd_temperature",
    "sgd_fourth_moment_factor": "sgd_temperature",
    "sgd_sde_variance": "sgd_temperature",
    "sgd_stationary_variance": "sgd_temperature",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
