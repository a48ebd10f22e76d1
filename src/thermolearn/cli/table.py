"""Readable fixed-width tables for the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence

from thermolearn.number_text import (
    as_python_float,
    format_number,
    format_value_error,
    no_negative_zero,
    value_error_parts,
)

__all__ = [
    "chop",
    "format_number",
    "format_table",
    "format_tau",
    "format_value_error",
    "no_negative_zero",
    "value_error_parts",
    "with_error_columns",
]


def with_error_columns(row: Sequence[object], value: int = 1, error: int = 2) -> list[object]:
    """``row`` with its cells ``value`` and ``error`` rounded together (:func:`value_error_parts`),
    for tables that show a value and its error in two columns; other cells are kept."""
    out = list(row)
    v, e = out[value], out[error]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and (e is None or isinstance(e, (int, float))):
        out[value], out[error] = value_error_parts(float(v), None if e is None else float(e))
    return out


def chop(x: float | None, scale: float = 1.0, tol: float = 1e-12) -> float | None:
    """``x`` with rounding noise removed for display: 0.0 when ``|x| < tol * scale``."""
    if x is None or not math.isfinite(x):
        return x
    return 0.0 if abs(x) < tol * abs(scale) else x


def format_tau(tau: float | None, stderr: float | None, spec: str = ".3g") -> str:
    """An integrated autocorrelation time tau_int (sweeps) as ``spec``, or "-" where its series never
    changed (``stderr`` not positive): a constant series has no autocorrelation time, and the 0.5
    an estimator reports for it would read as "uncorrelated"."""
    if tau is None or not math.isfinite(tau) or stderr is None or not math.isfinite(stderr) or stderr <= 0:
        return "-"
    return no_negative_zero(format(tau, spec))


def _cell(value: object) -> str:
    value = as_python_float(value)
    return format_number(value) if isinstance(value, float) or value is None else str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Right-aligned columns with a rule under the header."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) if cells else len(h) for k, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
