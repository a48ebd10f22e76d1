"""Readable fixed-width tables for the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence


def format_number(x: float | None, digits: int = 6) -> str:
    """A number as a table shows it: 6 significant digits, "-" for None and NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Right-aligned columns with a rule under the header."""
    cells = [[format_number(c) if isinstance(c, float) or c is None else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) if cells else len(h) for k, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
