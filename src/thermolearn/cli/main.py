"""Entry point of the ``thermolearn`` command.

Every subcommand does one job, prints a table, writes ``--json`` for machines and
``--plot`` PNGs for people. A bad argument is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from thermolearn import __version__
from thermolearn.cli import (
    anneal_command,
    compare_command,
    demo_command,
    diffusion_command,
    exact_command,
    hopfield_command,
    ising_command,
    meanfield_command,
    onsager_command,
    rbm_command,
    sample_command,
)

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thermolearn",
        description="The physics of machine learning, runnable: exact Ising thermodynamics, Monte Carlo, "
        "variational bounds and energy-based models.",
    )
    parser.add_argument("--version", action="version", version=f"thermolearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (
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
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, ImportError) as exc:
        print(f"thermolearn {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"thermolearn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
