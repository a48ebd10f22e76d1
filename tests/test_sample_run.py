"""``sample``: bookkeeping, reproducibility, error bars against exact answers, and
checkpoints that resume to results identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import enumerate_exact
from thermolearn.runs import sample
from thermolearn.samplers import HeatBath, Metropolis


@pytest.fixture(scope="module")
def small_model():
    return Ising.sherrington_kirkpatrick(10, field=0.2, seed=7)


def test_recorded_series_equal_the_energy_and_magnetisation_of_recorded_states(small_model):
    r = sample(small_model, "metropolis", 1.0, sweeps=50, burn_in=5, n_chains=3, seed=1, record_states=True)
    assert r.energy.shape == (3, 50) and r.states.shape == (3, 50, 10)
    np.testing.assert_allclose(r.energy, small_model.energy(r.states.reshape(-1, 10)).reshape(3, 50), atol=1e-10)
    np.testing.assert_array_equal(r.magnetization, r.states.sum(axis=2))
    np.testing.assert_allclose(r.mean_spin[0], r.states.reshape(-1, 10).mean(axis=0), atol=1e-12)


def test_same_seed_same_run_and_different_seed_different_run(small_model):
    a = sample(small_model, "heatbath", 1.5, sweeps=100, seed=3, n_chains=2)
    b = sample(small_model, "heatbath", 1.5, sweeps=100, seed=3, n_chains=2)
    c = sample(small_model, "heatbath", 1.5, sweeps=100, seed=4, n_chains=2)
    np.testing.assert_array_equal(a.energy, b.energy)
    assert not np.array_equal(a.energy, c.energy)
    assert not np.array_equal(a.energy[0], a.energy[1]), "chains are independent"


def test_thinning_records_every_kth_sweep(small_model):
    full = sample(small_model, "metropolis", 1.0, sweeps=60, seed=2)
    thin = sample(small_model, "metropolis", 1.0, sweeps=60, thin=3, seed=2)
    np.testing.assert_array_equal(thin.energy[0], full.energy[0, 2::3])


@pytest.mark.parametrize("sampler", [Metropolis(), HeatBath(), Metropolis("random")])
def test_mean_energy_spins_and_specific_heat_agree_with_enumeration_within_error_bars(small_model, sampler):
    T = 1.2
    exact = enumerate_exact(small_model, T)[0]
    r = sample(small_model, sampler, T, sweeps=20000, burn_in=200, n_chains=2, seed=11)
    obs = r.at()
    n = small_model.n_spins
    assert abs(obs.energy_per_spin.mean - exact.energy_per_spin) < 4 * obs.energy_per_spin.stderr
    assert abs(obs.specific_heat.mean - exact.specific_heat_per_spin) < 4 * obs.specific_heat.stderr
    z = (r.mean_spin[0] - exact.extras["mean_spins"]) / r.mean_spin_stderr[0]
    assert np.all(np.abs(z) < 4.5), z  # ten sites: 4.5 sigma keeps the family-wise false alarm rate below 1e-4
    assert obs.energy_per_spin.stderr < 0.01 * n


def test_checkpointed_run_in_pieces_equals_an_uninterrupted_run(tmp_path, small_model):
    kwargs = dict(sweeps=300, burn_in=40, n_chains=2, seed=5, record_states=True)
    plain = sample(small_model, "metropolis", 0.8, **kwargs)
    path = tmp_path / "run.npz"
    first = sample(small_model, "metropolis", 0.8, checkpoint=path, checkpoint_every=37, **kwargs)
    resumed = sample(small_model, "metropolis", 0.8, checkpoint=path, checkpoint_every=37, **kwargs)
    for r in (first, resumed):
        np.testing.assert_array_equal(r.energy, plain.energy)
        np.testing.assert_array_equal(r.states, plain.states)
        np.testing.assert_array_equal(r.mean_spin, plain.mean_spin)
        assert r.accepted == plain.accepted


def test_a_checkpoint_of_another_run_is_refused(tmp_path, small_model):
    path = tmp_path / "run.npz"
    sample(small_model, "metropolis", 0.8, sweeps=20, seed=1, checkpoint=path, checkpoint_every=5)
    with pytest.raises(ValueError, match="different run.*seed"):
        sample(small_model, "metropolis", 0.8, sweeps=20, seed=2, checkpoint=path, checkpoint_every=5)
    with pytest.raises(ValueError, match="different run.*chain_temperatures"):
        sample(small_model, "metropolis", 0.9, sweeps=20, seed=1, checkpoint=path, checkpoint_every=5)


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from thermolearn import Ising
    from thermolearn.runs import sample
    model = Ising.lattice((12, 12))
    r = sample(model, "metropolis", 2.3, sweeps=40000, burn_in=100, seed=9, n_chains=1,
               checkpoint=sys.argv[1], checkpoint_every=500, record_states=False, progress=False)
    import numpy as np
    np.save(sys.argv[2], r.energy)
    """
)


def test_a_run_killed_mid_way_resumes_to_the_uninterrupted_result(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    ckpt, out = tmp_path / "ckpt.npz", tmp_path / "energy.npy"
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, str(script), str(ckpt), str(out)], env=env)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_mid_way = not out.exists()
    subprocess.run([sys.executable, str(script), str(ckpt), str(out)], env=env, check=True)
    resumed = np.load(out)
    reference = tmp_path / "reference.npy"
    subprocess.run([sys.executable, str(script), str(tmp_path / "fresh.npz"), str(reference)], env=env, check=True)
    np.testing.assert_array_equal(resumed, np.load(reference))
    assert killed_mid_way, "the kill came after the run finished; the test did not exercise a resume"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sweeps=0), "sweeps"),
        (dict(sweeps=10, burn_in=-1), "burn_in"),
        (dict(sweeps=10, n_chains=0), "n_chains"),
        (dict(sweeps=5, thin=10), "thin"),
    ],
)
def test_bad_run_arguments_are_rejected(small_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample(small_model, "metropolis", 1.0, **kwargs)


def test_bad_sampler_and_temperature_are_rejected(small_model):
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(small_model, "gibbs-magic", 1.0, sweeps=10)
    with pytest.raises(ValueError, match="> 0"):
        sample(small_model, "metropolis", -1.0, sweeps=10)
    with pytest.raises(ValueError, match="needs a temperature"):
        sample(small_model, "metropolis", None, sweeps=10)


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("stop_after", [9, 23, 151])  # in burn-in, at its end, in the measurement
def test_a_run_interrupted_anywhere_resumes_to_the_uninterrupted_result(tmp_path, small_model, monkeypatch, stop_after):
    kwargs = dict(sweeps=200, burn_in=23, thin=3, n_chains=2, seed=4, record_states=True)
    plain = sample(small_model, "heatbath", 0.9, **kwargs)
    path = tmp_path / "run.npz"
    calls = {"n": 0}
    original = HeatBath.sweep

    def sweep_then_stop(self, model, state, betas, n_sweeps=1):
        if calls["n"] >= stop_after:  # sweeps done: a run makes blocks of sweeps per call
            raise _Interrupted
        calls["n"] += n_sweeps
        return original(self, model, state, betas, n_sweeps)

    monkeypatch.setattr(HeatBath, "sweep", sweep_then_stop)
    with pytest.raises(_Interrupted):
        sample(small_model, "heatbath", 0.9, checkpoint=path, checkpoint_every=5, **kwargs)
    assert path.exists()
    monkeypatch.setattr(HeatBath, "sweep", original)
    resumed = sample(small_model, "heatbath", 0.9, checkpoint=path, checkpoint_every=5, **kwargs)
    np.testing.assert_array_equal(resumed.energy, plain.energy)
    np.testing.assert_array_equal(resumed.magnetization, plain.magnetization)
    np.testing.assert_array_equal(resumed.states, plain.states)
    np.testing.assert_array_equal(resumed.mean_spin, plain.mean_spin)
    np.testing.assert_array_equal(resumed.final_state.rng, plain.final_state.rng)
    assert (resumed.accepted, resumed.attempted) == (plain.accepted, plain.attempted)


def test_seeds_follow_the_library_policy(tmp_path, small_model):
    a = sample(small_model, "metropolis", 1.0, sweeps=20, seed=np.random.default_rng(3))
    b = sample(small_model, "metropolis", 1.0, sweeps=20, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a.energy, b.energy)  # a Generator's stream gives the chains' states
    with pytest.raises(ValueError, match="seed must be >= 0"):
        sample(small_model, "metropolis", 1.0, sweeps=20, seed=-1)
    with pytest.raises(TypeError, match="seed must be"):
        sample(small_model, "metropolis", 1.0, sweeps=20, seed=1.5)
    for seed in (None, np.random.default_rng(0)):  # a checkpoint records the seed: only an int will do
        with pytest.raises(TypeError, match="seed must be a non-negative int"):
            sample(small_model, "metropolis", 1.0, sweeps=20, seed=seed, checkpoint=tmp_path / "c.npz")


def test_a_run_without_site_means_keeps_no_site_sums_and_the_same_chains(small_model, tmp_path):
    kwargs = dict(sweeps=60, burn_in=5, thin=2, n_chains=2, seed=8)
    full = sample(small_model, "metropolis", 1.5, **kwargs)
    lean = sample(small_model, "metropolis", 1.5, site_means=False, **kwargs)
    assert lean.mean_spin is None and lean.mean_spin_stderr is None
    assert full.mean_spin is not None and full.mean_spin.shape == (1, small_model.n_spins)
    np.testing.assert_array_equal(lean.energy, full.energy)
    np.testing.assert_array_equal(lean.magnetization, full.magnetization)
    # a checkpoint of one kind of run never resumes the other
    path = tmp_path / "ck.npz"
    sample(small_model, "metropolis", 1.5, site_means=False, checkpoint=path, **kwargs)
    with pytest.raises(ValueError, match="ck.npz"):
        sample(small_model, "metropolis", 1.5, checkpoint=path, **kwargs)


def test_site_mean_error_bars_say_when_their_batches_are_too_short():
    # up to 0.6.9 the <s_i> error bars came from 32 batches whatever tau_int was: at T = 2 on a
    # 4x4 lattice (tau_int(m) ~ 26 samples) 640 sweeps make batches of 20, and |z| < 2 held for 59% of runs
    import warnings

    model = Ising.lattice((4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        short = sample(model, "metropolis", 2.0, sweeps=640, burn_in=500, seed=0)
        hot = sample(model, "metropolis", 5.0, sweeps=3200, burn_in=100, seed=0)
    assert short.n_batches == 32 and short.energy.shape[1] / 32 < 10 * short.at().tau_magnetization.tau
    assert short.mean_spin_reliable.tolist() == [False]
    assert hot.mean_spin_reliable.tolist() == [True]
    exact = np.zeros(16)  # <s_i> = 0 at zero field
    assert np.all(np.abs(hot.mean_spin[0] - exact) < 5 * hot.mean_spin_stderr[0])
    assert sample(model, "metropolis", 5.0, sweeps=100, seed=0, site_means=False).mean_spin_reliable is None


def test_site_mean_error_bars_see_a_slow_mode_that_m_does_not():
    # an open 3x4 antiferromagnet in a field: m decorrelates in a sweep, the staggered magnetisation
    # in ~600 sweeps, about a batch; the z-scores of <s_i> had rms 2.6 while only tau_int(m) was checked
    import warnings

    model = Ising.lattice((3, 4), -1.0, 0.4, periodic=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = sample(model, "metropolis", 0.9, sweeps=20000, burn_in=1000, n_chains=8, seed=0)
    assert run.energy.shape[1] / run.n_batches >= 10 * run.at().tau_magnetization.tau  # m alone looks fine
    assert run.mean_spin_batch_correlation[0] > 0.2
    assert run.mean_spin_reliable.tolist() == [False]


def test_a_misspelt_run_keyword_is_named_with_the_keyword_it_resembles():
    # `chains=4` went to the sampler as an option and the error spoke of sampler constructors only
    model = Ising.lattice((4, 4))
    with pytest.raises(TypeError, match=r"did you mean n_chains= for chains=\?"):
        sample(model, "metropolis", 2.0, sweeps=10, chains=4)
    with pytest.raises(ValueError, match=r"'chains'.*did you mean n_chains= for chains=\?"):
        sample(model, Metropolis(), 2.0, sweeps=10, chains=4)
    with pytest.raises(TypeError) as caught:
        sample(model, "metropolis", 2.0, sweeps=10, colour="red")
    assert "did you mean" not in str(caught.value)
