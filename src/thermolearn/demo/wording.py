"""How the demo writes its numbers: a value with its error bar, and a duration.

Pure functions of numbers to text, shared by the sections; the verdicts each section prints are
chosen by small functions in its own module, from the numbers they describe.
"""

from __future__ import annotations

import math

from thermolearn.number_text import no_negative_zero, value_error_parts


def plus_minus(value: float, error: float | None, *, significant: int = 2, signed: bool = False) -> str:
    """``value ± error`` with the error to ``significant`` digits and the value rounded to the same
    decimal place (:func:`thermolearn.number_text.value_error_parts`): ``plus_minus(-12.780786,
    0.002939)`` is ``-12.7808 ± 0.0029``. Without a usable error (None, NaN, infinite or zero) the
    value alone, to six significant digits. ``signed`` writes a + before a positive value (for
    differences)."""
    sign = "+" if signed else ""
    if not math.isfinite(value):
        return str(value)
    if error is None or not math.isfinite(error) or error == 0:
        return no_negative_zero(f"{value:{sign}.6g}")
    shown, shown_error = value_error_parts(value, abs(error), significant)
    if signed and not shown.startswith("-"):
        shown = "+" + shown
    return f"{shown} ± {shown_error}"


def format_seconds(seconds: float) -> str:
    """A duration as a table shows it: milliseconds below one second (``0.0042`` is ``4.2 ms``, where
    seconds to two decimals would read 0.00; two decimals below 1 ms, one below 10 ms), seconds above."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    if seconds < 1.0:
        ms = seconds * 1e3
        return f"{ms:.2f} ms" if ms < 1 else f"{ms:.1f} ms" if ms < 9.95 else f"{ms:.0f} ms"
    return f"{seconds:.1f} s"


def sigmas(difference: float, error: float) -> float:
    """|difference| in units of ``error`` (infinite when the error is zero and the difference not)."""
    if error > 0:
        return abs(difference) / error
    return 0.0 if difference == 0 else math.inf


def agreement_words(z_scores: list[float]) -> str:
    """Whether measured points follow their exact values, from (measured - exact) / stderr of each: all
    within two error bars, all within three, or how many lie further."""
    worst = max(abs(z) for z in z_scores)
    n = len(z_scores)
    if worst <= 2.0:
        return f"all {n} points lie within two error bars of them (largest |z| = {worst:.1f})"
    if worst <= 3.0:
        return f"all {n} points lie within three error bars of them (largest |z| = {worst:.1f})"
    far = sum(abs(z) > 3.0 for z in z_scores)
    return f"{far} of {n} points lie more than three error bars from them (largest |z| = {worst:.1f})"
