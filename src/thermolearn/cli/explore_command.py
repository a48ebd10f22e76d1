"""``thermolearn explore``: write the interactive explorer, one offline HTML page.

The page (two spins, the Ising lattice sampled live against Kaufman, the mean-field graph, an
RBM trained here on the digits, a Hopfield network) computes every number in the browser from
parameters the library exports into it; it makes no network request. See
:mod:`thermolearn.viz.explorer`.
"""

from __future__ import annotations

import argparse
import time

from thermolearn.cli.arguments import check_output_path
from thermolearn.cli.options import add_json, add_seed, positive_int, write_json

DEFAULT_OUTPUT = "thermolearn-explorer"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="write the interactive explorer: one offline HTML page that computes live in the browser",
        description="Write one self-contained HTML page (no network, no external scripts) with sliders: the "
        "two-spin Boltzmann distribution against T, w and h; the 2D Ising lattice sampled by Metropolis or Wolff in "
        "the browser against Kaufman's exact finite-L energy; the mean-field self-consistency graph and T_c; an RBM "
        "trained now on the digits (a few seconds), sampling and repairing digits by block Gibbs; a Hopfield "
        "network recalling a corrupted digit. Open the page in any browser.",
    )
    p.add_argument(
        "--output",
        "-o",
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help=f"folder to write thermolearn-explorer.html into (created if needed; default {DEFAULT_OUTPUT})",
    )
    p.add_argument(
        "--epochs", type=positive_int, default=10, metavar="N", help="epochs of CD-1 for the page's RBM (default 10)"
    )
    p.add_argument(
        "--hidden", type=positive_int, default=16, metavar="N", help="hidden units of the page's RBM (default 16)"
    )
    add_seed(p, "the RBM's training and the page's own random numbers")
    add_json(p, "path, bytes and seconds")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from thermolearn.viz.explorer import write_explorer

    check_output_path(args.json, ".json")
    t0 = time.perf_counter()
    path = write_explorer(args.output, seed=args.seed, rbm_hidden=args.hidden, rbm_epochs=args.epochs)
    size = path.stat().st_size
    seconds = time.perf_counter() - t0
    record = {"path": str(path), "bytes": size, "seconds": seconds, "url": path.resolve().as_uri()}
    if args.json:
        write_json(args, record)
    if args.json != "-":
        print(f"wrote {path} ({size / 1024:.0f} kB, self-contained, works offline) in {seconds:.1f} s")
        print(f"open {record['url']} in a browser")
    return 0
