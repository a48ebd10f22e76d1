"""The public conformance kit: every registered sampler passes ``check_sampler`` (its visited
states follow exp(-E/T)/Z by an autocorrelation-aware chi-square against enumeration, with
negative controls), and deliberately wrong samplers fail it with a readable message."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from thermolearn import Ising
from thermolearn.randomness.xoshiro import next_uniform
from thermolearn.samplers import BoundSweeps, ChainState, HeatBath, Metropolis
from thermolearn.samplers.registry import SAMPLERS
from thermolearn.samplers.rules import ALWAYS_FREE_METROPOLIS, SpinFlipRule, count_below, draw_code
from thermolearn.samplers.single_spin import SingleSpinSampler
from thermolearn.testing import ConformanceReport, check_sampler


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_registered_sampler_draws_from_the_boltzmann_distribution(name):
    report = check_sampler(SAMPLERS[name].example())
    assert isinstance(report, ConformanceReport) and report.passed
    assert report.cases, "at least one model of the kit must apply"
    assert report.as_dict()["passed"] is True


class _TooHot(Metropolis):
    """Metropolis that sweeps at 1.1 T while claiming T: a subtle bug a kit must catch."""

    def sweep(self, model, state, betas, n_sweeps=1):
        return super().sweep(model, state, np.asarray(betas) / 1.1, n_sweeps)


def test_a_sampler_at_a_ten_percent_wrong_temperature_fails_with_a_readable_message():
    with pytest.raises(AssertionError, match="do not follow exp") as err:
        check_sampler(_TooHot())
    assert "FAIL" in str(err.value) and "chi-square p" in str(err.value)


class _HalfEnergy(HeatBath):
    """Heat bath whose running energy counts each flip twice: broken bookkeeping."""

    def sweep(self, model, state, betas, n_sweeps=1):
        before = state.energy.copy()
        st = super().sweep(model, state, betas, n_sweeps)
        state.energy += state.energy - before
        return st


def test_a_sampler_whose_running_energy_drifts_fails():
    with pytest.raises(AssertionError, match="running energy"):
        check_sampler(_HalfEnergy(), models={"ring": (Ising.lattice(8, field=0.2), 1.5)})


class _BoundTwice(Metropolis):
    """Metropolis whose bound per-sweep call sweeps twice: a bound object that drifted from sweep."""

    def bind(self, model, state, betas):
        class Twice(BoundSweeps):
            __slots__ = ()

            def sweep(self, n_sweeps=1):
                return super().sweep(2 * n_sweeps)

        return Twice(self, model, state, betas)


def test_a_bound_call_that_differs_from_sweep_fails():
    report = check_sampler(_BoundTwice(), n_samples=300, raise_on_failure=False)
    assert not report.passed
    assert all(any("bind(...).sweep() differs" in p for p in case.problems) for case in report.cases)


def test_a_non_ergodic_sampler_fails_and_the_report_can_be_read_without_raising():
    # sequential Metropolis that makes every zero-cost flip (the textbook rule) on the frustrated
    # 3x3 antiferromagnet without a field splits into closed classes of states
    class AlwaysFree(Metropolis):
        name = "metropolis-always-free"
        rule = ALWAYS_FREE_METROPOLIS

    models = {"3x3 antiferromagnet": (Ising.lattice((3, 3), coupling=-1.0), 1.5)}
    report = check_sampler(AlwaysFree("sequential"), models=models, raise_on_failure=False)
    assert not report.passed and report.failures[0].p_value < report.alpha
    assert check_sampler(HeatBath("sequential"), models=models).passed
    assert check_sampler(Metropolis("sequential"), models=models).passed  # its free flips are random


def test_declared_capabilities_choose_the_models():
    class NoFields(Metropolis):
        supports_fields = False

    report = check_sampler(NoFields(), n_samples=300, raise_on_failure=False)
    assert all("field" not in c.model for c in report.cases)
    assert any("supports_fields" in reason for _, reason in report.skipped)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="Sampler"):
        check_sampler(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_samples"):
        check_sampler(Metropolis(), n_samples=0)


# ---------------------------------------------------------------- a new rule, in this one file
@njit(inline="always")
def _barker_decide(si, phi, beta, s0, s1, s2, s3):
    """Barker's rule: flip with probability 1 / (1 + exp(beta dE))."""
    de = 2.0 * si * phi
    u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    x = beta * de
    if x > 0:
        ex = math.exp(-x)
        flip = u * (1.0 + ex) < ex
    else:
        flip = u * (1.0 + math.exp(x)) < 1.0
    return flip, de, s0, s1, s2, s3


@njit(inline="always")
def _barker_lattice_code(si, phi, beta):
    x = beta * 2.0 * si * phi
    if x > 0:
        ex = math.exp(-x)
        return draw_code(count_below(1.0 + ex, ex), False)
    return draw_code(count_below(1.0 + math.exp(x), 1.0), False)


class Barker(SingleSpinSampler):
    name = "barker"
    rule = SpinFlipRule("barker", _barker_decide, _barker_lattice_code)


def test_a_rule_added_in_one_file_passes_and_keeps_the_bit_identical_lattice_fast_path():
    report = check_sampler(Barker(order="random"))
    assert report.passed
    model = Ising.lattice((6, 4), coupling=(1.0, 0.5), field=0.25)
    plain = Ising(model.couplings, model.fields)
    assert Barker().lattice_plan(model) is not None and Barker().lattice_plan(plain) is None
    a, b = ChainState.new(model, 3, seed=4), ChainState.new(plain, 3, seed=4)
    betas = np.array([0.3, 0.9, 2.0])
    Barker().sweep(model, a, betas, 5)
    Barker().sweep(plain, b, betas, 5)
    for x, y in zip(a.arrays().values(), b.arrays().values()):
        np.testing.assert_array_equal(x, y)


@njit(inline="always")
def _half_delta_decide(si, phi, beta, s0, s1, s2, s3):
    """A broken Metropolis: accepts with exp(-beta s_i phi_i), forgetting the 2 in dE."""
    de = 2.0 * si * phi
    flip = de <= 0.0
    if not flip:
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        flip = u < math.exp(-beta * si * phi)
    return flip, de, s0, s1, s2, s3


class _BrokenAcceptance(SingleSpinSampler):
    name = "broken"
    rule = SpinFlipRule("broken-half-delta", _half_delta_decide)  # no lattice_code: generic kernel only


def test_a_rule_with_a_broken_acceptance_fails():
    assert _BrokenAcceptance().lattice_plan(Ising.lattice((4, 4))) is None
    with pytest.raises(AssertionError, match="do not follow exp"):
        check_sampler(_BrokenAcceptance())


class _ExtraDrawPerCall(SingleSpinSampler):
    """Claims sweep_blocks but perturbs each chain's generator once per call."""

    name = "extra-draw"
    sweep_blocks = True

    def sweep(self, model, state, betas, n_sweeps=1):
        state.rng[:, 0] ^= np.uint64(1 << 40)  # a different, still valid, stream after every call
        return super().sweep(model, state, betas, n_sweeps)


def test_a_sampler_that_breaks_its_sweep_blocks_promise_fails():
    with pytest.raises(AssertionError, match="declares sweep_blocks, but one call of 6 sweeps differs"):
        check_sampler(_ExtraDrawPerCall(), n_samples=200)


def test_a_subclass_with_its_own_sweep_makes_no_sweep_blocks_promise_unless_it_says_so():
    class OwnSweep(SingleSpinSampler):
        def sweep(self, model, state, betas, n_sweeps=1):
            return super().sweep(model, state, betas, n_sweeps)

    class Inherits(SingleSpinSampler):
        pass

    assert SingleSpinSampler.sweep_blocks and Inherits.sweep_blocks
    assert not OwnSweep.sweep_blocks and _ExtraDrawPerCall.sweep_blocks
