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
- :mod:`.sweep`: :func:`sweep` runs a registered task (:data:`TASKS`: ising,
  population-annealing, groundstate) over a grid, serially, on a process pool or on Dask
  (:func:`open_executor`), seeds from the grid coordinates, one atomic file per point and a
  manifest, so a rerun computes only the missing points; :func:`load_config` reads the
  CONFIG.toml of ``thermolearn sweep``.
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
    from thermolearn.runs.sweep import (
        TASKS,
        SweepConfig,
        SweepResult,
        SweepTask,
        grid_points,
        load_config,
        open_executor,
        point_seed,
        register_task,
        sweep,
    )


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
    "SweepConfig": "sweep",
    "SweepResult": "sweep",
    "SweepTask": "sweep",
    "TASKS": "sweep",
    "grid_points": "sweep",
    "load_config": "sweep",
    "open_executor": "sweep",
    "point_seed": "sweep",
    "register_task": "sweep",
    "sweep": "sweep",
    "thermal_recall": "recall",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
