"""One command-line vocabulary: the parser class, the number parsers and the shared options.

Every subcommand builds its options from here, so a flag name means one thing everywhere:

==================  ==========================================================================
``--json PATH``      write the results as JSON (``-`` for stdout; the table then goes to stderr);
                     every record also holds ``thermolearn_version`` and ``arguments``
``--plot PATH.png``  write a figure
``--seed N``         the random seed, an integer >= 0
``--no-progress``    no progress bar (bars are drawn only on a terminal anyway)
``--checkpoint P``   a checkpoint (file or folder) that a killed run resumes from
``--temperature``    ``-T``: temperatures (k_B = 1), numbers or ranges start:stop:count
``--size``           ``-L``: lattice sides, ``--size 8 16`` or ``-L 8 -L 16``
``--sweeps``         Monte Carlo / Gibbs sweeps; ``--steps`` is kept for diffusion steps T
``--ladder-size``    rungs of a parallel-tempering ladder
``--data``           the data: a data-set name, a folder (MNIST IDX files) or a file
``--save PATH.npz``  write the command's product: a model, a network or samples
==================  ==========================================================================

Old spellings stay for one version as deprecated aliases: they work and print one warning
line on stderr. Every parse error is one line, ``thermolearn CMD: error: MESSAGE (see
thermolearn CMD --help)``, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2
DEPRECATED_UNTIL = "0.7"


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block) and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.late_required: list[argparse.Action] = []

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        namespace, extras = super().parse_known_args(args, namespace)
        for action in self.late_required:  # required options that also have a deprecated spelling
            if getattr(namespace, action.dest, None) is None:
                self.error(f"the following arguments are required: {'/'.join(action.option_strings)}")
        if not hasattr(namespace, "_prog"):  # the innermost subcommand sets it first
            namespace._prog = self.prog
        return namespace, extras

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            fail(getattr(namespace, "_prog", self.prog), f"unrecognized arguments: {' '.join(extras)}")
        return namespace


def fail(prog: str, message: str) -> NoReturn:
    """Print the one-line parse error of ``prog`` and exit with code 2."""
    message = " ".join(str(message).split())
    print(f"{prog}: error: {message} (see {prog} --help)", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


# ------------------------------------------------------------------------------------- numbers
def _number(text: str, kind: Callable[[str], Any], allowed: str) -> Any:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _number(text, int, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def seed_value(text: str) -> int:
    """argparse type of ``--seed``: an integer in [0, 2^63)."""
    value = _number(text, int, "a seed, an integer >= 0")
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a seed, an integer >= 0 and < 2^63, got {value}")
    return value


def finite_float(text: str) -> float:
    """argparse type: any finite number."""
    return float(_number(text, float, "a finite number"))


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _number(text, float, "a number > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = _number(text, float, "a number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def open_fraction(text: str) -> float:
    """argparse type: a fraction in (0, 1)."""
    value = _number(text, float, "a fraction in (0, 1)")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {value}")
    return value


def temperature_token(text: str) -> str:
    """argparse type of ``-T``: a temperature > 0 or an inclusive range ``start:stop:count`` (checked here)."""
    from thermolearn.cli.arguments import parse_temperatures

    try:
        parse_temperatures([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


NUMBER_TYPES = (
    positive_int,
    nonnegative_int,
    seed_value,
    finite_float,
    positive_float,
    nonnegative_float,
    open_fraction,
    temperature_token,
)
"""The parsers of numeric options (the vocabulary test feeds each a bad value)."""


# ------------------------------------------------------------------------------- deprecation
class _DeprecatedAlias(argparse.Action):
    """An old spelling: warns once on stderr, then does what the new option does."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str,
        *,
        target: argparse.Action,
        replacement: str,
        value: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.target = target
        self.replacement = replacement
        self.value = value

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        print(
            f"{parser.prog}: warning: {option_string} is deprecated and goes in thermolearn {DEPRECATED_UNTIL}; "
            f"use {self.replacement}",
            file=sys.stderr,
        )
        self.target(parser, namespace, self.value if self.nargs == 0 else values, option_string)


def add_deprecated_alias(
    parser: argparse.ArgumentParser, old: str, target: argparse.Action, *, value: Any = None, flag: bool = False
) -> argparse.Action:
    """Accept ``old`` as a deprecated spelling of the option ``target`` (hidden from --help).

    With ``flag`` the alias takes no value and passes ``value`` to ``target`` (``--digits``
    for ``--data digits``).
    """
    if target.required:  # argparse would not count the alias as giving the option
        target.required = False
        if isinstance(parser, CommandParser):
            parser.late_required.append(target)
    replacement = target.option_strings[0] + (f" {value}" if flag else "")
    form: dict[str, Any] = {"nargs": 0} if flag else {"nargs": target.nargs, "choices": target.choices}
    if not flag and target.type is not None:
        form["type"] = target.type
    return parser.add_argument(
        old,
        action=_DeprecatedAlias,
        dest=target.dest,
        metavar=target.metavar,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
        target=target,
        replacement=replacement,
        value=value,
        **form,
    )


# ------------------------------------------------------------------------------ shared options
def add_json(parser: argparse.ArgumentParser, what: str = "the results") -> argparse.Action:
    return parser.add_argument(
        "--json", metavar="PATH", help=f"write {what} as JSON to PATH ('-': to stdout, the table to stderr)"
    )


def add_plot(parser: argparse.ArgumentParser, what: str) -> argparse.Action:
    return parser.add_argument("--plot", metavar="PATH.png", help=f"write a PNG: {what}")


def add_seed(parser: argparse.ArgumentParser, what: str = "the random numbers", default: int = 0) -> argparse.Action:
    return parser.add_argument(
        "--seed",
        type=seed_value,
        default=default,
        metavar="N",
        help=f"seed of {what}, an integer >= 0 (default {default})",
    )


def add_no_progress(parser: argparse.ArgumentParser) -> argparse.Action:
    return parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (bars are drawn only when stderr is a terminal)"
    )


def add_checkpoint(parser: argparse.ArgumentParser, what: str, metavar: str = "PATH.npz") -> argparse.Action:
    return parser.add_argument("--checkpoint", metavar=metavar, help=f"{what}; a killed run resumes from it")


def add_temperature(
    parser: argparse.ArgumentParser, *, required: bool = False, default: list[str] | None = None, help: str
) -> argparse.Action:
    """``--temperature/-T T [T ...]`` (repeatable): numbers > 0 and ranges start:stop:count."""
    return parser.add_argument(
        "--temperature",
        "-T",
        action="extend",
        nargs="+",
        type=temperature_token,
        required=required,
        default=default,
        metavar="T",
        help=help,
    )


def add_sizes(parser: argparse.ArgumentParser, *, required: bool, help: str) -> argparse.Action:
    """``--size/-L L [L ...]``, repeatable: ``--size 8 16`` and ``-L 8 -L 16`` mean the same."""
    return parser.add_argument(
        "--size",
        "-L",
        action="extend",
        nargs="+",
        type=positive_int,
        required=required,
        default=None if required else [],
        metavar="L",
        help=help,
    )


def add_sweeps(parser: argparse.ArgumentParser, *, default: int, help: str) -> argparse.Action:
    return parser.add_argument("--sweeps", type=positive_int, default=default, metavar="N", help=help)


def add_ladder_size(parser: argparse.ArgumentParser, *, default: int, help: str) -> argparse.Action:
    return parser.add_argument("--ladder-size", type=positive_int, default=default, metavar="K", help=help)


def add_data(parser: argparse.ArgumentParser, *, required: bool, help: str) -> argparse.Action:
    return parser.add_argument("--data", required=required, metavar="D", help=help)


def add_save(
    parser: argparse.ArgumentParser, what: str, *, required: bool, metavar: str = "PATH.npz"
) -> argparse.Action:
    return parser.add_argument("--save", required=required, metavar=metavar, help=f"write {what} to this file")


# -------------------------------------------------------------------------------------- output
def check_distinct_paths(inputs: dict[str, str | None], outputs: dict[str, str | None]) -> None:
    """Refuse, before any work, an output that would overwrite an input or another output."""
    seen: dict[Path, str] = {}
    for role, group in (("input", inputs), ("output", outputs)):
        for name, path in group.items():
            if path is None or path == "-":
                continue
            key = Path(path).expanduser().resolve()
            if key in seen and (role == "output"):
                raise ValueError(f"{name} {path} and {seen[key]} are the same file; give different files")
            seen.setdefault(key, name)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _array_to_list(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # NumPy arrays and scalars
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def _undefined_as_null(value: Any) -> Any:
    """``value`` with every NaN or infinite number (Python or NumPy, in arrays too) made None.

    A command's record is written after its work is done: an undefined number somewhere in it
    (an error bar of one sample, a diverged estimate) must become the documented null, not stop
    the command there with nothing written."""
    if isinstance(value, dict):
        return {k: _undefined_as_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_undefined_as_null(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy arrays and scalars
        return _undefined_as_null(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def parsed_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed arguments as JSON values (the functions and private keys left out)."""
    return {k: _jsonable(v) for k, v in sorted(vars(args).items()) if not k.startswith("_") and k != "run"}


def write_json(args: argparse.Namespace, record: dict[str, Any], path: str | None = None) -> None:
    """Write ``record`` to ``--json`` (or ``path``), with ``thermolearn_version`` and ``arguments`` added;
    an undefined number (NaN, inf) anywhere in it is written as null.

    ``-`` writes to the standard output the command started with; a file is written atomically
    and announced with a ``wrote PATH`` line.
    """
    from thermolearn import __version__
    from thermolearn.storage import write_json_atomic

    target = args.json if path is None else path
    full = {**record, "thermolearn_version": __version__, "arguments": getattr(args, "_arguments", None)}
    if full["arguments"] is None:
        full["arguments"] = parsed_arguments(args)
    full = _undefined_as_null(full)
    if target == "-":
        stream = getattr(args, "_stdout", None) or sys.stdout
        stream.write(json.dumps(full, indent=2, allow_nan=False, default=_array_to_list) + "\n")
        stream.flush()
        return
    write_json_atomic(target, full)
    print(f"wrote {target}")
