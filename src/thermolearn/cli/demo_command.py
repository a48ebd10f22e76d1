"""``thermolearn demo``: the tour, written as an HTML report."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="a short tour of every capability, written as an HTML report",
        description="Runs each capability on small real problems and writes OUTPUT/index.html with figures.",
    )
    p.add_argument(
        "--output", default="thermolearn-demo", metavar="DIR", help="report folder (default thermolearn-demo)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from thermolearn.demo import run_demo

    page = run_demo(args.output)
    print(f"wrote {page}: the report, open it in a browser ({page.resolve().as_uri()})")
    return 0
