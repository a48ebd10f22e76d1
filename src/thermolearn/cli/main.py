"""Entry point of the ``thermolearn`` command.

Every subcommand does one job, prints a table, writes ``--json`` for machines and
``--plot`` PNGs for people. The vocabulary of options is shared (:mod:`thermolearn.cli.options`).

Exit codes:

* 0 -- done.
* 2 -- bad input: a bad argument, a missing or unreadable input file, an output that cannot be
  written, a missing optional dependency (with its install hint). One line on stderr,
  ``thermolearn CMD: error: MESSAGE``, never a traceback.
* 70 -- internal error (``EX_SOFTWARE``): a bug in thermolearn. The traceback is printed, with
  one line asking to report it.
* 130 -- interrupted (Ctrl-C).
* 141 -- the reader of the standard output went away (``thermolearn ... | head -1``): the
  command stops quietly, as a Unix tool killed by SIGPIPE would.

The command modules are imported when the parser is built, but each imports its heavy
dependencies (NumPy kernels, JAX) only inside its ``run`` function: ``thermolearn --help``,
``--version`` and ``thermolearn CMD --help`` stay fast and never load JAX.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence

from thermolearn import __version__
from thermolearn.cli import (
    anneal_command,
    compare_command,
    demo_command,
    diffusion_command,
    dynamics_command,
    exact_command,
    explore_command,
    hopfield_command,
    ising_command,
    meanfield_command,
    neural_command,
    onsager_command,
    pbits_command,
    quantum_command,
    rbm_command,
    rg_command,
    sample_command,
    spinglass_command,
    sweep_command,
)
from thermolearn.cli.options import EXIT_BAD_INPUT, CommandParser, fail, parsed_arguments

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE in sysexits.h
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE

COMMANDS = (
    demo_command,
    exact_command,
    onsager_command,
    ising_command,
    sample_command,
    anneal_command,
    compare_command,
    meanfield_command,
    hopfield_command,
    rbm_command,
    diffusion_command,
    pbits_command,
    rg_command,
    quantum_command,
    spinglass_command,
    neural_command,
    dynamics_command,
    sweep_command,
    explore_command,
)


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every subcommand registered."""
    parser = CommandParser(
        prog="thermolearn",
        description="The physics of machine learning, runnable: exact Ising thermodynamics, Monte Carlo, "
        "variational bounds and energy-based models. Exit codes: 0 done, 2 bad input, 70 internal error "
        "(please report it), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"thermolearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def _is_bad_input(exc: BaseException) -> bool:
    """User errors (one line, exit 2) as opposed to bugs (traceback, exit 70)."""
    # FloatingPointError: the library's own word that a run diverged for the settings it was given
    # (a learning rate too large), with the remedy; NumPy raises it only under seterr, never set here
    if isinstance(exc, (ValueError, OSError, MemoryError, FloatingPointError)):
        return True
    # a missing optional dependency says how to install it
    return isinstance(exc, ImportError) and "pip install" in str(exc)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "not enough memory for these sizes; choose smaller ones"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if exc.filename is None else f"{exc.strerror}: {exc.filename}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _quiet_stdout() -> None:
    # the reader is gone: send what is still buffered nowhere, so exit does not complain
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _checkpoint_lock(args: argparse.Namespace) -> contextlib.AbstractContextManager[object]:
    """The lock of ``--checkpoint``: a second process on the same path is refused at once."""
    path = getattr(args, "checkpoint", None)
    if not path:
        return contextlib.nullcontext()
    from thermolearn.storage import exclusive_lock

    return exclusive_lock(path, what="--checkpoint")


def _written_note(args: argparse.Namespace, first: int) -> str:
    """`` (written before the error: A, B)`` for the outputs this command completed, else ``""``."""
    from thermolearn.storage import written_files

    checkpoint = getattr(args, "checkpoint", None)
    skip = {os.path.abspath(checkpoint)} if checkpoint else set()
    done: list[str] = []
    for path in written_files()[first:]:
        inside_checkpoint = any(os.path.abspath(path).startswith(s + os.sep) for s in skip)
        if os.path.abspath(path) in skip or inside_checkpoint or str(path) in done:
            continue
        done.append(str(path))
    return f" (written before the error: {', '.join(done)})" if done else ""


def _files_written_so_far() -> int:
    if "thermolearn.storage" not in sys.modules:
        return 0
    return len(sys.modules["thermolearn.storage"].written_files())


def _warning_printer(prog: str) -> Callable[..., None]:
    """Python's warnings as the command's own one-line notes on stderr (``PROG: warning: ...``),
    not a source path and line that mean nothing to a user of the command line."""

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``thermolearn`` with ``argv`` (default: the process arguments); returns the exit code.

    Parse errors print one line and return 2; ``--help`` and ``--version`` return 0.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            names = ", ".join(m.__name__.rsplit(".", 1)[-1].removesuffix("_command") for m in COMMANDS)
            fail("thermolearn", f"give a command: {names}")
    except SystemExit as exc:  # argparse's way out: an error (2), --help or --version (0)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    prog = getattr(args, "_prog", f"thermolearn {args.command}")
    from thermolearn.kernel_cache import default_jax_cache

    default_jax_cache()  # JAX compilations kept across runs, as Numba's are (imports neither)
    args._arguments = parsed_arguments(args)
    args._stdout = sys.stdout
    first_write = _files_written_so_far()
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(warnings.catch_warnings())
            warnings.showwarning = _warning_printer(prog)
            stack.enter_context(_checkpoint_lock(args))
            if getattr(args, "json", None) == "-":  # stdout carries the JSON alone
                stack.enter_context(contextlib.redirect_stdout(sys.stderr))
            code = int(args.run(args) or EXIT_OK)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if _is_bad_input(exc):
            print(f"{prog}: error: {_one_line(exc)}{_written_note(args, first_write)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        traceback.print_exc(file=sys.stderr)
        print(
            f"{prog}: internal error ({type(exc).__name__}): this is a bug in thermolearn {__version__}; "
            f"please report it with the command line and the traceback above to the thermolearn maintainers",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
