"""Runs: orchestration above the samplers and the variational methods.

- :mod:`.sample`: :func:`sample` runs a sampler for burn-in and measurement sweeps, with
  error bars, checkpoints and a progress bar, and returns a :class:`SampleResult`.
- :mod:`.checkpoint`: the atomic run checkpoint a resumed run continues from exactly.
- :mod:`.comparison`: :func:`compare` puts one model at one temperature through every method
  that fits (exact, bounds, approximations, Monte Carlo); :func:`register_method` adds one.
- :mod:`.recall`: associative-memory recall as a run: :func:`thermal_recall` (a sampler at
  T > 0), :func:`recall` (any method) and :func:`restoration_curve`.
- :mod:`.rbm_rg`: :func:`rbm_renormalisation`, the RBM-as-RG experiment (Mehta and
  Schwab 2014) against majority-rule block spins, with checkpoints.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.runs.checkpoint import load_checkpoint, model_fingerprint, save_checkpoint
    from thermolearn.runs.comparison import (
        Comparison,
        ComparisonMethod,
        MethodRow,
        compare,
        methods_that_fit,
        register_method,
        registered_methods,
    )
    from thermolearn.runs.rbm_rg import RBMRenormalisationResult, rbm_renormalisation
    from thermolearn.runs.recall import RECALL_METHODS, RestorationResult, recall, restoration_curve, thermal_recall
    from thermolearn.runs.sample import SampleResult, sample


_EXPORTS = {
    "Comparison": "comparison",
    "ComparisonMethod": "comparison",
    "MethodRow": "comparison",
    "RBMRenormalisationResult": "rbm_rg",
    "RECALL_METHODS": "recall",
    "RestorationResult": "recall",
    "SampleResult": "sample",
    "compare": "comparison",
    "load_checkpoint": "checkpoint",
    "methods_that_fit": "comparison",
    "rbm_renormalisation": "rbm_rg",
    "recall": "recall",
    "restoration_curve": "recall",
    "model_fingerprint": "checkpoint",
    "register_method": "comparison",
    "registered_methods": "comparison",
    "sample": "sample",
    "save_checkpoint": "checkpoint",
    "thermal_recall": "recall",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
