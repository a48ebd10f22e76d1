"""Sweeps over grids: seeds from the coordinates, the same results serially, on a process pool and
on a 2-worker Dask LocalCluster, one file per point, and a killed sweep resumed point by point."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from thermolearn.runs.sweep import grid_points, load_config, open_executor, point_seed, sweep

GRID = {"size": [4, 6], "temperature": [2.0, 3.0]}
PARAMETERS = {"sweeps": 100, "burn_in": 10}


@pytest.fixture(scope="module")
def serial():
    return sweep(GRID, "ising", parameters=PARAMETERS, seed=5)


@pytest.fixture(scope="module")
def pool():
    """Two spawned workers shared by the tests (a fresh process takes seconds to import)."""
    with open_executor(2) as executor:
        yield executor


def test_seeds_come_from_the_point_not_its_place_in_the_grid():
    small = grid_points({"size": [4], "temperature": [2.0]})[0]
    big = grid_points({"temperature": [1.0, 2.0], "size": [8, 4]})
    same = [p for p in big if p == small]
    assert len(big) == 4 and len(same) == 1
    assert point_seed(small, 0).generate_state(4).tolist() == point_seed(same[0], 0).generate_state(4).tolist()
    others = [point_seed(p, 0).generate_state(4).tolist() for p in big if p != small]
    others.append(point_seed(small, 1).generate_state(4).tolist())
    others.append(point_seed({**small, "replica": 1}, 0).generate_state(4).tolist())
    assert point_seed(small, 0).generate_state(4).tolist() not in others


def test_the_first_axis_varies_slowest():
    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert [(p["a"], p["b"]) for p in points] == [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]


def test_results_are_bit_identical_serially_on_a_process_pool_and_on_dask(serial, pool):
    pytest.importorskip("distributed")
    pooled = sweep(GRID, "ising", pool, parameters=PARAMETERS, seed=5)
    lines: list[str] = []
    with open_executor(2, dask=True, announce=lines.append) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        dasked = sweep(GRID, "ising", client, parameters=PARAMETERS, seed=5)
        # --scheduler ADDRESS: a client of an existing cluster (here the one just started)
        with open_executor(scheduler=client.scheduler.address) as other:
            remote = sweep(GRID, "ising", other, parameters=PARAMETERS, seed=5)
    assert "dashboard http" in lines[0]
    assert remote.records == serial.records
    assert pooled.records == serial.records
    assert dasked.records == serial.records
    assert pooled.seeds == serial.seeds == dasked.seeds
    assert len({json.dumps(r["energy_per_spin"]) for r in serial.records}) == 4, "different points differ"


def test_each_point_is_its_own_file_and_a_rerun_reads_them_back(serial, tmp_path):
    first = sweep(GRID, "ising", parameters=PARAMETERS, seed=5, output=tmp_path)
    assert first.computed == 4 and first.records == serial.records
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["complete"] and len(manifest["points"]) == 4
    files = sorted(tmp_path.glob("point-*.json"))
    assert [f.name for f in files] == sorted(p["file"] for p in manifest["points"])
    files[0].unlink()  # as if the sweep had been killed before that point finished
    again = sweep(GRID, "ising", parameters=PARAMETERS, seed=5, output=tmp_path)
    assert (again.computed, again.reused) == (1, 3) and again.records == serial.records
    with pytest.raises(ValueError, match="different sweep"):
        sweep(GRID, "ising", parameters={**PARAMETERS, "sweeps": 50}, seed=5, output=tmp_path)


def test_a_killed_sweep_rerun_computes_only_the_missing_points(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text(
        'task = "ising"\nseed = 2\noutput = "out"\n[parameters]\nsweeps = 2000\nburn_in = 10\nchains = 2\n'
        "[grid]\nsize = [8]\ntemperature = [1.5, 2.0, 2.5, 3.0, 3.5, 4.0]\n"
    )
    command = [sys.executable, "-m", "thermolearn", "sweep", str(config), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = tmp_path / "out"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("point-*.json"))) < 2 and process.poll() is None:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = len(list(out.glob("point-*.json")))
    assert 2 <= done < 6, f"the kill came after {done} of 6 points"
    report = tmp_path / "report.json"
    rerun = subprocess.run(command + ["--json", str(report)], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    record = json.loads(report.read_text())
    assert record["resumed"] == done and len(record["points"]) == 6
    settings = load_config(config)
    whole = sweep(settings.grid, settings.task, parameters=settings.parameters, seed=settings.seed)
    assert [p["result"] for p in record["points"]] == whole.records


def test_the_tasks_agree_with_exact_answers():
    from thermolearn.exact.enumeration import enumerate_exact
    from thermolearn.spinglass.ensembles import edwards_anderson_instance

    pa = sweep({"instance": [3]}, "population-annealing", parameters={
        "lattice": "3x3", "temperature": 1.0, "population": 200, "steps": 20, "sweeps": 2, "runs": 4,
    })  # fmt: skip
    for point, record in zip(pa.points, pa.records):
        exact = enumerate_exact(edwards_anderson_instance([3, 3], "pm", point["instance"]), 1.0)[0]
        mean, err = record["log_z"]["mean"], record["log_z"]["stderr"]
        assert abs(mean - exact.log_z) < 4 * err + 1e-9, (mean, err, exact.log_z)
    gs = sweep({"instance": [0, 1]}, "groundstate", parameters={"sk": 10, "sweeps": 1000, "algorithm": "pt"})
    assert all(r["hit"] for r in gs.records), gs.records
    assert all(math.isclose(r["best_energy"], r["exact_ground_energy"], abs_tol=1e-9) for r in gs.records)


@pytest.mark.parametrize(
    ("grid", "parameters", "match"),
    [
        ({}, {}, "non-empty"),
        ({"size": []}, {"temperature": 2.0}, "non-empty list"),
        ({"size": [4, 4]}, {"temperature": 2.0}, "repeats"),
        ({"size": [4], "colour": [1]}, {"temperature": 2.0}, "no parameter 'colour'"),
        ({"size": [4]}, {}, "needs temperature"),
        ({"size": [4], "temperature": [2.0]}, {"size": 4}, "both swept"),
        ({"size": [4], "temperature": [math.inf]}, {}, "finite"),
    ],
)
def test_bad_grids_are_refused_by_name(grid, parameters, match):
    with pytest.raises(ValueError, match=match):
        sweep(grid, "ising", parameters=parameters)


def test_unknown_task_and_bad_configs_exit_2(tmp_path):
    with pytest.raises(ValueError, match="task must be one of"):
        sweep({"size": [4]}, "magic")
    from thermolearn.cli.main import main

    bad = tmp_path / "bad.toml"
    for text in ('task = "ising"\n', 'task = "ising"\ncolour = 1\n[grid]\nsize = [4]\n', "task = [\n"):
        bad.write_text(text)
        assert main(["sweep", str(bad), "--no-progress"]) == 2
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert main(["sweep", str(bad), "--dask", "--scheduler", "tcp://x:1"]) == 2


def test_ising_gives_the_serial_results_with_workers(tmp_path, pool, monkeypatch):
    import contextlib
    import importlib

    from thermolearn.cli.main import main

    module = importlib.import_module("thermolearn.runs.sweep")  # the module (the package's 'sweep' is the function)

    opened = []

    @contextlib.contextmanager
    def shared_pool(workers=None, **kwargs):
        opened.append(workers)
        yield pool if workers else None

    # --workers 2 gets the warm shared pool instead of spawning two more processes
    monkeypatch.setattr(module, "open_executor", shared_pool)

    argv = ["ising", "-L", "4", "-T", "2.0", "-T", "3.0", "--sweeps", "100", "--burn-in", "10", "--no-progress"]
    results = []
    for extra in ([], ["--workers", "2"]):
        path = tmp_path / f"ising{len(extra)}.json"
        assert main([*argv, *extra, "--json", str(path)]) == 0
        record = json.loads(path.read_text())
        record.pop("arguments")
        results.append(record)
    assert results[0] == results[1] and opened == [None, 2]
