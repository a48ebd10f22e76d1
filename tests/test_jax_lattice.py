"""Checkerboard Metropolis in JAX (samplers.jax_lattice), run here on JAX's CPU backend: the same
numbers in one call or many, exact energies, Kaufman's energy at L = 64, and clear errors for a
device JAX cannot see or a model it cannot sample. (The conformance kit's chi-square runs on it
through the registry in test_conformance.)"""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.exact.kaufman import kaufman
from thermolearn.models.ising import Ising
from thermolearn.samplers.jax_lattice import (
    JaxCheckerboardMetropolis,
    colour_couplings,
    jax_device,
    join_colours,
    lattice_bonds,
    split_colours,
)
from thermolearn.samplers.state import ChainState


@pytest.fixture(scope="module")
def sampler() -> JaxCheckerboardMetropolis:
    return JaxCheckerboardMetropolis("cpu")


@pytest.mark.parametrize("field", [0.2, 0.0], ids=["bond arrays", "lookup table"])
def test_one_call_of_n_sweeps_is_n_calls_of_one_and_energies_are_exact(sampler, field):
    model = Ising.lattice((6, 8), coupling=0.7, field=field)
    together = ChainState.new(model, 3, seed=4)
    apart = ChainState.new(model, 3, seed=4)
    betas = np.array([0.2, 0.6, np.inf])
    stats = sampler.sweep(model, together, betas, 7)
    flips = sum(sampler.sweep(model, apart, betas, 1).accepted for _ in range(7))
    np.testing.assert_array_equal(together.spins, apart.spins)
    np.testing.assert_array_equal(together.rng, apart.rng)
    np.testing.assert_array_equal(stats.accepted, flips)
    np.testing.assert_allclose(together.energy, model.energy(together.spins), atol=1e-9)
    np.testing.assert_array_equal(together.magnetization, together.spins.sum(axis=1))
    assert np.all(stats.attempted == 7 * model.n_spins) and stats.accepted[0] > 0


def _random_bond_lattice(side: int, seed: int) -> Ising:
    """A periodic side x side lattice with a different coupling on every bond and random fields
    (no stored geometry: a geometry promises one coupling per axis)."""
    base = Ising.lattice((side, side))
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(base.n_spins, base.n_spins))
    return Ising(base.couplings.multiply(w + w.T).tocsr(), rng.normal(size=base.n_spins))


def test_the_compact_layout_round_trips_and_gives_every_site_its_own_four_bonds():
    # the local field sum_j J_ij s_j + h_i read from the two colour arrays, as the kernel reads
    # it (same index up/down/side, shifted index on the other side), equals the dense product
    rows = cols = 8
    model = _random_bond_lattice(rows, seed=7)
    spins = np.random.default_rng(1).choice(np.array([-1, 1], dtype=np.int8), size=(2, model.n_spins))
    even, odd = split_colours(spins, rows, cols)
    np.testing.assert_array_equal(join_colours(even, odd), spins)
    assert even.shape == (2, rows, cols // 2) and even.dtype == np.int8
    dense = np.stack([model.couplings @ s.astype(float) + model.fields for s in spins])
    want_even, want_odd = split_colours(dense, rows, cols)
    starts_at_one = np.arange(rows)[:, None] % 2 == 1  # rows where colour 0 starts at column 1
    for mine_want, other, couplings, shifted_right in (
        (want_even, odd, colour_couplings(lattice_bonds(model, "test"))[0], starts_at_one),
        (want_odd, even, colour_couplings(lattice_bonds(model, "test"))[1], ~starts_at_one),
    ):
        j_up, j_down, j_same, j_side, h = couplings
        side = np.where(shifted_right, np.roll(other, -1, axis=2), np.roll(other, 1, axis=2))
        local = j_up * np.roll(other, 1, axis=1) + j_down * np.roll(other, -1, axis=1) + j_same * other
        np.testing.assert_allclose(local + j_side * side + h, mine_want, atol=1e-12)


def test_only_one_coupling_and_no_field_takes_the_lookup_table():
    takes_table = {
        "ferromagnet": Ising.lattice((4, 6), coupling=0.8),
        "antiferromagnet": Ising.lattice((4, 4), coupling=-1.0),
        "field": Ising.lattice((4, 4), field=0.1),
        "+-J glass": Ising.edwards_anderson(4, 2, seed=2),
        "random bonds": _random_bond_lattice(4, seed=0),
    }
    chosen = {name: JaxCheckerboardMetropolis("cpu")._prepared(model)[3] for name, model in takes_table.items()}
    assert chosen == {
        "ferromagnet": True,
        "antiferromagnet": True,
        "field": False,
        "+-J glass": False,
        "random bonds": False,
    }


def test_the_energy_at_l_64_agrees_with_kaufman_within_its_error_bar(sampler):
    L, T = 64, 2.6
    model = Ising.lattice((L, L))
    state = ChainState.new(model, 4, seed=3)
    sampler.sweep(model, state, 1 / T, 300)
    series = np.empty((400, 4))
    for t in range(series.shape[0]):
        sampler.sweep(model, state, 1 / T, 2)
        series[t] = state.energy / model.n_spins
    tau = max(integrated_autocorrelation_time(series[:, c]).tau for c in range(4))
    stderr = series.std(ddof=1) * np.sqrt(2 * tau / series.size)
    exact = kaufman(L, T).energy_per_spin
    assert abs(series.mean() - exact) < 4 * stderr, (series.mean(), exact, stderr)


def test_the_zero_temperature_limit_never_climbs(sampler):
    model = Ising.edwards_anderson(8, 2, seed=1)
    state = ChainState.new(model, 2, seed=0)
    before = state.energy.copy()
    sampler.sweep(model, state, np.inf, 5)
    assert np.all(state.energy <= before)


def test_a_device_jax_cannot_see_is_refused_with_how_to_get_one():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("this machine has a GPU: the refusal cannot be shown")  # the CPU-only CI always runs it
    with pytest.raises(ValueError, match="cuda"):
        jax_device("gpu")
    with pytest.raises(ValueError, match="auto, cpu, gpu"):
        JaxCheckerboardMetropolis("tpu")
    assert jax_device("auto").platform == "cpu"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Ising.lattice((4, 5)), "even lattice sides"),
        (Ising.lattice((4, 4, 4)), "2D"),
        (Ising.sherrington_kirkpatrick(16, seed=0), "square lattice"),
        (Ising.lattice((4, 4), periodic=False), "periodic"),
    ],
    ids=["odd side", "cubic", "SK", "open"],
)
def test_models_it_cannot_sample_are_refused_with_the_reason(sampler, model, message):
    with pytest.raises(ValueError, match=message):
        sampler.check_model(model)


def test_the_ising_command_runs_it_on_a_chosen_device_and_refuses_device_for_other_samplers(tmp_path, capsys):
    from thermolearn.cli.main import main

    out = tmp_path / "out.json"
    argv = ["ising", "-L", "8", "-T", "2.5", "--sweeps", "200", "--burn-in", "50", "--no-progress", "--json", str(out)]
    assert main([*argv, "--algorithm", "metropolis-jax", "--device", "cpu"]) == 0
    import json

    record = json.loads(out.read_text())
    assert record["results"][0]["algorithm"] == "metropolis-jax"
    capsys.readouterr()
    assert main([*argv, "--device", "cpu"]) == 2
    assert "--device chooses where metropolis-jax runs" in capsys.readouterr().err
