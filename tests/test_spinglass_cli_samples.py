"""``thermolearn spinglass pa|pt|overlaps|groundstate`` over disorder samples: ``--samples K``
(per-sample results and disorder averages), ``--checkpoint`` resuming an interrupted run to the
record of a run never stopped, the plots, and the bad-input errors."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.test_spinglass_cli import run_cli
from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.spinglass.ensembles import sk_ensemble

# the modules (the package exports functions of the same names)
population_annealing = importlib.import_module("thermolearn.spinglass.population_annealing")
houdayer = importlib.import_module("thermolearn.spinglass.houdayer")
measurements = importlib.import_module("thermolearn.spinglass.measurements")
groundstate = importlib.import_module("thermolearn.spinglass.groundstate")


def _without(record: dict, volatile: tuple[str, ...] = ("seconds", "arguments", "resumed")) -> object:
    """``record`` without what depends on the run's clock or its command line."""
    if isinstance(record, dict):
        return {k: _without(v, volatile) for k, v in record.items() if k not in volatile}
    if isinstance(record, list):
        return [_without(v, volatile) for v in record]
    return record


def test_pa_over_samples_reports_each_instance_against_enumeration_and_jackknife_averages(tmp_path, capsys):
    out = tmp_path / "pa.json"
    argv = ["spinglass", "pa", "--sk", "8", "--samples", "4", "-T", "1", "--population", "64", "--steps", "20"]
    assert run_cli(argv + ["--sweeps", "2", "--runs", "4", "--seed", "3", "--json", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    samples = record["samples"]
    ensemble = sk_ensemble(8, 4, seed=3)
    assert [s["seed"] for s in samples] == list(ensemble.seeds)
    for s, model in zip(samples, ensemble):
        # each sample is the instance its seed builds: its exact ln Z is that of enumeration
        assert s["exact_log_z"] == pytest.approx(float(enumerate_exact(model, 1.0)[0].log_z), rel=1e-12)
        assert abs(s["log_z"]["mean"] - s["exact_log_z"]) < 4 * s["log_z"]["stderr"]
    lz = np.array([s["log_z"]["mean"] for s in samples])
    # the jackknife of a mean over samples is the mean with the standard error of the mean
    assert record["log_z"]["mean"] == pytest.approx(lz.mean(), rel=1e-12)
    assert record["log_z"]["stderr"] == pytest.approx(lz.std(ddof=1) / 2.0, rel=1e-9)
    thermal = math.sqrt(sum(s["log_z"]["stderr"] ** 2 for s in samples)) / 4
    assert record["log_z"]["thermal_stderr"] == pytest.approx(thermal, rel=1e-12)
    assert record["exact_log_z"] == pytest.approx(np.mean([s["exact_log_z"] for s in samples]), rel=1e-12)
    assert set(record["energy"]) >= {"mean", "stderr"} and record["n_samples"] == 4
    text = capsys.readouterr().out
    assert "[ln Z]" in text and "4 disorder samples" in text


def test_pt_over_samples_averages_the_moments_of_q_and_agrees_with_enumeration(tmp_path):
    out = tmp_path / "pt.json"
    argv = ["spinglass", "pt", "--lattice", "3x3", "--samples", "3", "-T", "0.8", "2", "--sweeps", "3000"]
    assert run_cli(argv + ["--seed", "1", "--json", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    assert len(record["samples"]) == 3 and record["temperatures"] == [0.8, 2.0]
    for t, r in enumerate(record["results"]):
        per = [s["results"][t] for s in record["samples"]]
        for p in per:  # each instance against its own enumeration, within its thermal error
            assert abs(p["q2"]["mean"] - p["exact_q2"]) < 5 * p["q2"]["stderr"] + 1e-3
        q2 = np.array([p["q2"]["mean"] for p in per])
        assert r["q2"]["mean"] == pytest.approx(q2.mean(), rel=1e-12)
        assert r["chi_sg"]["mean"] == pytest.approx(9 * q2.mean(), rel=1e-12)
        assert r["exact_q2"] == pytest.approx(np.mean([p["exact_q2"] for p in per]), rel=1e-12)
        assert sum(r["p_of_q"]) == pytest.approx(1.0)
        g = r["binder"]["mean"]
        assert 0.0 < g < 1.0 and r["binder"]["stderr"] > 0
    # colder is more ordered: a larger [<q^2>]
    assert record["results"][0]["q2"]["mean"] > record["results"][1]["q2"]["mean"]


def _interrupt_after(monkeypatch, module, name: str, calls: int) -> None:
    """Let ``module.name`` run ``calls`` times, then interrupt the run as Ctrl-C would."""
    real = getattr(module, name)
    count = {"n": 0}

    def hooked(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, hooked)


RESUMABLE = {
    "pa": (
        ["spinglass", "pa", "--sk", "8", "--samples", "4", "-T", "1", "--population", "32", "--steps", "5"]
        + ["--sweeps", "1", "--runs", "2"],
        (population_annealing, "population_annealing"),
    ),
    "pt": (
        ["spinglass", "pt", "--sk", "6", "--samples", "4", "-T", "0.5", "1.5", "--sweeps", "200"],
        (houdayer, "tempering_with_houdayer"),
    ),
    "overlaps": (
        ["spinglass", "overlaps", "--lattice", "3x3,4x4", "--samples", "2", "-T", "1", "2", "--population", "16"]
        + ["--steps", "3", "--sweeps", "1"],
        (measurements, "overlap_sample"),
    ),
    "pa one sample": (
        ["spinglass", "pa", "--lattice", "3x3", "-T", "1", "--population", "32", "--steps", "5", "--runs", "4"],
        (population_annealing, "anneal_population"),
    ),
    "groundstate budgets": (
        ["spinglass", "groundstate", "--sk", "8", "--samples", "3", "--budgets", "10,40"],
        (groundstate, "sample_job"),
    ),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_an_interrupted_multi_sample_run_resumes_to_the_record_of_a_run_never_stopped(
    name, tmp_path, monkeypatch, capsys
):
    argv, (module, function) = RESUMABLE[name]
    straight = tmp_path / "straight.json"
    assert run_cli(argv + ["--json", str(straight), "--no-progress"]) == 0
    out, checkpoint = tmp_path / "out.json", tmp_path / "ck.npz"
    resumable = argv + ["--checkpoint", str(checkpoint), "--json", str(out), "--no-progress"]
    with monkeypatch.context() as patch:
        _interrupt_after(patch, module, function, 2)
        assert run_cli(resumable) != 0
    assert checkpoint.exists() and not out.exists()
    capsys.readouterr()
    assert run_cli(resumable) == 0
    assert "resumed from" in capsys.readouterr().out
    assert _without(json.loads(out.read_text())) == _without(json.loads(straight.read_text()))
    # a finished run run again reads every sample back and writes the same record
    again = json.loads(out.read_text())
    assert run_cli(resumable) == 0
    assert _without(json.loads(out.read_text())) == _without(again)


def test_a_checkpoint_of_another_run_is_refused_naming_what_differs(tmp_path, capsys):
    argv, _ = RESUMABLE["pa"]
    checkpoint = tmp_path / "ck.npz"
    assert run_cli(argv + ["--checkpoint", str(checkpoint), "--no-progress"]) == 0
    capsys.readouterr()
    other = [*argv]
    other[other.index("--runs") + 1] = "3"
    assert run_cli(other + ["--checkpoint", str(checkpoint), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "different run" in err and "runs" in err


def test_one_sample_keeps_the_single_instance_record_and_a_checkpoint_changes_nothing(tmp_path):
    argv = ["spinglass", "pa", "--lattice", "3x3", "-T", "1", "--population", "32", "--steps", "5", "--runs", "2"]
    plain, resumable = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli(argv + ["--json", str(plain), "--no-progress"]) == 0
    ck = ["--checkpoint", str(tmp_path / "ck.npz")]
    assert run_cli(argv + ck + ["--json", str(resumable), "--no-progress"]) == 0
    record = json.loads(plain.read_text())
    assert "samples" not in record and set(record["log_z"]) == {"mean", "stderr"}
    assert record["model"].startswith("EA 3x3 pm seed=0")  # the instance of --seed itself, as before
    first = json.loads(resumable.read_text())
    assert _without(first) == _without(record)
    assert run_cli(argv + ck + ["--json", str(resumable), "--no-progress"]) == 0  # read back: the same
    assert json.loads(resumable.read_text()) == first  # even its seconds: nothing ran again


def _is_a_picture(path: Path) -> None:
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert path.stat().st_size > 10_000 and image.shape[0] > 200 and image.shape[1] > 300
    assert np.std(image[..., :3]) > 0.05  # not a blank page


def test_the_plots_are_written(tmp_path):
    pt = tmp_path / "pt.png"
    argv = ["spinglass", "pt", "--sk", "6", "--samples", "2", "-T", "0.5", "1", "2", "--sweeps", "100"]
    assert run_cli(argv + ["--plot", str(pt), "--no-progress"]) == 0
    ov, ov_json = tmp_path / "ov.png", tmp_path / "ov.json"
    argv = ["spinglass", "overlaps", "--sk", "6,8", "--samples", "2", "-T", "0.5", "2", "--population", "16"]
    argv += ["--steps", "3", "--sweeps", "1", "--plot", str(ov), "--json", str(ov_json), "--no-progress"]
    assert run_cli(argv) == 0
    sizes = json.loads(ov_json.read_text())["sizes"]
    assert [s["ensemble"]["n_spins"] for s in sizes] == [6, 8] and len(sizes[1]["results"]) == 2
    gs, gs_json = tmp_path / "gs.png", tmp_path / "gs.json"
    argv = ["spinglass", "groundstate", "--sk", "8", "--samples", "3", "--budgets", "40,10"]
    assert run_cli(argv + ["--plot", str(gs), "--json", str(gs_json), "--no-progress"]) == 0
    record = json.loads(gs_json.read_text())
    assert record["budgets"] == [10, 40] and [c["sweeps"] for c in record["hit_curve"]] == [10, 40]
    for c, study in zip(record["hit_curve"], record["studies"]):
        assert c["hit_probability"]["mean"] == study["hit_probability"]["mean"]
        low, high = c["hit_probability"]["wilson_95"]
        assert low <= c["hit_probability"]["mean"] <= high
    pa = tmp_path / "pa.png"
    argv = ["spinglass", "pa", "--sk", "6", "--samples", "2", "-T", "1", "--population", "16", "--steps", "3"]
    assert run_cli(argv + ["--runs", "2", "--plot", str(pa), "--no-progress"]) == 0
    for path in (pt, ov, gs, pa):
        _is_a_picture(path)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["spinglass", "pa", "m.npz", "-T", "1", "--samples", "2"], "a model file is one fixed instance"),
        (["spinglass", "pa", "--lattice", "4x4", "--couplings", "ferro", "-T", "1", "--samples", "3"],
         "--couplings ferro has none"),
        (["spinglass", "pt", "--lattice", "4x4", "--couplings", "ferro", "-T", "1", "--samples", "2"],
         "needs disorder to sample"),
        (["spinglass", "overlaps", "--lattice", "4x4", "--couplings", "ferro", "-T", "1"], "ferro has no disorder"),
        (["spinglass", "groundstate", "--lattice", "4x4", "--couplings", "ferro"], "ferro has no disorder"),
        (["spinglass", "pa", "--sk", "8", "-T", "1", "--samples", "1000000000000000"], "--samples"),
        (["spinglass", "pt", "--sk", "8", "-T", "1", "--samples", "1000000000000000"], "--samples"),
        (["spinglass", "overlaps", "--lattice", "4x4,4x4x4", "-T", "1"], "all square or all cubic"),
        (["spinglass", "overlaps", "--sk", "8", "-T", "1", "--population", "8"], "pairs"),
        (["spinglass", "overlaps", "--sk", "8,8", "-T", "1"], "listed twice"),
        (["spinglass", "groundstate", "--lattice", "4x4,5x5"], "one --lattice size"),
        (["spinglass", "groundstate", "--sk", "8", "--budgets", "10,20", "--sweeps", "50"], "not both"),
        (["spinglass", "groundstate", "--sk", "8", "--budgets", "3,20", "--algorithm", "pa"], "--budgets must be"),
        (["spinglass", "groundstate", "--sk", "8", "--budgets", "10,0"], "--budgets"),
        (["spinglass", "pa", "--sk", "8", "-T", "1", "--population", "8"], "to estimate ln Z"),
        (["spinglass", "pt", "--sk", "8", "-T", "1", "--checkpoint", "-"], "not the standard output"),
    ],
)  # fmt: skip
def test_bad_sample_input_is_one_clear_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.npz").write_bytes(b"")
    assert run_cli(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
