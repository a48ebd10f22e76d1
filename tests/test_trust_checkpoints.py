"""Crafted checkpoints and model files are refused before anything uses them (issue 22).

Each test writes a valid file with the library, changes one thing the way an attacker or a
damaged disk would, and checks that loading it raises ``FileFormatError`` naming the file --
never a crash in a compiled kernel, never a run that goes on with wrong numbers.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.storage import FileFormatError, load_arrays, save_arrays

# ---------------------------------------------------------------------------- run checkpoints

RUN = dict(sweeps=20, burn_in=2, n_chains=2, checkpoint_every=5, progress=False)


def _run(path: Path, **kw):
    from thermolearn.runs.sample import sample

    return sample(Ising.lattice((3, 3)), "metropolis", 2.0, checkpoint=path, **{**RUN, **kw})


def _rewrite(path: Path, change) -> None:
    arrays, header = load_arrays(path)
    arrays, header = change(dict(arrays), json.loads(json.dumps(header)))
    save_arrays(path, arrays, header)


def _progress(**values):
    return lambda a, h: (a, {**h, "progress": {**h["progress"], **values}})


def _array(name, change):
    return lambda a, h: ({**a, name: change(np.array(a[name]))}, h)


RUN_CRAFTED = {
    "rng cut to one column": (_array("chain_rng", lambda x: x[:, :1].copy()), "chain_rng"),
    "all-zero generator state": (_array("chain_rng", np.zeros_like), "all-zero generator"),
    "float generator state": (_array("chain_rng", lambda x: x.astype(np.float64)), "chain_rng"),
    "spins not spins": (_array("chain_spins", lambda x: np.where(x > 0, 5, x).astype(x.dtype)), "chain_spins"),
    "one chain": (_array("chain_spins", lambda x: x[:1].copy()), "chain_spins"),
    "energy offset": (_array("chain_energy", lambda x: x + 100.0), "energy"),
    "magnetization offset": (_array("chain_magnetization", lambda x: x + 4.0), "magnetization"),
    "short series": (_array("energy", lambda x: x[:, :3].copy()), "energy"),
    # recorded series no state of a 3x3 lattice (|E| <= 18, |M| <= 9) can give
    "recorded energy beyond the bound": (_array("energy", lambda x: np.full_like(x, 1000.0)), "'energy' holds 1000"),
    "recorded energy infinite": (_array("energy", lambda x: np.where(x == x, np.inf, x)), "'energy'"),
    "recorded magnetization beyond N": (_array("magnetization", lambda x: x + 100.0), "'magnetization' holds"),
    "recorded magnetization fractional": (_array("magnetization", lambda x: x + 0.5), "'magnetization' holds"),
    "recorded magnetization of the wrong parity": (_array("magnetization", lambda x: x * 0 + 2.0), "parity"),
    "site sums beyond the samples": (_array("site_sums", lambda x: x + 1000.0), "'site_sums' holds"),
    "site sums fractional": (_array("site_sums", lambda x: x + 0.25), "'site_sums' holds"),
    "sweeps done beyond the run": (_progress(sweeps_done=10**9), "sweeps_done"),
    "negative sweeps": (_progress(sweeps_done=-5), "sweeps_done"),
    "samples inconsistent with sweeps": (_progress(samples_done=3), "samples_done"),
    "accepted over attempted": (_progress(accepted=10**12), "accepted"),
    "run a string": (lambda a, h: (a, {**h, "run": "same"}), "run"),
    "progress a list": (lambda a, h: (a, {**h, "progress": [1, 2]}), "progress"),
}


@pytest.mark.parametrize("label", sorted(RUN_CRAFTED))
def test_a_crafted_run_checkpoint_is_refused_naming_the_file(label, tmp_path):
    change, word = RUN_CRAFTED[label]
    path = tmp_path / "ck.npz"
    _run(path)
    _rewrite(path, change)
    with pytest.raises(FileFormatError, match=word) as info:
        _run(path)
    assert str(path) in str(info.value)


def _cut_after_two_checkpoints(path: Path, monkeypatch, **kw) -> None:
    """Leave at ``path`` the checkpoint a run killed after its second save wrote (a run halfway)."""
    sample_module = importlib.import_module("thermolearn.runs.sample")
    real = sample_module._write_checkpoint
    calls = [0]

    def crash_after_two(*args, **kwargs):
        real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(sample_module, "_write_checkpoint", crash_after_two)
        with pytest.raises(KeyboardInterrupt):
            _run(path, **kw)


@pytest.mark.parametrize(
    "name, message",
    [("energy", "past the 8 samples"), ("magnetization", "past the 8 samples"), ("site_sums", "'site_sums' holds")],
)
def test_series_values_past_the_samples_done_are_refused(name, message, tmp_path, monkeypatch):
    path = tmp_path / "cut.npz"
    _cut_after_two_checkpoints(path, monkeypatch)
    assert load_arrays(path)[1]["progress"]["samples_done"] == 8  # 10 sweeps, burn-in 2
    _rewrite(path, _array(name, lambda x: np.concatenate([x[:, :8], x[:, 8:] + 1.0], axis=1)))
    with pytest.raises(FileFormatError, match=message) as info:
        _run(path)
    assert str(path) in str(info.value)


def test_recorded_states_past_the_samples_done_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "cut.npz"
    _cut_after_two_checkpoints(path, monkeypatch, record_states=True)
    _rewrite(path, _array("states", lambda x: np.concatenate([x[:, :8], x[:, 8:] * 0 + 1], axis=1)))
    with pytest.raises(FileFormatError, match="'states' must hold spins"):
        _run(path, record_states=True)


def test_a_recorded_energy_within_the_running_rounding_is_accepted(tmp_path):
    """The bound on a recorded energy allows the drift ChainState.check allows a running one."""
    path = tmp_path / "ck.npz"
    whole = _run(path)
    _rewrite(path, _array("energy", lambda x: np.where(x < 0, -18.0 - 1e-6, 18.0 + 1e-6)))
    resumed = _run(path)
    assert np.all(np.abs(resumed.energy) == 18.0 + 1e-6) and resumed.energy.shape == whole.energy.shape


def test_an_untouched_checkpoint_still_resumes_bit_identically(tmp_path, monkeypatch):
    """The checks accept what the library wrote: a run cut at a checkpoint ends as one never cut."""
    whole = _run(tmp_path / "whole.npz")
    path = tmp_path / "cut.npz"
    _cut_after_two_checkpoints(path, monkeypatch)
    resumed = _run(path)
    assert np.array_equal(resumed.energy, whole.energy) and np.array_equal(resumed.magnetization, whole.magnetization)
    assert resumed.accepted == whole.accepted


def test_a_run_too_large_for_memory_is_refused_before_allocating():
    from thermolearn.runs.sample import sample

    with pytest.raises(ValueError, match="memory"):
        sample(Ising.lattice((3, 3)), "metropolis", 2.0, sweeps=10**12, n_chains=1, progress=False)
    with pytest.raises(ValueError, match="memory"):
        sample(Ising.lattice((3, 3)), "metropolis", 2.0, sweeps=10, n_chains=10**9, progress=False)


def test_ising_checkpoint_names_are_exact_and_unique():
    from thermolearn.cli.ising_command import _temperature_tag

    assert _temperature_tag(2.0) == "2"  # the names earlier versions wrote
    assert _temperature_tag(2.3) == "2.3"
    assert _temperature_tag(2.00000000001) != _temperature_tag(2.0)
    assert float(_temperature_tag(2.00000000001)) == 2.00000000001


BOUNDSCHECK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from thermolearn import Ising
    from thermolearn.runs.sample import sample
    from thermolearn.storage import FileFormatError, load_arrays, save_arrays

    def run():
        return sample(Ising.lattice((3, 3)), "metropolis", 2.0, sweeps=20, burn_in=2, n_chains=2,
                      checkpoint="ck.npz", checkpoint_every=5, progress=False)

    run()
    arrays, header = load_arrays("ck.npz")
    # a checkpoint that looks like an earlier stage of the run: the kernels run on its chains
    # (20 samples in 20 batches of one: nothing recorded past the 10th sample yet)
    header["progress"].update(sweeps_done=12, samples_done=10)
    for name in ("energy", "magnetization", "site_sums"):
        arrays[name][:, 10:] = 0
    save_arrays("ck.npz", arrays, header)
    run()
    arrays, header = load_arrays("ck.npz")
    arrays["chain_rng"] = arrays["chain_rng"][:, :1].copy()
    save_arrays("ck.npz", arrays, header)
    try:
        run()
    except FileFormatError as exc:
        print("refused:", exc)
    else:
        sys.exit("a generator state cut to one column was accepted")
    """
)


def test_checkpoint_chains_run_under_numba_boundscheck(tmp_path):
    """A debug run: kernels compiled with bounds checks (a fresh cache) sweep chains read back from
    a checkpoint without an out-of-bounds index, and a cut generator state never reaches them."""
    env = dict(os.environ)
    env.update(NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), OPENBLAS_NUM_THREADS="1")
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run(
        [sys.executable, "-c", BOUNDSCHECK_SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refused:" in done.stdout and "ck.npz" in done.stdout


# ---------------------------------------------------------------------------- RBM training


def _train(path: Path, epochs: int = 2, **kw):
    from thermolearn.learning.contrastive_divergence import train_rbm
    from thermolearn.models.rbm import RBM

    data = (np.random.default_rng(0).random((40, 12)) < 0.3).astype(np.float64)
    model = RBM.random(12, 4, seed=0)
    options = dict(epochs=epochs, method="pcd", batch_size=20, momentum=0.5, checkpoint=path, progress=False)
    return train_rbm(model, data, **{**options, **kw})


RBM_CRAFTED = {
    "velocity short": (_array("train:velocity:weights", lambda x: x[:, :2].copy()), "velocity"),
    "velocity NaN": (_array("train:velocity:weights", lambda x: np.full_like(x, np.nan)), "NaN"),
    "chains short": (_array("train:chains:0", lambda x: x[:3].copy()), "chains"),
    "chains not binary": (_array("train:chains:0", lambda x: x + 7.0), "chains"),
    "history one element": (_array("train:history:reconstruction_error", lambda x: x[:1].copy()), "history"),
    "epoch beyond the run": (lambda a, h: (a, {**h, "checkpoint": {**h["checkpoint"], "epoch": 10**9}}), "epoch"),
    "epoch a string": (lambda a, h: (a, {**h, "checkpoint": {**h["checkpoint"], "epoch": "one"}}), "epoch"),
    "checkpoint a list": (lambda a, h: (a, {**h, "checkpoint": [1]}), "checkpoint"),
    "weights NaN": (_array("weights", lambda x: np.full_like(x, np.nan)), "NaN"),
    "n_hidden a string": (lambda a, h: (a, {**h, "n_hidden": "many"}), "n_hidden"),
}


@pytest.mark.parametrize("label", sorted(RBM_CRAFTED))
def test_a_crafted_rbm_checkpoint_is_refused_naming_the_file(label, tmp_path):
    change, word = RBM_CRAFTED[label]
    path = tmp_path / "ck.npz"
    _train(path)
    _rewrite(path, change)
    with pytest.raises(FileFormatError, match=word) as info:
        _train(path)
    assert str(path) in str(info.value)


def test_training_that_diverges_without_overflowing_is_stopped(tmp_path):
    with pytest.raises(ValueError, match="diverged.*learning rate"):
        _train(tmp_path / "ck.npz", epochs=1, learning_rate=1e6)


def test_rerunning_a_finished_rbm_checkpoint_gives_the_same_record_and_model(tmp_path, monkeypatch, capsys):
    from thermolearn.cli.main import main

    monkeypatch.chdir(tmp_path)
    argv = ["rbm", "train", "--data", "digits", "--limit", "100", "--hidden", "4", "--epochs", "2"]
    argv += ["--batch-size", "50", "--method", "pcd", "--save", "m.npz", "--checkpoint", "ck.npz", "--no-progress"]
    assert main([*argv, "--json", "a.json"]) == 0
    first = (tmp_path / "m.npz").read_bytes()
    assert main([*argv, "--json", "b.json"]) == 0
    assert (tmp_path / "m.npz").read_bytes() == first
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    a.pop("arguments", None), b.pop("arguments", None)
    assert a == b
    assert a["training"]["seconds_per_epoch"] is not None
    assert "nan" not in capsys.readouterr().out


# ---------------------------------------------------------------------------- diffusion


@pytest.fixture(scope="module")
def diffusion_file(tmp_path_factory) -> Path:
    from thermolearn.diffusion import DiffusionModel

    path = tmp_path_factory.mktemp("diffusion") / "m.npz"
    DiffusionModel.create(dim=2, steps=4, hidden=8, depth=1).save(path)
    return path


DIFFUSION_CRAFTED = {
    "weight NaN": (_array("net.layers[0].weight", lambda x: np.full_like(x, np.nan)), "NaN"),
    "weight complex": (_array("net.layers[0].weight", lambda x: x.astype(np.complex64)), "complex"),
    "weight int": (_array("net.layers[0].weight", lambda x: x.astype(np.int32)), "int32"),
    "config missing": (lambda a, h: (a, {k: v for k, v in h.items() if k != "config"}), "config"),
    "config a string": (lambda a, h: (a, {**h, "config": "mlp"}), "config"),
    "steps negative": (lambda a, h: (a, {**h, "config": {**h["config"], "steps": -1}}), "steps"),
    "process bogus": (lambda a, h: (a, {**h, "config": {**h["config"], "process": "bogus"}}), "process"),
    "betas strings": (lambda a, h: (a, {**h, "betas": ["a"] * len(h["betas"])}), "betas"),
    "steps beyond memory": (lambda a, h: (a, {**h, "config": {**h["config"], "steps": 10**15}}), "memory"),
}


@pytest.mark.parametrize("label", sorted(DIFFUSION_CRAFTED))
def test_a_crafted_diffusion_model_is_refused_naming_the_file(label, diffusion_file, tmp_path):
    from thermolearn.diffusion import DiffusionModel

    change, word = DIFFUSION_CRAFTED[label]
    path = tmp_path / "crafted.npz"
    path.write_bytes(diffusion_file.read_bytes())
    _rewrite(path, change)
    with pytest.raises(FileFormatError, match=word) as info:
        DiffusionModel.load(path)
    assert str(path) in str(info.value)


def test_a_diffusion_checkpoint_with_another_key_or_step_is_refused(tmp_path):
    from thermolearn.diffusion import DiffusionModel, train

    data = np.random.default_rng(0).normal(size=(64, 2))
    path = tmp_path / "ck.npz"

    def run():
        model = DiffusionModel.create(dim=2, steps=4, hidden=8, depth=1)
        return train(model, data, iterations=10, batch_size=16, checkpoint=path, checkpoint_every=5, progress=False)

    run()
    saved = path.read_bytes()
    changes = {
        "train:key": _array("train:key", lambda x: np.concatenate([x, x])),
        "step": lambda a, h: (a, {**h, "checkpoint": {**h["checkpoint"], "step": 10**9}}),
        "count": _array("opt[1][0].count", lambda x: np.array(-5, dtype=x.dtype)),
        "losses": _array("train:losses", lambda x: x[:3].copy()),
    }
    for word, change in changes.items():
        path.write_bytes(saved)
        _rewrite(path, change)
        with pytest.raises(FileFormatError, match=word):
            run()


def test_a_data_path_in_a_model_header_is_not_followed():
    from thermolearn.cli.diffusion_command import _dataset_of

    header = {"dataset": {"argument": "/etc", "name": "mnist", "seed": 0}}
    with pytest.raises(ValueError, match="--data"):
        _dataset_of(header, None)
    assert _dataset_of(header, "gaussians")[0] == "gaussians"
    assert _dataset_of({"dataset": {"argument": "gaussians", "seed": 3}}, None)[:2] == ("gaussians", 3)


def test_a_parallel_tempering_state_sized_for_other_chains_is_refused_not_restarted(tmp_path):
    """A crafted PT state with fewer runs than the chains: refused, never silently reset."""
    from thermolearn.runs.sample import sample

    path = tmp_path / "pt.npz"

    def run():
        return sample(
            Ising.lattice((3, 3)), "pt", None, temperatures=[2.0, 2.5, 3.0], checkpoint=path,
            sweeps=20, burn_in=2, n_chains=2, checkpoint_every=5, progress=False,
        )  # fmt: skip

    run()
    one_run = {"exchange_rng": (1, 4), "exchange_accepted": (1, 2), "exchange_attempted": (1, 2)}
    one_run |= {"replica": (3,), "direction": (3,), "flow_counts": (1, 3, 2), "round_trips": (1,)}

    def cut(arrays, header):
        out = dict(arrays)
        for name, shape in one_run.items():
            key = f"sampler_{name}"
            out[key] = np.array(arrays[key]).reshape(-1)[: int(np.prod(shape))].reshape(shape).copy()
        return out, header

    _rewrite(path, cut)
    with pytest.raises(FileFormatError, match="parallel tempering state holds 1 run") as info:
        run()
    assert str(path) in str(info.value)
