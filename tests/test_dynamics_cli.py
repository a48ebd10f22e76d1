"""``thermolearn dynamics langevin|sgd-temperature``: the JSON contracts, plots, bad input (exit 2,
nothing written) and a checkpointed run that gives the same record when run again."""

from __future__ import annotations

import json
import math

import pytest

from thermolearn.cli.main import main


def run(tmp_path, *argv):
    return main(["dynamics", *argv])


def test_langevin_contract(tmp_path):
    out = tmp_path / "out.json"
    argv = ["langevin", "--model", "linear-regression", "--sampler", "mala", "--step", "0.05", "--steps", "2000"]
    assert main(["dynamics", *argv, "--seed", "1", "--json", str(out), "--plot", str(tmp_path / "p.png")]) == 0
    record = json.loads(out.read_text())
    for key in ("mean", "cov", "exact_mean", "exact_cov", "mean_stderr"):
        assert record[key] is not None, key
    assert len(record["mean"]) == 2 and len(record["cov"]) == 2 and len(record["exact_cov"][0]) == 2
    z = [abs(m - e) / s for m, e, s in zip(record["mean"], record["exact_mean"], record["mean_stderr"])]
    assert max(z) < 4.0
    assert (tmp_path / "p.png").stat().st_size > 0


def test_langevin_mixture_contract(tmp_path):
    out = tmp_path / "out.json"
    argv = ["langevin", "--model", "mixture", "--sampler", "mala", "--step", "0.05", "--steps", "2000"]
    assert main(["dynamics", *argv, "--json", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    assert record["exact_mean"] is None and record["exact_cov"] is None
    assert len(record["mode_weights"]) == 2 and len(record["exact_mode_weights"]) == 2
    assert sum(record["exact_mode_weights"]) == pytest.approx(1.0)


def test_sgd_temperature_contract(tmp_path):
    out = tmp_path / "out.json"
    argv = ["sgd-temperature", "--curvature", "1", "--noise", "1", "--batch", "4", "--lr", "0.5", "--steps", "5000"]
    assert main(["dynamics", *argv, "--seed", "0", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert set(record["variance"]) == {"mean", "stderr"}
    assert abs(record["variance"]["mean"] - record["theory_variance"]) < 4 * record["variance"]["stderr"]
    assert record["sde_variance"] == pytest.approx(0.5 / 8)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["langevin", "--sampler", "ula", "--step", "2", "--steps", "2000"], "diverged at step"),
        (["langevin", "--sampler", "sgld", "--batch", "50", "--steps", "100"], "larger than the data"),
        (["langevin", "--sampler", "mala", "--batch", "5", "--steps", "100"], "sgld only"),
        (["sgd-temperature", "--batch", "30", "--data-size", "20"], "larger than the data"),
        (["sgd-temperature", "--lr", "2.5"], "diverges"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out.json"
    assert main(["dynamics", *argv, "--json", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_checkpointed_run_gives_the_same_record(tmp_path):
    argv = ["dynamics", "langevin", "--sampler", "sgld", "--step", "0.01", "--steps", "1000", "--batch", "5"]
    argv += ["--checkpoint", str(tmp_path / "ck.npz"), "--checkpoint-every", "500", "--no-progress"]
    assert main([*argv, "--json", str(tmp_path / "a.json")]) == 0
    assert main([*argv, "--json", str(tmp_path / "b.json")]) == 0  # resumes the finished run
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["resumed_from"] == 1000
    assert {k: v for k, v in a.items() if k not in ("arguments", "resumed_from")} == {
        k: v for k, v in b.items() if k not in ("arguments", "resumed_from")
    }


def test_ensemble_contract(tmp_path):
    out = tmp_path / "out.json"
    argv = ["ensemble", "--task", "digits", "--seeds", "3", "--epochs", "3", "--hidden", "16", "--batch", "50"]
    assert main(["dynamics", *argv, "--lr", "0.01", "--seed", "1", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    for key in ("test_loss", "test_accuracy", "distance_raw", "distance_aligned"):
        assert set(record[key]) == {"mean", "stderr", "spread"}, key
    assert len(record["rho"]) == 4 and record["ensemble_loss"] > 0


def test_random_features_contract(tmp_path):
    out = tmp_path / "out.json"
    assert main(["dynamics", "ensemble", "--task", "random-features", "--members", "30", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert set(record["summary"]) == {"randomised MAP", "plain seeds (GD)", "SGLD"}
    assert len(record["exact_mean"]) == len(record["x"])


def test_ebm_contract(tmp_path):
    out = tmp_path / "out.json"
    argv = ["ebm", "--iterations", "120", "--hidden", "16", "--batch", "64", "--langevin-steps", "10"]
    argv += ["--eval-every", "60", "--long-steps", "600", "--seed", "1"]
    assert main(["dynamics", *argv, "--json", str(out), "--plot", str(tmp_path / "e.png")]) == 0
    record = json.loads(out.read_text())
    assert len(record["test_log_likelihood"]) == len(record["kl_data_model"]) == 2
    assert set(record["sampling"]) == {"model", "short_run", "long_run"}


def test_network_plot_writes_the_figure_and_sane_temperatures(tmp_path):
    out, png = tmp_path / "out.json", tmp_path / "net.png"
    argv = ["sgd-temperature", "--steps", "500", "--chains", "2", "--network-plot", str(png), "--network-steps", "400"]
    assert main(["dynamics", *argv, "--seed", "0", "--json", str(out), "--no-progress"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = json.loads(out.read_text())["network"]
    assert sorted((r["lr"], r["batch"]) for r in runs) == [
        (0.05, 8),
        (0.1, 8),
        (0.1, 16),
        (0.2, 8),
        (0.2, 16),
        (0.4, 16),
    ]
    for r in runs:
        assert r["lr_over_batch"] == pytest.approx(r["lr"] / r["batch"])
        # a pretrained digits MLP: the loss is below chance (log 10 nats) and it fluctuates
        assert 0.0 < r["mean_loss"]["mean"] < math.log(10.0) and r["mean_loss"]["stderr"] >= 0.0
        assert 0.0 < r["sd_loss"]["mean"] < r["mean_loss"]["mean"] and r["sd_loss"]["stderr"] >= 0.0
    # the hotter runs (larger eta / S) fluctuate more: compare the extremes of the grid
    sd = {r["lr_over_batch"]: r["sd_loss"]["mean"] for r in runs}
    assert sd[0.025] > sd[0.00625]


def test_network_steps_needs_the_network_plot(tmp_path, capsys):
    assert main(["dynamics", "sgd-temperature", "--network-steps", "400", "--json", str(tmp_path / "o.json")]) == 2
    assert "--network-plot" in capsys.readouterr().err
