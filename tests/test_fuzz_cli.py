"""Bad input at every door of the command line: one line on stderr, exit code 2, nothing written.

A table of cases over every subcommand and every class of bad input (damaged and crafted files
for every input-file option, bad argument values, crafted checkpoints, huge sizes, outputs that
would destroy inputs). Each case asserts the README's promise: exit code 2, exactly one
non-empty stderr line that names the file or the option, no traceback, no output left behind,
and never a signal. Cases run ``thermolearn.cli.main.main`` in a forked child (milliseconds, yet
a crash kills only the child); a few run the real entry point in a subprocess. A case the parser
alone refuses (most bad values of an option) is checked in-process: nothing runs after a parse
error, and the fork cost about four fifths of this file's minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz_files import structural_damages, write_npz
from tests.fuzz_runner import GENERIC_MEMORY_ERROR, Outcome, interrupt_after, listing, run_forked, run_subprocess
from thermolearn.cli.main import build_parser
from thermolearn.storage import load_arrays

GiB = 2**30

# ---------------------------------------------------------------------------- seeds


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """Valid small files of every kind, written by the library itself, and partial checkpoints."""
    from thermolearn import Ising
    from thermolearn.models.rbm import RBM

    folder = tmp_path_factory.mktemp("fuzz_seeds")
    Ising.lattice((3, 3)).save(folder / "ising.npz")
    Ising.lattice((4, 4)).save(folder / "lattice4.npz")
    (folder / "edges.txt").write_text("3 3\n1 2 1\n2 3 1\n3 1 1\n")
    (folder / "grid.toml").write_text(
        'task = "ising"\n[parameters]\nsweeps = 20\nburn_in = 2\n[grid]\nsize = [3]\ntemperature = [2.0, 2.5]\n'
    )
    RBM.random(64, 4, seed=0).save(folder / "rbm.npz")
    rng = np.random.default_rng(0)
    patterns = rng.choice(np.array([-1, 1], dtype=np.int8), size=(3, 16))
    np.save(folder / "patterns.npy", patterns)
    np.savez(folder / "patterns.npz", patterns=patterns)
    np.savetxt(folder / "patterns.txt", patterns, fmt="%d")
    steps = [
        ["hopfield", "store", "--data", "digits", "--save", "net.npz"],
        ["diffusion", "train", "--data", "gaussians", "--steps", "4", "--hidden", "8", "--depth", "1"]
        + ["--iterations", "20", "--save", "diffusion.npz", "--no-progress"],
        ["neural", "train", "--lattice", "3x3", "-T", "2", "--steps", "5", "--batch-size", "16", "--samples", "64"]
        + ["--mcmc-sweeps", "0", "--save", "van.npz", "--no-progress"],
    ]
    for argv in steps:
        outcome = run_forked(argv, folder, timeout=300)
        assert outcome.code == 0, outcome.describe()
    _partial_checkpoints(folder)
    return folder


# argv of each checkpointed command; the partial checkpoint is made by interrupting it
CHECKPOINTED = {
    "sample": (
        ["sample", "--lattice", "3x3", "-T", "2", "--sweeps", "100", "--burn-in", "10", "--chains", "2"]
        + ["--checkpoint", "sample_ck.npz", "--checkpoint-every", "20", "--no-progress", "--json", "out.json"],
        ("thermolearn.runs.sample", "save_checkpoint", 2),
        "sample_ck.npz",
    ),
    "ising": (
        ["ising", "-L", "3", "-T", "2", "--sweeps", "100", "--burn-in", "10", "--checkpoint", "ising_ck"]
        + ["--checkpoint-every", "20", "--no-progress", "--json", "out.json"],
        ("thermolearn.runs.sample", "save_checkpoint", 2),
        "ising_ck",
    ),
    "rbm train": (
        ["rbm", "train", "--data", "digits", "--limit", "100", "--hidden", "4", "--epochs", "3", "--batch-size"]
        + ["50", "--method", "pcd", "--momentum", "0.5", "--save", "out.npz", "--checkpoint", "rbm_ck.npz"]
        + ["--no-progress", "--json", "out.json"],
        ("thermolearn.learning.contrastive_divergence", "_save_checkpoint", 1),
        "rbm_ck.npz",
    ),
    "diffusion train": (
        ["diffusion", "train", "--data", "gaussians", "--steps", "4", "--hidden", "8", "--depth", "1"]
        + ["--iterations", "40", "--checkpoint", "diffusion_ck.npz", "--checkpoint-every", "10"]
        + ["--save", "out.npz", "--no-progress", "--json", "out.json"],
        ("thermolearn.diffusion.training", "_save_checkpoint", 2),
        "diffusion_ck.npz",
    ),
    "diffusion bound": (
        ["diffusion", "bound", "diffusion.npz", "--n", "100", "--batch-size", "50", "--checkpoint", "bound_ck.npz"]
        + ["--no-progress", "--json", "out.json"],
        ("thermolearn.storage", "save_arrays", 1),
        "bound_ck.npz",
    ),
}


def _partial_checkpoints(folder: Path) -> None:
    for name, (argv, (module, function, calls), ck) in CHECKPOINTED.items():
        outcome = run_forked(argv, folder, timeout=300, before=interrupt_after(module, function, calls))
        assert outcome.code == 130, f"{name}: {outcome.describe()}"
        assert (folder / ck).exists(), name
        for leftover in ("out.json", "out.npz"):
            (folder / leftover).unlink(missing_ok=True)


# ---------------------------------------------------------------------------- the check


def assert_refused(outcome: Outcome, names: tuple[str, ...], before: dict, after: dict, inputs: dict) -> None:
    """Exit 2, one stderr line naming one of ``names``, no traceback, no signal, nothing new written."""
    assert outcome.signal is None, f"killed by signal {outcome.signal}: {outcome.describe()}"
    assert not outcome.timed_out, outcome.describe()
    assert "Traceback" not in outcome.err, outcome.describe()
    assert outcome.code == 2, outcome.describe()
    lines = [line for line in outcome.error_lines if ": warning: " not in line]  # notes are not refusals
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n" + "\n".join(lines)
    line = lines[0].lower()
    assert any(n.lower() in line for n in names), f"the message names none of {names}: {lines[0]}"
    assert GENERIC_MEMORY_ERROR not in line, f"allocated before refusing: {lines[0]}"
    new = sorted(set(after) - set(before))
    assert not new, f"left behind: {new}"
    changed = sorted(k for k in inputs if after.get(k) != inputs[k])
    assert not changed, f"inputs changed: {changed}"


@dataclass
class Case:
    """One bad input: ``argv`` run in a fresh folder prepared by ``files`` (name -> make(path, seeds))."""

    id: str
    argv: list[str]
    names: tuple[str, ...]
    files: dict[str, Callable[[Path, Path], object]] = field(default_factory=dict)
    huge: bool = False  # sizes that must be refused before they are allocated
    timeout: float = 60.0


def _copy(seed_name: str) -> Callable[[Path, Path], object]:
    return lambda path, seeds: (
        shutil.copytree(seeds / seed_name, path)
        if (seeds / seed_name).is_dir()
        else (shutil.copyfile(seeds / seed_name, path))
    )


def _bytes(content: bytes) -> Callable[[Path, Path], object]:
    return lambda path, seeds: path.write_bytes(content)


def _structural(seed_name: str, kind: str) -> Callable[[Path, Path], object]:
    return lambda path, seeds: structural_damages(seeds / seed_name)[kind](path)


def _crafted(seed_name: str, change: Callable[[dict, dict], tuple[dict, dict]]) -> Callable[[Path, Path], object]:
    def make(path: Path, seeds: Path) -> object:
        arrays, header = load_arrays(seeds / seed_name)
        arrays, header = change(dict(arrays), json.loads(json.dumps(header)))
        return write_npz(path, arrays, header)

    return make


def option_names(option: str) -> tuple[str, ...]:
    """Ways a message may name ``option``: ``--burn-in``, ``burn-in``, ``burn_in``, ``burn in``."""
    aliases = {"-T": ("-T", "temperature"), "-L": ("-L", "--size", "size")}
    if option in aliases:
        return aliases[option]
    bare = option.lstrip("-")
    return (option, bare, bare.replace("-", "_"), bare.replace("-", " "))


# ---------------------------------------------------------------------------- the table
# every subcommand with a small valid command line: options as {flag: values}, a value of
# None removes the flag; outputs go into the case's folder, so anything written is seen
SMALL = ["--sweeps", "20", "--burn-in", "2"]
NO_PROGRESS: dict[str, list[str]] = {"--no-progress": []}
BASE: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "demo": (["demo"], {"--output": ["report"]}),
    "exact": (["exact"], {"--lattice": ["3x3"], "-T": ["2"], "--json": ["out.json"], "--no-progress": []}),
    "onsager": (["onsager"], {"-T": ["2"], "--json": ["out.json"]}),
    "ising": (
        ["ising"],
        {"-L": ["3"], "-T": ["2"], "--sweeps": ["20"], "--burn-in": ["2"], "--json": ["out.json"], "--no-progress": []},
    ),
    "sample": (
        ["sample"],
        {"--lattice": ["3x3"], "-T": ["2"], "--sweeps": ["20"], "--burn-in": ["2"], "--json": ["out.json"]}
        | {"--no-progress": []},
    ),
    "anneal": (["anneal", "edges.txt"], {"--sweeps": ["10"], "--reads": ["2"], "--json": ["out.json"]}),
    "compare": (
        ["compare"],
        {"--lattice": ["3x3"], "-T": ["2"], "--methods": ["exact", "mean_field"], "--json": ["out.json"]}
        | {"--no-progress": []},
    ),
    "meanfield": (
        ["meanfield"],
        {"--lattice": ["3x3"], "-T": ["2"], "--max-iter": ["50"], "--json": ["out.json"], "--no-progress": []},
    ),
    "hopfield store": (["hopfield", "store"], {"--data": ["digits"], "--save": ["out.npz"], "--json": ["out.json"]}),
    "hopfield recall": (
        ["hopfield", "recall", "net.npz"],
        {"--trials": ["1"], "--levels": ["0.1"], "--json": ["out.json"]},
    ),
    "hopfield capacity": (
        ["hopfield", "capacity"],
        {"--neurons": ["20"], "--sets": ["1"], "--loads": ["0.1"], "--max-recalls": ["5"], "--json": ["out.json"]}
        | {"--no-progress": []},
    ),
    "rbm train": (
        ["rbm", "train"],
        {"--data": ["digits"], "--limit": ["50"], "--hidden": ["4"], "--epochs": ["1"], "--batch-size": ["50"]}
        | {"--engine": ["jax"], "--save": ["out.npz"], "--json": ["out.json"], "--no-progress": []},
    ),
    "rbm sample": (
        ["rbm", "sample", "rbm.npz"],
        {"--n": ["2"], "--sweeps": ["2"], "--save": ["out.npz"], "--json": ["out.json"]},
    ),
    "rbm loglik": (
        ["rbm", "loglik", "rbm.npz"],
        {"--data": ["digits"], "--limit": ["10"], "--json": ["out.json"], "--no-progress": []},
    ),
    "rbm repair": (
        ["rbm", "repair", "rbm.npz"],
        {"--data": ["digits"], "--images": ["1"], "--sweeps": ["2"], "--json": ["out.json"]},
    ),
    "diffusion train": (
        ["diffusion", "train"],
        {"--data": ["gaussians"], "--steps": ["4"], "--hidden": ["8"], "--depth": ["1"], "--iterations": ["5"]}
        | {"--save": ["out.npz"], "--json": ["out.json"], "--no-progress": []},
    ),
    "diffusion sample": (
        ["diffusion", "sample", "diffusion.npz"],
        {"--n": ["4"], "--save": ["out.npz"], "--json": ["out.json"]},
    ),
    "diffusion bound": (
        ["diffusion", "bound", "diffusion.npz"],
        {"--n": ["10"], "--batch-size": ["10"], "--json": ["out.json"], "--no-progress": []},
    ),
    "pbits gate": (
        ["pbits", "gate", "and"],
        {"--sweeps": ["20"], "--chains": ["2"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "pbits factor": (
        ["pbits", "factor", "35"],
        {"--sweeps": ["20"], "--chains": ["2"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "pbits sample": (
        ["pbits", "sample", "ising.npz"],
        {"--sweeps": ["20"], "--chains": ["2"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "rg decimate": (["rg", "decimate", "--coupling", "0.5"], {"--levels": ["3"], "--json": ["out.json"]}),
    "rg migdal-kadanoff": (["rg", "migdal-kadanoff"], {"--lattice": ["cubic"], "--b": ["3"], "--json": ["out.json"]}),
    "rg mcrg": (
        ["rg", "mcrg", "--size", "8", "--blockings", "1"],
        {"--samples": ["200"], "--burn-in": ["5"], "--bootstrap": ["5"], "--json": ["out.json"]}
        | {"--checkpoint": ["ck.npz"], "--checkpoint-every": ["7"]}
        | NO_PROGRESS,
    ),
    "quantum exact": (
        ["quantum", "exact"],
        {"--chain": ["6"], "--field": ["0.8"], "-T": ["1"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "quantum pimc": (
        ["quantum", "pimc"],
        {"--chain": ["4"], "--field": ["1"], "-T": ["1"], "--slices": ["4"], "--sweeps": ["200"]}
        | {"--burn-in": ["20"], "--chains": ["2"], "--json": ["out.json"]}
        | NO_PROGRESS,
    ),
    "quantum anneal": (
        ["quantum", "anneal"],
        {"--sk": ["20"], "--sweeps": ["20"], "--reads": ["2"], "--slices": ["4"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "quantum qbm": (
        ["quantum", "qbm", "--visible", "4", "--modes", "2", "--epochs", "2"],
        {"--json": ["out.json"], "--plot": ["out.png"]} | NO_PROGRESS,
    ),
    "quantum vmc": (
        ["quantum", "vmc", "--chain", "6", "--iterations", "2", "--full-summation"],
        {"--json": ["out.json"], "--plot": ["out.png"]} | NO_PROGRESS,
    ),
    "spinglass pa": (
        ["spinglass", "pa", "--lattice", "4x4", "-T", "1"],
        {"--population": ["32"], "--steps": ["10"], "--sweeps": ["2"], "--runs": ["2"], "--couplings": ["pm"]}
        | {"--json": ["out.json"], "--plot": ["out.png"], "--samples": ["2"], "--checkpoint": ["ck.npz"]}
        | NO_PROGRESS,
    ),
    "spinglass pt": (
        ["spinglass", "pt", "--lattice", "4x4", "-T", "0.5:2:4"],
        {"--sweeps": ["200"], "--burn-in": ["20"], "--couplings": ["gaussian"], "--json": ["out.json"]}
        | {"--plot": ["out.png"], "--samples": ["2"], "--checkpoint": ["ck.npz"]}
        | NO_PROGRESS,
    ),
    "spinglass overlaps": (
        ["spinglass", "overlaps", "--sk", "8", "-T", "1"],
        {"--samples": ["2"], "--population": ["32"], "--steps": ["5"], "--sweeps": ["2"], "--json": ["out.json"]}
        | {"--plot": ["out.png"], "--checkpoint": ["ck.npz"]}
        | NO_PROGRESS,
    ),
    "spinglass groundstate": (
        ["spinglass", "groundstate", "--sk", "10"],
        {"--samples": ["2"], "--algorithm": ["pa"], "--sweeps": ["20"], "--population": ["32"]}
        | {"--json": ["out.json"], "--plot": ["out.png"]}
        | NO_PROGRESS,
    ),
    "rg rbm": (
        ["rg", "rbm", "--size", "8", "--levels", "1", "--samples", "700", "--epochs", "2"],
        {"--delta": ["0.1"], "--l1": ["0"], "--k": ["2"], "--batch-size": ["70"], "--learning-rate": ["0.05"]}
        | {"--momentum": ["0"], "--burn-in": ["10"], "--sweeps-between": ["1"], "--json": ["out.json"]}
        | {"--plot": ["out.png"], "--checkpoint": ["ck.npz"], "--checkpoint-every": ["1"]}
        | NO_PROGRESS,
    ),
    "sweep": (["sweep", "grid.toml"], {"--output": ["points"], "--json": ["out.json"]} | NO_PROGRESS),
    "neural train": (
        ["neural", "train", "ising.npz"],
        {"-T": ["2"], "--steps": ["5"], "--batch-size": ["16"], "--samples": ["64"], "--mcmc-sweeps": ["5"]}
        | {"--json": ["out.json"]}
        | NO_PROGRESS,
    ),
    "neural bound": (
        ["neural", "bound", "--lattice", "3x3"],
        {"--load": ["van.npz"], "--samples": ["64"], "--json": ["out.json"]},
    ),
    "neural sample": (
        ["neural", "sample", "--lattice", "3x3"],
        {"--load": ["van.npz"], "--sweeps": ["20"], "--burn-in": ["2"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "dynamics langevin": (
        ["dynamics", "langevin"],
        {"--steps": ["500"], "--chains": ["2"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "dynamics sgd-temperature": (
        ["dynamics", "sgd-temperature"],
        {"--steps": ["500"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "dynamics ensemble": (
        ["dynamics", "ensemble"],
        {"--seeds": ["2"], "--epochs": ["1"], "--hidden": ["4"], "--json": ["out.json"]} | NO_PROGRESS,
    ),
    "dynamics ebm": (
        ["dynamics", "ebm"],
        {
            "--iterations": ["20"],
            "--hidden": ["4"],
            "--batch": ["16"],
            "--langevin-steps": ["2"],
            "--eval-every": ["10"],
        }
        | {"--long-steps": ["20"], "--json": ["out.json"]}
        | NO_PROGRESS,
    ),
    "explore": (["explore"], {"--output": ["page"], "--epochs": ["1"], "--hidden": ["4"], "--json": ["out.json"]}),
}
# the seed files each command reads by default
NEEDS = {
    "anneal": ["edges.txt"],
    "hopfield recall": ["net.npz"],
    "rbm sample": ["rbm.npz"],
    "rbm loglik": ["rbm.npz"],
    "rbm repair": ["rbm.npz"],
    "diffusion sample": ["diffusion.npz"],
    "diffusion bound": ["diffusion.npz"],
    "pbits sample": ["ising.npz"],
    "sweep": ["grid.toml"],
    "neural train": ["ising.npz"],
    "neural bound": ["van.npz"],
    "neural sample": ["van.npz"],
}


def command_line(command: str, overrides: dict[str, list[str] | None] | None = None, model: str | None = None):
    """The small valid command line of ``command`` with ``overrides`` applied (and another model file)."""
    words, options = BASE[command]
    words = list(words)
    if model is not None:
        if command in ("exact", "sample", "compare", "meanfield"):
            options = {k: v for k, v in options.items() if k != "--lattice"}
            words.append(model)
        elif len(words) > len(command.split()):
            words[-1] = model
        else:
            words.append(model)
    merged = dict(options)
    for key, value in (overrides or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    for key, value in merged.items():
        words += [key, *value]
    return words


def _files_for(command: str, extra: dict | None = None) -> dict:
    files = {name: _copy(name) for name in NEEDS.get(command, [])}
    files.update(extra or {})
    return files


CASES: list[Case] = []


def add(case: Case) -> None:
    CASES.append(case)


# -- bad argument values, every option of every subcommand that takes a value
INT_BAD = ["0", "-1", "abc", "", "1.5", "nan", "inf"]
INT_BAD_ZERO_OK = ["-1", "abc", "", "1.5", "nan", "inf"]
FLOAT_BAD = ["nan", "inf", "-inf", "abc", ""]
POSITIVE_FLOAT_BAD = ["0", "-1", *FLOAT_BAD]
SEED_BAD = ["-1", "abc", "", "1.5", "nan"]
TEMPERATURE_BAD = ["0", "-1", "nan", "inf", "abc", "", "1:2:0", "1:2", "1:2:3:4", "1:nan:3", "0:1:3", "1:2:1.5"]
TEMPERATURE_BAD += ["1e400", "2:1:-3"]
LATTICE_BAD = ["", "4x", "x4", "0x4", "-4x4", "4x4x4x4x4", "axb", "4.5x4", "4x4x", "4xx4", "nan"]
CHOICE_BAD = ["bogus", ""]
LIST_BAD = ["", "abc", "-0.1", "nan", "0:1:0", "1,,2"]

PBITS_COMMON = {"--sweeps": INT_BAD, "--chains": [*INT_BAD, "1"], "--eta": ["0", "-1", "nan", "abc", ""]}
PBITS_COMMON |= {"--seed": SEED_BAD, "--update": CHOICE_BAD}
# asynchronous knobs: bad values, and good ones refused with the default --update sequential
PBITS_COMMON |= {"--update-time": ["-1", "nan", "inf", "abc", "", "0.5"], "--partitions": [*INT_BAD, "2"]}

OPTIONS: dict[str, dict[str, list[str]]] = {
    "demo": {"--jobs": INT_BAD},
    "exact": {"--lattice": LATTICE_BAD, "--coupling": FLOAT_BAD, "--field": FLOAT_BAD, "-T": TEMPERATURE_BAD}
    | {"--method": CHOICE_BAD},
    "onsager": {"-T": TEMPERATURE_BAD, "--coupling": POSITIVE_FLOAT_BAD, "--size": ["2", "0", "-1", "abc", "nan"]},
    "ising": {"-L": ["1", "0", "-1", "abc", "nan", ""], "--dim": ["4", "1", "abc"], "-T": TEMPERATURE_BAD}
    | {"--algorithm": CHOICE_BAD, "--sweeps": INT_BAD, "--burn-in": INT_BAD_ZERO_OK, "--chains": INT_BAD}
    | {"--seed": SEED_BAD, "--checkpoint-every": INT_BAD, "--device": CHOICE_BAD}
    | {"--workers": INT_BAD, "--scheduler": [""]},
    "sample": {"--lattice": LATTICE_BAD, "--coupling": FLOAT_BAD, "--field": FLOAT_BAD, "-T": TEMPERATURE_BAD}
    | {"--algorithm": CHOICE_BAD, "--sweeps": INT_BAD, "--burn-in": INT_BAD_ZERO_OK, "--chains": INT_BAD}
    | {"--seed": SEED_BAD, "--checkpoint-every": INT_BAD},
    "anneal": {"--sweeps": INT_BAD, "--reads": INT_BAD, "--seed": SEED_BAD, "--algorithm": CHOICE_BAD}
    | {"--schedule": CHOICE_BAD, "--sampler": CHOICE_BAD, "--ladder-size": ["0", "1", "-1", "abc"]},
    "compare": {"--lattice": LATTICE_BAD, "-T": TEMPERATURE_BAD, "--methods": CHOICE_BAD, "--seed": SEED_BAD}
    | {"--bbvi-steps": INT_BAD, "--coupling": FLOAT_BAD, "--van-steps": INT_BAD},
    "meanfield": {"--lattice": LATTICE_BAD, "-T": TEMPERATURE_BAD, "--max-iter": INT_BAD, "--field": FLOAT_BAD},
    "hopfield store": {"--classes": ["", "a", "11", "-1", "1,,2"], "--per-class": INT_BAD, "--rule": CHOICE_BAD}
    | {"--shape": ["3x3", "0x8", "abc", "8x8x8"], "--data": ["no-such-data-set"]},
    "hopfield recall": {"--levels": [*LIST_BAD, "2"], "--trials": INT_BAD, "--sweeps": INT_BAD, "--seed": SEED_BAD}
    | {"--mode": CHOICE_BAD, "--method": CHOICE_BAD},
    "hopfield capacity": {"--neurons": ["0", "-1", "1", "abc", "nan"], "--sets": INT_BAD, "--loads": [*LIST_BAD, "0"]}
    | {"--degree": INT_BAD, "--max-recalls": INT_BAD, "--seed": SEED_BAD, "--rule": CHOICE_BAD},
    "rbm train": {"--hidden": INT_BAD, "--k": INT_BAD, "--epochs": INT_BAD, "--batch-size": INT_BAD}
    | {"--learning-rate": [*POSITIVE_FLOAT_BAD, "1000000"], "--momentum": ["-0.1", "1", "nan", "abc"]}
    | {"--weight-decay": ["-1", "nan", "inf", "abc"], "--chains": INT_BAD, "--seed": SEED_BAD, "--limit": INT_BAD}
    | {"--data": ["no-such-data-set"], "--split": CHOICE_BAD, "--method": CHOICE_BAD, "--engine": CHOICE_BAD},
    "rbm sample": {"--n": INT_BAD, "--sweeps": INT_BAD, "--seed": SEED_BAD},
    "rbm loglik": {"--runs": INT_BAD, "--limit": INT_BAD, "--seed": SEED_BAD, "--method": CHOICE_BAD}
    | {"--schedule": CHOICE_BAD, "--data": ["no-such-data-set"]},
    "rbm repair": {"--images": INT_BAD, "--fraction": ["-0.1", "1.5", "nan", "abc"], "--sweeps": INT_BAD}
    | {"--seed": SEED_BAD, "--region": CHOICE_BAD, "--damage": CHOICE_BAD},
    "diffusion train": {"--steps": INT_BAD, "--iterations": INT_BAD, "--batch-size": INT_BAD}
    | {"--learning-rate": POSITIVE_FLOAT_BAD, "--beta-1": ["0", "-1", "1.5", "nan", "abc"], "--hidden": INT_BAD}
    | {"--depth": INT_BAD, "--ema": ["-0.1", "1", "1.5", "nan"], "--noise": ["-1", "nan", "inf", "abc"]}
    | {"--n-train": INT_BAD, "--checkpoint-every": INT_BAD, "--seed": SEED_BAD, "--data": ["no-such-data-set"]}
    | {"--process": CHOICE_BAD, "--schedule": CHOICE_BAD, "--network": CHOICE_BAD},
    "diffusion sample": {"--n": INT_BAD, "--seed": SEED_BAD},
    "pbits gate": {"--i0": ["-1", "100", *FLOAT_BAD], "--clamp": ["A", "A=2", "=1", "D=1", ""]} | PBITS_COMMON,
    "pbits factor": {"--i0": ["-1", "100", *FLOAT_BAD], "--width": ["0", "1", "2", "40", "abc", ""]} | PBITS_COMMON,
    "pbits sample": {"--i0": ["-1", "100", *FLOAT_BAD]}
    | PBITS_COMMON
    | {"--update-time": ["-1", "nan", "inf", "abc", ""], "--partitions": [*INT_BAD, "100"]},
    "rg decimate": {"--coupling": FLOAT_BAD, "--field": FLOAT_BAD, "--levels": ["-1", "100000", "abc", ""]}
    | {"--b": ["0", "1", "abc", "200000"]},
    "rg migdal-kadanoff": {"--lattice": CHOICE_BAD, "--b": ["0", "1", "65", "abc"], "--ordering": CHOICE_BAD},
    "rg mcrg": {"--size": ["0", "7", "abc"], "--dim": ["1", "4", "abc"], "--blockings": ["0", "5", "-1"]}
    | {"--samples": ["0", "50", "abc"], "--b": ["0", "1", "3"], "--bootstrap": ["1", "0"], "--chains": INT_BAD}
    | {"--seed": SEED_BAD, "--rule": CHOICE_BAD, "--sampler": CHOICE_BAD, "--checkpoint-every": INT_BAD},
    "quantum exact": {"--chain": ["0", "1", "-1", "abc", "", "1.5", "1000000000"], "--field": ["-1", *FLOAT_BAD]}
    | {"--coupling": FLOAT_BAD, "--longitudinal": FLOAT_BAD, "-T": TEMPERATURE_BAD, "--levels": [*INT_BAD, "51"]}
    | {"--method": CHOICE_BAD, "--field-scan": ["", "abc", "3:1", "0:1:1", "0:nan:3", "-1:1:3", "0:1:1000"]},
    "quantum pimc": {"--chain": ["0", "1", "abc", "", "1.5", "1000000000"], "--field": ["0", "-1", *FLOAT_BAD]}
    | {"--coupling": FLOAT_BAD, "--longitudinal": FLOAT_BAD, "-T": TEMPERATURE_BAD}
    | {"--slices": [*INT_BAD, "1000000000"], "--sweeps": [*INT_BAD, "1", "1000000000"]}
    | {"--burn-in": INT_BAD_ZERO_OK, "--chains": [*INT_BAD, "1000000000"], "--sampler": CHOICE_BAD}
    | {"--seed": SEED_BAD, "--checkpoint-every": INT_BAD},
    "quantum anneal": {"--sk": ["0", "1", "abc", "", "1000000000"], "--sweeps": INT_BAD}
    | {"--reads": [*INT_BAD, "1000000000"], "--slices": [*INT_BAD, "1000000000"]}
    | {"--gamma-range": ["0", "nan", "abc", "", "-1"], "-T": ["0", "-1", "nan", "abc", "1:2:3"]}
    | {"--seed": SEED_BAD, "--instance-seed": INT_BAD_ZERO_OK, "--checkpoint-every": INT_BAD},
    "quantum qbm": {"--visible": ["0", "13", "-1", "abc", "", "1.5", "nan", "inf"], "--modes": INT_BAD}
    | {"--p": ["0", "1", "1.5", "-0.1", *FLOAT_BAD], "--model": CHOICE_BAD, "--epochs": INT_BAD}
    | {"--learning-rate": POSITIVE_FLOAT_BAD, "--gamma": POSITIVE_FLOAT_BAD, "--seed": SEED_BAD},
    "quantum vmc": {"--chain": ["0", "2", "100000", "-1", "abc", "", "1.5", "nan", "inf"]}
    | {"--field": ["-1", *FLOAT_BAD], "--coupling": FLOAT_BAD, "--alpha": [*INT_BAD, "65"], "--iterations": INT_BAD}
    | {"--samples": [*INT_BAD, "100"], "--chains": [*INT_BAD, "5"], "--discard": INT_BAD_ZERO_OK}
    | {"--learning-rate": POSITIVE_FLOAT_BAD, "--diag-shift": POSITIVE_FLOAT_BAD}
    | {"--diag-shift-min": POSITIVE_FLOAT_BAD, "--diag-shift-decay": [*POSITIVE_FLOAT_BAD, "1.5"]}
    | {"--solver": CHOICE_BAD, "--checkpoint-every": INT_BAD, "--seed": SEED_BAD},
    "spinglass pa": {"--lattice": [*LATTICE_BAD, "2x2", "8"], "-T": [*TEMPERATURE_BAD, "1:2:3"]}
    | {"--couplings": CHOICE_BAD, "--population": [*INT_BAD, "15"], "--steps": INT_BAD, "--sweeps": INT_BAD}
    | {"--runs": [*INT_BAD, "1"], "--seed": SEED_BAD, "--sk": INT_BAD, "--samples": INT_BAD, "--checkpoint": ["-"]},
    "spinglass pt": {"--lattice": [*LATTICE_BAD, "2x2", "8"], "-T": TEMPERATURE_BAD, "--couplings": CHOICE_BAD}
    | {"--sweeps": [*INT_BAD, "40"], "--burn-in": [*INT_BAD_ZERO_OK, "190"], "--seed": SEED_BAD, "--sk": INT_BAD}
    | {"--houdayer-below": ["0", "-1", "nan", "inf", "abc", ""], "--samples": INT_BAD, "--checkpoint": ["-"]},
    "spinglass overlaps": {"--sk": [*INT_BAD, "1", "8,8", "8,", "8,1"], "--checkpoint": ["-"]}
    | {"--lattice": [*LATTICE_BAD, "4x4,4x4x4", "4x4,4x4", "4x4,"], "--couplings": [*CHOICE_BAD, "ferro"]}
    | {"--samples": [*INT_BAD, "1"], "-T": TEMPERATURE_BAD, "--population": [*INT_BAD, "15"], "--steps": INT_BAD}
    | {"--sweeps": INT_BAD, "--seed": SEED_BAD, "--workers": INT_BAD, "--scheduler": [""]},
    "spinglass groundstate": {"--sk": [*INT_BAD, "1"], "--lattice": [*LATTICE_BAD, "4x4,5x5"]}
    | {"--couplings": [*CHOICE_BAD, "ferro"], "--budgets": [*INT_BAD, "10,10", "10,"]}
    | {"--samples": INT_BAD, "--algorithm": CHOICE_BAD, "--sweeps": [*INT_BAD, "3"], "--ladder-size": [*INT_BAD, "1"]}
    | {"--population": [*INT_BAD, "15"], "--seed": SEED_BAD},
    "rg rbm": {"--size": ["0", "7", "abc"], "--levels": ["0", "5", "abc"], "--b": ["0", "1", "3"]}
    | {"--samples": ["0", "100", "abc"], "--delta": ["0", "1", "1.5", "nan", "abc"], "--epochs": INT_BAD}
    | {"--batch-size": [*INT_BAD, "100000"], "--learning-rate": POSITIVE_FLOAT_BAD}
    | {"--momentum": ["1", "-0.1", "nan", "abc"], "--l1": ["-1", "nan", "inf", "abc"], "--k": INT_BAD}
    | {"--sampler": CHOICE_BAD, "--burn-in": INT_BAD_ZERO_OK, "--sweeps-between": INT_BAD}
    | {"--seed": SEED_BAD, "--checkpoint-every": INT_BAD},
    "diffusion bound": {"--n": INT_BAD, "--draws": INT_BAD, "--batch-size": INT_BAD, "--noise": ["-1", "nan", "abc"]}
    | {"--seed": SEED_BAD, "--data": ["no-such-data-set"]},
    "sweep": {"--workers": INT_BAD, "--scheduler": [""], "--output": [""]},
    "explore": {"--epochs": INT_BAD, "--hidden": INT_BAD, "--seed": SEED_BAD},
    "neural train": {"-T": TEMPERATURE_BAD, "--network": CHOICE_BAD, "--hidden": [*INT_BAD, "100000"]}
    | {"--depth": INT_BAD_ZERO_OK, "--kernel": ["0", "-1", "abc", ""], "--symmetry": CHOICE_BAD, "--steps": INT_BAD}
    | {"--batch-size": [*INT_BAD, "1"], "--learning-rate": POSITIVE_FLOAT_BAD, "--anneal": ["-1", "1.5", *FLOAT_BAD]}
    | {"--samples": [*INT_BAD, "1"], "--min-ess": POSITIVE_FLOAT_BAD, "--mcmc-sweeps": INT_BAD_ZERO_OK}
    | {"--seed": SEED_BAD, "--checkpoint-every": INT_BAD, "--coupling": FLOAT_BAD, "--field": FLOAT_BAD},
    "neural bound": {"--lattice": LATTICE_BAD, "-T": TEMPERATURE_BAD, "--samples": [*INT_BAD, "1"]}
    | {"--min-ess": POSITIVE_FLOAT_BAD, "--seed": SEED_BAD, "--load": [""]},
    "neural sample": {"--lattice": [*LATTICE_BAD, "4x4"], "-T": TEMPERATURE_BAD, "--sweeps": [*INT_BAD, "3"]}
    | {"--chains": INT_BAD, "--burn-in": INT_BAD_ZERO_OK, "--local-sweeps": INT_BAD_ZERO_OK, "--seed": SEED_BAD}
    | {"--load": [""]},
    "dynamics langevin": {
        "--model": CHOICE_BAD,
        "--sampler": CHOICE_BAD,
        "--step": POSITIVE_FLOAT_BAD,
        "--steps": INT_BAD,
    }
    | {"--chains": INT_BAD, "--burn-in": [*INT_BAD_ZERO_OK, "500"], "--thin": [*INT_BAD, "1000"], "--batch": INT_BAD}
    | {"--decay-offset": POSITIVE_FLOAT_BAD, "--decay-power": ["-1", *FLOAT_BAD], "--mass": POSITIVE_FLOAT_BAD}
    | {"--friction": POSITIVE_FLOAT_BAD, "--leapfrog": INT_BAD, "--data-seed": INT_BAD_ZERO_OK, "--seed": SEED_BAD}
    | {"--checkpoint-every": INT_BAD},
    "dynamics sgd-temperature": {"--curvature": POSITIVE_FLOAT_BAD, "--noise": POSITIVE_FLOAT_BAD, "--batch": INT_BAD}
    | {"--lr": [*POSITIVE_FLOAT_BAD, "2", "1e9"], "--steps": [*INT_BAD, "1"], "--chains": INT_BAD}
    | {"--burn-in": [*INT_BAD_ZERO_OK, "499"], "--data-size": [*INT_BAD, "1", "3"], "--seed": SEED_BAD}
    | {
        "--loss": CHOICE_BAD,
        "--checkpoint-every": INT_BAD,
        "--network-steps": INT_BAD,
    },
    "dynamics ensemble": {"--task": CHOICE_BAD, "--seeds": INT_BAD, "--epochs": INT_BAD, "--hidden": INT_BAD}
    | {
        "--lr": POSITIVE_FLOAT_BAD,
        "--batch": [*INT_BAD, "5000"],
        "--members": [*INT_BAD, "7"],
        "--features": [*INT_BAD, "7"],
    }
    | {"--data-seed": INT_BAD_ZERO_OK, "--seed": SEED_BAD},
    "dynamics ebm": {"--data": CHOICE_BAD, "--iterations": INT_BAD, "--hidden": INT_BAD, "--batch": [*INT_BAD, "3000"]}
    | {"--langevin-steps": INT_BAD, "--langevin-step": POSITIVE_FLOAT_BAD, "--lr": POSITIVE_FLOAT_BAD}
    | {"--eval-every": INT_BAD, "--long-steps": INT_BAD, "--seed": SEED_BAD}
    | {"--sampler": CHOICE_BAD, "--ais-runs": INT_BAD, "--ais-steps": INT_BAD},
}
for command, table in OPTIONS.items():
    for option, values in table.items():
        for value in values:
            add(
                Case(
                    f"{command}|{option}={value!r}",
                    command_line(command, {option: [value]}),
                    option_names(option),
                    _files_for(command),
                )
            )

# options whose meaning needs a companion flag, and combinations that are wrong together
SPECIAL_ARGUMENTS = [
    ("dynamics ebm", {"--sampler": ["gibbs"]}, option_names("--sampler")),  # the digits' samplers, on a 2D toy
    ("dynamics ebm", {"--data": ["digits"], "--long-steps": ["10"]}, option_names("--long-steps")),
    ("dynamics ebm", {"--data": ["digits"], "--long-steps": None, "--ais-runs": ["1"]}, option_names("--ais-runs")),
    ("dynamics sgd-temperature", {"--network-steps": ["400"]}, option_names("--network-steps")),
    ("sample", {"-T": ["2", "3"]}, option_names("-T")),
    ("sample", {"-T": ["2"], "--temperature": ["3"]}, option_names("-T")),
    ("anneal", {"--beta-range": ["1", "0.1"]}, option_names("--beta-range")),
    ("anneal", {"--beta-range": ["-1", "1"]}, option_names("--beta-range")),
    ("anneal", {"--beta-range": ["nan", "1"]}, option_names("--beta-range")),
    ("anneal", {"--beta-range": ["0", "0"]}, option_names("--beta-range")),
    ("anneal", {"--beta-range": ["abc", "1"]}, option_names("--beta-range")),
    ("hopfield recall", {"--method": ["thermal"], "-T": ["0"]}, option_names("-T")),
    ("hopfield recall", {"--method": ["thermal"], "-T": ["nan"]}, option_names("-T")),
    ("hopfield recall", {"--method": ["thermal"], "-T": ["-1"]}, option_names("-T")),
    ("hopfield capacity", {"--rule": ["dense"], "--degree": ["0"]}, option_names("--degree")),
    ("rbm train", {"--method": ["pt"], "--ladder-size": ["1"]}, option_names("--ladder-size")),
    ("rbm train", {"--method": ["pcd"], "--chains": ["0"]}, option_names("--chains")),
    ("rbm loglik", {"--method": ["ais"], "--runs": ["0"]}, option_names("--runs")),
    ("rbm repair", {"--region": ["random"], "--fraction": ["1.5"]}, option_names("--fraction")),
    ("diffusion train", {"--network": ["conv"]}, option_names("--network")),  # conv needs images
    ("diffusion train", {"--process": ["binomial"]}, option_names("--process")),  # binomial needs binary images
    ("diffusion train", {"--channels": ["0"], "--network": ["conv"], "--data": ["digits"]}, option_names("--channels")),
]
for command, overrides, names in SPECIAL_ARGUMENTS:
    label = " ".join(f"{k}={v}" for k, v in overrides.items())
    add(Case(f"{command}|{label}", command_line(command, overrides), names, _files_for(command)))

# -- damaged model files at every model-file input
MODEL_INPUTS = {
    # command: (seed file, how the file is given)
    "exact": ("ising.npz", "positional"),
    "sample": ("ising.npz", "positional"),
    "anneal": ("ising.npz", "positional"),
    "compare": ("ising.npz", "positional"),
    "meanfield": ("ising.npz", "positional"),
    "hopfield recall": ("net.npz", "positional"),
    "hopfield store": ("patterns.npz", "--data"),
    "rbm sample": ("rbm.npz", "positional"),
    "rbm loglik": ("rbm.npz", "positional"),
    "rbm repair": ("rbm.npz", "positional"),
    "rbm train": ("rbm.npz", "--init"),
    "diffusion sample": ("diffusion.npz", "positional"),
    "diffusion bound": ("diffusion.npz", "positional"),
    "pbits sample": ("ising.npz", "positional"),
    "neural train": ("ising.npz", "positional"),
    "neural bound": ("van.npz", "--load"),
    "neural sample": ("van.npz", "--load"),
}
STRUCTURAL = [
    "empty",
    "truncated_half",
    "truncated_tail",
    "bitflip_middle",
    "bitflip_start",
    "text_named_npz",
    "random_bytes",
    "pickle_bytes",
    "header_list",
    "header_string",
    "header_number",
    "header_null",
    "header_not_json",
    "header_not_utf8",
    "header_missing",
    "header_empty_object",
    "header_wrong_format",
    "header_future_version",
    "header_version_string",
    "array_missing",
    "no_arrays",
    "object_array",
    "string_array",
    "declared_huge_shape",
]


def model_case(command: str, bad_name: str, make: Callable[[Path, Path], object], label: str, **kw) -> Case:
    seed, how = MODEL_INPUTS[command]
    if how == "positional":
        argv = command_line(command, model=bad_name)
    else:
        argv = command_line(command, {how: [bad_name]})
    files = {k: v for k, v in _files_for(command).items() if k != seed}
    files[bad_name] = make
    return Case(f"{command}|{label}", argv, (bad_name,), files, **kw)


for command, (seed, _) in MODEL_INPUTS.items():
    for kind in STRUCTURAL:
        if seed == "patterns.npz" and kind == "header_missing":
            continue  # a plain NumPy archive of patterns is exactly what --data accepts
        add(model_case(command, f"bad_{kind}.npz", _structural(seed, kind), f"model:{kind}"))
    add(model_case(command, "missing.npz", lambda path, seeds: None, "model:missing"))
    add(model_case(command, "folder.npz", lambda path, seeds: path.mkdir(), "model:folder"))
# one file of another kind at every model input
OTHER_KIND = {"ising.npz": "rbm.npz", "net.npz": "ising.npz", "rbm.npz": "diffusion.npz", "diffusion.npz": "net.npz"}
OTHER_KIND["patterns.npz"] = "rbm.npz"
OTHER_KIND["van.npz"] = "rbm.npz"
for command, (seed, _) in MODEL_INPUTS.items():
    add(model_case(command, "other_kind.npz", _copy(OTHER_KIND[seed]), "model:other_kind"))


# -- crafted content: a loader must check what it reads against itself (shapes, ranges, NaN)
def _set(key: str, value) -> Callable[[dict, dict], tuple[dict, dict]]:
    return lambda a, h: (a, {**h, key: value})


def _drop(key: str) -> Callable[[dict, dict], tuple[dict, dict]]:
    return lambda a, h: (a, {k: v for k, v in h.items() if k != key})


def _array(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[dict, dict], tuple[dict, dict]]:
    return lambda a, h: ({**a, name: change(np.array(a[name]))}, h)


def _poke(index, value):
    def change(x):
        x = x.copy()
        x.reshape(-1)[index] = value
        return x

    return change


ISING_CRAFTED = {
    "n_spins_missing": _drop("n_spins"),
    "n_spins_string": _set("n_spins", "many"),
    "n_spins_negative": _set("n_spins", -3),
    "n_spins_float": _set("n_spins", 9.5),
    "n_spins_mismatch": _set("n_spins", 10),
    "n_spins_huge": _set("n_spins", 10**12),
    "geometry_string": _set("geometry", "square"),
    "geometry_list": _set("geometry", [3, 3]),
    "geometry_wrong_sites": lambda a, h: (a, {**h, "geometry": {**h["geometry"], "shape": [4, 4]}}),
    "geometry_missing_shape": lambda a, h: (
        a,
        {**h, "geometry": {k: v for k, v in h["geometry"].items() if k != "shape"}},
    ),
    "indices_out_of_range": _array("indices", _poke(0, 1000)),
    "indices_negative": _array("indices", _poke(0, -1)),
    "indices_float": _array("indices", lambda x: x.astype(np.float64) + 0.5),
    "indptr_decreasing": _array("indptr", lambda x: x[::-1].copy()),
    "indptr_short": _array("indptr", lambda x: x[:-2]),
    "indptr_past_end": _array("indptr", _poke(-1, 10**6)),
    "couplings_short": _array("couplings", lambda x: x[:-2]),
    "couplings_nan": _array("couplings", _poke(0, np.nan)),
    "couplings_complex": _array("couplings", lambda x: x.astype(np.complex128) * (1 + 1j)),
    "couplings_asymmetric": _array("couplings", _poke(0, 5.0)),
    "fields_short": _array("fields", lambda x: x[:-1]),
    "fields_nan": _array("fields", _poke(0, np.nan)),
    "fields_2d": _array("fields", lambda x: x.reshape(1, -1)),
}
HOPFIELD_CRAFTED = {
    "couplings_not_square": _array("couplings", lambda x: x[:, :-1]),
    "couplings_nan": _array("couplings", _poke(1, np.nan)),
    "couplings_complex": _array("couplings", lambda x: x.astype(np.complex128) * 1j),
    "couplings_1d": _array("couplings", lambda x: x.reshape(-1)),
    "biases_short": _array("biases", lambda x: x[:-1]),
    "biases_inf": _array("biases", _poke(0, np.inf)),
    "patterns_wrong_width": _array("patterns", lambda x: x[:, :-1]),
    "patterns_not_spins": _array("patterns", _poke(0, 3)),
    "image_shape_string": _set("image_shape", "abc"),
    "image_shape_mismatch": _set("image_shape", [3, 3]),
    "rule_list": _set("rule", [1, 2]),
}
RBM_CRAFTED = {
    "n_visible_mismatch": _set("n_visible", 65),
    "n_hidden_string": _set("n_hidden", "many"),
    "n_hidden_missing": _drop("n_hidden"),
    "kind_bogus": _set("kind", "bogus"),
    "kind_list": _set("kind", ["bernoulli"]),
    "weights_short": _array("weights", lambda x: x[:, :2]),
    "weights_1d": _array("weights", lambda x: x.reshape(-1)),
    "weights_nan": _array("weights", _poke(0, np.nan)),
    "weights_complex": _array("weights", lambda x: x.astype(np.complex128) * 1j),
    "visible_bias_short": _array("visible_bias", lambda x: x[:-1]),
    "hidden_bias_2d": _array("hidden_bias", lambda x: x.reshape(1, -1)),
    "hidden_bias_inf": _array("hidden_bias", _poke(0, np.inf)),
}
_FIRST_WEIGHT = "net.layers[0].weight"
DIFFUSION_CRAFTED = {
    "config_missing": _drop("config"),
    "config_string": _set("config", "mlp"),
    "config_steps_negative": lambda a, h: (a, {**h, "config": {**h["config"], "steps": -1}}),
    "config_steps_string": lambda a, h: (a, {**h, "config": {**h["config"], "steps": "four"}}),
    "config_dim_zero": lambda a, h: (a, {**h, "config": {**h["config"], "dim": 0}}),
    "config_process_bogus": lambda a, h: (a, {**h, "config": {**h["config"], "process": "bogus"}}),
    "config_hidden_mismatch": lambda a, h: (a, {**h, "config": {**h["config"], "hidden": 9}}),
    "betas_short": lambda a, h: (a, {**h, "betas": h["betas"][:-1]}),
    "betas_strings": lambda a, h: (a, {**h, "betas": ["a"] * len(h["betas"])}),
    "weight_short": _array(_FIRST_WEIGHT, lambda x: x[:-1]),
    "weight_nan": _array(_FIRST_WEIGHT, _poke(0, np.nan)),
    "weight_inf": _array(_FIRST_WEIGHT, _poke(0, np.inf)),
    "weight_complex": _array(_FIRST_WEIGHT, lambda x: x.astype(np.complex64) * 1j),
    "weight_int": _array(_FIRST_WEIGHT, lambda x: x.astype(np.int32)),
    "weight_missing": lambda a, h: ({k: v for k, v in a.items() if k != _FIRST_WEIGHT}, h),
}
CRAFTED_AT = {
    "ising.npz": (ISING_CRAFTED, ["exact", "sample", "anneal", "pbits sample"]),
    "net.npz": (HOPFIELD_CRAFTED, ["hopfield recall"]),
    "rbm.npz": (RBM_CRAFTED, ["rbm sample", "rbm loglik"]),
    "diffusion.npz": (DIFFUSION_CRAFTED, ["diffusion sample", "diffusion bound"]),
}
for seed, (crafted, commands) in CRAFTED_AT.items():
    for command in commands:
        for label, change in crafted.items():
            extra = {"--plot": ["out.png"]} if "image_shape" in label else {}
            case = model_case(command, f"crafted_{label}.npz", _crafted(seed, change), f"crafted:{label}")
            if extra:
                case.argv += ["--plot", "out.png"]
            add(case)

# -- edge lists (text) at every model-file input that reads them
EDGE_LISTS = {
    "empty": b"",
    "only_comments": b"# nothing\n% here either\n",
    "not_utf8": b"1 2 1\n\xff\xfe 3\n",
    "binary_garbage": bytes(range(256)) * 3,
    "junk_line": b"1 2 1\nfoo bar baz\n",
    "four_fields": b"1 2 1 7\n2 3 1 7\n",
    "one_field": b"1 2 1\n3\n",
    "nan_weight": b"1 2 nan\n2 3 1\n",
    "inf_weight": b"1 2 inf\n2 3 1\n",
    "overflowing_weight": b"1 2 1e400\n2 3 1\n",
    "text_weight": b"1 2 x\n2 3 1\n",
    "self_loop": b"1 1 1\n1 2 1\n",
    "zero_index": b"0 1 1\n1 2 1\n",
    "negative_index": b"-3 2 1\n1 2 1\n",
    "float_index": b"1.5 2 1\n2 3 1\n",
    "int64_overflow": b"1 99999999999999999999999 1\n",
    "header_too_few_spins": b"2 2\n1 3 1\n1 2 1\n",
    "header_edge_count_wrong": b"3 5\n1 2 1\n2 3 1\n",
    "header_negative": b"-3 2\n1 2 1\n2 3 1\n",
    "header_zero": b"0 0\n",
    "header_text": b"n m\n1 2 1\n2 3 1\n",
    "duplicate_edge": b"3 3\n1 2 1\n2 1 1\n2 3 1\n",
}
EDGE_INPUTS = ["exact", "sample", "anneal", "compare", "meanfield", "pbits sample"]
for command in EDGE_INPUTS:
    for label, content in EDGE_LISTS.items():
        add(model_case(command, f"edges_{label}.txt", _bytes(content), f"edges:{label}"))
    add(model_case(command, "edges_folder.txt", lambda path, seeds: path.mkdir(), "edges:folder"))
for label in ("header_too_few_spins", "duplicate_edge", "self_loop"):
    case = model_case("anneal", f"edges_{label}.txt", _bytes(EDGE_LISTS[label]), f"edges:{label}:maxcut")
    case.argv.append("--maxcut")
    add(case)


# -- data folders and pattern files
def _folder(files: dict[str, bytes]) -> Callable[[Path, Path], object]:
    def make(path: Path, seeds: Path) -> object:
        path.mkdir()
        for name, content in files.items():
            (path / name).write_bytes(content)
        return path

    return make


IDX_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
HUGE_IDX = b"\x00\x00\x08\x03" + (2**31 - 1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 64
DATA_FOLDERS = {
    "empty_folder": _folder({}),
    "idx_truncated": _folder({n: b"\x00\x00\x08" for n in IDX_NAMES}),
    "idx_bad_magic": _folder({n: b"\xde\xad\xbe\xef" * 8 for n in IDX_NAMES}),
    "idx_huge_dims": _folder({n: HUGE_IDX for n in IDX_NAMES}),
    "idx_bad_gzip": _folder({n + ".gz": b"\x1f\x8bnot really gzip" for n in IDX_NAMES}),
    "amat_junk": _folder({f"binarized_mnist_{s}.amat": b"a b c\n" for s in ("train", "valid", "test")}),
    "amat_ragged": _folder({f"binarized_mnist_{s}.amat": b"0 1\n0 1 1\n" for s in ("train", "valid", "test")}),
    "amat_not_binary": _folder({f"binarized_mnist_{s}.amat": b"0 2\n0.5 1\n" for s in ("train", "valid", "test")}),
}
DATA_INPUTS = ["rbm train", "rbm loglik", "rbm repair", "diffusion train", "diffusion bound", "hopfield store"]
for command in DATA_INPUTS:
    for label, make in DATA_FOLDERS.items():
        name = f"data_{label}"
        add(Case(f"{command}|data:{label}", command_line(command, {"--data": [name]}), (name, "--data"),
                 _files_for(command, {name: make})))  # fmt: skip
    add(Case(f"{command}|data:missing", command_line(command, {"--data": ["data_missing"]}), ("data_missing",),
             _files_for(command)))  # fmt: skip
    add(Case(f"{command}|data:text_file", command_line(command, {"--data": ["data.txt"]}), ("data.txt", "--data"),
             _files_for(command, {"data.txt": _bytes(b"not data\n")})))  # fmt: skip


def _npy(array) -> Callable[[Path, Path], object]:
    return lambda path, seeds: np.save(path, array, allow_pickle=True)


PATTERN_FILES = {
    "patterns_object.npy": _npy(np.array([[1, -1], None], dtype=object)),
    "patterns_values.npy": _npy(np.array([[1, 0, 3, -1]] * 2)),
    "patterns_nan.npy": _npy(np.array([[1.0, np.nan, -1.0, 1.0]] * 2)),
    "patterns_3d.npy": _npy(np.ones((2, 2, 2))),
    "patterns_empty.npy": _npy(np.ones((0, 4))),
    "patterns_complex.npy": _npy(np.ones((2, 4), dtype=np.complex128)),
    "patterns_truncated.npy": lambda path, seeds: path.write_bytes((seeds / "patterns.npy").read_bytes()[:-5]),
    "patterns_two_arrays.npz": lambda path, seeds: np.savez(path, a=np.ones((2, 4)), b=np.ones((2, 4))),
    "patterns_empty.txt": _bytes(b""),
    "patterns_ragged.txt": _bytes(b"1 -1 1\n1 -1\n"),
    "patterns_words.txt": _bytes(b"up down up\n"),
    "patterns_values.txt": _bytes(b"1 0.5 -1\n1 -1 1\n"),
    "patterns_not_utf8.txt": _bytes(b"1 -1\n\xff\xfe\n"),
}
for name, make in PATTERN_FILES.items():
    add(Case(f"hopfield store|patterns:{name}", command_line("hopfield store", {"--data": [name]}), (name,),
             {name: make}))  # fmt: skip


# -- outputs that would destroy inputs or cannot be written (checked before the work)
def _out(command: str, label: str, overrides: dict, names: tuple[str, ...], extra_files: dict | None = None):
    add(Case(f"{command}|output:{label}", command_line(command, overrides), names, _files_for(command, extra_files)))


_out("rbm sample", "save_is_model", {"--save": ["rbm.npz"]}, ("rbm.npz", "--save"))
_out("rbm sample", "json_is_model", {"--json": ["rbm.npz"]}, ("rbm.npz", "--json"))
_out("diffusion sample", "save_is_model", {"--save": ["diffusion.npz"]}, ("diffusion.npz", "--save"))
_out("diffusion sample", "json_is_save", {"--json": ["out.npz"]}, ("out.npz", "--json", "--save"))
_out("hopfield recall", "json_is_model", {"--json": ["net.npz"]}, ("net.npz", "--json"))
_out("rbm train", "save_is_checkpoint", {"--checkpoint": ["out.npz"]}, ("out.npz", "--checkpoint", "--save"))
_out("rbm train", "save_is_init", {"--init": ["rbm.npz"], "--save": ["rbm.npz"], "--hidden": None}, ("rbm.npz",),
     {"rbm.npz": _copy("rbm.npz")})  # fmt: skip
_out("diffusion train", "save_is_checkpoint", {"--checkpoint": ["out.npz"]}, ("out.npz", "--checkpoint", "--save"))
_out("sample", "json_is_plot", {"--plot": ["out.json"]}, ("out.json", "--plot", "--json"))
_out("sample", "json_is_checkpoint", {"--checkpoint": ["out.json"]}, ("out.json", "--checkpoint", "--json"))
_out("sample", "json_is_model", {"--lattice": None, "--json": ["ising.npz"]}, ("ising.npz", "--json"),
     {"ising.npz": _copy("ising.npz")})  # fmt: skip
_out("exact", "json_is_folder", {"--json": ["a_folder"]}, ("a_folder", "--json"),
     {"a_folder": lambda path, seeds: path.mkdir()})  # fmt: skip
_out("rbm train", "json_is_folder", {"--json": ["a_folder"]}, ("a_folder", "--json"),
     {"a_folder": lambda path, seeds: path.mkdir()})  # fmt: skip
_out("exact", "json_missing_folder", {"--json": ["no/such/folder/out.json"]}, ("no/such/folder", "--json"))
_out("exact", "json_name_too_long", {"--json": ["x" * 300 + ".json"]}, ("x" * 20, "--json", "too long"))
_out("ising", "checkpoint_is_file", {"--checkpoint": ["a_file"]}, ("a_file", "--checkpoint"),
     {"a_file": _bytes(b"x")})  # fmt: skip
_out("sample", "checkpoint_is_folder", {"--checkpoint": ["a_folder"]}, ("a_folder", "--checkpoint"),
     {"a_folder": lambda path, seeds: path.mkdir()})  # fmt: skip
_out("demo", "output_is_file", {"--output": ["a_file"]}, ("a_file", "--output"), {"a_file": _bytes(b"x")})
_out("onsager", "plot_is_folder", {"--plot": ["a_folder"]}, ("a_folder", "--plot"),
     {"a_folder": lambda path, seeds: path.mkdir()})  # fmt: skip


# -- crafted checkpoints: resumed with the same arguments, they must be refused, never trusted
def _crafted_checkpoint(ck: str, change: Callable[[dict, dict], tuple[dict, dict]], member: str | None = None):
    def make(path: Path, seeds: Path) -> object:
        source = seeds / ck
        if source.is_dir():
            shutil.copytree(source, path)
            [target] = sorted(path.glob("*.npz"))
        else:
            target = path
            shutil.copyfile(source, path)
        arrays, header = load_arrays(target)
        arrays, header = change(dict(arrays), json.loads(json.dumps(header)))
        write_npz(target, arrays, header)
        return path

    return make


def _progress(key: str, value):
    return lambda a, h: (a, {**h, "progress": {**h["progress"], key: value}})


def _checkpoint_key(key: str, value):
    return lambda a, h: (a, {**h, "checkpoint": {**h["checkpoint"], key: value}})


RUN_CHECKPOINT_CRAFTED = {
    "chain_rng_one_column": _array("chain_rng", lambda x: x[:, :1].copy()),
    "chain_rng_zero": _array("chain_rng", lambda x: np.zeros_like(x)),
    "chain_rng_float": _array("chain_rng", lambda x: x.astype(np.float64)),
    "chain_spins_short": _array("chain_spins", lambda x: x[:, :-2].copy()),
    "chain_spins_not_spins": _array("chain_spins", _poke(0, 5)),
    "chain_spins_one_chain": _array("chain_spins", lambda x: x[:1].copy()),
    "chain_energy_offset": _array("chain_energy", lambda x: x + 100.0),
    "chain_energy_nan": _array("chain_energy", _poke(0, np.nan)),
    "chain_magnetization_offset": _array("chain_magnetization", lambda x: x + 4.0),
    "energy_series_short": _array("energy", lambda x: x[:, :3].copy()),
    "site_sums_short": _array("site_sums", lambda x: x[:, :2].copy()),
    "site_sums_missing": lambda a, h: ({k: v for k, v in a.items() if k != "site_sums"}, h),
    "sweeps_done_huge": _progress("sweeps_done", 10**9),
    "sweeps_done_negative": _progress("sweeps_done", -5),
    "sweeps_done_string": _progress("sweeps_done", "many"),
    "samples_done_huge": _progress("samples_done", 10**9),
    "accepted_over_attempted": _progress("accepted", 10**9),
    "progress_missing": lambda a, h: (a, {k: v for k, v in h.items() if k != "progress"}),
    "progress_list": lambda a, h: (a, {**h, "progress": [1, 2]}),
    "run_string": lambda a, h: (a, {**h, "run": "same"}),
}
RBM_CHECKPOINT_CRAFTED = {
    "velocity_short": _array("train:velocity:weights", lambda x: x[:, :2].copy()),
    "velocity_visible_short": _array("train:velocity:visible_bias", lambda x: x[:3].copy()),
    "velocity_nan": _array("train:velocity:weights", _poke(0, np.nan)),
    "chains_short": _array("train:chains:0", lambda x: x[:3].copy()),
    "chains_wide": _array("train:chains:0", lambda x: np.concatenate([x, x], axis=1)),
    "chains_not_binary": _array("train:chains:0", _poke(0, 7.0)),
    "history_one_element": _array("train:history:reconstruction_error", lambda x: x[:1].copy()),
    "history_missing": lambda a, h: ({k: v for k, v in a.items() if k != "train:history:seconds"}, h),
    "epoch_huge": _checkpoint_key("epoch", 10**9),
    "epoch_negative": _checkpoint_key("epoch", -1),
    "epoch_string": _checkpoint_key("epoch", "one"),
    "checkpoint_list": lambda a, h: (a, {**h, "checkpoint": [1]}),
    "weights_nan": _array("weights", _poke(0, np.nan)),
}
DIFFUSION_CHECKPOINT_CRAFTED = {
    "losses_short": _array("train:losses", lambda x: x[:3].copy()),
    "losses_missing": lambda a, h: ({k: v for k, v in a.items() if k != "train:losses"}, h),
    "key_wrong_shape": _array("train:key", lambda x: np.concatenate([x, x])),
    "step_huge": _checkpoint_key("step", 10**9),
    "step_negative": _checkpoint_key("step", -1),
    "opt_count_negative": _array("opt[1][0].count", lambda x: np.array(-5, dtype=x.dtype)),
    "opt_mu_short": _array("opt[1][0].mu.out.bias", lambda x: x[:1].copy()),
    "weight_nan": _array(_FIRST_WEIGHT, _poke(0, np.nan)),
}
BOUND_CHECKPOINT_CRAFTED = {
    "bits_short": _array("bits", lambda x: x[:10].copy()),
    "bits_nan": _array("bits", _poke(0, np.nan)),
    "kl_wrong_shape": _array("kl", lambda x: x[:1].copy()),
    "bits_missing": lambda a, h: ({k: v for k, v in a.items() if k != "bits"}, h),
    "done_huge": _set("done", 10**9),
    "done_negative": _set("done", -50),
    "done_not_batch": _set("done", 33),
    "done_string": _set("done", "half"),
    "prior_string": _set("prior", "abc"),
    "per_dim_missing": _drop("per_dim"),
}
CHECKPOINT_CRAFTED = {
    "sample": RUN_CHECKPOINT_CRAFTED,
    "ising": {k: RUN_CHECKPOINT_CRAFTED[k] for k in ("chain_rng_one_column", "chain_spins_short", "sweeps_done_huge")},
    "rbm train": RBM_CHECKPOINT_CRAFTED,
    "diffusion train": DIFFUSION_CHECKPOINT_CRAFTED,
    "diffusion bound": BOUND_CHECKPOINT_CRAFTED,
}
for command, crafted in CHECKPOINT_CRAFTED.items():
    argv, _, ck = CHECKPOINTED[command]
    for label, change in crafted.items():
        files = {ck: _crafted_checkpoint(ck, change)}
        if command == "diffusion bound":
            files["diffusion.npz"] = _copy("diffusion.npz")
        add(Case(f"{command}|checkpoint:{label}", list(argv), (ck,), files, timeout=120))

# -- huge sizes: refused from an estimate before anything is allocated (or ran for long)
HUGE = [
    ("exact", {"--lattice": ["100000x100000"]}, "--lattice"),
    ("exact", {"-T": ["1:2:1000000000000"]}, "-T"),
    ("onsager", {"--size": ["100000000"]}, "--size"),
    ("onsager", {"-T": ["1:2:1000000000000"]}, "-T"),
    ("ising", {"-L": ["100000"]}, "-L"),
    ("ising", {"--chains": ["1000000000"]}, "--chains"),
    ("ising", {"--sweeps": ["1000000000000"]}, "--sweeps"),
    ("sample", {"--chains": ["1000000000"]}, "--chains"),
    ("sample", {"--sweeps": ["1000000000000"]}, "--sweeps"),
    ("sample", {"--lattice": ["100000x100000"]}, "--lattice"),
    ("anneal", {"--reads": ["1000000000"]}, "--reads"),
    ("anneal", {"--ladder-size": ["1000000000"], "--algorithm": ["pt"]}, "--ladder-size"),
    ("compare", {"--lattice": ["100000x100000"]}, "--lattice"),
    ("meanfield", {"--lattice": ["100000x100000"]}, "--lattice"),
    ("hopfield recall", {"--trials": ["1000000000"]}, "--trials"),
    ("hopfield capacity", {"--neurons": ["1000000000"]}, "--neurons"),
    ("hopfield capacity", {"--sets": ["1000000000"]}, "--sets"),
    ("rbm train", {"--hidden": ["1000000000"]}, "--hidden"),
    ("rbm train", {"--batch-size": ["1000000000"], "--method": ["pcd"]}, "--batch-size"),
    ("rbm sample", {"--n": ["1000000000"]}, "--n"),
    ("rbm loglik", {"--method": ["ais"], "--runs": ["1000000000"]}, "--runs"),
    ("diffusion train", {"--hidden": ["10000000"]}, "--hidden"),
    ("diffusion train", {"--steps": ["1000000000"]}, "--steps"),
    ("diffusion train", {"--n-train": ["100000000000"]}, "--n-train"),
    ("diffusion sample", {"--n": ["100000000000"]}, "--n"),
    ("diffusion bound", {"--n": ["100000000000"]}, "--n"),
    ("spinglass pa", {"--population": ["1000000000000"]}, "--population"),
    ("spinglass pa", {"--lattice": ["100000x100000"]}, "--lattice"),
    ("spinglass pa", {"--runs": ["1000000000000"]}, "--runs"),
    ("spinglass pa", {"--steps": ["1000000000000"]}, "--steps"),
    ("spinglass pt", {"--sweeps": ["1000000000000000"]}, "--sweeps"),
    ("spinglass pt", {"--lattice": ["100000x100000"]}, "--lattice"),
    ("spinglass pa", {"--samples": ["1000000000000000"]}, "--samples"),
    ("spinglass pt", {"--samples": ["1000000000000000"]}, "--samples"),
    ("spinglass overlaps", {"--sk": ["8,100000000"]}, "--sk"),
    ("spinglass overlaps", {"--population": ["1000000000000"]}, "--population"),
    ("spinglass overlaps", {"--samples": ["1000000000000"]}, "--samples"),
    ("spinglass overlaps", {"--sk": ["100000000"]}, "--sk"),
    ("spinglass groundstate", {"--sk": ["100000000"]}, "--sk"),
    ("spinglass groundstate", {"--samples": ["1000000000000"]}, "--samples"),
    ("spinglass groundstate", {"--population": ["1000000000000"]}, "--population"),
    ("spinglass groundstate", {"--ladder-size": ["1000000000000"], "--algorithm": ["pt"]}, "--ladder-size"),
    ("spinglass groundstate", {"--ladder-size": ["1000000000000"], "--algorithm": ["pt-houdayer"]}, "--ladder-size"),
]
for command, overrides, option in HUGE:
    label = " ".join(f"{k}={v[0]}" for k, v in overrides.items())
    names = (*option_names(option), "memory")
    add(Case(f"{command}|huge:{label}", command_line(command, overrides), names, _files_for(command), huge=True,
             timeout=30))  # fmt: skip
HUGE_FILES = {
    "edges_huge_index": b"1 2000000000 1\n2 3 1\n",
    "edges_huge_header": b"2000000000 2\n1 2 1\n2 3 1\n",
}
for name, content in HUGE_FILES.items():
    for command in ("exact", "sample", "anneal"):
        case = model_case(command, f"{name}.txt", _bytes(content), f"huge:{name}", huge=True, timeout=30)
        case.names = (*case.names, "memory")
        add(case)
for command in ("exact", "sample"):
    case = model_case(command, "crafted_huge_n.npz", _crafted("ising.npz", _set("n_spins", 2 * 10**9)),
                      "huge:model_n_spins", huge=True, timeout=30)  # fmt: skip
    add(case)


# ---------------------------------------------------------------------------- the tests


def _prepare(case: Case, folder: Path, seeds: Path) -> dict:
    for name, make in case.files.items():
        make(folder / name, seeds)
    return listing(folder)


def _refused_by_the_parser(case: Case, folder: Path) -> Outcome | None:
    """The outcome of ``case`` if the command line's parser alone refuses it, else None.

    ``main`` returns the parser's exit code before it runs anything, so such a case needs no
    child process. Sizes that must be refused before any allocation always run in a child."""
    if case.huge:
        return None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            build_parser().parse_args(case.argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
            return Outcome(code, None, False, out.getvalue(), err.getvalue(), 0.0)
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_with_one_line_naming_it_and_writes_nothing(case, seeds, tmp_path):
    before = _prepare(case, tmp_path, seeds)
    outcome = _refused_by_the_parser(case, tmp_path)
    if outcome is None:
        limit = 8 * GiB if case.huge else None
        outcome = run_forked(case.argv, tmp_path, timeout=case.timeout, memory_limit_bytes=limit)
    after = listing(tmp_path)
    assert_refused(outcome, case.names, before, after, {k: v for k, v in before.items() if v is not None})


# the real entry point, for a few of the cases that used to crash the process (heap corruption,
# SIGSEGV, an XLA abort): exit status, stderr and the absence of a core are those of the shell
ENTRY_POINT = [
    "sample|checkpoint:chain_rng_one_column",
    "rbm train|checkpoint:velocity_short",
    "sample|crafted:indices_out_of_range",
    "rbm loglik|huge:--method=ais --runs=1000000000",
    "exact|model:bitflip_middle",
]


@pytest.mark.parametrize("case_id", ENTRY_POINT)
def test_the_entry_point_refuses_cases_that_crashed_the_process(case_id, seeds, tmp_path):
    [case] = [c for c in CASES if c.id == case_id]
    before = _prepare(case, tmp_path, seeds)
    outcome = run_subprocess(case.argv, tmp_path, timeout=120)
    after = listing(tmp_path)
    assert_refused(outcome, case.names, before, after, {k: v for k, v in before.items() if v is not None})


def test_every_subcommand_is_in_the_table():
    from thermolearn.cli.main import build_parser

    parser = build_parser()

    def leaves(p, prefix=()):
        subs = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            yield " ".join(prefix)
            return
        for name, child in subs[0].choices.items():
            yield from leaves(child, (*prefix, name))

    commands = set(leaves(parser))
    assert commands == set(BASE), f"commands without a row in the table: {sorted(commands - set(BASE))}"
    covered = {c.id.split("|", 1)[0] for c in CASES}
    assert covered == commands, f"commands without cases: {sorted(commands - covered)}"


@pytest.mark.parametrize("command", sorted(BASE))
def test_the_small_command_line_of_each_row_is_valid(command, seeds, tmp_path):
    """The table's base command lines run (so each case fails for its one fault, not another)."""
    if command in ("demo", "diffusion train", "rbm train", "hopfield capacity", "explore"):
        pytest.skip("slow to run in full; its options are parsed by the cases (test_explorer runs explore)")
    for name in NEEDS.get(command, []):
        _copy(name)(tmp_path / name, seeds)
    outcome = run_forked(command_line(command), tmp_path, timeout=120)
    assert outcome.code == 0, outcome.describe()
    assert (tmp_path / "out.json").exists()


def test_exact_does_not_trust_a_header_geometry_that_disagrees_with_the_couplings(seeds, tmp_path):
    """A 4 x 4 lattice file whose couplings were doubled: refused, or ln Z of the real couplings."""
    from tests.brute_force import brute_force
    from thermolearn import Ising

    _crafted("lattice4.npz", _array("couplings", lambda x: 2 * x))(tmp_path / "doubled.npz", seeds)
    outcome = run_forked(["exact", "doubled.npz", "-T", "2", "--json", "out.json"], tmp_path, timeout=60)
    assert outcome.signal is None and "Traceback" not in outcome.err, outcome.describe()
    if outcome.code == 2:
        assert len(outcome.error_lines) == 1 and "doubled.npz" in outcome.err
        return
    assert outcome.code == 0, outcome.describe()
    record = json.loads((tmp_path / "out.json").read_text())["results"][0]
    real = Ising.lattice((4, 4), coupling=2.0)
    assert record["log_z"] == pytest.approx(brute_force(real, 2.0)["log_z"], rel=1e-10)
