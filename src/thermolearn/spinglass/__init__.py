"""Spin glasses: disorder ensembles, replica overlaps, population annealing, ground-state search.

- :class:`DisorderEnsemble`, :func:`ea_ensemble`, :func:`sk_ensemble` — many Edwards-Anderson
  (periodic square / cubic, +-J or Gaussian) or Sherrington-Kirkpatrick instances, one seed each;
  :func:`edwards_anderson_instance`, :func:`sample_seeds`.
- :func:`overlap`, :func:`link_overlap`, :func:`overlap_distribution`, :func:`binder_ratio`,
  :func:`disorder_average` — q, q_l, P(q), chi_SG = N [<q^2>] and the Binder ratio of q with
  jackknife error bars over samples; :func:`overlap_study` — all of them measured on an ensemble at a
  temperature from pairs of independent annealed populations (:class:`OverlapStudy`).
- :func:`population_annealing` — ln Z(beta) = N ln 2 + sum_k ln Q_k and <E> from independent
  populations with error bars, family entropy and rho_f, rho_t (:class:`PAResult`).
- :func:`tempering_with_houdayer` — parallel tempering with two replicas per temperature and
  Houdayer cluster moves (:class:`TemperingRun`: energies and overlaps per sweep);
  :func:`equilibration_check` — the logarithmic-binning test of a series.
- :func:`exact_ground_energy`, :func:`search_ground_state`, :func:`ground_state_study`,
  :func:`hit_curve`, :func:`wilson_interval` — the probability of reaching the exact ground state
  against sweeps for SA, PT and population annealing.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.spinglass.ensembles import (
        COUPLING_KINDS,
        ENSEMBLE_KINDS,
        DisorderEnsemble,
        SampleCheckpoint,
        derived_seed,
        ea_ensemble,
        edwards_anderson_instance,
        sample_seeds,
        sk_ensemble,
    )
    from thermolearn.spinglass.groundstate import (
        ALGORITHMS,
        MAX_EXACT_SPINS,
        GroundStateStudy,
        exact_ground_energy,
        ground_state_study,
        hit_curve,
        search_ground_state,
        wilson_interval,
    )
    from thermolearn.spinglass.houdayer import (
        EquilibrationCheck,
        TemperingRun,
        equilibration_check,
        tempering_with_houdayer,
    )
    from thermolearn.spinglass.measurements import (
        OverlapStudy,
        overlap_sample,
        overlap_study,
        overlap_study_from_samples,
    )
    from thermolearn.spinglass.overlaps import (
        DisorderAverage,
        binder_ratio,
        disorder_average,
        disorder_average_of_moments,
        link_overlap,
        overlap,
        overlap_distribution,
    )
    from thermolearn.spinglass.population_annealing import (
        MIN_POPULATION,
        MIN_RUNS,
        PAResult,
        PopulationRun,
        population_annealing,
        systematic_resample,
    )


_EXPORTS = {
    "COUPLING_KINDS": "ensembles",
    "ENSEMBLE_KINDS": "ensembles",
    "DisorderEnsemble": "ensembles",
    "SampleCheckpoint": "ensembles",
    "derived_seed": "ensembles",
    "ea_ensemble": "ensembles",
    "edwards_anderson_instance": "ensembles",
    "sample_seeds": "ensembles",
    "sk_ensemble": "ensembles",
    "ALGORITHMS": "groundstate",
    "MAX_EXACT_SPINS": "groundstate",
    "GroundStateStudy": "groundstate",
    "exact_ground_energy": "groundstate",
    "ground_state_study": "groundstate",
    "hit_curve": "groundstate",
    "search_ground_state": "groundstate",
    "wilson_interval": "groundstate",
    "EquilibrationCheck": "houdayer",
    "TemperingRun": "houdayer",
    "equilibration_check": "houdayer",
    "tempering_with_houdayer": "houdayer",
    "OverlapStudy": "measurements",
    "overlap_sample": "measurements",
    "overlap_study": "measurements",
    "overlap_study_from_samples": "measurements",
    "DisorderAverage": "overlaps",
    "binder_ratio": "overlaps",
    "disorder_average": "overlaps",
    "disorder_average_of_moments": "overlaps",
    "link_overlap": "overlaps",
    "overlap": "overlaps",
    "overlap_distribution": "overlaps",
    "MIN_POPULATION": "population_annealing",
    "MIN_RUNS": "population_annealing",
    "PAResult": "population_annealing",
    "PopulationRun": "population_annealing",
    "population_annealing": "population_annealing",
    "systematic_resample": "population_annealing",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
