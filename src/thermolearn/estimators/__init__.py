"""Error bars for Monte Carlo runs: autocorrelation times, blocking, jackknife, observables.

- :mod:`.autocorrelation`: rho(t), tau_int with Sokal's window, effective sample size.
- :mod:`.binning`: Flyvbjerg-Petersen blocking analysis with plateau detection.
- :mod:`.jackknife`: delete-one-block jackknife for any function of means.
- :mod:`.binder`: T_c from the crossing of Binder cumulants of several sizes.
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
    "observables_from_series",
    "observables_from_states",
]
