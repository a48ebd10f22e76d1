"""Error bars for Monte Carlo runs: autocorrelation times, blocking, jackknife, observables.

- :mod:`.autocorrelation`: rho(t), tau_int with Sokal's window, effective sample size.
- :mod:`.binning`: Flyvbjerg-Petersen blocking analysis with plateau detection.
- :mod:`.jackknife`: delete-one-block jackknife for any function of means.
- :mod:`.binder`: T_c from the crossing of Binder cumulants of several sizes.
- :mod:`.ais`: annealed importance sampling for RBM log Z (forward AIS, optimistic) and
  RAISE (conservative); JAX, loaded on first use.
- :mod:`.observables`: energy, magnetisation, specific heat, susceptibility and Binder
  cumulant of an Ising run, each with an autocorrelation-aware error bar.
"""

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
from thermolearn.estimators.jackknife import JackknifeResult, choose_block_size, jackknife
from thermolearn.estimators.observables import (
    QUANTITIES,
    Estimate,
    IsingObservables,
    combine_chains,
    observables_from_series,
    observables_from_states,
)

__all__ = [
    "AISResult",
    "DEFAULT_WINDOW_C",
    "QUANTITIES",
    "AutocorrelationTime",
    "BinderCrossing",
    "BinningResult",
    "Estimate",
    "IsingObservables",
    "JackknifeResult",
    "autocorrelation_function",
    "binder_crossing",
    "binning_analysis",
    "blocking_curve",
    "choose_block_size",
    "combine_chains",
    "effective_sample_size",
    "error_of_mean",
    "integrated_autocorrelation_time",
    "jackknife",
    "ais_log_partition",
    "rbm_log_likelihood",
    "observables_from_series",
    "observables_from_states",
]

_LAZY = {"AISResult", "ais_log_partition", "rbm_log_likelihood"}


def __getattr__(name: str):
    if name in _LAZY:
        from thermolearn.estimators import ais

        return getattr(ais, name)
    raise AttributeError(f"module 'thermolearn.estimators' has no attribute {name!r}")
