"""Overlaps measured by population annealing on an SK ensemble equal the exact laws within errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.brute_force import all_states
from thermolearn.exact.enumeration import probability_table
from thermolearn.spinglass.ensembles import sk_ensemble
from thermolearn.spinglass.measurements import overlap_study

Z_MAX = 4.0  # the deviations are averaged over 12 instances: Student's t with 11 dof, |t| > 4 at 0.2%


def _exact_moments(model, temperature: float) -> tuple[float, float, np.ndarray]:
    """<q^2>, <q^4> and P(q) of two independent replicas of one instance, by enumeration of pairs."""
    p, _ = probability_table(model, temperature)
    s = all_states(model.n_spins).astype(np.int64)
    q = (s @ s.T) / model.n_spins
    w = np.outer(p, p)
    k = np.rint((q + 1) * model.n_spins / 2).astype(int)
    return float((w * q**2).sum()), float((w * q**4).sum()), np.bincount(k.ravel(), w.ravel(), model.n_spins + 1)


ENSEMBLE = sk_ensemble(10, 12, seed=1)


@pytest.mark.parametrize("temperature", [0.7, 2.0])  # below and above T_c = 1
def test_q2_binder_and_p_of_q_match_enumeration_instance_by_instance(temperature):
    study = overlap_study(ENSEMBLE, temperature, population=400, steps=30, sweeps=4)
    exact = [_exact_moments(m, temperature) for m in ENSEMBLE]
    q2_exact = np.array([e[0] for e in exact])
    q4_exact = np.array([e[1] for e in exact])
    # per-instance deviations from the exact thermal value: their mean is zero within its error
    d = np.array([r["q2"] for r in study.samples]) - q2_exact
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert abs(d.mean()) < Z_MAX * se
    g_exact = 0.5 * (3 - q4_exact.mean() / q2_exact.mean() ** 2)
    assert abs(study.average.binder[0] - g_exact) < Z_MAX * study.average.binder[1]
    assert study.average.chi_sg[0] == pytest.approx(10 * study.average.q2[0])
    p_exact = np.mean([e[2] for e in exact], axis=0)
    assert study.p_of_q.sum() == pytest.approx(1.0)
    # the disorder-averaged P(q) within a few percent of the exact one everywhere
    assert np.abs(study.p_of_q - p_exact).max() < 0.03
    # negative control: the instances' exact <q^2> at half the temperature is rejected by the same error bar
    colder = np.array([_exact_moments(m, 0.5 * temperature)[0] for m in ENSEMBLE])
    d_wrong = np.array([r["q2"] for r in study.samples]) - colder
    assert abs(d_wrong.mean()) > Z_MAX * d_wrong.std(ddof=1) / np.sqrt(d.size)


def test_the_glass_phase_has_a_wider_p_of_q_and_a_larger_binder_ratio():
    cold = overlap_study(ENSEMBLE, 0.5, population=200, steps=20, sweeps=3)
    hot = overlap_study(ENSEMBLE, 3.0, population=200, steps=20, sweeps=3)
    assert cold.average.q2[0] > hot.average.q2[0] + 4 * np.hypot(cold.average.q2[1], hot.average.q2[1])
    assert cold.average.binder[0] > hot.average.binder[0]
    record = cold.as_dict()
    assert {"q_values", "p_of_q", "q2", "chi_sg", "binder", "link_overlap", "samples"} <= set(record)


def test_bad_overlap_studies_are_refused():
    with pytest.raises(ValueError, match="at least 2 samples"):
        overlap_study(sk_ensemble(8, 1), 1.0, population=32)
    with pytest.raises(ValueError, match="at least 16 replicas"):
        overlap_study(ENSEMBLE, 1.0, population=4)
    with pytest.raises(TypeError, match="DisorderEnsemble"):
        overlap_study("sk", 1.0)


def test_a_study_is_its_samples_wherever_they_ran():
    from thermolearn.spinglass.measurements import overlap_sample, overlap_study_from_samples

    ensemble = sk_ensemble(6, 3, seed=2)
    study = overlap_study(ensemble, 0.7, population=16, steps=3, sweeps=1)
    # the samples run alone, last first (as on workers): the same study, number for number
    rows = [overlap_sample(ensemble, k, 0.7, population=16, steps=3, sweeps=1) for k in (2, 1, 0)][::-1]
    again = overlap_study_from_samples(ensemble, 0.7, 16, rows)
    assert again.as_dict() == study.as_dict()
    assert [r["q2"] for r in rows] == [s["q2"] for s in study.samples]
    with pytest.raises(ValueError, match="each of the 3 samples"):
        overlap_study_from_samples(ensemble, 0.7, 16, rows[:2])


def test_too_few_replicas_for_the_overlaps_are_refused_saying_what_is_needed():
    with pytest.raises(ValueError, match="at least 16 replicas: replica i of one population"):
        overlap_study(sk_ensemble(6, 2), 1.0, population=8)
