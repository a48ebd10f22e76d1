"""Wolff and Swendsen-Wang cluster updates: exact Boltzmann sampling of ferromagnets on any
graph (with and without fields), Kaufman's finite-lattice thermodynamics, fast
decorrelation at T_c, and the ferromagnet-only contract.

Statistical checks use fixed seeds and error budgets from the runs themselves: the
chi-square against exact enumeration counts each sample as 1 / (2 tau_int) of an
independent one (tau_int the largest of the energy's and the magnetisation's), and the
Kaufman comparisons use the jackknife error bars of ``sample``'s results.
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import pytest
from scipy import stats

from thermolearn import Ising
from thermolearn.estimators import integrated_autocorrelation_time
from thermolearn.exact import probability_table
from thermolearn.exact.kaufman import kaufman
from thermolearn.runs import sample
from thermolearn.samplers import ChainState
from thermolearn.samplers.cluster import SwendsenWang, Wolff, _wolff_sweeps
from thermolearn.samplers.recording import no_records
from thermolearn.samplers.single_spin import Metropolis

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
CLUSTER_SAMPLERS = [Wolff, SwendsenWang]
N_SIGMA = 4.0
#: chi-square p-value below which a sample is declared not Boltzmann-distributed
P_REJECT = 1e-4


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    """The kernels run chains on threads; results do not depend on how many (tested below),
    and on a shared machine one thread per test process is much faster."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


# --------------------------------------------------------------------------- models
def lattice_3x4(field: float = 0.0) -> Ising:
    return Ising.lattice((3, 4), field=field)


def random_ferromagnet(n: int = 11, seed: int = 3, fields: str = "none") -> Ising:
    """Erdos-Renyi graph (edge probability 0.45) with couplings J_ij ~ U(0.2, 1.2) and
    fields: none, uniform (h = 0.25) or random (h_i ~ N(0, 0.4^2), both signs)."""
    rng = np.random.default_rng(seed)
    J = np.triu(rng.uniform(0.2, 1.2, (n, n)) * (rng.random((n, n)) < 0.45), k=1)
    J = J + J.T
    h = {"none": np.zeros(n), "uniform": np.full(n, 0.25), "random": rng.normal(0.0, 0.4, n)}[fields]
    return Ising.from_dense(J, h, name=f"random ferromagnet n={n} fields={fields}")


def chi_square_against_exact(
    model: Ising,
    sampler,
    T: float,
    *,
    T_sampled: float | None = None,
    n_chains: int = 32,
    n_sweeps: int = 3000,
    burn_in: int = 20,
    seed: int = 0,
) -> dict:
    """Sample at ``T_sampled`` (default T) and test the visited states against the exact
    Boltzmann distribution at T: Pearson's X^2 over every state with an effective expected
    count >= 5 (the rest pooled into one cell), divided by 2 tau_int (tau_int the largest of
    E's, M's and |M|'s), against chi^2 with cells - 1 degrees of freedom."""
    beta = 1.0 / (T_sampled or T)
    state = ChainState.new(model, n_chains, seed=seed)
    sampler.sweep(model, state, beta, burn_in)
    weights = 1 << np.arange(model.n_spins)
    index = np.empty((n_chains, n_sweeps), dtype=np.int64)
    energy = np.empty((n_chains, n_sweeps))
    magnetization = np.empty((n_chains, n_sweeps))
    for k in range(n_sweeps):
        sampler.sweep(model, state, beta, 1)
        index[:, k] = (state.spins > 0) @ weights
        energy[:, k] = state.energy
        magnetization[:, k] = state.magnetization
    p, _ = probability_table(model, T)
    tau = max(integrated_autocorrelation_time(x).tau for x in (energy, magnetization, np.abs(magnetization)))
    n = index.size
    n_eff = n / (2.0 * tau)
    counts = np.bincount(index.ravel(), minlength=p.size)
    big = p * n_eff >= 5.0
    observed = np.append(counts[big], counts[~big].sum())
    expected = np.append(p[big], p[~big].sum()) * n
    keep = expected > 0
    x2 = float(np.sum((observed - expected)[keep] ** 2 / expected[keep])) / (2.0 * tau)
    df = int(keep.sum()) - 1
    return {
        "x2": x2,
        "df": df,
        "p": float(stats.chi2.sf(x2, df)),
        "tau": tau,
        "n_eff": n_eff,
        "tv": 0.5 * float(np.abs(counts / n - p).sum()),
    }


# ------------------------------------------------ (a) exact in distribution (enumeration)
EXACT_CASES = [
    ("3x4 periodic lattice", lambda: lattice_3x4(), 1.5),
    ("3x4 periodic lattice", lambda: lattice_3x4(), 2.3),
    ("3x4 periodic lattice", lambda: lattice_3x4(), 4.0),
    ("3x4 lattice, uniform field h=0.3", lambda: lattice_3x4(0.3), 1.8),
    ("3x4 lattice, uniform field h=0.3", lambda: lattice_3x4(0.3), 3.0),
    ("random graph, random couplings", lambda: random_ferromagnet(), 1.2),
    ("random graph, random couplings", lambda: random_ferromagnet(), 3.0),
    ("random graph, uniform field", lambda: random_ferromagnet(fields="uniform"), 1.5),
    ("random graph, random fields of both signs", lambda: random_ferromagnet(fields="random"), 0.8),
    ("random graph, random fields of both signs", lambda: random_ferromagnet(fields="random"), 2.0),
]


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("label, make_model, T", EXACT_CASES, ids=[f"{c[0]} T={c[2]}" for c in EXACT_CASES])
def test_cluster_chain_samples_the_exact_boltzmann_distribution(sampler_cls, label, make_model, T):
    result = chi_square_against_exact(make_model(), sampler_cls(), T, seed=17)
    assert result["p"] > P_REJECT, f"{label}, T={T}: {result}"


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "make_model",
    [lattice_3x4, lambda: random_ferromagnet(fields="random")],
    ids=["3x4 lattice", "random graph with random fields"],
)
def test_the_same_test_rejects_samples_drawn_ten_percent_too_hot(sampler_cls, make_model):
    """Negative control: the chi-square has the power to see a wrong temperature."""
    result = chi_square_against_exact(make_model(), sampler_cls(), 2.0, T_sampled=2.2, seed=17)
    assert result["p"] < 1e-12, result


class _WolffUntilSpinCount(Wolff):
    """The tempting but wrong sweep: cluster moves until the visited spins reach n_spins."""

    def sweep(self, model, state, betas, n_sweeps=1):
        betas = np.broadcast_to(np.asarray(betas, dtype=np.float64), (state.n_chains,)).copy()
        table, rows = self._prepare(model, betas)
        _wolff_sweeps.compiled(
            state.spins,
            state.rng,
            state.energy,
            state.magnetization,
            *self._kernel_args(model),
            table,
            rows,
            self._uniform,
            self._has_field,
            betas,
            np.zeros(state.n_chains, dtype=np.int64),
            int(n_sweeps),
            True,
            np.zeros(5, dtype=np.int64),
            *no_records(),
        )


@pytest.mark.parametrize(
    "make_model",
    [lattice_3x4, lambda: random_ferromagnet(fields="random")],
    ids=["3x4 lattice", "random graph with random fields"],
)
def test_ending_wolff_sweeps_on_a_spin_count_would_not_sample_boltzmann(make_model):
    """Why a Wolff sweep is a fixed number of clusters: ending each sweep when the visited
    spins reach n_spins (a state-dependent stopping time) misses the distribution badly."""
    model = make_model()
    wrong = chi_square_against_exact(model, _WolffUntilSpinCount(), 2.3, seed=17)
    right = chi_square_against_exact(model, Wolff(), 2.3, seed=17)
    assert wrong["p"] < 1e-12 < P_REJECT < right["p"], (wrong, right)
    assert wrong["tv"] > 3 * right["tv"], (wrong, right)


# ---------------------------------------------- (b) Kaufman's exact finite-lattice answers
KAUFMAN_CASES = (
    [(16, T, 6000) for T in (2.0, 2.269, 2.6)] + [(32, T, 4000) for T in (2.0, 2.269, 2.6)] + [(64, 2.269, 1500)]
)


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("L, T, sweeps", KAUFMAN_CASES, ids=[f"L={c[0]} T={c[1]}" for c in KAUFMAN_CASES])
def test_energy_and_specific_heat_per_spin_agree_with_kaufman(sampler_cls, L, T, sweeps):
    exact = kaufman(L, T)
    result = sample(Ising.lattice((L, L)), sampler_cls(), T, sweeps=sweeps, burn_in=100, n_chains=2, seed=L)
    obs = result.at()
    e, c = obs.energy_per_spin, obs.specific_heat
    assert abs(e.mean - exact.energy_per_spin) < N_SIGMA * e.stderr, (e, exact.energy_per_spin)
    assert abs(c.mean - exact.specific_heat_per_spin) < N_SIGMA * c.stderr, (c, exact.specific_heat_per_spin)
    assert e.stderr < 0.01 and c.stderr < 0.1 * exact.specific_heat_per_spin  # the check has teeth


# ------------------------------------------------------- (c) critical slowing down at T_c
def test_cluster_updates_decorrelate_magnetisation_at_tc_far_faster_than_metropolis():
    """Critical slowing down: dynamic exponent z ~ 0.25 for Wolff and SW against z ~ 2.17 for
    Metropolis. On L = 32 at T_c, tau_int(|m|) in sweeps is about 1 (Wolff) and 3 (SW)
    against about 45 for sequential Metropolis: the ordering, by factors of 10 (Wolff) and 3
    (SW), must hold with every tau moved 3 of its error bars the unfavourable way."""
    model = Ising.lattice((32, 32))
    taus = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for sampler, sweeps, chains in ((Wolff(), 4000, 2), (SwendsenWang(), 4000, 2), (Metropolis(), 20000, 4)):
            r = sample(model, sampler, T_C, sweeps=sweeps, burn_in=500, n_chains=chains, seed=7)
            taus[sampler.name] = integrated_autocorrelation_time(np.abs(r.magnetization))  # chains pooled
    print(
        "\ntau_int(|m|) at T_c, L=32, in sweeps: "
        + ", ".join(f"{k} {t.tau:.2f} +- {t.tau_stderr:.2f}" for k, t in taus.items())
    )
    upper = {k: t.tau + 3 * t.tau_stderr for k, t in taus.items()}
    metropolis_lower = taus["metropolis"].tau - 3 * taus["metropolis"].tau_stderr
    assert 10 * upper["wolff"] < metropolis_lower and 3 * upper["sw"] < metropolis_lower, taus


# --------------------------------------------------------------- (d) contract and bookkeeping
@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
def test_negative_couplings_are_rejected_with_what_to_use_instead(sampler_cls):
    for model in (Ising.lattice((4, 4), coupling=-1.0), Ising.edwards_anderson(4, seed=0)):
        with pytest.raises(ValueError, match=r"ferromagnetic.*J_ij >= 0.*detailed balance.*'metropolis'.*'pt'"):
            sampler_cls().check_model(model)
        with pytest.raises(ValueError, match="ferromagnetic"):
            sample(model, sampler_cls(), 1.0, sweeps=10)
        with pytest.raises(ValueError, match="ferromagnetic"):
            sampler_cls().sweep(model, ChainState.new(model, 1), 1.0)


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
def test_running_energy_and_magnetisation_equal_recomputation(sampler_cls):
    model = random_ferromagnet(n=40, seed=5, fields="random")
    state = ChainState.new(model, 4, seed=2)
    sampler = sampler_cls()
    betas = np.array([0.3, 1.0, 2.5, np.inf])  # a chain per temperature, the quench included
    for n_sweeps in (1, 7, 30):
        stats_ = sampler.sweep(model, state, betas, n_sweeps)
        np.testing.assert_allclose(state.energy, model.energy(state.spins), rtol=0, atol=1e-9)
        np.testing.assert_array_equal(state.magnetization, model.magnetization(state.spins))
        assert np.all(stats_.accepted <= stats_.attempted) and np.all(stats_.attempted > 0)
    assert sampler.info()["mean_cluster_size"] > 1


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
def test_same_seed_same_run_whatever_the_number_of_threads(sampler_cls):
    model = Ising.lattice((8, 8), field=0.1)
    runs = []
    for threads, seed in ((1, 4), (2, 4), (1, 5)):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        runs.append(sample(model, sampler_cls(), 2.3, sweeps=50, burn_in=5, n_chains=3, seed=seed).energy)
    numba.set_num_threads(1)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
def test_a_run_interrupted_mid_way_resumes_to_the_uninterrupted_result(tmp_path, sampler_cls):
    """The checkpoint holds the sampler's own state (Wolff: clusters per sweep, measured once)."""

    class Crashing(sampler_cls):
        calls = 0

        def sweep(self, *args, **kwargs):
            Crashing.calls += 1
            if Crashing.calls > 90:
                raise _Interrupted
            return super().sweep(*args, **kwargs)

    model = Ising.lattice((6, 6))
    kwargs = dict(sweeps=200, burn_in=30, n_chains=2, seed=9, record_states=True)
    plain = sample(model, sampler_cls(), 2.2, **kwargs)
    path = tmp_path / "run.npz"
    with pytest.raises(_Interrupted):
        sample(model, Crashing(), 2.2, checkpoint=path, checkpoint_every=25, **kwargs)
    resumed = sample(model, sampler_cls(), 2.2, checkpoint=path, checkpoint_every=25, **kwargs)
    np.testing.assert_array_equal(resumed.states, plain.states)
    np.testing.assert_array_equal(resumed.energy, plain.energy)
    assert resumed.accepted == plain.accepted and resumed.attempted == plain.attempted
    assert resumed.sampler_info == plain.sampler_info


def test_wolff_sweep_flips_about_n_spins_and_counts_visited_spins():
    model = Ising.lattice((16, 16))
    n = model.n_spins
    for T in (1.5, T_C, 4.0):
        wolff = Wolff()
        state = ChainState.new(model, 2, seed=1)
        wolff.sweep(model, state, 1.0 / T, 100)  # after the preparatory sweeps
        stats_ = wolff.sweep(model, state, 1.0 / T, 400)
        np.testing.assert_array_equal(stats_.accepted, stats_.attempted)  # zero field: every cluster flips
        (k,) = wolff.info()["clusters_per_sweep"].values()
        per_sweep = stats_.accepted.mean() / 400
        assert 0.5 * n < per_sweep < 2.5 * n, (T, k, per_sweep)
    fixed = Wolff(clusters_per_sweep=3)
    state = ChainState.new(model, 1, seed=1)
    fixed.sweep(model, state, 1.0, 10)
    assert fixed.info()["clusters_per_sweep"] == 3 and fixed.info()["spins_flipped_per_sweep"] <= 3 * n


def test_wolff_field_rejections_count_as_visited_but_not_flipped():
    model = lattice_3x4(field=0.5)
    wolff = Wolff()
    state = ChainState.new(model, 8, initial="up", seed=3)
    stats_ = wolff.sweep(model, state, 1.0 / 1.5, 200)
    assert np.all(stats_.accepted < stats_.attempted)
    assert 0 < wolff.info()["cluster_acceptance"] < 1


def test_swendsen_wang_reports_clusters_per_sweep():
    model = Ising.lattice((16, 16))
    hot, cold = SwendsenWang(), SwendsenWang()
    hot.sweep(model, ChainState.new(model, 1, seed=0), 1 / 10.0, 20)
    cold.sweep(model, ChainState.new(model, 1, seed=0, initial="up"), 1 / 1.0, 20)
    assert hot.info()["mean_clusters"] > 100 > 10 > cold.info()["mean_clusters"]
    assert cold.info()["mean_cluster_size"] > 0.5 * model.n_spins


def test_bad_options_are_rejected():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="clusters_per_sweep"):
            Wolff(clusters_per_sweep=bad)
    with pytest.raises(ValueError, match="calibration_warmup"):
        Wolff(calibration_sweeps=5, calibration_warmup=5)
    wolff = Wolff(calibration_sweeps=5, calibration_warmup=1)
    for name in ("calibration_sweeps", "calibration_warmup", "clusters_per_sweep"):
        with pytest.raises(AttributeError, match=name):  # fixed: the calibrations made depend on them
            setattr(wolff, name, 9)
    with pytest.raises(TypeError, match="Ising"):
        SwendsenWang().check_model("not a model")
    model = Ising.lattice((4, 4))
    with pytest.raises(ValueError, match="16 spins"):
        Wolff().sweep(model, ChainState.new(Ising.lattice((3, 3)), 2), 1.0)
    with pytest.raises(ValueError, match="beta"):
        SwendsenWang().sweep(model, ChainState.new(model, 2), np.array([1.0, np.nan]))
