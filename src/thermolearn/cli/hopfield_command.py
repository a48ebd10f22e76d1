"""``thermolearn hopfield store|recall|capacity``: associative memory from the command line.

* ``store``: binarised images (``--data digits``: scikit-learn's digits; ``--data FOLDER``:
  MNIST from a folder of IDX files) or (``--data FILE``) a file of patterns (.npy, .npz, text; spins -1/+1, or 0/1 with ``--binary``) stored by the
  Hebbian, projection or Storkey rule; the network is saved (.npz + JSON header).
* ``recall``: corrupt the stored patterns of a saved network (flip or mask a fraction of
  units), recall them and report the fraction restored against the corruption level.
* ``capacity``: retrieval overlap against the load alpha = P / N for random patterns, with a
  finite-size alpha_c; ``--json`` writes ``{"alpha_c": {"mean", "stderr"}, "loads",
  "overlap", "overlap_stderr", ...}``.
"""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from thermolearn.cli.arguments import check_output_path, missing_action, parse_temperatures
from thermolearn.cli.options import (
    add_data,
    add_deprecated_alias,
    add_json,
    add_no_progress,
    add_plot,
    add_save,
    add_seed,
    add_sweeps,
    add_temperature,
    check_distinct_paths,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table, format_value_error, value_error_parts

if TYPE_CHECKING:
    import numpy as np

DIGITS_THRESHOLD = 8.0  # half of the digits' range 0..16
MNIST_THRESHOLD = 127.5  # half of MNIST's range 0..255


def parse_fractions(text: str, name: str = "levels") -> np.ndarray:
    """Numbers from ``0.1,0.2,0.3`` or an inclusive range ``start:stop:count`` (errors name ``name``).

    Empty items (``1,,2``) are refused, and a range's count is budgeted before it is made.
    """
    import numpy as np

    from thermolearn.resources import check_memory

    try:
        if ":" in text:
            a, b, c = text.split(":")
            count = int(c)
            if count < 1:
                raise ValueError(f"{name}: a range start:stop:count needs count >= 1, got {text!r}")
            check_memory(f"{name} {text!r} ({count} values)", 16.0 * count)
            values = np.linspace(float(a), float(b), count)
        else:
            items = text.split(",")
            if any(not v.strip() for v in items):
                raise ValueError(f"{name} must be numbers separated by single commas like 0.1,0.2, got {text!r}")
            values = np.array([float(v) for v in items])
    except ValueError as exc:
        if str(exc).startswith(name):
            raise
        raise ValueError(f"{name} must be numbers like 0.1,0.2 or start:stop:count, got {text!r}") from None
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite numbers, got {text!r}")
    return values


def parse_image_shape(text: str) -> tuple[int, int]:
    """``--shape HxW``: two positive side lengths."""
    try:
        dims = tuple(int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--shape must be HxW with two positive integers like 28x28, got {text!r}") from None
    if len(dims) != 2 or min(dims) < 1:
        raise ValueError(f"--shape must be HxW with two positive integers like 28x28, got {text!r}")
    return dims[0], dims[1]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hopfield",
        help="Hopfield networks: store patterns, recall them, measure the capacity",
        description="Hopfield networks (Hopfield 1982): patterns stored in couplings, recalled by "
        "energy descent; the capacity alpha_c = 0.138 of Hebb's rule (Amit, Gutfreund, Sompolinsky 1985).",
    )
    hsub = p.add_subparsers(dest="hopfield_command", metavar="ACTION")
    p.set_defaults(run=missing_action("hopfield", "store, recall or capacity"))

    s = hsub.add_parser(
        "store",
        help="store patterns (digits, MNIST, or a file) and save the network",
        description="Store binarised images or patterns from a file; the table says which stored "
        "patterns are fixed points and how stable they are.",
    )
    data = add_data(
        s,
        required=True,
        help="digits (scikit-learn's 8x8 digits), a folder of MNIST IDX files (28x28; both binarised at half "
        "range), or a pattern file: .npy, .npz (array 'patterns' or the only array) or text, one pattern per row",
    )
    add_deprecated_alias(s, "--digits", data, value="digits", flag=True)
    add_deprecated_alias(s, "--mnist", data)
    add_deprecated_alias(s, "--patterns", data)
    s.add_argument(
        "--classes",
        default="0,1,2,3,4,5,6,7,8,9",
        metavar="LIST",
        help="image classes to store, comma-separated (default all ten digits)",
    )
    s.add_argument(
        "--per-class",
        type=positive_int,
        default=1,
        metavar="K",
        help="images stored per class (the first K of each; default 1)",
    )
    s.add_argument("--binary", action="store_true", help="the pattern file holds 0/1 units: convert with s = 2x - 1")
    s.add_argument(
        "--shape", metavar="HxW", help="image shape of file patterns, for plots (default: square if possible)"
    )
    s.add_argument("--rule", choices=("hebbian", "projection", "storkey"), default="hebbian", help="storage rule")
    s.add_argument("--biases", action="store_true", help="learn biases too (coupling to an always-on unit)")
    add_save(s, "the network", required=True, metavar="NET.npz")
    add_json(s, "a summary")
    add_plot(s, "the stored patterns")
    s.set_defaults(run=run_store)

    r = hsub.add_parser(
        "recall",
        help="corrupt the stored patterns, recall them, report the fraction restored",
        description="Each stored pattern is corrupted --trials times per level and recalled.",
    )
    r.add_argument("network", metavar="NET.npz", help="a network written by 'hopfield store'")
    r.add_argument(
        "--mode",
        choices=("flip", "mask"),
        default="flip",
        help="flip a fraction of units, or mask them (set to -1, background)",
    )
    r.add_argument(
        "--levels",
        default="0.05,0.1,0.2,0.3",
        metavar="LIST",
        help="corruption fractions, 0.1,0.2 or start:stop:count (default 0.05,0.1,0.2,0.3)",
    )
    r.add_argument(
        "--trials", type=positive_int, default=5, metavar="K", help="corruptions per pattern and level (default 5)"
    )
    r.add_argument(
        "--method",
        choices=("async", "sync", "thermal"),
        default="async",
        help="zero-T asynchronous (default), synchronous, or finite-T heat bath",
    )
    add_temperature(r, help="the temperature T > 0 of --method thermal")
    add_sweeps(r, default=100, help="heat-bath sweeps for --method thermal (default 100)")
    add_seed(r, "the corruptions and the dynamics")
    add_json(r)
    add_no_progress(r)
    add_plot(
        r,
        "patterns before/after (PATH), energy traces (PATH_energy.png) "
        "and fraction restored against corruption (PATH_restored.png)",
    )
    r.set_defaults(run=run_recall)

    c = hsub.add_parser(
        "capacity",
        help="retrieval overlap against the load alpha = P/N; finite-size alpha_c",
        description="Random patterns, zero-T asynchronous dynamics started at each pattern; alpha_c is "
        "where half the recalls stop retrieving (overlap < 0.9), mean +- standard error over "
        "independent pattern sets.",
    )
    c.add_argument("--neurons", type=positive_int, default=1000, metavar="N", help="network size (default 1000)")
    c.add_argument(
        "--rule",
        choices=("hebbian", "projection", "storkey", "dense", "all"),
        default="hebbian",
        help="storage rule; dense = Krotov-Hopfield F(x) = x^degree; all = the four on one plot",
    )
    add_seed(c, "the patterns and the recalls")
    c.add_argument("--sets", type=positive_int, default=8, metavar="K", help="independent pattern sets (default 8)")
    c.add_argument("--loads", metavar="LIST", help="loads alpha, 0.05,0.1 or start:stop:count (default: per rule)")
    c.add_argument(
        "--degree", type=positive_int, default=3, metavar="N", help="power n of the dense memory (default 3)"
    )
    c.add_argument(
        "--max-recalls",
        type=positive_int,
        default=None,
        metavar="R",
        help="patterns recalled per load and set (default 200; 50 for dense)",
    )
    add_json(c, '{"alpha_c": {"mean", "stderr"}, "loads", "overlap", "overlap_stderr", ...}')
    add_plot(c, "the capacity curves")
    add_no_progress(c)
    c.set_defaults(run=run_capacity)


# ---------------------------------------------------------------------------------------------- store
def _parse_classes(text: str) -> list[int]:
    items = text.split(",")
    if any(not v.strip() for v in items):
        raise ValueError(f"--classes must be integers separated by single commas like 0,1,2, got {text!r}")
    try:
        classes = [int(v) for v in items]
    except ValueError:
        raise ValueError(f"--classes must be integers like 0,1,2, got {text!r}") from None
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"--classes must list distinct classes, got {text!r}")
    return classes


def _pick(images: np.ndarray, labels: np.ndarray, classes: list[int], per_class: int) -> tuple[np.ndarray, list[str]]:
    import numpy as np

    known = sorted(int(v) for v in np.unique(labels))
    for c in classes:
        if c not in known:
            raise ValueError(f"--classes: there is no class {c}; the data set has classes {known[0]} to {known[-1]}")
    rows: list[int] = []
    names: list[str] = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if idx.size < per_class:
            raise ValueError(f"--per-class {per_class}: class {c} has only {idx.size} images")
        rows.extend(idx[:per_class])
        names.extend([str(c)] * per_class)
    return images[np.array(rows)], names


def _load_patterns(args: argparse.Namespace) -> tuple[np.ndarray, list[str], tuple[int, int] | None, str]:
    from thermolearn.learning.hebbian import binarize_images, load_patterns

    shape = None if args.shape is None else parse_image_shape(args.shape)
    digits = args.data == "digits"
    mnist = not digits and Path(args.data).is_dir()
    if digits or mnist:
        if args.binary:
            raise ValueError("--binary applies to pattern files; images are binarised at half range")
        classes = _parse_classes(args.classes)
        side = 8 if digits else 28
        if shape is not None and shape != (side, side):
            raise ValueError(f"--shape {args.shape} does not fit the {side}x{side} images of --data {args.data}")
        if digits:
            from thermolearn.datasets.digits import load_digits

            images, labels = load_digits(return_labels=True)
            picked, names = _pick(images, labels, classes, args.per_class)
            return binarize_images(picked, DIGITS_THRESHOLD), names, (8, 8), "digits"
        from thermolearn.datasets.mnist import load_mnist

        images, labels = load_mnist(args.data, split="train", return_labels=True)
        picked, names = _pick(images, labels, classes, args.per_class)
        return binarize_images(picked, MNIST_THRESHOLD), names, (28, 28), "mnist"
    xi = load_patterns(args.data, binary=args.binary)
    if shape is not None:
        if shape[0] * shape[1] != xi.shape[1]:
            raise ValueError(
                f"--shape {args.shape} (the network's image_shape) has {shape[0] * shape[1]} units but the patterns "
                f"in {args.data} "
                f"have {xi.shape[1]}"
            )
    else:
        side = int(round(math.sqrt(xi.shape[1])))
        shape = (side, side) if side * side == xi.shape[1] else None
    return xi, [str(k) for k in range(len(xi))], shape, Path(args.data).name


def run_store(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.learning.hebbian import store

    check_output_path(args.save, ".npz")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths(
        {"--data": None if args.data == "digits" else args.data},
        {"--save": args.save, "--json": args.json, "--plot": args.plot},
    )
    xi, names, shape, source = _load_patterns(args)
    net = store(xi, args.rule, biases=args.biases, image_shape=shape, name=source)
    fixed = np.asarray(net.is_fixed_point(xi))
    margin = np.min(xi * net.local_fields(xi), axis=1)  # stability: smallest aligned field
    rows = [[k, names[k], "yes" if fixed[k] else "no", float(margin[k])] for k in range(len(xi))]
    print(
        f"Hopfield network: {net.n_neurons} neurons, {net.n_patterns} patterns from {source} "
        f"(load alpha = {net.alpha:.3f}), rule {args.rule}{' with biases' if args.biases else ''}"
    )
    print(format_table(["pattern", "label", "fixed point", "min s_i h_i"], rows))
    print(f"{int(fixed.sum())} of {len(xi)} stored patterns are fixed points")
    net.save(args.save, labels=names, source=source)
    print(f"wrote {args.save}")
    if args.json:
        write_json(
            args,
            {
                "network": args.save,
                "n_neurons": net.n_neurons,
                "n_patterns": net.n_patterns,
                "alpha": net.alpha,
                "rule": args.rule,
                "biases": bool(args.biases),
                "source": source,
                "labels": names,
                "fixed_points": fixed.tolist(),
                "stability_margin": margin.tolist(),
            },
        )
    if args.plot:
        from thermolearn.viz.hopfield_plots import plot_pattern_rows

        plot_pattern_rows(
            args.plot,
            [("stored", xi[:20])],
            shape,
            title=f"stored patterns ({args.rule})",
            captions=[f"{n}{'' if f else ' (unstable)'}" for n, f in zip(names[:20], fixed[:20])],
        )
        print(f"wrote {args.plot}")
    return 0


# ---------------------------------------------------------------------------------------------- recall
def run_recall(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.models.hopfield import Hopfield
    from thermolearn.progress import progress_bar
    from thermolearn.runs.recall import restoration_curve

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({"NET": args.network}, {"--json": args.json, "--plot": args.plot})
    if args.temperature is not None:
        temps = parse_temperatures(args.temperature)
        if temps.size != 1:
            raise ValueError(f"--method thermal runs at one temperature, got {temps.size}")
        args.temperature = float(temps[0])
    if not Path(args.network).is_file():
        raise ValueError(f"no such network file: {args.network}")
    net = Hopfield.load(args.network)
    if net.patterns is None:
        raise ValueError(f"{args.network} keeps no stored patterns to corrupt and recall")
    levels = parse_fractions(args.levels, "--levels")
    if np.any(levels < 0) or np.any(levels > 1):
        raise ValueError(f"--levels must be fractions in [0, 1], got {args.levels}")
    if args.method == "thermal" and args.temperature is None:
        raise ValueError("--method thermal needs --temperature T")
    if args.method != "thermal" and args.temperature is not None:
        raise ValueError("--temperature applies only to --method thermal")
    total = len(levels) * net.n_patterns * args.trials
    with progress_bar(
        total=total,
        desc=f"recall ({args.method})",
        unit="recall",
        progress=False if args.no_progress else None,
        # a recall costs about 0.1 ms of Python plus its sweeps over N^2 couplings (~1 ns each)
        worthwhile=total * (1e-4 + 1e-9 * net.n_neurons**2 * (args.sweeps if args.method == "thermal" else 4)) > 2.0,
    ) as bar:
        res = restoration_curve(
            net,
            levels,
            mode=args.mode,
            trials=args.trials,
            method=args.method,
            temperature=args.temperature,
            sweeps=args.sweeps,
            seed=args.seed,
            progress=None if bar.disable else bar.update,
        )
    print(
        f"recall from {args.network}: {net.n_patterns} patterns x {args.trials} trials per level, "
        f"{args.mode} corruption, {args.method} dynamics" + (f" at T = {args.temperature}" if args.temperature else "")
    )
    rows = [
        [
            float(f),
            float(res.restored[k]),
            float(res.restored_stderr[k]),
            float(res.retrieved[k]),
            float(res.mean_overlap[k]),
            res.classes[k]["pattern"],
            res.classes[k]["negative"],
            res.classes[k]["mixture"],
            res.classes[k]["spurious"],
        ]
        for k, f in enumerate(res.levels)
    ]
    print(
        format_table(
            [
                "level",
                "restored",
                "stderr",
                "overlap>=0.9",
                "mean overlap",
                "pattern",
                "negative",
                "mixture",
                "spurious",
            ],
            rows,
        )
    )
    print("restored: the exact original pattern came back; pattern/negative/mixture/spurious: where the states ended")
    if args.json:
        write_json(args, {"network": args.network, "seed": args.seed, "temperature": args.temperature, **res.as_dict()})
    if args.plot:
        from thermolearn.viz.hopfield_plots import plot_energy_traces, plot_pattern_rows, plot_restoration

        k = int(np.argmin(np.abs(res.levels - 0.2)))
        original, corrupted, recalled = res.examples[k]
        plot_pattern_rows(
            args.plot,
            [
                ("stored", original[:12]),
                (f"{res.levels[k]:.0%} {args.mode}", corrupted[:12]),
                ("recalled", recalled[:12]),
            ],
            net.image_shape,
            title=f"recall ({args.method})",
        )
        stem = str(Path(args.plot).with_suffix(""))
        plot_energy_traces(
            stem + "_energy.png",
            res.energy_traces,
            [f"{f:.0%} {args.mode}" for f in res.levels],
            title="energy while recalling pattern 0",
        )
        plot_restoration(
            stem + "_restored.png", res.levels, {args.method: (res.restored, res.restored_stderr)}, mode=args.mode
        )
        print(f"wrote {args.plot}, {stem}_energy.png, {stem}_restored.png")
    return 0


# ---------------------------------------------------------------------------------------------- capacity
def run_capacity(args: argparse.Namespace) -> int:
    from thermolearn.learning.capacity import AGS_ALPHA_C, AGS_OVERLAP_AT_ALPHA_C, CAPACITY_RULES, capacity_curve

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    import numpy as np

    from thermolearn.learning.capacity import check_capacity_memory

    if args.neurons < 10:
        raise ValueError(f"--neurons must be at least 10, got {args.neurons}")
    check_capacity_memory(args.neurons, args.sets)
    # each option is checked on its own, before the checks that combine them
    loads = None if args.loads is None else parse_fractions(args.loads, "--loads")
    if loads is not None and (np.any(loads <= 0) or loads.size < 2):
        raise ValueError(f"--loads must be at least two loads alpha = P/N > 0, got {args.loads!r}")
    if args.sets < 2:
        raise ValueError("--sets must be at least 2 (the error bars come from independent sets)")
    rules = CAPACITY_RULES if args.rule == "all" else (args.rule,)
    results = []
    for rule in rules:
        with warnings.catch_warnings():
            # the censoring warning says what the "note:" line below prints: once is enough
            warnings.filterwarnings("ignore", message=r"capacity \(", category=RuntimeWarning)
            res = capacity_curve(
                args.neurons,
                rule,
                loads=loads,
                n_sets=args.sets,
                max_recalls=args.max_recalls,
                degree=args.degree,
                seed=args.seed,
                progress=False if args.no_progress else None,
            )
        results.append(res)
        print(
            f"capacity of the {rule} rule{f' (F(x) = x^{args.degree})' if rule == 'dense' else ''}: N = {res.n_neurons}, "
            f"{res.n_sets} independent pattern sets, recall started at each pattern ({res.seconds:.1f} s)"
        )
        rows = [
            [f"{a:.3f}", int(p), *value_error_parts(m, e), f"{f:.3f}"]
            for a, p, m, e, f in zip(res.loads, res.n_patterns, res.overlap, res.overlap_stderr, res.retrieval_fraction)
        ]
        print(format_table(["alpha", "P", "overlap", "stderr", "retrieved"], rows))
        if res.alpha_c is not None:
            if res.alpha_c_stderr is not None:
                print(
                    f"alpha_c (N = {res.n_neurons}) = {format_value_error(res.alpha_c, res.alpha_c_stderr, style='pm')}"
                )
            else:
                print(f"alpha_c (N = {res.n_neurons}) = {res.alpha_c:.4f}")
        if res.note:
            print(f"note: {res.note}")
        if rule == "hebbian":
            print(
                f"theory (N -> infinity, Amit-Gutfreund-Sompolinsky 1985): alpha_c = {AGS_ALPHA_C}, overlap "
                f"{AGS_OVERLAP_AT_ALPHA_C} just below it; finite N smears the drop and moves it to larger alpha"
            )
    if args.json:
        data = results[0].as_dict() if len(results) == 1 else {"rules": {r.rule: r.as_dict() for r in results}}
        write_json(args, data)
    if args.plot:
        from thermolearn.viz.hopfield_plots import plot_capacity

        plot_capacity(args.plot, results, title=f"capacity, N = {args.neurons}")
        print(f"wrote {args.plot}")
    return 0
