"""Demo section: Hopfield networks recall corrupted digits, and Hebb's rule runs out of room at alpha_c."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from thermolearn.demo.wording import format_seconds, plus_minus
from thermolearn.viz.report import Report

RULE_NAMES = {
    "hebbian": "Hebb's rule",
    "storkey": "Storkey's rule",
    "projection": "the projection rule",
    "dense": "the dense associative memory",
}


def _rule_limit(rule: str, sides: Sequence[str]) -> bool:
    """The projection rule with no collapse in any set: alpha_c = 1, its known limit P < N."""
    return rule == "projection" and bool(sides) and all(side == "right" for side in sides)


def alpha_c_cell(
    rule: str,
    loads: tuple[float, float],
    sides: Sequence[str],
    alpha_c: float | None,
    alpha_c_stderr: float | None,
    bounds: tuple[float | None, float | None] = (None, None),
) -> str:
    """The capacity table's alpha_c cell from the measured fields: ``loads`` the first and last load,
    ``sides`` each set's censoring ('crossed', 'left' or 'right'), the mean alpha_c over the sets that
    crossed with its standard error (None when fewer than two did) and ``bounds`` the (lower, upper)
    bounds on the mean over all sets when any is censored (upper None: unbounded)."""
    n = len(sides)
    crossed = sides.count("crossed")
    if _rule_limit(rule, sides):
        return "1 (rule's limit P < N; patterns always fixed points)"
    if crossed == n and alpha_c is not None:
        if alpha_c_stderr is None:
            return f"{alpha_c:.3f} (one set, no error bar)"
        return plus_minus(alpha_c, alpha_c_stderr)
    if sides.count("right") == n:
        return f"> {loads[1]:.2f} (no collapse seen in any of the {n} sets)"
    if sides.count("left") == n:
        return f"< {loads[0]:.3f} (every set had collapsed at the first load)"
    lower, upper = bounds
    span = (
        ""
        if lower is None
        else f"mean over all {n} sets between {lower:.3f} and " + (f"{upper:.3f}" if upper is not None else "∞")
    )
    if alpha_c is None:
        return f"{span} ({n - crossed} of {n} sets censored)"
    estimate = f"{alpha_c:.3f}" if alpha_c_stderr is None else plus_minus(alpha_c, alpha_c_stderr)
    return f"{estimate} from the {crossed} sets that crossed; {span}"


def capacity_level(
    rule: str, loads: tuple[float, float], sides: Sequence[str], alpha_c: float | None
) -> tuple[float, bool] | None:
    """(alpha_c, False) when measured in every set (or the projection rule's limit 1), (last load, True)
    when no set collapsed (a lower bound); None otherwise."""
    if _rule_limit(rule, sides):
        return 1.0, False
    if sides and all(side == "crossed" for side in sides) and alpha_c is not None:
        return alpha_c, False
    if sides and all(side == "right" for side in sides):
        return loads[1], True
    return None


def capacity_comparison(levels: dict[str, tuple[float, bool] | None]) -> str:
    """Which rules store more than Hebb's here, from :func:`capacity_level` of each rule."""
    hebb = levels.get("hebbian")
    if hebb is None or hebb[1]:
        return "Hebb's rule has no measured &alpha;<sub>c</sub> here, so the rules are not compared."
    parts = []
    for rule, level in levels.items():
        if rule == "hebbian":
            continue
        name = RULE_NAMES.get(rule, rule)
        if level is None:
            parts.append(f"{name} has no measured &alpha;<sub>c</sub> (censored sets: see the table)")
            continue
        value, lower_bound = level
        more = value > hebb[0]
        verb = "stores more" if more else "stores no more"
        if lower_bound:
            parts.append(f"{name} {verb}: no collapse up to &alpha; = {value:.2f}, that is P = {value:.3g} N")
        else:
            parts.append(f"{name} {verb} (&alpha;<sub>c</sub> = {value:.3g})")
    return f"Against Hebb's &alpha;<sub>c</sub> = {hebb[0]:.3f} here: " + "; ".join(parts) + "."


def hebbian_digits_words(fixed_points: int, stored: int, restored: float) -> str:
    """The end of the digits figure's caption, from the Hebbian network's numbers: how many stored digits
    are fixed points and the fraction of the shown corruption level's cues it restored."""
    if fixed_points == 0 and restored == 0.0:
        return (
            "which fails: none of the digits is a fixed point and none is restored. The digits overlap strongly "
            "(they share their background), and Hebb's rule turns correlated patterns into mixture states instead "
            f"of {stored} minima."
        )
    return (
        f"which restores {restored:.0%} of the cues at this level ({fixed_points} of {stored} digits are fixed "
        "points): the digits overlap strongly (they share their background), which Hebb's rule handles badly."
    )


def section_hopfield(report: Report, *, n_neurons: int = 200, n_sets: int = 4, seed: int = 0) -> None:
    from thermolearn.datasets.digits import load_digits
    from thermolearn.learning.capacity import AGS_ALPHA_C, AGS_OVERLAP_AT_ALPHA_C, capacity_curve
    from thermolearn.learning.hebbian import binarize_images, store
    from thermolearn.runs.recall import restoration_curve
    from thermolearn.viz.hopfield_plots import plot_capacity, plot_pattern_rows, plot_restoration

    sec = report.section("Hopfield networks: associative memory and its capacity")
    sec.text(
        "A Hopfield network is an Ising model whose couplings are learned: storing patterns "
        "&xi;<sup>&mu;</sup> &isin; {&minus;1, +1}<sup>N</sup> in J makes each of them a minimum of "
        "E(s) = &minus;&frac12; s<sup>T</sup>J s, and recall is a descent of that energy from a corrupted cue "
        "(asynchronous zero-temperature dynamics: a unit flips only if that lowers E, so E never rises). Below, one "
        "example of each of the ten handwritten digits (scikit-learn's 8&times;8 digits, binarised at half range: "
        "N = 64, P = 10) is stored by Hebb's rule J = (1/N) &Sigma; &xi;&xi;<sup>T</sup>, by Storkey's rule, and "
        "by the projection (pseudo-inverse) rule, then corrupted and recalled."
    )
    images, labels = load_digits(return_labels=True)
    first = np.array([np.flatnonzero(labels == d)[0] for d in range(10)])
    xi = binarize_images(images[first], 8.0)
    levels = np.array([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
    curves, results = {}, {}
    for rule in ("hebbian", "storkey", "projection"):
        net = store(xi, rule, image_shape=(8, 8))
        res = restoration_curve(net, levels, mode="flip", trials=10, seed=seed)
        results[rule] = (net, res)
        curves[rule] = (res.restored, res.restored_stderr)
    net, res = results["projection"]
    k = int(np.argmin(np.abs(levels - 0.2)))
    original, corrupted, recalled = res.examples[k]
    hebb_recalled = results["hebbian"][1].examples[k][2]
    plot_pattern_rows(
        report.figure_path("hopfield_digits.png"),
        [("stored", original), ("20% flipped", corrupted), ("projection", recalled), ("Hebb", hebb_recalled)],
        (8, 8),
    )
    sec.figure(
        "hopfield_digits.png",
        "Top: the ten stored digits. Second row: 20% of the pixels flipped at random. Third: recalled by the "
        "projection-rule network. Bottom: the same cues recalled by the Hebbian network, "
        + hebbian_digits_words(
            int(np.sum(results["hebbian"][0].is_fixed_point(xi))), len(xi), float(results["hebbian"][1].restored[k])
        ),
    )
    plot_restoration(report.figure_path("hopfield_restoration.png"), levels, curves)
    sec.figure(
        "hopfield_restoration.png",
        "Fraction of corrupted digits restored exactly (10 corruptions of each digit per level; error bars are "
        "binomial standard errors).",
    )
    rows = []
    for rule, (network, r) in results.items():
        fixed = int(np.sum(network.is_fixed_point(xi)))
        rows.append([rule, f"{fixed} / 10"] + [f"{v:.2f}" for v in r.restored])
    sec.table(["rule", "digits that are fixed points"] + [f"restored at {f:.0%}" for f in levels], rows)

    capacity = [
        capacity_curve(n_neurons, rule, n_sets=n_sets, seed=seed, progress=False)
        for rule in ("hebbian", "storkey", "projection")
    ]
    with warnings.catch_warnings():
        # the dense memory outlasts every load shown, as meant: the table says so when no set collapses
        warnings.filterwarnings("ignore", message=r"capacity \(dense rule\)", category=RuntimeWarning)
        capacity.append(
            capacity_curve(
                n_neurons,
                "dense",
                loads=np.geomspace(0.05, 3.0, 9),
                n_sets=n_sets,
                seed=seed,
                progress=False,
                max_recalls=30,
            )
        )
    plot_capacity(report.figure_path("hopfield_capacity.png"), capacity, title=f"random patterns, N = {n_neurons}")
    sec.text(
        f"Capacity. Random patterns are stored at load &alpha; = P/N and each one is the starting point of the "
        f"zero-temperature dynamics; the final overlap m says how far the pattern is from a stable state. For "
        f"N &rarr; &infin; Hebb's rule keeps m &asymp; {AGS_OVERLAP_AT_ALPHA_C} up to &alpha;<sub>c</sub> = "
        f"{AGS_ALPHA_C} and collapses beyond it (Amit, Gutfreund &amp; Sompolinsky 1985). Here N = {n_neurons} and "
        f"{n_sets} independent pattern sets per rule: at finite N the drop is smeared and sits at larger &alpha; "
        "(at N = 1000, <code>thermolearn hopfield capacity</code> puts it near 0.16). The dense associative "
        "memory of Krotov and Hopfield has the energy &minus;&Sigma;<sub>&mu;</sub>(&xi;<sup>&mu;</sup>&middot;s)"
        "<sup>3</sup>. "
        + capacity_comparison(
            {
                cap.rule: capacity_level(cap.rule, (cap.loads[0], cap.loads[-1]), cap.set_censoring, cap.alpha_c)
                for cap in capacity
            }
        )
    )
    sec.figure(
        "hopfield_capacity.png",
        "Final overlap (left) and fraction of patterns still retrieved, m ≥ 0.9 (right), against the load, "
        "with standard errors across independent pattern sets; the dashed line is α_c = 0.138 "
        "and the star the theory's overlap just below it.",
    )
    table = []
    notes = []
    for cap in capacity:
        sides = cap.set_censoring
        value = alpha_c_cell(
            cap.rule,
            (float(cap.loads[0]), float(cap.loads[-1])),
            sides,
            cap.alpha_c,
            cap.alpha_c_stderr,
            cap.alpha_c_bounds,
        )
        table.append([cap.rule, str(cap.n_neurons), value, format_seconds(cap.seconds)])
        # the note says what censoring does to the mean; a rule that never collapsed says it all in its cell
        if cap.note and not all(side == "right" for side in sides):
            notes.append(f"{RULE_NAMES.get(cap.rule, cap.rule)}: {cap.note}")
    table.append(["Hebbian, theory (N → ∞)", "∞", f"{AGS_ALPHA_C}", "-"])
    sec.table(["rule", "N", "α_c (half the recalls lost)", "time"], table)
    if notes:
        sec.text("Censored pattern sets (no crossing of 1/2 inside the loads). " + " ".join(n + "." for n in notes))
