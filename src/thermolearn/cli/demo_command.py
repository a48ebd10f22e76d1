"""``thermolearn demo``: the tour, written as an HTML report."""

from __future__ import annotations

import argparse

from thermolearn.cli.arguments import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="a short tour of every capability, written as an HTML report",
        description="Runs each capability on small real problems and writes OUTPUT/index.html with figures.",
    )
    p.add_argument(
        "--output", default="thermolearn-demo", metavar="DIR", help="report folder (default thermolearn-demo)"
    )
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes for the sections (default 2 on a machine with two cores or more, else 1): "
        "a first run compiles the kernels of two sections at once",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from thermolearn.demo import run_demo

    page = run_demo(args.output, jobs=args.jobs)
    print(f"wrote {page}: the report, open it in a browser ({page.resolve().as_uri()})")
    return 0
