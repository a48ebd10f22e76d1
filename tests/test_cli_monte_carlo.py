"""``thermolearn ising`` and ``thermolearn sample``: tables, JSON, CSV, plots, resume, errors."""

import json

import pytest

from thermolearn import Ising
from thermolearn.cli.main import main


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ising_sweep_writes_the_documented_json_with_exact_values_and_a_tc_estimate(tmp_path, capsys):
    out_json = tmp_path / "ising.json"
    code, out, err = run(
        [
            "ising",
            "-L",
            "4",
            "-L",
            "6",
            "-T",
            "1.5:3.5:5",
            "--sweeps",
            "400",
            "--burn-in",
            "50",
            "--json",
            str(out_json),
            "--csv",
            str(tmp_path / "ising.csv"),
            "--plot",
            str(tmp_path / "i.png"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    record = json.loads(out_json.read_text())
    assert len(record["results"]) == 10
    first = record["results"][0]
    assert first["size"] == 4 and first["temperature"] == 1.5 and first["algorithm"] == "metropolis"
    for key in (
        "energy_per_spin",
        "abs_magnetization",
        "specific_heat_per_spin",
        "susceptibility_per_spin",
        "binder_cumulant",
    ):
        assert set(first[key]) == {"mean", "stderr"}
    assert set(first["tau_int"]) == {"energy", "abs_magnetization"}
    from thermolearn.exact.kaufman import kaufman

    assert first["exact"]["energy_per_spin"] == pytest.approx(kaufman(4, 1.5).energy_per_spin)
    assert record["tc_estimate"] is None or set(record["tc_estimate"]) == {"mean", "stderr"}
    assert "T_c" in out or "no T_c estimate" in out
    lines = (tmp_path / "ising.csv").read_text().splitlines()
    assert len(lines) == 11 and lines[0].startswith("size,temperature,algorithm")
    assert (tmp_path / "i.png").read_bytes()[:4] == b"\x89PNG"


def _ising_argv(tmp_path, folder):
    return [
        "ising",
        "-L",
        "4",
        "-T",
        "2.0",
        "2.5",
        "--sweeps",
        "300",
        "--burn-in",
        "20",
        "--seed",
        "3",
        "--checkpoint",
        str(tmp_path / folder),
        "--checkpoint-every",
        "50",
        "--no-progress",
    ]


def _results(path):
    record = json.loads(path.read_text())
    return record["results"], record["tc_estimate"]


def test_ising_sweep_with_checkpoints_reruns_to_the_same_numbers(tmp_path, capsys):
    argv = _ising_argv(tmp_path, "ck")
    code, _, err = run(argv + ["--json", str(tmp_path / "a.json")], capsys)
    assert code == 0, err
    assert len(list((tmp_path / "ck").glob("*.npz"))) == 2
    code, _, err = run(argv + ["--json", str(tmp_path / "b.json")], capsys)  # every run is complete in its checkpoint
    assert code == 0, err
    assert _results(tmp_path / "a.json") == _results(tmp_path / "b.json")


def test_ising_sweep_stopped_part_way_resumes_to_the_uninterrupted_numbers(tmp_path, capsys, monkeypatch):
    import importlib

    run_module = importlib.import_module("thermolearn.runs.sample")  # the module, not the function it exports

    code, _, err = run(_ising_argv(tmp_path, "whole") + ["--json", str(tmp_path / "whole.json")], capsys)
    assert code == 0, err
    real = run_module.save_checkpoint
    calls = []

    def stop_after_three(*a, **k):  # Ctrl-C after the third checkpoint: the first temperature, part-way
        real(*a, **k)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "save_checkpoint", stop_after_three)
    argv = _ising_argv(tmp_path, "cut") + ["--json", str(tmp_path / "cut.json")]
    code, _, err = run(argv, capsys)
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "cut.json").exists()
    [partial] = list((tmp_path / "cut").glob("*.npz"))  # one unfinished checkpoint
    from thermolearn.storage import load_arrays

    assert 0 < load_arrays(partial)[1]["progress"]["sweeps_done"] < 320
    monkeypatch.setattr(run_module, "save_checkpoint", real)
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert _results(tmp_path / "cut.json") == _results(tmp_path / "whole.json")


def test_sample_writes_energy_mean_spins_tau_and_acceptance(tmp_path, capsys):
    model = Ising.sherrington_kirkpatrick(8, field=0.3, seed=1)
    model.save(tmp_path / "sk.npz")
    code, out, err = run(
        [
            "sample",
            str(tmp_path / "sk.npz"),
            "-T",
            "1.0",
            "--sweeps",
            "2000",
            "--burn-in",
            "100",
            "--json",
            str(tmp_path / "s.json"),
        ],
        capsys,
    )
    assert code == 0, err
    r = json.loads((tmp_path / "s.json").read_text())
    assert set(r) >= {"energy", "mean_spin", "mean_spin_stderr", "tau_int", "acceptance"}
    assert len(r["mean_spin"]) == 8 and len(r["mean_spin_stderr"]) == 8
    assert isinstance(r["mean_spin_reliable"], bool)
    assert 0 < r["acceptance"] < 1 and r["tau_int"] >= 0.5
    from thermolearn.exact import enumerate_exact

    exact = enumerate_exact(model, 1.0)[0]
    assert abs(r["energy"]["mean"] - exact.energy) < 5 * r["energy"]["stderr"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ising", "-L", "4", "-T", "2", "--algorithm", "magic"], "--algorithm"),
        (["ising", "-L", "1", "-T", "2"], "--size"),
        (["ising", "-L", "4", "-T", "0"], "> 0"),
        (["ising", "-L", "4", "-T", "2", "--sweeps", "0"], "--sweeps"),
        (["ising", "-L", "4", "-T", "2", "--json", "/no/such/dir/x.json"], "does not exist"),
        (["sample", "--lattice", "4x4", "-T", "-2"], "> 0"),
        (["sample", "--lattice", "4x4", "-T", "2", "--algorithm", "pt"], "--algorithm"),
    ],
)
def test_monte_carlo_commands_reject_bad_arguments_with_exit_code_2(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_warning_is_one_line_of_the_command_on_stderr(capsys):
    # Python's own format printed a source path and line of the library; the command now speaks for itself
    # the packed kernel makes every free flip, and warns that it is not ergodic on a 4x4 lattice
    argv = ["ising", "-L", "4", "-T", "2", "--sweeps", "50", "--burn-in", "5", "--algorithm", "metropolis-packed"]
    code, out, err = run([*argv, "--no-progress"], capsys)
    assert code == 0
    notes = [line for line in err.splitlines() if line.strip()]
    assert notes and notes[0].startswith("thermolearn ising: warning: ") and "not ergodic" in notes[0]
    assert "RuntimeWarning" not in err and ".py:" not in err


def test_a_frozen_chain_is_reported_without_an_error_bar(tmp_path, capsys):
    # a 4x4 ferromagnet at T = 0.3 never leaves the all-up state: the JSON has null errors, never NaN or 0
    out_json = tmp_path / "frozen.json"
    argv = ["sample", "--lattice", "4x4", "-T", "0.3", "--sweeps", "300", "--burn-in", "10", "--no-progress"]
    code, out, _ = run([*argv, "--json", str(out_json)], capsys)
    record = json.loads(out_json.read_text())
    assert code == 0 and "never left one state" in out
    assert record["frozen"] is True and record["reliable"] is False
    assert record["energy"]["stderr"] is None and record["energy_per_spin"]["stderr"] is None
    code, out, _ = run(["ising", "-L", "4", "-T", "0.3", "--sweeps", "300", "--no-progress"], capsys)
    assert code == 0 and "L = 4 T = 0.3: the chain never left one state" in out
