"""Every single-spin sampler draws from exp(-E/T)/Z: the histogram of visited states
matches exact enumeration within an error budget set by the effective number of samples.

The statistic is Pearson's chi-square made autocorrelation-aware: counts from a correlated
chain fluctuate 2 tau_int times more than independent draws along each direction of the
residual vector, so X^2 is split into the part along the slow observables (energy,
magnetisation, overlap with the most probable state, and their absolute values), divided
by 2 tau_int of the slowest of them, and the rest, divided by the mean 2 tau_int of random
contrasts of the counts; the sum follows chi^2 with (bins - 1) degrees of freedom. Bins are
single states (n <= 12) or joint (energy, magnetisation) levels (the 4x4 lattice's 2^16
states); rare bins are pooled. Seeds are fixed. Negative controls (a 10% wrong temperature;
a sampler that is not ergodic) must be rejected by the same test, so it can fail. The
statistic is the public conformance kit's (:mod:`thermolearn.testing`); this file runs it
over every rule, order and kernel of the single-spin samplers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.samplers import ChainState, HeatBath, Metropolis, Quench, checkerboard_order
from thermolearn.samplers.multispin import MultiSpinMetropolis
from thermolearn.samplers.rules import ALWAYS_FREE_METROPOLIS
from thermolearn.testing import ExactBins, chi_square_p_value, exact_bins, record_bins
from thermolearn.testing.conformance import ALPHA

N_CHAINS = 16
N_SAMPLES = 6000  # sweeps recorded per chain (one per sweep) after BURN_IN sweeps
BURN_IN = 100


def _ring(n: int, J: float, h: float) -> Ising:
    """A ring as a plain graph (no lattice geometry: the generic CSR kernel)."""
    Jm = np.zeros((n, n))
    for i in range(n):
        Jm[i, (i + 1) % n] = Jm[(i + 1) % n, i] = J
    return Ising.from_dense(Jm, h, name=f"ring {n}")


def _models() -> dict[str, tuple[Ising, float]]:
    """name -> (model, temperature)."""
    return {
        "ferromagnet ring 10, field 0.3": (_ring(10, 1.0, 0.3), 2.0),
        "antiferromagnet open 3x4 grid, field 0.5": (
            Ising.lattice((3, 4), coupling=-1.0, field=0.5, periodic=False),
            1.6,
        ),
        "frustrated SK 10, no field": (Ising.sherrington_kirkpatrick(10, seed=3), 0.8),
        "frustrated SK 11, random fields": (
            Ising(Ising.sherrington_kirkpatrick(11, seed=5).couplings, np.random.default_rng(5).normal(0, 0.4, 11)),
            0.9,
        ),
        # lattice fast paths (periodic geometry)
        "lattice 4x4 periodic ferromagnet, field 0.1": (Ising.lattice((4, 4), field=0.1), 2.6),
        "lattice 3x3 periodic antiferromagnet (frustrated, odd sides), field 0.2": (
            Ising.lattice((3, 3), coupling=-1.0, field=0.2),
            1.5,
        ),
        "lattice ring 11, anisotropic field": (Ising.lattice(11, coupling=0.8, field=-0.25), 1.2),
    }


def _bipartite(model: Ising) -> bool:
    try:
        checkerboard_order(model)
    except ValueError:
        return False
    return True


def _cases():
    out = []
    for name, (model, _) in _models().items():
        for rule in (Metropolis, HeatBath):
            for order in ("sequential", "random", "checkerboard"):
                if order == "checkerboard" and not _bipartite(model):
                    continue
                out.append(pytest.param(name, rule, order, id=f"{rule.name}-{order}-{name}"))
    return out


@dataclass
class Run:
    bins: np.ndarray  # (n_chains, n_samples) bin of the state after each sweep
    slow: list[np.ndarray]  # series of E, M, |M|, q, |q|, each (n_chains, n_samples)


def _exact(model: Ising, T: float) -> ExactBins:
    """Single states as bins for n <= 12; joint (energy, magnetisation) levels above."""
    return exact_bins(model, T)


def _run(
    model: Ising, sampler, T: float, seed: int, exact: ExactBins, n_chains: int = N_CHAINS, n_samples: int = N_SAMPLES
) -> Run:
    state = ChainState.new(model, n_chains, seed=seed)
    betas = np.full(n_chains, 1.0 / T)
    sampler.sweep(model, state, betas, BURN_IN)
    return Run(*record_bins(sampler, model, state, betas, exact, n_samples))


def _chi_square_p_value(run: Run, exact: ExactBins) -> tuple[float, float, int]:
    """(p-value, largest tau used, degrees of freedom): the kit's autocorrelation-aware chi-square."""
    return chi_square_p_value(run.bins, run.slow, exact)


@pytest.mark.parametrize("name, rule, order", _cases())
def test_visited_states_follow_the_boltzmann_distribution(name, rule, order):
    model, T = _models()[name]
    sampler = rule(order=order)
    if name.startswith("lattice"):
        assert sampler.lattice_plan(model) is not None, "this case must exercise the lattice fast path"
    exact = _exact(model, T)
    seed = (
        1000
        + len(name) * 7
        + 3 * ("random", "sequential", "checkerboard").index(order)
        + (Metropolis, HeatBath).index(rule)
    )
    p_value, tau, dof = _chi_square_p_value(_run(model, sampler, T, seed, exact), exact)
    assert dof >= 8, "the test needs enough bins to have power"
    assert p_value > ALPHA, f"chi-square p = {p_value:.2e} (tau_int = {tau:.2f}, {dof} dof)"


@pytest.mark.parametrize("wrong_factor", [0.9, 1.1])
@pytest.mark.parametrize("name", ["frustrated SK 11, random fields", "lattice 4x4 periodic ferromagnet, field 0.1"])
def test_negative_control_a_ten_percent_wrong_temperature_is_rejected(name, wrong_factor):
    model, T = _models()[name]
    wrong = _exact(model, T * wrong_factor)
    p_value, tau, dof = _chi_square_p_value(_run(model, Metropolis(), T, 77, wrong), wrong)
    assert p_value < ALPHA, f"a sample at T = {T} passed as T = {T * wrong_factor} (p = {p_value:.2e})"


class _AlwaysFreeMetropolis(Metropolis):
    """The textbook rule: every flip that costs nothing is made (Metropolis up to 0.6.10)."""

    name = "metropolis-always-free"
    rule = ALWAYS_FREE_METROPOLIS


def test_negative_control_non_ergodic_sequential_metropolis_is_rejected():
    # On the frustrated 3x3 antiferromagnet without a field, many flips cost nothing; the textbook
    # Metropolis rule makes every one of them, and in a fixed sweep order the chain then splits into
    # five closed classes of states (the exact 512 x 512 sweep matrix has five eigenvalues of
    # modulus 1), so a run never leaves its own. The library's Metropolis makes them with
    # probability 0.9 and passes; so do heat bath, random order, or a field.
    model, T = Ising.lattice((3, 3), coupling=-1.0), 1.5
    exact = _exact(model, T)
    assert _chi_square_p_value(_run(model, _AlwaysFreeMetropolis("sequential"), T, 5, exact), exact)[0] < ALPHA
    assert _chi_square_p_value(_run(model, Metropolis("sequential"), T, 5, exact), exact)[0] > ALPHA
    assert _chi_square_p_value(_run(model, HeatBath("sequential"), T, 5, exact), exact)[0] > ALPHA


MSC_MODELS = {
    "ferromagnet 4x4, no field": (Ising.lattice((4, 4)), 2.5),
    "antiferromagnet 4x3 (rectangular)": (Ising.lattice((4, 3), coupling=-1.0), 2.0),
    "+-J spin glass 4x4": (Ising.edwards_anderson(4, 2, seed=2), 1.2),
}


@pytest.mark.parametrize("name", list(MSC_MODELS))
def test_multispin_coded_replicas_follow_the_boltzmann_distribution(name):
    # 2 words of 64 independent replicas each, 128 chains x 800 sweeps
    model, T = MSC_MODELS[name]
    exact = _exact(model, T)
    run = _run(model, MultiSpinMetropolis(), T, 31 + len(name), exact, n_chains=128, n_samples=800)
    p_value, tau, dof = _chi_square_p_value(run, exact)
    assert dof >= 8
    assert p_value > ALPHA, f"chi-square p = {p_value:.2e} (tau_int = {tau:.2f}, {dof} dof)"


def test_negative_control_multispin_coded_run_at_the_wrong_temperature_is_rejected():
    model, T = MSC_MODELS["+-J spin glass 4x4"]
    wrong = _exact(model, 1.1 * T)
    run = _run(model, MultiSpinMetropolis(), T, 5, wrong, n_chains=128, n_samples=800)
    assert _chi_square_p_value(run, wrong)[0] < ALPHA


@pytest.mark.parametrize(
    "model",
    [
        Ising.sherrington_kirkpatrick(40, field=0.1, seed=8),
        Ising.lattice((16, 16), field=0.05),
        Ising.lattice((6, 6, 6), coupling=-1.0),
        Ising.edwards_anderson(12, 2, seed=3),
    ],
    ids=["SK generic", "2D lattice fast path", "3D lattice fast path", "EA +-J generic"],
)
@pytest.mark.parametrize("order", ["sequential", "random"])
def test_zero_temperature_quench_never_raises_the_energy_and_stops_in_a_local_minimum(model, order):
    smp = Quench(order=order)
    state = ChainState.new(model, 4, seed=12)
    previous = state.energy.copy()
    for _ in range(500):
        st = smp.sweep(model, state, 1.0, 1)
        assert np.all(state.energy <= previous + 1e-12), "a quench step raised the energy"
        previous = state.energy.copy()
        if order == "sequential" and not np.any(st.accepted):
            break
    np.testing.assert_allclose(state.energy, model.energy(state.spins), atol=1e-9 * model.n_spins)
    if order == "random":  # a random-site sweep can miss a site; finish with sequential sweeps
        while np.any(Quench().sweep(model, state, 1.0, 1).accepted):
            pass
    for site in range(model.n_spins):
        assert np.all(model.flip_energy_change(state.spins, site) >= 0), f"flipping site {site} lowers the energy"
