"""Kill -9 and resume, for every command with ``--checkpoint``.

A run killed at any moment -- mid-sweep, while a checkpoint is being written, between writing
the temporary file and renaming it, during the final writes -- and then run again with the same
arguments must end with the same JSON record and the same model file as a run never killed,
leave no temporary or lock file behind, and a finished run run once more must give the same
record again. Two processes on one checkpoint path: the second is refused at once.

Runs are forked children (see ``tests/fuzz_runner.py``): a kill at a random moment is the
child's time-out, and a kill inside a write is an ``os.fsync`` / ``os.replace`` that sends
SIGKILL to its own process.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz_runner import Outcome, kill_on_call, run_forked
from thermolearn.storage import load_arrays

# ---------------------------------------------------------------------------- the commands

# command -> (argv, outputs compared, checkpoint path, files the command reads)
COMMANDS: dict[str, tuple[list[str], tuple[str, ...], str]] = {
    "sample": (
        ["sample", "--lattice", "16x16", "-T", "2.3", "--sweeps", "30000", "--burn-in", "100", "--chains", "2"]
        + ["--checkpoint-every", "500", "--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "ising": (
        ["ising", "-L", "16", "-T", "2", "2.3", "2.6", "--sweeps", "6000", "--checkpoint", "ck"]
        + ["--checkpoint-every", "500", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck",
    ),
    "rbm train": (
        ["rbm", "train", "--data", "digits", "--limit", "300", "--hidden", "16", "--epochs", "12"]
        + ["--batch-size", "50", "--method", "pcd", "--momentum", "0.5", "--save", "model.npz"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json", "model.npz"),
        "ck.npz",
    ),
    "diffusion train": (
        ["diffusion", "train", "--data", "gaussians", "--steps", "4", "--hidden", "8", "--depth", "1"]
        + ["--iterations", "300", "--checkpoint", "ck.npz", "--checkpoint-every", "25", "--save", "model.npz"]
        + ["--json", "out.json", "--no-progress"],
        ("out.json", "model.npz"),
        "ck.npz",
    ),
    "diffusion bound": (
        ["diffusion", "bound", "trained.npz", "--n", "600", "--batch-size", "50", "--checkpoint", "ck.npz"]
        + ["--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "quantum pimc": (
        ["quantum", "pimc", "--chain", "8", "--field", "1", "-T", "1", "--slices", "16", "--sweeps", "120000"]
        + ["--chains", "2", "--seed", "1", "--checkpoint-every", "5000", "--checkpoint", "ck.npz"]
        + ["--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "quantum anneal": (
        ["quantum", "anneal", "--sk", "200", "--sweeps", "6000", "--reads", "4", "--slices", "8"]
        + ["--checkpoint-every", "250", "--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "quantum vmc": (
        ["quantum", "vmc", "--chain", "12", "--iterations", "300", "--samples", "256", "--checkpoint", "ck.npz"]
        + ["--checkpoint-every", "20", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "spinglass groundstate": (
        ["spinglass", "groundstate", "--sk", "20", "--samples", "30", "--algorithm", "pt", "--sweeps", "4000"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "spinglass pa": (
        ["spinglass", "pa", "--sk", "12", "--samples", "10", "-T", "0.5", "--population", "300", "--steps", "30"]
        + ["--sweeps", "4", "--runs", "4", "--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "spinglass pt": (
        ["spinglass", "pt", "--lattice", "4x4", "--samples", "6", "-T", "0.5:2:4", "--sweeps", "10000"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "spinglass overlaps": (
        ["spinglass", "overlaps", "--sk", "12,16", "--samples", "4", "-T", "0.6", "1.2", "--population", "200"]
        + ["--steps", "30", "--sweeps", "4", "--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "rg rbm": (
        ["rg", "rbm", "--size", "8", "--levels", "1", "--samples", "700", "--epochs", "60"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "dynamics langevin": (
        [
            "dynamics",
            "langevin",
            "--sampler",
            "mala",
            "--step",
            "0.05",
            "--steps",
            "40000",
            "--checkpoint-every",
            "2000",
        ]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "dynamics sgd-temperature": (
        ["dynamics", "sgd-temperature", "--lr", "0.3", "--steps", "200000", "--checkpoint-every", "20000"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "dynamics ensemble": (
        ["dynamics", "ensemble", "--task", "digits", "--seeds", "3", "--epochs", "4", "--hidden", "16"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "dynamics ebm": (
        ["dynamics", "ebm", "--iterations", "150", "--hidden", "16", "--batch", "64", "--langevin-steps", "10"]
        + [
            "--eval-every",
            "15",
            "--long-steps",
            "150",
            "--checkpoint",
            "ck.npz",
            "--json",
            "out.json",
            "--no-progress",
        ],
        ("out.json",),
        "ck.npz",
    ),
    "dynamics ebm digits": (
        ["dynamics", "ebm", "--data", "digits", "--iterations", "100", "--hidden", "16", "--batch", "64"]
        + ["--eval-every", "10", "--ais-runs", "8", "--ais-steps", "100", "--checkpoint", "ck.npz"]
        + ["--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
    "neural train": (
        ["neural", "train", "--lattice", "4x4", "-T", "2.5", "--steps", "150", "--batch-size", "128"]
        + ["--checkpoint-every", "25", "--samples", "1024", "--mcmc-sweeps", "20", "--checkpoint", "ck.npz"]
        + ["--save", "net.npz", "--json", "out.json", "--no-progress"],
        ("out.json", "net.npz"),
        "ck.npz",
    ),
    "rg mcrg": (
        ["rg", "mcrg", "--size", "64", "--blockings", "3", "--samples", "3000", "--checkpoint-every", "200"]
        + ["--checkpoint", "ck.npz", "--json", "out.json", "--no-progress"],
        ("out.json",),
        "ck.npz",
    ),
}

# record entries that measure time or describe the invocation, not the result
VOLATILE = ("seconds", "per_second", "time", "elapsed", "resumed", "arguments", "wall")


def _stable(value):
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if not any(word in k for word in VOLATILE)}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _results(folder: Path, outputs: tuple[str, ...]) -> dict[str, object]:
    found: dict[str, object] = {}
    for name in outputs:
        path = folder / name
        assert path.is_file(), f"{name} was not written"
        if name.endswith(".json"):
            found[name] = _stable(json.loads(path.read_text()))
        else:
            arrays, header = load_arrays(path)
            found[name] = ({k: v.tobytes() + str(v.dtype).encode() for k, v in arrays.items()}, _stable(header))
    return found


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith((".tmp", ".lock")))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A small diffusion model for ``diffusion bound``."""
    folder = tmp_path_factory.mktemp("trained")
    argv = ["diffusion", "train", "--data", "gaussians", "--steps", "4", "--hidden", "8", "--depth", "1"]
    argv += ["--iterations", "30", "--save", "trained.npz", "--no-progress"]
    outcome = run_forked(argv, folder, timeout=300)
    assert outcome.code == 0, outcome.describe()
    return folder / "trained.npz"


def _fresh(folder: Path, trained: Path) -> Path:
    folder.mkdir()
    (folder / "trained.npz").write_bytes(trained.read_bytes())
    return folder


_REFERENCES: dict[str, tuple[dict, float]] = {}


@pytest.fixture(scope="module")
def references(trained, tmp_path_factory):
    """Each command run once, never killed, on first use: its results and how long it took.

    Every test of one command carries that command's xdist group, so under ``--dist loadgroup``
    one worker runs them all and computes the command's reference once."""

    def reference(command: str) -> tuple[dict, float]:
        if command not in _REFERENCES:
            argv, outputs, _ = COMMANDS[command]
            folder = _fresh(tmp_path_factory.mktemp("reference") / command.replace(" ", "_"), trained)
            start = time.monotonic()
            outcome = run_forked(argv, folder, timeout=600)
            assert outcome.code == 0, f"{command}: {outcome.describe()}"
            _REFERENCES[command] = (_results(folder, outputs), time.monotonic() - start)
        return _REFERENCES[command]

    return reference


def _per_command(commands) -> list:
    return [pytest.param(c, marks=pytest.mark.xdist_group(f"kill-resume {c}")) for c in sorted(commands)]


def _finish(command: str, folder: Path) -> Outcome:
    argv, _, _ = COMMANDS[command]
    outcome = run_forked(argv, folder, timeout=600)
    assert outcome.code == 0, f"{command} did not resume: {outcome.describe()}"
    return outcome


# rows that run a second workload of one command (another data set, another code path)
VARIANT_OF = {"dynamics ebm digits": "dynamics ebm"}

# ---------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("command", _per_command(COMMANDS))
def test_killed_at_random_moments_a_run_resumes_to_the_results_of_a_run_never_killed(
    command, references, trained, tmp_path
):
    argv, outputs, checkpoint = COMMANDS[command]
    expected, seconds = references(command)
    rng = np.random.default_rng(sum(map(ord, command)))
    kills, attempt = 0, 0
    while kills == 0:
        # the reference paid for compiling; a run that finishes before its kill is tried again,
        # from scratch, with a shorter life
        assert attempt < 6, "no kill landed inside the run; the workload is too short for this test"
        folder = _fresh(tmp_path / f"run{attempt}", trained)
        for fraction in rng.uniform(0.15, 0.9, size=2) / 2**attempt:
            outcome = run_forked(argv, folder, timeout=max(0.1, fraction * seconds))
            if outcome.code == 0:
                break
            assert outcome.timed_out and outcome.signal == signal.SIGKILL, outcome.describe()
            kills += 1
        attempt += 1
    _finish(command, folder)
    assert _results(folder, outputs) == expected
    assert not _leftovers(folder), _leftovers(folder)
    # a finished run run again: the same record, nothing recomputed into something else
    _finish(command, folder)
    assert _results(folder, outputs) == expected
    assert (folder / checkpoint).exists()


WRITE_KILLS = [
    # (function in os, its call number): mid-write (fsync of the temporary file), between the
    # complete temporary file and its rename, and at a later checkpoint or the final outputs
    ("fsync", 1),
    ("replace", 1),
    ("replace", 3),
]


def _write_kill_cases() -> list:
    """Each command killed at one of the write moments, in turn, so every moment is tried on a third
    of the commands (all writes go through storage's one atomic writer; 18 commands x 3 moments
    took 5.6 minutes of a worker)."""
    cases = []
    for k, command in enumerate(sorted(COMMANDS)):
        function, call = WRITE_KILLS[k % len(WRITE_KILLS)]
        marks = pytest.mark.xdist_group(f"kill-resume {command}")
        cases.append(pytest.param(command, function, call, marks=marks, id=f"{function}{call}-{command}"))
    return cases


@pytest.mark.parametrize(("command", "function", "call"), _write_kill_cases())
def test_killed_inside_a_write_a_run_resumes_and_leaves_no_temporary_file(
    command, function, call, references, trained, tmp_path
):
    argv, outputs, _ = COMMANDS[command]
    expected, _ = references(command)
    folder = _fresh(tmp_path / "run", trained)
    outcome = run_forked(argv, folder, timeout=600, before=kill_on_call("os", function, call))
    if outcome.code == 0:
        pytest.fail(f"{command} made fewer than {call} {function} calls; choose an earlier call")
    assert outcome.signal == signal.SIGKILL, outcome.describe()
    for name in outputs:  # an output is complete or absent, never half-written
        path = folder / name
        if path.exists() and name.endswith(".json"):
            json.loads(path.read_text())
        elif path.exists():
            load_arrays(path)
    _finish(command, folder)
    assert _results(folder, outputs) == expected
    assert not _leftovers(folder), _leftovers(folder)


def test_a_second_process_on_the_same_checkpoint_is_refused_at_once(trained, tmp_path):
    argv, _, checkpoint = COMMANDS["sample"]
    folder = _fresh(tmp_path / "run", trained)
    long_argv = [*argv]
    long_argv[long_argv.index("--sweeps") + 1] = "100000000"
    from thermolearn.storage import exclusive_lock

    with exclusive_lock(folder / checkpoint):  # as a running first process holds it
        outcome = run_forked(long_argv, folder, timeout=60)
    assert outcome.code == 2, outcome.describe()
    [line] = outcome.error_lines
    assert "ck.npz" in line and "in use by process" in line and str(os.getpid()) in line
    assert not (folder / checkpoint).exists() and not (folder / "out.json").exists()


def test_a_lock_left_by_a_killed_process_does_not_block_its_resume(trained, tmp_path):
    argv, outputs, checkpoint = COMMANDS["sample"]
    folder = _fresh(tmp_path / "run", trained)
    outcome = run_forked(argv, folder, timeout=600, before=kill_on_call("os", "replace", 1))
    assert outcome.signal == signal.SIGKILL, outcome.describe()
    assert (folder / (checkpoint + ".lock")).exists()  # the file stays; the kernel dropped the lock
    _finish("sample", folder)
    assert not _leftovers(folder)


def test_every_command_with_a_checkpoint_option_is_killed_and_resumed_here():
    from thermolearn.cli.main import build_parser

    def leaves(parser, prefix=()):
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            yield " ".join(prefix), parser
            return
        for name, child in subs[0].choices.items():
            yield from leaves(child, (*prefix, name))

    with_checkpoint = {
        name
        for name, parser in leaves(build_parser())
        if any("--checkpoint" in a.option_strings for a in parser._actions)
    }
    commands = {VARIANT_OF.get(name, name) for name in COMMANDS}
    assert with_checkpoint == commands, f"add a row to COMMANDS for {sorted(with_checkpoint - commands)}"
