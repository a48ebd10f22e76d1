"""The command line as one vocabulary: the whole parser walked, one line per error, exit codes.

Every option has help text; the shared options mean the same thing wherever they appear; a bad
number is one line naming its option and exit code 2; internal errors are a traceback and exit
code 70; deprecated spellings still work and warn once; every JSON records the version and the
arguments.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from thermolearn import __version__
from thermolearn.cli import main as cli_main
from thermolearn.cli import onsager_command
from thermolearn.cli.main import EXIT_BROKEN_PIPE, EXIT_INTERNAL_ERROR, build_parser, main
from thermolearn.cli.options import NUMBER_TYPES, _DeprecatedAlias

SHARED = ("--json", "--plot", "--seed", "--no-progress", "--checkpoint", "--temperature", "--size", "--sweeps")
SHARED += ("--data", "--save", "--ladder-size")


def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(argv prefix, parser) for the root and every subcommand and action."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*prefix, name))


def options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        yield action


PARSERS = list(walk(build_parser()))
LEAVES = [
    (p, parser)
    for p, parser in PARSERS
    if p and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
]


def test_the_walk_reaches_every_subcommand_and_action():
    names = {" ".join(p) for p, _ in LEAVES}
    assert {"exact", "onsager", "ising", "sample", "anneal", "compare", "meanfield", "demo"} <= names
    assert {"rbm train", "rbm sample", "rbm loglik", "rbm repair"} <= names
    assert {"hopfield store", "hopfield recall", "hopfield capacity"} <= names
    assert {"diffusion train", "diffusion sample", "diffusion bound"} <= names


@pytest.mark.parametrize("prefix, parser", PARSERS, ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_every_option_has_help_text(prefix, parser):
    for action in options(parser):
        if isinstance(action, _DeprecatedAlias):
            assert action.help == argparse.SUPPRESS  # hidden, documented by the option it stands for
            continue
        assert action.help and action.help.strip(), f"{' '.join(prefix)} {action.option_strings or action.dest}"


def test_shared_options_have_one_dest_type_and_form_everywhere():
    seen: dict[str, tuple] = {}
    for prefix, parser in LEAVES:
        for action in options(parser):
            if isinstance(action, _DeprecatedAlias):
                continue
            for name in action.option_strings:
                if name not in SHARED:
                    continue
                form = (action.dest, action.type, type(action).__name__, action.nargs)
                assert seen.setdefault(name, form) == form, f"{' '.join(prefix)} {name}: {form} vs {seen[name]}"
    assert set(seen) == set(SHARED), set(SHARED) - set(seen)


def test_sample_anneal_and_compare_have_plot():
    names = {" ".join(p): {o for a in options(parser) for o in a.option_strings} for p, parser in LEAVES}
    for command in ("sample", "anneal", "compare", "exact", "onsager", "ising", "meanfield"):
        assert "--plot" in names[command] and "--json" in names[command]


NUMERIC = [
    (prefix, action.option_strings[0], action.nargs)
    for prefix, parser in LEAVES
    for action in options(parser)
    if action.option_strings and action.type in NUMBER_TYPES and not isinstance(action, _DeprecatedAlias)
]


def test_every_number_has_a_shared_parser():
    for prefix, parser in LEAVES:
        for action in options(parser):
            if action.option_strings and action.type in (int, float):
                assert action.choices is not None, f"{' '.join(prefix)} {action.option_strings[0]}: bare {action.type}"


@pytest.mark.parametrize(
    "prefix, option, nargs", NUMERIC, ids=lambda x: " ".join(x) if isinstance(x, tuple) else str(x)
)
def test_a_bad_number_is_one_line_naming_the_option_and_exit_2(prefix, option, nargs, capsys):
    values = ["nan", "nan"] if nargs == 2 else ["nan"]
    code = main([*prefix, option, *values])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert option in err[0] and err[0].startswith(f"thermolearn {' '.join(prefix)}: error: ")
    assert err[0].endswith(f"(see thermolearn {' '.join(prefix)} --help)")


@pytest.mark.parametrize("prefix", sorted({p for p, o, _ in NUMERIC if o == "--seed"}), ids=" ".join)
def test_a_negative_seed_names_seed(prefix, capsys):
    assert main([*prefix, "--seed", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seed" in err[0] and ">= 0" in err[0]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["onsager", "--bogus"], "thermolearn onsager: error: unrecognized arguments: --bogus"),
        (
            ["rbm", "train", "--data", "d", "--save", "m.npz", "--bogus", "1"],
            "thermolearn rbm train: error: unrecognized arguments: --bogus 1",
        ),
        (["nosuch"], "thermolearn: error: argument COMMAND: invalid choice"),
        (["rbm", "train", "--data", "digits"], "required: --save"),
        (["diffusion", "train", "--save", "m.npz"], "required: --data"),
        (["hopfield", "store", "--save", "x.npz"], "required: --data"),
        (["ising", "-L", "4"], "required: --temperature/-T"),
        (["exact", "--method", "magic", "-T", "1"], "invalid choice"),
        (["rbm"], "give an action"),
        ([], "give a command"),
    ],
)
def test_unknown_options_and_missing_arguments_are_one_line(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_help_and_version_exit_0(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"thermolearn {__version__}"
    assert main(["rbm", "train", "--help"]) == 0
    assert "--learning-rate-schedule" in capsys.readouterr().out


# ---------------------------------------------------------------------------------- exit codes
def _raising(exc: BaseException):
    def run(args):
        raise exc

    return run


def test_an_internal_error_is_a_traceback_and_exit_70(monkeypatch, capsys):
    monkeypatch.setattr(onsager_command, "run", _raising(RuntimeError("boom")))
    assert main(["onsager"]) == EXIT_INTERNAL_ERROR == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert err.strip().splitlines()[-1].startswith("thermolearn onsager: internal error (RuntimeError)")
    assert "report" in err.strip().splitlines()[-1]


def test_a_type_error_from_the_library_is_a_bug_not_bad_input(monkeypatch, capsys):
    monkeypatch.setattr(onsager_command, "run", _raising(TypeError("unsupported operand")))
    assert main(["onsager"]) == 70
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(
    "exc, message",
    [
        (ValueError("--size must be >= 3"), "--size must be >= 3"),
        (FileNotFoundError(2, "No such file or directory", "x.npz"), "No such file or directory: x.npz"),
        (ImportError("dimod interop needs dimod: pip install 'thermolearn[dimod]'"), "pip install"),
        # a run that diverged for its settings, with the remedy (was a traceback "this is a bug")
        (FloatingPointError("the VMC energy became nan at iteration 3; lower the learning rate"), "lower the"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, exc, message):
    monkeypatch.setattr(onsager_command, "run", _raising(exc))
    assert main(["onsager"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"thermolearn onsager: error: {message}"] or (len(err) == 1 and message in err[0])


def test_a_plain_import_error_is_internal(monkeypatch, capsys):
    monkeypatch.setattr(onsager_command, "run", _raising(ImportError("cannot import name 'x'")))
    assert main(["onsager"]) == 70


def test_ctrl_c_is_130_and_a_closed_pipe_is_quiet(monkeypatch, capsys):
    monkeypatch.setattr(onsager_command, "run", _raising(KeyboardInterrupt()))
    assert main(["onsager"]) == 130
    assert capsys.readouterr().err.strip() == "thermolearn onsager: interrupted"
    monkeypatch.setattr(onsager_command, "run", _raising(BrokenPipeError()))
    assert main(["onsager"]) == EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def test_a_closed_pipe_in_a_real_process_leaks_no_traceback():
    script = "import sys; from thermolearn.cli.main import main; sys.exit(main(['onsager', '-T', '1:4:400']))"
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.readline()
        proc.stdout.close()  # `| head -1`
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert proc.returncode in (0, EXIT_BROKEN_PIPE)


# ---------------------------------------------------------------------------------- deprecation
@pytest.mark.parametrize(
    "argv, dest, value, replacement",
    [
        (["ising", "-L", "4", "--temperatures", "2", "3"], "temperature", ["2", "3"], "--temperature"),
        (["anneal", "m.npz", "--temperatures", "8"], "ladder_size", 8, "--ladder-size"),
        (["rbm", "train", "--data", "digits", "--save", "m.npz", "--temperatures", "5"], "ladder_size", 5, None),
        (
            ["rbm", "train", "--data", "d", "--save", "m.npz", "--schedule", "linear"],
            "learning_rate_schedule",
            "linear",
            None,
        ),
        (["rbm", "sample", "m.npz", "--steps", "7"], "sweeps", 7, "--sweeps"),
        (["rbm", "repair", "m.npz", "--steps", "7"], "sweeps", 7, "--sweeps"),
        (["diffusion", "train", "--dataset", "moons", "--save", "m.npz"], "data", "moons", "--data"),
        (["diffusion", "bound", "m.npz", "--dataset", "moons"], "data", "moons", "--data"),
        (["diffusion", "sample", "m.npz", "--output", "s.npz"], "save", "s.npz", "--save"),
        (["hopfield", "store", "--digits", "--save", "x.npz"], "data", "digits", "--data digits"),
        (["hopfield", "store", "--mnist", "folder", "--save", "x.npz"], "data", "folder", "--data"),
        (["hopfield", "store", "--patterns", "p.txt", "--save", "x.npz"], "data", "p.txt", "--data"),
    ],
)
def test_deprecated_spellings_still_work_and_warn_once(argv, dest, value, replacement, capsys):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "deprecated" in err[0] and "0.7" in err[0]
    if replacement:
        assert f"use {replacement}" in err[0]


def test_a_deprecated_spelling_runs_to_the_same_result(tmp_path, capsys):
    from thermolearn import Ising

    Ising.lattice((3, 3)).save(tmp_path / "m.npz")
    base = ["anneal", str(tmp_path / "m.npz"), "--algorithm", "pt", "--sweeps", "50", "--reads", "2"]
    assert main([*base, "--ladder-size", "4", "--json", str(tmp_path / "new.json")]) == 0
    assert main([*base, "--temperatures", "4", "--json", str(tmp_path / "old.json")]) == 0
    assert capsys.readouterr().err.count("deprecated") == 1
    new, old = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("new", "old"))
    assert new["energies"] == old["energies"] and old["arguments"]["ladder_size"] == 4


def test_repeated_temperatures_add_up(capsys):
    args = build_parser().parse_args(["exact", "--lattice", "4", "-T", "2", "-T", "3"])
    assert args.temperature == ["2", "3"]
    args = build_parser().parse_args(["onsager", "--size", "4", "8", "-L", "16"])
    assert args.size == [4, 8, 16]


# ---------------------------------------------------------------------------------- JSON
def test_json_records_the_version_and_the_arguments(tmp_path, capsys):
    out = tmp_path / "o.json"
    assert main(["onsager", "-T", "2", "3", "--size", "4", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["thermolearn_version"] == __version__
    args = record["arguments"]
    assert args["command"] == "onsager" and args["temperature"] == ["2", "3"] and args["size"] == [4]
    assert args["json"] == str(out) and "run" not in args
    assert {"coupling", "critical_temperature", "infinite_lattice", "finite_lattices"} <= set(record)


def test_json_dash_writes_only_json_to_stdout(capsys):
    assert main(["exact", "--lattice", "3x3", "-T", "1.5", "--json", "-"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)  # the whole stdout is one JSON document
    assert record["results"][0]["temperature"] == 1.5 and record["arguments"]["json"] == "-"
    assert "exact by" in captured.err  # the table went to stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["exact", "--lattice", "3x3", "-T", "1"],
        ["sample", "--lattice", "3x3", "-T", "2", "--sweeps", "200", "--burn-in", "10"],
        ["compare", "--lattice", "3x3", "-T", "2", "--methods", "exact", "mean_field"],
        ["meanfield", "--lattice", "8", "-T", "1", "3"],
    ],
)
def test_json_of_other_commands_records_the_version_and_the_arguments(argv, tmp_path):
    out = tmp_path / "r.json"
    assert main([*argv, "--json", str(out), "--plot", str(tmp_path / "r.png")]) == 0
    record = json.loads(out.read_text())
    assert record["thermolearn_version"] == __version__ and record["arguments"]["command"] == argv[0]
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_anneal_plot_and_json(tmp_path):
    from thermolearn import Ising

    Ising.lattice((3, 3)).save(tmp_path / "m.npz")
    out = tmp_path / "a.json"
    argv = ["anneal", str(tmp_path / "m.npz"), "--sweeps", "50", "--reads", "4", "--json", str(out)]
    assert main([*argv, "--plot", str(tmp_path / "a.png")]) == 0
    record = json.loads(out.read_text())
    assert record["arguments"]["reads"] == 4 and record["best_energy"] == pytest.approx(-18.0)
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv",
    [
        ["rbm", "train", "--data", "digits", "--hidden", "4", "--save", "x.npz", "--checkpoint", "x.npz"],
        ["rbm", "train", "--data", "digits", "--init", "x.npz", "--save", "x.npz"],
        ["diffusion", "train", "--data", "moons", "--save", "m.npz", "--checkpoint", "./m.npz"],
        ["diffusion", "sample", "m.npz", "--save", "m.npz"],
        ["hopfield", "store", "--data", "p.npz", "--save", "p.npz"],
    ],
)
def test_outputs_that_would_destroy_inputs_or_each_other_are_refused(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("same file" in err[0] or "agree to 10 digits" in err[0]), err
    assert list(tmp_path.iterdir()) == []


def test_an_output_may_not_overwrite_an_input(tmp_path, capsys):
    from thermolearn.cli import rbm_command

    parser = build_parser()
    args = parser.parse_args(["rbm", "sample", str(tmp_path / "m.npz"), "--save", str(tmp_path / "m.npz")])
    with pytest.raises(ValueError, match="same file"):
        rbm_command.run_sample(args)


# ---------------------------------------------------------------------------------- lazy imports
def test_no_command_help_imports_jax():
    names = [" ".join(p) for p, _ in LEAVES]
    script = (
        "import sys\nfrom thermolearn.cli.main import main\n"
        f"for name in {names!r}:\n"
        "    assert main([*name.split(), '--help']) == 0\n"
        "bad = sorted(m for m in sys.modules if m == 'jax' or m.startswith(('jax.', 'equinox', 'optax')))\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_names_copied_into_the_cli_match_the_library():
    from thermolearn.cli import anneal_command, compare_command, exact_command, ising_command, rbm_command
    from thermolearn.datasets import damage
    from thermolearn.exact.solve import EXACT_METHODS
    from thermolearn.learning import contrastive_divergence as cd
    from thermolearn.runs.comparison import registered_methods
    from thermolearn.samplers import annealing, schedules
    from thermolearn.samplers.registry import SAMPLERS

    assert exact_command.EXACT_METHOD_CHOICES == EXACT_METHODS
    assert ising_command.SAMPLER_CHOICES == tuple(sorted(SAMPLERS))
    assert anneal_command.ALGORITHM_CHOICES == annealing.ALGORITHMS
    assert anneal_command.DEFAULT_SWEEPS == annealing.DEFAULT_SWEEPS
    assert anneal_command.DEFAULT_LADDER_SIZE == annealing.DEFAULT_PT_TEMPERATURES
    assert anneal_command.SCHEDULE_CHOICES == schedules.ANNEALING_SCHEDULES
    assert rbm_command.NEGATIVE_PHASE_CHOICES == cd.NEGATIVE_PHASE_METHODS
    assert rbm_command.LEARNING_RATE_SCHEDULE_CHOICES == cd.LEARNING_RATE_SCHEDULES
    assert rbm_command.ENGINE_CHOICES == cd.ENGINES
    assert rbm_command.DAMAGE_KINDS == damage.DAMAGE_KINDS and rbm_command.REGIONS == damage.REGIONS
    assert set(compare_command.BUILT_IN_METHODS) <= set(registered_methods())
    from thermolearn import dynamics
    from thermolearn.cli import dynamics_command

    assert dynamics_command.SAMPLER_CHOICES == dynamics.SAMPLERS
    assert dynamics_command.LOSS_CHOICES == dynamics.LOSSES
    assert dynamics_command.EBM_DATA_CHOICES == (*dynamics.EBM_DATASETS, "digits")  # + the binary EBM's
    assert dynamics_command.ENSEMBLE_TASK_CHOICES[:2] == dynamics.ENSEMBLE_TASKS
    from thermolearn.cli import neural_command
    from thermolearn.neural.van import NETWORKS

    assert neural_command.NETWORK_CHOICES == NETWORKS
    assert cli_main.EXIT_INTERNAL_ERROR == 70


def test_an_undefined_number_in_a_record_is_written_as_null_not_a_crash(tmp_path, capsys):
    # `sample --json` of a frozen chain and `diffusion bound --n 1 --json` stopped at the JSON step
    # ("Out of range float values are not JSON compliant"), after the work, with nothing written
    import numpy as np

    from thermolearn.cli.options import write_json

    target = tmp_path / "r.json"
    args = argparse.Namespace(json=str(target), _arguments={"seed": 0})
    record = {
        "a": float("nan"),
        "b": {"stderr": np.float64("inf"), "ok": 1.5},
        "c": np.array([1.0, np.nan, -np.inf]),
        "d": [np.float32(2.0), (float("-inf"), "x")],
    }
    write_json(args, record)
    written = json.loads(target.read_text())
    assert written["a"] is None and written["b"] == {"stderr": None, "ok": 1.5}
    assert written["c"] == [1.0, None, None] and written["d"] == [2.0, [None, "x"]]
    capsys.readouterr()  # the "wrote PATH" line
    write_json(argparse.Namespace(json="-", _arguments={}), {"x": float("nan")})
    assert json.loads(capsys.readouterr().out)["x"] is None
