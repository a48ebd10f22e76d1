"""Honest PIMC error bars: over several seeds the z-scores against the exact Trotterised values
(:func:`trotter_exact`) are of order one, where the world lines mix slowly the error bars grow to
the spread of the chain means and the result says it is not reliable; plus the p = 1 limit of the
QBM's mode-mixture data (a closed form)."""

import math
import warnings

import numpy as np
import pytest

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.models import Ising
from thermolearn.quantum.pimc import PIMCRun, run_pimc, trotter_exact
from thermolearn.quantum.qbm import mode_mixture

RING_6 = Ising.lattice(6, 1.0, 0.0, periodic=True)
RING_4 = Ising.lattice(4, 1.0, 0.0, periodic=True)


def _z_scores(model, gamma, temperature, slices, sweeps, seeds, names=("energy", "sx", "szsz"), **kwargs):
    """z = (sampled - exact) / stderr of each of ``names`` for each seed, and the runs' reliable flags."""
    exact = trotter_exact(model, gamma, temperature, slices)
    z: dict[str, list[float]] = {name: [] for name in names}
    reliable = []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the flag is checked instead
            result = run_pimc(model, gamma, temperature, slices, sweeps, seed=seed, **kwargs)
        reliable.append(result.reliable)
        for name in z:
            est = getattr(result, name)
            z[name].append((est.mean - getattr(exact, name)) / est.stderr)
    return {name: np.array(v) for name, v in z.items()}, np.array(reliable)


# ------------------------------------------------------------------------ segment moves (heat bath)
def test_world_lines_keep_moving_at_very_high_temperature():
    # T = 1e4, M = 2: a = beta Gamma / M = 5e-5, every segment's |dS| is tiny. Metropolis took every
    # such flip, a sweep was one deterministic global flip, and each chain kept one classical energy
    run = PIMCRun(RING_6, 1.0, 1e4, 2, chains=4, seed=0)
    run.advance(200, record=False)
    run.advance(2000)
    ecl = run.arrays()["series_classical_energy"]
    for chain in ecl:
        # the ring's classical energies are -6, -2, 2 and 6; near infinite temperature all occur
        assert len(np.unique(np.round(chain, 9))) >= 3
    # <E_cl> = E_M + Gamma N <sx>_M ~ 1e-3 here (the slices are nearly equal: variance ~ 6 per sweep,
    # 6 independent bonds); 0.6.10's chains sat at +-2 or +-6 for the whole run
    means = ecl.mean(axis=1)
    assert np.all(np.abs(means) < 5.0 * math.sqrt(6.0 / ecl.shape[1])), means


@pytest.mark.parametrize(("temperature", "slices"), [(100.0, 4), (20.0, 4)])
def test_high_temperature_z_scores_against_the_exact_trotterised_ring_are_honest(temperature, slices):
    # 0.6.10 (Metropolis segment flips): rms z 4.6 (max 15) at T = 100 and 2.1 at T = 20 over 16 seeds.
    # (<sx> at T = 100 rests on a few rare kinks: runs that saw none are flagged, see below)
    z, _ = _z_scores(RING_6, 1.0, temperature, slices, 3000, range(16), names=("energy", "szsz"))
    for name in z:
        rms = math.sqrt(float(np.mean(z[name] ** 2)))
        assert rms < 1.6 and np.abs(z[name]).max() < 4.0, (name, np.round(z[name], 2))


def test_a_segment_that_keeps_the_weight_flips_half_the_time():
    # h = 0, J = 0: every segment and every ring has dS = 0 exactly; heat bath flips each with
    # probability 1/2 (Metropolis flipped all of them, every sweep)
    free = Ising.from_dense(np.zeros((3, 3)))
    run = PIMCRun(free, 1.0, 1e3, 2, chains=8, seed=1)
    run.advance(500, record=False)
    per_sweep = run.accepted[1] / (500 * 8)
    # about one segment per site (the bonds are almost all on at a = 5e-4), each flipped half the time
    assert per_sweep == pytest.approx(1.5, abs=0.1)


# ------------------------------------------------------------------------ error bars and reliability
def test_a_slow_mode_is_seen_through_the_chain_spread_and_flagged():
    # 3x3 periodic ferromagnet, h = 0.3, Gamma = 1.5, T = 1, M = 6: the chains visit the reversed
    # (field-opposed) state rarely and for long; each chain's tau_int misses it, so the pooled error
    # was 2-4x too small (z = -10 at 0.6.10). With 16 chains the spread of the chain means carries it
    model = Ising.lattice((3, 3), 1.0, 0.3, periodic=True)
    exact = trotter_exact(model, 1.5, 1.0, 6).energy
    for seed in range(3):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_pimc(model, 1.5, 1.0, 6, 20000, chains=16, seed=seed)
        runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        assert len(runtime) == 1 and "chain" in str(runtime[0].message) and "energy" in str(runtime[0].message)
        assert not result.reliable and result.as_dict()["reliable"] is False
        z = (result.energy.mean - exact) / result.energy.stderr
        assert abs(z) < 3.5, (seed, result.energy, exact)


def test_the_error_bar_is_at_least_the_spread_of_the_chain_means_and_disagreement_is_named():
    run = PIMCRun(RING_6, 1.0, 1.0, 4, chains=4, seed=0)
    run.advance(10)
    rng = np.random.default_rng(0)
    n = 4000
    for name in run.series:
        x = rng.normal(size=(4, n))
        run.series[name] = [x]
    # a slow mode only chain 3 saw: its mean sits 20 pooled errors away from the others'
    shifted = rng.normal(size=(4, n))
    shifted[3] += 1.0
    run.series["szsz"] = [shifted]
    with pytest.warns(RuntimeWarning, match=r"scatter more than the pooled error bars allow on szsz") as record:
        result = run.result()
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    means = shifted.mean(axis=1)
    pooled = integrated_autocorrelation_time(shifted).stderr
    assert result.szsz.stderr == pytest.approx(np.std(means, ddof=1) / 2, rel=1e-12) and result.szsz.stderr > 4 * pooled
    assert not result.reliable
    # chains that agree: the larger of the pooled error (~ sigma / sqrt(4 n)) and the spread
    energy = run.series["energy"][0]
    expected = max(integrated_autocorrelation_time(energy).stderr, np.std(energy.mean(axis=1), ddof=1) / 2)
    assert result.energy.stderr == pytest.approx(expected, rel=1e-12)
    assert result.energy.stderr == pytest.approx(1.0 / math.sqrt(4 * n), rel=0.5)


def test_a_run_too_short_for_its_autocorrelation_time_warns_once_and_is_not_reliable():
    # local moves alone at T = 0.05: tau_int of the energy ~ 100 sweeps, 4000 sweeps are < 50 tau;
    # 0.6.10 swallowed the estimator's warning and returned no flag
    with pytest.warns(RuntimeWarning, match="too short for a reliable autocorrelation time") as record:
        result = run_pimc(RING_4, 0.5, 0.05, 16, 4000, seed=1, sampler="metropolis")
    runtime = [w for w in record if issubclass(w.category, RuntimeWarning)]
    assert len(runtime) == 1 and "energy (tau_int ~" in str(runtime[0].message)
    assert result.reliable is False and result.as_dict()["reliable"] is False


def test_a_well_mixed_run_is_reliable_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = run_pimc(RING_6, 1.0, 1.0, 8, 4000, seed=3)
    assert result.reliable and result.as_dict()["reliable"] is True


def test_an_sx_that_never_fluctuated_is_not_reliable():
    # T = 1e4, M = 2: a kink pair has weight ~ tanh(a)^2 = 2.5e-9, yet kinks carry half of <sx>_M
    # (each moves it by ~ 1 / (M sinh 2a)); a run that saw none reported sx +- 0, z = infinity
    exact = trotter_exact(RING_6, 1.0, 1e4, 2).sx
    with pytest.warns(RuntimeWarning, match="sx never fluctuated"):
        result = run_pimc(RING_6, 1.0, 1e4, 2, 1000, seed=0)
    assert result.sx.stderr == 0 and result.sx.mean != pytest.approx(exact, rel=0.1)
    assert not result.reliable


def test_low_temperature_szsz_z_scores_are_honest_over_seeds():
    # ring of 4, Gamma = 0.5, T = 0.05, M = 16, 8 chains: <sz sz> has a small slow component the
    # pooled tau_int cuts off; 0.6.10 gave rms z = 2.2 over 16 seeds (max 4.8)
    z, _ = _z_scores(RING_4, 0.5, 0.05, 16, 6000, range(12), chains=8)
    for name in ("energy", "sx", "szsz"):
        rms = math.sqrt(float(np.mean(z[name] ** 2)))
        assert rms < 1.6 and np.abs(z[name]).max() < 4.0, (name, np.round(z[name], 2))


def test_the_pimc_command_reports_reliable_in_its_json(tmp_path):
    import json

    from thermolearn.cli.main import main

    out = tmp_path / "pimc.json"
    argv = ["quantum", "pimc", "--chain", "6", "--field", "1", "--temperature", "1", "--slices", "8"]
    assert main([*argv, "--sweeps", "2000", "--seed", "3", "--no-progress", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["reliable"] is True and record["runs"][0]["reliable"] is True


# ------------------------------------------------------------------------ QBM data at p = 1
@pytest.mark.parametrize(("n_visible", "n_modes", "seed"), [(3, 2, 0), (5, 4, 1), (2, 6, 3)])
def test_mode_mixture_at_p_one_puts_one_over_m_on_each_centre(n_visible, n_modes, seed):
    # p = 1: every spin agrees with its centre, q(v) = (1/M) #{k: v = centre_k}; 0.6.10 returned NaN
    # (0 * log 0 at distance 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q, centres = mode_mixture(n_visible, n_modes, 1.0, seed=seed)
    index = ((1 - centres.astype(np.int64)) // 2) @ (1 << np.arange(n_visible))
    expected = np.bincount(index, minlength=2**n_visible) / n_modes
    np.testing.assert_allclose(q, expected, rtol=1e-14, atol=0)
    # and the limit p -> 1 of the general formula
    near, _ = mode_mixture(n_visible, n_modes, 1.0 - 1e-12, seed=seed)
    np.testing.assert_allclose(near, expected, atol=1e-10)
