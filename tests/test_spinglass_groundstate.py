"""Ground-state search against exact ground states from enumeration, with Wilson intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.brute_force import all_states
from thermolearn.spinglass.ensembles import ea_ensemble, edwards_anderson_instance, sk_ensemble
from thermolearn.spinglass.groundstate import (
    exact_ground_energy,
    ground_state_study,
    hit_curve,
    is_hit,
    search_ground_state,
    wilson_interval,
)


@pytest.mark.parametrize("model", [sk_ensemble(11, 1, seed=4).model(0), edwards_anderson_instance((4, 4), "pm", 3)])
def test_exact_ground_energy_is_the_minimum_over_every_state(model):
    energies = model.energy(all_states(model.n_spins))
    assert exact_ground_energy(model) == pytest.approx(float(energies.min()), abs=1e-9)
    # negative control: the first excited level is not a hit
    excited = float(np.unique(np.round(energies, 9))[1])
    assert not is_hit(excited, exact_ground_energy(model))


def test_wilson_interval_covers_the_true_probability_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    for p, n in ((0.3, 40), (0.9, 25)):
        hits = rng.binomial(n, p, size=4000)
        covered = np.mean([lo <= p <= hi for lo, hi in (wilson_interval(int(k), n) for k in hits)])
        # Wilson's coverage oscillates around 95% (93-97% at these n); 4000 draws add +-0.7%
        assert 0.92 < covered < 0.985
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    lo, hi = wilson_interval(5, 10)
    assert lo < 0.5 < hi and math.isclose(lo + hi, 1.0)  # symmetric at p = 1/2
    with pytest.raises(ValueError, match="between 0 and trials"):
        wilson_interval(11, 10)


@pytest.mark.parametrize("algorithm", ["sa", "pt", "pa", "pt-houdayer"])
@pytest.mark.parametrize("kind", ["sk", "ea"])
def test_every_algorithm_reaches_the_exact_ground_state_with_a_generous_budget(algorithm, kind):
    ens = sk_ensemble(14, 5, seed=1) if kind == "sk" else ea_ensemble((4, 4), 5, couplings="pm", seed=1)
    # one SA read needs a slower anneal than PT (8 replicas) or PA (64 replicas) at equal sweeps
    study = ground_state_study(ens, algorithm, 2000 if algorithm == "sa" else 200)
    for row in study.samples:
        # no search goes below the exact ground state (that would mean enumeration is wrong)
        assert row["best_energy"] >= row["exact_ground_energy"] - 1e-9
        assert row["hit"] == is_hit(row["best_energy"], row["exact_ground_energy"])
    assert study.hit_probability == (1.0, 0.0)
    assert study.wilson is not None and study.wilson[1] == 1.0 and study.wilson[0] > 0.4
    d = study.as_dict()
    assert set(d["samples"][0]) == {"seed", "best_energy", "exact_ground_energy", "hit"}
    assert d["samples"][0]["seed"] == ens.seeds[0]


def test_hit_probability_grows_with_sweeps_for_sa_on_sk():
    ens = sk_ensemble(20, 16, seed=7)
    short, long = hit_curve(ens, "sa", [1, 300])
    assert short.hit_probability is not None and long.hit_probability is not None
    # one sweep of SA from a random state rarely finds the ground state of N = 20; 300 nearly always
    assert long.hit_probability[0] > short.hit_probability[0]
    assert long.mean_energy_per_spin[0] <= short.mean_energy_per_spin[0]


def test_without_an_exact_ground_state_the_hits_are_null():
    ens = sk_ensemble(30, 2, seed=0)
    study = ground_state_study(ens, "sa", 20)
    assert study.hit_probability is None
    assert all(r["exact_ground_energy"] is None and r["hit"] is None for r in study.samples)


def test_same_seed_same_search():
    model = sk_ensemble(12, 1, seed=2).model(0)
    for algorithm in ("sa", "pt", "pa", "pt-houdayer"):
        a = search_ground_state(model, algorithm, 8, 5)
        b = search_ground_state(model, algorithm, 8, 5)
        assert a[0] == b[0] and np.array_equal(a[1], b[1])
        assert model.energy(a[1]) == pytest.approx(a[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithm": "tabu"}, "algorithm must be one of"),
        ({"sweeps": 0}, "sweeps"),
        ({"algorithm": "pa", "sweeps": 2}, "at least sweeps_per_step"),
        ({"algorithm": "pa", "population": 4}, "population"),
        ({"algorithm": "pt", "ladder": 1}, "ladder"),
        ({"algorithm": "pt-houdayer", "ladder": 1}, "ladder"),
    ],
)
def test_bad_searches_are_refused(kwargs, message):
    model = sk_ensemble(8, 1).model(0)
    args = {"algorithm": "sa", "sweeps": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        search_ground_state(model, args.pop("algorithm"), args.pop("sweeps"), 0, **args)


class _Killed(Exception):
    pass


def test_a_study_killed_after_its_first_checkpoint_resumes_to_the_same_results(tmp_path, monkeypatch):
    from thermolearn.spinglass import groundstate

    ens = sk_ensemble(12, 6, seed=9)
    reference = ground_state_study(ens, "pa", 16)
    ck = tmp_path / "ck.npz"
    real_save = groundstate._save_checkpoint
    calls = []

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            raise _Killed

    monkeypatch.setattr(groundstate, "_save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        ground_state_study(ens, "pa", 16, checkpoint=ck)
    monkeypatch.setattr(groundstate, "_save_checkpoint", real_save)
    resumed = ground_state_study(ens, "pa", 16, checkpoint=ck)
    assert resumed.resumed == 1
    assert resumed.samples == reference.samples
    assert resumed.hit_probability == reference.hit_probability
    # a finished checkpoint resumes to the end at once
    again = ground_state_study(ens, "pa", 16, checkpoint=ck)
    assert again.resumed == 6 and again.samples == reference.samples


def test_a_checkpoint_of_another_study_or_a_crafted_one_is_refused(tmp_path):
    from thermolearn.spinglass.groundstate import CHECKPOINT_FORMAT
    from thermolearn.storage import save_arrays

    ens = sk_ensemble(10, 3, seed=1)
    ck = tmp_path / "ck.npz"
    ground_state_study(ens, "sa", 20, checkpoint=ck)
    with pytest.raises(ValueError, match="different run .*sweeps"):
        ground_state_study(ens, "sa", 30, checkpoint=ck)
    with pytest.raises(ValueError, match="different run .*seeds_sha256"):
        ground_state_study(sk_ensemble(10, 3, seed=2), "sa", 20, checkpoint=ck)
    from thermolearn.file_contents import FileContents

    contents = FileContents.read(ck)
    header = dict(contents.header)
    best = contents.arrays["best_energy"] - 5.0  # below the exact ground states: impossible
    save_arrays(ck, {"best_energy": best, "exact_ground_energy": contents.arrays["exact_ground_energy"]}, header)
    with pytest.raises(ValueError, match="below its exact ground-state energy"):
        ground_state_study(ens, "sa", 20, checkpoint=ck)
    header["progress"] = {"samples_done": 7}
    save_arrays(ck, {"best_energy": best, "exact_ground_energy": best}, header)
    with pytest.raises(ValueError, match="samples_done"):
        ground_state_study(ens, "sa", 20, checkpoint=ck)
    save_arrays(ck, {"x": np.zeros(1)}, {"format": "other", "version": 1})
    with pytest.raises(ValueError, match="not a ground-state checkpoint"):
        ground_state_study(ens, "sa", 20, checkpoint=ck)
    ck.write_bytes(b"not a file")
    with pytest.raises(ValueError, match="ck.npz"):
        ground_state_study(ens, "sa", 20, checkpoint=ck)
    assert CHECKPOINT_FORMAT == "thermolearn.groundstate-checkpoint"


def test_samples_run_elsewhere_and_finishing_in_any_order_give_the_same_study(tmp_path):
    ensemble = sk_ensemble(10, 5, seed=2)
    serial = ground_state_study(ensemble, "sa", 100)

    def backwards(function, jobs):  # as a pool whose last job finishes first
        return reversed([(k, (function(parameters, seed), 0.0)) for k, parameters, seed in jobs])

    elsewhere = ground_state_study(ensemble, "sa", 100, map_samples=backwards, checkpoint=tmp_path / "ck.npz")
    assert elsewhere.samples == serial.samples
    assert elsewhere.hit_probability == serial.hit_probability
    again = ground_state_study(
        ensemble, "sa", 100, checkpoint=tmp_path / "ck.npz"
    )  # the checkpoint holds all 5, in order
    assert again.resumed == 5 and again.samples == serial.samples


def test_the_command_on_two_worker_processes_writes_the_serial_record(tmp_path):
    import json

    from thermolearn.cli.main import main

    argv = ["spinglass", "groundstate", "--sk", "10", "--samples", "4", "--sweeps", "100", "--no-progress"]
    assert main([*argv, "--json", str(tmp_path / "serial.json")]) == 0
    assert main([*argv, "--json", str(tmp_path / "pool.json"), "--workers", "2"]) == 0
    serial, pool = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("serial", "pool"))
    assert pool["samples"] == serial["samples"] and pool["hit_probability"] == serial["hit_probability"]


def test_a_hit_curve_enumerates_each_ground_state_once(monkeypatch):
    import thermolearn.spinglass.groundstate as groundstate

    calls = []
    real = groundstate.exact_ground_energy
    monkeypatch.setattr(groundstate, "exact_ground_energy", lambda model: calls.append(1) or real(model))
    ens = sk_ensemble(10, 3, seed=5)
    studies = hit_curve(ens, "sa", [2, 8, 32])
    assert len(calls) == 3  # one per sample, not one per sample and budget
    assert [r["exact_ground_energy"] for r in studies[2].samples] == [real(ens.model(k)) for k in range(3)]
    with pytest.raises(ValueError, match="one energy per sample"):
        ground_state_study(ens, "sa", 2, known_ground_energies=[-1.0])
