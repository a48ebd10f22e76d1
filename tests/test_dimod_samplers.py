"""thermolearn's dimod samplers pass dimod's own conformance kit, keep every energy exact, and
find known ground states."""

import math
import unittest
import warnings

import numpy as np
import pytest

dimod = pytest.importorskip("dimod")

from dimod.testing import (  # noqa: E402
    assert_consistent_bqm,
    assert_sampler_api,
    assert_sampleset_energies,
    load_sampler_bqm_tests,
)

from tests.brute_force import all_states  # noqa: E402
from thermolearn.dimod import (  # noqa: E402
    EnumerationSampler,
    ParallelTemperingSampler,
    PopulationAnnealingSampler,
    SimulatedAnnealingSampler,
)

SAMPLERS = (SimulatedAnnealingSampler, ParallelTemperingSampler, PopulationAnnealingSampler, EnumerationSampler)


# dimod's conformance kit: empty, one-variable and path BQMs of every BQM class, SPIN and BINARY,
# with odd labels and offsets, through sample, sample_ising and sample_qubo
@load_sampler_bqm_tests(SimulatedAnnealingSampler)
class TestSimulatedAnnealingConformance(unittest.TestCase):
    pass


@load_sampler_bqm_tests(ParallelTemperingSampler)
class TestParallelTemperingConformance(unittest.TestCase):
    pass


@load_sampler_bqm_tests(PopulationAnnealingSampler)
class TestPopulationAnnealingConformance(unittest.TestCase):
    pass


@load_sampler_bqm_tests(EnumerationSampler)
class TestEnumerationConformance(unittest.TestCase):
    pass


@pytest.mark.parametrize("cls", SAMPLERS)
def test_sampler_api_and_declared_parameters(cls):
    sampler = cls()
    assert_sampler_api(sampler)
    assert isinstance(sampler, dimod.Sampler)
    assert isinstance(sampler.parameters, dict) and isinstance(sampler.properties, dict)
    for name, props in sampler.parameters.items():
        assert all(p in sampler.properties for p in props), name


def _random_bqm(n, vartype, seed, labels=None):
    rng = np.random.default_rng(seed)
    labels = labels or [f"v{k}" for k in range(n)]
    linear = {v: float(rng.normal()) for v in labels}
    quadratic = {
        (labels[i], labels[j]): float(rng.normal()) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.6
    }
    bqm = dimod.BinaryQuadraticModel(linear, quadratic, float(rng.normal()), vartype)
    assert_consistent_bqm(bqm)
    return bqm


def _all_energies(bqm):
    """Every state of ``bqm`` and its energy, by dimod itself."""
    labels = list(bqm.variables)
    s = all_states(len(labels))
    x = s if bqm.vartype is dimod.SPIN else (s + 1) // 2
    return x, labels, bqm.energies((x, labels))


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_enumeration_lists_every_state_with_its_exact_energy_lowest_first(vartype):
    bqm = _random_bqm(9, vartype, seed=3, labels=[("q", k) for k in range(8)] + ["z"])
    sampleset = EnumerationSampler().sample(bqm)
    assert_sampleset_energies(sampleset, bqm, precision=10)
    _, _, expected = _all_energies(bqm)
    np.testing.assert_allclose(sampleset.record.energy, np.sort(expected), rtol=0, atol=1e-10)
    assert len({tuple(row) for row in sampleset.record.sample}) == 2**9, "every state once"
    assert sampleset.first.energy == pytest.approx(expected.min(), abs=1e-12)
    assert sampleset.info["ground_energy"] == pytest.approx(expected.min(), abs=1e-12)
    lowest = EnumerationSampler().sample(bqm, num_states=5)
    np.testing.assert_allclose(lowest.record.energy, np.sort(expected)[:5], atol=1e-10)


def test_enumeration_counts_degenerate_ground_states():
    # a ferromagnetic ring without field: all up and all down, energy -n + offset
    ring = dimod.BinaryQuadraticModel.from_ising({}, {(k, (k + 1) % 6): -1.0 for k in range(6)}, offset=2.0)
    sampleset = EnumerationSampler().sample(ring)
    assert sampleset.info["degeneracy"] == 2 and sampleset.info["ground_energy"] == pytest.approx(-4.0)
    ground = sampleset.lowest()
    assert len(ground) == 2
    assert {tuple(row) for row in ground.record.sample} == {(1,) * 6, (-1,) * 6}


@pytest.mark.parametrize("scale", [1.0, 1e-10, 1e8])
def test_degeneracy_counts_every_ground_state_at_any_scale_and_any_num_states(scale):
    # an antiferromagnetic triangle: six of the eight states are ground states, at any coupling scale
    # (1e-10 couplings read 8 and num_states = 1 read 1, up to 0.6.11)
    triangle = dimod.BinaryQuadraticModel.from_ising({}, {(0, 1): scale, (1, 2): scale, (0, 2): scale})
    for keep in (None, 1, 3):
        info = EnumerationSampler().sample(triangle, num_states=keep).info
        assert info["degeneracy"] == 6 and info["num_states"] == (8 if keep is None else keep)
        assert info["ground_energy"] == pytest.approx(-scale, rel=1e-12, abs=0.0)
    tilted = dimod.BinaryQuadraticModel.from_ising({0: 1e-3 * scale}, {(0, 1): scale, (1, 2): scale, (0, 2): scale})
    assert EnumerationSampler().sample(tilted).info["degeneracy"] == 3  # the field splits the six


def test_enumeration_refuses_more_than_twenty_variables():
    bqm = dimod.BinaryQuadraticModel.from_ising({k: 0.1 for k in range(21)}, {})
    with pytest.raises(ValueError, match="at most 20"):
        EnumerationSampler().sample(bqm)


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
@pytest.mark.parametrize("cls", [SimulatedAnnealingSampler, ParallelTemperingSampler])
def test_optimisers_find_the_exact_ground_state_of_a_small_glass(cls, vartype):
    bqm = _random_bqm(12, vartype, seed=7)
    _, _, expected = _all_energies(bqm)
    sampleset = cls().sample(bqm, num_reads=8, num_sweeps=200, seed=5)
    assert_sampleset_energies(sampleset, bqm)
    assert sampleset.vartype is bqm.vartype and len(sampleset) == 8
    assert sampleset.first.energy == pytest.approx(expected.min(), abs=1e-9)
    assert set(sampleset.info) >= {"beta_range", "seed", "timing"}
    assert set(sampleset.info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


def test_swapping_the_import_from_dwave_samplers_is_all_it_takes():
    # the example of dwave-samplers' documentation, call for call
    sampler = SimulatedAnnealingSampler()
    h = {"a": 0.0, "b": 0.0, "c": 0.0}
    J = {("a", "b"): 1.0, ("b", "c"): 1.0, ("a", "c"): 1.0}
    assert sampler.sample_ising(h, J, num_reads=10).first.energy == -1.0
    bqm = dimod.BinaryQuadraticModel({"a": 0.5, "b": -0.5}, {("a", "b"): -1}, 0.0, dimod.SPIN)
    sampleset = sampler.sample(bqm, seed=1234, beta_range=[0.1, 4.2], num_sweeps=20, beta_schedule_type="geometric")
    assert sampleset.info["beta_range"] == pytest.approx([0.1, 4.2])
    first = [sampler.sample(bqm, seed=88).record.sample[0].tolist() for _ in range(2)]
    assert first[0] == first[1]
    for kwargs in (
        {"beta_schedule_type": "linear", "num_sweeps": 30, "num_sweeps_per_beta": 3},
        {"beta_schedule_type": "custom", "beta_schedule": [0.1, 1.0, 3.0], "num_sweeps_per_beta": 2},
        {"randomize_order": True, "proposal_acceptance_criteria": "Gibbs", "num_reads": 4},
    ):
        assert_sampleset_energies(sampler.sample(bqm, seed=3, **kwargs), bqm)


@pytest.mark.parametrize("cls", [SimulatedAnnealingSampler, ParallelTemperingSampler, PopulationAnnealingSampler])
def test_seeds_reproduce_and_none_records_the_seed_it_drew(cls):
    bqm = _random_bqm(10, "SPIN", seed=1)
    kwargs = {"num_reads": 16, "num_sweeps": 20}
    if cls is PopulationAnnealingSampler:
        kwargs["num_sweeps_per_beta"] = 2
    a = cls().sample(bqm, seed=11, **kwargs)
    b = cls().sample(bqm, seed=11, **kwargs)
    np.testing.assert_array_equal(a.record.sample, b.record.sample)
    free = cls().sample(bqm, **kwargs)
    again = cls().sample(bqm, seed=free.info["seed"], **kwargs)
    np.testing.assert_array_equal(free.record.sample, again.record.sample)


def test_initial_states_in_the_callers_vartype_set_the_reads():
    bqm = _random_bqm(6, "BINARY", seed=4)
    x, labels, energies = _all_energies(bqm)
    best = x[int(np.argmin(energies))]
    starts = dimod.SampleSet.from_samples_bqm(([best, best, best], labels), bqm)
    # very cold from the start: a ground state stays put (and the final quench keeps it)
    sampleset = SimulatedAnnealingSampler().sample(
        bqm, initial_states=starts, beta_schedule_type="custom", beta_schedule=[50.0] * 5, seed=0
    )
    assert len(sampleset) == 3
    for row in sampleset.samples():
        assert [row[v] for v in labels] == list(best)
    tiled = SimulatedAnnealingSampler().sample(
        bqm, initial_states=starts, initial_states_generator="tile", num_reads=7, num_sweeps=10, seed=0
    )
    assert len(tiled) == 7
    with pytest.raises(ValueError):
        SimulatedAnnealingSampler().sample(bqm, initial_states=starts, initial_states_generator="none", num_reads=5)


def test_population_annealing_samples_boltzmann_and_estimates_log_z():
    bqm = _random_bqm(8, "SPIN", seed=2)
    _, _, energies = _all_energies(bqm)
    beta = 1.5
    w = np.exp(-beta * (energies - energies.min()))
    exact_log_z = math.log(w.sum()) - beta * energies.min()
    exact_energy = float((w * energies).sum() / w.sum())
    runs = [
        PopulationAnnealingSampler().sample(
            bqm, num_reads=200, num_sweeps=100, num_sweeps_per_beta=5, beta_range=[0.05, beta], seed=seed
        )
        for seed in range(6)
    ]
    log_z = np.array([r.info["log_z"] for r in runs])
    mean_e = np.array([r.record.energy.mean() for r in runs])
    for values, exact in ((log_z, exact_log_z), (mean_e, exact_energy)):
        stderr = values.std(ddof=1) / math.sqrt(values.size)
        assert abs(values.mean() - exact) < 4 * stderr + 1e-3 * abs(exact), (values, exact)
    # one population has no error bar of its own; this one is large enough to say nothing more
    assert all(r.info["log_z_stderr"] is None and r.info["warnings"] == [] for r in runs)


def test_population_annealing_says_when_its_population_is_too_small():
    bqm = _random_bqm(8, "SPIN", seed=2)
    with pytest.warns(RuntimeWarning, match="too small for ln Z"):
        small = PopulationAnnealingSampler().sample(
            bqm, num_reads=4, num_sweeps=100, num_sweeps_per_beta=5, beta_range=[0.05, 1.5], seed=0
        )
    assert len(small.info["warnings"]) == 1 and "at least 16 replicas" in small.info["warnings"][0]


def test_population_annealing_of_no_variables_gives_the_exact_log_z():
    empty = dimod.BinaryQuadraticModel({}, {}, 1.5, "SPIN")
    info = PopulationAnnealingSampler().sample(empty, num_reads=3, beta_range=[0.1, 2.0]).info
    assert info["log_z"] == pytest.approx(-3.0) and info["log_z_stderr"] == 0.0
    assert info["lowest_energy_seen"] == 1.5 and info["warnings"] == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1},
        {"seed": 2**32},
        {"seed": 1.5},
        {"num_reads": 0},
        {"num_sweeps": 10, "num_sweeps_per_beta": 3},
        {"beta_schedule_type": "cosine"},
        {"beta_schedule_type": "custom"},
        {"beta_range": [1.0]},
        {"proposal_acceptance_criteria": "Glauber"},
    ],
)
def test_bad_parameters_are_refused_by_name(kwargs):
    bqm = _random_bqm(4, "SPIN", seed=0)
    with pytest.raises((ValueError, TypeError)):
        SimulatedAnnealingSampler().sample(bqm, **kwargs)


def test_unknown_parameters_warn_as_dimod_samplers_do():
    bqm = _random_bqm(3, "SPIN", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SimulatedAnnealingSampler().sample(bqm, num_sweeps=10, annealing_time=20.0)
    assert any(issubclass(w.category, dimod.exceptions.SamplerUnknownArgWarning) for w in caught)


@pytest.mark.parametrize("cls", [SimulatedAnnealingSampler, ParallelTemperingSampler])
def test_interrupt_function_stops_between_reads_and_keeps_those_finished(cls):
    # dwave-samplers' interrupt_function (up to 0.6.9 ignored with a warning): called as reads
    # finish; True returns the reads done so far, each as in the whole run
    bqm = _random_bqm(12, "SPIN", seed=5)
    kwargs = {"num_reads": 40, "num_sweeps": 30, "seed": 7}
    whole = cls().sample(bqm, **kwargs)
    calls = []

    def stop_at_second_call():
        calls.append(1)
        return len(calls) >= 2

    cut = cls().sample(bqm, interrupt_function=stop_at_second_call, **kwargs)
    assert len(calls) == 2
    assert 1 <= len(cut) < len(whole)
    np.testing.assert_array_equal(cut.record.sample, whole.record.sample[: len(cut)])
    assert_sampleset_energies(cut, bqm)
    never = cls().sample(bqm, interrupt_function=lambda: False, **kwargs)
    np.testing.assert_array_equal(never.record.sample, whole.record.sample)
    assert "interrupt_function" in cls().parameters
    with pytest.raises(TypeError, match="interrupt_function"):
        cls().sample(bqm, interrupt_function=True, **kwargs)
