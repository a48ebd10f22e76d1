"""Parsing what users type: numbers, temperature lists and ranges, lattice shapes, model files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thermolearn.cli.options import (  # noqa: F401  (the number parsers' old home)
    finite_float,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)

if TYPE_CHECKING:
    import numpy as np

    from thermolearn.models.ising import Ising


def missing_action(command: str, actions: str) -> Any:
    """The ``run`` of a command given without its action: a clear error naming the actions."""

    def run(args: argparse.Namespace) -> int:
        raise ValueError(f"give an action: {actions} (see thermolearn {command} --help)")

    return run


def parse_temperatures(tokens: list[str]) -> np.ndarray:
    """Temperatures from tokens that are numbers or inclusive ranges ``start:stop:count``.

    The count of a range is budgeted before the range is made (a count of 10^12 is refused
    from its size, not by a failed allocation).
    """
    import numpy as np

    from thermolearn.resources import check_memory

    values: list[float] = []
    for token in tokens:
        if ":" in token:
            parts = token.split(":")
            if len(parts) != 3:
                raise ValueError(f"a temperature range is start:stop:count, got {token!r}")
            try:
                start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            except ValueError:
                raise ValueError(f"a temperature range is start:stop:count with a whole count, got {token!r}") from None
            if count < 1:
                raise ValueError(f"a temperature range needs count >= 1, got {token!r}")
            # each temperature is held as a float and as a float in the list (and its result)
            check_memory(f"the temperature range {token!r} ({count} temperatures)", 64.0 * count)
            values.extend(np.linspace(start, stop, count))
        else:
            try:
                values.append(float(token))
            except ValueError:
                raise ValueError(f"temperature must be a number or start:stop:count, got {token!r}") from None
    temps = np.array(values)
    if temps.size == 0:
        raise ValueError("give at least one temperature")
    if not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise ValueError(
            f"temperatures must be finite and > 0 (k_B = 1), got {temps[(temps <= 0) | ~np.isfinite(temps)][0]}"
        )
    return temps


def parse_shape(text: str) -> tuple[int, ...]:
    """A lattice shape such as ``16``, ``16x16`` or ``8x8x8``."""
    try:
        dims = tuple(int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"lattice must look like 16, 16x16 or 8x8x8, got {text!r}") from None
    if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
        raise ValueError(f"lattice needs 1 to 3 positive side lengths like 16x16, got {text!r}")
    return dims


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The model of a command: a file (positional) or ``--lattice`` with its coupling, field and boundaries."""
    parser.add_argument("model", nargs="?", help="model file: a .npz written by Ising.save, or an edge-list text file")
    parser.add_argument("--lattice", metavar="LxL", help="a hypercubic lattice instead of a file, e.g. 16x16")
    # --open and --coupling describe a lattice: None (not given) lets a model file refuse them
    parser.add_argument(
        "--open", action="store_true", default=None, help="open boundaries for --lattice (default periodic)"
    )
    parser.add_argument(
        "--coupling", type=finite_float, default=None, metavar="J", help="coupling J for --lattice (default 1)"
    )
    parser.add_argument("--field", type=finite_float, default=0.0, metavar="H", help="uniform field h (default 0)")


def model_from_arguments(args: argparse.Namespace) -> Ising:
    """The model named on the command line: a file, or ``--lattice`` with its options."""
    from thermolearn.models.ising import Ising

    if args.model and args.lattice is not None:
        raise ValueError("give either a model file or --lattice, not both")
    coupling = getattr(args, "coupling", None)
    open_boundaries = getattr(args, "open", None)
    if args.lattice is not None:  # --lattice '' is a bad shape, not a missing option
        return Ising.lattice(
            parse_shape(args.lattice),
            1.0 if coupling is None else coupling,
            args.field,
            periodic=not open_boundaries,
        )
    if not args.model:
        raise ValueError("give a model file (.npz or edge list) or --lattice LxL")
    given = [flag for flag, value in (("--coupling", coupling), ("--open", open_boundaries)) if value is not None]
    if given:
        raise ValueError(
            f"{' and '.join(given)} {'applies' if len(given) == 1 else 'apply'} to --lattice only; a model file "
            f"({args.model}) brings its own couplings and boundaries: drop {' and '.join(given)} or use --lattice LxL"
        )
    path = Path(args.model)
    if not path.is_file():
        raise ValueError(f"no such model file: {path}")
    if path.suffix == ".npz":
        model = Ising.load(path)
    else:
        model = Ising.from_edgelist(path)
    if args.field:
        g = model.geometry
        if g is not None:  # keep the lattice geometry so the lattice methods still apply
            model = Ising.lattice(g.shape, g.couplings, g.field + args.field, periodic=g.periodic)
        else:
            model = Ising(model.couplings, model.fields + args.field, name=model.name)
    return model


def check_output_path(path: str | None, suffix: str) -> None:
    """Fail before any work if an output path cannot be written (``-`` is the standard output)."""
    if path is None or path == "-":
        return
    target = Path(path)
    if target.suffix.lower() != suffix:
        raise ValueError(f"output {target} must end in {suffix}")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"cannot write {target}: folder {parent} does not exist")
