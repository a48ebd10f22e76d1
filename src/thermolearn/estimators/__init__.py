"""Error bars for Monte Carlo runs: autocorrelation times, blocking, jackknife, observables.

- :mod:`.autocorrelation`: rho(t), tau_int with Sokal's window, effective sample size.
- :mod:`.binning`: Flyvbjerg-Petersen blocking analysis with plateau detection.
- :mod:`.jackknife`: delete-one-block jackknife for any function of means.
- :mod:`.binder`: T_c from the crossing of Binder cumulants of several sizes.
- :mod:`.importance_tails`: the Pareto shape k-hat of importance weights (PSIS diagnostic):
  whether an importance-sampling error bar holds.
- :mod:`.ais`: annealed importance sampling for RBM log Z (forward AIS, optimistic) and
  RAISE (conservative); JAX, loaded on first use.
- :mod:`.observables`: energy, magnetisation, specific heat, susceptibility and Binder
  cumulant of an Ising run, each with an autocorrelation-aware error bar.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.estimators.ais import AISResult, ais_log_partition, rbm_log_likelihood
    from thermolearn.estimators.autocorrelation import (
        DEFAULT_WINDOW_C,
        AutocorrelationTime,
        autocorrelation_function,
        effective_sample_size,
        error_of_mean,
        integrated_autocorrelation_time,
    )
    from thermolearn.estimators.binder import BinderCrossing, binder_crossing
    from thermolearn.estimators.binning import BinningResult, binning_analysis, blocking_curve
    from thermolearn.estimators.importance_tails import (
        PARETO_K_INFINITE_VARIANCE,
        PARETO_K_UNRELIABLE,
        importance_tail_problem,
        pareto_k_hat,
        pareto_k_threshold,
    )
    from thermolearn.estimators.jackknife import JackknifeResult, choose_block_size, jackknife
    from thermolearn.estimators.observables import (
        QUANTITIES,
        Estimate,
        IsingObservables,
        chains_disagree,
        combine_chains,
        observables_from_series,
        observables_from_states,
    )
    from thermolearn.estimators.proportions import Z_95, wilson_interval


_EXPORTS = {
    "ais_log_partition": "ais",
    "AISResult": "ais",
    "autocorrelation_function": "autocorrelation",
    "AutocorrelationTime": "autocorrelation",
    "binder_crossing": "binder",
    "BinderCrossing": "binder",
    "binning_analysis": "binning",
    "BinningResult": "binning",
    "blocking_curve": "binning",
    "choose_block_size": "jackknife",
    "chains_disagree": "observables",
    "combine_chains": "observables",
    "DEFAULT_WINDOW_C": "autocorrelation",
    "effective_sample_size": "autocorrelation",
    "error_of_mean": "autocorrelation",
    "Estimate": "observables",
    "integrated_autocorrelation_time": "autocorrelation",
    "IsingObservables": "observables",
    "jackknife": "jackknife",
    "importance_tail_problem": "importance_tails",
    "pareto_k_hat": "importance_tails",
    "pareto_k_threshold": "importance_tails",
    "PARETO_K_INFINITE_VARIANCE": "importance_tails",
    "PARETO_K_UNRELIABLE": "importance_tails",
    "wilson_interval": "proportions",
    "Z_95": "proportions",
    "JackknifeResult": "jackknife",
    "observables_from_series": "observables",
    "observables_from_states": "observables",
    "QUANTITIES": "observables",
    "rbm_log_likelihood": "ais",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
